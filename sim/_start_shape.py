"""The cloth's start shape: seams merged, pre-closed and pushed out of the body."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tryon3d.core import push_out
from tryon3d.sim import _cache  # noqa: F401  (sets WARP_CACHE_PATH before warp loads)

if TYPE_CHECKING:
    from tryon3d.garments import Garment


def merge_seams(vertex_count: int, seam_pairs: np.ndarray) -> tuple[np.ndarray, int]:
    """Union-find over seam pairs.

    Returns:
        (particle_of_vertex, particle_count): shape (N,) int64 map and the number of particles.
    """
    parent = np.arange(vertex_count)

    def find(i: int) -> int:
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    for a, b in np.asarray(seam_pairs, dtype=np.int64).reshape(-1, 2):
        ra, rb = find(int(a)), find(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(i) for i in range(vertex_count)], dtype=np.int64)
    unique, particle_of_vertex = np.unique(roots, return_inverse=True)
    return particle_of_vertex.astype(np.int64), len(unique)


def _panel_laplacian(garment: Garment):
    import scipy.sparse as sp

    n = garment.vertex_count
    faces = np.asarray(garment.faces, dtype=np.int64)
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    adjacency = sp.coo_matrix(
        (np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n)
    ).tocsr()
    adjacency = ((adjacency + adjacency.T) > 0).astype(np.float64)
    return (sp.diags(np.asarray(adjacency.sum(axis=1)).ravel()) - adjacency).tocsr()


def preclosed_start(
    garment: Garment,
    particle_of_vertex: np.ndarray,
    particle_count: int,
    *,
    body_vertices=None,
    body_faces=None,
    clearance_m: float = 0.006,
    step_m: float = 0.01,
    device: str = "cpu",
    max_rounds: int = 80,
) -> np.ndarray:
    """Start positions [m], shape (particle_count, 3), with the seams closed geometrically.

    Placements leave seam gaps of 10-30 cm, often across a body part (a sleeve's underarm
    seam below a thick arm). Snapping each pair to its midpoint would sew the seam through the
    body. Instead the seams are sewn progressively: every round each seam vertex moves at most
    ``step_m`` towards its partner's position, the rest of each panel follows by a harmonic
    (graph-Laplacian) interpolation of the seam moves, and everything closer to the body than
    ``clearance_m`` is pushed back out along the body normal, so the seams slide around the
    body instead of through it. Without a body, one round closes the seams straight.
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    n = garment.vertex_count
    positions = np.array(garment.positions, dtype=np.float64)
    counts = np.bincount(particle_of_vertex, minlength=particle_count)[:, None]

    def merged_of(p: np.ndarray) -> np.ndarray:
        out = np.zeros((particle_count, 3))
        np.add.at(out, particle_of_vertex, p)
        return out / counts

    fixed = np.zeros(n, dtype=bool)
    fixed[np.asarray(garment.seam_pairs, dtype=np.int64).reshape(-1)] = True
    if not fixed.any():
        return merged_of(positions)
    laplacian = _panel_laplacian(garment)
    free = ~fixed
    solve = None
    if free.any():
        # a tiny diagonal keeps panels without any seam (no Dirichlet vertex) still
        system = laplacian[free][:, free] + sp.identity(int(free.sum())) * 1e-8
        solve = splu(system.tocsc()).solve
    coupling = laplacian[free][:, fixed]
    mesh = None
    if body_vertices is not None:
        from tryon3d.sim._measure import body_mesh

        mesh = body_mesh(body_vertices, body_faces, device)
    for _ in range(max_rounds if mesh is not None else 1):
        target = merged_of(positions)[particle_of_vertex[fixed]]
        move_fixed = target - positions[fixed]
        length = np.linalg.norm(move_fixed, axis=1)
        if mesh is not None:
            if length.max(initial=0.0) < 1e-4:
                break
            move_fixed *= np.minimum(1.0, step_m / np.maximum(length, 1e-12))[:, None]
        move = np.zeros((n, 3))
        move[fixed] = move_fixed
        if solve is not None:
            move[free] = solve(-(coupling @ move_fixed))
        positions += move
        if mesh is not None:
            positions = _push_out(mesh, positions, clearance_m, device)
    return merged_of(positions)


def _push_out(
    mesh, points: np.ndarray, clearance_m: float, device: str, passes: int = 3
) -> np.ndarray:
    from tryon3d.sim._measure import signed_distance

    def distance(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return signed_distance(mesh, p, device)

    return push_out(points, distance, clearance=clearance_m, passes=passes)


def push_out_of_body(
    points: np.ndarray,
    body_vertices: np.ndarray,
    body_faces: np.ndarray,
    clearance_m: float,
    device: str,
) -> np.ndarray:
    """Move points [m], shape (K, 3), that are inside the body or closer than ``clearance_m``
    out along the body normal to ``clearance_m`` (a few passes, for creases)."""
    from tryon3d.sim._measure import body_mesh

    return _push_out(body_mesh(body_vertices, body_faces, device), points, clearance_m, device)
