"""Does the fit report's T-shirt size agree with the size chart on real people?

For ANSUR II subjects (``../shared/anthro/``, both sexes, a seeded sample) a body is built from
their own stature, weight and chest/waist/hip girths, ``tryon3d.fit_report`` drapes the T-shirt
in the chart's answer and its neighbours (``sizes="auto"``) and recommends a size. The size
chart's own answer is the size whose chest is nearest the subject's measured chest girth (men's
chart for men, women's for women). Goal: agreement >= 90 %.

Usage: ``python benchmarks/size_consistency.py [--subjects 20] [--seed 0] [--json] [--cache DIR
[--replay]] [--solver-settings default|legacy] [--candidate KEY=VALUE,...]``

``--solver-settings legacy`` drapes with the stepping before issue 19
(``sim.LEGACY_DRAPE_OPTIONS``): ``fit_report`` takes no solver options, so this benchmark process
(and the workers it forks) calls ``sim.drape`` with them bound.

``--candidate linear_iterations=8`` drapes with ``sim.drape`` keywords / ``SolverSettings`` fields
changed from the defaults (as ``benchmarks/drape.py --candidate`` reads them), bound the same way;
run once without and once with it (same ``--seed``) to see whether a candidate default changes
any recommended size.

``--cache DIR`` keeps each subject's body record and every size's drape there; ``--replay`` then
judges those drapes again without simulating (for work on the recommendation alone).

Besides the agreement, the JSON says how often the size chart broke a tie the drape could not
resolve (``chart_tie_breaks``) and what the agreement would be without that
(``agreement_without_tie_breaks``), and how far the drape's chest ease is from the pattern's
nominal ease (``chest_ease_minus_pattern_cm``).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1] / "scripts")
)  # scripts/ is not a package
from _population_fit import read_ansur_csv

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ANTHRO = ROOT.parent / "shared" / "anthro"


def _sample(anthro: Path, count: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    subjects = []
    for sex, name in (("female", "ANSUR_II_FEMALE_train.csv"), ("male", "ANSUR_II_MALE_train.csv")):
        table = read_ansur_csv(anthro / name)
        n = count // 2 + (count % 2 if sex == "female" else 0)
        for i in rng.choice(len(table["stature"]), size=n, replace=False):
            subjects.append(
                {
                    "sex": sex,
                    "row": int(i),
                    "height_m": float(table["stature"][i]),
                    "weight_kg": float(table["weightkg"][i]),
                    "chest_m": float(table["chestcircumference"][i]),
                    "waist_m": float(table["waistcircumference"][i]),
                    "hips_m": float(table["buttockcircumference"][i]),
                }
            )
    return subjects


def _deviation(values: list[float]) -> dict:
    if not values:
        return {}
    v = np.asarray(values)
    return {
        "mean": round(float(v.mean()), 2),
        "sd": round(float(v.std()), 2),
        "max_abs": round(float(np.abs(v).max()), 2),
        "count": len(v),
    }


def _drape_and_judge(body, chart: str, args: argparse.Namespace, folder: Path | None):
    """``fit_report`` on the body; with a cache folder, keep the body and every size's drape
    there."""
    from tryon3d import bodyfit, fit_report, sim

    report = fit_report(
        body,
        "tshirt",
        sizes="auto",
        chart=chart,
        edge_length_m=args.edge_length,
        device=args.device,
    )
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "body.json").write_text(json.dumps(bodyfit.body_record(body)))
        edges = {}
        for size, drape in report.drapes.items():
            (folder / f"{size}.npz").write_bytes(sim.drape_to_npz(drape))
            edges[size] = report.garments[size].metadata.get("edge_length_m", args.edge_length)
        meta = {
            "chart": chart,
            "edge_length_m": args.edge_length,
            "failed_sizes": report.failed_sizes,
            "vertex_counts": {s: int(g.vertex_count) for s, g in report.garments.items()},
        }
        (folder / "meta.json").write_text(json.dumps(meta))
    return report


def _replay(folder: Path, chart: str):
    """(body, FitReport) judged again from a cache folder's body and drapes, without simulating."""
    from tryon3d import bodyfit, garments, sim
    from tryon3d.sizing import DrapeJob, DrapeJobResult, judge_drapes

    if not (folder / "meta.json").is_file():
        raise ValueError(f"nothing cached in {folder}")
    meta = json.loads((folder / "meta.json").read_text())
    body = bodyfit.body_from_record(json.loads((folder / "body.json").read_text()))
    results = []
    for size, count in meta["vertex_counts"].items():
        drape = sim.load_drape_npz(folder / f"{size}.npz")
        for edge in (meta["edge_length_m"], 0.025):  # fit_report's retry drapes a finer mesh
            garment = garments.load_garment(
                "tshirt", size=size, body=body, chart=chart, edge_length_m=edge
            )
            if garment.vertex_count == count:
                break
        else:
            raise ValueError(f"cannot rebuild the {size} garment of {folder}")
        job = DrapeJob(body=body, family="tshirt", size=size, chart=chart, edge_length_m=edge)
        results.append(
            DrapeJobResult(job=job, garment=garment, drape=drape, error=None, seconds={})
        )
    for size, error in meta["failed_sizes"].items():
        job = DrapeJob(body=body, family="tshirt", size=size, chart=chart)
        results.append(DrapeJobResult(job=job, garment=None, drape=None, error=error, seconds={}))
    return body, judge_drapes(body, "tshirt", results, chart=chart)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--subjects", type=int, default=20, help="number of subjects, half of each sex (default 20)"
    )
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument(
        "--anthro", type=Path, default=DEFAULT_ANTHRO, help="folder with the ANSUR II CSVs"
    )
    parser.add_argument(
        "--edge-length", type=float, default=0.035, help="garment mesh edge length [m]"
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--cache", type=Path, help="folder to keep bodies and drapes in (per seed and subject)"
    )
    parser.add_argument(
        "--replay", action="store_true", help="judge the drapes kept in --cache, no simulation"
    )
    parser.add_argument(
        "--solver-settings",
        choices=("default", "legacy"),
        default="default",
        help="drape with sim's defaults or the stepping before issue 19",
    )
    parser.add_argument(
        "--candidate",
        help="drape keywords / SolverSettings fields changed from the defaults, e.g. "
        "linear_iterations=8 (see benchmarks/drape.py)",
    )
    args = parser.parse_args(argv)
    if args.solver_settings == "legacy" and args.candidate:
        parser.error("--candidate changes the defaults: not with --solver-settings legacy")
    if args.solver_settings == "legacy" or args.candidate:
        from tryon3d import sim

        options = dict(sim.LEGACY_DRAPE_OPTIONS)
        if args.candidate:
            from drape import candidate_options  # benchmarks/drape.py, this script's folder

            try:
                options = candidate_options(args.candidate)
            except ValueError as exc:
                parser.error(str(exc))
        sim.drape = functools.partial(sim.drape, **options)
    if args.replay and args.cache is None:
        parser.error("--replay needs --cache")
    logging.basicConfig(level=logging.WARNING)

    from tryon3d import bodyfit, garments

    started = time.perf_counter()
    rows = []
    for k, subject in enumerate(_sample(args.anthro, args.subjects, args.seed)):
        t0 = time.perf_counter()
        folder = (
            args.cache / f"seed{args.seed}" / f"{k:02d}_{subject['sex']}_{subject['row']}"
            if args.cache
            else None
        )
        chart_name = "men" if subject["sex"] == "male" else "women"
        chart = garments.size_chart(chart_name)
        chart_answer = min(chart, key=lambda s: abs(chart[s]["chest"] - subject["chest_m"]))
        try:
            if args.replay:
                body, report = _replay(folder, chart_name)
            else:
                body = bodyfit.body_from_measurements(
                    height_m=subject["height_m"],
                    weight_kg=subject["weight_kg"],
                    sex=subject["sex"],
                    chest_m=subject["chest_m"],
                    waist_m=subject["waist_m"],
                    hips_m=subject["hips_m"],
                )
                report = _drape_and_judge(body, chart_name, args, folder)
        except ValueError as exc:  # every size diverged: counts as a disagreement
            rows.append(
                {
                    **subject,
                    "chart_size": chart_answer,
                    "recommended_size": None,
                    "agree": False,
                    "error": str(exc)[:300],
                    "gates_passed": False,
                    "failed_sizes": [],
                    "seconds": round(time.perf_counter() - t0, 1),
                }
            )
            continue
        row = {
            **{k: round(v, 3) if isinstance(v, float) else v for k, v in subject.items()},
            "body_chest_m": round(float(body.measurements_m["chest"]), 3),
            "chart_size": chart_answer,
            "recommended_size": report.recommended_size,
            "agree": report.recommended_size == chart_answer,
            "confidence": round(report.confidence, 3),
            # the size the fit alone picks (lowest score), before the chart breaks a tie
            "best_scored_size": min(report.sizes, key=lambda s: report.sizes[s].score),
            "chart_tie_break": any("breaks the tie" in r for r in report.reasons),
            "sizes_draped": list(report.sizes),
            "failed_sizes": list(report.failed_sizes),
            "gates_passed": all(f.gates["passed"] for f in report.sizes.values()),
            "recommended_gates_passed": report.sizes[report.recommended_size].gates["passed"],
            "per_size": {
                s: {
                    "score": round(f.score, 2),
                    "verdict": f.verdict,
                    "ease_cm": {r: round(v, 1) for r, v in f.ease_cm.items()},
                    "ease_source": dict(f.ease_source),
                    "pattern_ease_cm": {r: round(v, 2) for r, v in f.pattern_ease_cm.items()},
                    "tape_ease_cm": {
                        r: round(v, 2) if np.isfinite(v) else None
                        for r, v in f.tape_ease_cm.items()
                    },
                    "stretch_p99": round(f.stretch["p99"], 1),
                    "self_intersections": f.gates["self_intersecting_pairs"],
                    "penetrating": f.gates["penetrating_vertices"],
                }
                for s, f in report.sizes.items()
            },
            "seconds": round(time.perf_counter() - t0, 1),
        }
        rows.append(row)
        if not args.json:
            print(
                f"{subject['sex']:6s} chest {100 * subject['chest_m']:5.1f} cm: chart "
                f"{chart_answer:3s} "
                f"report {report.recommended_size:3s} ({100 * report.confidence:.0f} %) "
                f"{'ok' if row['agree'] else 'DIFFERENT'} {row['seconds']:.0f} s",
                file=sys.stderr,
            )
    agree = sum(r["agree"] for r in rows)
    full = [r for r in rows if "error" not in r and not r["failed_sizes"]]
    result = {
        "subjects": len(rows),
        "agreement": round(agree / max(1, len(rows)), 3),
        "agree_count": agree,
        "goal": 0.9,
        "chart_tie_breaks": sum(bool(r.get("chart_tie_break")) for r in rows),
        "agreement_without_tie_breaks": round(
            sum(r.get("best_scored_size") == r["chart_size"] for r in rows) / max(1, len(rows)), 3
        ),
        "chest_ease_minus_pattern_cm": _deviation(
            [
                f["ease_cm"]["chest"] - f["pattern_ease_cm"]["chest"]
                for r in rows
                for f in r.get("per_size", {}).values()
                if f["ease_source"].get("chest") == "drape"
            ]
        ),
        "gates_passed_fraction": round(sum(r["gates_passed"] for r in rows) / max(1, len(rows)), 3),
        "subjects_with_failed_drapes": sum(bool(r["failed_sizes"]) or "error" in r for r in rows),
        # the judgement alone, where the simulation draped every size it was asked for
        "agreement_fully_draped": round(float(np.mean([r["agree"] for r in full])), 3)
        if full
        else None,
        "fully_draped_subjects": len(full),
        # how often the deciding (chest) ease came from the drape's tape, not the pattern's fallback
        "chest_ease_from_drape_fraction": round(
            float(
                np.mean(
                    [
                        f["ease_source"].get("chest") == "drape"
                        for r in rows
                        for f in r.get("per_size", {}).values()
                    ]
                    or [0.0]
                )
            ),
            3,
        ),
        "recommended_gates_passed_fraction": round(
            float(np.mean([r.get("recommended_gates_passed", False) for r in rows] or [0.0])), 3
        ),
        "mean_seconds_per_subject": round(
            float(np.mean([r["seconds"] for r in rows])) if rows else 0.0, 1
        ),
        "total_s": round(time.perf_counter() - started, 1),
        "seed": args.seed,
        "solver_settings": args.candidate or args.solver_settings,
        "rows": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"agreement {100 * result['agreement']:.0f} % ({agree}/{len(rows)}), goal >= 90 %; "
            f"{result['total_s']:.0f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
