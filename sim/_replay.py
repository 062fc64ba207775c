"""Style3D's PCG linear solve recorded once as a Warp graph and replayed (fewer Python launches).

Each non-linear iteration of ``newton.solvers.SolverStyle3D`` solves its linear system with
``PcgSolver.solve``: ~7 kernel launches and reductions per PCG iteration, ~70 per solve, each
paying 10-30 us of Python argument packing, while a 10k-vertex kernel runs for about as long.
The solve reads and writes the same solver-owned arrays on every call and takes no time step,
so its launches are recorded once per argument set (Warp graph capture; on the CPU Warp's API
capture, replayed in C++) and replayed: the same kernels on the same arrays in the same order,
so the result is the one the plain solve gives, bit for bit.
"""

from __future__ import annotations

from typing import Any

import warp as wp

from tryon3d.sim import _cache  # noqa: F401  (sets WARP_CACHE_PATH before warp loads)

__all__ = ["ReplayedLinearSolver", "StepReplay", "replay_linear_solves", "replay_steps"]

#: Recorded solver steps kept per solver (one per state pair, time step and iteration count);
#: the adaptive step's ramp makes a few that are used once.
MAX_RECORDED_STEPS = 16
#: Keys of steps run once (plainly) remembered per solver, so that their second use records.
MAX_SEEN_STEPS = 256


def _owner(value: Any) -> Any:
    """The object a bound method belongs to (a fresh bound method is made on each access)."""
    return getattr(value, "__self__", value)


class ReplayedLinearSolver:
    """Wraps a Style3D ``PcgSolver``: ``solve`` is recorded on first use per argument set
    (arrays, iteration count, warm or cold start, Hessian multiplier) and replayed after.

    Everything but ``solve`` is the wrapped solver's (``__getattr__``).
    """

    def __init__(self, inner: Any, device: Any):
        self.inner = inner
        self.device = wp.get_device(device)
        self.graphs: dict[tuple, tuple[Any, tuple]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def solve(  # the argument names are PcgSolver.solve's
        self,
        A_non_diag: Any,
        A_diag: wp.array,
        x0: wp.array | None,
        b: wp.array,
        inv_M: wp.array,
        x1: wp.array,
        iterations: int,
        additional_multiplier: Any = None,
    ) -> None:
        args = (A_non_diag, A_diag, x0, b, inv_M, x1, _owner(additional_multiplier))
        if self.device.is_capturing:  # inside a recorded step (StepReplay): recorded with it
            self.inner.solve(*args[:6], iterations, additional_multiplier)
            return
        method = getattr(additional_multiplier, "__func__", None)
        key = (*(id(a) for a in args), int(iterations), method)
        entry = self.graphs.get(key)
        if entry is None:
            wp.capture_begin(device=self.device)
            try:
                self.inner.solve(
                    A_non_diag, A_diag, x0, b, inv_M, x1, iterations, additional_multiplier
                )
            finally:
                graph = wp.capture_end(device=self.device)
            # the arguments are kept alive with the graph, so their ids cannot be reused
            entry = self.graphs[key] = (graph, args)
        wp.capture_launch(entry[0])


def replay_linear_solves(solver: Any) -> None:
    """Make a ``SolverStyle3D`` replay its recorded PCG solves (see ``ReplayedLinearSolver``)."""
    if not isinstance(solver.linear_solver, ReplayedLinearSolver):
        solver.linear_solver = ReplayedLinearSolver(solver.linear_solver, solver.device)


class StepReplay:
    """Replaces a ``SolverStyle3D``'s ``step``: all of a step's kernels (the non-linear
    iterations, contact forces, PCG solves, velocity update) recorded on the second use of
    (states, contacts, time step, iteration counts) and replayed from then on (the first use
    runs plainly), ~120 launches per step at 10
    iterations. The self-collision broad phase (``collision.frame_begin``, which reads back
    whether to refresh) runs before each replay, outside the graph; nothing else in the step
    reads the host, so the result is the plain step's bit for bit.
    """

    def __init__(self, solver: Any):
        self.solver = solver
        self.device = wp.get_device(solver.device)
        self.plain_step = solver.step
        self.graphs: dict[tuple, tuple[Any, tuple]] = {}
        self.seen: set[tuple] = set()  # keys stepped once, plainly

    def step(self, state_in: Any, state_out: Any, control: Any, contacts: Any, dt: float) -> None:
        solver = self.solver
        collision = solver.collision
        config = solver.config
        key = (
            id(state_in),
            id(state_out),
            id(control),
            id(contacts),
            float(dt),
            int(config.iterations),
            int(config.linear_iterations),
        )
        entry = self.graphs.get(key)
        if entry is None and key not in self.seen:
            # a step met for the first time runs plainly (its broad phase included): most of
            # the adaptive step's ramp is used once, and a recording costs ~0.25 ms of Python
            # per launch (Warp packs each launch's record) on top of the replay, more than a
            # plain launch; a step that comes back is recorded then
            if len(self.seen) >= MAX_SEEN_STEPS:
                self.seen.clear()
            self.seen.add(key)
            self.plain_step(state_in, state_out, control, contacts, dt)
            return
        if collision is not None:
            collision.frame_begin(state_in.particle_q, state_in.particle_qd, dt)
        if entry is None:
            if collision is not None:
                broad_phase = collision.__dict__.get("frame_begin")
                collision.frame_begin = _no_broad_phase
            wp.capture_begin(device=self.device)
            try:
                self.plain_step(state_in, state_out, control, contacts, dt)
            finally:
                graph = wp.capture_end(device=self.device)
                if collision is not None:
                    if broad_phase is None:
                        del collision.frame_begin
                    else:
                        collision.frame_begin = broad_phase
            if len(self.graphs) >= MAX_RECORDED_STEPS:
                self.graphs.pop(next(iter(self.graphs)))  # the oldest
            entry = self.graphs[key] = (graph, (state_in, state_out, control, contacts))
        wp.capture_launch(entry[0])


def _no_broad_phase(*_args: Any) -> None:
    """Stands in for the broad phase while a step is recorded (it runs before each replay)."""


def replay_steps(solver: Any) -> StepReplay:
    """Make a ``SolverStyle3D`` replay recorded steps (``StepReplay``) and its PCG solves."""
    replay_linear_solves(solver)
    replay = solver.__dict__.get("_tryon3d_step_replay")
    if replay is None:
        replay = StepReplay(solver)
        solver._tryon3d_step_replay = replay
        solver.step = replay.step
    return replay
