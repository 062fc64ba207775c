"""Gates for garments read from files: torn (open edges that should be seams), not on the body
(not round the torso or hips it claims), wrong scale. Each failure is one line saying what to fix.

Pattern garments from our families never trip them; they guard imports, whose geometry we did
not make (a mesh that tears along UV seams left open, a file in the wrong units, a garment
placed beside the body rather than on it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body
    from tryon3d.garments import Garment

__all__ = ["import_gate_failures"]

_TORN_M = 0.003  # open edges closer than this to another open edge should have been sewn
_COVER_BINS = 36
_COVER_MIN = 0.75  # share of directions round the body the garment must cover at its level
_SLAB_M = 0.03
_GIRTH_MAX = 2.2  # a garment girth more than this times the body's: wrong scale
_HEIGHT_MAX = 1.1  # a garment taller than this times the body: wrong scale


def _boundary_vertices(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boundary edges (E, 2) of a welded mesh and their vertices."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    key = np.sort(edges, axis=1)
    unique, counts = np.unique(key, axis=0, return_counts=True)
    boundary = unique[counts == 1]
    return boundary, np.unique(boundary)


def _torn(rest: np.ndarray, faces: np.ndarray) -> str | None:
    """Open edges lying against another open edge in the file's geometry: a seam left open."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree

    boundary, verts = _boundary_vertices(faces)
    if len(verts) < 2:
        return None
    pairs = cKDTree(rest[verts]).query_pairs(_TORN_M, output_type="ndarray")
    if not len(pairs):
        return None
    # neighbours along the same open edge are close by construction: count only pairs that
    # are more than 3 boundary steps apart
    index = {int(v): i for i, v in enumerate(verts)}
    a = np.array([index[int(v)] for v in boundary[:, 0]])
    b = np.array([index[int(v)] for v in boundary[:, 1]])
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(verts), len(verts)))
    sources = np.unique(pairs[:, 0])
    steps = dijkstra(graph, directed=False, unweighted=True, indices=sources, limit=4)
    row = {int(s): i for i, s in enumerate(sources)}
    far = [p for p in pairs if not np.isfinite(steps[row[int(p[0])], p[1]])]
    if not far:
        return None
    touching = len(np.unique(np.asarray(far)))
    return (
        f"torn: {touching} vertices on open edges lie within {_TORN_M * 1000:.0f} mm of another "
        "open "
        f"edge (seams left open in the file: weld or sew them)"
    )


def _level(body: Body, name: str) -> float | None:
    mark = body.landmarks_m.get(name)
    return None if mark is None else float(mark[2])


def _claimed_level(garment: Garment) -> tuple[str, float] | None:
    kind = garment.metadata.kind
    pattern = garment.metadata.pattern
    if kind is None and pattern is not None:
        parts = {p.placement.part for p in pattern.panels if p.placement is not None}
        kind = "top" if "torso" in parts else "bottom" if parts else None
    if kind in ("top", "dress"):
        return "chest", 0.0
    if kind == "bottom":
        return "hips", 0.0
    return None


def import_gate_failures(
    body: Body, garment: Garment, rest_pose_positions: np.ndarray
) -> tuple[str, ...]:
    """One line per failed import gate of a draped garment read from a file (empty for our own
    families, which carry no ``metadata["source"]``).

    Args:
        body: the Body (``rest_vertices``, ``landmarks_m``, ``measurements_m``).
        garment: the Garment (``metadata["source"]`` marks a file; ``kind`` or the pattern's
            placements say what it claims to cover).
        rest_pose_positions: the drape on the canonical pose [m], shape (N, 3).
    """
    if not garment.metadata.source:
        return ()
    from tryon3d.sim._start_shape import merge_seams

    failures = []
    particle_of_vertex, _ = merge_seams(garment.vertex_count, garment.seam_pairs)
    welded = particle_of_vertex[np.asarray(garment.faces)]
    if garment.metadata.format == "mesh":
        rest = np.asarray(_rest_positions(garment), dtype=np.float64)
        points = np.zeros((particle_of_vertex.max() + 1, 3))
        points[particle_of_vertex] = rest
        torn = _torn(points, welded)
        if torn:
            failures.append(torn)
    positions = np.asarray(rest_pose_positions, dtype=np.float64)
    body_vertices = np.asarray(body.rest_vertices)
    stature = float(np.ptp(body_vertices[:, 2]))
    height = float(np.ptp(positions[:, 2]))
    if height > _HEIGHT_MAX * stature:
        failures.append(
            f"wrong scale: the garment is {height:.2f} m tall on a {stature:.2f} m body "
            f"(wrong units? pass units=)"
        )
    claim = _claimed_level(garment)
    if claim is None:
        return tuple(failures)
    region, _ = claim
    z = _level(body, region)
    if z is None:
        return tuple(failures)
    if region == "chest":
        # as the ease tape: a top is judged under its armholes (a sleeveless top's deep armholes
        # leave the sides open at the bust line, though it is worn round the chest)
        from tryon3d.sim._fit import chest_tape_height

        z = min(z, chest_tape_height(body, garment, positions, particle_of_vertex, welded))
    near_body = np.abs(body_vertices[:, 2] - z) < _SLAB_M
    trunk = near_body & body.region_mask(
        "torso", "leg_left", "leg_right"
    )  # not the hands beside it
    center = body_vertices[trunk if trunk.any() else near_body, :2].mean(axis=0)
    slab = positions[np.abs(positions[:, 2] - z) < _SLAB_M, :2] - center
    words = "chest" if region == "chest" else "hips"
    if len(slab) < 3:
        failures.append(
            f"not on the body: nothing of it at the {words} ({z:.2f} m), which it should cover"
        )
        return tuple(failures)
    angle = np.arctan2(slab[:, 1], slab[:, 0])
    bins = np.unique(((angle + np.pi) / (2 * np.pi) * _COVER_BINS).astype(int) % _COVER_BINS)
    cover = len(bins) / _COVER_BINS
    if cover < _COVER_MIN:
        failures.append(
            f"not on the body: it goes {cover:.0%} of the way round the {words}, not around it"
        )
    from scipy.spatial import ConvexHull

    girth = float(body.measurements_m.get(region, 0.0))
    try:
        ring = slab[ConvexHull(slab).vertices]
        garment_girth = float(np.linalg.norm(ring - np.roll(ring, -1, axis=0), axis=1).sum())
    except Exception:  # a degenerate slice (all on a line): the coverage gate speaks for it
        garment_girth = 0.0
    if girth > 0 and garment_girth > _GIRTH_MAX * girth:
        failures.append(
            f"wrong scale: its girth at the {words} is {garment_girth / girth:.1f} times the "
            f"body's (wrong units or another avatar's size?)"
        )
    return tuple(failures)


def _rest_positions(garment: Garment) -> np.ndarray:
    """A mesh import's rest shape (its file geometry) [m], else the placed positions, (N, 3)."""
    rest = garment.metadata.rest_positions
    return garment.positions if rest is None else rest
