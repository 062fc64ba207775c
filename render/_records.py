"""The render stage's records: garment meshes in, renderings out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tryon3d.core import Camera, readonly

from ._backend import check_mesh
from ._color import BACKGROUND, GARMENT_COLOR, composite_rgba

__all__ = ["GarmentMesh", "Rendering"]


@dataclass(frozen=True, eq=False)
class GarmentMesh:
    """A garment surface to render: plain arrays, no physics.

    Attributes:
        vertices: positions [m], shape (N, 3), float32.
        faces: triangles, shape (F, 3), int64 (either winding; rendered two-sided).
        uv: texture coordinates, shape (T, 2), float32 (values outside [0, 1] tile the texture),
            or None for a plain colour.
        uv_faces: per-corner indices into ``uv``, shape (F, 3), int64, or None when ``uv`` is
            per vertex (T == N).
        texture: colour image, shape (H, W, 3), float32 sRGB in [0, 1] (uint8 is converted),
            or None.
        color: linear RGB base colour, used without a texture, shape (3,).
    """

    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray | None = None
    uv_faces: np.ndarray | None = None
    texture: np.ndarray | None = None
    color: tuple[float, float, float] = GARMENT_COLOR

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        vertices, faces = check_mesh(self.vertices, self.faces, "garment")
        set_(self, "vertices", readonly(vertices.copy()))
        set_(self, "faces", readonly(faces.astype(np.int64)))
        if self.uv is not None:
            uv = np.array(self.uv, dtype=np.float32)
            if uv.ndim != 2 or uv.shape[1] != 2 or not np.all(np.isfinite(uv)):
                raise ValueError(f"garment uv must be finite with shape (T, 2), got {uv.shape}")
            set_(self, "uv", readonly(uv))
            if self.uv_faces is None:
                if len(uv) != len(vertices):
                    raise ValueError(
                        f"garment uv has {len(uv)} rows; without uv_faces it needs one per vertex "
                        f"({len(vertices)})"
                    )
            else:
                uv_faces = np.array(self.uv_faces, dtype=np.int64)
                if uv_faces.shape != faces.shape:
                    raise ValueError(
                        f"garment uv_faces must have shape {faces.shape}, got {uv_faces.shape}"
                    )
                if uv_faces.min() < 0 or uv_faces.max() >= len(uv):
                    raise ValueError(f"garment uv_faces index outside [0, {len(uv)})")
                set_(self, "uv_faces", readonly(uv_faces))
        elif self.uv_faces is not None:
            raise ValueError("garment uv_faces given without uv")
        if self.texture is not None:
            texture = np.asarray(self.texture)
            if texture.ndim != 3 or texture.shape[2] not in (3, 4) or min(texture.shape[:2]) < 1:
                raise ValueError(f"garment texture must have shape (H, W, 3), got {texture.shape}")
            if texture.dtype == np.uint8:
                texture = texture.astype(np.float32) / 255.0
            texture = np.clip(np.array(texture[:, :, :3], dtype=np.float32), 0.0, 1.0)
            if self.uv is None:
                raise ValueError("garment texture given without uv coordinates")
            set_(self, "texture", readonly(np.ascontiguousarray(texture)))
        color = np.asarray(self.color, dtype=np.float64).reshape(-1)
        if color.shape != (3,) or np.any(color < 0) or np.any(color > 1):
            raise ValueError(
                f"garment color must be 3 linear RGB values in [0, 1], got {self.color}"
            )
        set_(self, "color", tuple(float(c) for c in color))


@dataclass(frozen=True, eq=False)
class Rendering:
    """A rendered image with its auxiliary outputs.

    Attributes:
        rgba: colour, shape (H, W, 4), float32: sRGB-encoded RGB in [0, 1] with straight
            (not premultiplied) alpha = pixel coverage by body or garments.
        depth: camera-space z of the visible surface [m], shape (H, W), float32, ``inf`` where
            nothing is hit (averaged over the pixel's covered samples).
        mask: coverage by any mesh in [0, 1], shape (H, W), float32 (same as ``rgba[..., 3]``).
        garment_mask: pixels whose visible surface is a garment, shape (H, W), bool.
        camera: the camera used.
    """

    rgba: np.ndarray
    depth: np.ndarray
    mask: np.ndarray
    garment_mask: np.ndarray
    camera: Camera
    extras: dict[str, Any] = field(default_factory=dict)

    def composite(self, background=BACKGROUND) -> np.ndarray:
        """RGB over a plain linear-RGB background, shape (H, W, 3), float32 sRGB in [0, 1]."""
        return composite_rgba(self.rgba, background)
