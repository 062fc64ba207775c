# mypy: disable-error-code="operator, call-overload"
# (Warp kernel code: Warp compiles it with its own vector arithmetic, which its stubs lack)
"""Geometric measurements on a drape: signed body distance, self-intersections, stretch, girths.

The Warp kernels here run on the drape's device; everything returns numpy arrays.
"""

from __future__ import annotations

import numpy as np
import warp as wp

from tryon3d.core import edge_plane_crossings
from tryon3d.sim import _cache  # noqa: F401  (sets WARP_CACHE_PATH before warp loads)

wp.config.quiet = True

#: Largest distance [m] the body-distance query looks; farther vertices report this value.
MAX_QUERY_M = 1.0


@wp.kernel
def _signed_distance_kernel(
    mesh: wp.uint64,
    points: wp.array[wp.vec3],
    max_dist: float,
    distance: wp.array[float],
    normal: wp.array[wp.vec3],
):
    tid = wp.tid()
    p = points[tid]
    query = wp.mesh_query_point_sign_normal(mesh, p, max_dist)
    if query.result:
        closest = wp.mesh_eval_position(mesh, query.face, query.u, query.v)
        delta = p - closest
        d = wp.length(delta)
        distance[tid] = d * query.sign
        if d > 1.0e-9:
            normal[tid] = delta / d * query.sign
        else:
            normal[tid] = wp.mesh_eval_face_normal(mesh, query.face)
    else:
        distance[tid] = max_dist
        normal[tid] = wp.vec3(0.0, 0.0, 0.0)


@wp.func
def _segment_crosses_triangle(
    p: wp.vec3d, q: wp.vec3d, a: wp.vec3d, b: wp.vec3d, c: wp.vec3d
) -> bool:
    """Whether segment pq crosses triangle abc (Moller-Trumbore; t and barycentrics in [0, 1])."""
    e1 = b - a
    e2 = c - a
    d = q - p
    h = wp.cross(d, e2)
    det = wp.dot(e1, h)
    # parallel (or degenerate) within a relative tolerance: no proper crossing
    if wp.abs(det) <= wp.float64(1.0e-12) * wp.length(e1) * wp.length(e2) * wp.length(d):
        return False
    s = p - a
    u = wp.dot(s, h) / det
    if u < wp.float64(0.0) or u > wp.float64(1.0):
        return False
    r = wp.cross(s, e1)
    v = wp.dot(d, r) / det
    if v < wp.float64(0.0) or u + v > wp.float64(1.0):
        return False
    t = wp.dot(e2, r) / det
    return t >= wp.float64(0.0) and t <= wp.float64(1.0)


@wp.func
def _all_one_side(n: wp.vec3d, origin: wp.vec3d, p0: wp.vec3d, p1: wp.vec3d, p2: wp.vec3d) -> bool:
    d0 = wp.dot(n, p0 - origin)
    d1 = wp.dot(n, p1 - origin)
    d2 = wp.dot(n, p2 - origin)
    zero = wp.float64(0.0)
    return (d0 > zero and d1 > zero and d2 > zero) or (d0 < zero and d1 < zero and d2 < zero)


@wp.func
def _triangles_cross(
    a0: wp.vec3d, a1: wp.vec3d, a2: wp.vec3d, b0: wp.vec3d, b1: wp.vec3d, b2: wp.vec3d
) -> bool:
    """Whether two triangles properly intersect: some edge of one passes through the other.

    Not ``wp.intersect_tri_tri``: its absolute epsilon on unnormalised plane distances
    calls parallel centimetre triangles up to ~1 cm apart "coplanar" and then "intersecting"
    (two layers of cloth at an armpit fold), so it over-counts by orders of magnitude here.
    Exactly coplanar pairs (measure zero for a simulated cloth) are not counted.
    """
    if _all_one_side(wp.cross(b1 - b0, b2 - b0), b0, a0, a1, a2):
        return False
    if _all_one_side(wp.cross(a1 - a0, a2 - a0), a0, b0, b1, b2):
        return False
    return (
        _segment_crosses_triangle(a0, a1, b0, b1, b2)
        or _segment_crosses_triangle(a1, a2, b0, b1, b2)
        or _segment_crosses_triangle(a2, a0, b0, b1, b2)
        or _segment_crosses_triangle(b0, b1, a0, a1, a2)
        or _segment_crosses_triangle(b1, b2, a0, a1, a2)
        or _segment_crosses_triangle(b2, b0, a0, a1, a2)
    )


@wp.kernel
def _self_intersection_kernel(
    mesh: wp.uint64,
    points: wp.array[wp.vec3],
    faces: wp.array2d[wp.int32],
    hits: wp.array[wp.int32],
):
    i = wp.tid()
    a0 = faces[i, 0]
    a1 = faces[i, 1]
    a2 = faces[i, 2]
    p0 = points[a0]
    p1 = points[a1]
    p2 = points[a2]
    lower = wp.min(wp.min(p0, p1), p2)
    upper = wp.max(wp.max(p0, p1), p2)
    query = wp.mesh_query_aabb(mesh, lower, upper)
    # int(0), not 0: a literal would be a Warp constant, which the loop cannot mutate
    j = int(0)  # noqa: UP018, RUF046
    count = int(0)  # noqa: UP018, RUF046
    while wp.mesh_query_aabb_next(query, j):
        if j > i:
            b0 = faces[j, 0]
            b1 = faces[j, 1]
            b2 = faces[j, 2]
            # a triangle sharing a vertex with this one touches it by construction (not a crossing)
            distinct = (
                a0 != b0
                and a0 != b1
                and a0 != b2
                and a1 != b0
                and a1 != b1
                and a1 != b2
                and a2 != b0
                and a2 != b1
                and a2 != b2
            )
            # nested, not `and`-ed: the crossing test runs only for distinct triangles
            if distinct:  # noqa: SIM102
                if _triangles_cross(
                    wp.vec3d(p0),
                    wp.vec3d(p1),
                    wp.vec3d(p2),
                    wp.vec3d(points[b0]),
                    wp.vec3d(points[b1]),
                    wp.vec3d(points[b2]),
                ):
                    count += 1
    hits[i] = count


def body_mesh(vertices: np.ndarray, faces: np.ndarray, device: str) -> wp.Mesh:
    """A Warp mesh of a body, vertices [m] shape (V, 3), faces shape (F, 3)."""
    return wp.Mesh(
        points=wp.array(np.asarray(vertices, dtype=np.float32), dtype=wp.vec3, device=device),
        indices=wp.array(
            np.asarray(faces, dtype=np.int32).reshape(-1), dtype=wp.int32, device=device
        ),
    )


def signed_distance(
    mesh: wp.Mesh, points: np.ndarray, device: str
) -> tuple[np.ndarray, np.ndarray]:
    """Signed distance [m] from points (K, 3) to a body mesh, negative inside, and unit normals.

    Returns:
        distance: shape (K,), float64, clamped to +``MAX_QUERY_M``;
        normal: shape (K, 3), outward direction from the closest body point (zero if none).
    """
    count = len(points)
    pts = wp.array(np.asarray(points, dtype=np.float32), dtype=wp.vec3, device=device)
    dist = wp.zeros(count, dtype=float, device=device)
    nrm = wp.zeros(count, dtype=wp.vec3, device=device)
    if count:
        wp.launch(
            _signed_distance_kernel,
            dim=count,
            inputs=[mesh.id, pts, MAX_QUERY_M, dist, nrm],
            device=device,
        )
    return dist.numpy().astype(np.float64), nrm.numpy().astype(np.float64)


def self_intersecting_pairs(points: np.ndarray, faces: np.ndarray, device: str) -> int:
    """Number of intersecting triangle pairs that share no vertex (BVH + edge-through-triangle test
    in double precision).

    Args:
        points: vertex positions [m], shape (K, 3); faces: shape (F, 3), indices into points.
    """
    if len(faces) == 0:
        return 0
    pts = wp.array(np.asarray(points, dtype=np.float32), dtype=wp.vec3, device=device)
    idx = np.ascontiguousarray(np.asarray(faces, dtype=np.int32))
    mesh = wp.Mesh(points=pts, indices=wp.array(idx.reshape(-1), dtype=wp.int32, device=device))
    hits = wp.zeros(len(idx), dtype=wp.int32, device=device)
    wp.launch(
        _self_intersection_kernel,
        dim=len(idx),
        inputs=[mesh.id, pts, wp.array(idx, dtype=wp.int32, device=device), hits],
        device=device,
    )
    return int(hits.numpy().sum())


def deformation(positions: np.ndarray, faces: np.ndarray, rest_inv: np.ndarray) -> np.ndarray:
    """Per-triangle deformation gradient F = D_s D_m^-1, shape (F, 3, 2).

    Column 0 maps the pattern's warp direction, column 1 the weft (grain-aligned frames).
    """
    p = positions[faces]
    ds = np.stack([p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]], axis=-1)
    return ds @ rest_inv


def stretch_fields(grad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stretch in percent (100 = unstretched) from deformation gradients (F, 3, 2).

    Returns:
        (max principal, min principal, warp, weft), each shape (F,), float64 [%].
    """
    singular = np.linalg.svd(grad, compute_uv=False)
    warp = np.linalg.norm(grad[:, :, 0], axis=1)
    weft = np.linalg.norm(grad[:, :, 1], axis=1)
    return 100.0 * singular[:, 0], 100.0 * singular[:, 1], 100.0 * warp, 100.0 * weft


def vertex_areas(positions: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """One third of the area of each incident triangle, summed per vertex [m^2], shape (K,)."""
    p = positions[faces]
    area = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
    out = np.zeros(len(positions))
    for k in range(3):
        np.add.at(out, faces[:, k], area / 3.0)
    return out


def _section_loops(
    vertices: np.ndarray, faces: np.ndarray, origin: np.ndarray, normal: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Section of a mesh by a plane as segments grouped into connected pieces.

    Returns:
        points: crossing points, shape (K, 3); segments: point index pairs, shape (S, 2);
        piece: connected-piece label per point, shape (K,); segment_faces: the face each
        segment lies in, shape (S,).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    side = (vertices - origin) @ normal
    side = np.where(np.abs(side) < 1e-9, 1e-9, side)
    face_edges = np.stack(
        [faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]], axis=1
    )  # (F, 3, 2)
    flat = np.sort(face_edges.reshape(-1, 2), axis=1)
    edges, edge_of = np.unique(flat, axis=0, return_inverse=True)
    edge_of = edge_of.reshape(-1, 3)
    crossing, points = edge_plane_crossings(vertices, edges, side)
    node = np.full(len(edges), -1)
    node[crossing] = np.arange(int(crossing.sum()))
    face_nodes = node[edge_of]  # (F, 3)
    cut = (face_nodes >= 0).sum(axis=1) == 2
    pairs = np.sort(face_nodes[cut], axis=1)[:, 1:]
    if len(points) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return points, np.zeros((0, 2), dtype=np.int64), empty, empty
    graph = coo_matrix(
        (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(points), len(points))
    )
    _, piece = connected_components(graph, directed=False)
    return points, pairs, piece, np.flatnonzero(cut)


def _encloses(
    flat: np.ndarray, segments: np.ndarray, piece: np.ndarray, point: np.ndarray
) -> np.ndarray:
    """Labels of the section pieces that wind around ``point`` (2D, plane coordinates)."""
    a, b = flat[segments[:, 0]] - point, flat[segments[:, 1]] - point
    # ray from the point along +u: a segment crosses it where its v changes sign at u > 0
    straddles = (a[:, 1] > 0.0) != (b[:, 1] > 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        u_cross = a[:, 0] + (b[:, 0] - a[:, 0]) * (-a[:, 1]) / (b[:, 1] - a[:, 1])
    labels = piece[segments[straddles & (u_cross > 0.0), 0]]
    unique, counts = np.unique(labels, return_counts=True)
    return unique[counts % 2 == 1]
