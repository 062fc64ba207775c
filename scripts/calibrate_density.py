"""Calibrate the effective body density that turns anny mesh volume into body mass.

For ANSUR II subjects, fit an anny body to the subject's stature and tape girths (no mass
target), then compare the subject's real weight with the body's volume. The ratio, regressed on
BMI per sex, is shipped as ``data/body_density.json``. Run:

    python scripts/calibrate_density.py [ANSUR_DIR] [--subjects 40]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from _population_fit import read_ansur_csv

from tryon3d.bodyfit._anny_model import load_anny_model
from tryon3d.bodyfit._fit import FitTarget, fit_shape
from tryon3d.bodyfit._measurements import _FLEXED_TO_RELAXED_M, _PRIOR_SKIPPED
from tryon3d.bodyfit._population import load_population_model
from tryon3d.bodyfit._shape_prior import PRIOR_COLUMNS, prior_truth
from tryon3d.bodyfit._tape import mesh_volume

ROOT = Path(__file__).resolve().parents[1]

_GIRTHS = {  # targeted as in the first calibration; the prior's columns are added below
    "chest": "chestcircumference",
    "waist": "waistcircumference",
    "hips": "buttockcircumference",
    "neck": "neckcircumference",
    "thigh": "thighcircumference",
    "shoulder_breadth": "biacromialbreadth",
}


def calibrate(ansur_dir: Path, subjects: int, seed: int = 0) -> dict:
    model = load_anny_model()
    population = load_population_model()
    rng = np.random.default_rng(seed)
    result = {
        "source": f"ANSUR II training split ({subjects} subjects per sex, seed {seed}): anny "
        "bodies fitted to "
        "each subject's stature and every tape measurement ANSUR II has (bodyfit._shape_prior), no "
        "mass "
        "target; density = real weight / mesh volume. Regenerate with "
        "scripts/calibrate_density.py.",
        "sexes": {},
    }
    for sex, stem in (("male", "MALE"), ("female", "FEMALE")):
        table = read_ansur_csv(ansur_dir / f"ANSUR_II_{stem}_train.csv")
        chosen = rng.choice(len(table["stature"]), subjects, replace=False)
        bmis, densities = [], []
        for i in chosen:
            height, weight, age = table["stature"][i], table["weightkg"][i], table["age"][i]
            predicted = population.predict(
                height_m=height, weight_kg=weight, sex=sex, age_years=age
            )
            ratios = {k: v for k, v in predicted.items() if k.endswith("_height_ratio")}
            targets = {"stature": FitTarget(height, 4.0)}
            for name, column in _GIRTHS.items():
                hard = name in ("chest", "waist", "hips")
                targets[name] = FitTarget(table[column][i], 3.0 if hard else 0.5, hard=hard)
            # The rest of the subject's measurements, softly, as body_from_measurements does with
            # predicted ones: the volume is then that of a body right everywhere.
            for name in PRIOR_COLUMNS:
                if name not in targets and name not in _PRIOR_SKIPPED:
                    value = float(prior_truth(table, name)[i]) - _FLEXED_TO_RELAXED_M.get(name, 0.0)
                    targets[name] = FitTarget(value, 0.5, hard=False)
            targets["thigh_max"] = FitTarget(table["thighcircumference"][i], 1.0, hard=False)
            fit = fit_shape(model, targets, sex=sex, age_years=age, height_ratios=ratios)
            volume = float(mesh_volume(fit.vertices, model.faces))
            bmis.append(weight / height**2)
            densities.append(weight / volume)
            print(
                f"{sex} bmi {bmis[-1]:.1f} density {densities[-1]:.0f} fit error "
                f"{fit.max_error * 100:.2f} cm",
                file=sys.stderr,
            )
        bmis, densities = np.array(bmis), np.array(densities)
        slope, intercept = np.polyfit(bmis - 25.0, densities, 1)
        residual = densities - (intercept + slope * (bmis - 25.0))
        result["sexes"][sex] = {
            "density_kg_m3": float(np.median(densities)),
            "density_at_bmi25_kg_m3": float(intercept),
            "slope_kg_m3_per_bmi": float(slope),
            "residual_std_kg_m3": float(residual.std()),
            "subjects": int(subjects),
        }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ansur_dir", nargs="?", default=str(ROOT.parent / "shared" / "anthro"))
    parser.add_argument("--subjects", type=int, default=40)
    parser.add_argument("--output", default=str(ROOT / "data" / "body_density.json"))
    args = parser.parse_args()
    result = calibrate(Path(args.ansur_dir), args.subjects)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
