"""Tabulate fitted anny parameters over sex, stature and BMI: the fit's warm start.

Each grid point is a full fit of ``bodyfit.body_from_measurements`` (girths predicted from the
ANSUR II population model); at run time the fit starts from the interpolated table, which saves
most Gauss-Newton iterations. Regenerate after changing the model, the tape or the targets:

    python scripts/build_start_table.py  # writes data/anny_start_table.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from tryon3d import bodyfit
from tryon3d.bodyfit._anny_model import load_anny_model

ROOT = Path(__file__).resolve().parents[1]

HEIGHTS_M = (1.45, 1.60, 1.75, 1.90, 2.05)
BMIS = (16.0, 20.0, 25.0, 30.0, 36.0, 42.0)


def main() -> int:
    model = load_anny_model()
    table = {
        "heights_m": list(HEIGHTS_M),
        "bmis": list(BMIS),
        "parameter_names": list(model.parameter_names),
        "sexes": {},
    }
    for sex in ("female", "male"):
        grid = np.zeros((len(HEIGHTS_M), len(BMIS), len(model.parameter_names)))
        for i, height in enumerate(HEIGHTS_M):
            for j, bmi in enumerate(BMIS):
                body = bodyfit.body_from_measurements(
                    height_m=height, weight_kg=bmi * height**2, sex=sex
                )
                grid[i, j] = [body.shape_parameters[name] for name in model.parameter_names]
                print(
                    f"{sex} {height:.2f} m BMI {bmi:.0f}: stature "
                    f"{body.measurements_m['stature']:.3f}",
                    file=sys.stderr,
                )
        table["sexes"][sex] = grid.round(5).tolist()
    (ROOT / "data" / "anny_start_table.json").write_text(json.dumps(table) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
