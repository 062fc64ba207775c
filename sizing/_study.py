"""Fit studies: garments x sizes x bodies drapes, on Ray (local or a cluster) or serially.

A study is the sizing stage's map step run over many bodies: one ``DrapeJob`` per body, garment
family and size, draped by ``run_drape_job`` and judged alone by ``judge_drapes`` on the worker;
the reduce step (``sizing._study_report``) recommends a size per body with ``recommend`` (what
``judge_drapes`` does) from the judged sizes. Each result is one row of a Parquet dataset keyed
by a content hash of its job (body parameters, garment family or garment file content hash,
size, chart, fabric, solver settings, tryon3d version), so a rerun skips finished jobs and an
interrupted study loses at most the jobs in flight. A drape that diverges or fails is a row
with its error, not a crash.

Ray (an extra: ``pip install tryon3d[study]``) runs one task per job (or a small batch of jobs on
one body); each body is built once by a task of its own and travels through the object store
once per node, not once per job; a garment file's bytes travel the same way, once per garment
(``sizing._study_garments``). Tasks that lose their worker (killed, out of memory) are retried
by Ray (``max_retries``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tryon3d import __version__
from tryon3d.sizing._jobs import _check_device, judge_drapes, run_drape_job
from tryon3d.sizing._judge import _OVERSTRETCH_FRACTION
from tryon3d.sizing._recommend import chart_for, chart_size_for
from tryon3d.sizing._records import DrapeJob, SizeChart, SizeFit
from tryon3d.sizing._study_garments import (
    StudyGarment,
    chosen_sizes,
    materialized,
    study_garments,
)
from tryon3d.sizing._study_store import (
    RESULT_COLUMNS,
    _nan_to_none,
    _ResultStore,
    read_results,
    size_fit_from_json,
)

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body

_log = logging.getLogger("tryon3d")

__all__ = [
    "RESULT_COLUMNS",
    "StudyBody",
    "StudyResult",
    "job_key",
    "read_results",
    "run_study",
    "sample_population",
    "size_fit_from_json",
]

#: How to get Ray when it is missing (one line, for the CLI).
RAY_MISSING = "fit studies need Ray and pyarrow: pip install 'tryon3d[study]'"
#: Most jobs a study may hold (a guard against a typo of a count, checked before any work).
MAX_JOBS = 10_000_000


@dataclass(frozen=True)
class StudyBody:
    """One body of a study: measurements to build it from on a worker, or a built body.

    Attributes:
        body_id: a name unique within the study (a customer id, ``ansur-f-0003``, a file stem).
        sex: ``"male"`` or ``"female"``.
        measurements: ``bodyfit.body_from_measurements`` keywords, SI: ``height_m``, ``weight_kg``
            and optionally ``age_years``, ``chest_m``, ``waist_m``, ``hips_m``. Empty with ``body``.
        body: a built ``bodyfit.Body`` (e.g. from a body.json file), or None to build one.
    """

    body_id: str
    sex: str
    measurements: dict[str, float] = field(default_factory=dict)
    body: Body | None = None

    def key_spec(self) -> dict[str, Any]:
        """What determines the body, for job keys: rounded measurements, or the body's record
        hash."""
        if self.body is not None:
            from tryon3d import bodyfit

            record = json.dumps(bodyfit.body_record(self.body), sort_keys=True, default=float)
            return {"record_sha256": hashlib.sha256(record.encode()).hexdigest()}
        return {
            "model": "anny",
            "sex": self.sex,
            **{
                k: round(float(v), 5) for k, v in sorted(self.measurements.items()) if v is not None
            },
        }


def sample_population(count: int, *, sex: str = "both", seed: int = 0) -> list[StudyBody]:
    """``count`` bodies drawn from the shipped ANSUR II population model, reproducibly.

    Height, BMI and age are drawn per sex from normals with the model's training means and
    standard deviations (BMI kept in 16-45 kg/m^2, age in the training range); chest, waist and
    hips are the model's prediction for them plus a normal residual of the model's residual
    standard deviation, so girths vary as much as ANSUR's do for a given height and weight.
    ``sex="both"`` alternates female and male.

    Raises:
        ValueError: count not in 1..100000, or sex not female/male/both.
    """
    import numpy as np

    from tryon3d import bodyfit

    if (
        isinstance(count, bool)
        or not isinstance(count, int | np.integer)
        or not 1 <= count <= 100_000
    ):
        raise ValueError(f"count must be an integer in 1..100000, got {count!r}")
    sex = str(sex).lower()
    if sex not in ("female", "male", "both"):
        raise ValueError(f"sex must be 'female', 'male' or 'both', got {sex!r}")
    model = bodyfit.load_population_model()
    rng = np.random.default_rng(seed)
    sexes = [("female", "male")[i % 2] for i in range(count)] if sex == "both" else [sex] * count
    bodies = []
    for i, who in enumerate(sexes):
        fit = model.coefficients_for(who)
        stats = {
            name: (fit.feature_mean[j], fit.feature_std[j])
            for j, name in enumerate(model.feature_names)
        }
        height = float(np.clip(rng.normal(*stats["height_m"]), 1.45, 2.05))
        bmi = float(np.clip(rng.normal(*stats.get("bmi_kg_m2", (25.0, 3.5))), 16.0, 45.0))
        age = float(np.clip(rng.normal(*stats["age_years"]), fit.age_min_years, fit.age_max_years))
        weight = bmi * height**2
        predicted = model.predict(height_m=height, weight_kg=weight, sex=who, age_years=age)
        sd = model.residual_std_m(sex=who)
        girths = {
            f"{r}_m": float(predicted[r] + rng.normal(0.0, sd[r]))
            for r in ("chest", "waist", "hips")
        }
        bodies.append(
            StudyBody(
                body_id=f"ansur-{who[0]}-{i:05d}",
                sex=who,
                measurements={
                    "height_m": round(height, 4),
                    "weight_kg": round(weight, 2),
                    "age_years": round(age, 1),
                    **{k: round(v, 4) for k, v in girths.items()},
                },
            )
        )
    return bodies


def job_key(spec: dict[str, Any]) -> str:
    """The content hash of a job spec (everything that decides its result), 32 hex digits.

    The garment is ``spec["garment_key"]`` (``StudyGarment.key_spec``: a family name, or a
    file's content hashes) when given, else ``spec["garment"]``; body and garment labels are
    not part of it.
    """
    content = {"garment": spec.get("garment_key", spec["garment"])}
    content |= {
        k: spec[k]
        for k in (
            "body",
            "size",
            "chart",
            "fabric",
            "edge_length_m",
            "max_seconds_simulated",
            "tryon3d_version",
        )
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:32]


def _job_specs(
    bodies: Sequence[StudyBody],
    garments: Sequence[StudyGarment],
    *,
    sizes: Sequence[str] | None,
    fabric: str | None,
    chart: SizeChart | None,
    edge_length_m: float,
    max_seconds_simulated: float,
    device: str,
) -> list[dict[str, Any]]:
    from tryon3d import garments as garments_stage

    specs = []
    for body in bodies:
        body_spec = body.key_spec()
        for garment in garments:
            if garment.is_file:  # its own sizes, no chart
                chart_name, chosen = "", chosen_sizes(garment, sizes)
            else:
                chart_name = chart_for(body.sex, garment.family, chart)
                table = garments_stage.size_chart(chart_name)
                chosen = list(table) if sizes is None else [s for s in table if s in sizes]
            for size in chosen:
                spec = {
                    "body": body_spec,
                    "body_id": body.body_id,
                    "sex": body.sex,
                    "garment": garment.label,
                    "garment_key": garment.key_spec(),
                    "size": size,
                    "chart": chart_name,
                    "fabric": fabric,
                    "edge_length_m": edge_length_m,
                    "max_seconds_simulated": max_seconds_simulated,
                    "device": device,
                    "tryon3d_version": __version__,
                }
                spec["key"] = job_key(spec)
                specs.append(spec)
    return specs


def _check_inputs(
    bodies,
    garments,
    sizes,
    fabric,
    chart,
    edge_length_m,
    max_seconds_simulated,
    device,
    gpus_per_job,
    batch_size,
) -> list[StudyGarment]:
    """Every input checked before any work; the garments (files read and loaded, see
    ``study_garments``)."""
    from tryon3d import garments as garments_stage

    if not bodies:
        raise ValueError("a study needs at least one body, got none")
    ids = [b.body_id for b in bodies]
    if len(set(ids)) != len(ids):
        twice = next(i for i in ids if ids.count(i) > 1)
        raise ValueError(f"body ids must be unique, got {twice!r} twice")
    for body in bodies:
        if body.sex not in ("female", "male"):
            raise ValueError(
                f"body {body.body_id!r}: sex must be 'female' or 'male', got {body.sex!r}"
            )
        if body.body is None and not {"height_m", "weight_kg"} <= set(body.measurements):
            raise ValueError(
                f"body {body.body_id!r} needs height_m and weight_kg, got "
                f"{sorted(body.measurements)}"
            )
    if chart is not None:
        garments_stage.size_chart(chart)
    if fabric is not None:
        garments_stage.resolve_fabric(fabric)
    if not (isinstance(edge_length_m, int | float) and 0.005 <= edge_length_m <= 0.1):
        raise ValueError(f"edge_length_m must be within [0.005, 0.1] m, got {edge_length_m!r}")
    if not (
        isinstance(max_seconds_simulated, int | float) and 0.05 <= max_seconds_simulated <= 60.0
    ):
        raise ValueError(
            f"max_seconds_simulated must be within [0.05, 60] s, got {max_seconds_simulated!r}"
        )
    _check_device(device)
    if not (isinstance(gpus_per_job, int | float) and 0 <= gpus_per_job <= 8):
        raise ValueError(f"gpus_per_job must be within [0, 8], got {gpus_per_job!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 64:
        raise ValueError(f"batch_size must be an integer in 1..64, got {batch_size!r}")
    # last: files are read and loaded once each here, after the cheap checks
    return study_garments(garments, sizes=sizes, edge_length_m=float(edge_length_m))


# ----------------------------------------------------------------------------- the worker side


def _build_body(study_body: StudyBody) -> tuple[Body, float]:
    """(the body, seconds it took to build) on a worker."""
    from tryon3d import bodyfit

    if study_body.body is not None:
        return study_body.body, 0.0
    start = time.perf_counter()
    keywords: dict[str, Any] = dict(study_body.measurements)  # SI keywords, checked on entry
    body = bodyfit.body_from_measurements(sex=study_body.sex, **keywords)
    return body, time.perf_counter() - start


def _fails_at(fit: SizeFit) -> str:
    where = [r for r, v in fit.region_verdicts.items() if v in ("too tight", "too loose")]
    if fit.stretch.get("over_limit_fraction", 0.0) > _OVERSTRETCH_FRACTION:
        where.append("stretch")
    if any(r.startswith("does not stay up") for r in fit.reasons):
        where.append("slides down")
    return ",".join(where)


def _run_job(
    spec: dict[str, Any], body: Body, build_s: float, files: dict[str, Path] | None = None
) -> dict[str, Any]:
    """One job on a worker: drape, judge alone, and the result row (never raises for a drape).

    ``files``: garment label -> this task's copy of the garment file (``materialized``).
    """
    start = time.perf_counter()
    size, chart = spec["size"], spec["chart"]
    path = (files or {}).get(spec["garment"])
    family = spec["garment"] if path is None else str(path)  # a file: its own sizes, no chart
    job = DrapeJob(
        body=body,
        family=family,
        size=size,
        chart=chart,
        fabric=spec["fabric"],
        edge_length_m=spec["edge_length_m"],
        device=spec["device"],
        max_seconds_simulated=spec["max_seconds_simulated"],
    )
    result = run_drape_job(job)
    tick = time.perf_counter()
    row: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS)
    row.update(
        key=spec["key"],
        body_id=spec["body_id"],
        sex=spec["sex"],
        garment=spec["garment"],
        size=size,
        chart=chart,
        fabric=spec["fabric"],
        device=spec["device"],
        tryon3d_version=spec["tryon3d_version"],
        error=result.error,
        verdict="failed",
        worker_pid=os.getpid(),
        node=socket.gethostname(),
    )
    fit = None
    if result.error is None:
        try:
            report = judge_drapes(body, family, [result], chart=chart, device=spec["device"])
            fit = report.sizes[size]
            row.update(fabric=report.fabric)
            if path is None:  # a file's answer among one judged size would mean nothing
                row.update(chart_size=report.chart_size)
        except (ValueError, KeyError) as exc:
            row["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    if row["chart_size"] is None and path is None:  # no chart, no chart answer: a file
        row["chart_size"] = chart_size_for(body, chart, family)
    if fit is not None:
        row.update(
            verdict=fit.verdict,
            score=fit.score,
            governing_region=fit.governing_region,
            fails_at=_fails_at(fit),
            stretch_p95_pct=fit.stretch["p95"],
            stretch_p99_pct=fit.stretch["p99"],
            stretch_max_pct=fit.stretch["max"],
            over_limit_fraction=fit.stretch["over_limit_fraction"],
            gates_passed=bool(fit.gates["passed"]),
            vertex_count=int(result.garment.vertex_count) if result.garment is not None else 0,
            fit_json=json.dumps(_nan_to_none(asdict(fit))),
        )
        for region, value in fit.ease_cm.items():
            row[f"ease_{region}_cm"] = float(value)
    m = body.measurements_m
    row.update(
        body_height_cm=float(body.inputs.get("height_cm", math.nan)),
        body_weight_kg=float(body.weight_kg),
        body_chest_cm=100.0 * float(m.get("chest", math.nan)),
        body_waist_cm=100.0 * float(m.get("waist", math.nan)),
        body_hips_cm=100.0 * float(m.get("hips", math.nan)),
        seconds_body_build=build_s,
        seconds_place=result.seconds.get("place", 0.0),
        seconds_drape=result.seconds.get("drape", 0.0),
        seconds_judge=time.perf_counter() - tick,
        seconds_total=time.perf_counter() - start,
    )
    return row


def _run_batch(
    specs: list[dict[str, Any]], built: tuple[Body, float] | str, *files: StudyGarment
) -> list[dict[str, Any]]:
    """The rows of a batch of jobs on one body; ``built`` is ``_safe_build``'s answer, ``files``
    the garment files the batch drapes (their bytes, written here for this batch)."""
    if isinstance(built, str):  # the body could not be built: each job is a row saying so
        return [_error_row(spec, built) for spec in specs]
    body, build_s = built
    with materialized(files) as paths:  # the files' bytes, as files for this task only
        return [_run_job(spec, body, build_s, paths) for spec in specs]


def _error_row(spec: dict[str, Any], error: str) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS)
    row.update(
        key=spec["key"],
        body_id=spec["body_id"],
        sex=spec["sex"],
        garment=spec["garment"],
        size=spec["size"],
        chart=spec["chart"],
        fabric=spec["fabric"],
        device=spec["device"],
        tryon3d_version=spec["tryon3d_version"],
        verdict="failed",
        error=error,
    )
    return row


# ----------------------------------------------------------------------------- running


@dataclass(frozen=True)
class StudyResult:
    """What ``run_study`` did and found.

    Attributes:
        rows: the result rows of this study's jobs (``RESULT_COLUMNS``), one per job done.
        job_count: jobs in the study.
        ran: jobs run now; ``skipped``: jobs found finished in the results; ``lost``: jobs whose
            worker died more often than Ray retries (not written: a rerun runs them).
        seconds: wall-clock time of the run [s].
        results_dir: the Parquet dataset.
        executor: ``"ray"`` or ``"serial"``; ``ray_resources``: the cluster's resources (Ray).
        garment_sizes: per garment file (its label), its own sizes in its order; families are
            not listed (their sizes are their charts').
        garment_sha256: per garment file (its label), the SHA-256 of its bytes (which version
            of the file the study draped).
    """

    rows: tuple[dict[str, Any], ...]
    job_count: int
    ran: int
    skipped: int
    lost: int
    seconds: float
    results_dir: Path
    executor: str
    ray_resources: dict[str, float] = field(default_factory=dict)
    garment_sizes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    garment_sha256: dict[str, str] = field(default_factory=dict)


def _import_ray(local: bool):
    """Ray, imported with our settings: no usage reports, and a local cluster on 127.0.0.1."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never report to anyone
    if local:  # a local cluster binds to 127.0.0.1, not the machine's address
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import pyarrow  # noqa: F401
        import ray
    except ModuleNotFoundError:
        raise ValueError(RAY_MISSING) from None
    return ray


def _start_ray(ray, address: str | None, local_cpus: int | None) -> bool:
    """Connect (``address``, ``RAY_ADDRESS``) or start Ray in this process; True if we started
    it."""
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        return True
    import importlib.util

    dashboard = importlib.util.find_spec("ray.dashboard") is not None and importlib.util.find_spec(
        "aiohttp"
    )
    context = ray.init(
        num_cpus=local_cpus,
        include_dashboard=bool(dashboard),
        dashboard_host="127.0.0.1",
        logging_level=logging.WARNING,
        log_to_driver=False,
    )
    if getattr(context, "dashboard_url", None):
        _log.info("Ray dashboard: http://%s", context.dashboard_url)
    return True


def run_study(
    bodies: Sequence[StudyBody],
    garments: Sequence[str | os.PathLike],
    *,
    out: str | os.PathLike,
    sizes: Sequence[str] | None = None,
    fabric: str | None = None,
    chart: SizeChart | None = None,
    edge_length_m: float = 0.03,
    max_seconds_simulated: float = 4.0,
    device: str = "cpu",
    executor: str = "ray",
    ray_address: str | None = None,
    local_cpus: int | None = None,
    gpus_per_job: float = 0,
    batch_size: int = 1,
    max_retries: int = 3,
    max_in_flight: int | None = None,
    quiet: bool = False,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> StudyResult:
    """Drape every size of every garment on every body; results land in ``out/results``.

    Jobs whose key is already in ``out/results`` are skipped. Bodies are built on the workers
    (from measurements) once each, and only for bodies with jobs left to run.

    Args:
        bodies: the bodies (``sample_population``, a customers table, body files).
        garments: garment family names or garment files (a graded ``.dxf``, a GarmentCode
            ``.json``, a mesh): a file drapes its own sizes, with no size chart; see
            ``sizing._study_garments``.
        out: study folder; results go to ``out/results/part-*.parquet``.
        sizes: size labels to drape (None: every size of each chart or file); each garment
            drapes those it holds (a one-size file its one size), and each must be held by one.
        fabric: fabric preset name or None (each family's default).
        chart: ``"women"`` / ``"men"`` for the families; None picks by each body's sex.
        edge_length_m: garment mesh edge length [m].
        max_seconds_simulated: simulated-time budget per settle [s].
        device: ``"cpu"`` or ``"cuda[:N]"`` for the drapes (``"cuda"`` with ``gpus_per_job``).
        executor: ``"ray"`` or ``"serial"`` (this process, one job after the other, no Ray).
        ray_address: a running cluster's address; None uses ``RAY_ADDRESS`` or starts Ray here
            (bound to 127.0.0.1). A Ray already initialised in this process is used as it is.
        local_cpus: CPUs of a Ray started here (None: all).
        gpus_per_job: GPUs each task asks Ray for (0: CPU tasks).
        batch_size: jobs per task, all on one body (a GPU worker drapes several per call).
        max_retries: Ray retries of a task whose worker died.
        max_in_flight: most tasks submitted at once (None: 2 per CPU of the cluster, at least 4).
        quiet: no progress bar.
        on_result: called with each result row as it is stored (e.g. a custom progress).

    Raises:
        ValueError: bad inputs (before any work: a garment file that is missing, unreadable or
            cannot be worn, a size it does not hold), or Ray missing for ``executor="ray"``.
    """
    if executor not in ("ray", "serial"):
        raise ValueError(f"executor must be 'ray' or 'serial', got {executor!r}")
    sizes = None if sizes is None else list(sizes)
    study_garments = _check_inputs(
        bodies,
        garments,
        sizes,
        fabric,
        chart,
        edge_length_m,
        max_seconds_simulated,
        device,
        gpus_per_job,
        batch_size,
    )
    if executor == "ray":
        ray = _import_ray(local=not (ray_address or os.environ.get("RAY_ADDRESS")))
    else:
        try:
            import pyarrow  # noqa: F401
        except ModuleNotFoundError:
            raise ValueError(RAY_MISSING) from None
    specs = _job_specs(
        bodies,
        study_garments,
        sizes=sizes,
        fabric=fabric,
        chart=chart,
        edge_length_m=float(edge_length_m),
        max_seconds_simulated=float(max_seconds_simulated),
        device=device,
    )
    if len(specs) > MAX_JOBS:
        raise ValueError(f"a study may hold at most {MAX_JOBS} jobs, got {len(specs)}")
    folder = Path(out) / "results"
    done = {row["key"]: row for row in read_results(folder)}
    todo = [s for s in specs if s["key"] not in done]
    by_body: dict[str, list[dict[str, Any]]] = {}
    for spec in todo:
        by_body.setdefault(spec["body_id"], []).append(spec)
    batches = [
        (bid, group[i : i + batch_size])
        for bid, group in by_body.items()
        for i in range(0, len(group), batch_size)
    ]
    _log.info(
        "study: %d jobs (%d bodies x %d garments), %d finished before, %d to run",
        len(specs),
        len(bodies),
        len(garments),
        len(specs) - len(todo),
        len(todo),
    )
    store = _ResultStore(folder)
    started = time.perf_counter()
    counts = {"done": 0, "failed": 0, "lost": 0}
    resources: dict[str, float] = {}

    from tqdm import tqdm

    bar = tqdm(total=len(todo), disable=quiet or not todo, unit="job", dynamic_ncols=True)

    def stored(rows: list[dict[str, Any]], running: int) -> None:
        store.add(rows)
        for row in rows:
            counts["done"] += 1
            counts["failed"] += row["error"] is not None
            done[row["key"]] = row
            if on_result is not None:
                on_result(row)
        bar.set_postfix(
            done=counts["done"], running=running, failed=counts["failed"], refresh=False
        )
        bar.update(len(rows))

    bodies_by_id = {b.body_id: b for b in bodies}
    files = {g.label: g for g in study_garments if g.is_file}
    try:
        if executor == "serial":
            for bid, group in batches:
                needed = _files_of(group, files)
                stored(_run_batch(group, _safe_build(bodies_by_id[bid]), *needed), 0)
        elif batches:
            started_ray = _start_ray(ray, ray_address, local_cpus)
            try:
                resources = {
                    k: float(v)
                    for k, v in ray.cluster_resources().items()
                    if k in ("CPU", "GPU", "memory", "object_store_memory")
                }
                window = max_in_flight or max(4, 2 * int(resources.get("CPU", 1)))
                _ray_map(
                    ray,
                    batches,
                    bodies_by_id,
                    files,
                    window=window,
                    gpus=gpus_per_job,
                    retries=max_retries,
                    stored=stored,
                    counts=counts,
                )
            finally:
                if started_ray:
                    ray.shutdown()
    finally:
        store.flush()
        bar.close()
    # this study's names: a row found from an earlier run may name a renamed file or body
    rows = tuple(
        {**done[s["key"]], "garment": s["garment"], "body_id": s["body_id"]}
        for s in specs
        if s["key"] in done
    )
    return StudyResult(
        rows=rows,
        job_count=len(specs),
        ran=counts["done"],
        skipped=len(specs) - len(todo),
        lost=counts["lost"],
        seconds=time.perf_counter() - started,
        results_dir=folder,
        executor=executor,
        ray_resources=resources,
        garment_sizes={label: g.sizes for label, g in files.items()},
        garment_sha256={label: g.sha256 for label, g in files.items()},
    )


def _safe_build(study_body: StudyBody) -> tuple[Body, float] | str:
    """(body, build seconds), or one line saying why it could not be built (a result, not a
    crash)."""
    try:
        return _build_body(study_body)
    except (ValueError, TypeError) as exc:
        return f"body: {type(exc).__name__}: {exc}".splitlines()[0]


def _files_of(group: list[dict[str, Any]], files: dict[str, StudyGarment]) -> list[StudyGarment]:
    """The garment files a batch of jobs drapes, each once."""
    return [files[label] for label in dict.fromkeys(s["garment"] for s in group) if label in files]


def _ray_map(ray, batches, bodies_by_id, files, *, window, gpus, retries, stored, counts) -> None:
    """Submit the batches as Ray tasks, at most ``window`` at once, and store results as they
    come. Each garment file is put in the object store once; tasks get its reference."""
    from ray.exceptions import RayTaskError

    build = ray.remote(_safe_build).options(
        num_cpus=1, max_retries=retries, name="tryon3d.build_body"
    )
    drape = ray.remote(_run_batch).options(
        num_cpus=1, num_gpus=gpus, max_retries=retries, name="tryon3d.drape_jobs"
    )
    # body id -> batches not yet finished; its object ref is dropped when none are
    left: dict[str, int] = {}
    for bid, _ in batches:
        left[bid] = left.get(bid, 0) + 1
    body_refs: dict[str, Any] = {}
    file_refs = {label: ray.put(garment) for label, garment in files.items()}
    pending: dict[Any, tuple[str, list]] = {}
    queue = list(batches)
    queue.reverse()  # pop() from the end keeps the order: bodies one after the other
    try:
        while queue or pending:
            while queue and len(pending) < window:
                bid, group = queue.pop()
                if bid not in body_refs:  # built once, on a worker, and kept in the object store
                    body_refs[bid] = build.remote(bodies_by_id[bid])
                needed = [file_refs[g.label] for g in _files_of(group, files)]
                pending[drape.remote(group, body_refs[bid], *needed)] = (bid, group)
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in ready:
                bid, group = pending.pop(ref)
                try:
                    rows = ray.get(ref)
                except RayTaskError as exc:  # the job's own error (a bad body, a bug): a result
                    cause = exc.cause if getattr(exc, "cause", None) is not None else exc
                    message = f"{type(cause).__name__}: {cause}".splitlines()[0]
                    rows = [_error_row(spec, message) for spec in group]
                except (
                    ray.exceptions.RayError
                ) as exc:  # its worker died past the retries: not a result
                    _log.warning(
                        "lost %d job(s) of body %s: %s", len(group), bid, str(exc).splitlines()[0]
                    )
                    counts["lost"] += len(group)
                    rows = []
                stored(rows, len(pending))
                left[bid] -= 1
                if left[bid] == 0:
                    body_refs.pop(bid, None)  # frees the body in the object store
    except BaseException:
        for ref in pending:  # Ctrl-C: stop what is in flight; the finished rows are kept
            ray.cancel(ref, force=True)
        raise
