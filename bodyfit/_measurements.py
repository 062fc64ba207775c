"""Body from height, weight, sex, age and optional tape measurements."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, SupportsFloat, cast

import numpy as np
from numpy.typing import ArrayLike

from tryon3d.bodyfit._body import MEASUREMENT_NAMES, MODELS, SEXES, Body, BodyModelName, Sex
from tryon3d.bodyfit._fit import BodyModel, FitResult, FitTarget, body_mass_kg, fit_shape
from tryon3d.bodyfit._population import PopulationModel, load_population_model
from tryon3d.bodyfit._shape_prior import MeasurementPrior, load_measurement_prior
from tryon3d.bodyfit._tape import measure

if TYPE_CHECKING:
    from tryon3d.bodyfit._anny_model import AnnyModel

HEIGHT_RANGE_M = (0.5, 2.5)
WEIGHT_RANGE_KG = (10.0, 400.0)  # the population model and the fit start at 10 kg
BMI_RANGE = (10.0, 90.0)  # outside this no living adult exists: an impossible height/weight pair
AGE_RANGE_YEARS = (1.0, 120.0)
GIRTH_RANGE_M = (0.2, 3.0)

# Target weights: residuals in cm (kg for mass) times these.
_WEIGHT_STATURE = 4.0
_WEIGHT_MASS = 1.5
_WEIGHT_GIVEN_GIRTH = 3.0
_WEIGHT_PREDICTED_GIRTH = 2.0
_WEIGHT_SOFT = 0.25
_MAX_FIT_STEPS = 10  # Gauss-Newton steps of a body's fit (one tape reading each)
# ANSUR's upper-arm girth is of the flexed biceps; a relaxed arm reads about this much less.
_FLEXED_TO_RELAXED_ARM_M = 0.015
# Secondary girths steer the shape softly. Shoulder breadth steers more softly still: the
# acromion is found on a binned profile, whose jumps between bins would upset the fit.
_SOFT_TARGETS = ("neck", "thigh", "upper_arm")
_WEIGHT_SHOULDER = 0.3
# The whole-body prior's targets weigh this over their conditional standard deviation [cm],
# at most _WEIGHT_PRIOR_MAX: a sure prediction steers more than an unsure one.
_WEIGHT_PRIOR_CM = 0.5
_WEIGHT_PRIOR_MAX = 0.5
# ANSUR II's biceps and forearm girths are flexed: a relaxed arm reads about this much less [m].
_FLEXED_TO_RELAXED_M = {"biceps": 0.015, "forearm": 0.01}
_WEIGHT_THIGH_MAX = 1.0  # the leg's largest girth against ANSUR's thigh girth: no mid-thigh bulge
# Prior measurements the fit leaves alone: the acromion is found on a binned profile (see
# above); the hips' level is the buttocks' largest protrusion on the mesh, which the model's
# waist-to-hip change does not follow (not among the fitted ones).
_PRIOR_SKIPPED = ("shoulder_breadth", "waist_to_hip_height")

#: A built body must meet these or the build fails: stature [m], mass [kg], given girths [m].
#: (The fit aims at 0.2 cm; these leave room for the tape's level binning.)
FIT_TOLERANCES = {"stature": 0.01, "weight_kg": 1.5, "girth": 0.015}
# A given girth may differ from the population's prediction for the height, weight and sex by at
# most this many standard deviations, each at least _MIN_GIRTH_STD_M (ANSUR II is a fit military
# population: its residuals are narrower than a shop's customers').
_GIRTH_Z_LIMIT = 5.0
_MIN_GIRTH_STD_M = 0.05
_INCH_M = 0.0254
# Tallest plausible stature [m] by age [years] (above the 99.9th percentile of growth charts);
# from 17 the adult range applies.
_MAX_STATURE_BY_AGE = (
    (1.0, 0.90),
    (2.0, 1.02),
    (3.0, 1.12),
    (5.0, 1.30),
    (8.0, 1.50),
    (10.0, 1.65),
    (12.0, 1.80),
    (14.0, 1.98),
    (17.0, 2.50),
)


def _finite(
    name: str,
    value: SupportsFloat | str,
    bounds: tuple[float, float],
    unit: str,
    scale: float = 1.0,
) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    low, high = bounds
    if not low <= number <= high:
        raise ValueError(
            f"{name} must be between {low * scale:g} and {high * scale:g} {unit}, "
            f"got {number * scale:g}"
        )
    return number


def check_plausible(
    *,
    height_m: float,
    weight_kg: float,
    sex: str,
    age_years: float | None,
    girths_m: Mapping[str, float],
    population: PopulationModel,
) -> None:
    """Refuse inputs that no body (or no consistent set of units) can have, before fitting.

    Raises:
        ValueError: one line listing each implausible input: girths that look like inches,
            girths far from what the height, weight and sex allow, a height too tall for the age.
    """
    problems = []
    if age_years is not None and age_years < _MAX_STATURE_BY_AGE[-1][0]:
        ages, statures = zip(*_MAX_STATURE_BY_AGE, strict=True)
        tallest = float(np.interp(age_years, ages, statures))
        if height_m > tallest:
            problems.append(
                f"height {height_m * 100:g} cm is too tall for age {age_years:g} "
                f"(at most about {tallest * 100:.0f} cm)"
            )
    if girths_m:
        predicted = population.predict(
            height_m=height_m, weight_kg=weight_kg, sex=sex, age_years=age_years
        )
        spread = population.residual_std_m(sex=sex)
        far, inch_like = [], []
        for name, value in girths_m.items():
            std = max(spread[name], _MIN_GIRTH_STD_M)
            if abs(value - predicted[name]) > _GIRTH_Z_LIMIT * std:
                far.append(
                    f"{name} {value * 100:g} cm (expected about {predicted[name] * 100:.0f} cm, "
                    f"{_GIRTH_Z_LIMIT * std * 100:.0f} cm either way)"
                )
                inch_like.append(abs(value * 2.54 - predicted[name]) <= _GIRTH_Z_LIMIT * std)
        if far and all(inch_like) and len(far) == len(girths_m):
            listed = ", ".join(f"{name} {value * 100:g}" for name, value in girths_m.items())
            problems.append(
                f"the girths ({listed}) look like inches: give them in cm "
                f"(x 2.54: {', '.join(f'{v * 254:.0f}' for v in girths_m.values())})"
            )
        elif far:
            problems.append(
                f"implausible for {height_m * 100:g} cm, {weight_kg:g} kg, {sex}: " + "; ".join(far)
            )
    if problems:
        raise ValueError("; ".join(problems))


def _check_fit(
    result: FitResult, *, height_m: float, weight_kg: float, girths_m: Mapping[str, float]
) -> None:
    """Fail when the built body misses its targets (a body that is not the one asked for)."""
    misses = []
    stature = result.measurements_m["stature"]
    if abs(stature - height_m) > FIT_TOLERANCES["stature"]:
        misses.append(f"height {stature * 100:.1f} cm instead of {height_m * 100:g} cm")
    if abs(result.weight_kg - weight_kg) > FIT_TOLERANCES["weight_kg"]:
        misses.append(f"weight {result.weight_kg:.1f} kg instead of {weight_kg:g} kg")
    for name, value in girths_m.items():
        got = result.measurements_m[name]
        if abs(got - value) > FIT_TOLERANCES["girth"]:
            misses.append(f"{name} {got * 100:.1f} cm instead of {value * 100:g} cm")
    if misses:
        raise ValueError(
            "the body model cannot meet these measurements together: " + "; ".join(misses)
        )


def check_sex(sex: str) -> Sex:
    """Normalise ``sex`` (any case; m/f/man/woman too) to ``"male"``/``"female"``; ValueError
    otherwise (a non-string included)."""
    text = str(sex).strip().lower() if isinstance(sex, str) else ""
    aliases = {"m": "male", "f": "female", "man": "male", "woman": "female"}
    text = aliases.get(text, text)
    if text not in SEXES:
        raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
    return cast(Sex, text)


def _resolve_backend(model: str, smplx_model_dir: str | os.PathLike | None):
    if model == "anny":
        from tryon3d.bodyfit._anny_model import load_anny_model

        return load_anny_model()
    if model == "smplx":
        from tryon3d.bodyfit._smplx_model import load_smplx_model

        folder = smplx_model_dir or os.environ.get("TRYON3D_SMPLX_DIR")
        return load_smplx_model(Path(folder) if folder else None)
    raise ValueError(f"model must be one of {MODELS}, got {model!r}")


def body_from_measurements(
    *,
    height_m: float,
    weight_kg: float,
    sex: str,
    age_years: float | None = None,
    chest_m: float | None = None,
    waist_m: float | None = None,
    hips_m: float | None = None,
    model: BodyModelName = "anny",
    smplx_model_dir: str | os.PathLike | None = None,
    population: PopulationModel | None = None,
    prior: MeasurementPrior | None = None,
    tape_m: Mapping[str, float] | None = None,
) -> Body:
    """Build a body whose tape measurements match the inputs.

    Stature is met within 0.5 cm, mesh weight (volume x density) within 1 kg and each given
    circumference within 1 cm. Girths not given are predicted from ANSUR II population statistics
    for the height, weight, sex and age, and the body is shaped to them.

    Args:
        height_m: stature [m], 0.5-2.5.
        weight_kg: body mass [kg], 10-400, with a plausible BMI (10-90).
        sex: ``"male"`` or ``"female"``.
        age_years: age [years]; the population median (about 28) when omitted.
        chest_m: chest (bust) circumference [m], optional.
        waist_m: waist circumference at the navel [m], optional.
        hips_m: hip circumference at the buttocks [m], optional.
        model: ``"anny"`` (default) or ``"smplx"`` (needs licensed model files; its betas are
            fitted to the same targets, read by the same tape).
        smplx_model_dir: folder with ``SMPLX_{NEUTRAL,MALE,FEMALE}.npz`` (or env
            ``TRYON3D_SMPLX_DIR``).
        population: population model for the predictions (the shipped ANSUR II fit by default).
        prior: the whole-body measurement prior (``bodyfit._shape_prior``; the shipped one by
            default): every tape measurement it predicts becomes a soft target weighted by its
            conditional uncertainty, so that no part of the body is left to chance.
        tape_m: further tape measures the user took [m], keyed by ``MEASUREMENT_NAMES`` (e.g.
            ``thigh``, ``calf``); each is targeted tightly and conditions the other predictions.

    Returns:
        A Body in the canonical A-pose.

    Raises:
        ValueError: inputs out of range or implausible together (checked before fitting: girths
            that look like inches, a waist no body of that weight has, a height too tall for the
            age), or a fit that misses ``FIT_TOLERANCES`` (listing each miss).
    """
    height_m = _finite("height", height_m, HEIGHT_RANGE_M, "cm", 100.0)
    weight_kg = _finite("weight", weight_kg, WEIGHT_RANGE_KG, "kg")
    sex = check_sex(sex)
    bmi = weight_kg / height_m**2
    if not BMI_RANGE[0] <= bmi <= BMI_RANGE[1]:
        raise ValueError(
            f"height {height_m * 100:g} cm with weight {weight_kg:g} kg gives BMI {bmi:.1f}, "
            f"outside the possible {BMI_RANGE[0]:g}-{BMI_RANGE[1]:g}"
        )
    if age_years is not None:
        age_years = _finite("age", age_years, AGE_RANGE_YEARS, "years")
    given = {}
    for name, value in (("chest", chest_m), ("waist", waist_m), ("hips", hips_m)):
        if value is not None:
            given[name] = _finite(name, value, GIRTH_RANGE_M, "cm", 100.0)
    for name, value in (tape_m or {}).items():
        if name not in MEASUREMENT_NAMES or name in ("stature", "chest", "waist", "hips"):
            raise ValueError(
                f"tape measure {name!r} is not one of "
                f"{sorted(set(MEASUREMENT_NAMES) - {'stature'})}"
            )
        low = (
            0.01
            if name.endswith(
                ("_height", "_length", "_radiale", "_stylion", "seam", "breadth", "inseam")
            )
            else 0.05
        )
        given[name] = _finite(name, value, (low, GIRTH_RANGE_M[1]), "cm", 100.0)
    population = population or load_population_model()
    # the population model judges the three girths it predicts; other tape measures are fitted
    check_plausible(
        height_m=height_m,
        weight_kg=weight_kg,
        sex=sex,
        age_years=age_years,
        girths_m={k: v for k, v in given.items() if k in ("chest", "waist", "hips")},
        population=population,
    )
    backend = _resolve_backend(model, smplx_model_dir)
    predicted = population.predict(
        height_m=height_m, weight_kg=weight_kg, sex=sex, age_years=age_years
    )
    predicted["upper_arm"] -= _FLEXED_TO_RELAXED_ARM_M
    targets = {
        "stature": FitTarget(height_m, _WEIGHT_STATURE),
        "weight_kg": FitTarget(weight_kg, _WEIGHT_MASS),
    }
    for name in ("chest", "waist", "hips"):
        if name in given:
            targets[name] = FitTarget(given[name], _WEIGHT_GIVEN_GIRTH)
        else:
            targets[name] = FitTarget(predicted[name], _WEIGHT_PREDICTED_GIRTH)
    for name in _SOFT_TARGETS:
        targets[name] = FitTarget(predicted[name], _WEIGHT_SOFT, hard=False)
    targets["shoulder_breadth"] = FitTarget(
        predicted["shoulder_breadth"], _WEIGHT_SHOULDER, hard=False
    )
    prior = prior or load_measurement_prior()
    if prior is not None:
        # The prior's biceps (ANSUR's: the upper arm's largest girth) supersedes the mid-arm
        # guess, which no arm can meet together with it (the largest girth is never the smaller).
        if "upper_arm" not in given:
            targets.pop("upper_arm", None)
        targets.update(
            _prior_targets(
                prior, given, height_m=height_m, weight_kg=weight_kg, sex=sex, age_years=age_years
            )
        )
    for name, value in given.items():
        targets.setdefault(name, FitTarget(value, _WEIGHT_GIVEN_GIRTH))
        if name not in ("chest", "waist", "hips"):
            targets[name] = FitTarget(value, _WEIGHT_GIVEN_GIRTH)
    ratios = {key: value for key, value in predicted.items() if key.endswith("_height_ratio")}
    age = (
        age_years
        if age_years is not None
        else float(population.coefficients_for(sex).age_median_years)
    )

    def fit(max_iterations: int, update_jacobian: bool | None = None) -> FitResult:
        result = fit_shape(
            backend,
            targets,
            sex=sex,
            age_years=age,
            height_ratios=ratios,
            max_iterations=max_iterations,
            update_jacobian=update_jacobian,
        )
        _check_fit(result, height_m=height_m, weight_kg=weight_kg, girths_m=given)
        return result

    try:
        result = fit(_MAX_FIT_STEPS)
    except ValueError:
        # The population's guesses of the girths not given may be what stands in the way (a
        # model with few shape directions): let them only steer, then judge the given ones again.
        for name in ("chest", "waist", "hips"):
            if name not in given:
                targets[name] = FitTarget(predicted[name], _WEIGHT_SOFT, hard=False)
        # ... and give the fit twice the steps: a hard combination may converge slowly.
        try:
            result = fit(2 * _MAX_FIT_STEPS)
        except ValueError:
            # Broyden's updated Jacobian can stall on a hard combination (ANSUR subjects with
            # chest, waist and hips given): a fresh Jacobian every step, as before it.
            result = fit(2 * _MAX_FIT_STEPS, update_jacobian=False)
    return _assemble_body(
        backend,
        result,
        sex=sex,
        age_years=age,
        inputs={
            "height_cm": height_m * 100,
            "weight_kg": weight_kg,
            "sex": sex,
            "age_years": age_years,
            **{f"{k}_cm": v * 100 for k, v in given.items()},
        },
        height_ratios=ratios,
    )


def _prior_targets(
    prior: MeasurementPrior, given: Mapping[str, float], **inputs
) -> dict[str, FitTarget]:
    """Soft targets for every measurement the prior predicts and the user did not give."""
    known = {name: value for name, value in given.items() if name in prior.measurement_names}
    predicted = prior.predict(given_m=known, **inputs)
    targets = {}
    for name, (mean, std) in predicted.items():
        if name in _PRIOR_SKIPPED or name in ("chest", "waist", "hips"):
            continue  # chest, waist and hips: the population model's (non-linear) prediction
        weight = min(_WEIGHT_PRIOR_CM / (std * 100.0), _WEIGHT_PRIOR_MAX)
        targets[name] = FitTarget(mean - _FLEXED_TO_RELAXED_M.get(name, 0.0), weight, hard=False)
    if "thigh" in targets and "thigh_max" not in given:
        # ANSUR's thigh girth at the gluteal furrow is the leg's largest: no bulge lower down.
        targets["thigh_max"] = FitTarget(targets["thigh"].value, _WEIGHT_THIGH_MAX, hard=False)
    return targets


def rebuild_body(
    *,
    model: str,
    shape_parameters: Mapping[str, float],
    sex: str,
    age_years: float,
    pose: np.ndarray | None = None,
    height_ratios: Mapping[str, float] | None = None,
    inputs: Mapping | None = None,
    smplx_model_dir: str | os.PathLike | None = None,
) -> Body:
    """The Body for known model parameters (as stored by ``body_record``), measured afresh."""
    backend = _resolve_backend(model, smplx_model_dir)
    sex = check_sex(sex)
    if model == "anny":
        # A record from before a local change was fitted lacks it: it stood at 0, its neutral.
        shape_parameters = {
            **{n: 0.0 for n in backend.parameter_names if n.startswith("measure-")},
            **shape_parameters,
        }
    elif model == "smplx":
        # Betas a record lacks (written with fewer, SMPL-X 1.0's ten) were 0; betas the model
        # files offer no more of must be 0, or this would be another body.
        shape_parameters = {
            **{name: 0.0 for name in backend.parameter_names},
            **shape_parameters,
        }
        dropped = sorted(
            name
            for name, value in shape_parameters.items()
            if name not in backend.parameter_names and value != 0.0
        )
        if dropped:
            raise ValueError(
                f"the body has betas {dropped} that these SMPL-X model files lack (they offer "
                f"{len(backend.parameter_names)}): load it with the files it was built with"
            )
    missing = [name for name in backend.parameter_names if name not in shape_parameters]
    if missing:
        raise ValueError(f"shape parameters lack {missing} for the {model} model")
    vector = np.array([float(shape_parameters[name]) for name in backend.parameter_names])
    lower, upper = backend.parameter_bounds[:, 0], backend.parameter_bounds[:, 1]
    outside = [
        f"{name} = {value:g} (allowed {low:g} to {high:g})"
        for name, value, low, high in zip(
            backend.parameter_names, vector, lower, upper, strict=True
        )
        if not (low - 1e-6 <= value <= high + 1e-6)
    ]  # NaN fails this too
    if outside:
        raise ValueError(f"shape parameters out of the {model} model's range: {'; '.join(outside)}")
    age_years = _finite("age_years", age_years, AGE_RANGE_YEARS, "years")
    vertices, joints = backend.rest_geometry(vector[None], sex=sex, age_years=age_years)
    measurements, landmarks = measure(
        vertices[0],
        backend.vertex_regions,
        backend.skeleton(joints[0]),
        backend.tape_topology,
        height_ratios=height_ratios,
    )
    result = FitResult(
        parameters=vector,
        vertices=vertices[0],
        joints=joints[0],
        measurements_m=measurements,
        landmarks_m=landmarks,
        weight_kg=float(body_mass_kg(vertices[0], backend.faces, sex=sex)),
        iterations=0,
        max_error=0.0,
    )
    posed = None
    if pose is not None and np.size(pose) and np.any(np.asarray(pose) != 0):
        posed = _pose_rest(backend, vertices[0], joints[0], pose)
    return _assemble_body(
        backend,
        result,
        sex=sex,
        age_years=age_years,
        inputs=inputs or {},
        height_ratios=height_ratios or {},
        posed=posed,
    )


#: Named target poses of anny bodies: per bone, its turn as an axis-angle [deg] in the canonical
#: frame (see ``pose_body``). ``arms_down``: the arms from the A-pose's 42 deg to 22 deg from
#: vertical, towards the hips; ``walking``: mid-stride, the left thigh forward, the right one back
#: with its knee bent, the arms swinging.
NAMED_POSES: dict[str, dict[str, tuple[float, float, float]]] = {
    "arms_down": {"upperarm01.L": (0.0, 20.0, 0.0), "upperarm01.R": (0.0, -20.0, 0.0)},
    "walking": {
        "upperleg01.L": (-18.0, 0.0, 0.0),
        "upperleg01.R": (14.0, 0.0, 0.0),
        "lowerleg01.R": (25.0, 0.0, 0.0),
        "upperarm01.L": (12.0, 20.0, 0.0),
        "upperarm01.R": (-12.0, -20.0, 0.0),
    },
}


def pose_named(body: Body, name: str) -> Body:
    """``body`` standing in one of ``NAMED_POSES`` (anny only; see ``pose_body``).

    Raises:
        ValueError: an unknown pose name, or a body that is not anny's.
    """
    if name not in NAMED_POSES:
        raise ValueError(f"unknown pose {name!r}; expected one of {sorted(NAMED_POSES)}")
    names = list(body.joint_names)
    pose = np.zeros((len(names), 3))
    for bone, degrees in NAMED_POSES[name].items():
        pose[names.index(bone)] = np.radians(degrees)
    return pose_body(body, pose)


def pose_body(body: Body, pose: np.ndarray) -> Body:
    """The same body standing in another pose (anny only).

    Args:
        body: a Body (its ``rest_vertices`` / ``rest_joints`` are kept).
        pose: (J, 3) axis-angle per bone [rad], each bone turning about its rest head with the
            axis in the canonical frame (``bodyfit._anny_pose``); all zeros is the A-pose.

    Returns:
        A Body with posed ``vertices``, ``joints`` and ``pose``; lowest vertex on z = 0.
    """
    if body.model != "anny":  # checked first: resolving SMPL-X would look for its licensed files
        raise ValueError(f"posed bodies are supported for the anny model only, got {body.model!r}")
    vertices, joints, pose = _pose_rest(
        _resolve_backend("anny", None), body.rest_vertices, body.rest_joints, pose
    )
    return body.with_pose(vertices, joints, pose)


def _pose_rest(
    backend: BodyModel, rest_vertices: np.ndarray, rest_joints: np.ndarray, pose: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(posed vertices, posed joints, pose (J, 3)) of a rest mesh; anny only
    (``bodyfit._anny_pose``)."""
    pose = np.asarray(pose, dtype=np.float64)
    joint_count = len(backend.joint_names)
    if pose.shape != (joint_count, 3):
        raise ValueError(
            f"pose must have shape ({joint_count}, 3) for the {backend.name} model, "
            f"got {pose.shape}"
        )
    if backend.name != "anny":
        raise ValueError(
            f"posed bodies are supported for the anny model only, got {backend.name!r}"
        )
    from tryon3d.bodyfit._anny_pose import pose_anny_vertices

    # the name check above: this backend is anny's
    anny = cast("AnnyModel", backend)
    vertices, joints = pose_anny_vertices(anny, rest_vertices, rest_joints, pose)
    return vertices, joints, pose


def _assemble_body(
    backend: BodyModel,
    result: FitResult,
    *,
    sex: Sex,
    age_years: float,
    inputs: Mapping,
    height_ratios: Mapping,
    posed: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Body:
    joint_count = len(backend.joint_names)
    posed_vertices, posed_joints, pose = (
        posed if posed is not None else (result.vertices, result.joints, np.zeros((joint_count, 3)))
    )
    return Body(
        vertices=posed_vertices,
        faces=backend.faces,
        uv=backend.uv,
        uv_faces=backend.uv_faces,
        rest_vertices=result.vertices,
        joints=posed_joints,
        rest_joints=result.joints,
        joint_names=backend.joint_names,
        joint_parents=backend.joint_parents,
        vertex_regions=backend.vertex_regions,
        pose=pose,
        shape_parameters=backend.shape_parameters(result.parameters, sex=sex, age_years=age_years),
        measurements_m=result.measurements_m,
        landmarks_m=result.landmarks_m,
        weight_kg=result.weight_kg,
        model=backend.name,
        inputs={
            **dict(inputs),
            "sex": sex,
            "age_years_used": age_years,
            "height_ratios": dict(height_ratios),
        },
    )
