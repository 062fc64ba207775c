"""The fit report's fast paths: sizes draped in forked workers, placement data cached per body,
the meshing distance against only the edges that can be nearest."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from tryon3d import garments
from tryon3d.sizing import DrapeJob, DrapeJobResult, fork_map, run_drape_job, size_jobs

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork_map needs os.fork")


def _children() -> set[int]:
    """Pids of this process's children, zombies included (Linux /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                found.add(int(entry))
    return found


def _positions(result: DrapeJobResult) -> np.ndarray:
    return np.asarray(result.drape.positions)


def test_fork_map_gives_the_serial_results_job_for_job(default_body):
    jobs = size_jobs(
        default_body, "skirt", sizes="S,L", edge_length_m=0.08, max_seconds_simulated=0.3
    )
    before = _children()
    forked = fork_map(run_drape_job, jobs, workers=2)
    assert _children() == before  # every child reaped: no zombies
    serial = [run_drape_job(job) for job in jobs]
    assert all(r.job is job for r, job in zip(forked, jobs, strict=True))  # the parent's own jobs
    for a, b in zip(forked, serial, strict=True):
        assert a.error is None and b.error is None
        assert (a.job.size, a.job.family) == (b.job.size, b.job.family)
        assert len(a.garment.positions) == len(b.garment.positions)
        np.testing.assert_allclose(
            _positions(a), _positions(b), atol=1e-6
        )  # deterministic CPU drape
        assert a.drape.ease_m == pytest.approx(b.drape.ease_m, abs=1e-6, nan_ok=True)
        assert np.isfinite(a.drape.ease_m["hips"])
    # the sizes differ: L's skirt is wider than S's at the hips
    assert np.ptp(_positions(forked[1])[:, 0]) > np.ptp(_positions(forked[0])[:, 0])


def _job(size: str) -> DrapeJob:
    return DrapeJob(body=None, family="skirt", size=size, chart="women")


def _ok(job: DrapeJob) -> DrapeJobResult:
    return DrapeJobResult(
        job=job,
        garment=None,
        drape=None,
        error=f"done {job.size} in {os.getpid()}",
        seconds={"total": 0.0},
    )


def _misbehave(job: DrapeJob) -> DrapeJobResult:
    if job.size == "S":
        raise RuntimeError("the pattern would not mesh\nsecond line")
    if job.size == "M":
        os.kill(os.getpid(), signal.SIGKILL)  # a crash: no result ever comes back
    if job.size == "L":
        os._exit(3)
    if job.size == "XL":
        time.sleep(60)  # outlives the timeout
    return _ok(job)


def test_a_child_that_raises_crashes_or_hangs_gives_its_job_an_error():
    jobs = [_job(s) for s in ("XS", "S", "M", "L", "XL")]
    before = _children()
    started = time.perf_counter()
    results = fork_map(_misbehave, jobs, workers=5, timeout_s=3.0, warm=False)
    assert time.perf_counter() - started < 20  # the hung child was stopped, not waited for
    assert _children() == before  # all reaped, the killed and the timed-out ones too
    assert all(r.job is job for r, job in zip(results, jobs, strict=True))
    errors = {r.job.size: r.error for r in results}
    assert (
        errors["XS"].startswith("done XS in ") and errors["XS"] != f"done XS in {os.getpid()}"
    )  # in a child
    assert errors["S"] == "RuntimeError: the pattern would not mesh"
    assert errors["M"] == "the worker was killed by SIGKILL"
    assert errors["L"] == "the worker exited with status 3 and no result"
    assert errors["XL"] == "timed out after 3 s"


def test_fork_map_limits_workers_and_checks_its_options():
    results = fork_map(_ok, [_job(s) for s in ("XS", "S", "M")], workers=2, warm=False)
    pids = {r.error.rsplit(" ", 1)[1] for r in results}
    assert len(pids) == 3 and str(os.getpid()) not in pids  # one fresh child per job
    serial = fork_map(_ok, [_job("S"), _job("M")], workers=1, warm=False)
    assert {r.error for r in serial} == {f"done S in {os.getpid()}", f"done M in {os.getpid()}"}
    cuda = [
        DrapeJob(body=None, family="skirt", size=s, chart="women", device="cuda")
        for s in ("S", "M")
    ]
    assert {r.error.rsplit(" ", 1)[1] for r in fork_map(_ok, cuda, workers=2, warm=False)} == {
        str(os.getpid())
    }
    for kwargs, message in (
        ({"workers": 0}, "workers must be >= 1"),
        ({"timeout_s": 0}, "timeout_s must be > 0"),
    ):
        with pytest.raises(ValueError, match=message):
            fork_map(_ok, [_job("S")], **kwargs)


def test_distance_to_polygon_matches_the_dense_reference():
    from tryon3d.garments._mesh import _distance_to_polygon, _distance_to_polygon_dense

    rng = np.random.default_rng(19)
    for trial in range(12):
        m = int(rng.integers(3, 300))
        if trial % 3 == 0:  # self-intersecting, uneven edges
            polygon = rng.uniform(-1.0, 1.0, (m, 2))
        else:  # star-shaped, edges from tiny to long
            angles = np.sort(rng.uniform(0.0, 2 * np.pi, m))
            polygon = rng.uniform(0.2, 1.0, m)[:, None] * np.stack(
                [np.cos(angles), np.sin(angles)], axis=1
            )
        points = np.concatenate(
            [rng.uniform(-1.5, 1.5, (int(rng.integers(1, 2000)), 2)), polygon[:5]]
        )
        fast = _distance_to_polygon(points, polygon)
        dense = _distance_to_polygon_dense(points, polygon)
        assert np.abs(fast - dense).max() <= 1e-9
        assert fast[-5:].max() <= 1e-12  # the polygon's own vertices lie on it


def test_placement_reuses_the_body_data_and_places_as_before(default_body):
    from tryon3d.garments import _bodycache

    _bodycache.clear_body_cache()
    first = garments.load_garment("tshirt", size="M", body=default_body, edge_length_m=0.06)
    data = _bodycache.body_data(default_body)
    assert ("part", "torso") in data and "surface" in data and "armpit_apex" in data
    torso = data["part", "torso"]
    again = garments.load_garment("tshirt", size="M", body=default_body, edge_length_m=0.06)
    assert data["part", "torso"] is torso  # not rebuilt
    assert torso.open_span == (np.inf, np.inf)  # a placement's open rows stay its own
    np.testing.assert_array_equal(first.positions, again.positions)
    # a changed body misses the cache
    moved = np.asarray(default_body.rest_vertices) + np.array([0.0, 0.0, 1e-3])
    assert _bodycache.body_key(default_body) != _bodycache.body_key(
        type("B", (), {"rest_vertices": moved, "faces": default_body.faces})()
    )
    _bodycache.clear_body_cache()
    cold = garments.load_garment("tshirt", size="M", body=default_body, edge_length_m=0.06)
    np.testing.assert_array_equal(first.positions, cold.positions)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--serial", "--workers", "2"], "--serial drapes with one worker"),
        (["--workers", "0"], "--workers must be within [1, 64]"),
    ],
)
def test_cli_checks_workers_with_one_line(extra, message, tmp_path, capsys):
    from tryon3d.cli import main

    out = tmp_path / "out"
    code = main(
        [
            "fit-report",
            "--body",
            str(tmp_path / "body.json"),
            "--garment",
            "tshirt",
            "-o",
            str(out),
            *extra,
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert not [p for p in out.rglob("*") if p.is_file()]


def test_console_main_runs_atexit_handlers_then_exits_with_the_command_status(tmp_path):
    import subprocess
    import sys

    script = (
        "import atexit, sys\natexit.register(lambda: print('atexit ran', flush=True))\n"
        "sys.argv = ['tryon3d', 'fit-report', '--body', 'nope.json', '--garment', 'hat', '-o', "
        f"{str(tmp_path / 'out')!r}]\nfrom tryon3d.cli import console_main\nconsole_main()\n"
        "print('never here')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert done.stdout.strip() == "atexit ran"
    assert done.stderr.strip().splitlines()[-1].startswith("tryon3d: error: unknown garment family")


def _sleep(job: DrapeJob) -> DrapeJobResult:
    time.sleep(60)
    return _ok(job)


def test_ctrl_c_in_the_parent_kills_and_reaps_the_children():
    def interrupt(*_):
        raise KeyboardInterrupt

    before = _children()
    previous = signal.signal(signal.SIGALRM, interrupt)
    started = time.perf_counter()
    try:
        signal.alarm(1)
        with pytest.raises(KeyboardInterrupt):
            fork_map(_sleep, [_job("S"), _job("M")], workers=2, warm=False)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert time.perf_counter() - started < 10
    assert _children() == before


def test_drape_workers_started_before_the_body_give_the_serial_results(default_body):
    from tryon3d.sizing import place_job, start_drape_workers

    before = _children()
    pool = start_drape_workers(workers=2)  # forked before the jobs exist, as the CLI does
    assert pool is not None and pool.pid in _children()
    jobs = size_jobs(
        default_body, "skirt", sizes="S,M,L", edge_length_m=0.08, max_seconds_simulated=0.3
    )
    seen: list[int] = []
    # the garments are built here when the server still loads its kernels, else by its children
    forked = pool.map(run_drape_job, jobs, prepare=place_job, on_result=lambda i, r: seen.append(i))
    assert sorted(seen) == [0, 1, 2] and _children() == before  # server and children reaped
    assert pool.warm_s > 0  # it said when its kernels were loaded
    with pytest.raises(RuntimeError, match="one map each"):
        pool.map(run_drape_job, jobs)
    serial = [run_drape_job(job) for job in jobs]
    placed = place_job(jobs[1])
    assert placed.garment is not None and jobs[1].garment is None
    assert place_job(placed) is placed
    carried = run_drape_job(placed)  # the garment built before the map drapes the same
    for a, b in zip(forked, serial, strict=True):
        assert a.job is not None and a.error is None and b.error is None
        np.testing.assert_allclose(_positions(a), _positions(b), atol=1e-6)
        assert a.drape.ease_m == pytest.approx(b.drape.ease_m, abs=1e-6, nan_ok=True)
        assert a.seconds["place"] > 0 and a.seconds["drape"] > 0
    assert all(r.job is job for r, job in zip(forked, jobs, strict=True))
    np.testing.assert_allclose(_positions(carried), _positions(serial[1]), atol=1e-6)


def _crash(job: DrapeJob) -> DrapeJobResult:
    """In a child of the drape server (2 workers): M kills the server once S is back."""
    if job.size == "M":
        time.sleep(1.0)
        os.kill(os.getppid(), signal.SIGKILL)
    if job.size != "S":
        time.sleep(60)  # the children die with their server
    return _ok(job)


def test_drape_workers_that_die_or_are_not_used_leave_no_process():
    from tryon3d.sizing import start_drape_workers

    before = _children()
    unused = start_drape_workers(workers=2)
    assert unused is not None
    unused.close()  # e.g. the body could not be loaded
    unused.close()
    assert _children() == before
    started = time.perf_counter()
    with start_drape_workers(workers=2) as pool:
        results = pool.map(_crash, [_job("S"), _job("M"), _job("L")])
    assert time.perf_counter() - started < 30
    assert _children() == before
    errors = [r.error for r in results]
    assert errors[0].startswith("done S in ") and errors[0] != f"done S in {os.getpid()}"
    assert errors[1] == errors[2] == "the worker was killed by SIGKILL"
    assert start_drape_workers(device="cuda") is None  # CUDA must not fork: map as before
    for kwargs, message in (
        ({"workers": 0}, "workers must be >= 1"),
        ({"timeout_s": 0}, "timeout_s must be > 0"),
    ):
        with pytest.raises(ValueError, match=message):
            start_drape_workers(**kwargs)
