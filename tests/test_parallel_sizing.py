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
