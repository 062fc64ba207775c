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

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike

from tryon3d.bodyfit._body import SEXES, Sex
from tryon3d.core import data_file, readonly_array

__all__ = [
    "LENGTH_TARGETS",
    "RATIO_TARGETS",
    "TARGET_NAMES",
    "PopulationModel",
    "SexCoefficients",
    "load_population_model",
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

_SEXES = SEXES
_FORMAT = "tryon3d.population/1"
_DATA_FILE = "population_ansur2.json"
# Sanity bounds for user inputs: they catch unit mix-ups (height in cm, weight in lb x 10).
_HEIGHT_RANGE_M = (0.5, 2.6)
_WEIGHT_RANGE_KG = (10.0, 400.0)
_AGE_RANGE_YEARS = (0.0, 120.0)


def _frozen(value: ArrayLike, name: str, shape: tuple[int, ...]) -> np.ndarray:
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


def _check_sex(sex: str) -> Sex:
    key = sex.strip().lower() if isinstance(sex, str) else None
    if key not in _SEXES:
        raise ValueError(f"sex must be one of {_SEXES} (any case), got {sex!r}")
    return cast(Sex, key)


def _check_positive(
    name: str, value: ArrayLike, bounds: tuple[float, float], unit: str
) -> np.ndarray:
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
                f"PopulationModel: unknown feature(s) {unknown}; "
                f"expected some of {tuple(_FEATURES)}"
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
        height_m: ArrayLike,
        weight_kg: ArrayLike,
        sex: str,
        age_years: ArrayLike | None = None,
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
            "units": (
                "lengths in metres; *_ratio dimensionless; "
                "coefficients act on standardised features"
            ),
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
