"""A garment mesh (``read_garment_mesh``) placed on a body: by its neck or waist opening,
limbs modelled in another pose turned onto the body's (``garments._mesh_retarget``), graded
when it was made for an avatar of another size, pushed out of the skin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tryon3d.core import hull_perimeter
from tryon3d.garments._mesh_import import mesh_kind_and_loops

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body

__all__ = ["MeshPlacement", "place_mesh"]

_TRUNK_MARGIN_M = 0.06  # a garment's trunk round: points this far beyond the body's side


@dataclass(frozen=True)
class MeshPlacement:
    """A garment mesh placed on a body (``place_mesh``).

    Attributes:
        positions: placed vertex positions on the body's rest pose [m], shape (N, 3).
        rest_positions: the rest shape [m], shape (N, 3): the file's geometry, graded by the
            same factor when the garment was made for an avatar of another size.
        kind: ``"top"``, ``"dress"`` or ``"bottom"`` (``"unknown"`` without openings).
        log: what was done, one line each.
    """

    positions: np.ndarray
    rest_positions: np.ndarray
    kind: str
    log: tuple[str, ...]


def place_mesh(
    vertices: np.ndarray,
    faces_welded: np.ndarray,
    body: Body,
    *,
    clearance_m: float = 0.02,
    kind: str | None = None,
) -> MeshPlacement:
    """A z-up garment mesh moved onto ``body`` (rest pose) by what it is: its neck opening on the
    body's neck (tops, dresses) or its waist opening on the body's waist (bottoms); sleeves or
    legs modelled in another pose (a T-pose) turned onto the body's limbs
    (``garments._mesh_retarget``); graded about the body when its girth says it was made for
    a much smaller or larger avatar (the rest shape with it); pushed out of the skin.

    ``kind`` (``"top"``, ``"dress"``, ``"bottom"``) as ``read_garment_mesh`` found it on the
    full mesh; None: found here.
    """
    from tryon3d.garments._clearance import _push_out
    from tryon3d.garments._mesh_retarget import unpose_limbs

    body_vertices = np.asarray(body.rest_vertices)
    landmarks = body.landmarks_m
    found, loops = mesh_kind_and_loops(vertices, faces_welded)
    kind = kind or found
    log = []
    positions = vertices.copy()
    z_shoulder = float(
        np.mean(
            [landmarks[k][2] for k in ("acromion_left", "acromion_right") if k in landmarks]
            or [0.82 * body_vertices[:, 2].max()]
        )
    )
    z_waist = (
        float(landmarks["waist"][2])
        if "waist" in landmarks
        else 0.6 * float(body_vertices[:, 2].max())
    )

    def body_center(z: float) -> np.ndarray:
        near = np.abs(body_vertices[:, 2] - z) < 0.02
        torso = body.region_mask("torso", "neck", "leg_left", "leg_right")
        sel = near & torso if (near & torso).any() else near
        return body_vertices[sel, :2].mean(axis=0)

    if kind == "bottom":
        opening = (
            max(loops, key=lambda lp: float(positions[lp, 2].mean()))
            if loops
            else np.arange(len(positions))
        )
        at = positions[opening].mean(axis=0)
        target_z = z_waist
        shift = np.r_[body_center(target_z) - at[:2], target_z - at[2]]
        log.append("placed its top opening (the waist) on the body's waist")
        level = float(landmarks["hips"][2]) if "hips" in landmarks else z_waist - 0.2
        girth_key = "hips"
    else:
        top_z = positions[:, 2].max()
        neck = max(loops, key=lambda lp: float(positions[lp, 2].mean())) if loops else None
        at_xy = (
            positions[neck, :2].mean(axis=0) if neck is not None else positions[:, :2].mean(axis=0)
        )
        target_top = z_shoulder + clearance_m + 0.04  # the neck point sits above the acromion
        shift = np.r_[body_center(z_shoulder) - at_xy, target_top - top_z]
        log.append("placed its top opening (the neck) on the body's neck, its top at the shoulders")
        level = float(landmarks["chest"][2]) if "chest" in landmarks else z_shoulder - 0.2
        girth_key = "chest"
    positions = positions + shift
    positions, turned = unpose_limbs(positions, loops, body, kind)
    log += turned
    rest = np.asarray(vertices, dtype=np.float64)
    # retarget: a garment whose girth at the body's chest/hips is far off the body's was
    # made for another avatar; grade it about the body's axis, its rest shape alike (a
    # garment of the right kind and size within ease is left alone, to be judged as it is)
    # by its tightest round among the body's chest and underbust (tops) or hips (bottoms):
    # a garment that is tight anywhere there was made for a smaller avatar
    keys = ("hips",) if girth_key == "hips" else ("chest", "underbust")
    ratios = {}
    for key in keys:
        body_girth = float(body.measurements_m.get(key, 0.0))
        z = float(landmarks[key][2]) if key in landmarks else (level if key == girth_key else None)
        if z is None or body_girth <= 0:
            continue
        garment_girth = _trunk_girth(positions, body, z, body_center)
        if garment_girth > 0:
            ratios[key] = (garment_girth / body_girth, garment_girth, body_girth, z)
    if ratios:
        key = min(ratios, key=lambda k: ratios[k][0])
        ratio, garment_girth, body_girth, z = ratios[key]
        if ratio < 0.97 or ratio > 1.8:
            factor = 1.12 / ratio
            grade = np.array([factor, factor, 1.0])
            center = np.r_[body_center(z), z]
            positions = center + (positions - center) * grade
            rest = rest.mean(axis=0) + (rest - rest.mean(axis=0)) * grade
            log.append(
                f"graded {factor:.2f}x around the body, rest shape too: its {key} girth "
                f"{garment_girth * 100:.0f} cm fits another avatar (body {body_girth * 100:.0f} cm)"
            )
    positions = _push_out(positions, body, clearance_m, np.zeros(len(positions)))
    return MeshPlacement(positions=positions, rest_positions=rest, kind=kind, log=tuple(log))


def _trunk_girth(positions: np.ndarray, body: Body, z: float, body_center) -> float:
    """The garment's round [m] at height ``z`` about the trunk only (sleeves hanging beside
    the chest would widen the hull): points at most ``_TRUNK_MARGIN_M`` beyond the body's
    side there."""
    body_vertices = np.asarray(body.rest_vertices)
    trunk = (np.abs(body_vertices[:, 2] - z) < 0.02) & body.region_mask(
        "torso", "leg_left", "leg_right"
    )
    center_x = float(body_center(z)[0])
    reach = (
        float(np.abs(body_vertices[trunk, 0] - center_x).max()) + _TRUNK_MARGIN_M
        if trunk.any()
        else np.inf
    )
    return _slice_girth(positions[np.abs(positions[:, 0] - center_x) <= reach], z)


def _slice_girth(positions: np.ndarray, z: float, band: float = 0.02) -> float:
    """Convex-hull perimeter [m] of the garment's points within ``band`` of height ``z``;
    0 for a slice too sparse or degenerate (collinear) to measure."""
    pts = positions[np.abs(positions[:, 2] - z) < band, :2]
    if len(pts) < 6:
        return 0.0
    girth = hull_perimeter(pts)
    return 0.0 if np.isnan(girth) else girth
