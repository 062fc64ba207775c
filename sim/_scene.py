"""Garment + body -> a Newton Style3D model (builder -> model -> states -> solver -> contacts).

Seams are closed by merging: every seam vertex pair becomes one simulated particle, while each
triangle keeps its own 2D rest shape from its panel's pattern (Style3D's ``panel_verts`` /
``panel_indices``), so a sewn garment starts closed and never has to pull its seams shut.
"""

from __future__ import annotations

import contextlib
import gc
import io
import threading
from dataclasses import dataclass

import numpy as np

from tryon3d.core import push_out
from tryon3d.sim import _cache  # noqa: F401  (sets WARP_CACHE_PATH before warp loads)

#: Body-contact stiffness [N/m] of the penalty that pushes cloth particles out of the body.
#: Stiff enough that a too-small garment (hoop tension of ~1e3 N/m at a neckline or thigh)
#: presses in by millimetres, not centimetres (5e3 let a woven neckline sink 4 cm into a neck
#: and XS trousers tunnel into a BMI-35 thigh); stiffer still costs frames to come to rest.
CONTACT_KE = 2.0e4
#: Body-contact damping [N*s/m].
CONTACT_KD = 1.0e-3
#: Collision distance between cloth and body [m] on top of the fabric thickness.
BODY_GAP_M = 0.002
#: Smallest cloth-cloth collision distance [m].
SELF_COLLISION_MIN_M = 0.002
#: Cloth-cloth collision distance per metre of mesh edge: coarse triangles stand for the cloth
#: surface less closely, so they keep further apart (3-4 cm triangles folded at an armpit slip
#: through each other at 2 mm; a 1 cm mesh needs no more than the minimum, and costs 1.6x per
#: frame at 3 mm).
SELF_COLLISION_PER_EDGE = 0.1
#: The self-collision broad phase is refreshed once some particle moved this many cloth-cloth
#: collision distances since the last refresh (``sim._kernels.SelfCollisionBroadPhase``); within
#: a step Style3D already lets the cloth move 1.5 of them (3 mm) on one query.
BROAD_PHASE_MAX_MOVE = 1.0
#: Extra detection distance [m] for particle-body contact queries.
CONTACT_DETECT_M = 0.01
#: Below this sliding speed [m/s] body friction is regularised (viscous). Newton's default
#: (1 cm/s) lets a garment creep down the body at about that speed for seconds; 1 mm/s holds it.
FRICTION_EPSILON_M_S = 1.0e-3


@dataclass
class ClothModel:
    """A built Style3D scene (mutable, internal to sim/).

    Attributes:
        model/solver/pipeline/contacts/state_0/state_1/control: the Newton objects.
        body_mesh: the collider's Warp mesh (points can be animated in place).
        particle_of_vertex: garment vertex -> particle index, shape (N,), int64.
        tri_faces: garment faces used by the model, shape (F', 3), int64 (garment indices).
        face_valid: which garment faces are simulated (positive rest area, three distinct
            particles once sewn), shape (F,), bool.
        rest_inv: per-face inverse rest matrix in grain-aligned panel frames, shape (F', 2, 2);
            column 0 of the deformation gradient is the warp, column 1 the weft direction.
        rest_area: per-face pattern area [m^2], shape (F',).
        start_stretch: per-face symmetric 2x2 stretch of the start shape relative to the
            pattern (F = R @ S), shape (F', 2, 2); the sewing ramp blends the rest shape from
            ``S @ Dm`` (the start, force free) to the pattern ``Dm``.
        particle_radius: body contact radius [m].
    """

    model: object
    solver: object
    pipeline: object
    contacts: object
    state_0: object
    state_1: object
    control: object
    body_mesh: object
    particle_of_vertex: np.ndarray
    tri_faces: np.ndarray
    face_valid: np.ndarray
    rest_inv: np.ndarray
    rest_area: np.ndarray
    start_stretch: np.ndarray
    particle_radius: float
    device: str


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


def _panel_laplacian(garment):
    import scipy.sparse as sp

    n = garment.vertex_count
    faces = np.asarray(garment.faces, dtype=np.int64)
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    adjacency = sp.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    adjacency = ((adjacency + adjacency.T) > 0).astype(np.float64)
    return (sp.diags(np.asarray(adjacency.sum(axis=1)).ravel()) - adjacency).tocsr()


def preclosed_start(garment, particle_of_vertex: np.ndarray, particle_count: int, *, body_vertices=None,
                    body_faces=None, clearance_m: float = 0.006, step_m: float = 0.01, device: str = "cpu",
                    max_rounds: int = 80) -> np.ndarray:
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


def _push_out(mesh, points: np.ndarray, clearance_m: float, device: str, passes: int = 3) -> np.ndarray:
    from tryon3d.sim._measure import signed_distance

    def distance(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return signed_distance(mesh, p, device)

    return push_out(points, distance, clearance=clearance_m, passes=passes)


def push_out_of_body(points: np.ndarray, body_vertices: np.ndarray, body_faces: np.ndarray, clearance_m: float,
                     device: str) -> np.ndarray:
    """Move points [m], shape (K, 3), that are inside the body or closer than ``clearance_m``
    out along the body normal to ``clearance_m`` (a few passes, for creases)."""
    from tryon3d.sim._measure import body_mesh

    return _push_out(body_mesh(body_vertices, body_faces, device), points, clearance_m, device)


def triangle_rest_frames(garment) -> tuple[np.ndarray, np.ndarray]:
    """2D rest corners per triangle, grain-aligned (warp along +x), and the valid-face mask.

    For a pattern garment each panel's coordinates are rotated so that its grain direction maps
    to +x. Imported meshes (no pattern) flatten each 3D triangle isometrically, with +x along
    its first edge, from ``metadata["rest_positions"]`` (the file's geometry) when present.

    Returns:
        corners: shape (F, 3, 2) [m]; valid: shape (F,), bool (positive area).
    """
    faces = garment.faces
    if garment.pattern_positions is not None:
        grains = np.asarray(garment.grain_directions, dtype=np.float64)
        panel = garment.vertex_panels[faces[:, 0]]
        if grains.size == 0 or panel.max(initial=0) >= len(grains):
            raise ValueError(
                f"Garment.grain_directions has {len(grains)} rows, expected one per panel "
                f"(at least {int(panel.max(initial=0)) + 1})"
            )
        g = grains[panel]
        g = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
        # rotation taking g to +x: [[gx, gy], [-gy, gx]]
        rot = np.stack([np.stack([g[:, 0], g[:, 1]], 1), np.stack([-g[:, 1], g[:, 0]], 1)], 1)
        corners = np.einsum("fij,fkj->fki", rot, garment.pattern_positions[faces])
    else:  # the file's own geometry (before placement pushed it around the body)
        rest = np.asarray(garment.metadata.get("rest_positions", garment.positions), dtype=np.float64)
        p = (rest if rest.shape == garment.positions.shape else garment.positions)[faces]
        e1 = p[:, 1] - p[:, 0]
        e2 = p[:, 2] - p[:, 0]
        l1 = np.linalg.norm(e1, axis=1)
        x = e1 / np.maximum(l1, 1e-12)[:, None]
        e2x = np.einsum("fi,fi->f", e2, x)
        e2y = np.linalg.norm(e2 - e2x[:, None] * x, axis=1)
        corners = np.zeros((len(faces), 3, 2))
        corners[:, 1, 0] = l1
        corners[:, 2, 0] = e2x
        corners[:, 2, 1] = e2y
    d1 = corners[:, 1] - corners[:, 0]
    d2 = corners[:, 2] - corners[:, 0]
    signed = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    # a mirrored panel (clockwise in 2D) is flipped so Style3D sees positive areas
    flip = signed < 0.0
    corners[flip, :, 1] *= -1.0
    valid = np.abs(signed) > 1e-12
    return corners, valid


def self_collision_distance(thickness_m: float, edge_m: float) -> float:
    """Cloth-cloth collision distance [m] for a fabric ``thickness_m`` [m] thick, meshed with
    edges of about ``edge_m`` [m]."""
    return max(2.0 * thickness_m, SELF_COLLISION_MIN_M, SELF_COLLISION_PER_EDGE * edge_m)


def median_edge_m(garment) -> float:
    """Median edge length [m] of the garment's mesh in its pattern (rest) shape (an imported
    mesh's own shape when it has no pattern)."""
    rest = garment.positions if garment.pattern_positions is None else garment.pattern_positions
    faces = np.asarray(garment.faces)
    if len(faces) == 0:
        return 0.0
    rest = np.asarray(rest, dtype=np.float64)
    return float(np.median(np.linalg.norm(rest[faces[:, 1]] - rest[faces[:, 0]], axis=1)))


def collider_vertices(body, vertices: np.ndarray, thickness_m: float = 0.0, edge_m: float = 0.0) -> np.ndarray:
    """The collider's vertices [m], (V, 3): ``vertices`` of ``body`` with overlapping thighs
    pressed flat against the body's midline, and upper arms pressed out of the trunk's side,
    leaving room for two layers of cloth of ``thickness_m`` [m] between them (meshed at
    ``edge_m`` [m], see ``self_collision_distance``).

    Skinning and blend shapes do not collide, so a heavy body's thighs interpenetrate, and a
    posed arm (arms down, swinging) sinks up to 2 cm into the trunk below the armpit. Cloth has
    no place there: the penalty contacts push a trouser inseam back and forth through one
    thigh into the other, and pinch a sleeve and the bodice side into each other (crossing
    triangles, a cloth that never comes to rest). Real thighs flatten against each other, and an
    arm's soft side against the chest: leg vertices closer to the midline plane (the crotch's x)
    than half a slit move back to it; arm vertices below the armpit (8 cm under the acromion)
    closer to the trunk's side than a slit move out to it along x. The trunk's side at an arm
    vertex is the outermost trunk vertex within 1.5 cm in (y, z). A slit holds two layers at
    their contact distance (each ``thickness_m`` + ``BODY_GAP_M`` from its body part) plus the
    cloth-cloth distance between them, so the seams neither touch the skin nor cross each other.
    Bodies without these regions or landmarks are returned unchanged.
    """
    half_gap = float(thickness_m) + BODY_GAP_M + 0.5 * self_collision_distance(float(thickness_m), float(edge_m))
    out = np.array(vertices, dtype=np.float64)
    landmarks = getattr(body, "landmarks_m", {})
    if not hasattr(body, "region_mask"):
        return out
    crotch = landmarks.get("crotch")
    left, right = body.region_mask("leg_left"), body.region_mask("leg_right")
    if crotch is not None and left.any() and right.any():
        mid = float(crotch[0])
        rest = np.asarray(body.rest_vertices)
        side = 1.0 if rest[left, 0].mean() > rest[right, 0].mean() else -1.0  # +x is the left leg's side
        for mask, sign in ((left, side), (right, -side)):
            crossing = mask & (sign * (out[:, 0] - mid) < half_gap)
            out[crossing, 0] = mid + sign * half_gap
    _open_armpits(body, out, 2.0 * half_gap)
    return out


#: Arm vertices this far [m] under the acromion and lower are kept out of the trunk's side.
ARMPIT_BELOW_ACROMION_M = 0.08
#: The trunk's side at an arm vertex: the outermost trunk vertex within this (y, z) distance [m].
ARMPIT_PROBE_M = 0.015


def _open_armpits(body, vertices: np.ndarray, gap_m: float) -> None:
    """Move arm vertices below the armpit out along x until they are ``gap_m`` [m] outside the
    trunk's side (in place; see ``collider_vertices``)."""
    from scipy.spatial import cKDTree

    trunk = body.region_mask("torso")
    for side in ("left", "right"):
        acromion = body.landmarks_m.get(f"acromion_{side}")
        arm = body.region_mask(f"arm_{side}")
        if acromion is None or not (arm.any() and trunk.any()):
            continue
        sign = 1.0 if acromion[0] > 0 else -1.0
        own_trunk = vertices[trunk & (sign * vertices[:, 0] > 0)]
        candidates = np.flatnonzero(arm & (vertices[:, 2] < float(acromion[2]) - ARMPIT_BELOW_ACROMION_M))
        if len(own_trunk) == 0 or len(candidates) == 0:
            continue
        near = cKDTree(own_trunk[:, 1:]).query_ball_point(vertices[candidates, 1:], ARMPIT_PROBE_M)
        for index, found in zip(candidates, near, strict=True):
            if found:
                wall = float((sign * own_trunk[found, 0]).max()) + gap_m
                if sign * vertices[index, 0] < wall:
                    vertices[index, 0] = sign * wall


def mesh_edges(tris: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bending edges of a triangle mesh, numbered as Newton's ``MeshAdjacency`` numbers them.

    Each undirected edge is one row, in the order of its first appearance in a walk over the
    triangles' local edges (v0-v1, v1-v2, v2-v0). ``edges`` rows are ``[o0, o1, v0, v1]``: the
    edge's endpoints as its first triangle lists them and the vertices opposite it in its first
    and second triangle (-1 on a boundary); ``edge_tris`` rows are those two triangles
    ``[f0, f1]`` (-1 on a boundary). A third triangle on an edge (non-manifold) is ignored, as
    Newton does (which also warns). Vectorised: Newton's own table fills its rows in a Python
    loop (0.3 s for a 20k-triangle garment, built twice by ``style3d.add_cloth_mesh``).

    Returns:
        (edges (E, 4), edge_tris (E, 2)), both int32.
    """
    tris = np.asarray(tris, dtype=np.int64).reshape(-1, 3)
    if len(tris) == 0:
        return np.empty((0, 4), dtype=np.int32), np.empty((0, 2), dtype=np.int32)
    v0 = tris.reshape(-1)
    v1 = tris[:, [1, 2, 0]].reshape(-1)
    opposite = tris[:, [2, 0, 1]].reshape(-1)
    stride = int(tris.max()) + 1
    keys = np.minimum(v0, v1) * stride + np.maximum(v0, v1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # edges by first appearance
    remap = np.empty(len(order), dtype=np.int64)
    remap[order] = np.arange(len(order))
    entry_edge = remap[inverse.reshape(-1)]
    by_edge = np.argsort(entry_edge, kind="stable")  # entries grouped by edge, in walk order
    counts = np.bincount(entry_edge, minlength=len(order))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    side0 = by_edge[starts]
    two = counts >= 2
    side1 = by_edge[starts[two] + 1]
    if np.any(counts > 2):
        import warnings

        warnings.warn("Detected non-manifold edge", stacklevel=2)
    edges = np.full((len(order), 4), -1, dtype=np.int32)
    edge_tris = np.full((len(order), 2), -1, dtype=np.int32)
    edges[:, 0] = opposite[side0]
    edges[:, 2] = v0[side0]
    edges[:, 3] = v1[side0]
    edge_tris[:, 0] = side0 // 3
    edges[two, 1] = opposite[side1]
    edge_tris[two, 1] = side1 // 3
    return edges, edge_tris


def _style3d_edge_bending(panel_verts: np.ndarray, panel_tris: np.ndarray, tris: np.ndarray, edges: np.ndarray,
                          edge_tris: np.ndarray, edge_aniso_ke: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Style3D's per-edge bending data from the panel (rest) shape: Newton 1.8's
    ``style3d.cloth._compute_edge_bending_data`` on the given edge table, same arithmetic.

    Returns:
        (edge_ke (E,), edge_rest_area (E,), edge_bending_cot (E, 4)), float64.
    """
    f0, f1 = edge_tris[:, 0], edge_tris[:, 1]
    o0, o1 = edges[:, 0], edges[:, 1]  # each face's corner opposite the edge (x1, x2)
    order0 = np.argmax(tris[f0] == o0[:, None], axis=1)
    order1 = np.argmax(tris[f1] == o1[:, None], axis=1)
    rows = np.arange(len(edges))
    p0, p1 = panel_tris[f0], panel_tris[f1]
    x1_f0 = panel_verts[p0[rows, order0]]
    x3_f0 = panel_verts[p0[rows, (order0 + 1) % 3]]
    x4_f0 = panel_verts[p0[rows, (order0 + 2) % 3]]
    x2_f1 = panel_verts[p1[rows, order1]]
    x4_f1 = panel_verts[p1[rows, (order1 + 1) % 3]]
    x3_f1 = panel_verts[p1[rows, (order1 + 2) % 3]]
    x43_f0 = x4_f0 - x3_f0
    x43_f1 = x4_f1 - x3_f1

    def dot(a, b):
        return (a * b).sum(axis=-1)

    def cross2d(a, b):
        return a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]

    angle = (np.arctan2(x43_f0[:, 1], x43_f0[:, 0]) + np.arctan2(x43_f1[:, 1], x43_f1[:, 0])) * 0.5
    sin, cos = np.sin(angle), np.cos(angle)
    sin2, cos2 = np.power(sin, 2), np.power(cos, 2)
    sin12, cos12 = np.power(sin, 12), np.power(cos, 12)
    aniso = np.broadcast_to(np.asarray(edge_aniso_ke, dtype=float).reshape(-1, 3), (len(edges), 3))
    edge_ke = aniso[:, 0] * sin12 + aniso[:, 1] * cos12 + aniso[:, 2] * 4.0 * sin2 * cos2
    area = (np.abs(cross2d(x43_f0, x1_f0 - x3_f0)) + np.abs(cross2d(x43_f1, x2_f1 - x3_f1)) + 1.0e-8) / 2.0

    def cot2d(a, b, c):
        ba = b - a
        ca = c - a
        return dot(ba, ca) / (np.abs(cross2d(ba, ca)) + 1.0e-8)

    cot = np.stack([cot2d(x3_f0, x4_f0, x1_f0), cot2d(x3_f1, x4_f1, x2_f1), cot2d(x4_f0, x3_f0, x1_f0),
                    cot2d(x4_f1, x3_f1, x2_f1)], axis=1)
    return edge_ke, area, cot


def add_style3d_cloth(builder, vertices: np.ndarray, tris: np.ndarray, panel_corners: np.ndarray, *, density: float,
                      tri_aniso_ke: tuple[float, float, float], edge_aniso_ke: tuple[float, float, float],
                      particle_radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Add a Style3D cloth to ``builder`` exactly as Newton 1.8's ``style3d.add_cloth_mesh``
    does (no offset, rotation or velocity, one rest triangle per face), in bulk.

    ``vertices`` [m] (N, 3); ``tris`` (F, 3) particle indices; ``panel_corners`` [m] (F, 3, 2),
    each face's own 2D rest corners; ``density`` [kg/m^2]; ``tri_aniso_ke`` (warp, weft, shear)
    and ``edge_aniso_ke`` stiffnesses. Newton's helper walks its tables in Python (twice for the
    edges) and round-trips every array through lists: 1.9 of the 2.9 s a 10k-vertex build took.
    The builder is filled through its public bulk methods only (``add_particles``,
    ``add_triangles``, ``add_edges``); tests/test_sim_drape.py checks that the builder holds the
    same values as after Newton's helper.

    Returns:
        (rest_inv (F, 2, 2), rest_area (F,) [m^2]): each face's inverse rest matrix (columns of
        the rest matrix are its 2D rest edges) and pattern area, as given to the builder.
    """
    import warp as wp

    vertices = np.asarray(vertices, dtype=float)
    tris = np.asarray(tris, dtype=np.int64).reshape(-1, 3)
    panel_verts = np.asarray(panel_corners, dtype=float).reshape(-1, 2)
    panel_tris = np.arange(3 * len(tris)).reshape(-1, 3)
    # panel rest data (Newton's _compute_panel_triangles): columns are the rest edges
    d = np.stack([panel_verts[panel_tris[:, 1]] - panel_verts[panel_tris[:, 0]],
                  panel_verts[panel_tris[:, 2]] - panel_verts[panel_tris[:, 0]]], axis=-1)
    areas = np.linalg.det(d) / 2.0
    if not (areas > 0.0).all():
        raise ValueError("inverted or degenerate panel triangles")
    inv_d = np.linalg.inv(d)
    start_vertex = len(builder.particle_q)
    count = len(vertices)
    vel = wp.vec3(0.0, 0.0, 0.0)
    builder.add_particles(vertices.tolist(), [vel] * count, mass=[0.0] * count, radius=[particle_radius] * count)

    global_tris = tris + start_vertex
    tri_start = len(builder.tri_indices)
    face_count = len(tris)
    tri_areas = builder.add_triangles(
        global_tris[:, 0], global_tris[:, 1], global_tris[:, 2],
        tri_ke=[builder.default_tri_ke] * face_count,
        tri_ka=[builder.default_tri_ka] * face_count,
        tri_kd=[builder.default_tri_kd] * face_count,
        tri_drag=[builder.default_tri_drag] * face_count,
        tri_lift=[builder.default_tri_lift] * face_count,
        custom_attributes={"style3d:tri_aniso_ke": wp.vec3(*tri_aniso_ke)},
    )
    tri_end = tri_start + len(tri_areas)
    builder.tri_poses[tri_start:tri_end] = inv_d.tolist()
    builder.tri_areas[tri_start:tri_end] = areas.tolist()
    # lumped masses: a third of each face's pattern area, summed in face order as Newton does
    mass = np.zeros(count)
    np.add.at(mass, tris.reshape(-1), np.repeat(density * areas / 3.0, 3))
    particle_mass = builder.particle_mass
    particle_mass[start_vertex:start_vertex + count] = mass.tolist()

    edges, edge_tris = mesh_edges(tris)
    aniso = np.asarray(wp.vec3(*edge_aniso_ke), dtype=float)  # float32 values, as Newton reads them
    edge_ke, edge_area, edge_cot = _style3d_edge_bending(panel_verts, panel_tris, tris, edges, edge_tris, aniso)
    edge_count = len(edges)
    global_edges = edges.copy()
    global_edges[global_edges >= 0] += start_vertex
    builder.add_edges(
        global_edges[:, 0], global_edges[:, 1], global_edges[:, 2], global_edges[:, 3],
        # Newton passes these through float32
        edge_ke=edge_ke.astype(np.float32).tolist(),
        edge_kd=[float(np.float32(builder.default_edge_kd))] * edge_count,
        custom_attributes={
            "style3d:edge_rest_area": edge_area.tolist(),
            "style3d:edge_bending_cot": [tuple(row) for row in edge_cot.tolist()],
            "style3d:aniso_ke": [wp.vec3(*edge_aniso_ke)] * edge_count,
        },
    )
    return inv_d, areas


#: Per thread: the broad and narrow phase of the first ``newton.CollisionPipeline`` built for a
#: scene layout, keyed by (device, shape types, shape pair count); see ``collision_pipeline``.
_COLLISION_PHASES = threading.local()


def collision_pipeline(model, soft_contact_gap: float):
    """A ``newton.CollisionPipeline`` for ``model`` (cloth particles against static shapes).

    Building Newton's narrow phase generates its GJK/MPR and mesh kernels anew each time (Warp
    codegen, ~0.4 s on the CPU), yet a cloth-on-body scene never runs them: the body is the only
    shape, so there are no shape pairs, and only the soft (particle-shape) contacts, which the
    pipeline computes itself, are used. So the first pipeline's broad and narrow phase are kept
    and lent to later pipelines of the same layout in the same thread (one drape at a time
    there). They hold only per-``collide`` scratch: every ``collide`` recomputes the shape
    bounds it then reads before anything uses them.
    """
    import newton

    pairs = getattr(model, "shape_contact_pairs", None)
    key = (str(model.device), tuple(model.shape_type.numpy().tolist()), None if pairs is None else len(pairs))
    cache = getattr(_COLLISION_PHASES, "phases", None)
    if cache is None:
        cache = _COLLISION_PHASES.phases = {}
    phases = cache.get(key)
    if phases is None:
        pipeline = newton.CollisionPipeline(model, soft_contact_gap=soft_contact_gap)
        if key[2] == 0:
            cache[key] = (pipeline.broad_phase, pipeline.narrow_phase)
        return pipeline
    broad_phase, narrow_phase = phases
    return newton.CollisionPipeline(model, soft_contact_gap=soft_contact_gap, broad_phase=broad_phase,
                                    narrow_phase=narrow_phase)


@contextlib.contextmanager
def _gc_paused():
    """Pause Python's cyclic garbage collector: Newton's builder fills lists with ~10^6 small
    objects, and the collections they trigger re-scan all of them (~1 s of a 10k-vertex build)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_gc_paused()
def build_cloth_model(
    garment,
    body_vertices: np.ndarray,
    body_faces: np.ndarray,
    *,
    device: str = "cpu",
    iterations: int = 10,
    linear_iterations: int = 10,
    self_collision: bool = True,
    preclose_seams: bool = True,
    sew_around_body: bool = False,
    edge_m: float | None = None,
    floor_z_m: float | None = None,
) -> ClothModel:
    """Build the Newton model: merged-seam cloth, static body mesh collider, gravity, friction.

    ``sew_around_body``: close the seams progressively around the body (see
    :func:`preclosed_start`) instead of straight across it. ``edge_m``: the mesh's median
    edge [m] (``median_edge_m``, computed when not given), which sets the cloth-cloth distance.
    ``floor_z_m``: height [m] of a floor plane under the body (the ground it stands on), with
    the fabric's friction; None for none. A garment too big to stay up (a skirt wider than the
    hips) then comes to rest on the floor instead of sliding round the feet for ever.
    """
    import newton
    import warp as wp

    wp.config.quiet = True
    from newton.solvers import SolverStyle3D

    from tryon3d.sim._kernels import SelfCollisionBroadPhase

    fabric = garment.fabric
    particle_of_vertex, particle_count = merge_seams(garment.vertex_count, garment.seam_pairs)
    corners, valid = triangle_rest_frames(garment)
    # a face whose corners are sewn into one particle (the tip of a dart, a short seam between
    # two others) has no area once sewn: Newton would drop it and miscount
    welded = particle_of_vertex[garment.faces]
    valid = valid & (welded[:, 0] != welded[:, 1]) & (welded[:, 1] != welded[:, 2]) & (welded[:, 0] != welded[:, 2])
    faces = garment.faces[valid]
    corners = corners[valid]
    if len(faces) == 0:
        raise ValueError("garment has no triangles with a positive rest area")
    radius = float(fabric.thickness_m) + BODY_GAP_M
    if preclose_seams:
        around = {"body_vertices": body_vertices, "body_faces": body_faces} if sew_around_body else {}
        start = preclosed_start(garment, particle_of_vertex, particle_count, clearance_m=2.0 * radius,
                                device=device, **around)
        start = push_out_of_body(start, body_vertices, body_faces, 2.0 * radius, device)
    else:
        start = np.zeros((particle_count, 3))
        np.add.at(start, particle_of_vertex, garment.positions)
        start /= np.bincount(particle_of_vertex, minlength=particle_count)[:, None]

    builder = newton.ModelBuilder(up_axis=newton.Axis.Z)
    SolverStyle3D.register_custom_attributes(builder)
    tri_particles = particle_of_vertex[faces]
    rest_inv, rest_area = add_style3d_cloth(
        builder,
        start,
        tri_particles,
        corners,
        density=float(fabric.areal_density_kg_m2),
        tri_aniso_ke=(float(fabric.stretch_warp_n_m), float(fabric.stretch_weft_n_m), float(fabric.shear_n_m)),
        edge_aniso_ke=(float(fabric.bending_n_m), float(fabric.bending_n_m), float(fabric.bending_n_m) * 0.5),
        particle_radius=radius,
    )
    shape_cfg = newton.ModelBuilder.ShapeConfig(mu=float(fabric.friction))
    body_mesh = newton.Mesh(np.asarray(body_vertices, dtype=np.float32), np.asarray(body_faces, dtype=np.int32).reshape(-1),
                            compute_inertia=False)
    builder.add_shape_mesh(body=-1, mesh=body_mesh, cfg=shape_cfg)
    if floor_z_m is not None:
        builder.add_ground_plane(height=float(floor_z_m), cfg=shape_cfg)
    model = builder.finalize(device=device)
    model.soft_contact_ke = CONTACT_KE
    model.soft_contact_kd = CONTACT_KD
    model.soft_contact_mu = float(fabric.friction)

    config = SolverStyle3D.Config(iterations=iterations, linear_iterations=linear_iterations)
    with contextlib.redirect_stdout(io.StringIO()):  # Style3D prints a precompute timer
        solver = SolverStyle3D(model, config=config)
    if solver.collision is not None:
        edge = median_edge_m(garment) if edge_m is None else float(edge_m)
        solver.collision.radius = self_collision_distance(float(fabric.thickness_m), edge)
        solver.collision.friction_epsilon = FRICTION_EPSILON_M_S
        SelfCollisionBroadPhase(solver.collision, model, BROAD_PHASE_MAX_MOVE * solver.collision.radius)
        if not self_collision:
            solver.collision.stiff_vf = 0.0
            solver.collision.stiff_ee = 0.0
            solver.collision.stiff_ef = 0.0
    pipeline = collision_pipeline(model, CONTACT_DETECT_M)
    contacts = pipeline.contacts()
    return ClothModel(
        model=model,
        solver=solver,
        pipeline=pipeline,
        contacts=contacts,
        state_0=model.state(),
        state_1=model.state(),
        control=model.control(),
        body_mesh=body_mesh.mesh,
        particle_of_vertex=particle_of_vertex,
        tri_faces=faces,
        face_valid=valid,
        rest_inv=rest_inv,
        rest_area=rest_area,
        start_stretch=start_stretch(start, tri_particles, rest_inv),
        particle_radius=radius,
        device=str(device),
    )


def start_stretch(start: np.ndarray, tri_particles: np.ndarray, rest_inv: np.ndarray,
                  clamp: tuple[float, float] = (1.0, 8.0)) -> np.ndarray:
    """Symmetric stretch ``S`` (F', 2, 2) of each start triangle in its pattern frame.

    With the deformation gradient ``F = X @ inv(Dm) = U diag(sigma) V^T`` (X the start edges,
    3x2), ``S = V diag(sigma) V^T``: a rest shape ``S @ Dm`` makes the start configuration
    stress free. Singular values are clamped to ``clamp`` so no rest triangle degenerates.
    """
    p = np.asarray(start, dtype=np.float64)[tri_particles]
    edges = np.stack([p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]], axis=-1)  # (F', 3, 2)
    grad = edges @ rest_inv
    _, sigma, vt = np.linalg.svd(grad, full_matrices=False)
    sigma = np.clip(sigma, *clamp)
    return np.einsum("fki,fk,fkj->fij", vt, sigma, vt)


def blend_rest_shapes(cloth: ClothModel, weight: float) -> None:
    """Set Style3D's rest shapes to ``(1 - weight) * start + weight * pattern`` (the sewing ramp).

    ``weight`` = 1 restores the pattern rest shapes exactly. Only the stretch forces read the
    rest shapes per step; the solver's constant system matrix stays the pattern's.
    """
    import warp as wp

    w = float(np.clip(weight, 0.0, 1.0))
    if w >= 1.0:
        inv = cloth.rest_inv
    else:
        blended = (1.0 - w) * cloth.start_stretch + w * np.eye(2)
        inv = cloth.rest_inv @ np.linalg.inv(blended)  # inv(S_w @ Dm) = inv(Dm) @ inv(S_w)
    cloth.model.tri_poses.assign(wp.array(inv.astype(np.float32), dtype=wp.mat22, device=cloth.model.device))


def set_body_aabb(cloth: ClothModel, points: np.ndarray, pad_m: float = 0.05) -> None:
    """Widen the collider's local AABB (used for contact culling) to cover ``points`` [m], (K, 3)."""
    import warp as wp

    lo = wp.array([np.asarray(points).min(axis=0) - pad_m], dtype=wp.vec3, device=cloth.model.device)
    hi = wp.array([np.asarray(points).max(axis=0) + pad_m], dtype=wp.vec3, device=cloth.model.device)
    wp.copy(cloth.model.shape_collision_aabb_lower, lo, 0, 0, 1)
    wp.copy(cloth.model.shape_collision_aabb_upper, hi, 0, 0, 1)
