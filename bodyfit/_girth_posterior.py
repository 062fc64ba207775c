"""Each girth as a posterior: the population prior combined with what the photo read.

The prior is ANSUR II's joint normal of chest, waist and hips given the stature, sex (and the
weight and age when given; ``bodyfit._shape_prior``). The photo's reading is the girth of the
body fitted to the outline (clothes shrunk by their learnt ease). How far that reading sits off
the body depends on the cloth: skin shows the body; fitted cloth stands off it by a little and
a known spread; loose cloth by a lot, and only bounds it. Which one a clothed girth wears is not
known: each girth is fitted or loose with a prior probability, and the posterior weighs the
2^3 combinations by how well each explains the three readings under the population prior (a
loose tee reads a waist as wide as the chest, which fitted cloth on an ANSUR body rarely does).
Loose readings are also upper bounds: under each combination a loose girth's posterior is cut
at the reading less the smallest stand-off seen. Where the clothes hide a girth (cloth too
loose to tell over most of its outline, a long coat) the reading only bounds it: its
posterior is the prior (given the other girths' readings) cut at the outline, which is the
prior itself when the outline is far.

The reading is not independent of the prior: the photo fit itself pulls the shape towards the
population's typical body for the height and mass, so its errors follow the prior's. Per girth
and cloth state the reading is therefore a line in the girth's deviation from the prior mean
(slope, offset, spread about it; slope 1 where the photo alone tells the girth, 0 where the
reading only repeats the prior), plus the smallest loose stand-off and the loose share, for
fits with the height alone and with the weight too; they come from
``data/photo_girth_error.json``, written by ``scripts/calibrate_photo_girths.py`` from fits of
training subjects (``benchmarks/photo_fit.py --clothed`` on a seed the benchmark does not
evaluate).

The three readings are not all a photo shows of the body's size: each view's breadth profile
and side depths (``bodyfit._photo_readings``) tell it too, and tell it past loose cloth.
Where the table holds a correction for the mode and the views read (``GirthCorrection``: a
ridge or kernel ridge regression on the posterior girths and those readings, learnt on the
same training fits; leave-one-out MAE on 272 training fits, front and side: 4.02 cm against
the posterior's 6.22 with the height alone, 2.65 against 2.89 with the weight on 204), the final
girths are its. A view whose readings lie far from every training photo's (another
pose than their A-pose, a wrong scale) is not read (``GirthCorrection.implausible``).
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tryon3d.core import data_file

__all__ = [
    "CORRECTION_FEATURES",
    "EVIDENCE",
    "GIRTHS",
    "MODES",
    "NO_SIDE_STD_M",
    "OUTLIER_Z",
    "GirthCorrection",
    "GirthPosterior",
    "PhotoGirthError",
    "correction_features",
    "girth_evidence",
    "girth_posterior",
    "girth_prior",
    "girth_sources",
    "load_girth_correction",
    "load_photo_girth_error",
]

GIRTHS: tuple[str, ...] = ("chest", "waist", "hips")
#: What covers a girth's outline: ``skin`` (the outline is the body), ``cloth`` (fitted or
#: loose, not known) or ``hidden`` (cloth too loose to tell over most of it).
EVIDENCE: tuple[str, ...] = ("skin", "cloth", "hidden")
_STATES = ("skin", "fitted", "loose")
_SKIN_SHARE = 0.35  # mean skin share of a girth's outline over the views: the body shows
_HIDDEN_SHARE = 0.5  # more than this of the outline too loose to tell (view mean): hidden
# Information share (1 - posterior / prior variance) above which a girth is the photo's, below
# which the prior's; between, both.
_PHOTO_SHARE, _PRIOR_SHARE = 0.75, 0.25


@dataclass(frozen=True)
class PhotoGirthError:
    """How a photo's girth reading errs, per girth and cloth state (``skin``, ``fitted``,
    ``loose``): reading - prior mean = slope x (girth - prior mean) + offset + noise [m].

    The slope is below 1 where the fit's own pull towards a typical body (its population
    prior) shrinks readings of unusual bodies towards the prior's mean; 0: the reading tells
    nothing the prior does not.

    Attributes:
        slope: (girth, state) -> reading per unit girth, dimensionless, in [0, 2).
        offset_m: the same keys -> the reading's bias at the prior's mean [m].
        std_m: the same keys -> spread of the reading about the line [m].
        floor_m: girth -> the smallest loose stand-off (reading - girth) seen [m]: a loose
            reading bounds the girth from above at the reading less this.
        loose_probability: prior probability that cloth on a girth is loose.
        noise_correlation: correlation of the three readings' noises, shape (3, 3), float64
            (the fit misreads the whole body's size at once: chest, waist and hips err
            together).
    """

    slope: Mapping[tuple[str, str], float]
    offset_m: Mapping[tuple[str, str], float]
    std_m: Mapping[tuple[str, str], float]
    floor_m: Mapping[str, float]
    loose_probability: float
    noise_correlation: np.ndarray = field(default_factory=lambda: np.eye(3))

    def __post_init__(self) -> None:
        for girth in GIRTHS:
            for state in _STATES:
                key = (girth, state)
                slope, offset, std = (
                    self.slope.get(key),
                    self.offset_m.get(key),
                    self.std_m.get(key),
                )
                if not (
                    isinstance(slope, float)
                    and isinstance(offset, float)
                    and isinstance(std, float)
                    and 0.0 <= slope < 2.0
                    and std > 0
                ):
                    raise ValueError(
                        f"photo girth error: {girth}/{state} needs a slope in [0, 2), an "
                        f"offset [m] and a positive std [m], got {slope!r}, {offset!r}, {std!r}"
                    )
            if not isinstance(self.floor_m.get(girth), float):
                raise ValueError(f"photo girth error: {girth} needs floor_m [m]")
        if not 0.0 < self.loose_probability < 1.0:
            raise ValueError(f"loose_probability must be in (0, 1), got {self.loose_probability!r}")
        correlation = np.asarray(self.noise_correlation, np.float64)
        if (
            correlation.shape != (3, 3)
            or not np.allclose(correlation, correlation.T)
            or not np.allclose(np.diag(correlation), 1.0)
            or np.linalg.eigvalsh(correlation).min() <= 0.0
        ):
            raise ValueError(
                "noise_correlation must be a (3, 3) positive definite correlation matrix, "
                f"got {correlation.tolist()}"
            )

    def without_side_view(self, extra_std_m: float) -> PhotoGirthError:
        """The same with every reading's spread widened by ``extra_std_m`` [m] (added in
        quadrature): a front photo alone leaves the body's depth to the prior."""
        return PhotoGirthError(
            slope=self.slope,
            offset_m=self.offset_m,
            std_m={key: math.hypot(std, extra_std_m) for key, std in self.std_m.items()},
            floor_m=self.floor_m,
            loose_probability=self.loose_probability,
            noise_correlation=self.noise_correlation,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PhotoGirthError:
        """From one mode of ``data/photo_girth_error.json``; ValueError naming what is wrong."""
        try:
            girths = data["girths"]
            fields = {
                name: {(g, s): float(girths[g][s][name]) for g in GIRTHS for s in _STATES}
                for name in ("slope", "offset_m", "std_m")
            }
            floor = {g: float(girths[g]["loose_floor_m"]) for g in GIRTHS}
            loose = float(data["loose_probability"])
            correlation = np.array(data.get("noise_correlation", np.eye(3)), np.float64)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"malformed photo girth error table: {error!r}") from None
        return cls(**fields, floor_m=floor, loose_probability=loose, noise_correlation=correlation)


#: Spread [m] a reading gains without a side view (in quadrature): the body's depth is then the
#: prior's (``PhotoGirthError.without_side_view``).
NO_SIDE_STD_M = 0.02

#: Modes of the shipped table: the fit ran with the height alone, or with the weight too.
MODES: tuple[str, ...] = ("height_only", "with_weight")


@functools.cache
def _girth_table() -> Any:
    """``data/photo_girth_error.json`` as parsed, read once for every mode and correction."""
    with data_file("photo_girth_error.json").open(encoding="utf-8") as handle:
        return json.load(handle)


@functools.cache
def load_photo_girth_error(mode: str = "height_only") -> PhotoGirthError:
    """The shipped table (``data/photo_girth_error.json``) for a mode (``MODES``), read once."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    data = _girth_table()
    if not isinstance(data, dict) or mode not in data:
        raise ValueError(f"malformed photo girth error table: no {mode!r} mode")
    return PhotoGirthError.from_dict(data[mode])


def girth_prior(
    *, height_m: float, weight_kg: float | None, sex: str, age_years: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """ANSUR II's chest, waist and hips given the stature (and weight, age when given).

    Returns:
        (mean, shape (3,), covariance, shape (3, 3)) [m, m^2] in ``GIRTHS`` order.
    """
    return _conditional(
        GIRTHS, height_m=height_m, weight_kg=weight_kg, sex=sex, age_years=age_years
    )


def _conditional(
    names: tuple[str, ...],
    *,
    height_m: float,
    weight_kg: float | None,
    sex: str,
    age_years: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """ANSUR II's joint normal of ``names`` given the stature (and weight, age when given)."""
    from tryon3d.bodyfit._shape_prior import load_measurement_prior

    prior = load_measurement_prior()
    if prior is None:
        raise ValueError("the shipped population table lacks its measurement prior")
    known: dict[str, float] = {"stature": height_m}
    if weight_kg is not None:
        known.update(weight_kg=weight_kg, bmi=weight_kg / height_m**2)
    if age_years is not None:
        known["age_years"] = age_years
    return prior.conditional(known, names, sex=sex)


def girth_evidence(coverage: Mapping[str, Mapping[str, Mapping[str, float]]]) -> dict[str, str]:
    """Per girth, what covers its outline (``EVIDENCE``) from the clothed targets' coverage.

    Args:
        coverage: view -> girth -> shares of the outline (``skin``, ``cloth``, ``untelling``),
            as ``PhotoFit.clothing``; empty when no view was parsed (then ``cloth``: the fit
            cannot tell skin from clothes).
    """
    evidence = {}
    for girth in GIRTHS:
        shares = [view[girth] for view in coverage.values() if girth in view]
        if not shares:
            evidence[girth] = "cloth"
            continue
        skin, cloth, hidden = (
            float(np.mean([share.get(key, 0.0) for share in shares]))
            for key in ("skin", "cloth", "untelling")
        )
        # A bare body's outline parses as skin for only 40-80 % (shade, underwear; training
        # subjects), the rest as clothes or neither; dressed ones' for at most 0.54, mostly
        # under 0.3: skin wins when it outweighs cloth or covers _SKIN_SHARE of the outline.
        if skin > cloth or skin >= _SKIN_SHARE:
            evidence[girth] = "skin"
        elif hidden > _HIDDEN_SHARE:
            evidence[girth] = "hidden"
        else:
            evidence[girth] = "cloth"
    return evidence


@dataclass(frozen=True)
class GirthPosterior:
    """Outcome of :func:`girth_posterior`, per girth (``GIRTHS``).

    Attributes:
        mean_m: posterior mean [m].
        std_m: posterior standard deviation [m].
        prior_mean_m: the population prior's mean [m].
        prior_std_m: the population prior's standard deviation [m].
        loose_probability: posterior probability that the cloth there is loose (0 on skin).
        sources: ``"photo"``, ``"prior"`` or ``"photo+prior"``: which the girth comes from
            (by the share of the prior's variance the photo removed).
    """

    mean_m: dict[str, float]
    std_m: dict[str, float]
    prior_mean_m: dict[str, float]
    prior_std_m: dict[str, float]
    loose_probability: dict[str, float]
    sources: dict[str, str]


def _truncated_normal(mean: float, std: float, bound: float) -> tuple[float, float, float]:
    """(mass below ``bound``, mean, std) of N(mean, std^2) cut above at ``bound``."""
    alpha = (bound - mean) / std
    mass = 0.5 * math.erfc(-alpha / math.sqrt(2.0))
    if mass < 1e-12:  # the bound is far below: the cut normal sits at the bound
        return 0.0, bound, 1e-3 * std
    density = math.exp(-0.5 * alpha * alpha) / math.sqrt(2.0 * math.pi)
    ratio = density / mass
    cut_mean = mean - std * ratio
    variance = std * std * (1.0 - alpha * ratio - ratio * ratio)
    return mass, cut_mean, math.sqrt(max(variance, 1e-12))


def girth_sources(std_m: Mapping[str, float], prior_std_m: Mapping[str, float]) -> dict[str, str]:
    """Per girth ``"photo"``, ``"prior"`` or ``"photo+prior"``: by the share of the prior's
    variance the photo removed (its spread ``std_m`` against the prior's, both [m])."""
    sources = {}
    for girth, std in std_m.items():
        share = 1.0 - std**2 / prior_std_m[girth] ** 2
        sources[girth] = (
            "photo" if share >= _PHOTO_SHARE else "prior" if share < _PRIOR_SHARE else "photo+prior"
        )
    return sources


def girth_posterior(
    reading_m: Mapping[str, float],
    evidence: Mapping[str, str],
    *,
    prior_mean: np.ndarray,
    prior_cov: np.ndarray,
    error: PhotoGirthError | None = None,
) -> GirthPosterior:
    """Combine the photo's girth readings with the population prior.

    Args:
        reading_m: girth -> the photo fit's reading [m] (``GIRTHS``).
        evidence: girth -> ``EVIDENCE`` entry (``girth_evidence``).
        prior_mean: prior mean, shape (3,) [m] (``girth_prior``).
        prior_cov: prior covariance, shape (3, 3) [m^2].
        error: the reading's error model (None: the shipped table).

    Returns:
        A :class:`GirthPosterior`.
    """
    error = load_photo_girth_error() if error is None else error
    missing = [g for g in GIRTHS if g not in reading_m or g not in evidence]
    if missing:
        raise ValueError(f"girth_posterior needs a reading and evidence for {missing}")
    bad = {g: evidence[g] for g in GIRTHS if evidence[g] not in EVIDENCE}
    if bad:
        raise ValueError(f"evidence must be among {EVIDENCE}, got {bad}")
    mean0 = np.asarray(prior_mean, np.float64)
    cov0 = np.asarray(prior_cov, np.float64)
    if mean0.shape != (3,) or cov0.shape != (3, 3):
        raise ValueError(f"prior must be (3,) and (3, 3), got {mean0.shape} and {cov0.shape}")
    reading = np.array([float(reading_m[g]) for g in GIRTHS])
    # Per girth the states it may be in, each with its prior probability.
    options: list[list[tuple[str, float]]] = []
    for girth in GIRTHS:
        if evidence[girth] == "skin":
            options.append([("skin", 1.0)])
        elif evidence[girth] == "hidden":
            options.append([("bound", 1.0)])
        else:
            loose = error.loose_probability
            options.append([("fitted", 1.0 - loose), ("loose", loose)])
    log_weights, means, variances, loose_flags = [], [], [], []
    for combination in itertools.product(*options):
        states = [state for state, _ in combination]
        read = np.array([s != "bound" for s in states])  # bound-only girths read nothing
        mean, cov = mean0.copy(), cov0.copy()
        log_weight = sum(math.log(p) for _, p in combination)
        if read.any():
            pairs = [(g, s) for g, s, r in zip(GIRTHS, states, read, strict=True) if r]
            offset = np.array([error.offset_m[key] for key in pairs])
            slope = np.array([error.slope[key] for key in pairs])
            # reading = slope x girth + (1 - slope) x prior mean + offset + noise
            observe = np.eye(3)[read] * slope[:, None]
            offset = offset + (1.0 - slope) * mean0[read]
            spread = np.array([error.std_m[key] for key in pairs])
            correlation = np.asarray(error.noise_correlation)[np.ix_(read, read)]
            innovation_cov = observe @ cov0 @ observe.T + correlation * np.outer(spread, spread)
            residual = reading[read] - offset - observe @ mean0
            gain = np.linalg.solve(innovation_cov, observe @ cov0).T
            mean = mean0 + gain @ residual
            cov = cov0 - gain @ observe @ cov0
            _sign, logdet = np.linalg.slogdet(innovation_cov)
            log_weight -= 0.5 * (residual @ np.linalg.solve(innovation_cov, residual) + logdet)
        # Loose and bound-only readings are upper bounds: cut those girths' posteriors there
        # (marginally): at the reading less the smallest loose stand-off seen, or at the
        # outline itself where the clothes hide the body.
        marginal_std = np.sqrt(np.clip(np.diag(cov), 1e-12, None))
        variance = np.diag(cov).copy()
        for i, (girth, state) in enumerate(zip(GIRTHS, states, strict=True)):
            if state not in ("loose", "bound"):
                continue
            bound = reading[i] - (error.floor_m[girth] if state == "loose" else 0.0)
            mass, cut_mean, cut_std = _truncated_normal(
                float(mean[i]), float(marginal_std[i]), float(bound)
            )
            log_weight += math.log(max(mass, 1e-300))
            mean[i], variance[i] = cut_mean, cut_std**2
        log_weights.append(log_weight)
        means.append(mean)
        variances.append(variance)
        loose_flags.append([s in ("loose", "bound") for s in states])
    weights = np.exp(np.array(log_weights) - max(log_weights))
    weights /= weights.sum()
    stacked = np.array(means)
    mixture_mean = weights @ stacked
    mixture_var = weights @ (np.array(variances) + stacked**2) - mixture_mean**2
    loose_probability = weights @ np.array(loose_flags, dtype=np.float64)
    prior_var = np.diag(cov0)
    out_std = np.sqrt(np.clip(mixture_var, 1e-12, None))
    sources = girth_sources(
        {g: float(out_std[i]) for i, g in enumerate(GIRTHS)},
        {g: float(math.sqrt(prior_var[i])) for i, g in enumerate(GIRTHS)},
    )
    return GirthPosterior(
        mean_m={g: float(mixture_mean[i]) for i, g in enumerate(GIRTHS)},
        std_m={g: float(out_std[i]) for i, g in enumerate(GIRTHS)},
        prior_mean_m={g: float(mean0[i]) for i, g in enumerate(GIRTHS)},
        prior_std_m={g: float(math.sqrt(prior_var[i])) for i, g in enumerate(GIRTHS)},
        loose_probability={g: float(loose_probability[i]) for i, g in enumerate(GIRTHS)},
        sources=sources,
    )


def _correction_feature_names() -> tuple[str, ...]:
    from tryon3d.bodyfit._photo_readings import DEPTH_LEVELS, PROFILE_LEVELS, WIDTH_LEVELS

    return (
        "posterior_chest",
        "posterior_waist",
        "posterior_hips",
        "fitted_neck",
        "fitted_mass_kg",
        "neck_front",
        "neck_side",
        *(f"width_front_{round(100 * level)}" for level in WIDTH_LEVELS),
        *(f"depth_side_{round(100 * level)}" for level in DEPTH_LEVELS),
        "depth_side_sq",
        *(
            f"profile_{view}_{i:02d}"
            for view in ("front", "side")
            for i in range(len(PROFILE_LEVELS))
        ),
        *(f"torso_drop_{view}" for view in ("front", "side")),
        *(f"pose_{k}_{v}" for v in ("front", "side") for k in ("arm_low", "arm_high", "legs")),
        "shoulder_span_front",
        "hip_span_front",
        "stature",
        "male",
    )


#: What a correction may read, each [m] unless named otherwise: the posterior's girths less the
#: prior's means (``posterior_<girth>``), the fitted body's neck less the prior's
#: (``fitted_neck``) and its mass less the prior's [kg] (``fitted_mass_kg``, fits without a
#: weight), the outline's readings (``bodyfit._photo_readings.outline_readings``), the mean
#: square of the side view's torso depths [m^2] (``depth_side_sq``: girth grows faster than
#: depth; leave-one-out 6.07 -> 5.79 cm on 86 training fits), the stature and ``male`` (1 or 0).
CORRECTION_FEATURES: tuple[str, ...] = _correction_feature_names()


def correction_features(
    *,
    posterior_m: Mapping[str, float],
    readings: Mapping[str, float],
    height_m: float,
    weight_kg: float | None,
    sex: str,
    age_years: float | None = None,
) -> dict[str, float]:
    """The values a :class:`GirthCorrection` reads (``CORRECTION_FEATURES``) of one fit.

    Args:
        posterior_m: girth -> posterior mean [m] (``GirthPosterior.mean_m``).
        readings: ``PhotoFit.photo_readings``: the outline's readings (``outline_readings``)
            [m], the fitted body's neck girth ``fitted_neck_m`` [m] and mass
            ``fitted_mass_kg`` [kg] (the mass not read when the weight is given).
        height_m, weight_kg, sex, age_years: what the fit was given.
    """
    names = (*GIRTHS, "neck") if weight_kg is not None else (*GIRTHS, "neck", "weight_kg")
    mean, _cov = _conditional(
        names, height_m=height_m, weight_kg=weight_kg, sex=sex, age_years=age_years
    )
    values: dict[str, float] = {
        f"posterior_{g}": float(posterior_m[g]) - float(mean[i]) for i, g in enumerate(GIRTHS)
    }
    values["fitted_neck"] = float(readings["fitted_neck_m"]) - float(mean[3])
    if weight_kg is None:
        values["fitted_mass_kg"] = float(readings["fitted_mass_kg"]) - float(mean[4])
    # the outline's readings as they are (the fitted body's went in above as deviations)
    outline = {k: v for k, v in readings.items() if not k.startswith("fitted_")}
    values.update({k: float(v) for k, v in outline.items() if k in CORRECTION_FEATURES})
    from tryon3d.bodyfit._photo_readings import DEPTH_LEVELS

    depth_names = [f"depth_side_{round(100 * level)}" for level in DEPTH_LEVELS]
    if all(name in values for name in depth_names):
        values["depth_side_sq"] = float(np.mean(np.square([values[name] for name in depth_names])))
    values["stature"] = height_m
    values["male"] = 1.0 if sex == "male" else 0.0
    return values


#: A feature further than this many training spreads off its training mean is a reading gone
#: wrong: the correction reads its training mean instead (``GirthCorrection.implausible``).
OUTLIER_Z = 4.0
# wrong: the view's scale is wrong, or its pose is not the A-pose the readings were learnt in
_SCALE_GROUP = ("depth_side_", "torso_drop_", "pose_")
_PROFILE_GROUP = "profile_"
_VIEW_OUTLIERS = 5


def far_features(
    names: Sequence[str],
    values: Mapping[str, float | None],
    mean: np.ndarray,
    scale: np.ndarray,
) -> list[str]:
    """The features of ``values`` each more than ``OUTLIER_Z`` spreads ``scale`` off ``mean``
    (``names`` order), before a view's readings are dropped together."""
    wrong = []
    for i, name in enumerate(names):
        value = values.get(name)
        # a spread of 0 (a feature most training rows share, e.g. the sex): never wrong
        if value is not None and 0 < scale[i] < abs(float(value) - mean[i]) / OUTLIER_Z:
            wrong.append(name)
    return wrong


def outlier_features(
    names: Sequence[str],
    values: Mapping[str, float | None],
    mean: np.ndarray,
    scale: np.ndarray,
) -> list[str]:
    """The features of ``values`` (``names`` order, centre ``mean`` and spread ``scale`` per
    name) that ``GirthCorrection.implausible`` drops: see there."""
    wrong = far_features(names, values, mean, scale)
    out = [n for n in wrong if not n.startswith(_PROFILE_GROUP)]
    for view in ("front", "side"):
        group = [n for n in names if _view_of(n) == view]
        off = [n for n in wrong if n in group]
        if len(off) > _VIEW_OUTLIERS or any(n.startswith(_SCALE_GROUP) for n in off):
            out += [n for n in group if n not in out]
    return out


def _view_of(feature: str) -> str | None:
    """The view whose outline a feature is read from (``front``/``side``), else None."""
    for view in ("front", "side"):
        if feature.endswith(f"_{view}") or f"_{view}_" in feature:
            return view
    return None


@dataclass(frozen=True)
class GirthCorrection:
    """A regression of each girth's deviation from the prior mean [m] on what the photo shows
    besides the posterior (``CORRECTION_FEATURES``), learnt on training subjects: a ridge
    line, plus for the girths where it predicted better (leave-one-out) a kernel ridge's
    Gaussians about the training rows (a relation that bends: on held-out training seeds it
    took the front photo alone from 5.5 to 5.2 cm, two photos from 4.5 to 4.4 cm).

    The posterior weighs the three girths' readings only; skin that shows elsewhere tells the
    body's size too (a neck's breadth follows the body's mass, the fitted body's mass and neck
    follow the whole outline). Features missing from a photo (no side view) enter at their
    training mean.

    Attributes:
        features: the names read, a subset of ``CORRECTION_FEATURES``.
        mean: the features' training means, shape (F,).
        scale: their training standard deviations, shape (F,).
        coef: per girth the weights of the standardised features, shape (3, F) [m].
        intercept_m: per girth, shape (3,) [m].
        std_m: per girth the leave-one-out spread of the corrected girth, shape (3,) [m].
        prior_std_m: per girth the spread of the training bodies about the prior's mean, shape
            (3,) [m]: what ``std_m`` is weighed against to say where a girth comes from (the
            training bodies spread wider than ANSUR's conditional normal says).
        median: the features' training medians, shape (F,) (tables before it: ``mean``).
        spread: their robust spreads (1.4826 x median absolute deviation), shape (F,) (tables
            before it: ``scale``): a reading's distance from the training bodies is judged on
            these (``implausible``), as the calibration judged its rows.
        kernel_rows: the training rows' standardised features, shape (N, F), for the girths
            whose deviation is learnt by kernel ridge regression (None: a line for each girth).
        kernel_alpha: per girth the weights of those rows' Gaussian kernels, shape (3, N) [m]
            (a row of zeros: that girth is a line alone).
        kernel_scale: per girth the Gaussian's inverse squared width, shape (3,) [1 / squared
            standardised units]: a girth's kernel part is ``sum_i alpha_i exp(-scale |x -
            x_i|^2)``, added to the line (``coef``, ``intercept_m``) that holds the kernel
            ridge's linear and constant parts.
    """

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept_m: np.ndarray
    std_m: np.ndarray
    prior_std_m: np.ndarray
    median: np.ndarray | None = None
    spread: np.ndarray | None = None
    kernel_rows: np.ndarray | None = None
    kernel_alpha: np.ndarray | None = None
    kernel_scale: np.ndarray | None = None

    def __post_init__(self) -> None:
        count = len(self.features)
        rows, alpha, widths = self.kernel_rows, self.kernel_alpha, self.kernel_scale
        if rows is not None or alpha is not None or widths is not None:
            if rows is None or alpha is None or widths is None:
                raise ValueError(
                    "girth correction: kernel_rows, kernel_alpha and kernel_scale go together"
                )
            for name, shape, kernel_shape in (
                ("kernel_rows", rows.shape, (len(rows), count)),
                ("kernel_alpha", alpha.shape, (3, len(rows))),
                ("kernel_scale", widths.shape, (3,)),
            ):
                if shape != kernel_shape or len(rows) == 0:
                    raise ValueError(
                        f"girth correction: {name} must be {kernel_shape}, got {shape}"
                    )
            if not all(np.isfinite(a).all() for a in (rows, alpha, widths)):
                raise ValueError("girth correction: kernel values must be finite")
            if (widths < 0).any():
                raise ValueError("girth correction: kernel_scale must not be negative")
        unknown = [f for f in self.features if f not in CORRECTION_FEATURES]
        if unknown or count == 0:
            raise ValueError(f"girth correction: unknown or no features {unknown}")
        shapes = {
            "mean": (np.shape(self.mean), (count,)),
            "scale": (np.shape(self.scale), (count,)),
            "coef": (np.shape(self.coef), (3, count)),
            "intercept_m": (np.shape(self.intercept_m), (3,)),
            "std_m": (np.shape(self.std_m), (3,)),
            "prior_std_m": (np.shape(self.prior_std_m), (3,)),
            "median": (np.shape(self.centre), (count,)),
            "spread": (np.shape(self.robust_scale), (count,)),
        }
        for name, (got, want) in shapes.items():
            if got != want:
                raise ValueError(f"girth correction: {name} must be {want}, got {got}")
        arrays = (
            *(self.mean, self.scale, self.coef, self.intercept_m, self.std_m, self.prior_std_m),
            *(self.centre, self.robust_scale),
        )
        if not all(np.isfinite(a).all() for a in arrays):
            raise ValueError("girth correction: values must be finite")
        if (self.robust_scale < 0).any() or any(
            (np.asarray(a) <= 0).any() for a in (self.scale, self.std_m, self.prior_std_m)
        ):
            raise ValueError("girth correction: scale, std_m and prior_std_m must be positive")

    @property
    def centre(self) -> np.ndarray:
        """Where ``implausible`` measures from: the training medians (else means)."""
        return self.mean if self.median is None else self.median

    @property
    def robust_scale(self) -> np.ndarray:
        """What ``implausible`` measures in: the robust spreads (else the deviations)."""
        return self.scale if self.spread is None else self.spread

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GirthCorrection:
        """From a mode's ``correction`` entry; ValueError naming what is wrong."""
        try:
            return cls(
                features=tuple(str(f) for f in data["features"]),
                mean=np.array(data["mean"], np.float64),
                scale=np.array(data["scale"], np.float64),
                coef=np.array(data["coef"], np.float64),
                intercept_m=np.array(data["intercept_m"], np.float64),
                std_m=np.array(data["std_m"], np.float64),
                prior_std_m=np.array(data["prior_std_m"], np.float64),
                median=np.array(data["median"], np.float64) if "median" in data else None,
                spread=np.array(data["spread"], np.float64) if "spread" in data else None,
                **{
                    name: np.array(data[name], np.float64)
                    for name in ("kernel_rows", "kernel_alpha", "kernel_scale")
                    if name in data
                },
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"malformed girth correction: {error!r}") from None

    def implausible(self, values: Mapping[str, float | None]) -> tuple[str, ...]:
        """The features of ``values`` gone wrong: a reading more than ``OUTLIER_Z`` training
        spreads off the training mean is a reading gone wrong, not a body (a person mask that
        lost the legs and the ankle landmarks with them scales a side view 1.8x; arms that
        hang against the sides widen the front's torso rows). A view's readings share one
        scale and one pose, so a wrong torso drop or side depth, or more than
        ``_VIEW_OUTLIERS`` wrong readings, take all that view's readings; the breadth profiles
        (bimodal where a row meets one leg or both) go only with their view."""
        wrong = set(outlier_features(self.features, values, self.centre, self.robust_scale))
        return tuple(n for n in self.features if n in wrong)

    def arms_off(self, values: Mapping[str, float | None]) -> bool:
        """Whether the front's arm abduction (``pose_arm_low_front`` or ``_high``) lies outside
        the training photos' (see ``implausible``): the arms hang or rise off their pose."""
        arms = [
            i
            for i, n in enumerate(self.features)
            if n.startswith("pose_arm_") and n.endswith("_front")
        ]
        names = [self.features[i] for i in arms]
        return bool(far_features(names, values, self.centre[arms], self.robust_scale[arms]))

    def predict(self, values: Mapping[str, float | None]) -> np.ndarray:
        """Each girth's deviation from the prior mean [m], shape (3,), from ``values``
        (feature -> value; None, absent or ``implausible``: the training mean)."""
        dropped = set(self.implausible(values))
        row = np.array(
            [
                self.mean[i] if values.get(name) is None or name in dropped else float(values[name])  # type: ignore[arg-type]
                for i, name in enumerate(self.features)
            ]
        )
        # no reading is let past the training bodies' range: a linear rule far outside the
        # data it was learnt on says nothing
        standard = np.clip((row - self.mean) / self.scale, -OUTLIER_Z, OUTLIER_Z)
        deviation = self.coef @ standard + self.intercept_m
        rows, alpha, widths = self.kernel_rows, self.kernel_alpha, self.kernel_scale
        if rows is not None and alpha is not None and widths is not None:
            squared = ((rows - standard) ** 2).sum(axis=1)
            deviation = deviation + (alpha * np.exp(-np.outer(widths, squared))).sum(axis=1)
        return deviation


@functools.cache
def load_girth_correction(
    mode: str = "height_only",
    *,
    side_view: bool = True,
    front_readings: bool = True,
    arms_down: bool = False,
) -> GirthCorrection | None:
    """The shipped correction for a mode (``MODES``): for fits with a side view
    (``correction``), of the front photo alone (``side_view`` False: ``correction_front``),
    or with a side view whose front outline is not read (``front_readings`` False:
    ``correction_side``: the front's readings were implausible); ``arms_down``: the ones
    learnt on photos whose arms hang between the A-pose and the sides (``correction_posed``,
    ``correction_front_posed``; none reads the side alone); None when the table has none (or
    for neither view)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not front_readings and (arms_down or not side_view):
        return None
    data = _girth_table()
    key = (
        "correction_front"
        if not side_view
        else "correction"
        if front_readings
        else "correction_side"
    ) + ("_posed" if arms_down else "")
    entry = data.get(mode, {}).get(key) if isinstance(data, dict) else None
    return None if entry is None else GirthCorrection.from_dict(entry)
