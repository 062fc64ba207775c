"""Colour renders, AOVs and turntables of a simple stand-in body (no body model needed)."""

from __future__ import annotations

import io

import imageio.v3 as iio
import numpy as np
import pytest
import torch
import trimesh
from PIL import Image

from tryon3d import render


class _Body:  # the two fields render reads from a bodyfit.Body
    def __init__(self, mesh):
        self.vertices = np.asarray(mesh.vertices)
        self.faces = np.asarray(mesh.faces)


@pytest.fixture(scope="module")
def scene():
    parts = [
        trimesh.creation.capsule(height=0.6, radius=0.16, count=[24, 24]).apply_translation(
            [0, 0, 1.15]
        ),
        trimesh.creation.icosphere(subdivisions=2, radius=0.11).apply_translation([0, 0, 1.62]),
        trimesh.creation.capsule(height=0.7, radius=0.07).apply_translation([-0.09, 0, 0.45]),
        trimesh.creation.capsule(height=0.7, radius=0.07).apply_translation([0.09, 0, 0.45]),
    ]
    body = _Body(trimesh.util.concatenate(parts))
    tube = trimesh.creation.cylinder(radius=0.18, height=0.4, sections=40).apply_translation(
        [0, 0, 1.2]
    )
    uv = np.stack(
        [
            np.arctan2(tube.vertices[:, 1], tube.vertices[:, 0]) / (2 * np.pi) * 8,
            tube.vertices[:, 2] * 8,
        ],
        axis=1,
    )
    texture = np.full((32, 32, 3), 235, np.uint8)
    texture[:16, :16] = texture[16:, 16:] = (200, 20, 20)
    garment = render.GarmentMesh(tube.vertices, tube.faces, uv=uv, texture=texture)
    return body, garment


def test_render_body_outputs(scene):
    body, garment = scene
    result = render.render_body(
        body, garments=[garment], camera="front", width=96, height=96, spp=16
    )
    assert result.rgba.shape == (96, 96, 4) and result.rgba.dtype == np.float32
    # coverage equals the differentiable silhouette of body + garment from the same camera
    vertices = np.concatenate([body.vertices, garment.vertices])
    faces = np.concatenate([body.faces, garment.faces + len(body.vertices)])
    silhouette = render.render_silhouette(
        torch.tensor(vertices, dtype=torch.float32), faces, result.camera, spp=16
    ).numpy()
    a, b = result.mask > 0.5, silhouette > 0.5
    assert (a & b).sum() / (a | b).sum() > 0.97
    # garment pixels lie where the garment projects, and are reddish or white, not skin
    uv = render.project(result.camera, garment.vertices)
    rows, cols = np.nonzero(result.garment_mask)
    assert result.garment_mask.sum() > 100
    assert cols.min() >= uv[:, 0].min() - 1 and cols.max() <= uv[:, 0].max() + 1
    assert rows.min() >= uv[:, 1].min() - 1 and rows.max() <= uv[:, 1].max() + 1
    red = result.rgba[result.garment_mask & (result.mask > 0.99)]
    assert (red[:, 0] - red[:, 2] > 0.3).mean() > 0.25  # red squares
    assert (red[:, 2] > 0.6).mean() > 0.25  # white squares
    # depth: the body is about camera distance away
    distance = np.linalg.norm(result.camera.position - np.array([0, 0, 0.95]))
    finite = result.depth[result.mask > 0.99]
    assert np.all(np.abs(finite - distance) < 0.4)
    assert np.all(np.isinf(result.depth[result.mask == 0]))
    # deterministic for a fixed seed
    again = render.render_body(
        body, garments=[garment], camera="front", width=96, height=96, spp=16
    )
    assert np.array_equal(again.rgba, result.rgba)


def test_camera_presets_see_different_sides(scene):
    body, _garment = scene
    front = render.camera_preset(body.vertices, "front", width=64, height=64)
    back = render.camera_preset(body.vertices, "back", width=64, height=64)
    assert front.position[1] < -1.0 and back.position[1] > 1.0
    uv = render.project(front, body.vertices)
    assert np.all((uv >= 0) & (uv <= 64))
    with pytest.raises(ValueError, match="view"):
        render.camera_preset(body.vertices, "top")


def test_turntable_frames_and_videos(scene):
    body, garment = scene
    frames = render.render_turntable(body, garments=[garment], frames=4, size=64, spp=4)
    assert len(frames) == 4 and all(f.shape == (64, 64, 3) and f.dtype == np.uint8 for f in frames)
    background = frames[0][0, 0]
    assert np.all(np.abs(background.astype(int) - (231, 231, 233)) <= 2)  # sRGB of the default grey
    # the legs are side by side in the front view (frame 0), one behind the other from the side
    masks = [np.abs(f.astype(int) - background).sum(axis=2) > 30 for f in frames]
    rows = np.nonzero(masks[0].any(axis=1))[0]
    legs = slice(rows.max() - (rows.max() - rows.min()) // 4, rows.max())
    widths = [m[legs].any(axis=0).sum() for m in masks]
    assert widths[1] < 0.8 * widths[0] and widths[3] < 0.8 * widths[2]
    mp4 = render.encode_mp4(frames, fps=10)
    video = iio.imread(io.BytesIO(mp4), extension=".mp4")
    assert video.shape[0] == 4 and video.shape[1:3] == (64, 64)
    gif = Image.open(io.BytesIO(render.encode_gif(frames, fps=10)))
    assert gif.n_frames == 4 and gif.size == (64, 64)
    with pytest.raises(ValueError, match="frames"):
        render.encode_mp4([])
