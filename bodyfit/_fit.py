"""Shape fitting: find body-model parameters whose tape measurements hit given targets.

A bounded Gauss-Newton loop with a trust region on about twenty parameters. One batched
finite-difference Jacobian is taken at the start (the models are piecewise linear in their
sliders, so a difference step straddling a kink still gives a useful slope); each step solves
the box-bounded linear least-squares problem and then corrects the Jacobian by Broyden's
rank-one update from what the step really did, so a step costs one tape reading, not P. The
problem is close to linear, so a few steps suffice; a fresh Jacobian is taken only when the
updated one keeps failing.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from scipy.optimize import lsq_linear

from tryon3d.bodyfit._body import BodyModelName, Sex
from tryon3d.bodyfit._tape import TapeTopology, measure, mesh_volume
from tryon3d.core import data_file

#: Whole-body density [kg/m^3] including the air in the lungs, as used to turn 3D body-scan
#: volumes into mass; the fallback when the calibration table is missing.
BODY_DENSITY_KG_M3 = 985.0

_FD_STEP = 0.01
_TRUST_RADIUS = 0.5  # largest change of any slider in one Gauss-Newton step
_MIN_TRUST_RADIUS = 1e-3
_MIN_RELATIVE_GAIN = 0.02  # stop once an iteration lowers the cost by less than this fraction
_SETTLED_GAIN = 0.1  # soft targets have settled once a step removes less than this of the cost
_REFRESH_AFTER_REJECTS = 2  # a fresh Jacobian once the updated one fails this many steps in a row
_CM = 100.0


class BodyModel(Protocol):
    """What a body-model backend offers the fitter (anny, SMPL-X)."""

    # read-only members: the backends are frozen dataclasses
    @property
    def name(self) -> BodyModelName: ...
    @property
    def faces(self) -> np.ndarray: ...
    @property
    def uv(self) -> np.ndarray: ...
    @property
    def uv_faces(self) -> np.ndarray: ...
    @property
    def joint_names(self) -> tuple[str, ...]: ...
    @property
    def joint_parents(self) -> np.ndarray: ...
    @property
    def vertex_regions(self) -> np.ndarray: ...
    @property
    def parameter_names(self) -> tuple[str, ...]: ...
    @property
    def parameter_bounds(self) -> np.ndarray: ...
    @property
    def tape_topology(self) -> TapeTopology: ...

    def initial_parameters(
        self, *, height_m: float, bmi: float, sex: Sex | None = None
    ) -> np.ndarray: ...

    def rest_geometry(
        self, parameters: np.ndarray, *, sex: Sex, age_years: float
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def skeleton(self, joints: np.ndarray) -> dict[str, np.ndarray]: ...

    def shape_parameters(
        self, parameters: np.ndarray, *, sex: Sex, age_years: float
    ) -> dict[str, float]: ...


@dataclass(frozen=True)
class FitTarget:
    """One measured quantity to match: ``value`` in metres (kg for ``weight_kg``), with its weight.

    ``weight`` scales the residual in cm (kg for mass): 1.0 means one cm off costs as much as one
    kg off. ``hard`` targets must be met within the tolerance for the fit to stop early; soft
    ones (population guesses of secondary girths) only steer the shape.
    """

    value: float
    weight: float
    hard: bool = True


@dataclass(frozen=True)
class FitResult:
    """Outcome of ``fit_shape``.

    Attributes:
        parameters: (P,) fitted parameter vector.
        vertices: (V, 3) canonical-pose vertices [m].
        joints: (J, 3) canonical-pose joints [m].
        measurements_m: tape measurements [m].
        landmarks_m: tape landmarks [m].
        weight_kg: mesh volume times the effective body density [kg].
        iterations: Gauss-Newton iterations used.
        max_error: largest |measured - target| over the hard targets [m] (kg for mass, /100).
    """

    parameters: np.ndarray
    vertices: np.ndarray
    joints: np.ndarray
    measurements_m: dict[str, float]
    landmarks_m: dict[str, np.ndarray]
    weight_kg: float
    iterations: int
    max_error: float


@functools.lru_cache(maxsize=1)
def _density_table() -> dict[str, float]:
    """Effective density [kg/m^3] per sex, calibrated on ANSUR II (scripts/calibrate_density.py)."""
    path = Path(__file__).resolve().parents[1] / "data" / "body_density.json"
    try:
        resource = data_file("body_density.json")
        text = resource.read_text()
    except (ModuleNotFoundError, FileNotFoundError):
        text = path.read_text() if path.exists() else "{}"
    table = json.loads(text).get("sexes", {})
    return {sex: float(entry["density_kg_m3"]) for sex, entry in table.items()}


def body_mass_kg(vertices: np.ndarray, faces: np.ndarray, *, sex: Sex) -> np.ndarray:
    """Body mass [kg] = mesh volume x the sex's calibrated effective density.

    Args:
        vertices: (V, 3) or (B, V, 3) positions [m] of a closed body mesh.
        faces: (F, 3) triangles.
        sex: ``"male"`` or ``"female"``.

    Returns:
        Mass, shape () or (B,).
    """
    density = _density_table().get(sex, BODY_DENSITY_KG_M3)
    return mesh_volume(vertices, faces) * density


def _evaluate(model, topology, parameters, *, sex, age_years, height_ratios, level_hints=None):
    vertices, joints = model.rest_geometry(parameters, sex=sex, age_years=age_years)
    masses = body_mass_kg(vertices, model.faces, sex=sex)
    results = []
    for index in range(len(vertices)):
        levels: dict[str, int] = {}
        measurements, landmarks = measure(
            vertices[index],
            model.vertex_regions,
            model.skeleton(joints[index]),
            topology,
            height_ratios=height_ratios,
            level_hints=level_hints,
            levels_found=levels,
        )
        measurements["weight_kg"] = float(masses[index])
        results.append((vertices[index], joints[index], measurements, landmarks, levels))
    return results


def _residuals(measurements: Mapping[str, float], targets: Mapping[str, FitTarget]) -> np.ndarray:
    scale = {"weight_kg": 1.0}
    return np.array(
        [
            t.weight * (measurements[name] - t.value) * scale.get(name, _CM)
            for name, t in targets.items()
        ]
    )


def fit_shape(
    model: BodyModel,
    targets: Mapping[str, FitTarget],
    *,
    sex: Sex,
    age_years: float,
    height_ratios: Mapping[str, float] | None = None,
    prior_weight: float = 0.05,
    max_iterations: int = 10,
    tolerance_cm: float = 0.2,
    update_jacobian: bool | None = None,
    start: np.ndarray | None = None,
) -> FitResult:
    """Fit the model's shape parameters so its measurements meet ``targets``.

    Args:
        model: the body-model backend.
        targets: measurement name (a tape measurement or ``"weight_kg"``) to target; ``stature``
            should be among them.
        sex: ``"male"`` or ``"female"``.
        age_years: age [years].
        height_ratios: landmark height ratios for the tape (see ``bodyfit._tape``).
        prior_weight: pull of each parameter towards its start (keeps unconstrained sliders put).
        max_iterations: Gauss-Newton step budget (each step costs one tape reading; a
            Jacobian, P readings, is taken at the start and after repeated failed steps).
        tolerance_cm: stop once every target is met within this (cm, or kg for mass).
        update_jacobian: update the Jacobian by Broyden's rule between steps (True) or take a
            fresh one every step (False); by default True for anny, whose sliders act locally
            and nearly linearly, False for SMPL-X, whose few global betas the update follows
            poorly.
        start: (P,) parameters to start from and to pull towards (None: the model's generic
            guess for the stature and mass), e.g. a photo's fit to be corrected.

    Returns:
        The fitted FitResult.
    """
    if "stature" not in targets:
        raise ValueError("fit_shape needs a 'stature' target")
    stature = targets["stature"].value
    mass = targets["weight_kg"].value if "weight_kg" in targets else 22.0 * stature**2
    lower, upper = model.parameter_bounds[:, 0], model.parameter_bounds[:, 1]
    if start is None:
        start = model.initial_parameters(height_m=stature, bmi=mass / stature**2, sex=sex)
    else:
        start = np.asarray(start, np.float64)
        if start.shape != lower.shape:
            raise ValueError(f"start must have shape {lower.shape}, got {start.shape}")
        start = np.clip(start, lower, upper)
    topology = model.tape_topology
    kwargs = dict(sex=sex, age_years=age_years, height_ratios=height_ratios)

    def stacked_residual(measurements, parameters):
        return np.concatenate(
            [_residuals(measurements, targets), prior_weight * (parameters - start)]
        )

    def jacobian_at(parameters, base_residual, best):
        steps = np.where(parameters + _FD_STEP <= upper, _FD_STEP, -_FD_STEP)
        probes = parameters[None] + np.diag(steps)
        # Probes read only the levels next to the current chest/underbust/hip levels: the
        # girths are extrema over levels, and a small probe moves the extremum one level at most.
        evaluated = _evaluate(model, topology, probes, level_hints=best[4], **kwargs)
        columns = [
            (stacked_residual(e[2], probes[i]) - base_residual) / steps[i]
            for i, e in enumerate(evaluated)
        ]
        return np.stack(columns, axis=1)

    if update_jacobian is None:
        update_jacobian = model.name == "anny"
    hard = np.array([t.hard for t in targets.values()])
    weights = np.array([t.weight for t in targets.values()])
    parameters = start.copy()
    best = _evaluate(model, topology, parameters[None], **kwargs)[0]
    residual = stacked_residual(best[2], parameters)
    cost = float(residual @ residual)
    radius = _TRUST_RADIUS
    iterations = 0
    jacobian: np.ndarray | None = None
    rejected = 0
    last_gain = 1.0  # fraction of the cost the last accepted step removed
    while iterations < max_iterations:
        errors = np.abs(_residuals(best[2], targets) / weights)
        # Met hard targets stop the fit only once the soft ones (the whole-body prior's lengths
        # and girths) have settled too: a good start meets the hard ones in a step or two.
        met = errors[hard].max() < tolerance_cm
        if met and (last_gain < _SETTLED_GAIN or rejected >= _REFRESH_AFTER_REJECTS):
            break  # (a fresh Jacobian is worth its P readings only for unmet hard targets)
        iterations += 1
        fresh = jacobian is None or rejected >= _REFRESH_AFTER_REJECTS or not update_jacobian
        if fresh:
            # One finite-difference Jacobian (P tape readings); later steps update it by
            # Broyden's rank-one rule from each step taken, which costs one reading per step.
            jacobian = jacobian_at(parameters, residual, best)
            if rejected and update_jacobian:
                # the failures were the updated Jacobian's: a fresh one earns the radius back
                radius = _TRUST_RADIUS
            rejected = 0
        # Gauss-Newton step inside the box bounds and a trust region around the current point.
        step_lower = np.maximum(lower - parameters, -radius)
        step_upper = np.minimum(upper - parameters, radius)
        step = lsq_linear(jacobian, -residual, bounds=(step_lower, step_upper + 1e-12)).x
        candidate = np.clip(parameters + step, lower, upper)
        step = candidate - parameters
        evaluated = _evaluate(model, topology, candidate[None], **kwargs)[0]
        candidate_residual = stacked_residual(evaluated[2], candidate)
        candidate_cost = float(candidate_residual @ candidate_residual)
        length_sq = float(step @ step)
        if length_sq > 1e-16:
            jacobian = jacobian + np.outer(
                candidate_residual - residual - jacobian @ step, step / length_sq
            )
        if candidate_cost < cost:
            gain = cost - candidate_cost
            last_gain = gain / cost
            parameters, residual, cost, best = (
                candidate,
                candidate_residual,
                candidate_cost,
                evaluated,
            )
            radius = min(radius * 1.5, _TRUST_RADIUS)
            rejected = 0
            if last_gain <= _MIN_RELATIVE_GAIN:
                if fresh:
                    break
                rejected = _REFRESH_AFTER_REJECTS  # stalled on an updated Jacobian: a fresh one
        else:
            radius *= 0.35
            rejected += 1
            if radius < _MIN_TRUST_RADIUS:
                break
    vertices, joints, measurements, landmarks, _ = best
    errors = (_residuals(measurements, targets) / weights)[hard]
    weight_kg = measurements.pop("weight_kg")
    return FitResult(
        parameters=parameters,
        vertices=vertices,
        joints=joints,
        measurements_m=measurements,
        landmarks_m=landmarks,
        weight_kg=weight_kg,
        iterations=iterations,
        max_error=float(np.abs(errors).max() / _CM),
    )
