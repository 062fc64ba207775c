"""The studio light rig as an environment map (key, fill, rim, ambient)."""

from __future__ import annotations

import numpy as np

from tryon3d.core import Camera

__all__ = ["STUDIO_LIGHTS", "studio_environment"]


#: Light groups of the studio rig, in the order of :func:`studio_light_parts`.
STUDIO_LIGHTS: tuple[str, ...] = ("ambient", "key", "fill", "rim")


def environment_directions(width: int) -> np.ndarray:
    """World-space unit direction (z-up) of every texel of a lat-long environment map of
    ``width`` x ``width / 2`` texels, shape (width / 2, width, 3), float64.

    Texel directions follow Mitsuba's ``envmap`` with an identity ``to_world``: u = atan2(x, -z)
    / 2 pi, v = acos(y) / pi in its local y-up frame, which :data:`ENV_TO_WORLD` turns z-up.
    """
    height = width // 2
    theta = (np.arange(height) + 0.5) / height * np.pi
    phi = (np.arange(width) + 0.5) / width * 2.0 * np.pi
    theta, phi = np.meshgrid(theta, phi, indexing="ij")
    # Mitsuba local frame (y up) -> world (z up): local (x, y, z) = world (x, z, -y).
    local = np.stack(
        [np.sin(theta) * np.sin(phi), np.cos(theta), -np.sin(theta) * np.cos(phi)], axis=-1
    )
    return np.stack([local[..., 0], -local[..., 2], local[..., 1]], axis=-1)


#: Mitsuba ``envmap`` ``to_world`` that makes its y-up lat-long map z-up.
ENV_TO_WORLD = (
    (1.0, 0.0, 0.0, 0.0),
    (0.0, 0.0, -1.0, 0.0),
    (0.0, 1.0, 0.0, 0.0),
    (0.0, 0.0, 0.0, 1.0),
)


def studio_light_parts(camera: Camera, *, width: int = 128) -> np.ndarray:
    """The studio rig's light groups as separate lat-long environment maps (linear RGB),
    shape (4, width / 2, width, 3), float32, in the order of :data:`STUDIO_LIGHTS`: a dim
    floor-to-ceiling ``ambient`` gradient and soft boxes placed relative to the camera (``key``:
    front-left-high, ``fill``: front-right, ``rim``: behind-high)."""
    world = environment_directions(width)
    to_world = camera.camera_to_world
    right, forward = to_world[:3, 0], to_world[:3, 2]
    horizontal_right = right - right[2] * np.array([0.0, 0.0, 1.0])
    horizontal_back = -forward + forward[2] * np.array([0.0, 0.0, 1.0])
    horizontal_right /= max(np.linalg.norm(horizontal_right), 1e-9)
    horizontal_back /= max(np.linalg.norm(horizontal_back), 1e-9)
    up = np.array([0.0, 0.0, 1.0])
    elevation = world[..., 2]
    parts = np.zeros((len(STUDIO_LIGHTS), *world.shape), dtype=np.float64)
    parts[0] = (0.10 + 0.12 * np.clip(elevation, 0.0, 1.0))[..., None] * np.array([1.0, 1.0, 1.02])
    # (direction towards the light, angular radius [rad], radiance, linear RGB tint)
    boxes = (
        (horizontal_back - 0.9 * horizontal_right + 0.8 * up, 0.45, 5.0, (1.0, 0.97, 0.92)),
        (horizontal_back + 1.0 * horizontal_right + 0.2 * up, 0.55, 1.4, (0.92, 0.96, 1.0)),
        (-horizontal_back + 0.5 * horizontal_right + 1.0 * up, 0.35, 4.0, (1.0, 1.0, 1.0)),
    )
    for index, (direction, radius, radiance, tint) in enumerate(boxes, start=1):
        direction = direction / np.linalg.norm(direction)
        angle = np.arccos(np.clip(world @ direction, -1.0, 1.0))
        weight = np.clip((radius - angle) / (0.35 * radius) + 1.0, 0.0, 1.0)  # soft edge
        parts[index] = (radiance * weight)[..., None] * np.asarray(tint)
    return parts.astype(np.float32)


def studio_environment(
    camera: Camera, *, width: int = 128, weights=None, rgb_scale=None
) -> np.ndarray:
    """The studio HDR environment (lat-long, linear RGB, shape (width / 2, width, 3), float32):
    the sum of :func:`studio_light_parts`, each scaled by ``weights`` (4 values, default 1),
    the whole tinted by ``rgb_scale`` (3 values, default 1)."""
    parts = studio_light_parts(camera, width=width)
    weights = (
        np.ones(len(parts)) if weights is None else np.asarray(weights, np.float64).reshape(-1)
    )
    if weights.shape != (len(parts),) or np.any(weights < 0):
        raise ValueError(f"light weights must be {len(parts)} values >= 0, got {weights}")
    scale = np.ones(3) if rgb_scale is None else np.asarray(rgb_scale, np.float64).reshape(-1)
    if scale.shape != (3,) or np.any(scale < 0):
        raise ValueError(f"light rgb_scale must be 3 values >= 0, got {scale}")
    image = np.tensordot(weights, parts, axes=1) * scale
    return image.astype(np.float32)
