"""Turntables: the dressed body spinning in front of a fixed camera, plus MP4 and GIF writers.

One scene is built and never edited: instead of rotating the meshes (which rebuilds Mitsuba's
BVH every frame), the camera and the light rig orbit the still body the opposite way, which
gives the same images as a turntable in a fixed studio. Kernels are compiled once.

Two shadings:

- ``deferred`` (default, fast): Mitsuba traces only the camera rays (coverage, albedo through
  the garment's UVs, shading normal; antialiased with ``spp`` samples), and each pixel is lit
  by the *same* studio environment through its 9-term spherical-harmonic irradiance
  (Ramamoorthi and Hanrahan 2001: diffuse light from a distant environment, within ~3 %),
  without shadows or inter-reflection.
- ``path``: Mitsuba path tracing (direct light, soft shadows), about 3x slower.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from typing import TYPE_CHECKING

import numpy as np

from tryon3d.core import Camera

from ._camera import orbit_camera
from ._color import BACKGROUND, premultiplied_to_uint8
from ._deferred import DeferredShader, sh_irradiance
from ._lights import ENV_TO_WORLD, studio_environment
from ._scene import StudioScene, _body_arrays, _layers_from_drape

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body
    from tryon3d.sim import Drape

__all__ = ["encode_gif", "encode_mp4", "render_turntable", "turntable_camera"]


def turntable_camera(
    points: np.ndarray, *, size: int, fov_y_deg: float = 30.0, margin: float = 0.05
):
    """A front camera far enough that ``points`` [m] (N, 3) stay in frame at every rotation
    about the vertical axis through their bounding-box centre; returns (camera, pivot (3,))."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre = 0.5 * (lo + hi)
    stride = max(1, len(points) // 1500)
    sample = points[::stride] - centre
    turns = []
    for angle in np.linspace(0.0, 2.0 * math.pi, 12, endpoint=False):
        c, s = math.cos(angle), math.sin(angle)
        rotation = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        turns.append(sample @ rotation.T + centre)
    swept = np.concatenate(turns)
    return orbit_camera(
        swept,
        azimuth_deg=0.0,
        width=size,
        height=size,
        fov_y_deg=fov_y_deg,
        margin=margin,
        elevation_deg=5.0,
    ), centre


def _turn(angle: float, pivot: np.ndarray) -> np.ndarray:
    """(4, 4) rotation by ``angle`` [rad] about the vertical axis through ``pivot``."""
    c, s = math.cos(angle), math.sin(angle)
    matrix = np.eye(4)
    matrix[:3, :3] = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
    matrix[:3, 3] = pivot - matrix[:3, :3] @ pivot
    return matrix


def _orbited(camera: Camera, turn: np.ndarray) -> Camera:
    """The camera that sees the world moved by ``turn`` as ``camera`` sees it moved."""
    return Camera(
        fx=camera.fx,
        fy=camera.fy,
        cx=camera.cx,
        cy=camera.cy,
        width=camera.width,
        height=camera.height,
        world_to_camera=camera.world_to_camera @ turn,
    )


def render_turntable(
    body: Body,
    *,
    drape: Drape | None = None,
    garments=(),
    texture=None,
    garment_color=None,
    frames: int = 36,
    size: int = 512,
    spp: int = 4,
    seed: int = 0,
    background=BACKGROUND,
    shading: str = "deferred",
    device: str = "auto",
) -> list[np.ndarray]:
    """Frames of the body (and drape) turning once about the vertical axis.

    Args:
        body: a ``bodyfit.Body`` (its posed ``vertices``).
        drape: a ``sim.Drape`` or garment-like object (see :func:`render.render_body`).
        garments: extra :class:`render.GarmentMesh` layers.
        texture: the drape's texture (image path or (H, W, 3) array), through its UVs.
        garment_color: linear RGB colour of an untextured drape.
        frames: number of frames in one full turn, >= 1.
        size: image width and height [px].
        spp: samples per pixel (rounded up to a power of 4).
        seed: sampler seed; frame k uses ``seed + k`` (same seed, same frames).
        background: linear RGB background colour.
        shading: ``"deferred"`` (fast, SH-lit, no shadows) or ``"path"`` (path traced).
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.

    Returns:
        ``frames`` images, each (size, size, 3) uint8 sRGB; frame k shows the body turned by
        ``360 k / frames`` degrees counter-clockwise seen from above (frame 0 is the front),
        lit by a studio rig that stays with the camera.
    """
    if int(frames) != frames or frames < 1:
        raise ValueError(f"frames must be a positive integer, got {frames}")
    if int(size) != size or not 16 <= size <= 4096:
        raise ValueError(f"size must be an integer in [16, 4096] px, got {size}")
    if shading not in ("deferred", "path"):
        raise ValueError(f"shading must be 'deferred' or 'path', got {shading!r}")
    vertices, faces = _body_arrays(body)
    layers = _layers_from_drape(drape, texture=texture, color=garment_color) + list(garments)
    points = np.concatenate([np.asarray(vertices, np.float64)] + [g.vertices for g in layers])
    camera, pivot = turntable_camera(points, size=int(size))
    scene = StudioScene(
        vertices,
        faces,
        layers,
        camera,
        spp=spp,
        aovs=False,
        max_depth=2,
        shading=shading,
        device=device,
    )
    shader = (
        DeferredShader(camera.width, camera.height, background=background)
        if shading == "deferred"
        else None
    )
    mi = scene._mi
    images = []
    for index in range(int(frames)):
        turn = _turn(2.0 * math.pi * index / frames, pivot)
        frame_camera = _orbited(camera, turn)
        if index:
            scene.set_camera(frame_camera)
        if shader is not None:  # deferred shading: the lights orbit with the camera
            coefficients = sh_irradiance(studio_environment(frame_camera, width=64))
            image = mi.render(scene._scene, spp=scene.spp, seed=(seed + index) & 0xFFFFFFFF)
            images.append(shader(image, frame_camera, coefficients))
            continue
        if index:
            inverse = np.linalg.inv(turn)
            scene._params["environment.to_world"] = mi.Transform4f(
                (inverse @ np.array(ENV_TO_WORLD)).tolist()
            )
            scene._params.update()
        images.append(premultiplied_to_uint8(scene.render_raw(seed=seed + index), background))
    return images


def _check_frames(frames) -> list[np.ndarray]:
    frames = [np.asarray(frame) for frame in frames]
    if not frames:
        raise ValueError("no frames to encode")
    shape = frames[0].shape
    for frame in frames:
        if (
            frame.dtype != np.uint8
            or frame.ndim != 3
            or frame.shape[2] != 3
            or frame.shape != shape
        ):
            raise ValueError(
                f"frames must all be uint8 arrays of shape {shape} (H, W, 3), got {frame.dtype} "
                f"{frame.shape}"
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
            path,
            (width + width % 2, height + height % 2),
            fps=fps,
            codec="libx264",
            pix_fmt_out="yuv420p",
            quality=None,
            bitrate=None,
            macro_block_size=1,
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
    images = [
        Image.fromarray(frame).quantize(colors=255, method=Image.Quantize.MEDIANCUT)
        for frame in frames
    ]
    stream = io.BytesIO()
    options = {"loop": 0} if loop else {}
    images[0].save(
        stream,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(20, round(1000.0 / fps)),
        optimize=False,
        disposal=1,
        **options,
    )
    return stream.getvalue()
