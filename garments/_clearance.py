"""How cloth meets the body's rest surface: signed distances, crossing edges and the pass
that leaves a placed garment clear of the skin.

All functions take a ``bodyfit.Body`` (its ``rest_vertices`` and ``faces``) and points in
metres; distances are positive outside the body.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from tryon3d.garments._bodycache import body_cached

__all__ = ["body_intersections", "body_signed_distance"]

#: Trouser-leg vertices keep at least this far [m] on their own side of the plane x = 0.
_MIDLINE_GAP_M = 0.004


def _vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = vertices[faces]
    face_normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(normals, faces[:, k], face_normals)
    return normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)


def _keep_midline(positions: np.ndarray, midline: np.ndarray) -> None:
    """Trouser-leg vertices (``midline`` = +-1) back onto their side of x = 0, in place."""
    legs = midline != 0
    positions[legs, 0] = midline[legs] * np.maximum(positions[legs, 0] * midline[legs], _MIDLINE_GAP_M)


class _Surface:
    """A body's rest triangles with their unit normals and a centroid tree, built once per pass."""

    def __init__(self, body: object) -> None:
        vertices = np.asarray(body.rest_vertices, dtype=float)  # type: ignore[attr-defined]
        self.triangles = vertices[np.asarray(body.faces)]  # type: ignore[attr-defined]
        normals = np.cross(self.triangles[:, 1] - self.triangles[:, 0], self.triangles[:, 2] - self.triangles[:, 0])
        self.normals = normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-18)
        centroids = self.triangles.mean(axis=1)
        self.tree = cKDTree(centroids)
        radius = np.linalg.norm(self.triangles - centroids[:, None], axis=2).max(axis=1)
        # segment queries: small triangles (within ``reach`` of their centroid) and the few
        # large ones in trees of their own, so one large triangle does not widen every search
        self.reach = float(np.percentile(radius, 95))
        small = radius <= self.reach
        self.groups = [(np.flatnonzero(sel), cKDTree(centroids[sel]), float(radius[sel].max()))
                       for sel in (small, ~small) if sel.any()]

    def query(self, points: np.ndarray, candidates: int = 16) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Signed distance [m] (N,), closest surface point (N, 3) and the closest triangle's
        index (N,) for each point.

        Exact distance to the nearest of ``candidates`` triangles (nearest by centroid); the
        sign is the closest triangle's normal side, and "inside" is confirmed by ray parity
        (a closest point on a crease can carry the wrong normal).
        """
        k = min(candidates, len(self.triangles))
        _, cand = self.tree.query(points, k=k)
        cand = cand.reshape(len(points), k)
        best = np.full(len(points), np.inf)
        closest = np.zeros_like(points)
        nearest = np.zeros(len(points), dtype=np.int64)
        for j in range(k):
            c = _closest_on_triangles(points, self.triangles[cand[:, j]])
            dist = np.linalg.norm(points - c, axis=1)
            better = dist < best - 1e-12
            best[better], closest[better], nearest[better] = dist[better], c[better], cand[better, j]
        side = ((points - closest) * self.normals[nearest]).sum(axis=1)
        sign = np.where(side < 0, -1.0, 1.0)
        direction = np.array([0.0131, 0.0217, 1.0]) / np.linalg.norm([0.0131, 0.0217, 1.0])
        for i in np.flatnonzero(sign < 0):
            start = np.broadcast_to(points[i], (len(self.triangles), 3))
            if _segment_triangle_hits(start, start + 4.0 * direction, self.triangles).sum() % 2 == 0:
                sign[i] = 1.0
        return sign * best, closest, nearest

    def edge_hits(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For segments a[k] -> b[k] (K, 3): the parameter along the segment of its first
        crossing with the body (inf: none), shape (K,), and the crossed triangle (-1: none).

        Every triangle that can reach the segment is tested, however long the segment.
        """
        t_hit = np.full(len(a), np.inf)
        tri_hit = np.full(len(a), -1, dtype=np.int64)
        if not len(a):
            return t_hit, tri_hit
        half = 0.5 * np.linalg.norm(b - a, axis=1)
        seg_parts, tri_parts = [], []
        for ids, tree, reach in self.groups:
            lists = tree.query_ball_point(0.5 * (a + b), half + reach)
            counts = np.array([len(x) for x in lists])
            seg_parts.append(np.repeat(np.arange(len(a)), counts))
            tri_parts.append(ids[np.concatenate([np.asarray(x, dtype=np.int64) for x in lists])] if counts.sum()
                             else np.zeros(0, dtype=np.int64))
        seg, tri = np.concatenate(seg_parts), np.concatenate(tri_parts)
        t = _segment_triangle_t(a[seg], b[seg], self.triangles[tri])
        hit = np.isfinite(t)
        order = np.lexsort((t[hit], seg[hit]))
        seg_h, t_h, tri_h = seg[hit][order], t[hit][order], tri[hit][order]
        first = np.concatenate([[True], seg_h[1:] != seg_h[:-1]]) if len(seg_h) else np.zeros(0, dtype=bool)
        t_hit[seg_h[first]], tri_hit[seg_h[first]] = t_h[first], tri_h[first]
        return t_hit, tri_hit


def _surface(body: object) -> _Surface:
    """The body's ``_Surface``, built once per body (read-only once built)."""
    return body_cached(body, "surface", lambda: _Surface(body))


def _segment_triangle_t(p0: np.ndarray, p1: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Moller-Trumbore: where along segment k (p0[k] -> p1[k], parameter 0..1) it crosses
    triangle k (tri[k], (3, 3)); inf where it does not. Shape (K,)."""
    d = p1 - p0
    e1 = tri[:, 1] - tri[:, 0]
    e2 = tri[:, 2] - tri[:, 0]
    h = np.cross(d, e2)
    a = (e1 * h).sum(1)
    ok = np.abs(a) > 1e-14
    f = np.where(ok, 1.0 / np.where(ok, a, 1.0), 0.0)
    s = p0 - tri[:, 0]
    u = f * (s * h).sum(1)
    q = np.cross(s, e1)
    v = f * (d * q).sum(1)
    t = f * (e2 * q).sum(1)
    hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t >= 0) & (t <= 1)
    return np.where(hit, t, np.inf)


def _segment_triangle_hits(p0: np.ndarray, p1: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Does segment k (p0[k] -> p1[k]) cross triangle k (tri[k], (3, 3))? (K,) bool."""
    return np.isfinite(_segment_triangle_t(p0, p1, tri))


def _closest_on_triangles(p: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Closest point to p[k] on triangle tri[k] (Ericson's region test), shape (K, 3)."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    ab, ac, ap = b - a, c - a, p - a
    d1, d2 = (ab * ap).sum(1), (ac * ap).sum(1)
    bp = p - b
    d3, d4 = (ab * bp).sum(1), (ac * bp).sum(1)
    cp = p - c
    d5, d6 = (ab * cp).sum(1), (ac * cp).sum(1)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2
    denom = np.where(np.abs(va + vb + vc) > 1e-30, va + vb + vc, 1e-30)
    v, w = vb / denom, vc / denom
    out = a + v[:, None] * ab + w[:, None] * ac
    safe = lambda x: np.where(np.abs(x) > 1e-30, x, 1e-30)  # noqa: E731
    # edge regions
    m = (vc <= 0) & (d1 >= 0) & (d3 <= 0)
    out[m] = (a + (d1 / safe(d1 - d3))[:, None] * ab)[m]
    m = (vb <= 0) & (d2 >= 0) & (d6 <= 0)
    out[m] = (a + (d2 / safe(d2 - d6))[:, None] * ac)[m]
    m = (va <= 0) & ((d4 - d3) >= 0) & ((d5 - d6) >= 0)
    out[m] = (b + ((d4 - d3) / safe((d4 - d3) + (d5 - d6)))[:, None] * (c - b))[m]
    # vertex regions
    out[(d1 <= 0) & (d2 <= 0)] = a[(d1 <= 0) & (d2 <= 0)]
    out[(d3 >= 0) & (d4 <= d3)] = b[(d3 >= 0) & (d4 <= d3)]
    out[(d6 >= 0) & (d5 <= d6)] = c[(d6 >= 0) & (d5 <= d6)]
    return out


def _mesh_edges(faces: np.ndarray) -> np.ndarray:
    """Unique undirected edges (E, 2) of a triangle mesh."""
    faces = np.asarray(faces)
    return np.unique(np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1), axis=0)


def body_signed_distance(points: np.ndarray, body: object, *, candidates: int = 16) -> np.ndarray:
    """Signed distance [m] from each point (N, 3) to the body's rest surface, shape (N,), < 0 inside.

    Exact distance to the nearest of ``candidates`` triangles (nearest by centroid); the sign
    is that of the closest triangle's outward normal, confirmed by ray parity where negative.
    """
    return _surface(body).query(np.asarray(points, dtype=float), candidates)[0]


def body_intersections(positions: np.ndarray, faces: np.ndarray, body: object) -> dict[str, float]:
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
    surface = _surface(body)
    distance = surface.query(positions)[0]
    edges = _mesh_edges(faces)
    a, b = positions[edges[:, 0]], positions[edges[:, 1]]
    near = np.minimum(distance[edges[:, 0]], distance[edges[:, 1]]) < np.linalg.norm(b - a, axis=1) / 2 + 0.01
    t_hit, _ = surface.edge_hits(a[near], b[near])
    return {
        "edges_crossing": int(np.isfinite(t_hit).sum()),
        "vertices_inside": int((distance < 0).sum()),
        "min_distance_m": float(distance.min()),
    }


def _push_out(positions: np.ndarray, body: object, clearance: float, midline: np.ndarray,
              iterations: int = 4) -> np.ndarray:
    """Move vertices nearer than ``clearance`` out along the body's vertex normals (a quick
    pass for meshes without a pattern); trouser-leg vertices (``midline`` = +-1) stay on their
    side of the plane x = 0."""
    vertices = np.asarray(body.rest_vertices)  # type: ignore[attr-defined]
    normals = _vertex_normals(vertices, np.asarray(body.faces))  # type: ignore[attr-defined]
    tree = cKDTree(vertices)
    positions = positions.copy()
    for _ in range(iterations):
        _, nearest = tree.query(positions)
        d = ((positions - vertices[nearest]) * normals[nearest]).sum(axis=1)
        low = d < 0.6 * clearance
        if not low.any():
            break
        positions[low] += (clearance - d[low])[:, None] * normals[nearest[low]]
        _keep_midline(positions, midline)
    return positions


def _free_distance(surface: _Surface, origins: np.ndarray, directions: np.ndarray, reach: float) -> np.ndarray:
    """Distance [m] from each origin along its unit direction to the next body surface
    (``reach`` where there is none closer), shape (N,)."""
    start = origins + 1e-3 * directions  # past the origin's own triangle
    t, _ = surface.edge_hits(start, start + reach * directions)
    return np.where(np.isfinite(t), t * reach + 1e-3, reach + 1e-3)


def _settle(positions: np.ndarray, faces: np.ndarray, body: object, clearance: float, midline: np.ndarray,
            *, rounds: int = 12) -> np.ndarray:
    """Clear a placed garment of the skin: vertices nearer than half the ``clearance`` [m],
    and both ends of edges that pass through the body, move out to ``clearance`` from their
    closest skin point (to the middle where a crevice is narrower than twice that: between an
    arm and the trunk, between the thighs); their neighbours follow with a falloff over two
    rings, so a patch moves rather than a spike. Trouser-leg vertices (``midline`` = +-1) stay
    on their side of x = 0.

    Returns:
        New positions [m], shape (N, 3).
    """
    surface = _surface(body)
    positions = np.array(positions, dtype=float)
    edges = _mesh_edges(faces)
    n = len(positions)
    adjacency = sparse.coo_matrix((np.ones(2 * len(edges)), (np.r_[edges[:, 0], edges[:, 1]],
                                                              np.r_[edges[:, 1], edges[:, 0]])), shape=(n, n)).tocsr()
    for _ in range(rounds):
        distance, closest, nearest = surface.query(positions)
        a, b = positions[edges[:, 0]], positions[edges[:, 1]]
        # an edge through the skin has an end within half its length of it
        near = np.flatnonzero(np.minimum(distance[edges[:, 0]], distance[edges[:, 1]])
                              <= np.linalg.norm(b - a, axis=1) / 2)
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
        outward[ok] = offset[ok] / length[ok, None] * np.where(distance[ids][ok] < 0, -1.0, 1.0)[:, None]
        room = _free_distance(surface, closest[ids], outward, 2.0 * clearance)
        move[ids] = closest[ids] + np.minimum(clearance, 0.5 * room)[:, None] * outward - positions[ids]
        # an edge through the skin: both ends to the outer side of the first triangle it crosses
        for end in (0, 1):
            ends = edges[crossing, end]
            normal = surface.normals[crossed]
            height = ((positions[ends] - surface.triangles[crossed, 0]) * normal).sum(axis=1)
            step = np.maximum(clearance - height, 0.0)[:, None] * normal
            bigger = (step ** 2).sum(axis=1) > (move[ends] ** 2).sum(axis=1)
            move[ends[bigger]] = step[bigger]
            low[ends] = True
        # neighbours follow: half the mean move of their moved neighbours, a quarter one ring further
        reached = low.astype(float)
        spread = move
        for _ in range(2):
            weight = adjacency @ reached
            fresh = (reached == 0) & (weight > 0)
            spread[fresh] = 0.5 * (adjacency @ (reached[:, None] * spread))[fresh] / weight[fresh, None]
            reached[fresh] = 1.0
        positions += spread
        _keep_midline(positions, midline)
    return positions
