# mypy: disable-error-code="index"
# (Warp kernel code: Warp compiles it with its own vector indexing, which its stubs lack)
"""Small Warp kernels for the frame loop: velocity damping, per-frame health statistics and a
leaner self-collision broad phase for Style3D."""

from __future__ import annotations

import numpy as np
import warp as wp

from tryon3d.sim import _cache  # noqa: F401  (sets WARP_CACHE_PATH before warp loads)

wp.config.quiet = True

#: Edge-face (untangling) candidates farther apart than this many collision distances are
#: dropped: Style3D pads each box by three of them, so this keeps the same reach, measured as a
#: distance instead of per axis.
EDGE_FACE_REACH = 3.0


@wp.kernel
def _damp_kernel(qd: wp.array[wp.vec3], factor: float):
    tid = wp.tid()
    qd[tid] = qd[tid] * factor


@wp.kernel
def _stats_kernel(
    q: wp.array[wp.vec3],
    qd: wp.array[wp.vec3],
    lower: wp.vec3,
    upper: wp.vec3,
    max_speed: wp.array[float],
    counts: wp.array[wp.int32],
):
    tid = wp.tid()
    p = q[tid]
    v = qd[tid]
    finite = wp.isfinite(p) and wp.isfinite(v)
    if not finite:
        wp.atomic_add(counts, 0, 1)
        return
    wp.atomic_max(max_speed, 0, wp.length(v))
    if (
        p[0] < lower[0]
        or p[1] < lower[1]
        or p[2] < lower[2]
        or p[0] > upper[0]
        or p[1] > upper[1]
        or p[2] > upper[2]
    ):
        wp.atomic_add(counts, 1, 1)


@wp.func
def _segment_segment_distance(a: wp.vec3, b: wp.vec3, c: wp.vec3, d: wp.vec3) -> float:
    st = wp.closest_point_edge_edge(a, b, c, d, 1.0e-6)
    return st[2]


@wp.func
def _inside_prism(p: wp.vec3, x0: wp.vec3, x1: wp.vec3, x2: wp.vec3, n: wp.vec3) -> bool:
    """Whether ``p`` projects into triangle (x0, x1, x2) of normal ``n``."""
    return (
        wp.dot(wp.cross(x1 - x0, p - x0), n) >= 0.0
        and wp.dot(wp.cross(x2 - x1, p - x1), n) >= 0.0
        and wp.dot(wp.cross(x0 - x2, p - x2), n) >= 0.0
    )


@wp.func
def _segment_triangle_distance(
    a: wp.vec3, b: wp.vec3, x0: wp.vec3, x1: wp.vec3, x2: wp.vec3
) -> float:
    n = wp.cross(x1 - x0, x2 - x0)
    length = wp.length(n)
    if length < 1.0e-12:
        return 0.0  # degenerate: keep it
    n = n / length
    da = wp.dot(a - x0, n)
    db = wp.dot(b - x0, n)
    if da * db <= 0.0 and da != db:
        hit = a + (b - a) * (da / (da - db))
        if _inside_prism(hit, x0, x1, x2, n):
            return 0.0  # the segment pierces the triangle
    d = wp.min(
        wp.min(_segment_segment_distance(a, b, x0, x1), _segment_segment_distance(a, b, x1, x2)),
        _segment_segment_distance(a, b, x2, x0),
    )
    if _inside_prism(a, x0, x1, x2, n):
        d = wp.min(d, wp.abs(da))
    if _inside_prism(b, x0, x1, x2, n):
        d = wp.min(d, wp.abs(db))
    return d


@wp.func
def _beyond_edge(
    a: wp.vec3, b: wp.vec3, x0: wp.vec3, x1: wp.vec3, n: wp.vec3, bound: float
) -> bool:
    """Whether segment (a, b) lies more than ``bound`` outside the triangle edge (x0, x1), along
    the in-plane outward normal ``cross(x1 - x0, n)``."""
    out = wp.cross(x1 - x0, n)
    limit = bound * wp.length(out)
    return wp.dot(a - x0, out) > limit and wp.dot(b - x0, out) > limit


@wp.func
def _separated(a: wp.vec3, b: wp.vec3, x0: wp.vec3, x1: wp.vec3, x2: wp.vec3, bound: float) -> bool:
    """A cheap sufficient test that segment (a, b) is farther than ``bound`` from triangle
    (x0, x1, x2): both ends beyond the triangle's plane or beyond one of its edges (separating
    axes: a projection onto a unit axis never lengthens a distance)."""
    n = wp.cross(x1 - x0, x2 - x0)
    limit = bound * wp.length(n)
    da = wp.dot(a - x0, n)
    db = wp.dot(b - x0, n)
    if (da > limit and db > limit) or (da < -limit and db < -limit):
        return True
    return (
        _beyond_edge(a, b, x0, x1, n, bound)
        or _beyond_edge(a, b, x1, x2, n, bound)
        or _beyond_edge(a, b, x2, x0, n, bound)
    )


@wp.kernel
def _cull_edge_face_kernel(
    pos: wp.array[wp.vec3],
    edge_indices: wp.array2d[wp.int32],
    tri_indices: wp.array2d[wp.int32],
    reach: float,
    candidates: wp.array2d[wp.int32],
):
    eid = wp.tid()
    a = edge_indices[eid, 2]
    b = edge_indices[eid, 3]
    xa = pos[a]
    xb = pos[b]
    bound = reach + 1.0e-6
    kept = wp.int32(0)
    for i in range(candidates[0, eid]):
        fid = candidates[i + 1, eid]
        f0 = tri_indices[fid, 0]
        f1 = tri_indices[fid, 1]
        f2 = tri_indices[fid, 2]
        # Warp kernels have no `in` over tuples
        if f0 == a or f0 == b or f1 == a or f1 == b or f2 == a or f2 == b:  # noqa: SIM109
            continue
        x0 = pos[f0]
        x1 = pos[f1]
        x2 = pos[f2]
        if _separated(xa, xb, x0, x1, x2, bound):
            continue
        if _segment_triangle_distance(xa, xb, x0, x1, x2) > reach:
            continue
        candidates[kept + 1, eid] = fid
        kept += 1
    candidates[0, eid] = kept


@wp.kernel
def _max_move_kernel(q: wp.array[wp.vec3], anchor: wp.array[wp.vec3], moved: wp.array[float]):
    tid = wp.tid()
    wp.atomic_max(moved, 0, wp.length(q[tid] - anchor[tid]))


@wp.kernel
def _move_bounds_kernel(
    q: wp.array[wp.vec3],
    anchor: wp.array[wp.vec3],
    lower: wp.array[float],
    upper: wp.array[float],
):
    tid = wp.tid()
    d = q[tid] - anchor[tid]
    for axis in range(3):
        wp.atomic_min(lower, axis, d[axis])
        wp.atomic_max(upper, axis, d[axis])


@wp.kernel
def _max_centred_move_kernel(
    q: wp.array[wp.vec3],
    anchor: wp.array[wp.vec3],
    lower: wp.array[float],
    upper: wp.array[float],
    moved: wp.array[float],
):
    tid = wp.tid()
    centre = 0.5 * wp.vec3(lower[0] + upper[0], lower[1] + upper[1], lower[2] + upper[2])
    wp.atomic_max(moved, 0, wp.length(q[tid] - anchor[tid] - centre))


class MoveTracker:
    """Largest particle displacement [m] since the positions were last marked.

    ``centred``: the displacements are measured from the centre of their bounding box (the
    cloth's common drift taken out). Two particles then approached each other by at most twice
    the returned value, as with plain displacements, but a garment sliding down the body as a
    whole does not count; for cloth-cloth pairs only (the body does not move with the cloth).
    """

    def __init__(self, count: int, device: str, *, centred: bool = False):
        self.count, self.device, self.centred = count, device, bool(centred)
        self.anchor = wp.zeros(count, dtype=wp.vec3, device=device)
        self.moved = wp.zeros(1, dtype=float, device=device)
        self.lower = wp.zeros(3, dtype=float, device=device)
        self.upper = wp.zeros(3, dtype=float, device=device)
        self.marked = False

    def mark(self, q: wp.array) -> None:
        wp.copy(self.anchor, q)
        self.marked = True

    def moved_m(self, q: wp.array) -> float:
        """Largest displacement [m] since ``mark`` (inf before the first mark)."""
        if not self.marked:
            return float("inf")
        self.moved.zero_()
        if not self.centred:
            wp.launch(
                _max_move_kernel,
                dim=self.count,
                inputs=[q, self.anchor, self.moved],
                device=self.device,
            )
            return float(self.moved.numpy()[0])
        self.lower.fill_(np.inf)
        self.upper.fill_(-np.inf)
        inputs = [q, self.anchor, self.lower, self.upper]
        wp.launch(_move_bounds_kernel, dim=self.count, inputs=inputs, device=self.device)
        wp.launch(
            _max_centred_move_kernel,
            dim=self.count,
            inputs=[*inputs, self.moved],
            device=self.device,
        )
        return float(self.moved.numpy()[0])


class SelfCollisionBroadPhase:
    """Wraps Style3D's self-collision broad phase (``Collision.frame_begin``, run at the start of
    every solver step): refreshes it only once some particle moved ``max_move_m`` [m] since the
    last refresh, and culls the edge-face (untangling) candidates.

    Style3D keeps a step's candidates through all of that step's iterations, in which the cloth
    moves up to the step's displacement (MAX_STEP_DISPLACEMENT_M, 3 mm); a settling cloth moves
    a fraction of a mm per frame, so the broad phase (BVH refit plus three queries, ~15 % of a
    10k-vertex step on the CPU) is skipped while it cannot have found anything new.

    Culled edge-face candidates: faces sharing a vertex with the edge (the untangling kernel
    skips them anyway) and faces farther than ``EDGE_FACE_REACH`` collision distances from the
    edge (Style3D's padded boxes reach that far per axis, so flat neighbourhoods two rings away
    filled the list). ~17 candidates per edge become ~0.1, and the untangling kernel, scanning
    them in each of a step's 10 iterations, was a third of the step. Before the exact distance
    a separating-axis test (the face's plane and its three in-plane edge normals) drops 95 % of
    the far faces for a few dot products (the cull: ~29 -> ~16 ms per refresh, 10k vertices).
    """

    def __init__(self, collision, model, max_move_m: float, *, centred: bool = False):
        self.collision, self.model, self.max_move_m = collision, model, float(max_move_m)
        # centred: pairs of cloth particles approach each other by at most twice the centred
        # displacement, as by twice the plain one (see MoveTracker)
        self.tracker = MoveTracker(model.particle_count, model.device, centred=centred)
        self._frame_begin = collision.frame_begin
        collision.frame_begin = self.frame_begin

    def frame_begin(self, particle_q: wp.array, particle_qd: wp.array, dt: float) -> None:
        if self.tracker.moved_m(particle_q) < self.max_move_m:
            return
        model, collision = self.model, self.collision
        self._frame_begin(particle_q, particle_qd, dt)
        if collision.stiff_ef > 0.0:
            reach = EDGE_FACE_REACH * collision.radius
            wp.launch(
                _cull_edge_face_kernel,
                dim=model.edge_count,
                inputs=[
                    particle_q,
                    model.edge_indices,
                    model.tri_indices,
                    reach,
                    collision.broad_phase_ef,
                ],
                device=model.device,
            )
        self.tracker.mark(particle_q)


class FrameStats:
    """Per-frame max speed [m/s], non-finite count and escaped count, in one small read-back."""

    def __init__(self, count: int, lower: np.ndarray, upper: np.ndarray, device: str):
        self.count = count
        self.lower = wp.vec3(*np.asarray(lower, dtype=np.float32))
        self.upper = wp.vec3(*np.asarray(upper, dtype=np.float32))
        self.device = device
        self.max_speed = wp.zeros(1, dtype=float, device=device)
        self.counts = wp.zeros(2, dtype=wp.int32, device=device)

    def damp(self, qd: wp.array, factor: float) -> None:
        """Scale all velocities by ``factor`` in place."""
        wp.launch(_damp_kernel, dim=self.count, inputs=[qd, float(factor)], device=self.device)

    def measure(self, q: wp.array, qd: wp.array) -> tuple[float, int, int]:
        """Returns (max speed [m/s], non-finite particles, particles outside the box)."""
        self.max_speed.zero_()
        self.counts.zero_()
        wp.launch(
            _stats_kernel,
            dim=self.count,
            inputs=[q, qd, self.lower, self.upper, self.max_speed, self.counts],
            device=self.device,
        )
        counts = self.counts.numpy()
        return float(self.max_speed.numpy()[0]), int(counts[0]), int(counts[1])
