"""The map step on several CPU cores: one forked worker per size, from one warm parent.

Warp's CPU backend runs a kernel on one core and the GIL serialises threads, so the sizes of a
fit report drape in processes. Fresh processes pay ~3 s of imports each (torch, anny, Warp,
Newton); forked ones inherit the parent's: ``fork_map`` warms the parent (imports, the body's
placement data, Warp's kernel modules), freezes its objects out of the collector (children then
leave the shared pages alone) and forks one child per job, at most ``workers`` at a time. Each
child pickles its ``DrapeJobResult`` back through a pipe; our own parent reads what our own
child wrote, nothing a user handed us. A child that raises, crashes, is killed or outlives
``timeout_s`` gives its job an ``error``; every child is reaped (no zombies) and Ctrl-C kills
them all. CUDA must not fork (a forked CUDA context is unusable): jobs on ``cuda`` run serially.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import os
import pickle
import selectors
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from tryon3d.sizing._records import DrapeJob, DrapeJobResult

__all__ = ["auto_workers", "fork_map", "parallel_map", "use_fork"]

_log = logging.getLogger("tryon3d")

#: Wall-clock limit [s] of one forked job; a drape that runs longer is killed and reported.
DEFAULT_TIMEOUT_S = 900.0
#: Pipe read size [bytes].
_CHUNK = 1 << 20

#: ``on_result(index, result)``: one job's result, as soon as it is known.
ResultCallback = Callable[[int, DrapeJobResult], None]


def auto_workers(job_count: int) -> int:
    """Workers for ``job_count`` jobs on this machine: min(jobs, cores usable here), at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(int(job_count), cores))


def _can_fork(jobs: Sequence[DrapeJob]) -> bool:
    return hasattr(os, "fork") and all(
        not str(getattr(job, "device", "cpu")).startswith("cuda") for job in jobs
    )


def _error_result(job: DrapeJob, message: str, seconds: float = 0.0) -> DrapeJobResult:
    return DrapeJobResult(
        job=job,
        garment=None,
        drape=None,
        error=message,
        seconds={"place": 0.0, "drape": 0.0, "total": seconds},
    )


def _without_job(result: DrapeJobResult) -> dict[str, Any]:
    """A result's fields but its job, which the parent holds already: what a worker sends."""
    return {f.name: getattr(result, f.name) for f in dataclasses.fields(result) if f.name != "job"}


#: Devices whose Warp kernels this process has already loaded (``_warm_parent``).
_warmed: set[str] = set()


def _prepare_bodies(jobs: Sequence[DrapeJob]) -> None:
    """Each body's placement data (``garments.prepare_body``) for the jobs that do not carry
    their garment: computed once here instead of once per child."""
    from tryon3d import garments

    todo = [job.body for job in jobs if job.garment is None and job.body is not None]
    for body in {id(body): body for body in todo}.values():
        try:
            garments.prepare_body(body)
        except Exception as exc:
            _log.debug("no placement warm-up for this body: %s", exc)


def _warm_kernels(device: str = "cpu") -> None:
    """The stage imports and Warp's kernel modules on ``device`` (a tiny drape, once per
    process: the first cloth model of a process costs ~1.7 s of module loading)."""
    from tryon3d import sim

    if device not in _warmed:
        sim.warm_up_kernels(device=device)
        _warmed.add(device)


def _warm_parent(jobs: Sequence[DrapeJob]) -> None:
    """What every child would otherwise pay itself: the stage imports, each body's placement
    data and Warp's CPU kernel modules."""
    _prepare_bodies(jobs)
    _warm_kernels("cpu")


@dataclass
class _Child:
    index: int
    pid: int
    fd: int
    started: float
    data: list[bytes] = field(default_factory=list)


def _set_parent_death_signal() -> None:
    """Linux: the kernel kills this child when its parent dies (even by SIGKILL)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG


def _flush_std_streams() -> None:
    """Flush stdout/stderr before a fork (a child would write the buffer again) or ``os._exit``."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()


def _enter_child(parent: int) -> None:
    """A forked child's first step: the parent handles Ctrl-C and kills us; we die with it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _set_parent_death_signal()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)


def _leave_child(code: int) -> NoReturn:
    """A forked child's last step: no atexit handlers, no collection of inherited objects."""
    _flush_std_streams()
    os._exit(code)


def _write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to the blocking ``fd`` (``os.write`` may write part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _child_main(
    fn: Callable[[DrapeJob], DrapeJobResult], job: DrapeJob, fd: int, parent: int
) -> None:
    """Run one job in the forked child, write the pickled result to ``fd`` and leave with
    ``os._exit`` (no atexit handlers or collection of the inherited objects)."""
    code = 0
    try:
        _enter_child(parent)
        tick = time.perf_counter()
        try:
            result = fn(job)
        except BaseException as exc:
            result = _error_result(
                job, f"{type(exc).__name__}: {exc}".splitlines()[0], time.perf_counter() - tick
            )
        try:  # without its job: the parent has it (and its body) already
            payload = pickle.dumps(_without_job(result), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            payload = pickle.dumps(
                _without_job(_error_result(job, f"result could not be sent back: {exc}")),
                protocol=pickle.HIGHEST_PROTOCOL,
            )
        _write_all(fd, payload)
    except BaseException:
        code = 1
    finally:
        _leave_child(code)


def _reap(pid: int, *, block: bool) -> int | None:
    """The child's wait status, or None while it runs (``block=False``)."""
    try:
        done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
    except ChildProcessError:
        return 0
    return status if done else None


def _why(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f"the worker was killed by {name}"
    return f"the worker exited with status {os.waitstatus_to_exitcode(status)} and no result"


def _finish(child: _Child, job: DrapeJob, status: int) -> DrapeJobResult:
    elapsed = time.perf_counter() - child.started
    payload = b"".join(child.data)
    if status == 0 and payload:
        try:
            result = pickle.loads(payload)
        except Exception as exc:
            return _error_result(job, f"the worker's result could not be read: {exc}", elapsed)
        if isinstance(result, dict):
            return DrapeJobResult(job=job, **result)
    return _error_result(job, _why(status), elapsed)


def fork_map(
    fn: Callable[[DrapeJob], DrapeJobResult],
    jobs: Sequence[DrapeJob],
    *,
    workers: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    warm: bool = True,
    on_result: ResultCallback | None = None,
) -> list[DrapeJobResult]:
    """``[fn(job) for job in jobs]`` in forked children, at most ``workers`` at a time.

    Args:
        fn: the map step, e.g. ``run_drape_job``; it runs in the child.
        jobs: the jobs; results come back in this order.
        workers: concurrent children; None: ``auto_workers(len(jobs))``. With 1 worker, one
            job, jobs on CUDA or no ``os.fork`` the jobs run here, one after the other.
        timeout_s: wall-clock limit per job [s]; a child past it is killed and its job gets an
            ``error``.
        warm: load the stages, the bodies' placement data and Warp's kernels here first, so the
            children inherit them instead of each loading its own.
        on_result: called here with ``(index, result)`` as each job's result is known (in the
            order they finish), e.g. to render a size while the others drape.

    Returns:
        One ``DrapeJobResult`` per job; a child that raised, crashed or timed out gives its job
        one with ``error`` set (one line).

    Raises:
        ValueError: ``workers`` < 1 or ``timeout_s`` <= 0.
    """
    jobs = list(jobs)
    workers = auto_workers(len(jobs)) if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
    if workers == 1 or len(jobs) < 2 or not _can_fork(jobs):
        serial = []
        for index, job in enumerate(jobs):
            serial.append(fn(job))
            if on_result is not None:
                on_result(index, serial[-1])
        return serial
    if warm:
        _warm_parent(jobs)
    frozen_before = gc.get_freeze_count() > 0  # a caller (the CLI) that froze keeps it frozen
    gc.freeze()  # the children's collections skip (and do not copy) the inherited objects; no
    # collection first: a full one over a loaded parent costs more than the garbage it frees
    _flush_std_streams()
    parent = os.getpid()
    results: list[DrapeJobResult | None] = [None] * len(jobs)
    running: dict[int, _Child] = {}
    pending = list(range(len(jobs)))
    selector = selectors.DefaultSelector()
    try:
        while pending or running:
            while pending and len(running) < workers:
                index = pending.pop(0)
                read_fd, write_fd = os.pipe()
                pid = os.fork()
                if pid == 0:  # the child: never returns
                    os.close(read_fd)
                    selector.close()
                    _child_main(fn, jobs[index], write_fd, parent)
                os.close(write_fd)
                os.set_blocking(read_fd, False)
                child = _Child(index=index, pid=pid, fd=read_fd, started=time.perf_counter())
                running[read_fd] = child
                selector.register(read_fd, selectors.EVENT_READ, child)
            now = time.perf_counter()
            wait = min(timeout_s - (now - c.started) for c in running.values())
            for key, _ in selector.select(timeout=max(0.0, min(wait, 1.0))):
                child = key.data
                try:
                    chunk = os.read(child.fd, _CHUNK)
                except BlockingIOError:
                    continue
                if chunk:
                    child.data.append(chunk)
                    continue
                # EOF: the child wrote everything (or died); reap it
                selector.unregister(child.fd)
                os.close(child.fd)
                del running[child.fd]
                finished = _finish(child, jobs[child.index], _reap(child.pid, block=True) or 0)
                results[child.index] = finished
                if on_result is not None:
                    on_result(child.index, finished)
            now = time.perf_counter()
            for child in [c for c in running.values() if now - c.started > timeout_s]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGKILL)
                _reap(child.pid, block=True)
                selector.unregister(child.fd)
                os.close(child.fd)
                del running[child.fd]
                _log.warning(
                    "%s %s: the drape took over %.0f s and was stopped",
                    jobs[child.index].family,
                    jobs[child.index].size,
                    timeout_s,
                )
                stopped = _error_result(
                    jobs[child.index], f"timed out after {timeout_s:.0f} s", now - child.started
                )
                results[child.index] = stopped
                if on_result is not None:
                    on_result(child.index, stopped)
    finally:  # Ctrl-C or an error here: no child outlives the map, none is left a zombie
        for child in running.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)
        for child in running.values():
            _reap(child.pid, block=True)
            with contextlib.suppress(OSError):
                os.close(child.fd)
        selector.close()
        if not frozen_before:
            gc.unfreeze()
    return [r for r in results if r is not None]


def use_fork(jobs: Sequence[DrapeJob], workers: int | None) -> bool:
    """Whether ``fit_report`` drapes ``jobs`` in forked workers: more than one job and one
    worker, all on the CPU, on a system that forks.

    Raises:
        ValueError: ``workers`` < 1.
    """
    if workers is not None and int(workers) < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    count = auto_workers(len(jobs)) if workers is None else int(workers)
    return count > 1 and len(jobs) > 1 and _can_fork(jobs)


def parallel_map(
    jobs: Sequence[DrapeJob], *, workers: int | None = None
) -> Callable[[Callable[[DrapeJob], DrapeJobResult], Sequence[DrapeJob]], list[DrapeJobResult]]:
    """``fit_report``'s mapper for ``jobs``: ``fork_map`` with ``workers`` (None: one per core,
    up to one per job)."""

    def run(
        fn: Callable[[DrapeJob], DrapeJobResult], todo: Sequence[DrapeJob]
    ) -> list[DrapeJobResult]:
        return fork_map(fn, todo, workers=workers)

    return run
