"""Drape success over a matrix: 5 garment families x 5 sizes x 6 bodies (both sexes, BMI 18-35).

Usage: ``python benchmarks/drape_matrix.py [--families tshirt,...] [--sizes XS,S,M,L,XL]
[--bodies 0,1,...] [--chart family|sex] [--pose rest|arms_down|walking] [--edge-m 0.03] [--device
cpu] [--solver-settings default|legacy] [--candidate KEY=VALUE,...] [--rows-out rows.jsonl]
[--json]``. Not part of CI (10-15 minutes on this CPU).

``--solver-settings legacy`` drapes with the stepping before issue 19
(``sim.LEGACY_DRAPE_OPTIONS``), to compare gate pass rates before and after a change of ``sim``'s
defaults. ``--candidate linear_iterations=8`` drapes with ``sim.drape`` keywords /
``SolverSettings`` fields changed from the defaults (read as ``benchmarks/drape.py --candidate``
reads them), to compare a candidate default with the current one (rows carry ``ease_cm``).

``--chart family`` (default, comparable with earlier runs) uses each family's own chart (women's)
for everyone; ``--chart sex`` sizes each body by its sex's chart (men's for the male bodies), as
``tryon3d.sizing.fit_report`` does.

``--pose``: the target pose the drape ends in (``sim.drape`` drapes on the A-pose, then moves the
body there while the cloth follows, and settles again): ``rest`` (default, the A-pose itself)
or one of ``bodyfit.NAMED_POSES`` (``arms_down``, ``walking``). The garment is placed on the
A-pose as always.

A drape succeeds when it returns (no ``DrapeDivergedError``) and passes every gate
(``DrapeGates.passed``): 0 penetrating vertices, 0 self-intersecting triangle pairs, seams
closed (<= 2 mm) and converged. ``--json`` prints ``success_rate``, ``runs``, ``penetrations`` /
``self_intersections`` (mean, max), ``seconds`` (mean, max) and per-run rows; ``--rows-out``
appends each row as it finishes (a long run that is stopped keeps what it measured).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if os.environ.get("DRAPE_MATRIX_BODYFIT"):  # a pinned bodyfit checkout (comparable runs)
    sys.path.insert(0, os.environ["DRAPE_MATRIX_BODYFIT"])

from tryon3d import (
    bodyfit,
    garments,
    sim,
)

# (sex, height [m], BMI): both sexes, BMI 18-35
BODIES = (
    ("female", 1.60, 18.5),
    ("female", 1.68, 24.0),
    ("female", 1.64, 33.0),
    ("male", 1.72, 19.0),
    ("male", 1.80, 26.0),
    ("male", 1.76, 35.0),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default="tshirt,longsleeve,dress,skirt,trousers")
    parser.add_argument("--sizes", default="XS,S,M,L,XL")
    parser.add_argument(
        "--bodies",
        default=",".join(str(i) for i in range(len(BODIES))),
        help="indices into BODIES (default: all 6)",
    )
    parser.add_argument(
        "--chart",
        choices=("family", "sex"),
        default="family",
        help="size chart: the family's own (default) or the body's sex's",
    )
    parser.add_argument(
        "--pose",
        choices=["rest", *sorted(bodyfit.NAMED_POSES)],
        default="rest",
        help="target pose: rest (the A-pose, default) or one of bodyfit.NAMED_POSES",
    )
    parser.add_argument("--edge-m", type=float, default=0.03)
    parser.add_argument("--rows-out", type=Path, help="append each finished row to this JSONL file")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--solver-settings", choices=("default", "legacy"), default="default")
    parser.add_argument(
        "--candidate",
        help="drape keywords / SolverSettings fields changed from the defaults, e.g. "
        "linear_iterations=8 (see benchmarks/drape.py)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.solver_settings == "legacy" and args.candidate:
        parser.error("--candidate changes the defaults: not with --solver-settings legacy")
    options = dict(sim.LEGACY_DRAPE_OPTIONS) if args.solver_settings == "legacy" else {}
    if args.candidate:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from drape import candidate_options  # benchmarks/drape.py

        try:
            options = candidate_options(args.candidate)
        except ValueError as exc:
            parser.error(str(exc))
    sim.warm_up_kernels(device=args.device)
    rows = []
    for sex, height, bmi in (BODIES[int(i)] for i in args.bodies.split(",")):
        body = bodyfit.body_from_measurements(
            height_m=height, weight_kg=bmi * height * height, sex=sex
        )
        if args.pose != "rest":
            body = bodyfit.pose_named(body, args.pose)
        for family in args.families.split(","):
            for size in args.sizes.split(","):
                chart = ("men" if sex == "male" else "women") if args.chart == "sex" else None
                row = {
                    "sex": sex,
                    "height_m": height,
                    "bmi": bmi,
                    "pose": args.pose,
                    "family": family,
                    "size": size,
                    "chart": chart or garments.list_families()[family]["chart"],
                    "solver_settings": args.candidate or args.solver_settings,
                }
                t0 = time.perf_counter()
                try:
                    garment = garments.load_garment(
                        family, size=size, body=body, chart=chart, edge_length_m=args.edge_m
                    )
                    cpu = time.process_time()
                    result = sim.drape(body, garment, device=args.device, **options)
                    row["drape_cpu_s"] = round(time.process_time() - cpu, 2)
                    row["frames"] = result.frames
                    gates = result.gates
                    row.update(
                        penetrations=gates.penetrating_vertices,
                        self_intersections=gates.self_intersecting_pairs,
                        seam_gap_mm=gates.max_seam_gap_mm,
                        converged=gates.converged,
                        max_stretch_pct=round(gates.max_stretch_pct, 1),
                        attempts=result.metadata["attempts"],
                        success=gates.passed,
                        ease_cm=sim.drape_to_json(result)["ease_cm"],
                    )
                except ValueError as exc:  # DrapeDivergedError is a ValueError
                    row.update(success=False, error=str(exc).splitlines()[0][:200])
                row["seconds"] = round(time.perf_counter() - t0, 2)
                rows.append(row)
                if args.rows_out:
                    with args.rows_out.open("a") as stream:
                        stream.write(json.dumps(row) + "\n")
                if not args.json:
                    print(row, flush=True)
    done = [r for r in rows if "penetrations" in r]

    def stats(key: str) -> dict:
        values = np.array([r[key] for r in done], dtype=float)
        return (
            {"mean": round(float(values.mean()), 2), "max": round(float(values.max()), 2)}
            if len(values)
            else {}
        )

    report = {
        "runs": len(rows),
        "success_rate": round(sum(r["success"] for r in rows) / max(1, len(rows)), 3),
        "penetrations": stats("penetrations"),
        "self_intersections": stats("self_intersections"),
        "seconds": {
            "mean": round(float(np.mean([r["seconds"] for r in rows])), 2),
            "max": round(float(np.max([r["seconds"] for r in rows])), 2),
        },
        "rows": rows,
    }
    print(
        json.dumps(report, indent=2)
        if args.json
        else json.dumps({k: v for k, v in report.items() if k != "rows"})
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
