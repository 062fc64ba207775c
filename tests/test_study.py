"""Fit studies on Ray: a local 2-node cluster (1 CPU each, 127.0.0.1) against a serial run.

2 garments x 2 sizes x 3 bodies (the resume test: the skirt alone) on coarse meshes (5 cm edges,
0.3 s simulated). Every Ray process a test starts is shut down by its handle (``ray.shutdown()``,
``cluster.shutdown()``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import signal

import pytest

# before Ray is imported: no usage reports, and every node on 127.0.0.1
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ray = pytest.importorskip("ray")
pytest.importorskip("pyarrow")

from tests.conftest import SHARED_DIR  # noqa: E402
from tryon3d import sizing  # noqa: E402

GARMENTS = ["skirt", "tshirt"]
SIZES = ["S", "M"]
OPTIONS = {"sizes": SIZES, "edge_length_m": 0.05, "max_seconds_simulated": 0.3, "quiet": True}
JOB_COUNT = 2 * 2 * 3
VERDICTS = ("good", "snug", "loose", "too tight", "too loose")


@pytest.fixture(scope="module")
def bodies():
    return sizing.sample_population(3, sex="both", seed=7)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    local = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 1,
            "node_ip_address": "127.0.0.1",
            "include_dashboard": True,  # the state API (worker pids) goes through it
            "dashboard_host": "127.0.0.1",
            "dashboard_port": _free_port(),  # not 8265: another Ray on this machine may hold it
        },
    )
    try:
        local.add_node(num_cpus=1, node_ip_address="127.0.0.1")
        ray.init(address=local.address, log_to_driver=False)
        yield local
    finally:
        ray.shutdown()
        local.shutdown()


@pytest.fixture(scope="module")
def serial(bodies, tmp_path_factory):
    return sizing.run_study(
        bodies, GARMENTS, out=tmp_path_factory.mktemp("serial"), executor="serial", **OPTIONS
    )


def _by_key(rows):
    return {row["key"]: row for row in rows}


def _assert_same(rows, reference, count=JOB_COUNT):
    """Job for job: the same jobs, verdicts and ease per region (within 0.1 cm: Ray workers run
    torch on one thread, the serial run on several, so the bodies differ in the last bits)."""
    got, want = _by_key(rows), _by_key(reference)
    assert set(got) == set(want) and len(got) == count
    for key, row in got.items():
        ref = want[key]
        assert (row["body_id"], row["garment"], row["size"]) == (
            ref["body_id"],
            ref["garment"],
            ref["size"],
        )
        assert row["error"] == ref["error"] and row["verdict"] == ref["verdict"], (
            row["body_id"],
            row["size"],
        )
        for name in ("ease_chest_cm", "ease_waist_cm", "ease_hips_cm"):
            a, b = row[name], ref[name]
            assert (a is None) == (b is None) or (math.isnan(a) and math.isnan(b))
            if a is not None and b is not None:
                assert abs(a - b) < 0.1, (key, name, a, b)


def _results_files_rows(folder):
    import pyarrow.parquet as pq

    return [
        row["key"]
        for path in sorted(folder.glob("part-*.parquet"))
        for row in pq.read_table(path).to_pylist()
    ]


def test_serial_study_judges_every_job(serial, bodies):
    assert serial.job_count == JOB_COUNT and serial.ran == JOB_COUNT and serial.skipped == 0
    assert len(serial.rows) == JOB_COUNT
    assert all(row["error"] is None and row["verdict"] in VERDICTS for row in serial.rows)
    summary = sizing.study_json(serial)
    for family in GARMENTS:
        for size in SIZES:
            shares = summary["garments"][family]["sizes"][size]["share"]
            assert abs(sum(shares.values()) - 1.0) < 0.01  # every body falls in one class
        assert sum(summary["garments"][family]["recommended"].values()) == len(bodies)
    # a larger size leaves more ease at the sizing region, body for body
    rows = _by_key(serial.rows)
    for body in bodies:
        for family in GARMENTS:
            ease = {
                r["size"]: r[f"ease_{r['governing_region']}_cm"]
                for r in rows.values()
                if r["body_id"] == body.body_id and r["garment"] == family
            }
            assert ease["M"] > ease["S"] + 2.0, (body.body_id, family, ease)
    html = sizing.study_html(summary, serial.rows)
    assert html.count("data:image/png;base64,") == 3 and "No size fits" in html
    json.dumps(summary)  # plain JSON


def test_cluster_study_equals_serial_despite_a_killed_worker(cluster, bodies, serial, tmp_path):
    from ray.util.state import list_tasks

    killed = []

    def kill_one_running_worker(row):
        if killed:
            return
        running = list_tasks(
            filters=[("state", "=", "RUNNING"), ("name", "=", "tryon3d.drape_jobs")], detail=True
        )
        pids = [t.worker_pid for t in running if t.worker_pid]
        if pids:
            os.kill(pids[0], signal.SIGKILL)  # one Ray worker, by the pid Ray reports
            killed.append(pids[0])

    result = sizing.run_study(
        bodies, GARMENTS, out=tmp_path, on_result=kill_one_running_worker, **OPTIONS
    )
    assert killed, "no running drape task was found to kill"
    assert result.lost == 0 and result.ran == JOB_COUNT
    keys = _results_files_rows(tmp_path / "results")
    assert len(keys) == len(set(keys)) == JOB_COUNT  # every job done once, none twice
    _assert_same(result.rows, serial.rows)


def test_interrupted_study_reruns_only_the_missing_jobs(cluster, bodies, serial, tmp_path):
    # the skirt alone (6 jobs): the resume is about the store, not the garment
    seen = []

    def interrupt(row):
        seen.append(row["key"])
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sizing.run_study(bodies, ["skirt"], out=tmp_path, on_result=interrupt, **OPTIONS)
    kept = set(_results_files_rows(tmp_path / "results"))
    assert kept == set(seen) and len(kept) == 3  # what was done is on disk, nothing half-written
    ran = []
    again = sizing.run_study(
        bodies,
        ["skirt"],
        out=tmp_path,
        batch_size=2,
        on_result=lambda r: ran.append(r["key"]),
        **OPTIONS,
    )  # 2 jobs per task
    assert again.skipped == 3 and again.ran == 3 and not set(ran) & kept
    keys = _results_files_rows(tmp_path / "results")
    assert len(keys) == len(set(keys)) == 6
    skirt = [row for row in serial.rows if row["garment"] == "skirt"]
    _assert_same(again.rows, skirt, count=6)


def test_study_inputs_are_checked_before_work(bodies, tmp_path):
    with pytest.raises(ValueError, match="unknown garment family"):
        sizing.run_study(bodies, ["cape"], out=tmp_path, executor="serial")
    with pytest.raises(ValueError, match="sizes must be some of"):
        sizing.run_study(bodies, ["skirt"], out=tmp_path, sizes=["XXXL"], executor="serial")
    with pytest.raises(ValueError, match="count must be an integer"):
        sizing.sample_population(0)
    assert not (tmp_path / "results").exists()


def test_facade_rerun_skips_every_finished_job_and_writes_the_answers(serial):
    import tryon3d

    out = serial.results_dir.parent  # the serial run's folder: same population draw, same jobs
    result, summary = tryon3d.study(
        GARMENTS,
        out=out,
        sizes="S,M",
        population="ansur",
        count=3,
        sex="both",
        seed=7,
        edge_length_cm=5.0,
        max_seconds_simulated=0.3,
        executor="serial",
        quiet=True,
    )
    assert result.ran == 0 and result.skipped == JOB_COUNT
    written = json.loads((out / "study.json").read_text())
    assert written == json.loads(json.dumps(summary)) and written["jobs"]["done"] == JOB_COUNT
    assert set(written["bodies"]) == {b.body_id for b in sizing.sample_population(3, seed=7)}
    assert "<img" in (out / "study.html").read_text()


def test_a_body_that_cannot_be_built_is_a_result_row_not_a_crash(tmp_path):
    impossible = sizing.StudyBody(
        body_id="giant", sex="male", measurements={"height_m": 3.0, "weight_kg": 80.0}
    )
    result = sizing.run_study([impossible], ["skirt"], out=tmp_path, executor="serial", **OPTIONS)
    assert result.ran == 2 and [row["verdict"] for row in result.rows] == ["failed", "failed"]
    assert all(
        row["error"].startswith("body: ValueError: ") and "height" in row["error"]
        for row in result.rows
    )
    summary = sizing.study_json(result)
    assert summary["garments"]["skirt"]["no_size_fits"]["bodies"] == ["giant"]
    assert summary["garments"]["skirt"]["sizes"]["S"]["share"]["failed"] == 1.0


# ----------------------------------------------------------------------------- garment files

TEE = SHARED_DIR / "garments" / "dxf" / "MEN CLASSIC TEE.DXF"
needs_tee = pytest.mark.skipif(not TEE.is_file(), reason="../shared/garments is absent")
#: the tshirt at M, the graded Gerber tee at two of its own sizes: 3 jobs per body
FILE_OPTIONS = {**OPTIONS, "sizes": ["M", "46", "50"]}


@pytest.fixture(scope="module")
def tee_copy(tmp_path_factory):
    """A copy of the tee DXF in a folder of its own (the tests rename and delete it)."""
    folder = tmp_path_factory.mktemp("tee")
    path = folder / "tee.dxf"
    path.write_bytes(TEE.read_bytes())
    return path


@pytest.fixture(scope="module")
def file_serial(bodies, tee_copy, tmp_path_factory):
    out = tmp_path_factory.mktemp("file-serial")
    return sizing.run_study(
        bodies[:2], ["tshirt", tee_copy], out=out, executor="serial", **FILE_OPTIONS
    )


@needs_tee
def test_a_graded_dxf_file_drapes_its_own_sizes_without_a_chart(file_serial):
    result = file_serial
    assert result.job_count == result.ran == 6 and result.garment_sizes["tee.dxf"][:2] == (
        "42",
        "44",
    )
    tee = [r for r in result.rows if r["garment"] == "tee.dxf"]
    assert [r["size"] for r in tee] == ["46", "50", "46", "50"]
    assert all(r["error"] is None and r["verdict"] in VERDICTS for r in result.rows)
    assert all(r["chart"] == "" and r["chart_size"] is None for r in tee)  # no chart, no answer
    for body_id in {r["body_id"] for r in tee}:
        ease = {r["size"]: r["ease_chest_cm"] for r in tee if r["body_id"] == body_id}
        # the tee grades 4 cm of chest round per size: 46 -> 50 gives the body 6-10 cm more ease
        assert 6.0 < ease["50"] - ease["46"] < 10.0, (body_id, ease)
    summary = sizing.study_json(result)
    g = summary["garments"]["tee.dxf"]
    assert g["source"] == "file" and g["chart_vs_drape"] is None and g["charts"] == []
    assert g["sha256"] == hashlib.sha256(TEE.read_bytes()).hexdigest()
    assert list(g["sizes"]) == ["46", "50"] and sum(g["recommended"].values()) == 2
    assert 7.0 <= g["grading"]["pattern"]["step_cm"]["46->50"] <= 9.0  # the pattern's own step
    assert summary["garments"]["tshirt"]["chart_vs_drape"] is not None
    html = sizing.study_html(summary, result.rows)
    assert "n/a" in html and html.count("data:image/png;base64,") == 3


@needs_tee
def test_a_garment_file_study_on_ray_equals_serial_from_bytes(
    cluster, bodies, tee_copy, file_serial, tmp_path
):
    import glob
    import tempfile

    copies = os.path.join(tempfile.gettempdir(), "tryon3d-garment-*")
    before = set(glob.glob(copies))
    moved = tee_copy.with_name("tee-moved.dxf")
    gone = []

    def delete_the_file(row):  # the workers read the bytes sent through the object store
        if not gone:
            tee_copy.rename(moved)
            gone.append(row["key"])

    try:
        result = sizing.run_study(
            bodies[:2],
            ["tshirt", tee_copy],
            out=tmp_path,
            on_result=delete_the_file,
            **FILE_OPTIONS,
        )
    finally:
        if moved.is_file():
            moved.rename(tee_copy)
    assert gone and result.ran == 6 and result.lost == 0
    _assert_same(result.rows, file_serial.rows, count=6)
    assert set(glob.glob(copies)) <= before  # each task's copy of the file was removed after it


@needs_tee
def test_renaming_a_garment_file_reruns_nothing_and_editing_it_reruns_its_jobs(
    bodies, tee_copy, file_serial, tmp_path
):
    renamed = tmp_path / "renamed tee.dxf"
    renamed.write_bytes(tee_copy.read_bytes())
    again = sizing.run_study(
        bodies[:2],
        ["tshirt", renamed],
        out=file_serial.results_dir.parent,
        executor="serial",
        **FILE_OPTIONS,
    )
    assert again.ran == 0 and again.skipped == 6
    assert {r["garment"] for r in again.rows} == {"tshirt", "renamed tee.dxf"}  # today's names
    # an edit (here: a sidecar beside it) is another garment: another key for each of its jobs
    before = sizing.study_garments([renamed], edge_length_m=0.05)[0]
    renamed.with_name(renamed.name + ".tryon3d.json").write_text("{}", encoding="utf-8")
    after = sizing.study_garments([renamed], edge_length_m=0.05)[0]
    assert after.sha256 == before.sha256 and after.key_spec() != before.key_spec()
    spec = {"body": {}, "garment": "renamed tee.dxf", "size": "50", "chart": "", "fabric": None}
    spec |= {"edge_length_m": 0.05, "max_seconds_simulated": 0.3, "tryon3d_version": "x"}
    keys = {sizing.job_key({**spec, "garment_key": g.key_spec()}) for g in (before, after, before)}
    assert len(keys) == 2
