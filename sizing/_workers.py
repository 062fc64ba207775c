"""Drape workers started before their jobs exist: the sizes' kernels load while the body does.

A fit report's serial start is two independent halves: the body (torch and anny imports, the
body model, its placement data) and the drape side (Newton's import, Warp's kernel modules).
``start_drape_workers`` forks a server right away, before the body is loaded: it loads the drape
side on the second core while this process loads the body. ``DrapeWorkers.map`` then sends the
jobs (``DrapeJob`` records, their garments built here by ``prepare``, e.g. ``place_job``) to the
server, which forks one child per job from its warm state (``fork_map``), and reads each
``DrapeJobResult`` back as it finishes. Our own parent reads what our own server wrote (pickles
over a pipe), nothing a user handed us.

The server is one-shot (one ``map``); it dies with this process (a parent-death signal) and is
killed and reaped by ``close``. Where it cannot fork (no ``os.fork``, CUDA: a forked CUDA
context is unusable) ``start_drape_workers`` returns None and the caller maps as before.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import os
import pickle
import selectors
import signal
import struct
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from tryon3d.sizing._parallel import (
    _CHUNK,
    DEFAULT_TIMEOUT_S,
    ResultCallback,
    _enter_child,
    _error_result,
    _flush_std_streams,
    _leave_child,
    _prepare_bodies,
    _reap,
    _warm_kernels,
    _why,
    _without_job,
    _write_all,
    fork_map,
)
from tryon3d.sizing._records import DrapeJob, DrapeJobResult

__all__ = ["DrapeWorkers", "start_drape_workers"]

_log = logging.getLogger("tryon3d")

_HEADER = struct.Struct("<Q")  # the byte length of the pickle that follows
_READY = "ready"  # the server's first message, with its warm-up seconds: its kernels are loaded


def _send(fd: int, obj: Any) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    _write_all(fd, _HEADER.pack(len(payload)))
    _write_all(fd, payload)


def _read_exact(fd: int, count: int) -> bytes | None:
    """``count`` bytes from the blocking ``fd``, or None at end of file before them."""
    parts, left = [], count
    while left:
        chunk = os.read(fd, min(left, _CHUNK))
        if not chunk:
            return None
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _receive(fd: int) -> Any:
    """The next message on ``fd``; None at end of file (the writer closed it or died)."""
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        return None
    payload = _read_exact(fd, _HEADER.unpack(header)[0])
    return None if payload is None else pickle.loads(payload)


def _serve(
    device: str, workers: int | None, timeout_s: float, job_fd: int, result_fd: int, parent: int
) -> None:
    """The server (a forked child, never returns): load the drape side while the parent loads
    the body, then map the jobs it sends in forked children, each result back as it finishes."""
    code = 0
    try:
        _enter_child(parent)
        gc.disable()  # imports and kernel loading make objects that live to the end
        received: dict[str, Any] = {}
        # the jobs (the body: megabytes) are read while the kernels load, so that the parent's
        # write never waits for this side's warm-up
        reader = threading.Thread(target=lambda: received.update(jobs=_receive(job_fd)))
        reader.start()
        tick = time.perf_counter()
        try:
            _warm_kernels(device)
        except Exception as exc:  # each job then loads what it needs and reports its error
            _log.debug("the drape workers could not warm up: %s", exc)
        _send(
            result_fd, (_READY, time.perf_counter() - tick)
        )  # the parent now sends jobs it has not placed itself
        reader.join()  # before any fork: a forked child has only the forking thread
        os.close(job_fd)
        message = received.get("jobs")
        if message is None:  # closed without a map
            os._exit(0)
        fn, jobs = message
        _prepare_bodies(jobs)  # for the jobs the parent could not place
        gc.freeze()  # the children's collections skip the inherited objects
        gc.enable()
        fork_map(
            fn,
            jobs,
            workers=workers,
            timeout_s=timeout_s,
            warm=False,
            on_result=lambda index, result: _send(result_fd, (index, _without_job(result))),
        )
    except BaseException:
        code = 1
    finally:
        _leave_child(code)


class DrapeWorkers:
    """A forked server loading Warp's kernels for ``map`` (``start_drape_workers``).

    Attributes:
        pid: the server's process id.
        workers: the most jobs draped at once; None: one per core, up to one per job.
        timeout_s: wall-clock limit per job [s].
        warm_s: the server's warm-up (imports, kernels) wall time [s], NaN until it is ready.
    """

    def __init__(
        self, pid: int, job_fd: int, result_fd: int, *, workers: int | None, timeout_s: float
    ) -> None:
        self.pid = pid
        self.workers = workers
        self.timeout_s = timeout_s
        self._job_fd: int | None = job_fd
        self._result_fd: int | None = result_fd
        self._used = False
        self._ready = False
        self.warm_s = math.nan

    def __enter__(self) -> DrapeWorkers:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def ready(self) -> bool:
        """Whether the server has loaded its kernels (and waits for the jobs); never blocks."""
        if not self._ready and self._result_fd is not None:
            with selectors.DefaultSelector() as selector:
                selector.register(self._result_fd, selectors.EVENT_READ)
                if selector.select(timeout=0):
                    # the ready message, or the end of a server that died (then ``map`` reads
                    # the end again and gives every job an error)
                    self._take_ready(_receive(self._result_fd))
        return self._ready

    def _take_ready(self, message: Any) -> bool:
        """Whether ``message`` is the server's ready message (then noted)."""
        if isinstance(message, tuple) and message[:1] == (_READY,):
            self._ready, self.warm_s = True, float(message[1])
            return True
        return False

    def close(self) -> None:
        """Stop the server (if it still runs) and reap it; idempotent."""
        for name in ("_job_fd", "_result_fd"):
            fd = getattr(self, name)
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, None)
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            _reap(self.pid, block=True)
            self.pid = 0

    def map(
        self,
        fn: Callable[[DrapeJob], DrapeJobResult],
        jobs: Sequence[DrapeJob],
        *,
        prepare: Callable[[DrapeJob], DrapeJob] | None = None,
        on_result: ResultCallback | None = None,
    ) -> list[DrapeJobResult]:
        """``[fn(job) for job in jobs]`` in the server's forked children (``fork_map`` there).

        Args:
            fn: the map step, e.g. ``run_drape_job``: a module-level function (it is sent by
                name).
            jobs: the jobs; results come back in this order, each with its own job record.
            prepare: applied here to each job before it is sent, e.g. ``place_job``, when the
                server is still loading its kernels (else it prepares the bodies itself and its
                children build their garments at once); its seconds count as the result's
                ``"place"``.
            on_result: called here with ``(index, result)`` as each result comes back.

        Returns:
            One ``DrapeJobResult`` per job; a job the server could not run (it crashed, it was
            killed) gets one with ``error`` set.

        Raises:
            RuntimeError: the workers were used or closed already (they are one-shot).
        """
        if self._used or self._job_fd is None or self._result_fd is None:
            raise RuntimeError("these drape workers were used or closed already (one map each)")
        self._used = True
        jobs = list(jobs)
        placed_s = [0.0] * len(jobs)
        sent = []
        place = prepare if prepare is not None and not self.ready() else None
        for index, job in enumerate(jobs):
            tick = time.perf_counter()
            sent.append(place(job) if place is not None else job)
            placed_s[index] = time.perf_counter() - tick
        started = time.perf_counter()
        results: list[DrapeJobResult | None] = [None] * len(jobs)
        try:
            _send(self._job_fd, (fn, sent))
            os.close(self._job_fd)
            self._job_fd = None
            # the server times each job out itself; this limit is for a server that hangs
            rounds = math.ceil(len(jobs) / (self.workers or 1))
            deadline = started + self.timeout_s * (rounds + 1)
            with selectors.DefaultSelector() as selector:
                selector.register(self._result_fd, selectors.EVENT_READ)
                while any(r is None for r in results):
                    left = deadline - time.perf_counter()
                    if left <= 0:
                        raise TimeoutError
                    if not selector.select(timeout=min(left, 1.0)):
                        continue
                    message = _receive(self._result_fd)
                    if message is None:  # the server ended: what it did not send is an error
                        break
                    if self._take_ready(message):
                        continue
                    index, fields = message
                    seconds = dict(fields.pop("seconds"))
                    seconds["place"] = seconds.get("place", 0.0) + placed_s[index]
                    seconds["total"] = seconds.get("total", 0.0) + placed_s[index]
                    came = DrapeJobResult(job=jobs[index], seconds=seconds, **fields)
                    results[index] = came
                    if on_result is not None:
                        on_result(index, came)
        except TimeoutError:
            _log.warning("the drape workers did not finish in time and were stopped")
        pid = self.pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # done (it exits by itself) or stuck
        status = _reap(pid, block=True) or 0
        self.pid = 0
        self.close()
        why = _why(status) if status else "the drape workers stopped without a result"
        for index, result in enumerate(results):
            if result is None:
                lost = _error_result(jobs[index], why, time.perf_counter() - started)
                results[index] = lost
                if on_result is not None:
                    on_result(index, lost)
        return [r for r in results if r is not None]

    def mapper(
        self,
        *,
        prepare: Callable[[DrapeJob], DrapeJob] | None = None,
        on_result: ResultCallback | None = None,
    ) -> Callable[[Callable[[DrapeJob], DrapeJobResult], Sequence[DrapeJob]], list[DrapeJobResult]]:
        """``map`` as ``fit_report``'s ``map_jobs(fn, jobs)``, with ``prepare`` and ``on_result``
        bound."""

        def run(
            fn: Callable[[DrapeJob], DrapeJobResult], jobs: Sequence[DrapeJob]
        ) -> list[DrapeJobResult]:
            return self.map(fn, jobs, prepare=prepare, on_result=on_result)

        return run


def start_drape_workers(
    *, device: str = "cpu", workers: int | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
) -> DrapeWorkers | None:
    """Fork the drape server now, so that it loads Newton and Warp's kernels on another core
    while this process does other work (loading the body), before the jobs exist.

    Call it early: before threads start here (torch's) and before big imports the server does not
    need. Close the result (or use it as a context manager) when the jobs are not sent after all.

    Args:
        device: ``"cpu"``; on ``cuda[:N]`` (which must not fork) nothing is started.
        workers: the most jobs draped at once (>= 1); None: one per core, up to one per job.
        timeout_s: wall-clock limit per job [s].

    Returns:
        The workers, or None where they cannot fork (no ``os.fork``, CUDA): map as before.

    Raises:
        ValueError: ``workers`` < 1 or ``timeout_s`` <= 0.
    """
    if workers is not None and int(workers) < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
    if not hasattr(os, "fork") or str(device).startswith("cuda"):
        return None
    job_read, job_write = os.pipe()
    result_read, result_write = os.pipe()
    _flush_std_streams()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the server: never returns
        os.close(job_write)
        os.close(result_read)
        _serve(str(device), workers, float(timeout_s), job_read, result_write, parent)
    os.close(job_read)
    os.close(result_write)
    return DrapeWorkers(
        pid,
        job_write,
        result_read,
        workers=None if workers is None else int(workers),
        timeout_s=float(timeout_s),
    )
