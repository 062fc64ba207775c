"""Garment + body -> a Newton Style3D model (builder -> model -> states -> solver -> contacts).

Seams are closed by merging: every seam vertex pair becomes one simulated particle, while each
triangle keeps its own 2D rest shape from its panel's pattern (Style3D's ``panel_verts`` /
``panel_indices``), so a sewn garment starts closed and never has to pull its seams shut.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np

from sim import _cache  # noqa: F401  (sets WARP_CACHE_PATH before warp loads)

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
        face_valid: which garment faces are simulated (positive rest area), shape (F,), bool.
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
        from sim._measure import body_mesh

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
    from sim._measure import signed_distance

    points = np.array(points, dtype=np.float64)
    for _ in range(passes):
        distance, normal = signed_distance(mesh, points, device)
        near = distance < clearance_m
        if not near.any():
            break
        points[near] += normal[near] * (clearance_m - distance[near])[:, None]
    return points


def push_out_of_body(points: np.ndarray, body_vertices: np.ndarray, body_faces: np.ndarray, clearance_m: float,
                     device: str) -> np.ndarray:
    """Move points [m], shape (K, 3), that are inside the body or closer than ``clearance_m``
    out along the body normal to ``clearance_m`` (a few passes, for creases)."""
    from sim._measure import body_mesh

    return _push_out(body_mesh(body_vertices, body_faces, device), points, clearance_m, device)


def triangle_rest_frames(garment) -> tuple[np.ndarray, np.ndarray]:
    """2D rest corners per triangle, grain-aligned (warp along +x), and the valid-face mask.

    For a pattern garment each panel's coordinates are rotated so that its grain direction maps
    to +x. Imported meshes (no pattern) flatten each 3D triangle isometrically, with +x along
    its first edge.

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
    else:
        p = garment.positions[faces]
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
    pressed flat against the body's midline, leaving room for two layers of cloth of
    ``thickness_m`` [m] between them (meshed at ``edge_m`` [m], see ``self_collision_distance``).

    Heavy bodies' thighs interpenetrate in the model (skinning and blend shapes do not collide),
    so a trouser inseam between them has no place outside the body and the penalty contact
    pushes it back and forth through one thigh into the other. Real thighs flatten against each
    other: leg vertices closer to the midline plane (the crotch's x) than half a slit move back
    to it. The slit holds two layers at their contact distance (each ``thickness_m`` +
    ``BODY_GAP_M`` from its thigh) plus the cloth-cloth distance between them, so inseams
    neither touch the skin nor cross each other. Bodies without leg regions or a crotch
    landmark are returned unchanged.
    """
    half_gap = float(thickness_m) + BODY_GAP_M + 0.5 * self_collision_distance(float(thickness_m), float(edge_m))
    out = np.array(vertices, dtype=np.float64)
    crotch = getattr(body, "landmarks_m", {}).get("crotch")
    if crotch is None or not hasattr(body, "region_mask"):
        return out
    left, right = body.region_mask("leg_left"), body.region_mask("leg_right")
    if not (left.any() and right.any()):
        return out
    mid = float(crotch[0])
    rest = np.asarray(body.rest_vertices)
    side = 1.0 if rest[left, 0].mean() > rest[right, 0].mean() else -1.0  # +x is the left leg's side
    for mask, sign in ((left, side), (right, -side)):
        crossing = mask & (sign * (out[:, 0] - mid) < half_gap)
        out[crossing, 0] = mid + sign * half_gap
    return out


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
) -> ClothModel:
    """Build the Newton model: merged-seam cloth, static body mesh collider, gravity, friction.

    ``sew_around_body``: close the seams progressively around the body (see
    :func:`preclosed_start`) instead of straight across it. ``edge_m``: the mesh's median
    edge [m] (``median_edge_m``, computed when not given), which sets the cloth-cloth distance.
    """
    import newton
    import warp as wp

    wp.config.quiet = True
    from newton.solvers import SolverStyle3D, style3d

    from sim._kernels import SelfCollisionBroadPhase

    fabric = garment.fabric
    particle_of_vertex, particle_count = merge_seams(garment.vertex_count, garment.seam_pairs)
    corners, valid = triangle_rest_frames(garment)
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
    style3d.add_cloth_mesh(
        builder,
        pos=wp.vec3(0.0, 0.0, 0.0),
        rot=wp.quat_identity(),
        vel=wp.vec3(0.0, 0.0, 0.0),
        vertices=start.tolist(),
        indices=tri_particles.reshape(-1).tolist(),
        panel_verts=corners.reshape(-1, 2).tolist(),
        panel_indices=np.arange(3 * len(faces)).tolist(),
        density=float(fabric.areal_density_kg_m2),
        tri_aniso_ke=wp.vec3(float(fabric.stretch_warp_n_m), float(fabric.stretch_weft_n_m), float(fabric.shear_n_m)),
        edge_aniso_ke=wp.vec3(float(fabric.bending_n_m), float(fabric.bending_n_m), float(fabric.bending_n_m) * 0.5),
        particle_radius=radius,
    )
    shape_cfg = newton.ModelBuilder.ShapeConfig(mu=float(fabric.friction))
    body_mesh = newton.Mesh(np.asarray(body_vertices, dtype=np.float32), np.asarray(body_faces, dtype=np.int32).reshape(-1),
                            compute_inertia=False)
    builder.add_shape_mesh(body=-1, mesh=body_mesh, cfg=shape_cfg)
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
    pipeline = newton.CollisionPipeline(model, soft_contact_gap=CONTACT_DETECT_M)
    contacts = pipeline.contacts()
    d1 = corners[:, 1] - corners[:, 0]
    d2 = corners[:, 2] - corners[:, 0]
    dm = np.stack([d1, d2], axis=-1)  # (F, 2, 2): columns are rest edges
    rest_inv = np.linalg.inv(dm)
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
        rest_area=0.5 * np.abs(np.linalg.det(dm)),
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
