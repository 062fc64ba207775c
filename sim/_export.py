"""Drape outputs: a binary glTF of body + garment, and a JSON-ready summary."""

from __future__ import annotations

import math
import os

import numpy as np

from sim._drape import EASE_REGIONS, Drape

_CM_PER_M = 100.0  # drape.json reports ease in cm, as the interface asks


def _finite_or_none(value: float, digits: int = 3) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None


def drape_to_json(drape: Drape) -> dict:
    """A JSON-serialisable summary of a drape.

    Keys: ``garment``, ``size``, ``fabric``, ``gates`` (``penetrating_vertices``,
    ``self_intersecting_pairs``, ``max_seam_gap_mm``, ``max_stretch_pct``, ``converged``),
    ``ease_cm`` per region (``None`` where not measurable), ``stretch_pct`` percentiles,
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
            "passed": bool(gates.passed),
        },
        "ease_cm": {name: _finite_or_none(drape.ease_m.get(name, float("nan")) * _CM_PER_M, 2) for name in EASE_REGIONS},
        "stretch_pct": {
            "p50": round(float(np.percentile(stretch, 50)), 2),
            "p95": round(float(np.percentile(stretch, 95)), 2),
            "max": round(float(stretch.max()), 2),
        },
        "timings_s": {name: round(value, 3) for name, value in drape.timings_s.items()},
        "device": drape.device,
        "frames": int(drape.frames),
        "vertices": int(drape.vertex_count),
        "faces": int(len(drape.faces)),
        "solver": {k: v for k, v in drape.metadata.items() if isinstance(v, (int, float, str, bool))},
    }


def drape_to_glb(
    body,
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
        image = Image.open(texture).convert("RGBA") if not isinstance(texture, np.ndarray) else Image.fromarray(texture)
    material = trimesh.visual.material.PBRMaterial(
        name="garment",
        baseColorFactor=[1.0, 1.0, 1.0, 1.0] if image is not None else [*garment_color, 1.0],
        baseColorTexture=image,
        metallicFactor=0.0,
        roughnessFactor=0.9,
        doubleSided=True,
    )
    garment_mesh = trimesh.Trimesh(np.asarray(garment_vertices), np.asarray(drape.faces), process=False)
    garment_mesh.visual = trimesh.visual.TextureVisuals(uv=np.asarray(drape.uv, dtype=np.float64), material=material)
    # glTF is y-up; our z-up metres become y-up by a -90 degree turn about x on both nodes
    z_up_to_y_up = np.array([[1.0, 0, 0, 0], [0, 0, 1.0, 0], [0, -1.0, 0, 0], [0, 0, 0, 1.0]])
    scene = trimesh.Scene()
    scene.add_geometry(body_mesh, node_name="body", geom_name="body", transform=z_up_to_y_up)
    scene.add_geometry(garment_mesh, node_name="garment", geom_name="garment", transform=z_up_to_y_up)
    return scene.export(file_type="glb")
