"""The results store of a fit study: one Parquet row per job, appended atomically.

Rows are written a file at a time (``part-<time>-<id>.parquet``, staged and renamed, so a
reader never sees half a file); ``read_results`` reads every finished job back, the first row
per job key, which is what lets a rerun skip finished jobs.
"""

from __future__ import annotations

import json
import math
import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tryon3d.sizing._checks import REGIONS
from tryon3d.sizing._records import SizeFit

__all__ = ["RESULT_COLUMNS", "read_results", "size_fit_from_json"]

#: Most results buffered before they are written to a new Parquet file.
_FLUSH_ROWS = 16
#: Longest time results wait in the buffer [s].
_FLUSH_SECONDS = 30.0

#: Parquet columns of a result row, in order (lengths in cm: the study's report units).
RESULT_COLUMNS: tuple[str, ...] = (
    "key",
    "body_id",
    "sex",
    "garment",
    "size",
    "chart",
    "fabric",
    "verdict",
    "error",
    "score",
    "governing_region",
    "fails_at",
    "chart_size",
    *(f"ease_{r}_cm" for r in REGIONS),
    "stretch_p95_pct",
    "stretch_p99_pct",
    "stretch_max_pct",
    "over_limit_fraction",
    "gates_passed",
    "vertex_count",
    "body_height_cm",
    "body_weight_kg",
    "body_chest_cm",
    "body_waist_cm",
    "body_hips_cm",
    "seconds_body_build",
    "seconds_place",
    "seconds_drape",
    "seconds_judge",
    "seconds_total",
    "worker_pid",
    "node",
    "device",
    "tryon3d_version",
    "fit_json",
)


def _schema():
    import pyarrow as pa

    types = {
        "score": pa.float64(),
        "over_limit_fraction": pa.float64(),
        "gates_passed": pa.bool_(),
        "vertex_count": pa.int64(),
        "worker_pid": pa.int64(),
    }
    fields = []
    for name in RESULT_COLUMNS:
        if name in types:
            fields.append(pa.field(name, types[name]))
        elif name.endswith(("_cm", "_pct", "_kg")) or name.startswith("seconds_"):
            fields.append(pa.field(name, pa.float64()))
        else:
            fields.append(pa.field(name, pa.string()))
    return pa.schema(fields)


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_to_none(v) for v in value]
    return value


def size_fit_from_json(text: str) -> SizeFit:
    """The ``SizeFit`` a result row's ``fit_json`` holds (NaN stored as null)."""
    data = json.loads(text)
    nan = float("nan")
    data["comfort_cm"] = {r: tuple(v) for r, v in data["comfort_cm"].items()}
    data["reasons"] = tuple(data["reasons"])
    data["tape_ease_cm"] = {r: nan if v is None else v for r, v in data["tape_ease_cm"].items()}
    data["stretch"] = {k: nan if v is None else v for k, v in data["stretch"].items()}
    return SizeFit(**data)


# ----------------------------------------------------------------------------- the results store


def read_results(folder: str | os.PathLike) -> list[dict[str, Any]]:
    """Every result row of a results dataset (``OUT/results``), first one per key; [] if none."""
    import pyarrow.parquet as pq

    folder = Path(folder)
    files = sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []
    rows, seen = [], set()
    for path in files:
        for row in pq.read_table(path).to_pylist():
            if row["key"] not in seen:
                seen.add(row["key"])
                rows.append(row)
    return rows


class _ResultStore:
    """Appends result rows to a Parquet dataset, a new file per flush, each written atomically."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.buffer: list[dict[str, Any]] = []
        self.last_flush = time.monotonic()

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        self.buffer.extend(rows)
        if len(self.buffer) >= _FLUSH_ROWS or time.monotonic() - self.last_flush > _FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.last_flush = time.monotonic()
        if not self.buffer:
            return
        table = pa.Table.from_pylist(
            [{k: _nan_to_none(r.get(k)) for k in RESULT_COLUMNS} for r in self.buffer],
            schema=_schema(),
        )
        name = f"part-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.parquet"
        staging = self.folder / f".{name}.tmp"
        pq.write_table(table, staging)
        os.replace(staging, self.folder / name)  # a reader never sees half a file
        self.buffer = []
