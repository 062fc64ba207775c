"""Signed distance to a closed triangle mesh in numpy: closest points, segment crossings.

The Warp version for many points on a device is ``tryon3d.sim``'s; this one needs no device and
serves the garment stage's clearance passes. Distances are positive outside.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "TriangleSurface",
    "closest_on_triangles",
    "segment_triangle_hits",
    "segment_triangle_t",
    "signed_distance",
]


def signed_distance(
    points: np.ndarray, vertices: np.ndarray, faces: np.ndarray, *, candidates: int = 16
) -> np.ndarray:
    """Signed distance [m] from points (N, 3) to a closed mesh (vertices (V, 3) [m], faces
    (F, 3) counter-clockwise seen from outside), shape (N,), float64, negative inside.

    Exact distance to the nearest of ``candidates`` triangles (nearest by centroid); the sign
    is that of the closest triangle's outward normal, confirmed by ray parity where negative.
    Build a ``TriangleSurface`` once to query the same mesh many times.
    """
    return TriangleSurface(vertices, faces).query(np.asarray(points, dtype=float), candidates)[0]


class TriangleSurface:
    """A closed triangle mesh's triangles, unit face normals and centroid trees, built once
    for many queries (scipy k-d trees; numpy otherwise).

    Args:
        vertices: positions [m], shape (V, 3), float.
        faces: triangles, shape (F, 3), int, counter-clockwise seen from outside.

    Attributes:
        triangles: corners [m], shape (F, 3, 3), float64; normals: unit outward face normals,
            shape (F, 3), float64.
    """

    def __init__(self, vertices: np.ndarray, faces: np.ndarray) -> None:
        from scipy.spatial import cKDTree

        vertices = np.asarray(vertices, dtype=float)
        self.triangles = vertices[np.asarray(faces)]
        normals = np.cross(
            self.triangles[:, 1] - self.triangles[:, 0], self.triangles[:, 2] - self.triangles[:, 0]
        )
        self.normals = normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-18)
        centroids = self.triangles.mean(axis=1)
        self.tree = cKDTree(centroids)
        radius = np.linalg.norm(self.triangles - centroids[:, None], axis=2).max(axis=1)
        # segment queries: small triangles (within ``reach`` of their centroid) and the few
        # large ones in trees of their own, so one large triangle does not widen every search
        self.reach = float(np.percentile(radius, 95))
        small = radius <= self.reach
        self.groups = [
            (np.flatnonzero(sel), cKDTree(centroids[sel]), float(radius[sel].max()))
            for sel in (small, ~small)
            if sel.any()
        ]

    def query(
        self, points: np.ndarray, candidates: int = 16
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
            c = closest_on_triangles(points, self.triangles[cand[:, j]])
            dist = np.linalg.norm(points - c, axis=1)
            better = dist < best - 1e-12
            best[better], closest[better], nearest[better] = (
                dist[better],
                c[better],
                cand[better, j],
            )
        side = ((points - closest) * self.normals[nearest]).sum(axis=1)
        sign = np.where(side < 0, -1.0, 1.0)
        direction = np.array([0.0131, 0.0217, 1.0]) / np.linalg.norm([0.0131, 0.0217, 1.0])
        for i in np.flatnonzero(sign < 0):
            start = np.broadcast_to(points[i], (len(self.triangles), 3))
            if segment_triangle_hits(start, start + 4.0 * direction, self.triangles).sum() % 2 == 0:
                sign[i] = 1.0
        return sign * best, closest, nearest

    def edge_hits(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For segments a[k] -> b[k] (K, 3): the parameter along the segment of its first
        crossing with the surface (inf: none), shape (K,), and the crossed triangle (-1: none).

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
            tri_parts.append(
                ids[np.concatenate([np.asarray(x, dtype=np.int64) for x in lists])]
                if counts.sum()
                else np.zeros(0, dtype=np.int64)
            )
        seg, tri = np.concatenate(seg_parts), np.concatenate(tri_parts)
        t = segment_triangle_t(a[seg], b[seg], self.triangles[tri])
        hit = np.isfinite(t)
        order = np.lexsort((t[hit], seg[hit]))
        seg_h, t_h, tri_h = seg[hit][order], t[hit][order], tri[hit][order]
        first = (
            np.concatenate([[True], seg_h[1:] != seg_h[:-1]])
            if len(seg_h)
            else np.zeros(0, dtype=bool)
        )
        t_hit[seg_h[first]], tri_hit[seg_h[first]] = t_h[first], tri_h[first]
        return t_hit, tri_hit


def segment_triangle_t(p0: np.ndarray, p1: np.ndarray, tri: np.ndarray) -> np.ndarray:
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


def segment_triangle_hits(p0: np.ndarray, p1: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Does segment k (p0[k] -> p1[k]) cross triangle k (tri[k], (3, 3))? (K,) bool."""
    return np.isfinite(segment_triangle_t(p0, p1, tri))


def closest_on_triangles(p: np.ndarray, tri: np.ndarray) -> np.ndarray:
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
