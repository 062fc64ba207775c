"""The drape-every-size loop as a map and a reduce.

``size_jobs`` makes one ``DrapeJob`` per size; ``run_drape_job`` (the map step) places and drapes
one, on any worker, and never raises for a drape that fails; ``judge_drapes`` (the reduce step)
judges the results and recommends a size. ``fit_report`` chains them with an injectable mapper
(serial by default), so a process pool or a cluster can run the map.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tryon3d._units import m_to_cm
from tryon3d.sizing import _parallel
from tryon3d.sizing._checks import REGION_WORDS
from tryon3d.sizing._judge import evaluate_size, fabric_class, is_family
from tryon3d.sizing._recommend import chart_for, chart_size_for, confidence_label, recommend
from tryon3d.sizing._records import DrapeJob, DrapeJobResult, FitReport, SizeChart, SizeFit
from tryon3d.sizing._sources import (
    ONE_SIZE,
    file_sizes,
    garment_file,
    load_size,
    pattern_size_for,
)

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body
    from tryon3d.garments import Fabric, Garment
    from tryon3d.sim import Drape

_log = logging.getLogger("tryon3d")

#: Garment mesh edge length [m] of the second try when a drape diverges.
_RETRY_EDGE_LENGTH_M = 0.025
#: Multiplies the confidence once per size that could not be draped.
_FAILED_SIZE_CONFIDENCE = 0.8

#: ``map_jobs(fn, jobs) -> results``: runs ``fn`` on every job, results in job order.
JobMapper = Callable[
    [Callable[[DrapeJob], DrapeJobResult], Sequence[DrapeJob]], Sequence[DrapeJobResult]
]


def _check_device(device: str) -> str:
    device = str(device)
    if not (device == "cpu" or device.startswith("cuda")):
        raise ValueError(f"device must be 'cpu' or 'cuda[:N]', got {device!r}")
    return device


def _resolve_sizes(
    sizes: Sequence[str] | str | None, table: Sequence[str] | dict, chart_answer: str
) -> list[str]:
    labels = list(table)
    if sizes is None or sizes == "all":
        return labels
    if sizes == "auto":
        i = labels.index(chart_answer)
        return labels[max(0, i - 1) : i + 2]
    if isinstance(sizes, str):
        sizes = [s.strip() for s in sizes.split(",") if s.strip()]
    chosen = []
    for size in sizes:
        if size not in table:
            raise ValueError(f"unknown size {size!r}; expected some of {labels}, 'auto' or 'all'")
        if size not in chosen:
            chosen.append(size)
    if not chosen:
        raise ValueError(f"no sizes given; expected some of {labels}, 'auto' or 'all'")
    return sorted(chosen, key=labels.index)


def size_jobs(
    body: Body,
    family: str | os.PathLike,
    *,
    sizes: Sequence[str] | str | None = None,
    fabric: Fabric | str | None = None,
    chart: SizeChart | None = None,
    device: str = "cpu",
    edge_length_m: float = 0.03,
    max_seconds_simulated: float = 4.0,
) -> list[DrapeJob]:
    """One ``DrapeJob`` per size to drape, in chart order; the inputs are checked here, before
    any drape.

    Args:
        body: a ``bodyfit.Body``.
        family: family name (see ``garments.list_families()``), e.g. ``"tshirt"``, or a garment
            file (a graded ``.dxf``, a GarmentCode ``.json``, a mesh): its own sizes are draped
            (``sizing._sources``) and no chart is used (``chart`` is ``""``).
        sizes: size labels (list or ``"S,M,L"``), ``"auto"`` (the chart's answer for the body and
            its neighbours; for a file, the size whose pattern gives the body a sensible design
            ease and its neighbours) or None / ``"all"`` (every size of the chart or file; None
            for a GarmentCode specification: the size it was drafted in, ``garments.graded_sizes``).
        fabric: fabric preset name, free-text description or ``garments.Fabric``; None for the
            family's default.
        chart: ``"women"`` / ``"men"``; None picks by the body's sex.
        device: ``"cpu"`` or ``"cuda[:N]"`` for the drapes.
        edge_length_m: garment mesh edge length [m] of the first try.
        max_seconds_simulated: simulated-time budget per settle [s].

    Raises:
        ValueError: unknown family, size, chart, fabric or device; a garment file that is
            missing, unreadable or of an unknown format.
    """
    from tryon3d import garments

    device = _check_device(device)
    if fabric is not None:
        garments.resolve_fabric(fabric)
    job_chart: SizeChart | Literal[""]
    if isinstance(family, str) and is_family(family):
        name = family
        job_chart = chart_for(str(body.inputs.get("sex", "")), family, chart)
        table = list(garments.size_chart(job_chart))
        answer = ""
        if sizes == "auto":
            answer = chart_size_for(body, job_chart, family)
    elif isinstance(family, (str, os.PathLike)):
        path = garment_file(family)
        if chart is not None:
            raise ValueError(
                f"{path.name} has its own sizes: a size chart applies to families only"
            )
        name, job_chart, table = str(path), "", file_sizes(path)
        answer = pattern_size_for(body, path, table, fabric)[0] if sizes == "auto" else ""
        if sizes is None and path.suffix.lower() == ".json":  # the design as drafted
            sizes = [garments.graded_sizes(garments.read_garmentcode(path))[1]]
    else:
        raise TypeError(
            f"garment must be a family name or a file path, got {type(family).__name__}"
        )
    chosen = _resolve_sizes(sizes, table, answer)
    return [
        DrapeJob(
            body=body,
            family=name,
            size=size,
            chart=job_chart,
            fabric=fabric,
            edge_length_m=edge_length_m,
            device=device,
            max_seconds_simulated=max_seconds_simulated,
        )
        for size in chosen
    ]


def _build_garment(job: DrapeJob, edge_length_m: float) -> Garment:
    """The job's garment at ``edge_length_m``, built and placed on its body."""
    from tryon3d import garments

    if is_family(job.family):
        return garments.load_garment(
            job.family,
            size=job.size,
            fabric=job.fabric,
            body=job.body,
            chart=job.chart or None,
            edge_length_m=edge_length_m,
        )
    # a garment file, at one of its own sizes
    return load_size(
        Path(job.family), job.size, fabric=job.fabric, body=job.body, edge_length_m=edge_length_m
    )


def place_job(job: DrapeJob) -> DrapeJob:
    """``job`` with its first try's garment built and placed here (``DrapeJob.garment``).

    For a parent whose drape workers are still loading their kernels: it has the body's
    placement data, they would each compute it. A garment that cannot be built leaves the job as
    it was; its worker then tries and reports why.
    """
    if job.garment is not None:
        return job
    try:
        garment = _build_garment(job, job.edge_length_m)
    except Exception as exc:
        _log.debug("%s %s not placed before the map: %s", job.family, job.size, exc)
        return job
    return dataclasses.replace(job, garment=garment)


def run_drape_job(job: DrapeJob) -> DrapeJobResult:
    """The map step: build and place the job's garment on its body and drape it.

    A job that carries its garment (``place_job``) drapes that one first. A drape that diverges
    is tried once more with a finer mesh (``_RETRY_EDGE_LENGTH_M``); when every try fails the
    result carries ``error`` (one line) and no garment or drape: this never raises for a failed
    drape, so one bad size does not stop a pool or a cluster.
    """
    from tryon3d import sim

    seconds = {"place": 0.0, "drape": 0.0}
    start = time.perf_counter()
    error = None
    for edge in dict.fromkeys(
        (job.edge_length_m, _RETRY_EDGE_LENGTH_M)
    ):  # a diverged drape: once more, finer
        tick = time.perf_counter()
        try:
            if job.garment is not None and edge == job.edge_length_m:
                garment = job.garment
            else:
                garment = _build_garment(job, edge)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            break
        finally:
            seconds["place"] += time.perf_counter() - tick
        tick = time.perf_counter()
        try:
            drape = sim.drape(
                job.body,
                garment,
                device=job.device,
                max_seconds_simulated=job.max_seconds_simulated,
            )
        except sim.DrapeDivergedError as exc:
            _log.warning(
                "%s %s: the drape diverged at %.1f cm mesh edges (%s)",
                job.family,
                job.size,
                m_to_cm(edge),
                str(exc).split(" (")[0],
            )
            error = str(exc)
            continue
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            break
        finally:
            seconds["drape"] += time.perf_counter() - tick
        seconds["total"] = time.perf_counter() - start
        return DrapeJobResult(job=job, garment=garment, drape=drape, error=None, seconds=seconds)
    seconds["total"] = time.perf_counter() - start
    return DrapeJobResult(
        job=job, garment=None, drape=None, error=error or "not draped", seconds=seconds
    )


def _serial_map(
    fn: Callable[[DrapeJob], DrapeJobResult], jobs: Sequence[DrapeJob]
) -> list[DrapeJobResult]:
    return [fn(job) for job in jobs]


def _file_note(path: Path, table: list[str], fit: SizeFit) -> str:
    """What the judgement of a garment file rests on, in words."""
    region = REGION_WORDS[fit.governing_region]
    if table == [ONE_SIZE]:
        return (
            f"{path.name} holds one size: this reports its ease, stretch and lengths on this body, "
            "not a choice between sizes."
        )
    design = fit.comfort_cm.get(fit.governing_region, (math.nan,) * 3)[1]
    return (
        f"Sizes of {path.name} are judged by the pattern's own {region} round minus the body's "
        f"(no size chart): about {design:.0f} cm of {region} ease is the design aimed at."
    )


def _failure_reason(size: str, error: str) -> str:
    if error.split(":")[0].endswith(("Error", "Exception")):  # not a divergence: say what it was
        return f"{size} could not be draped ({error}), so it was not judged."
    return f"{size} could not be draped (the simulation diverged), so it was not judged."


def _pattern_answer(fits: dict[str, SizeFit]) -> str | None:
    """Among judged sizes of a garment file, the one whose pattern ease at the sizing region is
    nearest the design ease (the file's stand-in for a chart's answer), None if none says."""
    near = {
        size: abs(
            fit.pattern_ease_cm[fit.governing_region] - fit.comfort_cm[fit.governing_region][1]
        )
        for size, fit in fits.items()
        if fit.governing_region in fit.pattern_ease_cm and fit.governing_region in fit.comfort_cm
    }
    return min(near, key=near.__getitem__) if near else None


def judge_drapes(
    body: Body,
    family: str,
    results: Sequence[DrapeJobResult],
    *,
    chart: SizeChart | Literal[""],
    device: str = "cpu",
) -> FitReport:
    """The reduce step: judge the drapes of the map step and recommend one size.

    Sizes whose result has an ``error`` are reported (``FitReport.failed_sizes``), not judged;
    each lowers the confidence. Also judges saved drapes again (build ``DrapeJobResult`` records
    from them).

    ``family`` is a family name, or the garment file the jobs draped (``chart`` is then ``""``
    and the file's own sizes are the table).

    Raises:
        ValueError: no results, a result of another family, a size given twice, or no size
            draped.
    """
    from tryon3d import garments

    if not results:
        raise ValueError("expected at least one drape result, got none")
    from_file = not is_family(family)
    if from_file:
        family = str(family)
        table = file_sizes(garment_file(family))
    else:
        table = list(garments.size_chart(chart))
    by_size: dict[str, DrapeJobResult] = {}
    for result in results:
        size = result.job.size
        if result.job.family != family or size in by_size or size not in table:
            raise ValueError(
                f"expected one result per size of {family} on the {chart} chart, got "
                f"{result.job.family} {size}"
            )
        if result.error is None and (result.garment is None or result.drape is None):
            raise ValueError(f"the result for {size} has neither a drape nor an error")
        by_size[size] = result
    failed: dict[str, str] = {}
    for size in table:
        error = by_size[size].error if size in by_size else None
        if error is not None:
            failed[size] = error
    order = [s for s in table if s in by_size and s not in failed]
    if not order:
        first = next(iter(failed))
        raise ValueError(f"no size of {family} could be draped on this body: {failed[first]}")
    draped: dict[str, tuple[Garment, Drape]] = {}
    for size in order:
        garment, drape = by_size[size].garment, by_size[size].drape
        if garment is not None and drape is not None:  # always (checked above): narrows the types
            draped[size] = garment, drape
    fits = {}
    for size, (garment, drape) in draped.items():
        fits[size] = evaluate_size(body, garment, drape, family=family)
        _log.debug("%s %s: %s, score %.2f", family, size, fits[size].verdict, fits[size].score)
    chart_answer = _pattern_answer(fits) if from_file else chart_size_for(body, chart, family)
    best, confidence, reasons = recommend(fits, list(table), chart_answer)
    if from_file:
        if table == [ONE_SIZE]:  # nothing to choose between: say how it fits
            reasons[0] = f"{Path(family).name}, one size: overall {fits[best].verdict}."
            reasons = [r for r in reasons if not r.startswith("Even the")]
        reasons.insert(1, _file_note(Path(family), table, fits[best]))
    reasons += [_failure_reason(size, error) for size, error in failed.items()]
    confidence *= _FAILED_SIZE_CONFIDENCE ** len(failed)
    first_garment = draped[order[0]][0]
    return FitReport(
        family=family,
        chart=chart,
        fabric=first_garment.fabric.name,
        fabric_class=fabric_class(first_garment.fabric),
        recommended_size=best,
        confidence=confidence,
        confidence_label=confidence_label(confidence),
        chart_size=chart_answer or "",
        reasons=tuple(reasons),
        sizes=fits,
        body_cm={k: round(m_to_cm(v), 1) for k, v in body.measurements_m.items()},
        body=body,
        drapes={s: drape for s, (_, drape) in draped.items()},
        garments={s: garment for s, (garment, _) in draped.items()},
        device=device,
        failed_sizes=failed,
        garment_source=family if from_file else "",
    )


def fit_report(
    body: Body,
    family: str,
    *,
    sizes: Sequence[str] | str | None = None,
    fabric: Fabric | str | None = None,
    device: str = "cpu",
    chart: SizeChart | None = None,
    edge_length_m: float = 0.03,
    max_seconds_simulated: float = 4.0,
    progress: Callable[[str], None] | None = None,
    map_jobs: JobMapper | None = None,
    workers: int | None = None,
) -> FitReport:
    """Drape each size of a garment family or file on ``body`` and recommend one:
    ``judge_drapes(map_jobs(run_drape_job, size_jobs(...)))``.

    Args:
        body: a ``bodyfit.Body``.
        family: family name (see ``garments.list_families()``), e.g. ``"tshirt"``, or a garment
            file (``.dxf``, GarmentCode ``.json``, mesh): see ``size_jobs``.
        sizes, fabric, chart, device, edge_length_m, max_seconds_simulated: see ``size_jobs``.
        progress: called with a short message before each drape (e.g. a tqdm bar's update); with
            ``map_jobs``, once before the map.
        map_jobs: ``map_jobs(fn, jobs) -> results`` in job order, e.g. a process pool's ``map``;
            None: ``sizing.fork_map`` (one forked worker per size, up to one per core) on the CPU
            of a machine with several cores, else the jobs one after the other here.
        workers: with ``map_jobs`` None, the most sizes draped at once; None: one per core;
            1: one after the other in this process (the serial path).

    Raises:
        ValueError: unknown family, size, fabric or device; a bad garment file; no size could
            be draped.
    """
    jobs = size_jobs(
        body,
        family,
        sizes=sizes,
        fabric=fabric,
        chart=chart,
        device=device,
        edge_length_m=edge_length_m,
        max_seconds_simulated=max_seconds_simulated,
    )
    if map_jobs is None and _parallel.use_fork(jobs, workers):
        map_jobs = _parallel.parallel_map(jobs, workers=workers)
    if map_jobs is None:
        results = []
        for job in jobs:
            if progress is not None:
                progress(f"draping {family} {job.size}")
            results.append(run_drape_job(job))
    else:
        if progress is not None:
            progress(f"draping {family} {', '.join(job.size for job in jobs)}")
        results = list(map_jobs(run_drape_job, jobs))
    return judge_drapes(body, jobs[0].family, results, chart=jobs[0].chart, device=jobs[0].device)
