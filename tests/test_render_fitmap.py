"""Fit maps: band colours where the stretch is known, legend, fields, bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest
from _render_scenes import stand_in_body, tube_drape
from PIL import Image

from tryon3d import render

SIZE = 160


@pytest.fixture(scope="module")
def scene():
    body = stand_in_body(hand=False)
    drape = tube_drape(
        stretch=lambda c: np.where(c[:, 2] > 1.2, 112.0, 100.5)
    )  # top yellow, bottom blue
    return body, drape


def test_stretch_colours_match_the_values(scene):
    body, drape = scene
    image = np.asarray(
        Image.open(io.BytesIO(render.render_fitmap(body, drape, field="stretch", size=SIZE)))
    )
    width = SIZE * 3 // 4
    assert image.shape == (SIZE, 2 * width + 230, 3)
    bands = render.fitmap_bands("stretch")
    points = np.concatenate([body.vertices, drape.positions])
    for tile, view, towards in ((0, "front", -1.0), (1, "back", 1.0)):
        camera = render.camera_preset(points, view, width=width, height=SIZE)
        faces = drape.faces
        centres = drape.positions[faces].mean(axis=1)
        facing = centres[:, 1] * towards > 0.12  # faces turned to this camera
        uv = render.project(camera, centres[facing])
        cols = np.clip(uv[:, 0].astype(int), 0, width - 1) + tile * width
        rows = np.clip(uv[:, 1].astype(int), 0, SIZE - 1)
        colours = image[rows, cols].astype(float)
        nearest = np.argmin(
            ((colours[:, None, :] - bands.colors[None].astype(float)) ** 2).sum(-1), axis=1
        )
        expected = bands.band_of(drape.stretch_pct[facing])
        assert (nearest == expected).mean() > 0.9, view
        assert set(expected) == {1, 4}  # both regions were sampled
    # the legend shows every band's colour swatch
    legend = image[:, 2 * width :].reshape(-1, 3).astype(int)
    for colour in bands.colors.astype(int):
        assert (np.abs(legend - colour).sum(axis=1) == 0).any()


def test_pressure_and_ease_fields(scene):
    body, drape = scene
    for field in ("pressure", "ease"):
        image = np.asarray(
            Image.open(
                io.BytesIO(
                    render.render_fitmap(body, drape, field=field, size=96, views=("front",), spp=4)
                )
            )
        )
        assert image.shape == (96, 72 + 230, 3)
    values = render._fitmap.face_values(drape, "ease")
    assert np.allclose(values, 3.0)  # 0.19 m tube around a 0.16 m torso: 3 cm everywhere
    assert render.fitmap_bands("ease").band_of(values)[0] == 4  # the 2-4 cm band
    with pytest.raises(ValueError, match="field"):
        render.render_fitmap(body, drape, field="colour")
