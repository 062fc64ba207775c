"""The pinhole camera record: intrinsics in pixels, extrinsics in the OpenCV convention.

The body stage makes cameras (photo fits) and the render stage consumes them, so the record
lives here. Pixel coordinates are continuous: the image covers ``[0, width] x [0, height]``,
pixel ``(i, j)`` spans ``[i, i + 1] x [j, j + 1]`` and its centre is ``(i + 0.5, j + 0.5)``;
``u`` grows to the right, ``v`` downwards. Camera space is OpenCV's: x right, y down, z forward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Camera"]


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
            raise ValueError(
                f"Camera.world_to_camera must be a finite (4, 4) matrix, got shape {matrix.shape}"
            )
        rotation = matrix[:3, :3]
        if (
            not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-5)
            or np.linalg.det(rotation) < 0
        ):
            raise ValueError(
                "Camera.world_to_camera must be a rigid transform (rotation + translation)"
            )
        if not np.allclose(matrix[3], (0.0, 0.0, 0.0, 1.0)):
            raise ValueError(
                f"Camera.world_to_camera last row must be (0, 0, 0, 1), got {matrix[3]}"
            )
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

    def scaled(self, scale: float, width: int, height: int) -> Camera:
        """The same camera for the image scaled by ``scale`` (focal lengths and principal point
        alike, square pixels kept) into ``width`` x ``height`` pixels."""
        return Camera(
            fx=self.fx * scale,
            fy=self.fy * scale,
            cx=self.cx * scale,
            cy=self.cy * scale,
            width=width,
            height=height,
            world_to_camera=self.world_to_camera,
        )

    def resized(self, width: int, height: int) -> Camera:
        """The same camera for an image scaled to ``width`` x ``height`` pixels."""
        sx, sy = width / self.width, height / self.height
        return Camera(
            fx=self.fx * sx,
            fy=self.fy * sy,
            cx=self.cx * sx,
            cy=self.cy * sy,
            width=width,
            height=height,
            world_to_camera=self.world_to_camera,
        )

    def to_dict(self) -> dict:
        """JSON-ready description (pixels and metres)."""
        return {
            "fx": self.fx,
            "fy": self.fy,
            "cx": self.cx,
            "cy": self.cy,
            "width": self.width,
            "height": self.height,
            "world_to_camera": self.world_to_camera.tolist(),
            "convention": "opencv: x right, y down, z forward; pixel centres at i + 0.5",
        }

    @classmethod
    def from_dict(cls, data: dict) -> Camera:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(
                fx=data["fx"],
                fy=data["fy"],
                cx=data["cx"],
                cy=data["cy"],
                width=data["width"],
                height=data["height"],
                world_to_camera=data["world_to_camera"],
            )
        except KeyError as exc:
            raise ValueError(f"camera description lacks the key {exc.args[0]!r}") from None
