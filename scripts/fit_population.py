"""Refit the ANSUR II population model and write ``data/population_ansur2.json``.

Usage: ``python scripts/fit_population.py [ANSUR_DIR] [--output PATH] [--folds 5]``

ANSUR_DIR (default ``<repo>/../shared/anthro``) holds ``ANSUR_II_MALE_train.csv`` and
``ANSUR_II_FEMALE_train.csv``. Besides the fit on all rows, a seeded k-fold cross-validation of
the shipped feature set and of the plain-linear baseline (height, weight, age) is stored in the
table under ``cross_validation`` (mean absolute error per target, cm for lengths). The
per-sex joint normal of inputs and tape measurements (``bodyfit._shape_prior``) is stored under
``measurement_prior``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from _population_fit import fit_population_model, read_ansur_csv

from tryon3d.bodyfit._population import LENGTH_TARGETS, RATIO_TARGETS
from tryon3d.bodyfit._shape_prior import fit_measurement_prior

REPO = Path(__file__).resolve().parents[1]

SOURCE = (
    "Fitted on ANSUR II (2012 Anthropometric Survey of U.S. Army Personnel; Gordon C.C. et al., "
    "2014, NATICK/TR-15/007; public release, US Government work, distribution unlimited): "
    "training split ({male} male, {female} female subjects). upper_arm is biceps circumference "
    "FLEXED (ANSUR II has no relaxed arm girth)."
)
FILES = {"male": "ANSUR_II_MALE_train.csv", "female": "ANSUR_II_FEMALE_train.csv"}


def load_tables(folder: Path) -> dict[str, dict[str, np.ndarray]]:
    """Read both ANSUR II CSVs from ``folder`` (SI units, see ``read_ansur_csv``)."""
    return {sex: read_ansur_csv(folder / name) for sex, name in FILES.items()}


def _subset(table: dict[str, np.ndarray], index: np.ndarray) -> dict[str, np.ndarray]:
    return {name: values[index] for name, values in table.items()}


def cross_validate(
    tables: dict[str, dict[str, np.ndarray]], *, folds: int, seed: int = 0
) -> dict[str, Any]:
    """Seeded k-fold mean absolute error per sex, feature set and target (cm or ratio)."""
    rng = np.random.default_rng(seed)
    assignment = {sex: rng.permutation(len(t["stature"])) % folds for sex, t in tables.items()}
    errors: dict[str, dict[str, list[np.ndarray]]] = {}
    for feature_set in ("full", "linear"):
        per_sex: dict[str, list[np.ndarray]] = {sex: [] for sex in tables}
        for fold in range(folds):
            train = {sex: _subset(t, assignment[sex] != fold) for sex, t in tables.items()}
            model = fit_population_model(train, feature_set=feature_set)
            for sex, table in tables.items():
                test = _subset(table, assignment[sex] == fold)
                predicted = model.predict_many(
                    height_m=test["stature"],
                    weight_kg=test["weightkg"],
                    sex=sex,
                    age_years=test["age"],
                )
                per_sex[sex].append(
                    np.column_stack([predicted[n] - _truth(test, n) for n in model.target_names])
                )
        errors[feature_set] = per_sex
    result: dict[str, Any] = {"folds": folds, "seed": seed, "unit": "cm (ratios: x100)"}
    for feature_set, per_sex in errors.items():
        result[feature_set] = {}
        for sex, chunks in per_sex.items():
            mae = np.abs(np.concatenate(chunks)).mean(axis=0) * 100.0
            result[feature_set][sex] = {
                name: round(float(v), 4) for name, v in zip(model.target_names, mae, strict=True)
            }
    return result


def _truth(table: dict[str, np.ndarray], name: str) -> np.ndarray:
    if name in LENGTH_TARGETS:
        return table[LENGTH_TARGETS[name]]
    return table[RATIO_TARGETS[name]] / table["stature"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("anthro", nargs="?", type=Path, default=REPO.parent / "shared" / "anthro")
    parser.add_argument("--output", type=Path, default=REPO / "data" / "population_ansur2.json")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (0: skip)")
    args = parser.parse_args(argv)
    try:
        tables = load_tables(args.anthro)
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")
    counts = {sex: len(t["stature"]) for sex, t in tables.items()}
    model = fit_population_model(tables, source=SOURCE.format(**counts))
    data = model.to_dict()
    # The joint normal of inputs and every tape measurement (bodyfit._shape_prior).
    data["measurement_prior"] = fit_measurement_prior(tables).to_dict()
    if args.folds >= 2:
        data["cross_validation"] = cross_validate(tables, folds=args.folds)
    text = json.dumps(data, indent=1) + "\n"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.output.with_suffix(".json.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(args.output)
    sys.stdout.write(f"wrote {args.output} ({len(text.encode())} bytes)\n")
    if "cross_validation" in data:
        cv = data["cross_validation"]
        for sex in FILES:
            for name in LENGTH_TARGETS:
                full, linear = cv["full"][sex][name], cv["linear"][sex][name]
                sys.stdout.write(
                    f"{sex:6s} {name:16s} MAE full {full:6.3f} cm  linear {linear:6.3f} cm\n"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
