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
from typing import TYPE_CHECKING, Any

import numpy as np

from tryon3d.sim import _cache  # noqa: F401  (sets WARP_CACHE_PATH before warp loads)
from tryon3d.sim._colliders import BODY_GAP_M, self_collision_distance
from tryon3d.sim._start_shape import merge_seams, preclosed_start, push_out_of_body
from tryon3d.sim._style3d_cloth import add_style3d_cloth

if TYPE_CHECKING:
    from tryon3d.garments import Garment

#: Body-contact stiffness [N/m] of the penalty that pushes cloth particles out of the body.
#: Stiff enough that a too-small garment (hoop tension of ~1e3 N/m at a neckline or thigh)
#: presses in by millimetres, not centimetres (5e3 let a woven neckline sink 4 cm into a neck
#: and XS trousers tunnel into a BMI-35 thigh); stiffer still costs frames to come to rest.
CONTACT_KE = 2.0e4
#: Body-contact damping [N*s/m].
CONTACT_KD = 1.0e-3
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

    # Newton and Warp objects (untyped dependencies)
    model: Any
    solver: Any
    pipeline: Any
    contacts: Any
    state_0: Any
    state_1: Any
    control: Any
    body_mesh: Any
    particle_of_vertex: np.ndarray
    tri_faces: np.ndarray
    face_valid: np.ndarray
    rest_inv: np.ndarray
    rest_area: np.ndarray
    start_stretch: np.ndarray
    particle_radius: float
    device: str


def triangle_rest_frames(garment: Garment) -> tuple[np.ndarray, np.ndarray]:
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
        rest = np.asarray(_rest_positions(garment), dtype=np.float64)
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


def median_edge_m(garment: Garment) -> float:
    """Median edge length [m] of the garment's mesh in its pattern (rest) shape (an imported
    mesh's own shape when it has no pattern)."""
    rest = garment.positions if garment.pattern_positions is None else garment.pattern_positions
    faces = np.asarray(garment.faces)
    if len(faces) == 0:
        return 0.0
    rest = np.asarray(rest, dtype=np.float64)
    return float(np.median(np.linalg.norm(rest[faces[:, 1]] - rest[faces[:, 0]], axis=1)))


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
    key = (
        str(model.device),
        tuple(model.shape_type.numpy().tolist()),
        None if pairs is None else len(pairs),
    )
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
    return newton.CollisionPipeline(
        model, soft_contact_gap=soft_contact_gap, broad_phase=broad_phase, narrow_phase=narrow_phase
    )


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
    garment: Garment,
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
    broad_phase_max_move: float = BROAD_PHASE_MAX_MOVE,
    broad_phase_centred: bool = False,
) -> ClothModel:
    """Build the Newton model: merged-seam cloth, static body mesh collider, gravity, friction.

    ``sew_around_body``: close the seams progressively around the body (see
    :func:`preclosed_start`) instead of straight across it. ``edge_m``: the mesh's median
    edge [m] (``median_edge_m``, computed when not given), which sets the cloth-cloth distance.
    ``floor_z_m``: height [m] of a floor plane under the body (the ground it stands on), with
    the fabric's friction; None for none. A garment too big to stay up (a skirt wider than the
    hips) then comes to rest on the floor instead of sliding round the feet for ever.
    ``broad_phase_max_move``: the self-collision broad phase is refreshed once a particle moved
    this many cloth-cloth collision distances (``SelfCollisionBroadPhase``), measured from the
    cloth's common drift with ``broad_phase_centred`` (``MoveTracker``).
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
    valid = (
        valid
        & (welded[:, 0] != welded[:, 1])
        & (welded[:, 1] != welded[:, 2])
        & (welded[:, 0] != welded[:, 2])
    )
    faces = garment.faces[valid]
    corners = corners[valid]
    if len(faces) == 0:
        raise ValueError("garment has no triangles with a positive rest area")
    radius = float(fabric.thickness_m) + BODY_GAP_M
    if preclose_seams:
        around: dict[str, Any] = (
            {"body_vertices": body_vertices, "body_faces": body_faces} if sew_around_body else {}
        )
        start = preclosed_start(
            garment,
            particle_of_vertex,
            particle_count,
            clearance_m=2.0 * radius,
            device=device,
            **around,
        )
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
        tri_aniso_ke=(
            float(fabric.stretch_warp_n_m),
            float(fabric.stretch_weft_n_m),
            float(fabric.shear_n_m),
        ),
        edge_aniso_ke=(
            float(fabric.bending_n_m),
            float(fabric.bending_n_m),
            float(fabric.bending_n_m) * 0.5,
        ),
        particle_radius=radius,
    )
    shape_cfg = newton.ModelBuilder.ShapeConfig(mu=float(fabric.friction))
    body_mesh = newton.Mesh(
        np.asarray(body_vertices, dtype=np.float32),
        np.asarray(body_faces, dtype=np.int32).reshape(-1),
        compute_inertia=False,
    )
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
        SelfCollisionBroadPhase(
            solver.collision,
            model,
            float(broad_phase_max_move) * solver.collision.radius,
            centred=broad_phase_centred,
        )
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


def start_stretch(
    start: np.ndarray,
    tri_particles: np.ndarray,
    rest_inv: np.ndarray,
    clamp: tuple[float, float] = (1.0, 8.0),
) -> np.ndarray:
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
    cloth.model.tri_poses.assign(
        wp.array(inv.astype(np.float32), dtype=wp.mat22, device=cloth.model.device)
    )


def set_body_aabb(cloth: ClothModel, points: np.ndarray, pad_m: float = 0.05) -> None:
    """Widen the collider's local AABB (for contact culling) to cover ``points`` [m], (K, 3)."""
    import warp as wp

    lo = wp.array(
        [np.asarray(points).min(axis=0) - pad_m], dtype=wp.vec3, device=cloth.model.device
    )
    hi = wp.array(
        [np.asarray(points).max(axis=0) + pad_m], dtype=wp.vec3, device=cloth.model.device
    )
    wp.copy(cloth.model.shape_collision_aabb_lower, lo, 0, 0, 1)
    wp.copy(cloth.model.shape_collision_aabb_upper, hi, 0, 0, 1)


def _rest_positions(garment: Garment) -> np.ndarray:
    """A mesh import's rest shape (its file geometry) [m], else the placed positions, (N, 3)."""
    rest = garment.metadata.rest_positions
    return garment.positions if rest is None else rest
