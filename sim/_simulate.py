"""drape(): settle a garment on a body with Newton's Style3D solver, then measure it."""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from typing import TYPE_CHECKING

import numpy as np

from tryon3d.sim import _cache  # noqa: F401  (sets WARP_CACHE_PATH before warp loads)
from tryon3d.sim._cache import repair_kernel_cache_once
from tryon3d.sim._drape import PENETRATION_TOLERANCE_M, Drape, DrapeDivergedError, DrapeGates
from tryon3d.sim._fit import ease_by_region
from tryon3d.sim._settings import (
    DEFAULT_LINEAR_ITERATIONS,
    DEFAULT_MAX_DT_S,
    DEFAULT_SOLVER_SETTINGS,
    SolverSettings,
)

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body
    from tryon3d.garments import Garment

_log = logging.getLogger(__name__)

#: A particle faster than this [m/s] means the solve blew up.
RUNAWAY_SPEED_M_S = 30.0
#: A particle deeper than this inside the body [m] counts as tunnelled while simulating.
TUNNEL_DEPTH_M = 0.01
#: A particle farther than this [m] outside the body's bounding box has left the scene.
ESCAPE_DISTANCE_M = 1.0
#: Time step of the at-rest probe [s].
PROBE_STEP_S = 1.0 / 120.0
#: At rest when 95 % of the particles accelerate less than this in the probe [m/s^2] (0.2 g).
REST_ACCELERATION_M_S2 = 2.0
#: Adaptive stepping: the next frame's step moves the fastest particle at most this far [m]
#: (below the self-collision query distance, so contacts are not skipped).
MAX_STEP_DISPLACEMENT_M = 0.003
#: A first attempt still moving after its budget continues this many budgets more.
EXTENSION_FACTOR = 2.0
#: Adaptive stepping: a frame's step grows by at most this factor over the previous one.
STEP_GROWTH = 1.5


class _Diverged(Exception):
    pass


def _check_inputs(
    body: Body,
    garment: Garment,
    device: str,
    dt: float,
    substeps: int,
    iterations: int,
    linear_iterations: int,
    max_seconds_simulated: float,
    retries: int,
    sewing_s: float,
) -> None:
    for name, obj, attrs in (
        ("body", body, ("vertices", "rest_vertices", "faces")),
        ("garment", garment, ("positions", "faces", "seam_pairs", "fabric", "uv")),
    ):
        missing = [a for a in attrs if not hasattr(obj, a)]
        if missing:
            raise TypeError(
                f"{name} must be a {name.capitalize()} (missing {missing}), got "
                f"{type(obj).__name__}"
            )
    if not isinstance(device, str) or not (device == "cpu" or device.startswith("cuda")):
        raise ValueError(f"device must be 'cpu' or 'cuda[:N]', got {device!r}")
    if device.startswith("cuda"):
        _check_cuda(device)
    if not (dt > 0.0 and math.isfinite(dt)):
        raise ValueError(f"dt must be a positive number of seconds, got {dt}")
    if not (max_seconds_simulated > 0.0 and math.isfinite(max_seconds_simulated)):
        raise ValueError(f"max_seconds_simulated must be positive, got {max_seconds_simulated}")
    for name, value in (
        ("substeps", substeps),
        ("iterations", iterations),
        ("linear_iterations", linear_iterations),
    ):
        if int(value) < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if not (sewing_s >= 0.0 and math.isfinite(sewing_s)):
        raise ValueError(f"sewing_s must be >= 0 seconds, got {sewing_s}")
    if int(retries) < 0:
        raise ValueError(f"retries must be >= 0, got {retries}")
    if len(garment.faces) == 0:
        raise ValueError("garment has no faces")
    if len(body.faces) == 0:
        raise ValueError("body has no faces")


def _check_cuda(device: str) -> None:
    """Raise a one-line ValueError when Warp cannot run on the CUDA ``device`` here."""
    import warp as wp

    wp.init()
    count = wp.get_cuda_device_count() if wp.is_cuda_available() else 0
    if count == 0:
        raise ValueError(
            f"device {device!r}: Warp finds no CUDA GPU (or driver) on this machine; use "
            "device='cpu'"
        )
    index = device.partition(":")[2]
    if index and (not index.isdigit() or int(index) >= count):
        raise ValueError(
            f"device {device!r}: this machine has {count} CUDA device(s), cuda:0..cuda:{count - 1}"
        )


class _Runner:
    """One simulation attempt: owns the Newton scene and the frame loop."""

    def __init__(
        self,
        body: Body,
        garment: Garment,
        *,
        device,
        dt,
        substeps,
        iterations,
        linear_iterations,
        self_collision,
        velocity_damping,
        speed_tolerance,
        stop_on_convergence,
        max_dt=None,
        sewing_s=0.0,
        settings: SolverSettings = DEFAULT_SOLVER_SETTINGS,
        moving_iterations: int | None = None,
        rest_iterations: int | None = None,
    ):
        import warp as wp

        from tryon3d.sim._colliders import collider_vertices
        from tryon3d.sim._kernels import FrameStats, MoveTracker
        from tryon3d.sim._pcg import fuse_linear_solves
        from tryon3d.sim._replay import replay_linear_solves, replay_steps
        from tryon3d.sim._scene import (
            blend_rest_shapes,
            build_cloth_model,
            median_edge_m,
            set_body_aabb,
        )

        self.wp = wp
        thickness, edge = float(garment.fabric.thickness_m), median_edge_m(garment)
        self.rest = collider_vertices(body, body.rest_vertices, thickness, edge)
        # an unposed body's target is its rest pose: the same collider
        self.target = (
            self.rest
            if np.array_equal(body.vertices, body.rest_vertices)
            else collider_vertices(body, body.vertices, thickness, edge)
        )
        self.cloth = build_cloth_model(
            garment,
            self.rest,
            body.faces,
            device=device,
            iterations=iterations,
            linear_iterations=linear_iterations,
            self_collision=self_collision,
            sew_around_body=sewing_s > 0.0,
            edge_m=edge,
            floor_z_m=float(min(self.rest[:, 2].min(), self.target[:, 2].min())),
            broad_phase_max_move=settings.broad_phase_max_move,
            broad_phase_centred=settings.broad_phase_centred,
        )
        if settings.fused_linear_solve:
            fuse_linear_solves(self.cloth.solver)
        if settings.replay_steps:
            replay_steps(self.cloth.solver)
        elif settings.replay_linear_solves:
            replay_linear_solves(self.cloth.solver)
        self.settings = settings
        self.iterations = int(iterations)
        self.moving_iterations = int(moving_iterations or iterations)
        self.rest_iterations = int(rest_iterations or iterations)
        self.linear_iterations = int(linear_iterations)
        self.rest_linear_iterations = int(settings.rest_linear_iterations or linear_iterations)
        self.last_speed = float("inf")  # the previous frame's max speed [m/s]
        particle_count = self.cloth.state_0.particle_q.shape[0]
        # body contacts are re-detected once the cloth moved (see SolverSettings)
        self.contact_tracker = (
            MoveTracker(particle_count, device) if settings.contact_refresh_m > 0.0 else None
        )
        self.collider_moving = False
        both = np.concatenate([self.rest, self.target])
        set_body_aabb(self.cloth, both)
        lo = both.min(axis=0) - ESCAPE_DISTANCE_M
        hi = both.max(axis=0) + ESCAPE_DISTANCE_M
        self.stats = FrameStats(particle_count, lo, hi, device)
        self.dt, self.substeps = dt, substeps
        self.max_dt = max(dt, max_dt if max_dt is not None else dt)
        self.step_dt = dt  # the adaptive frame step [s], between dt and max_dt
        self.velocity_damping = velocity_damping
        self.seconds_simulated = 0.0
        self.speed_tolerance = speed_tolerance
        self.stop_on_convergence = stop_on_convergence
        self.frames = 0
        self.probe_acceleration = float("nan")
        self.checks = True
        self.device = device
        self.initial_inside = self._inside_count()
        self.sewing_s = max(0.0, float(sewing_s))
        self._blend = blend_rest_shapes
        if self.sewing_s > 0.0:
            blend_rest_shapes(self.cloth, 0.0)

    @property
    def sewing(self) -> bool:
        """True while the rest shapes still ramp from the start shape to the pattern."""
        return self.seconds_simulated < self.sewing_s

    def _inside_count(self, depth_m: float = TUNNEL_DEPTH_M) -> int:
        """Particles deeper than ``depth_m`` inside the collider in its current pose."""
        from tryon3d.sim._measure import signed_distance

        q = self.cloth.state_0.particle_q.numpy()
        distance, _ = signed_distance(self.cloth.body_mesh, q, self.device)
        return int(np.count_nonzero(distance < -depth_m))

    def _step_frame(self) -> float:
        """Advance one frame of ``step_dt`` (collide once, ``substeps`` solver steps); return
        the max speed [m/s] and adapt the next frame's step to it."""
        cloth = self.cloth
        sewing = self.sewing
        if sewing:
            x = min(1.0, (self.seconds_simulated + self.dt) / self.sewing_s)
            self._blend(cloth, x * x * (3.0 - 2.0 * x))
            self.step_dt = self.dt
        self._collide()
        speed = self.last_speed
        resting = speed < self.settings.rest_speed_m_s and not sewing
        cloth.solver.config.iterations = (
            self.moving_iterations
            if speed >= self.settings.moving_speed_m_s
            else self.rest_iterations
            if resting
            else self.iterations
        )
        cloth.solver.config.linear_iterations = (
            self.rest_linear_iterations if resting else self.linear_iterations
        )
        frame_dt = self.step_dt
        h = frame_dt / self.substeps
        damping = math.exp(-self.velocity_damping * h)
        for _ in range(self.substeps):
            self._advance(h)
            if damping < 1.0:
                self.stats.damp(cloth.state_0.particle_qd, damping)
        self.frames += 1
        self.seconds_simulated += frame_dt
        max_speed, bad, escaped = self.stats.measure(
            cloth.state_0.particle_q, cloth.state_0.particle_qd
        )
        self.last_speed = max_speed
        if self.max_dt > self.dt and math.isfinite(max_speed) and not sewing:
            wanted = MAX_STEP_DISPLACEMENT_M / max(max_speed, 1e-6)
            self.step_dt = min(max(wanted, self.dt), self.max_dt, frame_dt * STEP_GROWTH)
        if bad:
            raise _Diverged(f"{bad} particle positions became NaN/inf at frame {self.frames}")
        if not self.checks:
            return max_speed
        if max_speed > RUNAWAY_SPEED_M_S:
            raise _Diverged(f"runaway speed {max_speed:.1f} m/s at frame {self.frames}")
        if escaped:
            raise _Diverged(
                f"{escaped} particles left the body's surroundings at frame {self.frames}"
            )
        if self.frames % 5 == 0:
            self._check_tunnelling()
        return max_speed

    def _advance(self, h: float) -> None:
        """One solver step of ``h`` [s] from ``state_0`` into ``state_0``.

        Style3D leaves the final positions in both states (it updates its input in place) and
        the velocities in ``state_1``; copying those back instead of swapping the states keeps
        one (states, time step) pair per step size, so a replayed step (``StepReplay``) is
        recorded once per step size instead of once per step size and state parity.
        """
        cloth = self.cloth
        cloth.state_0.clear_forces()
        cloth.solver.step(cloth.state_0, cloth.state_1, cloth.control, cloth.contacts, h)
        self.wp.copy(cloth.state_0.particle_qd, cloth.state_1.particle_qd)

    def _collide(self, force: bool = False) -> None:
        """Detect body contacts, unless the collider is still and no particle moved
        ``contact_refresh_m`` since the last detection (``force`` detects anyway)."""
        cloth, tracker = self.cloth, self.contact_tracker
        q = cloth.state_0.particle_q
        if (
            tracker is not None
            and not (force or self.collider_moving)
            and tracker.moved_m(q) < self.settings.contact_refresh_m
        ):
            return
        cloth.pipeline.collide(cloth.state_0, cloth.contacts)
        if tracker is not None:
            tracker.mark(q)

    def _check_tunnelling(self) -> None:
        if not self.checks:
            return
        inside = self._inside_count()
        allowed = self.initial_inside + max(3, int(0.005 * self.cloth.state_0.particle_q.shape[0]))
        if inside > allowed:
            raise _Diverged(
                f"{inside} particles tunnelled more than {TUNNEL_DEPTH_M * 1000:.0f} mm into the "
                "body "
                f"at frame {self.frames}"
            )

    def settle(self, max_seconds: float) -> bool:
        """Run until at rest or for ``max_seconds`` simulated; returns whether the cloth is at rest.

        At rest: over a window of ``SolverSettings.drift_window_frames`` frames (even), 99 % of
        the particles drifted slower than the speed tolerance (all slower than 10x it), and a
        probe step from zero velocity
        shows no acceleration (see ``_at_rest``). Drift, not instantaneous speed, so that a few
        particles pinched between two body parts and jittering in place do not count as motion.
        """
        at_rest = False
        window_start = self.particle_positions()
        window_time = self.seconds_simulated
        end = self.seconds_simulated + max_seconds - 1e-9
        frame = 0
        while self.seconds_simulated < end:
            speed = self._step_frame()
            frame += 1
            if frame % self.settings.drift_window_frames:
                continue
            now = self.particle_positions()
            drift = np.linalg.norm(now - window_start, axis=1) / (
                self.seconds_simulated - window_time
            )
            window_start, window_time = now, self.seconds_simulated
            still = speed < self.speed_tolerance or (
                drift.max() < 10.0 * self.speed_tolerance
                and float(np.percentile(drift, 99)) < self.speed_tolerance
            )
            at_rest = still and not self.sewing and self._at_rest()
            if at_rest and self.stop_on_convergence:
                break
        self._check_tunnelling()
        return at_rest

    def settle_or_extend(self, budget: float, extension: float) -> bool:
        """``settle(budget)``; a cloth still moving then gets ``extension`` more seconds."""
        return self.settle(budget) or (extension > 0.0 and self.settle(extension))

    def _at_rest(self) -> bool:
        """Probe: from zero velocity, one step of PROBE_STEP_S; at equilibrium the cloth barely
        accelerates, while cloth that only looks still (an under-resolved huge step) falls at ~g.
        """
        wp, cloth = self.wp, self.cloth
        restore = self.settings.restore_after_probe
        if restore:
            saved = (wp.clone(cloth.state_0.particle_q), wp.clone(cloth.state_0.particle_qd))
        cloth.state_0.particle_qd.zero_()
        self._collide()
        cloth.solver.config.iterations = self.iterations
        cloth.solver.config.linear_iterations = self.linear_iterations
        self._advance(PROBE_STEP_S)
        speeds = np.linalg.norm(cloth.state_0.particle_qd.numpy(), axis=1)
        acceleration = float(np.percentile(speeds, 95)) / PROBE_STEP_S
        self.probe_acceleration = acceleration
        at_rest = acceleration < REST_ACCELERATION_M_S2
        if restore and not at_rest:
            wp.copy(cloth.state_0.particle_q, saved[0])
            wp.copy(cloth.state_0.particle_qd, saved[1])
        return at_rest

    def transition(self, speed_m_s: float, min_frames: int) -> int:
        """Move the collider linearly from rest to target pose while the cloth follows."""
        wp = self.wp
        mesh = self.cloth.body_mesh
        displacement = self.target - self.rest
        largest = float(np.linalg.norm(displacement, axis=1).max())
        frames = max(min_frames, math.ceil(largest / (speed_m_s * self.dt)))
        velocity = displacement / (frames * self.dt)
        self.step_dt = self.dt  # the collider moves at a fixed step
        self.collider_moving = True
        mesh.velocities.assign(
            wp.array(velocity.astype(np.float32), dtype=wp.vec3, device=self.device)
        )
        for k in range(1, frames + 1):
            points = self.rest + displacement * (k / frames)
            mesh.points.assign(
                wp.array(points.astype(np.float32), dtype=wp.vec3, device=self.device)
            )
            mesh.refit()
            self._step_frame()
        mesh.velocities.zero_()
        self.collider_moving = False
        if self.contact_tracker is not None:
            self._collide(force=True)  # contacts of the collider at rest (zero velocity)
        self.step_dt = self.dt
        return frames

    def project_out(self) -> int:
        """Collision clean-up after settling: particles left inside the collider (penalty
        contact can yield a few mm at creases) move out along the surface normal to half the
        contact radius. Returns how many moved."""
        from tryon3d.sim._measure import signed_distance

        q = self.cloth.state_0.particle_q.numpy().astype(np.float64)
        distance, normal = signed_distance(self.cloth.body_mesh, q, self.device)
        inside = distance < 0.0
        if inside.any():
            q[inside] += (
                normal[inside] * (0.5 * self.cloth.particle_radius - distance[inside])[:, None]
            )
            self.cloth.state_0.particle_q.assign(q.astype(np.float32))
            self.cloth.state_0.particle_qd.zero_()
        return int(inside.sum())

    def particle_positions(self) -> np.ndarray:
        return self.cloth.state_0.particle_q.numpy().astype(np.float64)


@repair_kernel_cache_once
def drape(
    body: Body,
    garment: Garment,
    *,
    device: str = "cpu",
    max_seconds_simulated: float = 4.0,
    dt: float = 1.0 / 60.0,
    max_dt: float | None = DEFAULT_MAX_DT_S,
    substeps: int = 1,
    iterations: int = 10,
    linear_iterations: int = DEFAULT_LINEAR_ITERATIONS,
    velocity_damping: float = 6.0,
    speed_tolerance_m_s: float = 0.01,
    stop_on_convergence: bool = True,
    self_collision: bool = True,
    transition_speed_m_s: float = 0.5,
    retries: int = 2,
    divergence_checks: bool = True,
    sewing_s: float = 0.3,
    solver_settings: SolverSettings = DEFAULT_SOLVER_SETTINGS,
) -> Drape:
    """Drape ``garment`` on ``body`` and return the settled shape with fit fields and gates.

    The garment starts at its placement (``Garment.positions``) around the canonical pose
    (``Body.rest_vertices``); seam pairs are merged into single particles (each triangle keeps
    its 2D pattern rest shape), and the placement's seam gaps are closed geometrically before
    the first step (a harmonic deformation of each panel, then pushed out of the body); the
    body is a static mesh collider with the fabric's friction;
    gravity pulls; velocities are damped; the run stops when the cloth is at rest. If the
    target pose (``Body.vertices``) differs, the collider then moves linearly to it while the
    cloth follows, and the cloth settles again.

    Args:
        body: a ``bodyfit.Body``.
        garment: a ``garments.Garment``.
        device: Warp device, ``"cpu"`` or ``"cuda"`` / ``"cuda:N"``.
        max_seconds_simulated: frame budget of each settle phase, in simulated seconds [s]. In
            the first attempt a phase that is not at rest by then continues for up to
            ``EXTENSION_FACTOR`` times as long (slow sliding under friction) before a retry.
        dt: frame time step [s]; one collision detection per frame. The smallest step
            when stepping adaptively.
        max_dt: largest adaptive frame step [s]: each frame's step is the one that moves the
            fastest particle about 3 mm (clamped to ``[dt, max_dt]``, growing by at most 1.5x
            per frame), so a slow-creeping cloth is settled in few, long frames. ``None`` or
            ``<= dt``: fixed step ``dt`` (the pose transition always uses ``dt``).
        substeps: solver steps per frame (``dt / substeps`` each).
        iterations / linear_iterations: Style3D non-linear and PCG iterations per step
            (``DEFAULT_LINEAR_ITERATIONS``: measured, see ``sim._settings``).
        velocity_damping: velocity decay rate [1/s] (v *= exp(-rate * h) per step); 0 = none.
        speed_tolerance_m_s: the cloth is at rest when, over a drift window
            (``SolverSettings.drift_window_frames``), 99 % of its particles drifted slower than
            this and all slower than 10x this [m/s] (and a probe step from zero velocity
            confirms it).
        stop_on_convergence: stop a settle phase as soon as the cloth is at rest.
        self_collision: cloth-cloth collision on.
        transition_speed_m_s: fastest collider vertex speed in the pose transition [m/s].
        retries: attempts after a divergence or a run that failed its gates (did not come to
            rest within ``max_seconds_simulated``, or came to rest inside the body, tangled or
            with a seam open; with ``stop_on_convergence``): the first retry ramps the sewing
            (``sewing_s``)
            at the same step, later ones also halve the step and double the iterations.
        divergence_checks: detect runaway speed, escape and tunnelling (NaN is always
            detected). False steps blindly, as Newton's examples do (for baselines).
        sewing_s: length of the sewing ramp of the retries [s simulated] (the first attempt
            sews at once, so drapes that pass keep their result). A retry closes the seams
            progressively around the body, then the triangles' rest shapes start
            as the (seam-closed, force free) start shape and blend smoothly to the 2D pattern
            over this time, at the fixed step ``dt``, so a stretched or squeezed start relaxes
            gently instead of snapping through the body. 0 = the pattern from the first step.
        solver_settings: stepping choices measured for speed (``SolverSettings``);
            ``LEGACY_SOLVER_SETTINGS`` steps as before issue 19.

    Returns:
        The Drape, in the target pose: the first attempt that passed its gates
        (``DrapeGates.passed``); if none did, the least bad (at rest, then fewest penetrating
        vertices, then fewest self-intersections, then smallest seam gap).

    Raises:
        DrapeDivergedError: every attempt diverged (NaN, runaway speed, tunnelling, escape).
        ValueError / TypeError: bad arguments.
    """
    _check_inputs(
        body,
        garment,
        device,
        dt,
        substeps,
        iterations,
        linear_iterations,
        max_seconds_simulated,
        retries,
        sewing_s,
    )
    if not isinstance(solver_settings, SolverSettings):
        raise TypeError(
            f"solver_settings must be a SolverSettings, got {type(solver_settings).__name__}"
        )
    if max_dt is not None and not (max_dt > 0.0 and math.isfinite(max_dt)):
        raise ValueError(f"max_dt must be a positive number of seconds or None, got {max_dt}")
    started = time.perf_counter()
    failures = []
    failed: list[Drape] = []
    for attempt in range(int(retries) + 1):
        # attempt 1 sews at once; the first retry ramps the sewing at the same step; later
        # retries also halve the step and double the iterations
        halvings = max(0, attempt - 1) if sewing_s > 0.0 else attempt
        step = dt / (2**halvings)
        scale = 2 if halvings else 1  # a shorter step gets twice the iterations
        iters = iterations * scale
        moving = solver_settings.moving_iterations
        moving_iters = iters if moving is None else min(iters, moving * scale)
        rest = solver_settings.rest_iterations
        rest_iters = iters if rest is None else rest * scale
        sew = sewing_s if attempt else 0.0
        try:
            result = _attempt(
                body,
                garment,
                started=started,
                device=device,
                max_seconds_simulated=max_seconds_simulated,
                dt=step,
                max_dt=None if max_dt is None else max_dt / (2**halvings),
                substeps=substeps,
                iterations=iters,
                linear_iterations=linear_iterations,
                velocity_damping=velocity_damping,
                speed_tolerance=speed_tolerance_m_s,
                stop_on_convergence=stop_on_convergence,
                self_collision=self_collision,
                transition_speed=transition_speed_m_s,
                attempt=attempt,
                divergence_checks=divergence_checks,
                sewing_s=sew,
                settings=solver_settings,
                moving_iterations=moving_iters,
                rest_iterations=rest_iters,
            )
        except _Diverged as exc:
            _log.info(
                "drape attempt %d (dt=%.4g s, %d iterations, sewing %.2g s) diverged: %s",
                attempt + 1,
                step,
                iters,
                sew,
                exc,
            )
            failures.append(f"dt={step:.4g}s/{iters} iterations/sewing {sew:.2g}s: {exc}")
            continue
        # a run that did not pass its gates (never came to rest, or came to rest tangled or
        # inside the body) is retried too; a run without stop_on_convergence asked for a fixed
        # number of frames, so it is not
        if result.gates.passed or not stop_on_convergence:
            return result
        _log.info(
            "drape attempt %d (dt=%.4g s, %d iterations, sewing %.2g s) failed its gates: %s",
            attempt + 1,
            step,
            iters,
            sew,
            result.gates,
        )
        failed.append(result)
    if failed:  # none passed: the least bad of those that ran through
        return min(failed, key=_badness)
    raise DrapeDivergedError(
        f"drape of {garment.name!r} diverged on all {len(failures)} attempts "
        f"({'; '.join(failures)})"
    )


def _badness(drape: Drape) -> tuple:
    """Sort key of failed attempts, least bad first: at rest, then fewest penetrating vertices,
    self-intersections and smallest seam gap."""
    gates = drape.gates
    return (
        not gates.converged,
        gates.penetrating_vertices,
        gates.self_intersecting_pairs,
        gates.max_seam_gap_mm,
    )


def _attempt(
    body: Body,
    garment: Garment,
    *,
    started,
    device,
    max_seconds_simulated,
    dt,
    max_dt,
    substeps,
    iterations,
    linear_iterations,
    velocity_damping,
    speed_tolerance,
    stop_on_convergence,
    self_collision,
    transition_speed,
    attempt,
    divergence_checks,
    sewing_s,
    settings,
    moving_iterations,
    rest_iterations,
) -> Drape:
    timings = {}
    t0 = time.perf_counter()
    runner = _Runner(
        body,
        garment,
        device=device,
        dt=dt,
        substeps=substeps,
        iterations=iterations,
        linear_iterations=linear_iterations,
        self_collision=self_collision,
        velocity_damping=velocity_damping,
        speed_tolerance=speed_tolerance,
        stop_on_convergence=stop_on_convergence,
        max_dt=max_dt,
        sewing_s=sewing_s,
        settings=settings,
        moving_iterations=moving_iterations,
        rest_iterations=rest_iterations,
    )
    runner.checks = divergence_checks
    timings["build"] = time.perf_counter() - t0
    budget = float(max_seconds_simulated)
    t0 = time.perf_counter()
    # the first attempt gives a phase that is still moving more time before retrying from scratch:
    # a loose waistband sliding down to the hips under friction is slow, not unstable
    extension = EXTENSION_FACTOR * budget if attempt == 0 and stop_on_convergence else 0.0
    converged = runner.settle_or_extend(budget, extension)
    projected = runner.project_out()
    timings["settle"] = time.perf_counter() - t0
    canonical = runner.particle_positions()
    canonical_penetrating = runner._inside_count(PENETRATION_TOLERANCE_M)
    transition_frames = 0
    posed = not np.allclose(runner.target, runner.rest, atol=1e-6)
    t0 = time.perf_counter()
    if posed:
        transition_frames = runner.transition(transition_speed, min_frames=max(1, round(0.25 / dt)))
        converged = runner.settle_or_extend(budget, extension) and converged
        projected += runner.project_out()
    timings["transition"] = time.perf_counter() - t0
    final = runner.particle_positions()
    t0 = time.perf_counter()
    drape = _measure(body, garment, runner, canonical, final, converged)
    timings["measure"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    metadata = {
        "sewing_s": sewing_s,
        "dt_s": dt,
        "max_dt_s": runner.max_dt,
        "substeps": substeps,
        "iterations": iterations,
        "linear_iterations": linear_iterations,
        "moving_iterations": moving_iterations,
        "rest_iterations": rest_iterations,
        # flat (scalar) keys: drape.json's solver summary keeps scalars only
        **{f"solver_{name}": value for name, value in dataclasses.asdict(settings).items()},
        "velocity_damping_per_s": velocity_damping,
        "speed_tolerance_m_s": speed_tolerance,
        "attempts": attempt + 1,
        "transition_frames": transition_frames,
        "posed": posed,
        "particles": len(canonical),
        "seconds_simulated": runner.seconds_simulated,
        "canonical_penetrating_vertices": canonical_penetrating,
        "probe_acceleration_m_s2": runner.probe_acceleration,
        "projected_out_vertices": projected,
        **drape.pop("metadata"),
    }
    return Drape(
        **drape,
        timings_s=timings,
        device=str(runner.cloth.model.device),
        frames=runner.frames,
        garment_name=garment.name,
        garment_size=garment.size,
        fabric_name=garment.fabric.name,
        metadata=metadata,
    )


def _measure(
    body: Body, garment: Garment, runner, canonical: np.ndarray, final: np.ndarray, converged: bool
) -> dict:
    from tryon3d.sim._import_gates import import_gate_failures
    from tryon3d.sim._measure import (
        deformation,
        self_intersecting_pairs,
        signed_distance,
        stretch_fields,
        vertex_areas,
    )
    from tryon3d.sim._scene import CONTACT_KE

    cloth = runner.cloth
    pov = cloth.particle_of_vertex
    positions = final[pov]
    rest_pose_positions = canonical[pov]
    faces = garment.faces
    face_count = len(faces)
    stretch = [np.full(face_count, 100.0) for _ in range(4)]
    grad = deformation(positions, cloth.tri_faces, cloth.rest_inv)
    valid = cloth.face_valid
    for out, value in zip(stretch, stretch_fields(grad), strict=True):
        out[valid] = value
    target_mesh = cloth.body_mesh  # animated to the target pose when posed
    particle_distance, _ = signed_distance(target_mesh, final, runner.device)
    distance = particle_distance[pov]
    particle_faces = pov[cloth.tri_faces]
    area = vertex_areas(final, particle_faces)
    overlap = np.clip(cloth.particle_radius - particle_distance, 0.0, None)
    pressure = np.where(area > 0.0, CONTACT_KE * overlap / np.maximum(area, 1e-12), 0.0)[pov]
    pairs = garment.seam_pairs
    seam_gap = (
        float(np.linalg.norm(positions[pairs[:, 0]] - positions[pairs[:, 1]], axis=1).max())
        if len(pairs)
        else 0.0
    )
    gates = DrapeGates(
        penetrating_vertices=int(np.count_nonzero(particle_distance < -PENETRATION_TOLERANCE_M)),
        self_intersecting_pairs=self_intersecting_pairs(final, particle_faces, runner.device),
        max_seam_gap_mm=1000.0 * seam_gap,
        max_stretch_pct=float(stretch[0].max()),
        converged=bool(converged),
        failures=import_gate_failures(body, garment, rest_pose_positions),
    )
    ease, tape_ease = ease_by_region(body, garment, rest_pose_positions)
    return {
        "positions": positions,
        "rest_pose_positions": rest_pose_positions,
        "faces": faces,
        "uv": garment.uv,
        "stretch_pct": stretch[0],
        "stretch_min_pct": stretch[1],
        "stretch_warp_pct": stretch[2],
        "stretch_weft_pct": stretch[3],
        "body_distance_m": distance,
        "contact_pressure_pa": pressure,
        "ease_m": ease,
        "tape_ease_m": tape_ease,
        "gates": gates,
        "metadata": {"stretch_p95_pct": float(np.percentile(stretch[0], 95))},
    }
