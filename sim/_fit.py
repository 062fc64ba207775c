"""Ease per body region: garment girth minus body girth at the body's tape line.

Torso regions (chest, waist, hips) are read on a horizontal section at the body's landmark
height (``Body.landmarks_m[region][2]``). The body girth is ``Body.measurements_m[region]``
(bodyfit's tape: the convex hull of the torso section; hips include the legs), or that hull
computed here when the body carries no measurement. A garment's chest is read at the
bust line or 2.5 cm below its draped underarm, whichever is lower (at a bust line above the
armholes no section goes round the body): the lowest sleeve-bodice seam point, or, without
sleeves, the lowest point of the open armhole loops. The garment's section is taken with
seams welded,
sleeve panels left out, and only loops that go around the torso count: a garment that does
not go around the body there (a T-shirt at the thigh, a skirt at the chest) has NaN ease.

Limb regions (upper arm, thigh) use a plane across the limb's principal axis, 30 % / 15 % of
the limb's length from its root; the body's girth is its limb region's section there, the
garment's the section loop around the limb (upper arm: sleeve panels only).

Each section gives two garment girths (``section_girths``): the cloth's own length along the
line in the flat pattern (the ease a tailor means, ``Drape.ease_m``) and a tape pulled round
the draped cloth (``Drape.tape_ease_m``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tryon3d.core import hull_perimeter, plane_basis, triangle_plane_crossings
from tryon3d.sim._drape import EASE_REGIONS
from tryon3d.sim._measure import _encloses, _section_loops

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body
    from tryon3d.garments import Garment

_TORSO_REGIONS = ("chest", "waist", "hips")
#: Body regions whose section forms bodyfit's tape at each torso landmark.
_TAPE_REGIONS = {
    "chest": ("torso",),
    "waist": ("torso",),
    "hips": ("torso", "leg_left", "leg_right"),
}
# (body region, fraction of the limb's length from its root, the other limb)
_LIMBS = {"upper_arm": ("arm_left", 0.3, "arm_right"), "thigh": ("leg_left", 0.15, "leg_right")}
_UP = np.array([0.0, 0.0, 1.0])
#: How far below the draped underarm a garment's chest is taped [m] (about one inch).
CHEST_BELOW_UNDERARM_M = 0.025


def _region_vertices(body: Body, *names: str) -> np.ndarray:
    from tryon3d.bodyfit import REGION_NAMES

    ids = [REGION_NAMES.index(n) for n in names if n in REGION_NAMES]
    return np.asarray(body.rest_vertices)[np.isin(np.asarray(body.vertex_regions), ids)]


def _region_faces(body: Body, *names: str) -> np.ndarray:
    from tryon3d.bodyfit import REGION_NAMES

    ids = [REGION_NAMES.index(n) for n in names if n in REGION_NAMES]
    inside = np.isin(np.asarray(body.vertex_regions), ids)
    faces = np.asarray(body.faces)
    return faces[inside[faces].all(axis=1)]


def _pattern_widths(
    side: np.ndarray, faces: np.ndarray, corners_2d: np.ndarray, across_2d: np.ndarray
) -> np.ndarray:
    """Width [m], in the flat pattern along its rows, of each face's section segment.

    Args:
        side: signed distance of every (welded) vertex to the plane [m], shape (V,).
        faces: cut faces (two edges change sign), welded indices, shape (S, 3).
        corners_2d: the same faces' corners in pattern coordinates [m], shape (S, 3, 2).
        across_2d: unit direction of the pattern's rows in each face, shape (S, 2).
    """
    ends, crossing = triangle_plane_crossings(corners_2d, side[faces])  # (S, 3, 2), (S, 3)
    first = np.argmax(crossing, axis=1)
    last = 2 - np.argmax(crossing[:, ::-1], axis=1)
    rows = np.arange(len(faces))
    return np.abs(np.einsum("ij,ij->i", ends[rows, first] - ends[rows, last], across_2d))


def section_girths(
    vertices: np.ndarray,
    faces: np.ndarray,
    origin: np.ndarray,
    normal: np.ndarray,
    *,
    around: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    single: bool = False,
    corners_2d: np.ndarray | None = None,
    across_2d: np.ndarray | None = None,
) -> tuple[float, float]:
    """(tape, cloth) girths [m] of a mesh's section by the plane (origin, normal).

    tape: the convex-hull perimeter of the qualifying section loops (a tape measure pulled round
    them). cloth: the width of the pattern the loops run through, along the pattern's rows
    (``corners_2d``, ``across_2d``): the garment's own girth along that line as the trade measures
    a garment, flat and along its rows, so folds, stretch and a slant of the line over the cloth
    do not count (NaN without ``corners_2d``).

    Args:
        vertices: (V, 3) [m]; faces: (F, 3), welded (shared vertices across seams).
        origin / normal: the plane, (3,) each.
        around: a point (3,) [m]; only loops that wind around it count (all loops when None).
        exclude: a point (3,) [m]; loops that also wind around it do not count (a skirt's
            loop round both thighs is not one thigh's).
        single: count only the qualifying loop with the smallest tape (a limb's own loop).
        corners_2d: pattern coordinates of each face's corners [m], shape (F, 3, 2).
        across_2d: unit direction of the pattern's rows in each face, shape (F, 2) (see
            ``pattern_row_directions``).

    Returns:
        (tape, cloth) [m]; NaN where no loop qualifies.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    origin = np.asarray(origin, dtype=np.float64)
    normal = np.asarray(normal, dtype=np.float64) / np.linalg.norm(normal)
    nan = (float("nan"), float("nan"))
    points, segments, piece, segment_faces = _section_loops(
        vertices, np.asarray(faces), origin, normal
    )
    if len(segments) == 0:
        return nan
    basis = plane_basis(normal)
    flat = (points - origin) @ basis.T
    labels = np.unique(piece)
    if around is not None:
        labels = _encloses(
            flat, segments, piece, (np.asarray(around, dtype=np.float64) - origin) @ basis.T
        )
    if exclude is not None:
        other = (np.asarray(exclude, dtype=np.float64) - origin) @ basis.T
        labels = np.setdiff1d(labels, _encloses(flat, segments, piece, other))
    if len(labels) == 0:
        return nan
    if single:
        labels = np.array([min(labels, key=lambda label: hull_perimeter(flat[piece == label]))])
    keep = np.isin(piece, labels)
    tape = hull_perimeter(flat[keep])
    if not tape > 0.0:
        return nan
    if corners_2d is None or across_2d is None:
        return tape, float("nan")
    cut = segment_faces[keep[segments[:, 0]]]
    side = (vertices - origin) @ normal
    side = np.where(np.abs(side) < 1e-9, 1e-9, side)  # as _section_loops nudges it
    cloth = float(
        _pattern_widths(
            side,
            np.asarray(faces)[cut],
            np.asarray(corners_2d, dtype=np.float64)[cut],
            np.asarray(across_2d, dtype=np.float64)[cut],
        ).sum()
    )
    return tape, cloth


def underarm_height(garment: Garment, positions: np.ndarray) -> float:
    """Height [m] of the lower draped underarm: the lowest vertex on a sleeve-bodice seam;
    +inf for a garment without sleeves."""
    sleeve = garment.sleeve_panels[np.asarray(garment.vertex_panels)]
    pairs = np.asarray(garment.seam_pairs).reshape(-1, 2)
    armhole = pairs[
        sleeve[pairs[:, 0]] != sleeve[pairs[:, 1]]
    ]  # one side on a sleeve, one on the bodice
    if len(armhole) == 0:
        return float("inf")
    return float(np.asarray(positions, dtype=np.float64)[armhole[:, 0], 2].min())


#: An open loop whose centre lies this far to the side of the body's axis [m], above the waist,
#: is an armhole of a garment without sleeves (a neck opening is central, a hem below the waist).
_ARMHOLE_SIDE_OFFSET_M = 0.06


def chest_tape_height(
    body: Body,
    garment: Garment,
    positions: np.ndarray,
    particle_of_vertex: np.ndarray,
    faces: np.ndarray,
) -> float:
    """Height [m] ``CHEST_BELOW_UNDERARM_M`` under the draped underarm: the sleeve seams'
    lowest point, else (no sleeves) the lowest point of the open armhole loops of the welded
    ``faces`` (F, 3) (``particle_of_vertex`` from ``merge_seams``); +inf when neither is found.
    ``positions``: the draped garment [m], (N, 3)."""
    under = underarm_height(garment, positions)
    if not np.isfinite(under):
        points = np.zeros((int(particle_of_vertex.max()) + 1, 3))
        points[particle_of_vertex] = positions
        under = armhole_bottom_height(body, points, faces)
    return float(under - CHEST_BELOW_UNDERARM_M)


def armhole_bottom_height(body: Body, points: np.ndarray, faces: np.ndarray) -> float:
    """Height [m] of the lowest armhole point of a garment without sleeves: its open boundary
    loops (welded ``points`` (P, 3) [m] and ``faces`` (F, 3)) centred above the body's waist
    and to one side; +inf where there is none (or the body has no waist landmark)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    waist = body.landmarks_m.get("waist")
    faces = np.asarray(faces)
    if waist is None or len(faces) == 0:
        return float("inf")
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    boundary = unique[counts == 1]
    if len(boundary) == 0:
        return float("inf")
    n = len(points)
    graph = coo_matrix((np.ones(len(boundary)), (boundary[:, 0], boundary[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    verts = np.unique(boundary)
    centre = _torso_centre(body, float(waist[2]))
    centre_x = float(centre[0]) if centre is not None else 0.0
    lowest = float("inf")
    for loop in np.unique(label[verts]):
        ring = points[verts[label[verts] == loop]]
        middle = ring.mean(axis=0)
        if middle[2] > float(waist[2]) and abs(middle[0] - centre_x) > _ARMHOLE_SIDE_OFFSET_M:
            lowest = min(lowest, float(ring[:, 2].min()))
    return lowest


def _torso_centre(body: Body, height: float) -> np.ndarray | None:
    torso = _region_vertices(body, "torso")
    if len(torso) == 0:
        torso = np.asarray(body.rest_vertices)
    near = torso[np.abs(torso[:, 2] - height) < 0.02]
    if len(near) == 0:
        return None
    centre = near.mean(axis=0)
    return np.array([centre[0], centre[1], height])


def _limb_plane(body: Body, region: str, fraction: float) -> tuple[np.ndarray, np.ndarray] | None:
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
    if np.linalg.norm(centre + axis * t.max() - anchor) < np.linalg.norm(
        centre + axis * t.min() - anchor
    ):
        axis, t = -axis, -t
    at = t.min() + fraction * (t.max() - t.min())
    slab = limb[np.abs(t - at) < 0.01]
    origin = slab.mean(axis=0) if len(slab) else centre + axis * at
    return origin, axis


def body_tape_girth(body: Body, region: str) -> float:
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
    return section_girths(body.rest_vertices, faces, np.array([0.0, 0.0, float(landmark[2])]), _UP)[
        0
    ]


def pattern_row_directions(garment: Garment, normal: np.ndarray) -> np.ndarray:
    """Unit direction [pattern frame] of the garment's rows in each face, shape (F, 2).

    A row is a line of the pattern at one height along ``normal`` (the measuring plane's normal)
    as the garment was placed round the body (``Garment.positions``): straight across the grain on
    a straight panel, an arc on a flared one. Faces where the placed height does not vary (laid
    flat across the plane) fall back to across the panel's grain.
    """
    faces = np.asarray(garment.faces)
    pattern = np.asarray(garment.pattern_positions, dtype=np.float64)[faces]  # (F, 3, 2)
    height = (
        np.asarray(garment.positions, dtype=np.float64) @ np.asarray(normal, dtype=np.float64)
    )[faces]
    edges = np.stack(
        [pattern[:, 1] - pattern[:, 0], pattern[:, 2] - pattern[:, 0]], axis=1
    )  # (F, 2, 2) rows
    rise = np.stack([height[:, 1] - height[:, 0], height[:, 2] - height[:, 0]], axis=1)
    det = edges[:, 0, 0] * edges[:, 1, 1] - edges[:, 0, 1] * edges[:, 1, 0]
    safe = np.abs(det) > 1e-14
    inverse_det = np.where(safe, 1.0 / np.where(safe, det, 1.0), 0.0)
    # gradient of the placed height over the pattern: edges @ gradient = rise
    gradient = (
        np.stack(
            [
                edges[:, 1, 1] * rise[:, 0] - edges[:, 0, 1] * rise[:, 1],
                edges[:, 0, 0] * rise[:, 1] - edges[:, 1, 0] * rise[:, 0],
            ],
            axis=1,
        )
        * inverse_det[:, None]
    )
    grain = np.asarray(garment.grain_directions, dtype=np.float64)[
        np.asarray(garment.vertex_panels)[faces[:, 0]]
    ]
    length = np.linalg.norm(gradient, axis=1)
    level = length > 0.1  # the placed height changes by at least 1 mm per cm of pattern
    rows = np.where(level[:, None], gradient / np.maximum(length, 1e-12)[:, None], grain)
    return np.stack([-rows[:, 1], rows[:, 0]], axis=1)


def _pattern_rows(corners: np.ndarray | None, across: np.ndarray | None, rows: np.ndarray) -> dict:
    if corners is None or across is None:
        return {}
    return {"corners_2d": corners[rows], "across_2d": across[rows]}


def ease_by_region(
    body: Body, garment: Garment, garment_positions: np.ndarray
) -> tuple[dict[str, float], dict[str, float]]:
    """Ease [m] per region of ``EASE_REGIONS``, two ways (canonical pose).

    Both read the draped garment's section at the body's tape line (torso: the landmark
    height; limbs: across the limb, see the module doc) and subtract the body's girth there:

    - cloth ease: the width of the flat pattern, along its rows, on the line where the
      drape put it: the garment's own girth there (a tailor's ease: garment measurement minus
      body measurement). Folds and stretch do not change it; where the garment sits does (a
      front riding up on the bust puts the line through the armhole curve or waist shaping).
    - tape ease: a tape measure pulled round the draped garment (convex hull) minus the body's
      tape: what one would measure on the wearer. It reads a close fit high (the cloth stands a
      few mm off the skin) and a loose one low (folds fall inside the tape).

    Args:
        body: the Body (``rest_vertices``, ``faces``, ``vertex_regions``, ``landmarks_m``,
            ``measurements_m``).
        garment: the Garment (``faces``, ``seam_pairs``, ``pattern_positions``, sleeves).
        garment_positions: the draped garment on the canonical pose [m], shape (N, 3).

    Returns:
        ({region: cloth ease [m]}, {region: tape ease [m]}); NaN where the body lacks the
        landmark/region or the garment does not go around it (cloth ease also NaN for a
        garment without pattern coordinates).
    """
    positions = np.asarray(garment_positions, dtype=np.float64)
    from tryon3d.sim._start_shape import merge_seams

    # welded: one point per sewn group (the drape puts a group's vertices at one place)
    particle_of_vertex, count = merge_seams(garment.vertex_count, garment.seam_pairs)
    faces = particle_of_vertex[np.asarray(garment.faces)]
    points = np.zeros((count, 3))
    points[particle_of_vertex] = positions
    corners = level_rows = None
    if garment.pattern_positions is not None:
        corners = np.asarray(garment.pattern_positions, dtype=np.float64)[np.asarray(garment.faces)]
        level_rows = pattern_row_directions(garment, _UP)  # the torso regions' rows, read once
    sleeves = garment.sleeve_faces
    cloth, tape = {}, {}
    for name in EASE_REGIONS:
        cloth[name] = tape[name] = float("nan")
        if name in _TORSO_REGIONS:
            landmark = body.landmarks_m.get(name)
            height = float(landmark[2]) if landmark is not None else None
            if name == "chest" and height is not None:
                # a garment's chest is taped below its armholes (the trade's "1 inch below the
                # armpit"): at a bust line above the draped underarm the section runs through
                # the armholes and no loop goes round the body
                height = min(
                    height, chest_tape_height(body, garment, positions, particle_of_vertex, faces)
                )
            centre = _torso_centre(body, height) if height is not None else None
            if centre is None:
                continue
            garment_girths = section_girths(
                points,
                faces[~sleeves],
                centre,
                _UP,
                around=centre,
                **_pattern_rows(corners, level_rows, ~sleeves),
            )
            body_girth = body_tape_girth(body, name)
        else:
            region, fraction, other = _LIMBS[name]
            plane = _limb_plane(body, region, fraction)
            # the arm's tape runs round the sleeve only: a plane across a sloping arm also cuts
            # the bodice, and welded to it the sleeve's loop would swallow the torso
            limb = sleeves if name == "upper_arm" else np.ones(len(faces), dtype=bool)
            if plane is None or not limb.any():
                continue
            other_plane = _limb_plane(body, other, fraction)
            # a garment piece around both limbs (a skirt around both thighs) is not a limb's
            exclude = other_plane[0] if other_plane is not None else None
            origin, normal = plane
            body_faces = _region_faces(body, region)
            body_girth = section_girths(
                body.rest_vertices,
                body_faces if len(body_faces) else np.asarray(body.faces),
                origin,
                normal,
                around=origin,
                single=True,
            )[0]
            across = None if corners is None else pattern_row_directions(garment, normal)
            garment_girths = section_girths(
                points,
                faces[limb],
                origin,
                normal,
                around=origin,
                exclude=exclude,
                single=True,
                **_pattern_rows(corners, across, limb),
            )
        tape[name] = float(garment_girths[0] - body_girth)
        cloth[name] = float(garment_girths[1] - body_girth)
    return cloth, tape
