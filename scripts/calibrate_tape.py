"""Calibrate where anny puts ANSUR's buttock height, and check ANSUR's sleeve-outseam share.

On the TRAINING part of the seeded 80/20 split of the shared ANSUR II CSVs (the part that
``benchmarks/body_accuracy.py`` fits on; its held-out 20 % is never read), bodies are built from
height, weight, sex and age as users build them, and:

- ``buttock_drop``, ``buttock_drop_per_waist``: how far (fraction of stature) ANSUR's buttock
  height lies below the body's largest buttock protrusion, from the waist-to-buttock heights the
  tape reads with no drop against ANSUR's, as a line in the body's waist girth over its stature
  (``TapeCalibration``); leave-one-out errors [cm] of that line and of a constant drop say
  whether the line earns its slope;
- ``sleeve_of_arm_lengths``: ANSUR's sleeve outseam over its acromion-radiale plus
  radiale-stylion lengths, per sex, from the CSVs alone (``_tape._SLEEVE_OF_ARM_LENGTHS``).

Run: ``python scripts/calibrate_tape.py [--subjects 20] [--anthro DIR]`` (subjects per sex);
prints one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
from _population_fit import fit_population_model, read_ansur_csv, split_ansur_tables

from tryon3d import bodyfit
from tryon3d.bodyfit._shape_prior import fit_measurement_prior, prior_truth

ROOT = Path(__file__).resolve().parents[1]
FILES = {"male": "ANSUR_II_MALE_train.csv", "female": "ANSUR_II_FEMALE_train.csv"}


def calibrate(anthro: Path, subjects: int, seed: int = 0) -> dict:
    from tryon3d.bodyfit._anny_model import load_anny_model
    from tryon3d.bodyfit._tape import measure

    tables = {sex: read_ansur_csv(anthro / name) for sex, name in FILES.items()}
    train, _ = split_ansur_tables(tables, seed=seed)
    population = fit_population_model(train)
    prior = fit_measurement_prior(train)
    # The bodies read with no drop: the height of the largest protrusion itself.
    anny_topology = load_anny_model().tape_topology
    topology = dataclasses.replace(
        anny_topology,
        calibration=dataclasses.replace(
            anny_topology.calibration, buttock_drop=0.0, buttock_drop_per_waist=0.0
        ),
    )
    drops: dict[str, list[float]] = {sex: [] for sex in FILES}
    rows: list[tuple[float, float, float]] = []  # (drop, waist / stature - 0.5, stature [m])
    failed = 0
    for sex, table in train.items():
        truth = prior_truth(table, "waist_to_hip_height")
        for i in range(min(subjects, len(truth))):
            stature = float(table["stature"][i])
            try:
                body = bodyfit.body_from_measurements(
                    height_m=stature,
                    weight_kg=float(table["weightkg"][i]),
                    sex=sex,
                    age_years=float(table["age"][i]),
                    population=population,
                    prior=prior,
                )
            except ValueError:
                failed += 1
                continue
            measured, _ = measure(
                body.rest_vertices,
                body.vertex_regions,
                dict(body.skeleton_m),
                topology,
                height_ratios=body.inputs["height_ratios"],
            )
            # reading - truth = -drop x stature when the drop is right
            drops[sex].append((truth[i] - measured["waist_to_hip_height"]) / stature)
            rows.append((drops[sex][-1], measured["waist"] / stature - 0.5, stature))
            sys.stderr.write(f"{sex} {i}: drop {drops[sex][-1]:+.4f}\n")
    drop, waist, stature = np.array(rows).T
    design = np.column_stack([np.ones_like(waist), waist])
    line = np.linalg.lstsq(design, drop, rcond=None)[0]
    held = np.ones(len(drop), dtype=bool)
    loo: dict[str, list[float]] = {"constant": [], "line": []}
    for i in range(len(drop)):  # each body's error with the drop fitted on the others
        held[:] = True
        held[i] = False
        fitted = np.linalg.lstsq(design[held], drop[held], rcond=None)[0]
        loo["line"].append(abs(drop[i] - design[i] @ fitted) * stature[i] * 100.0)
        loo["constant"].append(abs(drop[i] - drop[held].mean()) * stature[i] * 100.0)
    sleeve = {
        sex: float(
            np.mean(
                table["sleeveoutseam"]
                / (table["acromionradialelength"] + table["radialestylionlength"])
            )
        )
        for sex, table in train.items()
    }
    return {
        "buttock_drop": round(float(line[0]), 4),
        "buttock_drop_per_waist": round(float(line[1]), 4),
        "constant_drop": round(float(drop.mean()), 4),
        "constant_drop_by_sex": {sex: round(float(np.mean(v)), 4) for sex, v in drops.items()},
        "leave_one_out_mae_cm": {name: round(float(np.mean(v)), 3) for name, v in loo.items()},
        "sleeve_of_arm_lengths_by_sex": {sex: round(v, 4) for sex, v in sleeve.items()},
        "bodies": len(drop),
        "failed": failed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=20, help="training subjects per sex")
    parser.add_argument("--anthro", type=Path, default=ROOT.parent / "shared" / "anthro")
    args = parser.parse_args()
    if args.subjects < 1:
        parser.exit(2, f"error: --subjects must be >= 1, got {args.subjects}\n")
    sys.stdout.write(json.dumps(calibrate(args.anthro, args.subjects)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
