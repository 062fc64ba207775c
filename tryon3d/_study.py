"""Facade for fit studies: bodies from a population sample, a customers CSV or body files (user
units, cm, converted here), the study on Ray, and its ``study.json`` / ``study.html``."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any, cast

from tryon3d._files import ensure_writable_dir, write_files_atomically
from tryon3d._units import cm_to_m

__all__ = ["CUSTOMER_COLUMNS", "read_customers", "study"]

#: Customers CSV columns: required, then optional (units in the names).
CUSTOMER_COLUMNS = {
    "required": ("height_cm", "weight_kg", "sex"),
    "optional": ("id", "age", "chest_cm", "waist_cm", "hips_cm"),
}
#: Plausible ranges of a customer's numbers (checked before any body is built).
_RANGES = {
    "height_cm": (50.0, 250.0),
    "weight_kg": (2.0, 400.0),
    "age": (1.0, 120.0),
    "chest_cm": (40.0, 250.0),
    "waist_cm": (30.0, 250.0),
    "hips_cm": (40.0, 250.0),
}
#: Most rows of a customers CSV (a guard before any work).
_MAX_CUSTOMERS = 1_000_000


def read_customers(path: str | os.PathLike):
    """``sizing.StudyBody`` per row of a customers CSV (columns ``CUSTOMER_COLUMNS``, cm and kg).

    Raises:
        ValueError: missing file or column, a number missing, not finite or out of range, a sex
            other than female/male, a duplicate id, or a BMI outside 10-90.
    """
    from tryon3d.sizing import StudyBody

    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in CUSTOMER_COLUMNS["required"] if c not in header]
            if missing:
                raise ValueError(
                    f"{str(path)!r}: missing column(s) {missing}; expected "
                    f"{list(CUSTOMER_COLUMNS['required'])} and optionally "
                    f"{list(CUSTOMER_COLUMNS['optional'])}"
                )
            raw = []
            for row in reader:
                raw.append({(k or "").strip(): (v or "").strip() for k, v in row.items()})
                if len(raw) > _MAX_CUSTOMERS:
                    raise ValueError(f"{str(path)!r} has more than {_MAX_CUSTOMERS} customers")
    except FileNotFoundError:
        raise ValueError(f"customers file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"cannot read customers file {str(path)!r}: {exc}") from None
    if not raw:
        raise ValueError(f"{str(path)!r} has no customers")
    bodies, seen = [], set()
    for line, row in enumerate(raw, start=2):
        where = f"{path.name} line {line}"
        values = {}
        for name, (low, high) in _RANGES.items():
            text = row.get(name, "")
            if not text:
                if name in CUSTOMER_COLUMNS["required"]:
                    raise ValueError(f"{where}: {name} is empty")
                continue
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"{where}: {name} must be a number, got {text!r}") from None
            if not (math.isfinite(value) and low <= value <= high):
                raise ValueError(f"{where}: {name} must be within [{low:g}, {high:g}], got {text}")
            values[name] = value
        sex = row.get("sex", "").lower()
        if sex not in ("female", "male"):
            raise ValueError(f"{where}: sex must be female or male, got {row.get('sex')!r}")
        bmi = values["weight_kg"] / cm_to_m(values["height_cm"]) ** 2
        if not 10.0 <= bmi <= 90.0:
            raise ValueError(f"{where}: height and weight give BMI {bmi:.1f}, outside 10-90")
        body_id = row.get("id") or f"customer-{line - 1:06d}"
        if body_id in seen:
            raise ValueError(f"{where}: id {body_id!r} given twice")
        seen.add(body_id)
        measurements = {"height_m": cm_to_m(values["height_cm"]), "weight_kg": values["weight_kg"]}
        if "age" in values:
            measurements["age_years"] = values["age"]
        for girth in ("chest", "waist", "hips"):
            if f"{girth}_cm" in values:
                measurements[f"{girth}_m"] = cm_to_m(values[f"{girth}_cm"])
        bodies.append(StudyBody(body_id=body_id, sex=sex, measurements=measurements))
    return bodies


def _body_files(folder: str | os.PathLike):
    from tryon3d._bodies import load_body
    from tryon3d.sizing import StudyBody

    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"bodies folder {str(folder)!r} does not exist or is not a folder")
    paths = sorted(p for p in folder.glob("*.json")) + sorted(
        p / "body.json" for p in folder.iterdir() if (p / "body.json").is_file()
    )
    if not paths:
        raise ValueError(
            f"no body files in {str(folder)!r} (expected *.json or */body.json from `tryon3d body`)"
        )
    bodies = []
    for path in paths:
        body = load_body(path)
        body_id = (
            path.parent.name if path.name == "body.json" and path.parent != folder else path.stem
        )
        bodies.append(
            StudyBody(body_id=body_id, sex=str(body.inputs.get("sex", "female")).lower(), body=body)
        )
    return bodies


def study(
    garments: list[str | os.PathLike] | str,
    *,
    out: str | os.PathLike,
    sizes: list[str] | str | None = None,
    population: str | None = None,
    count: int | None = None,
    sex: str = "both",
    seed: int = 0,
    customers: str | os.PathLike | None = None,
    bodies: str | os.PathLike | None = None,
    fabric: str | None = None,
    edge_length_cm: float = 3.0,
    max_seconds_simulated: float = 4.0,
    device: str = "cpu",
    ray_address: str | None = None,
    gpus_per_job: float = 0,
    batch_size: int = 1,
    executor: str = "ray",
    quiet: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """Run a fit study and write ``out/study.json``, ``out/study.html`` and ``out/results/``.

    ``garments``: family names or garment files (a graded ``.dxf``, a GarmentCode ``.json``, a
    mesh), or one comma-separated string of them; a file drapes its own sizes (``sizes`` picks
    among them) and has no size chart.

    Exactly one body source: ``population="ansur"`` with ``count`` (and ``sex``, ``seed``),
    ``customers`` (a CSV, see ``CUSTOMER_COLUMNS``) or ``bodies`` (a folder of body.json files).
    A rerun into the same ``out`` skips the jobs already done.

    Returns:
        (``sizing.StudyResult``, the ``study.json`` content).

    Raises:
        ValueError: bad inputs (checked before any drape), or Ray missing.
    """
    from tryon3d import sizing

    sources = [s for s in (population, customers, bodies) if s is not None]
    if len(sources) != 1:
        raise ValueError(
            "give exactly one body source: population (with count), customers or bodies"
        )
    if population is not None:
        if population != "ansur":
            raise ValueError(f"population must be 'ansur', got {population!r}")
        if count is None:
            raise ValueError("population needs count (how many bodies to draw)")
        study_bodies = sizing.sample_population(count, sex=sex, seed=seed)
    elif customers is not None:
        study_bodies = read_customers(customers)
    else:  # bodies: the one source given (checked above)
        study_bodies = _body_files(cast("str | os.PathLike", bodies))
    garments = (
        [g.strip() for g in garments.split(",")]
        if isinstance(garments, str)
        else [g if isinstance(g, str) else os.fspath(g) for g in garments]
    )
    if isinstance(sizes, str):
        sizes = None if sizes == "all" else [s.strip() for s in sizes.split(",") if s.strip()]
    folder = ensure_writable_dir(out)
    result = sizing.run_study(
        study_bodies,
        garments,
        out=folder,
        sizes=sizes,
        fabric=fabric,
        edge_length_m=cm_to_m(edge_length_cm),
        max_seconds_simulated=max_seconds_simulated,
        device=device,
        ray_address=ray_address,
        gpus_per_job=gpus_per_job,
        batch_size=batch_size,
        executor=executor,
        quiet=quiet,
    )
    inputs = {
        "garments": garments,
        "sizes": sizes,
        "population": population,
        "count": count,
        "sex": sex,
        "seed": seed,
        "customers": None if customers is None else str(customers),
        "bodies": None if bodies is None else str(bodies),
        "fabric": fabric,
        "edge_length_cm": edge_length_cm,
        "max_seconds_simulated": max_seconds_simulated,
        "device": device,
    }
    summary = sizing.study_json(result, inputs=inputs)
    write_files_atomically(
        folder,
        {
            "study.json": json.dumps(summary, indent=2) + "\n",
            "study.html": sizing.study_html(summary, result.rows),
        },
    )
    return result, summary
