"""How cloth meets the body's rest surface: signed distances, crossing edges and the pass
that leaves a placed garment clear of the skin.

All functions take a ``bodyfit.Body`` (its ``rest_vertices`` and ``faces``) and points in
metres; distances are positive outside the body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from tryon3d.core import TriangleSurface, push_out, signed_distance, vertex_normals
from tryon3d.garments._bodycache import body_cached

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body

__all__ = ["body_intersections", "body_signed_distance"]

#: Trouser-leg vertices keep at least this far [m] on their own side of the plane x = 0.
_MIDLINE_GAP_M = 0.004


def _keep_midline(positions: np.ndarray, midline: np.ndarray) -> None:
    """Trouser-leg vertices (``midline`` = +-1) back onto their side of x = 0, in place."""
    legs = midline != 0
    positions[legs, 0] = midline[legs] * np.maximum(
        positions[legs, 0] * midline[legs], _MIDLINE_GAP_M
    )


def _body_surface(body: Body) -> TriangleSurface:
    """A body's rest surface for distance and crossing queries, built once per body."""
    return body_cached(
        body,
        "surface",
        lambda: TriangleSurface(body.rest_vertices, body.faces),
    )


def _mesh_edges(faces: np.ndarray) -> np.ndarray:
    """Unique undirected edges (E, 2) of a triangle mesh."""
    faces = np.asarray(faces)
    return np.unique(
        np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1),
        axis=0,
    )


def body_signed_distance(points: np.ndarray, body: Body, *, candidates: int = 16) -> np.ndarray:
    """Signed distance [m] from points (N, 3) to the body's rest surface, shape (N,), < 0 inside.

    Exact distance to the nearest of ``candidates`` triangles (nearest by centroid); the sign
    is that of the closest triangle's outward normal, confirmed by ray parity where negative.
    """
    vertices, faces = body.rest_vertices, body.faces
    return signed_distance(points, vertices, faces, candidates=candidates)


def body_intersections(positions: np.ndarray, faces: np.ndarray, body: Body) -> dict[str, float]:
    """How a garment mesh meets the body's rest surface.

    Args:
        positions: garment vertices [m], shape (N, 3).
        faces: garment triangles, shape (F, 3).
        body: a ``bodyfit.Body``.

    Returns:
        ``{"edges_crossing": garment edges passing through a body triangle,
        "vertices_inside": garment vertices inside the body,
        "min_distance_m": smallest signed distance of a garment vertex to the skin [m]}``.
    """
    positions = np.asarray(positions, dtype=float)
    surface = _body_surface(body)
    distance = surface.query(positions)[0]
    edges = _mesh_edges(faces)
    a, b = positions[edges[:, 0]], positions[edges[:, 1]]
    near = (
        np.minimum(distance[edges[:, 0]], distance[edges[:, 1]])
        < np.linalg.norm(b - a, axis=1) / 2 + 0.01
    )
    t_hit, _ = surface.edge_hits(a[near], b[near])
    return {
        "edges_crossing": int(np.isfinite(t_hit).sum()),
        "vertices_inside": int((distance < 0).sum()),
        "min_distance_m": float(distance.min()),
    }


def _push_out(
    positions: np.ndarray, body: Body, clearance: float, midline: np.ndarray, iterations: int = 4
) -> np.ndarray:
    """Move vertices nearer than ``clearance`` out along the body's vertex normals (a quick
    pass for meshes without a pattern); trouser-leg vertices (``midline`` = +-1) stay on their
    side of the plane x = 0."""
    vertices = np.asarray(body.rest_vertices)
    normals = vertex_normals(vertices, np.asarray(body.faces))
    tree = cKDTree(vertices)

    def distance(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # height over the nearest body vertex's tangent plane: quick, and enough for a clearance
        _, nearest = tree.query(points)
        return ((points - vertices[nearest]) * normals[nearest]).sum(axis=1), normals[nearest]

    return push_out(
        positions,
        distance,
        clearance=clearance,
        trigger=0.6 * clearance,
        passes=iterations,
        after_pass=lambda points: _keep_midline(points, midline),
    )


def _free_distance(
    surface: TriangleSurface, origins: np.ndarray, directions: np.ndarray, reach: float
) -> np.ndarray:
    """Distance [m] from each origin along its unit direction to the next body surface
    (``reach`` where there is none closer), shape (N,)."""
    start = origins + 1e-3 * directions  # past the origin's own triangle
    t, _ = surface.edge_hits(start, start + reach * directions)
    return np.where(np.isfinite(t), t * reach + 1e-3, reach + 1e-3)


def _settle(
    positions: np.ndarray,
    faces: np.ndarray,
    body: Body,
    clearance: float,
    midline: np.ndarray,
    *,
    rounds: int = 12,
) -> np.ndarray:
    """Clear a placed garment of the skin: vertices nearer than half the ``clearance`` [m],
    and both ends of edges that pass through the body, move out to ``clearance`` from their
    closest skin point (to the middle where a crevice is narrower than twice that: between an
    arm and the trunk, between the thighs); their neighbours follow with a falloff over two
    rings, so a patch moves rather than a spike. Trouser-leg vertices (``midline`` = +-1) stay
    on their side of x = 0.

    Returns:
        New positions [m], shape (N, 3).
    """
    surface = _body_surface(body)
    positions = np.array(positions, dtype=float)
    edges = _mesh_edges(faces)
    n = len(positions)
    adjacency = sparse.coo_matrix(
        (
            np.ones(2 * len(edges)),
            (np.r_[edges[:, 0], edges[:, 1]], np.r_[edges[:, 1], edges[:, 0]]),
        ),
        shape=(n, n),
    ).tocsr()
    for _ in range(rounds):
        distance, closest, nearest = surface.query(positions)
        a, b = positions[edges[:, 0]], positions[edges[:, 1]]
        # an edge through the skin has an end within half its length of it
        near = np.flatnonzero(
            np.minimum(distance[edges[:, 0]], distance[edges[:, 1]])
            <= np.linalg.norm(b - a, axis=1) / 2
        )
        _, crossed = surface.edge_hits(a[near], b[near])
        crossing, crossed = near[crossed >= 0], crossed[crossed >= 0]
        low = distance < 0.5 * clearance
        if not low.any() and not len(crossing):
            break
        move = np.zeros_like(positions)
        ids = np.flatnonzero(low)
        offset = positions[ids] - closest[ids]
        length = np.linalg.norm(offset, axis=1)
        # outward: away from the closest skin point (towards and through it when inside)
        outward = surface.normals[nearest[ids]].copy()
        ok = length > 1e-6
        outward[ok] = (
            offset[ok] / length[ok, None] * np.where(distance[ids][ok] < 0, -1.0, 1.0)[:, None]
        )
        room = _free_distance(surface, closest[ids], outward, 2.0 * clearance)
        move[ids] = (
            closest[ids] + np.minimum(clearance, 0.5 * room)[:, None] * outward - positions[ids]
        )
        # an edge through the skin: both ends to the outer side of the first triangle it crosses
        for end in (0, 1):
            ends = edges[crossing, end]
            normal = surface.normals[crossed]
            height = ((positions[ends] - surface.triangles[crossed, 0]) * normal).sum(axis=1)
            step = np.maximum(clearance - height, 0.0)[:, None] * normal
            bigger = (step**2).sum(axis=1) > (move[ends] ** 2).sum(axis=1)
            move[ends[bigger]] = step[bigger]
            low[ends] = True
        # neighbours follow: half the mean move of their moved neighbours, a quarter one ring
        # further
        reached = low.astype(float)
        spread = move
        for _ in range(2):
            weight = adjacency @ reached
            fresh = (reached == 0) & (weight > 0)
            spread[fresh] = (
                0.5 * (adjacency @ (reached[:, None] * spread))[fresh] / weight[fresh, None]
            )
            reached[fresh] = 1.0
        positions += spread
        _keep_midline(positions, midline)
    return positions
