"""A tape measure for body meshes: our own landmark definitions, matched to ANSUR II's.

All functions take plain numpy arrays of a body in the canonical pose (metres, z-up, feet on
z = 0, facing -y, left side at +x) and return metres. Girths read as a tape would: the convex
hull of the body's cross-section at the landmark, in the landmark's plane.

Landmark definitions (ANSUR II names in brackets):
- stature [stature]: top of the head above the floor.
- chest [chestcircumference]: horizontal girth at the bust level, the largest trunk girth within
  a band around the population's chest-height ratio.
- underbust: horizontal girth at the inframammary fold, the smallest trunk girth in the 12 cm
  below the bust level.
- waist [waistcircumference]: horizontal girth at the omphalion (navel) height, placed at the
  population's omphalion-height ratio of stature.
- hips [buttockcircumference]: horizontal girth at the buttocks' maximum protrusion, the largest
  girth of trunk and thighs between the gluteal furrow and the waist.
- neck [neckcircumference]: girth perpendicular to the neck axis, at its middle.
- shoulder_breadth [biacromialbreadth]: distance between the acromion points, the lateral ends of
  the top of the shoulders.
- sleeve_outseam [sleeveoutseam]: acromion to elbow to wrist along the arm.
- inseam [crotchheight]: crotch (lowest midline point of the trunk) above the floor.
- thigh [thighcircumference]: horizontal girth of the left thigh at the gluteal furrow height.
- upper_arm: girth of the left upper arm perpendicular to its axis, midway shoulder to elbow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from tryon3d.bodyfit._body import REGION_NAMES
from tryon3d.core import edge_plane_crossings
from tryon3d.core import tape_girth as core_tape_girth

#: Skeleton points every backend provides to the tape measure (canonical pose, metres).
SKELETON_POINTS: tuple[str, ...] = (
    "pelvis",
    "neck",
    "head",
    "shoulder_left",
    "shoulder_right",
    "elbow_left",
    "elbow_right",
    "wrist_left",
    "wrist_right",
    "hip_left",
    "hip_right",
    "knee_left",
    "knee_right",
)

# Landmark heights as fractions of stature, ANSUR II means (both sexes pooled); the
# population model supplies sex-specific values when it is available.
DEFAULT_HEIGHT_RATIOS: dict[str, float] = {
    "chest_height_ratio": 0.722,
    "waist_height_ratio": 0.600,
    "buttock_height_ratio": 0.484,
}

_BAND_HALF_WIDTH = 0.02  # fraction of stature searched around the population chest height (below the armpits)
_UNDERBUST_DEPTH_M = 0.12
_LEVELS = 9  # slices searched for a maximum or minimum girth
_ACROMION_BIN_M = 0.006
_ACROMION_SLOPE = 0.8  # tan(~39 deg): steeper than the shoulder top, gentler than the arm
_NECK_RADIUS_M = 0.12  # neck cross-section points lie within this of the neck axis


def _region_ids(*names: str) -> np.ndarray:
    return np.array([REGION_NAMES.index(n) for n in names])


@dataclass(frozen=True)
class TapeTopology:
    """Per-mesh data the tape reuses across calls: edges of each region set.

    Attributes:
        edges_by_regions: unique undirected edges (E, 2) int64 of faces whose three vertices lie
            in the region set, keyed by the sorted tuple of region names.
        midline_vertices: indices of vertices on the sagittal plane (|x| < 2 mm) of the trunk.
    """

    edges_by_regions: Mapping[tuple[str, ...], np.ndarray]
    midline_vertices: np.ndarray


_REGION_SETS: dict[str, tuple[str, ...]] = {
    "trunk": ("torso",),
    "hips": ("torso", "leg_left", "leg_right"),
    "neck": ("neck", "torso", "head"),
    "thigh": ("leg_left",),
    "upper_arm": ("arm_left",),
}


def build_tape_topology(faces: np.ndarray, vertex_regions: np.ndarray, rest_vertices: np.ndarray) -> TapeTopology:
    """Precompute region edge lists for ``measure``.

    Args:
        faces: (F, 3) int triangles.
        vertex_regions: (V,) int8 region ids (``REGION_NAMES``).
        rest_vertices: (V, 3) float canonical pose [m], used to find the midline.
    """
    edges_by_regions = {}
    for names in _REGION_SETS.values():
        inside = np.isin(vertex_regions, _region_ids(*names))
        kept = faces[inside[faces].all(axis=1)]
        edges = np.concatenate([kept[:, [0, 1]], kept[:, [1, 2]], kept[:, [2, 0]]])
        edges = np.unique(np.sort(edges, axis=1), axis=0)
        edges_by_regions[names] = edges
    trunk = np.isin(vertex_regions, _region_ids("torso", "leg_left", "leg_right"))
    midline = np.flatnonzero(trunk & (np.abs(rest_vertices[:, 0]) < 0.002))
    return TapeTopology(edges_by_regions=edges_by_regions, midline_vertices=midline)


def cross_section(vertices: np.ndarray, edges: np.ndarray, origin: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Points [m], shape (K, 3), where mesh edges (E, 2) cross the plane through ``origin`` (3,)
    with ``normal`` (3,, any length); vertices (V, 3) [m]."""
    normal = np.asarray(normal, dtype=np.float64)
    normal = normal / np.linalg.norm(normal)
    return edge_plane_crossings(vertices, edges, (vertices - origin) @ normal)[1]


def tape_girth(points: np.ndarray, normal: np.ndarray) -> float:
    """Length of a tape around ``points`` lying in the plane with ``normal``: hull perimeter [m]
    (0 for fewer than three or collinear points)."""
    girth = core_tape_girth(points, normal)
    return 0.0 if math.isnan(girth) else girth


def _girth_at(vertices: np.ndarray, edges: np.ndarray, origin: np.ndarray, normal: np.ndarray) -> float:
    return tape_girth(cross_section(vertices, edges, origin, normal), normal)


def _horizontal_girths(
    vertices: np.ndarray, edges: np.ndarray, levels_z: np.ndarray, near_index: int | None = None
) -> np.ndarray:
    """Horizontal tape girths [m] at the heights ``levels_z``, shape (L,).

    With ``near_index``, only that level and its two neighbours are read (the others are NaN):
    enough to follow a maximum or minimum under a small change of shape.
    """
    chosen = np.arange(len(levels_z))
    if near_index is not None:
        chosen = chosen[np.abs(chosen - near_index) <= 1]
    z = vertices[:, 2]
    z0, z1 = z[edges[:, 0]], z[edges[:, 1]]
    low, high = levels_z[chosen].min(), levels_z[chosen].max()
    spanning = edges[(np.minimum(z0, z1) <= high) & (np.maximum(z0, z1) >= low)]
    up = np.array([0.0, 0.0, 1.0])
    girths = np.full(len(levels_z), np.nan)
    for index in chosen:
        girths[index] = _girth_at(vertices, spanning, np.array([0.0, 0.0, levels_z[index]]), up)
    return girths


def _neck_girth(vertices: np.ndarray, topology: TapeTopology, origin: np.ndarray, axis: np.ndarray) -> float:
    points = cross_section(vertices, topology.edges_by_regions[_REGION_SETS["neck"]], origin, axis)
    points = points[np.linalg.norm(points - origin, axis=1) < _NECK_RADIUS_M]
    return tape_girth(points, axis)


def _band(values_z: np.ndarray, centre_z: float, half_width: float) -> np.ndarray:
    return np.abs(values_z - centre_z) <= half_width


def _acromion(vertices: np.ndarray, shoulder_mask: np.ndarray, shoulder_joint: np.ndarray, side: float) -> np.ndarray:
    """Acromion: where the top of the shoulder, followed outwards, turns down into the arm.

    The top profile z(x) of the shoulder is flat-ish over the trapezius and acromion and falls
    at the arm's slope beyond; the acromion is the first point past which it falls faster than
    ``_ACROMION_SLOPE``.
    """
    points = vertices[shoulder_mask]
    lateral = points[:, 0] * side
    start, stop = abs(shoulder_joint[0]) * 0.55, abs(shoulder_joint[0]) + 0.08
    near = points[(lateral > start) & (lateral < stop) & (points[:, 2] > shoulder_joint[2] - 0.05)]
    if len(near) < 10:
        return shoulder_joint.copy()
    bins = np.floor((near[:, 0] * side - start) / _ACROMION_BIN_M).astype(int)
    count = bins.max() + 1
    top = np.full(count, -np.inf)
    np.maximum.at(top, bins, near[:, 2])
    filled = np.flatnonzero(np.isfinite(top))
    x_centres = start + (filled + 0.5) * _ACROMION_BIN_M
    slope = -np.diff(top[filled]) / np.diff(x_centres)
    past_joint = x_centres[1:] > abs(shoulder_joint[0]) + 0.01
    steep = np.flatnonzero((slope > _ACROMION_SLOPE) & past_joint)
    index = filled[steep[0]] if len(steep) else filled[-1]
    in_bin = near[bins == index]
    return in_bin[np.argmax(in_bin[:, 2])]


def measure(
    vertices: np.ndarray,
    vertex_regions: np.ndarray,
    skeleton: Mapping[str, np.ndarray],
    topology: TapeTopology,
    *,
    height_ratios: Mapping[str, float] | None = None,
    level_hints: Mapping[str, int] | None = None,
    levels_found: dict[str, int] | None = None,
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Tape-measure a body in the canonical pose.

    Args:
        vertices: (V, 3) float canonical-pose positions [m], z-up, feet on z = 0, facing -y.
        vertex_regions: (V,) int8 region ids (``REGION_NAMES``).
        skeleton: the ``SKELETON_POINTS``, each (3,) [m].
        topology: from ``build_tape_topology`` for this mesh.
        height_ratios: landmark height / stature, keys as in ``DEFAULT_HEIGHT_RATIOS``.
        level_hints: for ``chest``, ``underbust`` and ``hips``, the level index (of the searched
            levels) found on a nearby shape: only it and its neighbours are read. A fit's
            finite-difference probes use this; it is exact while the extremum moves by at most
            one level.
        levels_found: if given, receives the level index found for each of those three.

    Returns:
        ``(measurements, landmarks)``: measurements [m] keyed by ``MEASUREMENT_NAMES``; landmark
        points [m] (``chest``, ``underbust``, ``waist``, ``hips``, ``crotch``, ``neck``,
        ``acromion_left``, ``acromion_right``, ``thigh``, ``upper_arm``), each (3,).
    """
    missing = set(SKELETON_POINTS) - set(skeleton)
    if missing:
        raise ValueError(f"skeleton lacks points {sorted(missing)}")
    ratios = dict(DEFAULT_HEIGHT_RATIOS)
    ratios.update(height_ratios or {})
    stature = float(vertices[:, 2].max() - vertices[:, 2].min())
    floor = float(vertices[:, 2].min())
    trunk_ids = _region_ids("torso")
    is_trunk = np.isin(vertex_regions, trunk_ids)
    trunk = vertices[is_trunk]
    trunk_edges = topology.edges_by_regions[_REGION_SETS["trunk"]]
    landmarks: dict[str, np.ndarray] = {}

    # Chest: the largest horizontal girth of the trunk around the population chest height
    # (the bust / nipple level). A maximum over levels keeps the reading continuous in the shape.
    chest_z0 = floor + ratios["chest_height_ratio"] * stature
    chest_levels = chest_z0 + np.linspace(-1.0, 1.0, _LEVELS) * _BAND_HALF_WIDTH * stature
    hints = level_hints or {}
    chest_girths = _horizontal_girths(vertices, trunk_edges, chest_levels, hints.get("chest"))
    chest_index = int(np.nanargmax(chest_girths))
    chest_z = float(chest_levels[chest_index])
    band = trunk[np.abs(trunk[:, 2] - chest_z) < 0.01]
    landmarks["chest"] = band[np.argmin(band[:, 1])] if len(band) else np.array([0.0, 0.0, chest_z])

    # Underbust: the smallest trunk girth in the 12 cm below the bust level.
    underbust_levels = chest_z - np.linspace(0.02, _UNDERBUST_DEPTH_M, _LEVELS)
    underbust_girths = _horizontal_girths(vertices, trunk_edges, underbust_levels, hints.get("underbust"))
    underbust_index = int(np.nanargmin(underbust_girths))
    landmarks["underbust"] = np.array([0.0, 0.0, underbust_levels[underbust_index]])

    waist_z = floor + ratios["waist_height_ratio"] * stature
    landmarks["waist"] = np.array([0.0, 0.0, waist_z])

    # Hips: the largest girth of trunk and thighs between the gluteal furrow and the waist
    # (the buttocks' maximum protrusion), arms and hands excluded.
    hip_edges = topology.edges_by_regions[_REGION_SETS["hips"]]
    furrow_z = floor + ratios["buttock_height_ratio"] * stature
    hip_levels = np.linspace(furrow_z + 0.03, waist_z - 0.05, _LEVELS)
    hip_girths = _horizontal_girths(vertices, hip_edges, hip_levels, hints.get("hips"))
    hip_index = int(np.nanargmax(hip_girths))
    if levels_found is not None:
        levels_found.update(chest=chest_index, underbust=underbust_index, hips=hip_index)
    landmarks["hips"] = np.array([0.0, 0.0, hip_levels[hip_index]])

    # Crotch: lowest midline point of the trunk.
    midline = vertices[topology.midline_vertices]
    crotch = midline[np.argmin(midline[:, 2])] if len(midline) else np.array([0.0, 0.0, furrow_z])
    landmarks["crotch"] = crotch

    # Neck: plane perpendicular to the neck axis, halfway from the neck joint to the head joint.
    neck_axis = skeleton["head"] - skeleton["neck"]
    neck_origin = skeleton["neck"] + 0.5 * neck_axis
    landmarks["neck"] = neck_origin

    # Acromions from the top of each shoulder.
    shoulder_mask = np.isin(vertex_regions, _region_ids("torso", "arm_left", "arm_right"))
    acromion_left = _acromion(vertices, shoulder_mask, skeleton["shoulder_left"], +1.0)
    acromion_right = _acromion(vertices, shoulder_mask, skeleton["shoulder_right"], -1.0)
    landmarks["acromion_left"] = acromion_left
    landmarks["acromion_right"] = acromion_right

    # ANSUR's thigh girth is at the gluteal furrow, just below the crotch.
    thigh_z = min(furrow_z, float(crotch[2]) - 0.01)
    landmarks["thigh"] = np.array([skeleton["hip_left"][0], skeleton["hip_left"][1], thigh_z])
    arm_axis = skeleton["elbow_left"] - skeleton["shoulder_left"]
    arm_origin = skeleton["shoulder_left"] + 0.5 * arm_axis
    landmarks["upper_arm"] = arm_origin

    measurements = {
        "stature": stature,
        "chest": float(chest_girths[chest_index]),
        "underbust": float(underbust_girths[underbust_index]),
        "waist": float(_horizontal_girths(vertices, trunk_edges, np.array([waist_z]))[0]),
        "hips": float(hip_girths[hip_index]),
        "neck": _neck_girth(vertices, topology, neck_origin, neck_axis),
        "shoulder_breadth": float(np.linalg.norm((acromion_left - acromion_right)[:2])),
        "sleeve_outseam": float(
            np.linalg.norm(skeleton["elbow_left"] - acromion_left)
            + np.linalg.norm(skeleton["wrist_left"] - skeleton["elbow_left"])
        ),
        "inseam": float(crotch[2] - floor),
        "thigh": float(_horizontal_girths(vertices, topology.edges_by_regions[_REGION_SETS["thigh"]], np.array([thigh_z]))[0]),
        "upper_arm": _girth_at(vertices, topology.edges_by_regions[_REGION_SETS["upper_arm"]], arm_origin, arm_axis),
    }
    return measurements, landmarks


def mesh_volume(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Enclosed volume [m^3] of closed triangle meshes by the divergence theorem.

    Args:
        vertices: (V, 3) or (B, V, 3) positions [m].
        faces: (F, 3) triangles.

    Returns:
        Volume, shape () or (B,), positive for outward-facing triangles.
    """
    v0, v1, v2 = vertices[..., faces[:, 0], :], vertices[..., faces[:, 1], :], vertices[..., faces[:, 2], :]
    return np.abs(np.einsum("...fi,...fi->...", np.cross(v0, v1), v2) / 6.0)
