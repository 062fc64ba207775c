"""Body files: a GLB mesh with UVs and a plain record that rebuilds the Body exactly."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from tryon3d.bodyfit._body import Body
from tryon3d.bodyfit._body_cache import body_cache_key, load_cached_body, store_body

#: glTF is y-up; the engine is z-up. This rotation takes engine points to glTF points.
Z_UP_TO_Y_UP = np.array(
    [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)
SKIN_RGBA = (224, 172, 150, 255)
RECORD_FORMAT = "tryon3d.body/1"


def split_uv_seams(vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, uv_faces: np.ndarray):
    """One vertex per distinct (position, uv) corner pair, as glTF needs.

    Args:
        vertices: (V, 3) positions; faces: (F, 3) indices into them.
        uv: (T, 2) texture coordinates; uv_faces: (F, 3) indices into them.

    Returns:
        ``(split_vertices (S, 3), split_uv (S, 2), split_faces (F, 3), source (S,))`` where
        ``source`` maps each split vertex back to its original vertex.
    """
    corners = np.stack([faces.reshape(-1), uv_faces.reshape(-1)], axis=1)
    unique, inverse = np.unique(corners, axis=0, return_inverse=True)
    source = unique[:, 0]
    return vertices[source], uv[unique[:, 1]], inverse.reshape(-1, 3), source


def body_to_trimesh(body: Body, *, posed: bool = True):
    """The body as a textured ``trimesh.Trimesh`` (z-up, seams split for UVs)."""
    import trimesh
    from trimesh.visual.material import PBRMaterial

    positions = body.vertices if posed else body.rest_vertices
    split_vertices, split_uv, split_faces, _ = split_uv_seams(
        positions, body.faces, body.uv, body.uv_faces
    )
    material = PBRMaterial(
        name="skin", baseColorFactor=SKIN_RGBA, roughnessFactor=0.7, metallicFactor=0.0
    )
    visual = trimesh.visual.TextureVisuals(uv=split_uv, material=material)
    return trimesh.Trimesh(split_vertices, split_faces, visual=visual, process=False)


def body_to_glb(body: Body, *, posed: bool = True) -> bytes:
    """GLB bytes of the body mesh (glTF y-up, metres), with UVs and a skin material."""
    import trimesh

    mesh = body_to_trimesh(body, posed=posed)
    mesh.apply_transform(Z_UP_TO_Y_UP)
    scene = trimesh.Scene()
    scene.add_geometry(mesh, geom_name="body", node_name="body")
    return scene.export(file_type="glb")


def load_glb_mesh(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (V, 3) [m, z-up] and faces (F, 3) of the single mesh in GLB bytes."""
    import trimesh

    scene = trimesh.load(io.BytesIO(data), file_type="glb", force="scene", process=False)
    mesh = scene.to_geometry() if hasattr(scene, "to_geometry") else scene.dump(concatenate=True)
    mesh.apply_transform(np.linalg.inv(Z_UP_TO_Y_UP))
    return np.asarray(mesh.vertices), np.asarray(mesh.faces)


def body_record(body: Body) -> dict[str, Any]:
    """A JSON-ready record (SI units) from which ``body_from_record`` rebuilds the body."""
    return {
        "format": RECORD_FORMAT,
        "model": body.model,
        "shape_parameters": dict(body.shape_parameters),
        "pose_axis_angle_rad": np.asarray(body.pose).round(8).tolist(),
        "sex": body.inputs.get("sex"),
        "age_years": body.inputs.get("age_years_used", body.inputs.get("age_years")),
        "height_ratios": body.inputs.get("height_ratios", {}),
        "measurements_m": dict(body.measurements_m),
        "landmarks_m": {k: np.asarray(v).round(6).tolist() for k, v in body.landmarks_m.items()},
        "skeleton_m": {k: np.asarray(v).round(6).tolist() for k, v in body.skeleton_m.items()},
        "weight_kg": body.weight_kg,
        "inputs": {k: v for k, v in body.inputs.items() if k != "height_ratios"},
        "vertex_count": body.vertex_count,
    }


def body_from_record(
    record: Mapping[str, Any], *, smplx_model_dir: str | os.PathLike | None = None
) -> Body:
    """Rebuild the Body a ``body_record`` describes (same model, shape and pose).

    An anny body seen before is read from the body cache (``bodyfit._body_cache``: no torch,
    no anny; ``TRYON3D_NO_BODY_CACHE=1`` turns it off), bit-identical to a rebuild.

    Raises:
        ValueError: the record is malformed or was written for another mesh.
    """
    if not isinstance(record, Mapping) or record.get("format") != RECORD_FORMAT:
        raise ValueError(f"not a tryon3d body record (expected format {RECORD_FORMAT!r})")
    for key, kind in (
        ("shape_parameters", Mapping),
        ("height_ratios", Mapping),
        ("inputs", Mapping),
        ("pose_axis_angle_rad", list),
        ("model", str),
        ("sex", str),
    ):
        value = record.get(key)
        if value is not None and not isinstance(value, kind):
            raise ValueError(
                f"body record field {key!r} must be a "
                f"{'dict' if kind is Mapping else kind.__name__}, "
                f"got {type(value).__name__}"
            )
    ratios = record.get("height_ratios") or {}
    for key, value in ratios.items():
        if not isinstance(value, (int, float)) or not 0.0 < float(value) < 1.0:
            raise ValueError(
                f"body record height ratio {key!r} must be a number between 0 and 1, got {value!r}"
            )
    expected = record.get("vertex_count")
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)):
        raise ValueError(f"body record field 'vertex_count' must be an integer, got {expected!r}")
    try:
        pose = np.asarray(record.get("pose_axis_angle_rad") or [], dtype=np.float64)
        if not np.isfinite(pose).all() or (pose.size and np.abs(pose).max() > 4 * np.pi):
            raise ValueError("body record pose must hold finite angles within +-4 pi rad")
    except (TypeError, OverflowError) as exc:
        raise ValueError(
            f"body record is missing or has a malformed field: {type(exc).__name__}: {exc}"
        ) from None
    # a body seen before: read back, no model run (rebuild_body imports torch and anny)
    cache_key = body_cache_key(record, model=str(record.get("model")))
    cached = None if cache_key is None else load_cached_body(cache_key)
    if cached is not None:
        return cached
    from tryon3d.bodyfit._measurements import rebuild_body

    try:
        body = rebuild_body(
            model=str(record["model"]),
            shape_parameters={str(k): float(v) for k, v in record["shape_parameters"].items()},
            sex=str(record["sex"]),
            age_years=float(record["age_years"]),
            pose=pose,
            height_ratios=ratios,
            inputs=dict(record.get("inputs") or {}),
            smplx_model_dir=smplx_model_dir,
        )
    except (KeyError, TypeError, AttributeError, OverflowError) as exc:
        raise ValueError(
            f"body record is missing or has a malformed field: {type(exc).__name__}: {exc}"
        ) from None
    if expected is not None and expected != body.vertex_count:
        raise ValueError(
            f"body record is for a {expected}-vertex mesh, the model now has {body.vertex_count}"
        )
    if cache_key is not None:
        store_body(cache_key, body)
    return body
