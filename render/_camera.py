"""Pinhole cameras: intrinsics in pixels, extrinsics in the OpenCV convention.

Pixel coordinates are continuous: the image covers ``[0, width] x [0, height]``, pixel ``(i, j)``
spans ``[i, i + 1] x [j, j + 1]`` and its centre is ``(i + 0.5, j + 0.5)``; ``u`` grows to the
right, ``v`` downwards. Camera space is OpenCV's: x right, y down, z forward (into the scene).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Camera", "look_at_camera", "project", "camera_preset", "CAMERA_VIEWS"]

#: Named views of :func:`camera_preset`: azimuth of the camera around the body [deg]. 0 is in
#: front of the body (on its -y side); positive azimuths move the camera counter-clockwise seen
#: from above, towards the body's left (+x) side.
CAMERA_VIEWS: dict[str, float] = {
    "front": 0.0,
    "three_quarter": 35.0,
    "side": 90.0,
    "back": 180.0,
}


@dataclass(frozen=True, eq=False)
class Camera:
    """A pinhole camera.

    Attributes:
        fx: focal length along u [px].
        fy: focal length along v [px].
        cx: principal point u [px] (``width / 2`` when centred).
        cy: principal point v [px] (``height / 2`` when centred).
        width: image width [px].
        height: image height [px].
        world_to_camera: rigid transform, shape (4, 4), float64, world [m] to OpenCV camera
            space [m] (x right, y down, z forward).
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    world_to_camera: np.ndarray

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("fx", "fy", "cx", "cy"):
            value = float(getattr(self, name))
            if not math.isfinite(value):
                raise ValueError(f"Camera.{name} must be finite, got {value}")
            set_(self, name, value)
        if self.fx <= 0 or self.fy <= 0:
            raise ValueError(f"Camera focal lengths must be > 0 px, got fx={self.fx}, fy={self.fy}")
        for name in ("width", "height"):
            value = getattr(self, name)
            if int(value) != value or int(value) < 1:
                raise ValueError(f"Camera.{name} must be a positive integer, got {value!r}")
            set_(self, name, int(value))
        matrix = np.array(self.world_to_camera, dtype=np.float64, copy=True)
        if matrix.shape != (4, 4) or not np.all(np.isfinite(matrix)):
            raise ValueError(f"Camera.world_to_camera must be a finite (4, 4) matrix, got shape {matrix.shape}")
        rotation = matrix[:3, :3]
        if not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-5) or np.linalg.det(rotation) < 0:
            raise ValueError("Camera.world_to_camera must be a rigid transform (rotation + translation)")
        if not np.allclose(matrix[3], (0.0, 0.0, 0.0, 1.0)):
            raise ValueError(f"Camera.world_to_camera last row must be (0, 0, 0, 1), got {matrix[3]}")
        matrix.setflags(write=False)
        set_(self, "world_to_camera", matrix)

    @property
    def camera_to_world(self) -> np.ndarray:
        """Inverse of ``world_to_camera``, shape (4, 4)."""
        rotation = self.world_to_camera[:3, :3]
        inverse = np.eye(4)
        inverse[:3, :3] = rotation.T
        inverse[:3, 3] = -rotation.T @ self.world_to_camera[:3, 3]
        return inverse

    @property
    def position(self) -> np.ndarray:
        """Camera centre in world space [m], shape (3,)."""
        return self.camera_to_world[:3, 3]

    @property
    def intrinsic_matrix(self) -> np.ndarray:
        """The 3x3 matrix K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] [px]."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def resized(self, width: int, height: int) -> Camera:
        """The same camera for an image scaled to ``width`` x ``height`` pixels."""
        sx, sy = width / self.width, height / self.height
        return Camera(
            fx=self.fx * sx, fy=self.fy * sy, cx=self.cx * sx, cy=self.cy * sy,
            width=width, height=height, world_to_camera=self.world_to_camera,
        )

    def to_dict(self) -> dict:
        """JSON-ready description (pixels and metres)."""
        return {
            "fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy,
            "width": self.width, "height": self.height,
            "world_to_camera": self.world_to_camera.tolist(),
            "convention": "opencv: x right, y down, z forward; pixel centres at i + 0.5",
        }

    @classmethod
    def from_dict(cls, data: dict) -> Camera:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(
                fx=data["fx"], fy=data["fy"], cx=data["cx"], cy=data["cy"],
                width=data["width"], height=data["height"], world_to_camera=data["world_to_camera"],
            )
        except KeyError as exc:
            raise ValueError(f"camera description lacks the key {exc.args[0]!r}") from None


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
        fx=focal, fy=focal, cx=width / 2.0, cy=height / 2.0,
        width=width, height=height, world_to_camera=world_to_camera,
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
        points, azimuth_deg=CAMERA_VIEWS[view], width=width, height=height,
        fov_y_deg=fov_y_deg, margin=margin, elevation_deg=elevation_deg,
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
    direction = np.array([
        math.sin(azimuth) * math.cos(elevation),
        -math.cos(azimuth) * math.cos(elevation),
        math.sin(elevation),
    ])
    if radius is None:
        radius = fit_radius(points, direction, centre, width=width, height=height,
                            fov_y_deg=fov_y_deg, margin=margin)
    return look_at_camera(centre + radius * direction, centre, fov_y_deg=fov_y_deg,
                          width=width, height=height)


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
        camera = look_at_camera(centre + radius * direction, centre, fov_y_deg=fov_y_deg,
                                width=width, height=height)
        cam = points @ camera.world_to_camera[:3, :3].T + camera.world_to_camera[:3, 3]
        if np.all(cam[:, 2] > 1e-6) and np.all(np.abs(cam[:, 0]) <= tan_x * cam[:, 2]) \
                and np.all(np.abs(cam[:, 1]) <= tan_y * cam[:, 2]):
            break
        radius *= 1.25
    low, high = 0.0, radius
    for _ in range(30):
        mid = 0.5 * (low + high)
        camera = look_at_camera(centre + mid * direction, centre, fov_y_deg=fov_y_deg,
                                width=width, height=height)
        cam = points @ camera.world_to_camera[:3, :3].T + camera.world_to_camera[:3, 3]
        inside = np.all(cam[:, 2] > 1e-6) and np.all(np.abs(cam[:, 0]) <= tan_x * cam[:, 2]) \
            and np.all(np.abs(cam[:, 1]) <= tan_y * cam[:, 2])
        if inside:
            high = mid
        else:
            low = mid
    return high
