"""Drape outputs: a binary glTF of body + garment, and a JSON-ready summary."""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tryon3d.sim._drape import EASE_REGIONS, Drape, DrapeGates

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body

#: Format tag stored in drape.npz (bumped when the layout changes).
DRAPE_NPZ_FORMAT = "tryon3d.drape/2"  # 2: ease_m is cloth ease, tape_ease_m added
_ARRAYS = (
    "positions",
    "rest_pose_positions",
    "faces",
    "uv",
    "stretch_pct",
    "stretch_min_pct",
    "stretch_warp_pct",
    "stretch_weft_pct",
    "body_distance_m",
    "contact_pressure_pa",
)

_CM_PER_M = 100.0  # drape.json reports ease in cm, as the interface asks


def _finite_or_none(value: float, digits: int = 3) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None


def drape_to_json(drape: Drape) -> dict:
    """A JSON-serialisable summary of a drape.

    Keys: ``garment``, ``size``, ``fabric``, ``gates`` (``penetrating_vertices``,
    ``self_intersecting_pairs``, ``max_seam_gap_mm``, ``max_stretch_pct``, ``converged``),
    ``ease_cm`` per region (``None`` where not measurable; ``Drape.ease_m``), ``tape_ease_cm``
    (``Drape.tape_ease_m``), ``stretch_pct`` percentiles,
    ``timings_s`` (with ``total``), ``device``, ``frames``, ``vertices``, ``faces``, ``solver``.
    """
    gates = drape.gates
    stretch = drape.stretch_pct
    return {
        "garment": drape.garment_name,
        "size": drape.garment_size,
        "fabric": drape.fabric_name,
        "gates": {
            "penetrating_vertices": int(gates.penetrating_vertices),
            "self_intersecting_pairs": int(gates.self_intersecting_pairs),
            "max_seam_gap_mm": round(float(gates.max_seam_gap_mm), 3),
            "max_stretch_pct": round(float(gates.max_stretch_pct), 2),
            "converged": bool(gates.converged),
            "failures": list(gates.failures),
            "passed": bool(gates.passed),
        },
        "ease_cm": {
            name: _finite_or_none(drape.ease_m.get(name, float("nan")) * _CM_PER_M, 2)
            for name in EASE_REGIONS
        },
        "tape_ease_cm": {
            name: _finite_or_none(drape.tape_ease_m.get(name, float("nan")) * _CM_PER_M, 2)
            for name in EASE_REGIONS
        },
        "stretch_pct": {
            "p50": round(float(np.percentile(stretch, 50)), 2),
            "p95": round(float(np.percentile(stretch, 95)), 2),
            "max": round(float(stretch.max()), 2),
        },
        "timings_s": {name: round(value, 3) for name, value in drape.timings_s.items()},
        "device": drape.device,
        "frames": int(drape.frames),
        "vertices": int(drape.vertex_count),
        "faces": len(drape.faces),
        "solver": {
            k: v for k, v in drape.metadata.items() if isinstance(v, (int, float, str, bool))
        },
    }


def drape_to_glb(
    body: Body,
    drape: Drape,
    *,
    texture: str | os.PathLike | np.ndarray | None = None,
    garment_color: tuple[float, float, float] = (0.20, 0.35, 0.75),
    body_color: tuple[float, float, float] = (0.80, 0.65, 0.55),
    rest_pose: bool = False,
) -> bytes:
    """Binary glTF (GLB) with two meshes: ``body`` and ``garment`` (with UVs, textured if given).

    Vertex data stay in our z-up metres; each node carries the -90 degree rotation about x
    that makes the scene y-up as glTF requires.

    Args:
        body: the Body the drape was made on.
        drape: the Drape.
        texture: optional garment texture (image path or (H, W, 3|4) uint8 array); the garment's
            UVs (pattern metres / texture repeat) tile it.
        garment_color / body_color: base colours (linear RGB in [0, 1]) when untextured.
        rest_pose: export the canonical pose instead of the target pose.
    """
    import trimesh
    from PIL import Image

    body_vertices = body.rest_vertices if rest_pose else body.vertices
    garment_vertices = drape.rest_pose_positions if rest_pose else drape.positions
    body_mesh = trimesh.Trimesh(np.asarray(body_vertices), np.asarray(body.faces), process=False)
    body_mesh.visual = trimesh.visual.TextureVisuals(
        material=trimesh.visual.material.PBRMaterial(
            name="body", baseColorFactor=[*body_color, 1.0], metallicFactor=0.0, roughnessFactor=0.8
        )
    )
    image = None
    if texture is not None:
        image = (
            Image.open(texture).convert("RGBA")
            if not isinstance(texture, np.ndarray)
            else Image.fromarray(texture)
        )
    material = trimesh.visual.material.PBRMaterial(
        name="garment",
        baseColorFactor=[1.0, 1.0, 1.0, 1.0] if image is not None else [*garment_color, 1.0],
        baseColorTexture=image,
        metallicFactor=0.0,
        roughnessFactor=0.9,
        doubleSided=True,
    )
    garment_mesh = trimesh.Trimesh(
        np.asarray(garment_vertices), np.asarray(drape.faces), process=False
    )
    garment_mesh.visual = trimesh.visual.TextureVisuals(
        uv=np.asarray(drape.uv, dtype=np.float64), material=material
    )
    # glTF is y-up; our z-up metres become y-up by a -90 degree turn about x on both nodes
    z_up_to_y_up = np.array([[1.0, 0, 0, 0], [0, 0, 1.0, 0], [0, -1.0, 0, 0], [0, 0, 0, 1.0]])
    scene = trimesh.Scene()
    scene.add_geometry(body_mesh, node_name="body", geom_name="body", transform=z_up_to_y_up)
    scene.add_geometry(
        garment_mesh, node_name="garment", geom_name="garment", transform=z_up_to_y_up
    )
    return scene.export(file_type="glb")


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}  # nan / inf survive the round trip
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _json_restore(value):
    if isinstance(value, dict):
        if set(value) == {"__float__"}:
            return float(value["__float__"])
        return {k: _json_restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_restore(v) for v in value]
    return value


def drape_to_npz(drape: Drape) -> bytes:
    """The whole Drape as a compressed ``.npz`` (bytes): every array field, plus ``meta``, a
    JSON string with the gates, ease [m], timings [s], device, frames, names and metadata.
    ``load_drape_npz`` reads it back into an equal Drape."""
    meta = {
        "format": DRAPE_NPZ_FORMAT,
        "gates": {
            "penetrating_vertices": int(drape.gates.penetrating_vertices),
            "self_intersecting_pairs": int(drape.gates.self_intersecting_pairs),
            "max_seam_gap_mm": float(drape.gates.max_seam_gap_mm),
            "max_stretch_pct": float(drape.gates.max_stretch_pct),
            "converged": bool(drape.gates.converged),
            "failures": list(drape.gates.failures),
        },
        "ease_m": dict(drape.ease_m),
        "tape_ease_m": dict(drape.tape_ease_m),
        "timings_s": dict(drape.timings_s),
        "device": drape.device,
        "frames": int(drape.frames),
        "garment_name": drape.garment_name,
        "garment_size": drape.garment_size,
        "fabric_name": drape.fabric_name,
        "metadata": dict(drape.metadata),
    }
    buffer = io.BytesIO()
    # Any: numpy's stub reads ** keywords as its own options (allow_pickle)
    arrays: dict[str, Any] = {name: np.asarray(getattr(drape, name)) for name in _ARRAYS}
    np.savez_compressed(buffer, meta=np.array(json.dumps(_json_safe(meta))), **arrays)
    return buffer.getvalue()


def load_drape_npz(data: bytes | os.PathLike | str) -> Drape:
    """A Drape from ``drape_to_npz`` output: the bytes, or the path of a ``drape.npz`` file.

    Raises:
        ValueError: not a drape.npz (unreadable, missing arrays, wrong format tag).
    """
    source = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else Path(data)
    try:
        with zipfile.ZipFile(source) as archive:  # declared sizes checked before inflating
            declared = sum(info.file_size for info in archive.infolist())
        limit = _max_drape_bytes()
        if declared > limit:
            raise ValueError(
                f"drape.npz declares {declared / 1e6:.0f} MB of arrays, over the limit of "
                f"{limit / 1e6:.0f} MB (set TRYON3D_MAX_DRAPE_BYTES to raise it)"
            )
        if isinstance(source, io.BytesIO):
            source.seek(0)
        with np.load(source, allow_pickle=False) as npz:
            contents = {name: npz[name] for name in npz.files}
    except FileNotFoundError:
        raise ValueError(f"drape file {str(data)!r} does not exist") from None
    except (
        OSError,
        ValueError,
        EOFError,
        zipfile.BadZipFile,
        zlib.error,
        NotImplementedError,
    ) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"cannot read drape.npz: {text}") from None
    missing = [name for name in (*_ARRAYS, "meta") if name not in contents]
    if missing:
        raise ValueError(
            f"drape.npz lacks {missing} (expected the arrays {list(_ARRAYS)} and 'meta')"
        )
    try:
        meta = _json_restore(json.loads(str(contents["meta"])))
    except json.JSONDecodeError as exc:
        raise ValueError(f"drape.npz has unreadable metadata: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != DRAPE_NPZ_FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise ValueError(f"drape.npz format must be {DRAPE_NPZ_FORMAT!r}, got {got!r}")
    for name in _ARRAYS:
        array = contents[name]
        if array.dtype.kind not in "biuf" or (
            array.dtype.kind == "f" and not np.isfinite(array).all()
        ):
            raise ValueError(
                f"drape.npz array {name!r} must hold finite numbers, got dtype {array.dtype}"
            )
    try:
        return _drape_from(contents, meta)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"drape.npz has malformed metadata: {type(exc).__name__}: {exc}") from None


def _max_drape_bytes() -> int:
    text = os.environ.get("TRYON3D_MAX_DRAPE_BYTES", "").strip()
    try:
        return int(float(text)) if text else 2_000_000_000
    except ValueError:
        raise ValueError(
            f"TRYON3D_MAX_DRAPE_BYTES must be a number of bytes, got {text!r}"
        ) from None


def _drape_from(contents: dict, meta: dict) -> Drape:
    return Drape(
        **{name: contents[name] for name in _ARRAYS},
        ease_m=meta["ease_m"],
        tape_ease_m=meta["tape_ease_m"],
        gates=DrapeGates(**{**meta["gates"], "failures": tuple(meta["gates"].get("failures", ()))}),
        timings_s=meta["timings_s"],
        device=meta["device"],
        frames=int(meta["frames"]),
        garment_name=meta["garment_name"],
        garment_size=meta["garment_size"],
        fabric_name=meta["fabric_name"],
        metadata=meta["metadata"],
    )


def load_drape(path: str | os.PathLike) -> Drape:
    """Load the Drape saved by ``tryon3d drape``: ``path`` is its ``drape.json``, its
    ``drape.npz``, or the output folder; the arrays come from ``drape.npz`` beside drape.json.

    Raises:
        ValueError: no drape.npz there, or it is not readable.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "drape.npz"
    elif path.suffix.lower() != ".npz":
        path = path.with_name("drape.npz")
    if not path.is_file():
        raise ValueError(f"no drape.npz at {str(path)!r}; run `tryon3d drape` again")
    return load_drape_npz(path)
