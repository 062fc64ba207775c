"""The whole measurement vector from what the user gives: a conditional normal per sex.

Per sex, ANSUR II's training split gives a joint normal of the inputs (stature [m], weight [kg],
BMI [kg/m^2], age [yr]) and every measurement the tape reports that ANSUR also measured (girths,
lengths, breadths [m]). Conditioning it on whatever is known (height, weight and age, plus any
tape measures) gives each unknown measurement's expected value and standard deviation: the fit
shapes the body to all of them, each weighted by how sure the prediction is. BMI is carried as
a variable of its own so that the conditional mean is linear in height, weight and BMI.

The table lives in ``data/population_ansur2.json`` under ``measurement_prior``
(``scripts/fit_population.py`` writes it).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tryon3d.bodyfit._body import SEXES
from tryon3d.core import data_file, readonly_array

__all__ = [
    "INPUT_NAMES",
    "PRIOR_COLUMNS",
    "MeasurementPrior",
    "fit_measurement_prior",
    "load_measurement_prior",
    "prior_truth",
]

#: Conditioning inputs, first in every vector: stature [m], weight [kg], BMI [kg/m^2], age [yr].
INPUT_NAMES: tuple[str, ...] = ("stature", "weight_kg", "bmi", "age_years")

#: Tape measurement -> ANSUR II column(s): one column, or (a, b) for a - b (heights between
#: landmarks). Biceps and forearm are flexed in ANSUR II; the tape reads them relaxed.
PRIOR_COLUMNS: dict[str, str | tuple[str, str]] = {
    "chest": "chestcircumference",
    "waist": "waistcircumference",
    "hips": "buttockcircumference",
    "neck": "neckcircumference",
    "neck_base": "neckcircumferencebase",
    "shoulder_breadth": "biacromialbreadth",
    "sleeve_outseam": "sleeveoutseam",
    "acromion_radiale": "acromionradialelength",
    "radiale_stylion": "radialestylionlength",
    "inseam": "crotchheight",
    "crotch_length": "crotchlengthomphalion",
    "thigh": "thighcircumference",
    "lower_thigh": "lowerthighcircumference",
    "calf": "calfcircumference",
    "ankle": "anklecircumference",
    "biceps": "bicepscircumferenceflexed",
    "forearm": "forearmcircumferenceflexed",
    "wrist": "wristcircumference",
    "across_back": "interscyeii",
    "knee_height": "kneeheightmidpatella",
    "waist_to_hip_height": ("waistheightomphalion", "buttockheight"),
    "waist_to_knee_height": ("waistheightomphalion", "kneeheightmidpatella"),
}

_SEXES = SEXES
_KEY = "measurement_prior"
_DATA_FILE = "population_ansur2.json"


def prior_truth(table: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    """The ANSUR II value [m] of tape measurement ``name`` per subject of a ``read_ansur_csv``
    table, shape (N,)."""
    column = PRIOR_COLUMNS[name]
    if isinstance(column, tuple):
        return np.asarray(table[column[0]]) - np.asarray(table[column[1]])
    return np.asarray(table[column])


def _design(table: Mapping[str, np.ndarray]) -> np.ndarray:
    stature, weight = np.asarray(table["stature"]), np.asarray(table["weightkg"])
    inputs = [stature, weight, weight / stature**2, np.asarray(table["age"])]
    return np.column_stack(inputs + [prior_truth(table, name) for name in PRIOR_COLUMNS])


@dataclass(frozen=True)
class MeasurementPrior:
    """Joint normal of inputs and measurements, per sex.

    Attributes:
        names: variable names, ``INPUT_NAMES`` then measurement names (N in all).
        means: sex -> mean, shape (N,), float64 (metres for lengths, kg, kg/m^2, years).
        covariances: sex -> covariance, shape (N, N), float64, in the same units squared.
    """

    names: tuple[str, ...]
    means: Mapping[str, np.ndarray]
    covariances: Mapping[str, np.ndarray]

    def __post_init__(self) -> None:
        count = len(self.names)
        for sex in _SEXES:
            if sex not in self.means or sex not in self.covariances:
                raise ValueError(f"measurement prior lacks sex {sex!r}")
            readonly_array(self.means[sex], np.float64, (count,), f"means[{sex!r}]")
            readonly_array(
                self.covariances[sex], np.float64, (count, count), f"covariances[{sex!r}]"
            )

    @property
    def measurement_names(self) -> tuple[str, ...]:
        """The predicted measurements (``names`` after the inputs)."""
        return self.names[len(INPUT_NAMES) :]

    def predict(
        self,
        *,
        height_m: float,
        weight_kg: float,
        sex: str,
        age_years: float | None = None,
        given_m: Mapping[str, float] | None = None,
    ) -> dict[str, tuple[float, float]]:
        """Conditional mean and standard deviation [m] of every measurement not given.

        Args:
            height_m: stature [m].
            weight_kg: body mass [kg].
            sex: ``"male"`` or ``"female"``.
            age_years: age [years]; left out of the conditioning when None.
            given_m: tape measures the user took [m], keys among ``measurement_names``.

        Returns:
            name -> (mean [m], standard deviation [m]) for the measurements not in ``given_m``.
        """
        if sex not in _SEXES:
            raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
        given_m = dict(given_m or {})
        unknown = set(given_m) - set(self.measurement_names)
        if unknown:
            raise ValueError(
                f"unknown measurements {sorted(unknown)}; expected among {self.measurement_names}"
            )
        known = {
            "stature": height_m,
            "weight_kg": weight_kg,
            "bmi": weight_kg / height_m**2,
            **given_m,
        }
        if age_years is not None:
            known["age_years"] = age_years
        wanted = tuple(name for name in self.names if name not in known and name not in INPUT_NAMES)
        mu, cov = self.conditional(known, wanted, sex=sex)
        return {
            name: (float(m), math.sqrt(max(float(v), 1e-12)))
            for name, m, v in zip(wanted, mu, np.diag(cov), strict=True)
        }

    def conditional(
        self, known: Mapping[str, float], wanted: tuple[str, ...], *, sex: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Joint normal of ``wanted`` given ``known`` (both among ``names``).

        Args:
            known: variable name -> value (metres, kg, kg/m^2, years); may leave out inputs
                (e.g. no weight: conditioned on the stature alone).
            wanted: names of the variables to predict, none of them in ``known``.
            sex: ``"male"`` or ``"female"``.

        Returns:
            (mean, shape (len(wanted),), covariance, shape (len(wanted), len(wanted))), float64.
        """
        if sex not in _SEXES:
            raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
        index = {name: i for i, name in enumerate(self.names)}
        unknown = [name for name in (*known, *wanted) if name not in index]
        if unknown:
            raise ValueError(f"unknown variables {unknown}; expected among {self.names}")
        a = np.array([index[name] for name in known], dtype=np.int64)
        b = np.array([index[name] for name in wanted], dtype=np.int64)
        mean, cov = self.means[sex], self.covariances[sex]
        values = np.array([float(v) for v in known.values()])
        # Gaussian conditioning: mu_b + S_ba S_aa^-1 (x_a - mu_a), S_bb - S_ba S_aa^-1 S_ab.
        gain = np.linalg.solve(cov[np.ix_(a, a)], cov[np.ix_(a, b)]).T
        return mean[b] + gain @ (values - mean[a]), cov[np.ix_(b, b)] - gain @ cov[np.ix_(a, b)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (lengths in metres, 6 significant digits)."""

        def rounded(array: np.ndarray) -> list:
            return np.vectorize(lambda x: float(f"{x:.6g}"))(array).tolist()

        return {
            "names": list(self.names),
            "sexes": {
                sex: {
                    "mean": rounded(self.means[sex]),
                    "covariance": rounded(self.covariances[sex]),
                }
                for sex in _SEXES
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeasurementPrior:
        """Inverse of ``to_dict``; ValueError on a malformed table."""
        try:
            names = tuple(data["names"])
            sexes = data["sexes"]
            means: dict[str, np.ndarray] = {
                sex: np.array(sexes[sex]["mean"], dtype=np.float64) for sex in _SEXES
            }
            covariances: dict[str, np.ndarray] = {
                sex: np.array(sexes[sex]["covariance"], dtype=np.float64) for sex in _SEXES
            }
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"malformed measurement prior: {error}") from None
        return cls(names=names, means=means, covariances=covariances)


def fit_measurement_prior(tables: Mapping[str, Mapping[str, np.ndarray]]) -> MeasurementPrior:
    """Means and covariances per sex of ``read_ansur_csv`` tables (keys ``"male"``,
    ``"female"``)."""
    means: dict[str, np.ndarray] = {}
    covariances: dict[str, np.ndarray] = {}
    for sex in _SEXES:
        if sex not in tables:
            raise ValueError(f"fit_measurement_prior needs a {sex!r} table")
        design = _design(tables[sex])
        means[sex] = design.mean(axis=0)
        covariances[sex] = np.cov(design, rowvar=False)
    return MeasurementPrior(
        names=(*INPUT_NAMES, *PRIOR_COLUMNS), means=means, covariances=covariances
    )


@functools.lru_cache(maxsize=1)
def load_measurement_prior() -> MeasurementPrior | None:
    """The shipped prior (``measurement_prior`` in ``data/population_ansur2.json``), or None when
    the table predates it."""
    try:
        text = data_file(_DATA_FILE).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        path = Path(__file__).resolve().parents[1] / "data" / _DATA_FILE
        if not path.is_file():
            return None
        text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    return MeasurementPrior.from_dict(data[_KEY]) if _KEY in data else None
