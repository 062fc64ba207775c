"""Population statistics: body girths, lengths and landmark heights from height, weight, sex, age.

The model is a per-sex ridge-regularised linear regression fitted on ANSUR II (2012 Anthropometric
Survey of U.S. Army Personnel, Gordon C.C. et al., 2014, NATICK/TR-15/007, public domain). It is
what ``bodyfit`` uses when a user gives only height, weight, sex (and maybe age): the predicted
girths shape the body, the landmark-height ratios tell the tape measure where ANSUR measured.

Features (``FEATURE_SETS["full"]``): height [m], weight [kg], age [yr], BMI [kg/m^2],
log(weight [kg]), squared age deviation ((age - 30 yr) / 10 yr)^2 and age x BMI / 100, each
standardised before the ridge solve. ``FEATURE_SETS["linear"]`` (height, weight, age) is the
plain-linear baseline that benchmarks compare against.

ANSUR II has no relaxed upper-arm girth: ``upper_arm`` is ``bicepscircumferenceflexed`` (biceps
flexed), which runs roughly 1-2 cm above a relaxed tape measurement.
"""

from __future__ import annotations

import csv
import functools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tryon3d.core import data_file, readonly_array

__all__ = [
    "FEATURE_SETS",
    "LENGTH_TARGETS",
    "RATIO_TARGETS",
    "REQUIRED_COLUMNS",
    "TARGET_NAMES",
    "PopulationModel",
    "SexCoefficients",
    "fit_population_model",
    "load_population_model",
    "read_ansur_csv",
]

#: Metre-valued predictions: key -> ANSUR II column (girths, breadths and lengths).
LENGTH_TARGETS: dict[str, str] = {
    "chest": "chestcircumference",
    "waist": "waistcircumference",
    "hips": "buttockcircumference",
    "neck": "neckcircumference",
    "shoulder_breadth": "biacromialbreadth",
    "sleeve_outseam": "sleeveoutseam",
    "inseam": "crotchheight",
    "thigh": "thighcircumference",
    "upper_arm": "bicepscircumferenceflexed",
}

#: Dimensionless predictions: key -> ANSUR II landmark-height column, divided by ``stature``.
RATIO_TARGETS: dict[str, str] = {
    "chest_height_ratio": "chestheight",
    "waist_height_ratio": "waistheightomphalion",
    "buttock_height_ratio": "buttockheight",
    "crotch_height_ratio": "crotchheight",
    "acromial_height_ratio": "acromialheight",
    "neck_height_ratio": "cervicaleheight",
}

#: Every key ``PopulationModel.predict`` returns, in coefficient-column order.
TARGET_NAMES: tuple[str, ...] = (*LENGTH_TARGETS, *RATIO_TARGETS)

_FeatureFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]

#: Feature name -> function of (height [m], weight [kg], age [yr]) arrays, each shape (N,).
_FEATURES: dict[str, _FeatureFn] = {
    "height_m": lambda h, w, a: h,
    "weight_kg": lambda h, w, a: w,
    "age_years": lambda h, w, a: a,
    "bmi_kg_m2": lambda h, w, a: w / h**2,
    "log_weight_kg": lambda h, w, a: np.log(w),
    "age_dev_sq": lambda h, w, a: ((a - 30.0) / 10.0) ** 2,
    "age_x_bmi": lambda h, w, a: a * (w / h**2) / 100.0,
}

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

_SEXES: tuple[str, ...] = ("male", "female")
_FORMAT = "tryon3d.population/1"
_DATA_FILE = "population_ansur2.json"
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
# Sanity bounds for user inputs: they catch unit mix-ups (height in cm, weight in lb x 10).
_HEIGHT_RANGE_M = (0.5, 2.6)
_WEIGHT_RANGE_KG = (10.0, 400.0)
_AGE_RANGE_YEARS = (0.0, 120.0)


def _frozen(value: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    return readonly_array(value, np.float64, shape, f"SexCoefficients.{name}")


@dataclass(frozen=True, eq=False)
class SexCoefficients:
    """One sex's fitted regression, mapping F features to T targets.

    Attributes:
        feature_mean: training mean of each raw feature, shape (F,), float64 [feature units].
        feature_std: training standard deviation of each raw feature, shape (F,), float64.
        coefficients: weights on the standardised features, shape (F, T), float64
            [m per std, or ratio per std].
        intercept: prediction at the mean features, shape (T,), float64 [m or ratio].
        residual_std: training residual standard deviation, shape (T,), float64 [m or ratio].
        sample_count: number of training subjects.
        age_median_years: age used when none is given [yr].
        age_min_years: youngest training subject; younger ages are clamped to it [yr].
        age_max_years: oldest training subject; older ages are clamped to it [yr].
    """

    feature_mean: np.ndarray
    feature_std: np.ndarray
    coefficients: np.ndarray
    intercept: np.ndarray
    residual_std: np.ndarray
    sample_count: int
    age_median_years: float
    age_min_years: float
    age_max_years: float

    def __post_init__(self) -> None:
        feature_count, target_count = np.shape(self.coefficients)
        set_ = object.__setattr__
        set_(
            self,
            "coefficients",
            _frozen(self.coefficients, "coefficients", (feature_count, target_count)),
        )
        set_(self, "feature_mean", _frozen(self.feature_mean, "feature_mean", (feature_count,)))
        set_(self, "feature_std", _frozen(self.feature_std, "feature_std", (feature_count,)))
        set_(self, "intercept", _frozen(self.intercept, "intercept", (target_count,)))
        set_(self, "residual_std", _frozen(self.residual_std, "residual_std", (target_count,)))
        set_(self, "sample_count", int(self.sample_count))
        for name in ("age_median_years", "age_min_years", "age_max_years"):
            set_(self, name, float(getattr(self, name)))


def _features(
    feature_names: tuple[str, ...], h: np.ndarray, w: np.ndarray, a: np.ndarray
) -> np.ndarray:
    """Raw feature matrix, shape (N, F), from height [m], weight [kg], age [yr], each (N,)."""
    return np.column_stack([_FEATURES[name](h, w, a) for name in feature_names])


def _check_sex(sex: Any) -> str:
    key = sex.strip().lower() if isinstance(sex, str) else None
    if key not in _SEXES:
        raise ValueError(f"sex must be one of {_SEXES} (any case), got {sex!r}")
    return key


def _check_positive(name: str, value: Any, bounds: tuple[float, float], unit: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a finite positive number [{unit}], got {value!r}"
        ) from None
    if array.ndim > 1 or not np.all(np.isfinite(array)) or not np.all(array > 0):
        raise ValueError(f"{name} must be a finite positive number [{unit}], got {value!r}")
    low, high = bounds
    if np.any(array < low) or np.any(array > high):
        raise ValueError(f"{name} must lie in [{low:g}, {high:g}] {unit}, got {value!r}")
    return array


@dataclass(frozen=True, eq=False)
class PopulationModel:
    """Per-sex regressions from (height, weight, age) to ANSUR II girths, lengths and ratios.

    Attributes:
        feature_names: the F features, keys of the private feature table (see module doc).
        target_names: the T predicted keys, ``TARGET_NAMES`` order.
        ridge: ridge penalty used on the standardised features (dimensionless).
        male: coefficients fitted on male subjects.
        female: coefficients fitted on female subjects.
        source: a note on the data the model was fitted on (for reports).
    """

    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    ridge: float
    male: SexCoefficients
    female: SexCoefficients
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "feature_names", tuple(self.feature_names))
        object.__setattr__(self, "target_names", tuple(self.target_names))
        unknown = [name for name in self.feature_names if name not in _FEATURES]
        if unknown:
            raise ValueError(
                f"PopulationModel: unknown feature(s) {unknown}; expected some of {tuple(_FEATURES)}"
            )
        for sex in _SEXES:
            shape = getattr(self, sex).coefficients.shape
            expected = (len(self.feature_names), len(self.target_names))
            if shape != expected:
                raise ValueError(
                    f"PopulationModel.{sex}.coefficients must have shape {expected}, got {shape}"
                )

    def coefficients_for(self, sex: str) -> SexCoefficients:
        """The fitted coefficients for ``sex`` ("male" or "female", any case)."""
        return getattr(self, _check_sex(sex))

    def predict_many(
        self,
        *,
        height_m: Any,
        weight_kg: Any,
        sex: str,
        age_years: Any | None = None,
    ) -> dict[str, np.ndarray]:
        """Vectorised ``predict``: arrays of shape (N,) in, a dict of (N,) arrays out.

        Args:
            height_m: standing height [m], shape (N,) or scalar.
            weight_kg: body mass [kg], shape (N,) or scalar.
            sex: "male" or "female" (any case), one for all N subjects.
            age_years: age [yr], shape (N,) or scalar; None uses the training median. Ages
                outside the training range (ANSUR II: 17-58 yr) are clamped into it.

        Returns:
            ``target_names`` -> predictions, metres for lengths, dimensionless for ``*_ratio``.
        """
        fit = self.coefficients_for(sex)
        h = _check_positive("height_m", height_m, _HEIGHT_RANGE_M, "m")
        w = _check_positive("weight_kg", weight_kg, _WEIGHT_RANGE_KG, "kg")
        if age_years is None:
            a = np.full(np.broadcast(h, w).shape, fit.age_median_years)
        else:
            a = _check_positive("age_years", age_years, _AGE_RANGE_YEARS, "years")
        h, w, a = (np.atleast_1d(x) for x in np.broadcast_arrays(h, w, a))
        a = np.clip(a, fit.age_min_years, fit.age_max_years)
        z = (_features(self.feature_names, h, w, a) - fit.feature_mean) / fit.feature_std
        values = z @ fit.coefficients + fit.intercept
        return {name: values[:, j] for j, name in enumerate(self.target_names)}

    def predict(
        self,
        *,
        height_m: float,
        weight_kg: float,
        sex: str,
        age_years: float | None = None,
    ) -> dict[str, float]:
        """Expected ANSUR II measurements of a person with this height, weight, sex and age.

        Args:
            height_m: standing height (stature) [m], in [0.5, 2.6].
            weight_kg: body mass [kg], in [10, 400].
            sex: "male" or "female" (any case).
            age_years: age [yr]; None uses the training median (ANSUR II: 28 male, 27
                female). Ages outside the training range (17-58) are clamped into it.

        Returns:
            Metres for ``chest``, ``waist`` (at omphalion), ``hips`` (buttock), ``neck``,
            ``shoulder_breadth`` (biacromial), ``sleeve_outseam``, ``inseam`` (crotch height),
            ``thigh`` and ``upper_arm`` (biceps FLEXED: ANSUR II has no relaxed arm girth);
            dimensionless landmark height / stature for ``chest_height_ratio``,
            ``waist_height_ratio``, ``buttock_height_ratio``, ``crotch_height_ratio``,
            ``acromial_height_ratio`` and ``neck_height_ratio`` (cervicale).

        Raises:
            ValueError: sex not male/female, or a number not finite, positive and in range.
        """
        for name, value in (
            ("height_m", height_m),
            ("weight_kg", weight_kg),
            ("age_years", age_years),
        ):
            if value is not None and np.ndim(value) != 0:
                raise ValueError(f"{name} must be a single number, got shape {np.shape(value)}")
        values = self.predict_many(
            height_m=height_m, weight_kg=weight_kg, sex=sex, age_years=age_years
        )
        return {name: float(v[0]) for name, v in values.items()}

    def residual_std_m(self, *, sex: str) -> dict[str, float]:
        """Training residual standard deviation [m] of each metre-valued target for ``sex``.

        A person's true girth differs from ``predict`` by about this much (one sigma).
        """
        fit = self.coefficients_for(sex)
        return {
            name: float(fit.residual_std[j])
            for j, name in enumerate(self.target_names)
            if name in LENGTH_TARGETS
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (plain lists and floats), read back by ``from_dict``."""
        by_sex = {}
        for sex in _SEXES:
            fit: SexCoefficients = getattr(self, sex)
            by_sex[sex] = {
                "sample_count": fit.sample_count,
                "age_median_years": fit.age_median_years,
                "age_min_years": fit.age_min_years,
                "age_max_years": fit.age_max_years,
                "feature_mean": fit.feature_mean.tolist(),
                "feature_std": fit.feature_std.tolist(),
                "intercept": fit.intercept.tolist(),
                "residual_std": fit.residual_std.tolist(),
                "coefficients": fit.coefficients.tolist(),
            }
        return {
            "format": _FORMAT,
            "source": self.source,
            "feature_names": list(self.feature_names),
            "target_names": list(self.target_names),
            "target_columns": {
                **LENGTH_TARGETS,
                **{k: f"{v}/stature" for k, v in RATIO_TARGETS.items()},
            },
            "units": "lengths in metres; *_ratio dimensionless; coefficients act on standardised features",
            "ridge": self.ridge,
            "sexes": by_sex,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PopulationModel:
        """Inverse of ``to_dict``; raises ValueError on a wrong format tag or missing keys."""
        if data.get("format") != _FORMAT:
            raise ValueError(
                f"population table format must be {_FORMAT!r}, got {data.get('format')!r}"
            )
        try:
            by_sex = {
                sex: SexCoefficients(
                    feature_mean=entry["feature_mean"],
                    feature_std=entry["feature_std"],
                    coefficients=entry["coefficients"],
                    intercept=entry["intercept"],
                    residual_std=entry["residual_std"],
                    sample_count=entry["sample_count"],
                    age_median_years=entry["age_median_years"],
                    age_min_years=entry["age_min_years"],
                    age_max_years=entry["age_max_years"],
                )
                for sex, entry in ((s, data["sexes"][s]) for s in _SEXES)
            }
            return cls(
                feature_names=tuple(data["feature_names"]),
                target_names=tuple(data["target_names"]),
                ridge=float(data["ridge"]),
                source=str(data.get("source", "")),
                **by_sex,
            )
        except KeyError as error:
            raise ValueError(f"population table is missing key {error}") from None


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
            f"{label} columns must have equal lengths, got stature {count}, weightkg {len(w)}, age {len(a)}"
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


@functools.lru_cache(maxsize=1)
def load_population_model() -> PopulationModel:
    """The shipped ANSUR II model (``data/population_ansur2.json``), loaded once and cached.

    Raises:
        ValueError: the table is missing or malformed.
    """
    try:
        text = data_file(_DATA_FILE).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        fallback = Path(__file__).resolve().parents[1] / "data" / _DATA_FILE
        if not fallback.is_file():
            raise ValueError(
                f"population table {_DATA_FILE} not found in tryon3d.data or {fallback}"
            ) from None
        text = fallback.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"population table {_DATA_FILE} is not valid JSON: {error}") from None
    return PopulationModel.from_dict(data)


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
