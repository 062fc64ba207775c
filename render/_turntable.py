"""Turntables: the dressed body spinning in front of a fixed camera, plus MP4 and GIF writers.

One scene is built; per frame only the mesh positions are rotated (the camera and the studio
lights stay put, as on a real turntable), so Mitsuba compiles its kernels once.
"""

from __future__ import annotations

import io
import math
import os
import tempfile

import numpy as np

from ._camera import orbit_camera
from ._scene import (
    BACKGROUND,
    StudioScene,
    _body_arrays,
    _layers_from_drape,
    premultiplied_to_uint8,
)

__all__ = ["render_turntable", "encode_mp4", "encode_gif", "turntable_camera"]


def turntable_camera(points: np.ndarray, *, size: int, fov_y_deg: float = 30.0, margin: float = 0.05):
    """A front camera far enough that ``points`` [m] (N, 3) stay in frame at every rotation
    about the vertical axis through their bounding-box centre."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre = 0.5 * (lo + hi)
    stride = max(1, len(points) // 1500)
    sample = points[::stride] - centre
    swept = []
    for angle in np.linspace(0.0, 2.0 * math.pi, 12, endpoint=False):
        c, s = math.cos(angle), math.sin(angle)
        rotation = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        swept.append(sample @ rotation.T + centre)
    swept = np.concatenate(swept)
    return orbit_camera(swept, azimuth_deg=0.0, width=size, height=size, fov_y_deg=fov_y_deg,
                        margin=margin, elevation_deg=5.0), centre


def render_turntable(
    body,
    *,
    drape=None,
    garments=(),
    frames: int = 36,
    size: int = 512,
    spp: int = 4,
    seed: int = 0,
    background=BACKGROUND,
    device: str = "auto",
) -> list[np.ndarray]:
    """Frames of the body (and drape) turning once about the vertical axis.

    Args:
        body: a ``bodyfit.Body``.
        drape: a ``sim.Drape`` or garment-like object (see :func:`render.render_body`).
        garments: extra :class:`render.GarmentMesh` layers.
        frames: number of frames in one full turn, >= 1.
        size: image width and height [px].
        spp: samples per pixel (rounded up to a power of 4).
        seed: sampler seed; frame k uses ``seed + k`` (same seed, same frames).
        background: linear RGB background colour.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.

    Returns:
        ``frames`` images, each (size, size, 3) uint8 sRGB; frame k shows the body turned by
        ``360 k / frames`` degrees counter-clockwise seen from above (frame 0 is the front).
    """
    if int(frames) != frames or frames < 1:
        raise ValueError(f"frames must be a positive integer, got {frames}")
    if int(size) != size or not 16 <= size <= 4096:
        raise ValueError(f"size must be an integer in [16, 4096] px, got {size}")
    vertices, faces = _body_arrays(body)
    layers = _layers_from_drape(drape) + list(garments)
    points = np.concatenate([np.asarray(vertices, np.float64)] + [g.vertices for g in layers])
    camera, pivot = turntable_camera(points, size=int(size))
    scene = StudioScene(vertices, faces, layers, camera, spp=spp, aovs=False, max_depth=2, device=device)
    images = []
    for index in range(int(frames)):
        angle = 2.0 * math.pi * index / frames
        c, s = math.cos(angle), math.sin(angle)
        if index:
            scene.set_transform(np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]), pivot)
        images.append(premultiplied_to_uint8(scene.render_raw(seed=seed + index), background))
    return images


def _check_frames(frames) -> list[np.ndarray]:
    frames = [np.asarray(frame) for frame in frames]
    if not frames:
        raise ValueError("no frames to encode")
    shape = frames[0].shape
    for frame in frames:
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3 or frame.shape != shape:
            raise ValueError(
                f"frames must all be uint8 arrays of shape {shape} (H, W, 3), got {frame.dtype} {frame.shape}"
            )
    return frames


def encode_mp4(frames, *, fps: float = 12.0) -> bytes:
    """H.264 MP4 (yuv420p, plays everywhere) of uint8 (H, W, 3) frames, as bytes.

    Odd frame sizes are padded to even by repeating the last row/column (H.264 needs even sizes).
    """
    import imageio_ffmpeg

    frames = _check_frames(frames)
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    height, width = frames[0].shape[:2]
    pad = ((0, height % 2), (0, width % 2), (0, 0))
    handle, path = tempfile.mkstemp(suffix=".mp4", prefix="tryon3d-turntable-")
    os.close(handle)
    try:
        writer = imageio_ffmpeg.write_frames(
            path, (width + width % 2, height + height % 2), fps=fps, codec="libx264",
            pix_fmt_out="yuv420p", quality=None, bitrate=None, macro_block_size=1,
            output_params=["-crf", "20", "-preset", "veryfast"],
            ffmpeg_log_level="error",
        )
        writer.send(None)
        for frame in frames:
            writer.send(np.ascontiguousarray(np.pad(frame, pad, mode="edge")))
        writer.close()
        with open(path, "rb") as stream:
            return stream.read()
    finally:
        os.unlink(path)


def encode_gif(frames, *, fps: float = 12.0, loop: bool = True) -> bytes:
    """Animated GIF (adaptive palette per frame) of uint8 (H, W, 3) frames, as bytes."""
    from PIL import Image

    frames = _check_frames(frames)
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    images = [Image.fromarray(frame).quantize(colors=255, method=Image.Quantize.MEDIANCUT) for frame in frames]
    stream = io.BytesIO()
    options = {"loop": 0} if loop else {}
    images[0].save(
        stream, format="GIF", save_all=True, append_images=images[1:],
        duration=max(20, round(1000.0 / fps)), optimize=False, disposal=1, **options,
    )
    return stream.getvalue()
