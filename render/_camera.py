"""Pinhole cameras: intrinsics in pixels, extrinsics in the OpenCV convention.

Pixel coordinates are continuous: the image covers ``[0, width] x [0, height]``, pixel ``(i, j)``
spans ``[i, i + 1] x [j, j + 1]`` and its centre is ``(i + 0.5, j + 0.5)``; ``u`` grows to the
right, ``v`` downwards. Camera space is OpenCV's: x right, y down, z forward (into the scene).
"""

from __future__ import annotations

import math

import numpy as np

from tryon3d.core import Camera

__all__ = ["CAMERA_VIEWS", "Camera", "camera_preset", "look_at_camera", "project"]

#: Named views of :func:`camera_preset`: azimuth of the camera around the body [deg]. 0 is in
#: front of the body (on its -y side); positive azimuths move the camera counter-clockwise seen
#: from above, towards the body's left (+x) side.
CAMERA_VIEWS: dict[str, float] = {
    "front": 0.0,
    "three_quarter": 35.0,
    "side": 90.0,
    "back": 180.0,
}


def _vector3(value, name: str) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.shape != (3,) or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be 3 finite numbers, got {np.shape(value)}")
    return array


def look_at_camera(
    eye,
    target,
    up=(0.0, 0.0, 1.0),
    *,
    fov_y_deg: float,
    width: int,
    height: int,
) -> Camera:
    """A centred pinhole camera at ``eye`` [m] looking at ``target`` [m].

    Args:
        eye: camera centre [m], shape (3,).
        target: point seen at the image centre [m], shape (3,).
        up: world direction that appears upwards in the image, shape (3,).
        fov_y_deg: vertical field of view [deg], in (0, 180).
        width: image width [px].
        height: image height [px].
    """
    eye, target, up = _vector3(eye, "eye"), _vector3(target, "target"), _vector3(up, "up")
    if not 0.0 < fov_y_deg < 180.0:
        raise ValueError(f"fov_y_deg must be in (0, 180), got {fov_y_deg}")
    forward = target - eye
    if np.linalg.norm(forward) < 1e-9:
        raise ValueError("look_at_camera: eye and target coincide")
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    if np.linalg.norm(right) < 1e-9:
        raise ValueError("look_at_camera: up is parallel to the viewing direction")
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    world_to_camera = np.eye(4)
    world_to_camera[:3, :3] = np.stack([right, down, forward])
    world_to_camera[:3, 3] = -world_to_camera[:3, :3] @ eye
    focal = 0.5 * height / math.tan(math.radians(fov_y_deg) / 2.0)
    return Camera(
        fx=focal,
        fy=focal,
        cx=width / 2.0,
        cy=height / 2.0,
        width=width,
        height=height,
        world_to_camera=world_to_camera,
    )


def project(camera: Camera, points) -> np.ndarray:
    """Pixel coordinates of world points.

    Args:
        camera: the camera.
        points: world positions [m], shape (N, 3).

    Returns:
        (u, v) [px], shape (N, 2), float64; points behind the camera give NaN.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f"points must have shape (N, 3), got {points.shape}")
    cam = points @ camera.world_to_camera[:3, :3].T + camera.world_to_camera[:3, 3]
    z = cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = camera.fx * cam[:, 0] / z + camera.cx
        v = camera.fy * cam[:, 1] / z + camera.cy
    uv = np.stack([u, v], axis=1)
    uv[z <= 0] = np.nan
    return uv


def camera_preset(
    vertices,
    view: str = "front",
    *,
    width: int = 512,
    height: int = 512,
    fov_y_deg: float = 30.0,
    margin: float = 0.06,
    elevation_deg: float = 5.0,
) -> Camera:
    """A camera that frames a standing body (z-up, facing -y) from a named view.

    Args:
        vertices: points to frame [m], shape (N, 3) (body and garment vertices).
        view: a key of ``CAMERA_VIEWS`` (``front``, ``three_quarter``, ``side``, ``back``).
        width: image width [px].
        height: image height [px].
        fov_y_deg: vertical field of view [deg].
        margin: free border around the body, as a fraction of the image size.
        elevation_deg: camera height angle above the body's centre [deg].
    """
    if view not in CAMERA_VIEWS:
        raise ValueError(f"unknown camera view {view!r}; expected one of {sorted(CAMERA_VIEWS)}")
    points = np.asarray(vertices, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
        raise ValueError(f"vertices must have shape (N, 3) with N > 0, got {points.shape}")
    if not 0.0 <= margin < 0.45:
        raise ValueError(f"margin must be in [0, 0.45), got {margin}")
    return orbit_camera(
        points,
        azimuth_deg=CAMERA_VIEWS[view],
        width=width,
        height=height,
        fov_y_deg=fov_y_deg,
        margin=margin,
        elevation_deg=elevation_deg,
    )


def orbit_camera(
    points: np.ndarray,
    *,
    azimuth_deg: float,
    width: int,
    height: int,
    fov_y_deg: float,
    margin: float,
    elevation_deg: float,
    radius: float | None = None,
) -> Camera:
    """A camera on a circle around ``points``' bounding-box centre, far enough to fit them all.

    ``radius`` [m] fixes the distance (a turntable keeps it constant); ``None`` fits the points
    from this azimuth.
    """
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre = 0.5 * (lo + hi)
    azimuth, elevation = math.radians(azimuth_deg), math.radians(elevation_deg)
    direction = np.array(
        [
            math.sin(azimuth) * math.cos(elevation),
            -math.cos(azimuth) * math.cos(elevation),
            math.sin(elevation),
        ]
    )
    if radius is None:
        radius = fit_radius(
            points,
            direction,
            centre,
            width=width,
            height=height,
            fov_y_deg=fov_y_deg,
            margin=margin,
        )
    return look_at_camera(
        centre + radius * direction, centre, fov_y_deg=fov_y_deg, width=width, height=height
    )


def fit_radius(
    points: np.ndarray,
    direction: np.ndarray,
    centre: np.ndarray,
    *,
    width: int,
    height: int,
    fov_y_deg: float,
    margin: float,
) -> float:
    """Smallest distance along ``direction`` from ``centre`` at which all points fit the frame."""
    tan_y = math.tan(math.radians(fov_y_deg) / 2.0) * (1.0 - 2.0 * margin)
    tan_x = tan_y * width / height
    extent = float(np.linalg.norm(points - centre, axis=1).max())
    radius = max(extent / tan_y, 1e-3) * 1.5
    for _ in range(40):  # bisection on "every point inside the shrunken frustum"
        camera = look_at_camera(
            centre + radius * direction, centre, fov_y_deg=fov_y_deg, width=width, height=height
        )
        cam = points @ camera.world_to_camera[:3, :3].T + camera.world_to_camera[:3, 3]
        if (
            np.all(cam[:, 2] > 1e-6)
            and np.all(np.abs(cam[:, 0]) <= tan_x * cam[:, 2])
            and np.all(np.abs(cam[:, 1]) <= tan_y * cam[:, 2])
        ):
            break
        radius *= 1.25
    low, high = 0.0, radius
    for _ in range(30):
        mid = 0.5 * (low + high)
        camera = look_at_camera(
            centre + mid * direction, centre, fov_y_deg=fov_y_deg, width=width, height=height
        )
        cam = points @ camera.world_to_camera[:3, :3].T + camera.world_to_camera[:3, 3]
        inside = (
            np.all(cam[:, 2] > 1e-6)
            and np.all(np.abs(cam[:, 0]) <= tan_x * cam[:, 2])
            and np.all(np.abs(cam[:, 1]) <= tan_y * cam[:, 2])
        )
        if inside:
            high = mid
        else:
            low = mid
    return high
