"""Ease per body region: garment girth minus body girth, both read with the same tape.

Torso regions (chest, waist, hips) use bodyfit's tape: the perimeter of the convex hull of a
horizontal section at the body's landmark height (``Body.landmarks_m[region][2]``). The body
girth is ``Body.measurements_m[region]`` (bodyfit's own hull of the torso section; hips
include the legs), or the same hull computed here when the body carries no measurement. A
sleeved garment's chest is taped at the bust line or 2.5 cm below its draped underarm,
whichever is lower (at a bust line above the armholes no section goes round the body). The
garment girth is the hull of the garment's section at that height, seams welded, sleeve panels
left out, and only section loops that go around the torso: a garment that does not go around
the body there (a T-shirt at the thigh, a skirt at the chest) has NaN ease.

Limb regions (upper arm, thigh) use a plane across the limb's principal axis, 30 % / 15 % of
the limb's length from its root; the body's girth is its limb region's section there, the
garment's the section loop around the limb (upper arm: sleeve panels only).
"""

from __future__ import annotations

import numpy as np

from sim._drape import EASE_REGIONS
from sim._measure import _encloses, _hull_perimeter, _plane_basis, _section_loops, girth

_TORSO_REGIONS = ("chest", "waist", "hips")
#: Body regions whose section forms bodyfit's tape at each torso landmark.
_TAPE_REGIONS = {"chest": ("torso",), "waist": ("torso",), "hips": ("torso", "leg_left", "leg_right")}
# (body region, fraction of the limb's length from its root, the other limb)
_LIMBS = {"upper_arm": ("arm_left", 0.3, "arm_right"), "thigh": ("leg_left", 0.15, "leg_right")}
_UP = np.array([0.0, 0.0, 1.0])
#: How far below the draped underarm a garment's chest is taped [m] (about one inch).
CHEST_BELOW_UNDERARM_M = 0.025


def _region_vertices(body, *names: str) -> np.ndarray:
    from bodyfit import REGION_NAMES

    ids = [REGION_NAMES.index(n) for n in names if n in REGION_NAMES]
    return np.asarray(body.rest_vertices)[np.isin(np.asarray(body.vertex_regions), ids)]


def _region_faces(body, *names: str) -> np.ndarray:
    from bodyfit import REGION_NAMES

    ids = [REGION_NAMES.index(n) for n in names if n in REGION_NAMES]
    inside = np.isin(np.asarray(body.vertex_regions), ids)
    faces = np.asarray(body.faces)
    return faces[inside[faces].all(axis=1)]


def hull_girth(vertices: np.ndarray, faces: np.ndarray, origin: np.ndarray, normal: np.ndarray,
               *, around: np.ndarray | None = None) -> float:
    """Tape girth [m]: convex-hull perimeter of a mesh's section by the plane (origin, normal).

    Args:
        vertices: (V, 3) [m]; faces: (F, 3), welded (shared vertices across seams).
        origin / normal: the plane, (3,) each.
        around: a point (3,) [m]; only section loops that wind around it count (all loops
            when None).

    Returns:
        The perimeter [m], or NaN when no (qualifying) section exists.
    """
    origin = np.asarray(origin, dtype=np.float64)
    normal = np.asarray(normal, dtype=np.float64) / np.linalg.norm(normal)
    points, segments, piece = _section_loops(np.asarray(vertices, dtype=np.float64), np.asarray(faces), origin, normal)
    if len(segments) == 0:
        return float("nan")
    basis = _plane_basis(normal)
    flat = (points - origin) @ basis.T
    keep = np.ones(len(points), dtype=bool)
    if around is not None:
        centre = (np.asarray(around, dtype=np.float64) - origin) @ basis.T
        labels = _encloses(flat, segments, piece, centre)
        if len(labels) == 0:
            return float("nan")
        keep = np.isin(piece, labels)
    perimeter = _hull_perimeter(flat[keep])
    return perimeter if perimeter > 0.0 else float("nan")


def underarm_height(garment, positions: np.ndarray) -> float:
    """Height [m] of the lower draped underarm: the lowest vertex on a sleeve-bodice seam;
    +inf for a garment without sleeves."""
    sleeve = garment.sleeve_panels[np.asarray(garment.vertex_panels)]
    pairs = np.asarray(garment.seam_pairs).reshape(-1, 2)
    armhole = pairs[sleeve[pairs[:, 0]] != sleeve[pairs[:, 1]]]  # one side on a sleeve, one on the bodice
    if len(armhole) == 0:
        return float("inf")
    return float(np.asarray(positions, dtype=np.float64)[armhole[:, 0], 2].min())


def _torso_centre(body, height: float) -> np.ndarray | None:
    torso = _region_vertices(body, "torso")
    if len(torso) == 0:
        torso = np.asarray(body.rest_vertices)
    near = torso[np.abs(torso[:, 2] - height) < 0.02]
    if len(near) == 0:
        return None
    centre = near.mean(axis=0)
    return np.array([centre[0], centre[1], height])


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


def body_tape_girth(body, region: str) -> float:
    """The body's tape girth [m] at a torso landmark: ``measurements_m`` when given, else the
    hull of the torso (hips: torso and legs) section at the landmark height."""
    tape = float(body.measurements_m.get(region, 0.0))
    if tape > 0.0:
        return tape
    landmark = body.landmarks_m.get(region)
    if landmark is None:
        return float("nan")
    faces = _region_faces(body, *_TAPE_REGIONS[region])
    if len(faces) == 0:
        faces = np.asarray(body.faces)
    return hull_girth(body.rest_vertices, faces, np.array([0.0, 0.0, float(landmark[2])]), _UP)


def ease_by_region(body, garment, garment_positions: np.ndarray) -> dict[str, float]:
    """Ease [m] = garment girth - body girth for each of ``EASE_REGIONS`` (canonical pose).

    Args:
        body: the Body (``rest_vertices``, ``faces``, ``vertex_regions``, ``landmarks_m``,
            ``measurements_m``).
        garment: the Garment (``faces``, ``seam_pairs``, ``vertex_panels``, ``panel_names``).
        garment_positions: the draped garment on the canonical pose [m], shape (N, 3).

    Returns:
        {region: ease [m]}; NaN where the body lacks the landmark/region or the garment does
        not go around it.
    """
    positions = np.asarray(garment_positions, dtype=np.float64)
    from sim._scene import merge_seams

    # welded: one point per sewn group (the drape puts a group's vertices at one place)
    particle_of_vertex, count = merge_seams(garment.vertex_count, garment.seam_pairs)
    faces = particle_of_vertex[np.asarray(garment.faces)]
    points = np.zeros((count, 3))
    points[particle_of_vertex] = positions
    sleeves = garment.sleeve_faces
    torso_faces = faces[~sleeves]
    ease = {}
    for name in EASE_REGIONS:
        if name in _TORSO_REGIONS:
            landmark = body.landmarks_m.get(name)
            height = float(landmark[2]) if landmark is not None else None
            if name == "chest" and height is not None:
                # a garment's chest is taped below its armholes (the trade's "1 inch below the
                # armpit"): at a bust line above the draped underarm the section runs through
                # the armholes and no loop goes round the body
                height = min(height, underarm_height(garment, positions) - CHEST_BELOW_UNDERARM_M)
            centre = _torso_centre(body, height) if height is not None else None
            if centre is None:
                ease[name] = float("nan")
                continue
            garment_girth = hull_girth(points, torso_faces, centre, _UP, around=centre)
            ease[name] = float(garment_girth - body_tape_girth(body, name))
            continue
        region, fraction, other = _LIMBS[name]
        plane = _limb_plane(body, region, fraction)
        # the arm's tape runs round the sleeve only: a plane across a sloping arm also cuts the
        # bodice, and welded to it the sleeve's loop would swallow the torso
        limb_faces = faces[sleeves] if name == "upper_arm" else faces
        if plane is None or len(limb_faces) == 0:
            ease[name] = float("nan")
            continue
        other_plane = _limb_plane(body, other, fraction)
        # a garment piece around both limbs (a skirt around both thighs) is not a limb's
        exclude = other_plane[0] if other_plane is not None else None
        origin, normal = plane
        body_faces = _region_faces(body, region)
        body_girth = girth(body.rest_vertices, body_faces if len(body_faces) else np.asarray(body.faces), origin, normal)
        garment_girth = girth(points, limb_faces, origin, normal, exclude=exclude)
        ease[name] = float(garment_girth - body_girth)
    return ease
