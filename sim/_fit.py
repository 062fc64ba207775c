"""Ease per body region: garment girth minus body girth on the same section plane."""

from __future__ import annotations

import numpy as np

from sim._drape import EASE_REGIONS
from sim._measure import girth

_TORSO_REGIONS = ("chest", "waist", "hips")
# (body region, fraction of the limb's length from its root) for the limb sections
#: Garment section points farther than the torso region's half width plus this along x are sleeves [m].
_SLEEVE_MARGIN_M = 0.04
_LIMBS = {"upper_arm": ("arm_left", 0.3, "arm_right"), "thigh": ("leg_left", 0.15, "leg_right")}


def _region_vertices(body, name: str) -> np.ndarray:
    from bodyfit import REGION_NAMES

    if name not in REGION_NAMES:
        return np.zeros((0, 3))
    return np.asarray(body.rest_vertices)[np.asarray(body.vertex_regions) == REGION_NAMES.index(name)]


def _torso_half_width(body, height: float) -> float | None:
    torso = _region_vertices(body, "torso")
    near = torso[np.abs(torso[:, 2] - height) < 0.02]
    if len(near) == 0:
        return None
    return float(np.abs(near[:, 0] - near[:, 0].mean()).max())


def _torso_plane(body, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    landmark = body.landmarks_m.get(name)
    if landmark is None:
        return None
    height = float(landmark[2])
    torso = _region_vertices(body, "torso")
    if len(torso) == 0:
        torso = np.asarray(body.rest_vertices)
    near = torso[np.abs(torso[:, 2] - height) < 0.02]
    if len(near) == 0:
        return None
    centre = near.mean(axis=0)
    return np.array([centre[0], centre[1], height]), np.array([0.0, 0.0, 1.0])


def _limb_plane(body, region: str, fraction: float) -> tuple[np.ndarray, np.ndarray] | None:
    limb = _region_vertices(body, region)
    if len(limb) < 10:
        return None
    centre = limb.mean(axis=0)
    _, _, vt = np.linalg.svd(limb - centre, full_matrices=False)
    axis = vt[0]
    torso = _region_vertices(body, "torso")
    anchor = torso.mean(axis=0) if len(torso) else np.asarray(body.rest_vertices).mean(axis=0)
    t = (limb - centre) @ axis
    # the root end of the limb is the one nearer the torso
    if np.linalg.norm(centre + axis * t.max() - anchor) < np.linalg.norm(centre + axis * t.min() - anchor):
        axis, t = -axis, -t
    at = t.min() + fraction * (t.max() - t.min())
    slab = limb[np.abs(t - at) < 0.01]
    origin = slab.mean(axis=0) if len(slab) else centre + axis * at
    return origin, axis


def ease_by_region(body, garment_positions: np.ndarray, garment_faces: np.ndarray) -> dict[str, float]:
    """Ease [m] = garment girth - body girth for each of ``EASE_REGIONS`` (canonical pose).

    Torso regions are cut by a horizontal plane at the body's landmark height, keeping only
    chest section points within the torso region's half width + 4 cm along x (sleeves out); the body
    girth is ``Body.measurements_m`` when given (bodyfit's tape). The upper arm
    and the thigh by a plane across the limb's principal axis, 30 % / 15 % of its length from
    its root. NaN where the body lacks the landmark/region or the garment does not go around.

    Args:
        body: the Body (its ``rest_vertices``, ``faces``, ``vertex_regions``, ``landmarks_m``).
        garment_positions: draped garment on the canonical pose [m], shape (N, 3).
        garment_faces: shape (F, 3).
    """
    ease = {}
    body_vertices = np.asarray(body.rest_vertices)
    for name in EASE_REGIONS:
        exclude = None
        x_limit = None
        if name in _TORSO_REGIONS:
            plane = _torso_plane(body, name)
            half_width = _torso_half_width(body, plane[0][2]) if plane is not None and name == "chest" else None
            # sleeves and arms that touch the torso section stay out of the torso's hull
            x_limit = half_width + _SLEEVE_MARGIN_M if half_width is not None else None
        else:
            region, fraction, other = _LIMBS[name]
            plane = _limb_plane(body, region, fraction)
            other_plane = _limb_plane(body, other, fraction)
            # a garment piece around both limbs (a skirt around both thighs) is not a limb's
            exclude = other_plane[0] if other_plane is not None else None
        if plane is None:
            ease[name] = float("nan")
            continue
        origin, normal = plane
        tape = body.measurements_m.get(name, 0.0)
        if name in _TORSO_REGIONS and tape > 0.0:
            body_girth = tape  # bodyfit's own tape measurement of the same region
        else:
            body_girth = girth(body_vertices, body.faces, origin, normal, x_limit_m=x_limit)
        garment_girth = girth(garment_positions, garment_faces, origin, normal, exclude=exclude, x_limit_m=x_limit)
        ease[name] = float(garment_girth - body_girth)
    return ease
