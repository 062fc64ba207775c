"""The Mitsuba 3 backend: the one place where the variant is chosen.

Mitsuba keeps its active variant as process-wide state. render/ never sets it at import time;
every public render function calls :func:`select_variant`, which picks ``cuda_ad_rgb`` when a
CUDA device is usable and ``llvm_ad_rgb`` (CPU) otherwise, and returns the ``mitsuba`` and
``drjit`` modules.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tryon3d.core import Camera

__all__ = ["active_variant", "select_variant"]

_VARIANTS = {"cpu": "llvm_ad_rgb", "cuda": "cuda_ad_rgb"}
# libLLVM 14-16 crash on the first render; Debian's libllvm19 works.
_LLVM_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/libLLVM-19.so",
    "/usr/lib/x86_64-linux-gnu/libLLVM.so.19.1",
    "/usr/lib/llvm-19/lib/libLLVM.so",
    "/usr/lib/x86_64-linux-gnu/libLLVM-18.so",
    "/usr/lib/x86_64-linux-gnu/libLLVM-17.so",
)
_lock = threading.Lock()
_chosen: str | None = None


def _configure_llvm() -> None:
    if os.environ.get("DRJIT_LIBLLVM_PATH"):
        return
    for candidate in _LLVM_CANDIDATES:
        if Path(candidate).exists():
            os.environ["DRJIT_LIBLLVM_PATH"] = candidate
            return


def select_variant(device: str = "auto") -> tuple[ModuleType, ModuleType]:
    """Choose the Mitsuba variant (once per process) and return ``(mitsuba, drjit)``.

    Args:
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"`` (``llvm_ad_rgb``) or
            ``"cuda"`` (``cuda_ad_rgb``). The env variable ``TRYON3D_RENDER_DEVICE`` overrides
            ``"auto"``. A process keeps its first choice; asking for another device later
            raises ValueError, because Mitsuba objects of two variants cannot be mixed.

    Raises:
        ValueError: unknown device, or a device that cannot be used here.
    """
    global _chosen
    if device == "auto":
        device = os.environ.get("TRYON3D_RENDER_DEVICE", "auto").lower() or "auto"
    if device not in ("auto", *_VARIANTS):
        raise ValueError(f"render device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    with _lock:
        _configure_llvm()
        import drjit as dr
        import mitsuba as mi

        if _chosen is not None:
            if device != "auto" and _VARIANTS[device] != _chosen:
                raise ValueError(
                    f"render device {device!r} requested, but this process already renders with "
                    f"{_chosen}"
                )
            if mi.variant() != _chosen:
                mi.set_variant(_chosen)
            return mi, dr
        if device == "auto":
            device = (
                "cuda"
                if (_VARIANTS["cuda"] in mi.variants() and dr.has_backend(dr.JitBackend.CUDA))
                else "cpu"
            )
        variant = _VARIANTS[device]
        if variant not in mi.variants():
            raise ValueError(
                f"this Mitsuba build lacks the {variant} variant (has {mi.variants()})"
            )
        if device == "cuda" and not dr.has_backend(dr.JitBackend.CUDA):
            raise ValueError("render device 'cuda' requested but no CUDA device is available")
        mi.set_variant(variant)
        _chosen = variant
        return mi, dr


def active_variant() -> str | None:
    """The variant chosen by :func:`select_variant`, or None before the first render."""
    return _chosen


def _mitsuba_to_world(camera: Camera) -> list[list[float]]:
    """Mitsuba's sensor ``to_world`` (camera x left, y up, z forward) for an OpenCV camera."""
    import numpy as np

    flip = np.diag([-1.0, -1.0, 1.0, 1.0])
    return (camera.camera_to_world @ flip).tolist()


def check_square_pixels(camera: Camera) -> None:
    """Mitsuba's perspective sensor has square pixels: fx and fy must agree."""
    if abs(camera.fx - camera.fy) > 1e-4 * camera.fx:
        raise ValueError(
            f"rendering needs square pixels (fx == fy), got fx={camera.fx:.3f}, fy={camera.fy:.3f}"
        )


def sensor_values(camera: Camera) -> dict:
    """Mitsuba ``perspective`` parameters for ``camera``: fov, principal point, to_world."""
    import math

    check_square_pixels(camera)
    return {
        "x_fov": math.degrees(2.0 * math.atan(0.5 * camera.width / camera.fx)),
        # Mitsuba's offsets are fractions of the film size with the opposite sign of (c - size/2)
        # (measured: tests/test_render_camera.py checks projected centroids).
        "principal_point_offset_x": (0.5 * camera.width - camera.cx) / camera.width,
        "principal_point_offset_y": (0.5 * camera.height - camera.cy) / camera.height,
        "to_world": _mitsuba_to_world(camera),
    }


def sensor_dict(
    camera,
    *,
    sample_count: int,
    pixel_format: str = "rgba",
    near_clip: float = 0.01,
    sampler: str = "independent",
) -> dict:
    """A Mitsuba sensor description (box filter, ``sampler`` type) for ``camera``."""
    import mitsuba as mi

    values = sensor_values(camera)
    return {
        "type": "perspective",
        "fov_axis": "x",
        "fov": values["x_fov"],
        "principal_point_offset_x": values["principal_point_offset_x"],
        "principal_point_offset_y": values["principal_point_offset_y"],
        "near_clip": near_clip,
        "far_clip": 1.0e4,
        "to_world": mi.ScalarTransform4f(values["to_world"]),
        "film": {
            "type": "hdrfilm",
            "width": camera.width,
            "height": camera.height,
            "rfilter": {"type": "box"},
            "sample_border": True,
            "pixel_format": pixel_format,
        },
        "sampler": {"type": sampler, "sample_count": sample_count},
    }


def update_sensor(params, key: str, camera) -> None:
    """Point the sensor ``key`` of a traversed scene at ``camera`` (same image size)."""
    import mitsuba as mi

    values = sensor_values(camera)
    size = params[f"{key}.film.size"]
    if (int(size[0]), int(size[1])) != (camera.width, camera.height):
        raise ValueError(
            f"camera size {camera.width}x{camera.height} differs from the scene's "
            f"{int(size[0])}x{int(size[1])}"
        )
    params[f"{key}.x_fov"] = values["x_fov"]
    params[f"{key}.principal_point_offset_x"] = values["principal_point_offset_x"]
    params[f"{key}.principal_point_offset_y"] = values["principal_point_offset_y"]
    params[f"{key}.to_world"] = mi.Transform4f(values["to_world"])


def check_mesh(vertices, faces, name: str = "mesh"):
    """Validated float32 (V, 3) vertices and uint32 (F, 3) faces as numpy arrays."""
    import numpy as np

    vertices = np.asarray(vertices, dtype=np.float32)
    faces = np.asarray(faces)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or len(vertices) < 3:
        raise ValueError(f"{name} vertices must have shape (V >= 3, 3), got {vertices.shape}")
    if faces.ndim != 2 or faces.shape[1] != 3 or len(faces) < 1:
        raise ValueError(f"{name} faces must have shape (F >= 1, 3), got {faces.shape}")
    if not np.issubdtype(faces.dtype, np.integer):
        raise ValueError(f"{name} faces must be integers, got {faces.dtype}")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise ValueError(f"{name} faces index outside [0, {len(vertices)})")
    if not np.all(np.isfinite(vertices)):
        raise ValueError(f"{name} vertices contain NaN or infinity")
    return vertices, faces.astype(np.uint32)


def make_mesh(name: str, vertices, faces, *, uv=None, normals=None, props=None):
    """A Mitsuba mesh from numpy arrays: vertices (V, 3) [m], faces (F, 3), optional uv (V, 2)
    and normals (V, 3) per vertex. ``props`` (a ``mi.Properties``) may carry the BSDF."""
    import drjit as dr
    import mitsuba as mi

    extra = {} if props is None else {"props": props}
    mesh = mi.Mesh(
        name,
        len(vertices),
        len(faces),
        has_vertex_normals=normals is not None,
        has_vertex_texcoords=uv is not None,
        **extra,
    )
    params = mi.traverse(mesh)
    params["vertex_positions"] = dr.ravel(mi.Point3f(vertices.T))
    params["faces"] = dr.ravel(mi.Vector3u(faces.T))
    if normals is not None:
        params["vertex_normals"] = dr.ravel(mi.Normal3f(normals.T))
    if uv is not None:
        params["vertex_texcoords"] = dr.ravel(mi.Point2f(uv.T))
    params.update()
    return mesh
