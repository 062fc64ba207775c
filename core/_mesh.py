"""Triangle-mesh kernels shared by the stages: normals, plane sections, tape girths, push-out.

Units are whatever the caller's positions are in (metres throughout tryon3d).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "edge_plane_crossings",
    "hull_perimeter",
    "plane_basis",
    "push_out",
    "tape_girth",
    "triangle_plane_crossings",
    "vertex_normals",
]


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals.

    Args:
        vertices: positions, shape (V, 3), float.
        faces: triangles, shape (F, 3), int, counter-clockwise seen from the side the normals
            should point to.

    Returns:
        Unit normals, shape (V, 3), float64; zero for vertices in no triangle of non-zero area.
    """
    v = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces)
    face_normals = np.cross(v[faces[:, 1]] - v[faces[:, 0]], v[faces[:, 2]] - v[faces[:, 0]])
    normals = np.zeros_like(v)
    for corner in range(3):
        np.add.at(normals, faces[:, corner], face_normals)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return np.where(length > 1e-20, normals / np.maximum(length, 1e-20), 0.0)


def edge_plane_crossings(
    vertices: np.ndarray, edges: np.ndarray, heights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where mesh edges cross a plane, given each vertex's signed height over it.

    An edge crosses when its ends lie strictly on opposite sides (``h0 * h1 < 0``): a vertex
    exactly on the plane crosses nothing (nudge ``heights`` off zero to count it).

    Args:
        vertices: positions, shape (V, 3).
        edges: vertex index pairs, shape (E, 2), int.
        heights: signed distance of each vertex to the plane, shape (V,) (any consistent scale).

    Returns:
        crossing: which edges cross, shape (E,), bool; points: the crossing points, shape
        (K, 3), K = crossing.sum(), in edge order.
    """
    h0, h1 = heights[edges[:, 0]], heights[edges[:, 1]]
    crossing = (h0 * h1) < 0.0
    h0, h1 = h0[crossing], h1[crossing]
    p0, p1 = vertices[edges[crossing, 0]], vertices[edges[crossing, 1]]
    t = (h0 / (h0 - h1))[:, None]
    return crossing, p0 + t * (p1 - p0)


def triangle_plane_crossings(
    corners: np.ndarray, heights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where the edges of triangles cross a plane: a triangle cut by it has two crossing edges.

    An edge crosses when its ends lie on opposite sides, a corner on the plane counting as
    below (``(h_a > 0) != (h_b > 0)``); the corners may be in any space (3D positions, 2D
    pattern coordinates), interpolated by the heights.

    Args:
        corners: triangle corners, shape (K, 3, D), edges (0, 1), (1, 2), (2, 0).
        heights: each corner's signed height over the plane, shape (K, 3).

    Returns:
        ends: the crossing point on each edge, shape (K, 3, D) (the edge's first corner where
        it does not cross); crossing: shape (K, 3), bool.
    """
    ends, crossing = [], []
    for a, b in ((0, 1), (1, 2), (2, 0)):
        ha, hb = heights[:, a], heights[:, b]
        crosses = (ha > 0.0) != (hb > 0.0)
        t = np.where(crosses, ha / np.where(crosses, ha - hb, 1.0), 0.0)[:, None]
        ends.append(corners[:, a] + t * (corners[:, b] - corners[:, a]))
        crossing.append(crosses)
    return np.stack(ends, axis=1), np.stack(crossing, axis=1)


def plane_basis(normal: np.ndarray) -> np.ndarray:
    """Two orthonormal in-plane directions (u, v) of the plane with unit ``normal`` (3,),
    shape (2, 3), right-handed: u x v = normal."""
    helper = np.array([1.0, 0.0, 0.0]) if abs(normal[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = np.cross(normal, helper)
    u /= np.linalg.norm(u)
    return np.stack([u, np.cross(normal, u)])


def hull_perimeter(points_2d: np.ndarray) -> float:
    """Perimeter of the convex hull of 2D points (M, 2): a tape pulled round them.

    Returns:
        The perimeter (units of the points); NaN for fewer than 3 points or a degenerate
        (collinear) set.
    """
    from scipy.spatial import ConvexHull, QhullError

    if len(points_2d) < 3:
        return float("nan")
    try:
        hull = ConvexHull(points_2d)
    except QhullError:
        return float("nan")
    ring = points_2d[hull.vertices]
    return float(np.linalg.norm(ring - np.roll(ring, 1, axis=0), axis=1).sum())


def tape_girth(points: np.ndarray, normal: np.ndarray) -> float:
    """Tape girth round points (M, 3) that lie in the plane with ``normal`` (3,, any length):
    the perimeter of their convex hull in that plane; NaN for fewer than 3 or collinear points."""
    normal = np.asarray(normal, dtype=np.float64)
    normal = normal / np.linalg.norm(normal)
    if abs(normal[2]) > 1.0 - 1e-12:  # horizontal section: the plane's coordinates are x and y
        flat = points[:, :2]
    else:
        u, v = plane_basis(normal)
        flat = np.stack([points @ u, points @ v], axis=1)
    return hull_perimeter(flat)


def push_out(
    points: np.ndarray,
    distance: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    *,
    clearance: float,
    trigger: float | None = None,
    passes: int = 3,
    after_pass: Callable[[np.ndarray], None] | None = None,
) -> np.ndarray:
    """Points moved out of a surface to ``clearance`` along its normal, a few passes (creases).

    Args:
        points: positions [m], shape (K, 3).
        distance: points (K, 3) -> (signed distance [m] (K,), positive outside; unit outward
            normal (K, 3)) of the surface.
        clearance: target distance [m] of a moved point.
        trigger: points nearer than this [m] move (default ``clearance``).
        passes: at most this many passes; stops early when no point is near.
        after_pass: called with the positions after each pass, may edit them in place.

    Returns:
        New positions [m], shape (K, 3), float64 (``points`` is not changed).
    """
    points = np.array(points, dtype=np.float64)
    trigger = clearance if trigger is None else trigger
    for _ in range(passes):
        d, normal = distance(points)
        near = d < trigger
        if not near.any():
            break
        points[near] += normal[near] * (clearance - d[near])[:, None]
        if after_pass is not None:
            after_pass(points)
    return points
