"""Build ``data/photo_girth_error.json``: how the photo fit's girth readings err, per state.

Reads the per-subject rows that ``benchmarks/photo_fit.py --progress`` prints (one JSON object
a line) for TRAINING subjects, i.e. a seed the benchmark does not evaluate (its default is 7):

- ``--clothed`` rows (``--methods clothed``), fitted with the height alone (``--height-only``
  files) or with the weight too (``--with-weight`` files): the clothed fit's reading per girth
  (``outline_error_cm`` plus the truth: the girth before the population prior; rows from before
  it existed carry it as ``error_cm``), grouped by the outfit's ``fit`` (``fitted``: chart
  size, ``loose``: two sizes up); girths whose outline is mostly skin are left out;
- unclothed rows (``--skin`` files, no ``--clothed``): the reading error on skin.

Per girth, clothed readings are fitted by least squares as one line in the true girth with an
offset per state (reading = slope x girth + offset + noise; the fit's own pull towards a
typical body makes the slope < 1), the spread per state from the residuals (at least
``--min-std-cm``); skin keeps slope 1 and its mean error as the offset. Per girth the smallest
loose stand-off (reading - girth) is kept as the loose bound's floor. ``loose_probability`` is
the loose share of the clothed training girths.

Usage: python scripts/calibrate_photo_girths.py --height-only H.jsonl --with-weight W.jsonl
       --skin S.jsonl [--out data/photo_girth_error.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

GIRTHS = ("chest", "waist", "hips")
SKIN_SHARE = 0.5  # as bodyfit._girth_posterior: skin on at least this share in every view
SLOPE_RANGE = (0.3, 1.2)


def read_rows(paths: list[str]) -> list[dict]:
    """The subject rows of every line of ``paths`` that holds one (other lines skipped)."""
    rows = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line.startswith("{") and '"error_cm"' in line:
                row = json.loads(line)
                if "rows" not in row:  # a summary, not a subject
                    rows.append(row)
    return rows


def clothed_samples(rows: list[dict]) -> dict[str, list[tuple[str, float, float]]]:
    """girth -> (state, true girth [m], reading [m]) per clothed subject."""
    out: dict[str, list[tuple[str, float, float]]] = {g: [] for g in GIRTHS}
    for row in rows:
        fit = row.get("clothed", {})
        if "error_cm" not in fit:
            continue  # refused
        errors = fit.get("outline_error_cm", fit["error_cm"])
        for girth in GIRTHS:
            views = [view[girth] for view in fit.get("clothing", {}).values() if girth in view]
            skin = bool(views) and all(v["skin"] >= SKIN_SHARE for v in views)
            state = "skin" if skin else row["fit"]
            truth = row["truth_cm"][girth] / 100.0
            out[girth].append((state, truth, truth + errors[girth] / 100.0))
    return out


def skin_errors(rows: list[dict]) -> dict[str, list[float]]:
    """girth -> reading errors [m] of unclothed subjects."""
    out: dict[str, list[float]] = {g: [] for g in GIRTHS}
    for row in rows:
        errors = row.get("outline_error_cm", row["error_cm"])
        for girth in GIRTHS:
            out[girth].append(errors[girth] / 100.0)
    return out


def calibrate(
    clothed_rows: list[dict],
    skin: dict[str, list[float]],
    min_std: float,
    *,
    slope: float | None = None,
) -> dict:
    """One mode's table (see the module notes); ``slope`` fixes the line's slope."""
    fixed_slope = slope
    samples = clothed_samples(clothed_rows)
    table: dict[str, dict] = {}
    states = ("fitted", "loose")
    for girth in GIRTHS:
        picked = [s for s in samples[girth] if s[0] in states]
        if any(sum(s[0] == state for s in picked) < 2 for state in states):
            raise SystemExit(f"too few fitted or loose readings of the {girth}")
        truth = np.array([s[1] for s in picked])
        reading = np.array([s[2] for s in picked])
        design = np.column_stack(
            [truth] + [[s[0] == state for s in picked] for state in states]
        ).astype(np.float64)
        coef = np.linalg.lstsq(design, reading, rcond=None)[0]
        slope = float(np.clip(coef[0], *SLOPE_RANGE)) if fixed_slope is None else fixed_slope
        entry: dict[str, object] = {}
        for state in states:
            mine = np.array([s[0] == state for s in picked])
            offset = float(np.mean(reading[mine] - slope * truth[mine]))
            residual = reading[mine] - slope * truth[mine] - offset
            # two of the line's three coefficients are shared: one degree lost per state and
            # a share of the slope's
            dof = max(mine.sum() - 1.0 - mine.sum() / len(picked), 1.0)
            std = float(np.sqrt((residual**2).sum() / dof))
            entry[state] = {
                "slope": round(slope, 4),
                "offset_m": round(offset, 4),
                "std_m": round(max(std, min_std), 4),
                "count": int(mine.sum()),
            }
        errors = np.array(skin[girth])
        if len(errors) < 2:
            raise SystemExit(f"too few skin readings of the {girth}")
        entry["skin"] = {
            "slope": 1.0,
            "offset_m": round(float(errors.mean()), 4),
            "std_m": round(max(float(errors.std(ddof=1)), min_std), 4),
            "count": len(errors),
        }
        loose = np.array([s[2] - s[1] for s in picked if s[0] == "loose"])
        entry["loose_floor_m"] = round(float(loose.min()), 4)
        table[girth] = entry
    states_seen = [s[0] for girth in GIRTHS for s in samples[girth] if s[0] != "skin"]
    loose_share = sum(s == "loose" for s in states_seen) / max(len(states_seen), 1)
    return {
        "subjects": len(clothed_rows),
        "loose_probability": round(float(np.clip(loose_share, 0.05, 0.95)), 3),
        "girths": table,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height-only", nargs="+", required=True, help="clothed rows, height")
    parser.add_argument("--with-weight", nargs="+", required=True, help="clothed rows, weight")
    parser.add_argument("--skin", nargs="+", required=True, help="unclothed rows")
    parser.add_argument("--out", default="data/photo_girth_error.json")
    parser.add_argument("--min-std-cm", type=float, default=1.0)
    args = parser.parse_args()
    skin = skin_errors(read_rows(args.skin))
    minimum = args.min_std_cm / 100.0
    out = {
        "about": (
            "photo fit girth reading = slope x girth + offset + noise [m] per girth and cloth "
            "state; scripts/calibrate_photo_girths.py on training subjects of "
            "benchmarks/photo_fit.py (not the seeds it evaluates)"
        ),
        "sources": {
            "height_only": [Path(p).name for p in args.height_only],
            "with_weight": [Path(p).name for p in args.with_weight],
            "skin": [Path(p).name for p in args.skin],
        },
        "height_only": calibrate(read_rows(args.height_only), skin, minimum),
        "with_weight": calibrate(read_rows(args.with_weight), skin, minimum),
    }
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
