"""The parsing network: its shipped weights, its box, and what it changes in the parsing."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest


def test_shipped_weights_load_as_plain_arrays_into_the_network():
    """``data/parsing_net.npz`` holds plain float16 arrays (read without pickle), one per
    parameter and buffer of ``build_net``, each of its shape, in a few MB."""
    from tryon3d.bodyfit._parsing_net import WEIGHTS_FILE, _trained_net, build_net

    source = resources.files("tryon3d.data").joinpath(WEIGHTS_FILE)
    with resources.as_file(source) as path:
        assert path.stat().st_size < 3e6
        with np.load(path, allow_pickle=False) as stored:
            shapes = {name: stored[name].shape for name in stored.files}
            assert {stored[name].dtype for name in stored.files} == {np.dtype(np.float16)}
    expected = {name: tuple(v.shape) for name, v in build_net().state_dict().items()}
    assert shapes == expected
    assert _trained_net() is not None and not _trained_net().training


def test_the_box_maps_the_person_onto_the_input_and_back():
    """The person's box fills the input (``MARGIN`` above and below), and the probabilities
    come back onto the photo: a distribution per pixel inside the box, background outside."""
    from tryon3d.bodyfit._parsing_net import (
        INPUT_HW,
        MARGIN,
        box_transform,
        class_probabilities,
        person_box,
    )

    box = person_box((100, 300), (150, 210))
    top, bottom, left, right = box
    assert (top, bottom) == pytest.approx((100 - MARGIN * 200, 300 + MARGIN * 200))
    assert (right - left) / (bottom - top) == pytest.approx(INPUT_HW[1] / INPUT_HW[0])
    corners = box_transform(box) @ np.array([[left, top, 1.0], [right, bottom, 1.0]]).T
    expected = np.array([[0.0, 0.0], [INPUT_HW[1], INPUT_HW[0]]])
    assert np.allclose(corners.T, expected)

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (400, 360, 3), dtype=np.uint8)
    person = np.zeros((400, 360), bool)
    person[100:300, 150:210] = True
    probs = class_probabilities(pixels, person)
    assert probs.shape == (400, 360, 7)
    inside = probs[110:290, 140:220]
    assert inside.sum(axis=2) == pytest.approx(1.0, abs=1e-3)
    assert probs[:70, :, 0] == pytest.approx(1.0) and probs[:, :90, 0] == pytest.approx(1.0)
    assert class_probabilities(pixels, np.zeros_like(person)) is None


@pytest.fixture(scope="module")
def dressed_in_skin_colours():
    """A man in a long-sleeve top and trousers of nearly his skin's colour (front, A-pose):
    (photo (H, W, 3) uint8, garment pixels (H, W) bool, person pixels (H, W) bool)."""
    from _render_scenes import over_gradient

    from tryon3d import bodyfit, garments, render, sim
    from tryon3d.render._scene import _layers_from_drape

    body = bodyfit.body_from_measurements(height_m=1.76, weight_kg=68.0, sex="male")
    layers = []
    for family, colour, design in (
        ("trousers", (0.5, 0.33, 0.22), {"inseam": body.measurements_m["inseam"] - 0.1}),
        ("longsleeve", (0.55, 0.38, 0.26), {}),
    ):
        garment = garments.load_garment(family, size="L", body=body, edge_length_m=0.05, **design)
        layers += _layers_from_drape(sim.drape(body, garment, device="cpu"), color=colour)
    camera = render.look_at_camera(
        (0.2, -4.2, 1.0), (0.0, 0.0, 0.88), fov_y_deg=30.0, width=320, height=320
    )
    shot = render.render_body(
        body, garments=layers, camera=camera, spp=8, seed=3, skin_color=(0.62, 0.40, 0.30)
    )
    return over_gradient(shot.rgba), shot.garment_mask, shot.mask > 0.5


def test_clothes_of_the_skin_s_colour_are_not_skin(dressed_in_skin_colours):
    """Colour alone takes three quarters of the beige clothes for skin; the network takes them
    back, while the face, hands and feet stay skin."""
    from tryon3d.bodyfit import parse_person
    from tryon3d.bodyfit._parsing import SKIN

    photo, garment, person = dressed_in_skin_colours
    bare = person & ~garment
    by_colour = parse_person(photo, net=False).labels == SKIN
    assert (by_colour & garment).sum() > 0.6 * garment.sum()  # the fault the network mends
    skin = parse_person(photo, net=True).labels == SKIN
    assert (skin & garment).sum() < 0.08 * garment.sum()
    assert (skin & bare).sum() > 0.75 * bare.sum()
