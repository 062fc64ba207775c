"""Does the fit report's T-shirt size agree with the size chart on real people?

For ANSUR II subjects (``../shared/anthro/``, both sexes, a seeded sample) a body is built from
their own stature, weight and chest/waist/hip girths, ``tryon3d.fit_report`` drapes the T-shirt
in the chart's answer and its neighbours (``sizes="auto"``) and recommends a size. The size
chart's own answer is the size whose chest is nearest the subject's measured chest girth (men's
chart for men, women's for women). Goal: agreement >= 90 %.

Usage: ``python benchmarks/size_consistency.py [--subjects 20] [--seed 0] [--json]``
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ANTHRO = ROOT.parent / "shared" / "anthro"


def _sample(anthro: Path, count: int, seed: int) -> list[dict]:
    import bodyfit

    rng = np.random.default_rng(seed)
    subjects = []
    for sex, name in (("female", "ANSUR_II_FEMALE_train.csv"), ("male", "ANSUR_II_MALE_train.csv")):
        table = bodyfit.read_ansur_csv(anthro / name)
        n = count // 2 + (count % 2 if sex == "female" else 0)
        for i in rng.choice(len(table["stature"]), size=n, replace=False):
            subjects.append({
                "sex": sex, "row": int(i), "height_m": float(table["stature"][i]),
                "weight_kg": float(table["weightkg"][i]), "chest_m": float(table["chestcircumference"][i]),
                "waist_m": float(table["waistcircumference"][i]), "hips_m": float(table["buttockcircumference"][i]),
            })
    return subjects


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=20, help="number of subjects, half of each sex (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument("--anthro", type=Path, default=DEFAULT_ANTHRO, help="folder with the ANSUR II CSVs")
    parser.add_argument("--edge-length", type=float, default=0.035, help="garment mesh edge length [m]")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    import bodyfit
    import garments
    from tryon3d import fit_report

    started = time.perf_counter()
    rows = []
    for subject in _sample(args.anthro, args.subjects, args.seed):
        t0 = time.perf_counter()
        body = bodyfit.body_from_measurements(height_m=subject["height_m"], weight_kg=subject["weight_kg"],
                                              sex=subject["sex"], chest_m=subject["chest_m"],
                                              waist_m=subject["waist_m"], hips_m=subject["hips_m"])
        chart_name = "men" if subject["sex"] == "male" else "women"
        chart = garments.size_chart(chart_name)
        chart_answer = min(chart, key=lambda s: abs(chart[s]["chest"] - subject["chest_m"]))
        try:
            report = fit_report(body, "tshirt", sizes="auto", chart=chart_name, edge_length_m=args.edge_length,
                                device=args.device)
        except ValueError as exc:  # every size diverged: counts as a disagreement
            rows.append({**subject, "chart_size": chart_answer, "recommended_size": None, "agree": False,
                         "error": str(exc)[:300], "gates_passed": False, "failed_sizes": [],
                         "seconds": round(time.perf_counter() - t0, 1)})
            continue
        row = {
            **{k: round(v, 3) if isinstance(v, float) else v for k, v in subject.items()},
            "body_chest_m": round(float(body.measurements_m["chest"]), 3),
            "chart_size": chart_answer, "recommended_size": report.recommended_size,
            "agree": report.recommended_size == chart_answer, "confidence": round(report.confidence, 3),
            "sizes_draped": list(report.sizes), "failed_sizes": list(report.failed_sizes),
            "gates_passed": all(f.gates["passed"] for f in report.sizes.values()),
            "seconds": round(time.perf_counter() - t0, 1),
        }
        rows.append(row)
        if not args.json:
            print(f"{subject['sex']:6s} chest {100 * subject['chest_m']:5.1f} cm: chart {chart_answer:3s} "
                  f"report {report.recommended_size:3s} ({100 * report.confidence:.0f} %) "
                  f"{'ok' if row['agree'] else 'DIFFERENT'} {row['seconds']:.0f} s", file=sys.stderr)
    agree = sum(r["agree"] for r in rows)
    full = [r for r in rows if "error" not in r and not r["failed_sizes"]]
    result = {
        "subjects": len(rows),
        "agreement": round(agree / max(1, len(rows)), 3),
        "agree_count": agree,
        "goal": 0.9,
        "gates_passed_fraction": round(sum(r["gates_passed"] for r in rows) / max(1, len(rows)), 3),
        "subjects_with_failed_drapes": sum(bool(r["failed_sizes"]) or "error" in r for r in rows),
        # the judgement alone, where the simulation draped every size it was asked for
        "agreement_fully_draped": round(float(np.mean([r["agree"] for r in full])), 3) if full else None,
        "fully_draped_subjects": len(full),
        "mean_seconds_per_subject": round(float(np.mean([r["seconds"] for r in rows])) if rows else 0.0, 1),
        "total_s": round(time.perf_counter() - started, 1),
        "seed": args.seed,
        "rows": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"agreement {100 * result['agreement']:.0f} % ({agree}/{len(rows)}), goal >= 90 %; "
              f"{result['total_s']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
