"""Try-on onto a photo: a synthetic photo (a rendered stand-in body with a hand in front of the
chest, over a noisy background, under tinted light) gets a textured tube drape composited in."""

from __future__ import annotations

import numpy as np
import pytest
from _render_scenes import checker_texture, stand_in_body, synthetic_photo, tube_drape
from scipy import ndimage

from tryon3d import render

MARGIN = 2
LIGHT = (0.8, 0.6, 0.45)


@pytest.fixture(scope="module")
def setup():
    body = stand_in_body(hand=True)
    drape = tube_drape()
    camera = render.look_at_camera(
        (0.3, -3.0, 1.3), (0, 0, 1.1), fov_y_deg=25, width=96, height=128
    )
    photo, person = synthetic_photo(body, camera, light_rgb=LIGHT)
    kwargs = dict(texture=checker_texture(), light_steps=12, spp=4, seed=3, blend_margin_px=MARGIN)
    composite, mask = render.render_on_photo(body, drape, photo, camera, person, **kwargs)
    return body, drape, camera, photo, person, composite, mask, kwargs


def test_garment_shows_where_it_projects(setup):
    body, drape, camera, photo, _person, composite, mask, _ = setup
    assert composite.shape == photo.shape and composite.dtype == np.uint8
    assert mask.shape == photo.shape[:2] and mask.dtype == bool and mask.sum() > 600
    uv = render.project(camera, drape.positions)
    rows, cols = np.nonzero(mask)
    assert cols.min() >= uv[:, 0].min() - 1 and cols.max() <= uv[:, 0].max() + 1
    assert rows.min() >= uv[:, 1].min() - 1 and rows.max() <= uv[:, 1].max() + 1
    # the visible garment of an independent render of the dressed body (the hand hides some)
    dressed = render.render_body(body, drape=drape, camera=camera, spp=4)
    expected = dressed.garment_mask
    assert (mask & expected).sum() / mask.sum() > 0.97  # precision
    # recall: all but the 2-px slack ring that occluders are grown by (occluder_grow_px)
    assert (mask & expected).sum() / expected.sum() > 0.88
    # the checker's red and white squares are there, and differ from the photo underneath
    inner = ndimage.binary_erosion(mask, iterations=MARGIN + 1)
    pixels = composite[inner].astype(int)
    assert ((pixels[:, 0] - pixels[:, 2]) > 80).mean() > 0.2  # red
    assert (pixels.min(axis=1) > 150).mean() > 0.2  # white-ish (under the warm fitted light)
    assert np.abs(pixels - photo[inner].astype(int)).mean() > 30


def test_photo_unchanged_outside_garment_and_margin(setup):
    _, _, _, photo, _, composite, mask, _ = setup
    near = ndimage.binary_dilation(mask, iterations=MARGIN + 1)
    assert np.array_equal(composite[~near], photo[~near])
    assert (~near).sum() > 0.7 * mask.size


def test_occluding_hand_unchanged(setup):
    _, _, camera, photo, _, composite, mask, _ = setup
    centre = np.array([[0.06, -0.26, 1.2]])
    hand_uv = render.project(camera, centre)[0]
    depth = (camera.world_to_camera[:3, :3] @ centre[0] + camera.world_to_camera[:3, 3])[2]
    radius_px = 0.05 * camera.fx / depth
    rows, cols = np.mgrid[0 : camera.height, 0 : camera.width]
    hand = np.hypot(cols + 0.5 - hand_uv[0], rows + 0.5 - hand_uv[1]) < 0.8 * radius_px
    assert hand.sum() > 10
    assert not (mask & hand).any()
    assert np.array_equal(composite[hand], photo[hand])
    # the hand sits inside the garment region: it is surrounded by garment pixels
    ring = ndimage.binary_dilation(hand, iterations=int(radius_px) + 3) & ~ndimage.binary_dilation(
        hand, iterations=int(radius_px) + 1
    )
    assert mask[ring].mean() > 0.6


def test_deterministic_for_a_fixed_seed(setup):
    body, drape, camera, photo, person, composite, mask, kwargs = setup
    again, again_mask = render.render_on_photo(body, drape, photo, camera, person, **kwargs)
    assert np.array_equal(again, composite) and np.array_equal(again_mask, mask)


def test_light_fit_recovers_the_photo_tint(setup):
    body, _, camera, photo, person, _, _, _ = setup
    lighting = render.fit_photo_lighting(
        body.vertices, body.faces, photo, camera, person, steps=30, max_side=64
    )
    scale = lighting.rgb_scale / lighting.rgb_scale[0]
    assert np.allclose(scale, np.array(LIGHT) / LIGHT[0], atol=0.08), lighting
    # overall level: key + ambient weights times the red gain near the true red gain
    level = lighting.rgb_scale[0] * np.average(lighting.weights, weights=[1, 5, 1.4, 4])
    assert abs(level - LIGHT[0]) < 0.15, lighting


def test_large_photo_worked_at_a_smaller_size_matches_the_full_size(setup):
    """A photo twice the working size: rendered, lit and blended at half size, laid over the
    full photo; the garment lands where the full-size pipeline puts it and the rest of the photo
    is untouched."""
    body, drape, _, _, _, _, _, kwargs = setup
    camera = render.look_at_camera(
        (0.3, -3.0, 1.3), (0, 0, 1.1), fov_y_deg=25, width=192, height=256
    )
    photo, person = synthetic_photo(body, camera, light_rgb=LIGHT, spp=4)
    full, full_mask = render.render_on_photo(
        body, drape, photo, camera, person, work_max_side_px=None, **kwargs
    )
    half, half_mask = render.render_on_photo(
        body, drape, photo, camera, person, work_max_side_px=128, **kwargs
    )
    assert half.shape == photo.shape and half_mask.shape == photo.shape[:2]
    iou = (full_mask & half_mask).sum() / (full_mask | half_mask).sum()
    assert iou > 0.9, iou
    near = ndimage.binary_dilation(half_mask, iterations=2 * (MARGIN + 2))
    assert np.array_equal(half[~near], photo[~near])
    inner = ndimage.binary_erosion(full_mask & half_mask, iterations=4)
    assert (
        np.abs(half[inner].astype(int) - full[inner].astype(int)).mean() < 25
    )  # same garment colours
    with pytest.raises(ValueError, match="work_max_side_px"):
        render.render_on_photo(body, drape, photo, camera, person, work_max_side_px=10)


def test_bad_inputs(setup):
    body, drape, camera, photo, person, _, _, _ = setup
    with pytest.raises(ValueError, match="uint8"):
        render.render_on_photo(body, drape, photo.astype(np.float32), camera, person)
    with pytest.raises(ValueError, match="aspect"):
        render.render_on_photo(body, drape, photo[:, :64], camera, person)
    with pytest.raises(ValueError, match="person_mask"):
        render.render_on_photo(body, drape, photo, camera, person[:10])


def test_poisson_seam_blend_spreads_the_step():
    height, width = 40, 60
    region = np.zeros((height, width), bool)
    region[10:30, 15:45] = True
    ramp = np.linspace(0, 0.2, width)[None, :, None]
    inside = np.full((height, width, 1), 0.8) + ramp
    outside = np.full((height, width, 1), 0.2) + ramp
    fused, band = render.poisson_seam_blend(inside, outside, region, margin_px=3)
    hard = np.where(region[..., None], inside, outside)
    assert np.array_equal(fused[~band], hard[~band])
    assert band.sum() > 0 and not band[0, 0] and band[10, 30] and band[9, 30]
    jump = np.abs(np.diff(fused[:, 30, 0])).max()
    assert jump < 0.6 * 0.6  # the 0.6 step is spread over the band
    # inside the band's middle the ramp (the gradient) survives
    assert np.allclose(np.diff(fused[20, 20:40, 0]), np.diff(hard[20, 20:40, 0]), atol=1e-9)


def test_poisson_band_walled_in_by_locked_pixels_is_solved():
    """A band patch whose only neighbours are locked pixels and the image border has no known
    value around it (a singular Laplacian before): it now solves, finite, near its hard values."""
    region = np.zeros((20, 20), bool)
    region[:6, :6] = True
    locked = np.zeros((20, 20), bool)
    locked[:12, 12] = locked[12, :13] = True  # a wall around the top-left corner
    inside, outside = np.full((20, 20, 3), 0.9), np.full((20, 20, 3), 0.1)
    fused, band = render.poisson_seam_blend(inside, outside, region, margin_px=2, locked=locked)
    assert band[:12, :12].any() and np.isfinite(fused).all()
    assert fused[band].min() > 0.05 and fused[band].max() < 0.95


def test_coarse_person_mask_and_in_place_give_the_same_composite(setup):
    """A person mask at a quarter of the photo's size (as MediaPipe gives it) is resized where it
    is used: the composite matches the one from that mask upsampled to the full photo (mean
    difference under 1 grey level), and ``in_place`` writes it into the photo array itself."""
    from PIL import Image

    body, drape, _, _, _, _, _, kwargs = setup
    camera = render.look_at_camera(
        (0.3, -3.0, 1.3), (0, 0, 1.1), fov_y_deg=25, width=192, height=256
    )
    photo, person = synthetic_photo(body, camera, light_rgb=LIGHT, spp=4)
    coarse = person.reshape(64, 4, 48, 4).mean(axis=(1, 3))  # float in [0, 1], 48 x 64
    full = (
        np.asarray(
            Image.fromarray(np.round(coarse * 255).astype(np.uint8)).resize(
                (192, 256), Image.Resampling.BILINEAR
            )
        )
        > 127
    )
    expected, expected_mask = render.render_on_photo(
        body, drape, photo, camera, full, work_max_side_px=128, **kwargs
    )
    target = photo.copy()
    got, got_mask = render.render_on_photo(
        body, drape, target, camera, coarse, work_max_side_px=128, in_place=True, **kwargs
    )
    assert got is target and np.abs(got.astype(int) - expected.astype(int)).mean() < 1.0
    assert (got_mask ^ expected_mask).sum() <= 0.02 * expected_mask.sum()
    with pytest.raises(ValueError, match="in_place"):
        render.render_on_photo(body, drape, photo[:, ::-1], camera, coarse, in_place=True)
