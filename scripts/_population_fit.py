"""Fitting the population model to ANSUR II tables (training; bodies only load it)."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tryon3d.bodyfit._population import (
    _SEXES,
    LENGTH_TARGETS,
    RATIO_TARGETS,
    TARGET_NAMES,
    PopulationModel,
    SexCoefficients,
    _check_sex,
    _features,
)

__all__ = ["FEATURE_SETS", "REQUIRED_COLUMNS", "fit_population_model", "read_ansur_csv"]


#: Named feature sets: ``"full"`` (chosen by 5-fold CV) and ``"linear"`` (the baseline).
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "full": (
        "height_m",
        "weight_kg",
        "age_years",
        "bmi_kg_m2",
        "log_weight_kg",
        "age_dev_sq",
        "age_x_bmi",
    ),
    "linear": ("height_m", "weight_kg", "age_years"),
}

_MM_TO_M = 1e-3
_TENTH_KG_TO_KG = 0.1
#: ANSUR II metadata columns that are not millimetre measurements (lower-cased).
_NON_LENGTH_COLUMNS = frozenset(
    {
        "subjectid", "weightkg", "gender", "date", "installation", "component", "branch",
        "primarymos", "subjectsbirthlocation", "subjectnumericrace", "ethnicity", "dodrace",
        "age", "heightin", "weightlbs", "writingpreference",
    }
)  # fmt: skip
#: Columns ``fit_population_model`` needs in every table.
REQUIRED_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(("stature", "weightkg", "age", *LENGTH_TARGETS.values(), *RATIO_TARGETS.values()))
)


def _column(table: Any, name: str, label: str) -> np.ndarray:
    try:
        values = np.asarray(table[name], dtype=np.float64).reshape(-1)
    except (KeyError, IndexError):
        raise ValueError(
            f"{label} table lacks column {name!r}; expected columns {REQUIRED_COLUMNS}"
        ) from None
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"{label} column {name!r} must be finite, got {np.sum(~np.isfinite(values))} bad values"
        )
    return values


def _fit_sex(
    table: Any, label: str, feature_names: tuple[str, ...], ridge: float
) -> SexCoefficients:
    h = _column(table, "stature", label)
    w = _column(table, "weightkg", label)
    a = _column(table, "age", label)
    count = len(h)
    if not (len(w) == len(a) == count):
        raise ValueError(
            f"{label} columns must have equal lengths, got stature {count}, weightkg {len(w)}, age "
            f"{len(a)}"
        )
    if count <= len(feature_names) + 1:
        raise ValueError(f"{label} needs more than {len(feature_names) + 1} subjects, got {count}")
    if np.any(h <= 0) or np.any(w <= 0) or np.median(h) > 3.0:
        raise ValueError(
            f"{label} stature must be positive metres and weightkg positive kg (use read_ansur_csv)"
        )
    targets = [_column(table, column, label) for column in LENGTH_TARGETS.values()]
    targets += [_column(table, column, label) / h for column in RATIO_TARGETS.values()]
    y = np.column_stack(targets)
    if y.shape[0] != count:
        raise ValueError(f"{label} target columns must have {count} rows, got {y.shape[0]}")
    x = _features(feature_names, h, w, a)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    if np.any(std <= 0):
        raise ValueError(
            f"{label} features {np.array(feature_names)[std <= 0].tolist()} do not vary"
        )
    z = (x - mean) / std
    y_mean = y.mean(axis=0)
    gram = z.T @ z + ridge * np.eye(z.shape[1])
    coefficients = np.linalg.solve(gram, z.T @ (y - y_mean))
    residual = y - (z @ coefficients + y_mean)
    dof = max(count - len(feature_names) - 1, 1)
    return SexCoefficients(
        feature_mean=mean,
        feature_std=std,
        coefficients=coefficients,
        intercept=y_mean,
        residual_std=np.sqrt((residual**2).sum(axis=0) / dof),
        sample_count=count,
        age_median_years=float(np.median(a)),
        age_min_years=float(a.min()),
        age_max_years=float(a.max()),
    )


def fit_population_model(
    rows_by_sex: Mapping[str, Any],
    *,
    feature_set: str = "full",
    ridge: float = 1.0,
    source: str = "",
) -> PopulationModel:
    """Fit one ridge regression per sex.

    Args:
        rows_by_sex: ``{"male": table, "female": table}`` (keys any case). A table maps
            lower-cased ANSUR II column names to arrays of shape (N,) in SI units, as
            ``read_ansur_csv`` returns (a pandas DataFrame with those columns works too):
            ``stature`` [m], ``weightkg`` [kg], ``age`` [yr] and the target columns
            (``REQUIRED_COLUMNS``) [m].
        feature_set: ``"full"`` (the shipped model) or ``"linear"`` (height, weight, age:
            the plain baseline).
        ridge: penalty on the standardised coefficients, >= 0 (1.0 barely shrinks with
            thousands of subjects; it guards against a small refit sample).
        source: a note on the data (stored in the model, for reports).

    Returns:
        The fitted ``PopulationModel``.

    Raises:
        ValueError: a sex missing or unknown, a column missing or non-finite, too few rows.
    """
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"feature_set must be one of {tuple(FEATURE_SETS)}, got {feature_set!r}")
    if not (isinstance(ridge, int | float) and math.isfinite(ridge) and ridge >= 0):
        raise ValueError(f"ridge must be a finite number >= 0, got {ridge!r}")
    tables: dict[str, Any] = {}
    for key, table in rows_by_sex.items():
        tables[_check_sex(key)] = table
    missing = [sex for sex in _SEXES if sex not in tables]
    if missing:
        raise ValueError(
            f"rows_by_sex must hold tables for {_SEXES}, got keys {tuple(rows_by_sex)}"
        )
    feature_names = FEATURE_SETS[feature_set]
    fits = {sex: _fit_sex(tables[sex], sex, feature_names, float(ridge)) for sex in _SEXES}
    return PopulationModel(
        feature_names=feature_names,
        target_names=TARGET_NAMES,
        ridge=float(ridge),
        source=source,
        **fits,
    )


def read_ansur_csv(path: str | Path) -> dict[str, np.ndarray]:
    """Read an ANSUR II CSV (male or female) into SI-unit arrays.

    Args:
        path: CSV path; the header must include ``stature``, ``weightkg``, ``Gender``, ``Age``
            and the columns in ``REQUIRED_COLUMNS`` (any case).

    Returns:
        Lower-cased column name -> array of shape (N,): every anthropometric column
        converted from mm to metres (float64), ``weightkg`` from tenths of a kg to kg,
        ``age`` in years, ``subjectid`` (float64; ``SubjectId`` in the female file), and
        ``sex`` as lower-case strings ("male"/"female"). Other metadata columns are dropped.

    Raises:
        ValueError: the file is missing, lacks a required column, or holds a non-numeric
            value in a measurement column.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"ANSUR CSV not found: expected a file at {path}")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [name.strip().lower() for name in next(reader, [])]
        rows = [row for row in reader if row]
    missing = [name for name in (*REQUIRED_COLUMNS, "gender") if name not in header]
    if missing:
        raise ValueError(f"{path.name} lacks column(s) {missing}; got {len(header)} columns")
    out: dict[str, np.ndarray] = {}
    for index, name in enumerate(header):
        if name in _NON_LENGTH_COLUMNS - {"weightkg", "age", "subjectid"}:
            continue
        raw = [row[index] if index < len(row) else "" for row in rows]
        try:
            values = np.array(raw, dtype=np.float64)
        except ValueError:
            bad = next(i for i, text in enumerate(raw) if not _is_number(text))
            raise ValueError(
                f"{path.name} column {name!r} row {bad + 2}: expected a number, got {raw[bad]!r}"
            ) from None
        if name == "weightkg":
            values = values * _TENTH_KG_TO_KG
        elif name not in _NON_LENGTH_COLUMNS:
            values = values * _MM_TO_M
        out[name] = values
    gender_index = header.index("gender")
    out["sex"] = np.array([row[gender_index].strip().lower() for row in rows])
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def split_ansur_tables(
    tables: Mapping[str, Mapping[str, np.ndarray]], *, seed: int, test_fraction: float = 0.2
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]]]:
    """Seeded per-sex split of ``read_ansur_csv`` tables into (train, test); test rows shuffled.

    Benchmarks and tests hold the same subjects apart with the same seed.
    """
    rng = np.random.default_rng(seed)
    train, test = {}, {}
    for sex, table in tables.items():
        order = rng.permutation(len(table["stature"]))
        cut = round(test_fraction * len(order))
        test[sex] = {name: values[order[:cut]] for name, values in table.items()}
        train[sex] = {name: values[order[cut:]] for name, values in table.items()}
    return train, test
