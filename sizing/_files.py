"""A report on disk: ``report.json`` content, the drapes saved beside it, and loading it back.

A report folder holds ``report.json``, ``body.json`` (the facade's body file, whose ``record`` is
``bodyfit.body_record``), one ``drapes/<size>.npz`` per draped size (``sim.drape_to_npz``) and
``drapes/garments.json``: what rebuilds each size's garment (family, chart, size, fabric, mesh
edge length). ``load_report`` reads those back and judges the drapes again.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any, get_args

from tryon3d.sizing._jobs import judge_drapes
from tryon3d.sizing._judge import is_family
from tryon3d.sizing._records import DrapeJob, DrapeJobResult, FitReport, SizeChart
from tryon3d.sizing._sources import file_sizes, garment_file, load_size

#: Format tag of ``drapes/garments.json``.
GARMENTS_FORMAT = "tryon3d.sizing.garments/1"


def _num(value: float, digits: int = 1) -> float | None:
    return round(float(value), digits) if math.isfinite(float(value)) else None


def report_json(report: FitReport, *, files: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``report.json`` content: recommendation, confidence and per size the gates, ease,
    stretch and verdict."""
    sizes = {}
    for size, fit in report.sizes.items():
        sizes[size] = {
            "verdict": fit.verdict,
            "score": round(fit.score, 3),
            "governing_region": fit.governing_region,
            "gates": fit.gates,
            "ease_cm": {
                region: {
                    "ease": _num(fit.ease_cm[region]),
                    "source": fit.ease_source[region],
                    "pattern_ease": _num(fit.pattern_ease_cm.get(region, math.nan)),
                    "tape_reading": _num(fit.tape_ease_cm.get(region, math.nan)),
                    "comfort_min": _num(fit.comfort_cm[region][0]),
                    "design": _num(fit.comfort_cm[region][1]),
                    "comfort_max": _num(fit.comfort_cm[region][2]),
                    "verdict": fit.region_verdicts[region],
                }
                for region in fit.ease_cm
            },
            "stretch_pct": {
                k: _num(v, 3 if k == "over_limit_fraction" else 1) for k, v in fit.stretch.items()
            },
            "lengths": fit.lengths,
            "reasons": list(fit.reasons),
            "timings_s": {k: round(v, 2) for k, v in fit.timings_s.items()},
        }
    return {
        "garment": report.family,
        "garment_source": report.garment_source or None,
        "chart": report.chart,
        "fabric": report.fabric,
        "fabric_class": report.fabric_class,
        "recommended_size": report.recommended_size,
        "confidence": round(report.confidence, 3),
        "confidence_label": report.confidence_label,
        "chart_size_for_body": report.chart_size,
        "reasons": list(report.reasons),
        "body_cm": report.body_cm,
        "device": report.device,
        "sizes": sizes,
        "failed_sizes": dict(report.failed_sizes),
        "files": files or {},
    }


def drape_files(report: FitReport) -> dict[str, bytes | str]:
    """The files that let ``load_report`` rebuild the report: ``drapes/<size>.npz`` and
    ``drapes/garments.json`` (names relative to the report folder; ``body.json`` is the caller's).

    Raises:
        ValueError: the report carries no drapes (it was loaded from JSON alone).
    """
    from tryon3d import sim

    if not report.drapes:
        raise ValueError("the fit report carries no drapes to save")
    files: dict[str, bytes | str] = {}
    sizes = {}
    for size, drape in report.drapes.items():
        garment = report.garments[size]
        files[f"drapes/{size}.npz"] = sim.drape_to_npz(drape)
        sizes[size] = {
            "edge_length_m": float(garment.metadata.get("edge_length_m", math.nan)),
            "vertex_count": int(garment.vertex_count),
        }
    first = report.garments[next(iter(report.drapes))]
    spec = {
        "format": GARMENTS_FORMAT,
        "family": report.family,
        "chart": report.chart,
        "device": report.device,
        "fabric": dataclasses.asdict(first.fabric),
        "sizes": sizes,
        "failed_sizes": dict(report.failed_sizes),
    }
    files["drapes/garments.json"] = json.dumps(spec, indent=2) + "\n"
    return files


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(
            f"{str(path)!r} does not exist: not a report folder written by write_report"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {str(path)!r}: {exc}") from None


def load_report(folder: str | os.PathLike) -> FitReport:
    """The FitReport of a report folder written by ``write_report``: the body from ``body.json``,
    each size's drape from ``drapes/<size>.npz``, its garment rebuilt from ``drapes/garments.json``
    (family, size, chart, fabric, mesh edge length, placed on the body), judged again.

    Raises:
        ValueError: a file is missing or malformed, or a rebuilt garment does not match its drape.
    """
    from tryon3d import bodyfit, garments, sim

    folder = Path(folder)
    spec = _read_json(folder / "drapes" / "garments.json")
    if not isinstance(spec, dict) or spec.get("format") != GARMENTS_FORMAT:
        got = spec.get("format") if isinstance(spec, dict) else type(spec).__name__
        raise ValueError(f"drapes/garments.json format must be {GARMENTS_FORMAT!r}, got {got!r}")
    record = _read_json(folder / "body.json")
    if not isinstance(record, dict) or "record" not in record:
        raise ValueError(f"{str(folder / 'body.json')!r} is not a tryon3d body.json (no 'record')")
    body = bodyfit.body_from_record(record["record"])
    try:
        fabric = garments.Fabric(**spec["fabric"])
        family, chart, device = str(spec["family"]), spec["chart"], str(spec["device"])
        if chart not in (*get_args(SizeChart), ""):  # a family's chart, or "" for a garment file
            raise ValueError(f"chart must be one of {get_args(SizeChart)} or '', got {chart!r}")
        sizes = {
            str(s): (float(v["edge_length_m"]), int(v["vertex_count"]))
            for s, v in spec["sizes"].items()
        }
        failed = {str(s): str(e) for s, e in spec["failed_sizes"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"drapes/garments.json is malformed: {exc!r}") from None
    results = []
    for size, (edge, count) in sizes.items():
        job = DrapeJob(
            body=body,
            family=family,
            size=size,
            chart=chart,
            fabric=fabric.name,
            edge_length_m=edge,
            device=device,
        )
        drape = sim.load_drape_npz(folder / "drapes" / f"{size}.npz")
        if is_family(family):
            garment = garments.load_garment(
                family, size=size, fabric=fabric, body=body, chart=chart, edge_length_m=edge
            )
        else:  # a garment file: it must still be where the report found it
            garment = load_size(
                garment_file(family), size, fabric=fabric, body=body, edge_length_m=edge
            )
        if garment.vertex_count != count or len(drape.rest_pose_positions) != count:
            raise ValueError(
                f"the rebuilt {family} {size} has {garment.vertex_count} vertices, its drape "
                f"{len(drape.rest_pose_positions)}: the garment code changed since the report"
            )
        results.append(
            DrapeJobResult(job=job, garment=garment, drape=drape, error=None, seconds={})
        )
    for size, error in failed.items():
        job = DrapeJob(
            body=body, family=family, size=size, chart=chart, fabric=fabric.name, device=device
        )
        results.append(DrapeJobResult(job=job, garment=None, drape=None, error=error, seconds={}))
    table = list(garments.size_chart(chart)) if is_family(family) else file_sizes(Path(family))
    results.sort(key=lambda r: list(table).index(r.job.size) if r.job.size in table else -1)
    return judge_drapes(body, family, results, chart=chart, device=device)
