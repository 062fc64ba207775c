"""Turntables of a sim.Drape: frame count and size, video files, determinism, and the fast
deferred shading agreeing with the path tracer."""

from __future__ import annotations

import io

import imageio.v3 as iio
import numpy as np
from _render_scenes import checker_texture, stand_in_body, tube_drape
from PIL import Image

from tryon3d import render


def test_turntable_of_a_drape_to_videos():
    body, drape = stand_in_body(hand=False), tube_drape()
    frames = render.render_turntable(
        body, drape=drape, texture=checker_texture(), frames=6, size=64, spp=4, seed=1
    )
    assert len(frames) == 6 and all(f.shape == (64, 64, 3) and f.dtype == np.uint8 for f in frames)
    again = render.render_turntable(
        body, drape=drape, texture=checker_texture(), frames=6, size=64, spp=4, seed=1
    )
    assert all(np.array_equal(a, b) for a, b in zip(frames, again, strict=True))
    # red checker squares visible in every frame (the tube goes all round)
    for frame in frames:
        pixels = frame.reshape(-1, 3).astype(int)
        assert ((pixels[:, 0] - pixels[:, 2]) > 80).sum() > 15
    video = iio.imread(io.BytesIO(render.encode_mp4(frames, fps=12)), extension=".mp4")
    assert video.shape == (6, 64, 64, 3)
    gif = Image.open(io.BytesIO(render.encode_gif(frames, fps=12)))
    assert gif.n_frames == 6 and gif.size == (64, 64)


def test_deferred_shading_matches_path_tracing():
    body, drape = stand_in_body(hand=False), tube_drape()
    fast = render.render_turntable(body, drape=drape, frames=2, size=96, spp=4, shading="deferred")
    slow = render.render_turntable(body, drape=drape, frames=2, size=96, spp=64, shading="path")
    for a, b in zip(fast, slow, strict=True):
        background = np.abs(a.astype(int) - a[0, 0].astype(int)).sum(axis=2) > 20
        other = np.abs(b.astype(int) - b[0, 0].astype(int)).sum(axis=2) > 20
        assert (background & other).sum() / (background | other).sum() > 0.95  # same silhouette
        # same brightness on the body, within a few sRGB levels on average
        both = background & other
        assert abs(a[both].astype(float).mean() - b[both].astype(float).mean()) < 12
