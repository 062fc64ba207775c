"""SMPL-X bodies get anny's whole-body fit and tape (on the synthetic SMPL-X model of the tests:
the licensed files are not ours to ship; see ``synthetic_smplx``)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from synthetic_smplx import write_synthetic_smplx

from tryon3d import bodyfit
from tryon3d.bodyfit import _measurements
from tryon3d.bodyfit._measurements import rebuild_body
from tryon3d.bodyfit._population import load_population_model
from tryon3d.bodyfit._shape_prior import load_measurement_prior
from tryon3d.bodyfit._smplx_model import SMPLX_TO_ENGINE, load_smplx_model
from tryon3d.cli import main

# A man whose girths the population would not guess from his height and weight (hips 10 cm over
# the prediction): the fit can only reach them by following what it is given.
_TRUE_BETAS = (0.8, 0.5, -0.6, 1.0, -0.7, 0.9, 0.4, -0.5, 0.6, 0.3)
_AGE = 30.0
_GIVEN_TAPE = ("thigh", "neck", "calf", "biceps")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smplx")
    write_synthetic_smplx(folder)
    return folder


@pytest.fixture(scope="module")
def full_model_dir(tmp_path_factory):
    """The synthetic model in SMPL-X 1.1's layout: 300 shape components, 16 of them fitted."""
    folder = tmp_path_factory.mktemp("smplx_full")
    write_synthetic_smplx(folder, full_components=True)
    return folder


@pytest.fixture(scope="module")
def truth(model_dir) -> bodyfit.Body:
    """The synthetic model's body for ``_TRUE_BETAS``, read with the population's landmark
    heights for its own stature and mass (as a fit for his measurements reads its body)."""
    betas = {f"beta_{i}": value for i, value in enumerate(_TRUE_BETAS)}
    first = rebuild_body(
        model="smplx", shape_parameters=betas, sex="male", age_years=_AGE, smplx_model_dir=model_dir
    )
    predicted = load_population_model().predict(
        height_m=first.measurements_m["stature"],
        weight_kg=first.weight_kg,
        sex="male",
        age_years=_AGE,
    )
    ratios = {k: v for k, v in predicted.items() if k.endswith("_height_ratio")}
    return rebuild_body(
        model="smplx",
        shape_parameters=betas,
        sex="male",
        age_years=_AGE,
        height_ratios=ratios,
        smplx_model_dir=model_dir,
    )


class _Captured(Exception):
    pass


def test_smplx_is_fitted_to_the_same_targets_as_anny(model_dir, monkeypatch) -> None:
    """One build path: the same stature, mass, girth and whole-body prior targets with the same
    weights, the same landmark heights, for either model."""
    calls: list[dict] = []

    def capture(model, targets, **options):
        calls.append({"model": model.name, "targets": dict(targets), **options})
        raise _Captured

    monkeypatch.setattr(_measurements, "fit_shape", capture)
    inputs = dict(height_m=1.76, weight_kg=74.0, sex="male", waist_m=0.86, tape_m={"calf": 0.38})
    for model in ("anny", "smplx"):
        with pytest.raises(_Captured):
            bodyfit.body_from_measurements(**inputs, model=model, smplx_model_dir=model_dir)
    anny, smplx = calls
    assert (anny["model"], smplx["model"]) == ("anny", "smplx")
    prior_names = set(load_measurement_prior().measurement_names) - set(
        _measurements._PRIOR_SKIPPED
    )
    assert prior_names <= set(smplx["targets"])  # the whole predicted ANSUR vector ...
    assert smplx["targets"] == anny["targets"]  # ... with the same values and weights
    assert smplx["targets"]["calf"].weight > 5 * smplx["targets"]["thigh"].weight  # a given one
    for key in ("height_ratios", "sex", "age_years", "max_iterations"):
        assert smplx[key] == anny[key], key


def test_smplx_fit_reaches_given_girths(truth, model_dir) -> None:
    m = truth.measurements_m
    tape = {name: m[name] for name in _GIVEN_TAPE}
    body = bodyfit.body_from_measurements(
        height_m=m["stature"],
        weight_kg=truth.weight_kg,
        sex="male",
        age_years=_AGE,
        chest_m=m["chest"],
        waist_m=m["waist"],
        hips_m=m["hips"],
        tape_m=tape,
        model="smplx",
        smplx_model_dir=model_dir,
    )
    assert body.model == "smplx"
    for name in ("stature", "chest", "waist", "hips", *_GIVEN_TAPE):
        error_cm = (body.measurements_m[name] - m[name]) * 100
        assert abs(error_cm) < 0.5, f"{name} {error_cm:+.2f} cm off"
    assert abs(body.weight_kg - truth.weight_kg) < 1.0
    # His hips are not what the population expects: reached by following the input, not a guess.
    guess = load_population_model().predict(
        height_m=m["stature"], weight_kg=truth.weight_kg, sex="male", age_years=_AGE
    )
    assert abs(guess["hips"] - m["hips"]) > 0.05
    # The body's tape is the tape any reader of the body runs: the same numbers again.
    again = bodyfit.measure_body(body).measurements_m
    assert max(abs(again[name] - body.measurements_m[name]) for name in again) < 1e-9


def _prior_rms_z(body: bodyfit.Body, **inputs) -> float:
    """Root mean square, over the prior's measurements the fit targets, of (measured -
    predicted) / conditional standard deviation."""
    predicted = load_measurement_prior().predict(given_m={}, **inputs)
    z = [
        (body.measurements_m[name] + _measurements._FLEXED_TO_RELAXED_M.get(name, 0.0) - mean) / std
        for name, (mean, std) in predicted.items()
        if name not in _measurements._PRIOR_SKIPPED
    ]
    return float(np.sqrt(np.mean(np.square(z))))


def test_smplx_fit_follows_the_whole_body_prior(model_dir, full_model_dir, monkeypatch) -> None:
    """From height, weight and sex alone the prior steers the betas: the body is nearer the
    predicted ANSUR vector than one fitted to stature, mass and the three girths only. Ten
    betas cannot meet twenty-odd measurements (the synthetic model's first ten have no arm
    length, forearm or knee direction): the sixteen of a file in SMPL-X 1.1's layout, which
    has them, come nearer."""
    inputs = dict(height_m=1.64, weight_kg=60.0, sex="female", age_years=None)
    kwargs = dict(model="smplx", smplx_model_dir=model_dir)
    fitted = bodyfit.body_from_measurements(**inputs, **kwargs)
    with monkeypatch.context() as patch:
        patch.setattr(_measurements, "_prior_targets", lambda *args, **kw: {})
        without = bodyfit.body_from_measurements(**inputs, **kwargs)
    for body in (fitted, without):
        assert abs(body.measurements_m["stature"] - 1.64) < 0.005
        assert abs(body.weight_kg - 60.0) < 1.0
    with_prior, without_prior = _prior_rms_z(fitted, **inputs), _prior_rms_z(without, **inputs)
    assert with_prior < without_prior - 0.15, (with_prior, without_prior)
    assert with_prior < 1.5
    full = bodyfit.body_from_measurements(**inputs, model="smplx", smplx_model_dir=full_model_dir)
    assert len(full.shape_parameters) == 16
    assert abs(full.measurements_m["stature"] - 1.64) < 0.005
    assert _prior_rms_z(full, **inputs) < with_prior - 0.3, (
        _prior_rms_z(full, **inputs),
        with_prior,
    )


def test_smplx_record_between_model_files(truth, model_dir, full_model_dir) -> None:
    """A body built on SMPL-X 1.0's ten betas is the same body on 1.1's files (its other betas
    were 0); one using more betas than the files offer is refused, not cut short."""
    parameters = dict(truth.shape_parameters)
    ratios = truth.inputs["height_ratios"]
    common = dict(model="smplx", sex="male", age_years=_AGE, height_ratios=ratios)
    again = rebuild_body(shape_parameters=parameters, smplx_model_dir=full_model_dir, **common)
    assert np.abs(again.rest_vertices - truth.rest_vertices).max() < 1e-6
    assert again.shape_parameters["beta_15"] == 0.0
    with pytest.raises(ValueError, match=r"betas \['beta_12'\] that these SMPL-X model files"):
        rebuild_body(
            shape_parameters={**parameters, "beta_12": 0.5}, smplx_model_dir=model_dir, **common
        )


def test_smplx_tape_reads_the_same_body_anywhere(truth, model_dir) -> None:
    """An SMPL-X mesh in its own frame, turned about its vertical, mirrored and moved."""
    model = load_smplx_model(model_dir)
    own = truth.rest_vertices @ SMPLX_TO_ENGINE  # engine -> SMPL-X frame (y-up, facing +z)
    # (the synthetic model has anny's mesh: named, not recognised by its vertex count)
    options = dict(smplx_model_dir=model_dir, model="smplx")
    base = bodyfit.measure_mesh(own, model.faces, **options).measurements_m
    angle = np.radians(127.0)
    turn = np.array(
        [[np.cos(angle), 0.0, np.sin(angle)], [0.0, 1.0, 0.0], [-np.sin(angle), 0.0, np.cos(angle)]]
    )
    mirror = np.diag([-1.0, 1.0, 1.0])
    cases = {
        "moved": (np.eye(3), np.array([1.3, 0.25, -0.7])),
        "turned": (turn, np.zeros(3)),
        "mirrored": (mirror, np.zeros(3)),
        "mirrored, turned, moved": (turn @ mirror, np.array([-2.0, -0.1, 0.4])),
    }
    for label, (rotation, shift) in cases.items():
        tape = bodyfit.measure_mesh(own @ rotation.T + shift, model.faces, **options)
        worst = max(abs(tape.measurements_m[name] - base[name]) for name in base)
        assert worst < 1e-3, f"{label}: a reading moved by {worst * 1000:.2f} mm"
    # ... and it is the fit's own reading of the body.
    assert abs(base["hips"] - truth.measurements_m["hips"]) < 0.005


def test_cli_builds_and_measures_an_smplx_body(truth, model_dir, tmp_path) -> None:
    m = {name: value * 100 for name, value in truth.measurements_m.items()}
    out = tmp_path / "body"
    argv = ["body", "--height", f"{m['stature']:.2f}", "--weight", f"{truth.weight_kg:.2f}"]
    argv += ["--sex", "male", "--chest", f"{m['chest']:.2f}", "--hips", f"{m['hips']:.2f}"]
    argv += ["--model", "smplx", "--smplx-model-dir", str(model_dir), "-o", str(out)]
    assert main(argv) == 0
    built = json.loads((out / "body.json").read_text())
    assert built["model"] == "smplx" and len(built["parameters"]) == 10
    for name in ("chest", "hips"):
        assert abs(built["measurements_cm"][name] - m[name]) < 0.5, name
    # ``measure`` rebuilds it from the record with the same model files: the same tape.
    measured_dir = tmp_path / "tape"
    argv = ["measure", str(out / "body.json"), "--smplx-model-dir", str(model_dir)]
    assert main([*argv, "-o", str(measured_dir)]) == 0
    measured = json.loads((measured_dir / "measurements.json").read_text())["measurements_cm"]
    assert abs(measured["hips"] - built["measurements_cm"]["hips"]) < 0.01


def test_smplx_sexes_files_with_different_beta_counts(tmp_path, model_dir, full_model_dir) -> None:
    """A 1.0 neutral file beside a 1.1 male one: ten betas for both, the male's others at 0."""
    shutil.copy(model_dir / "SMPLX_NEUTRAL.npz", tmp_path / "SMPLX_NEUTRAL.npz")
    shutil.copy(full_model_dir / "SMPLX_NEUTRAL.npz", tmp_path / "SMPLX_MALE.npz")
    mixed = load_smplx_model(tmp_path)
    assert len(mixed.parameter_names) == 10
    betas = np.array(_TRUE_BETAS)[None]
    male, _ = mixed.rest_geometry(betas, sex="male", age_years=_AGE)
    full = load_smplx_model(full_model_dir)
    padded = np.concatenate([betas, np.zeros((1, 6))], axis=1)
    expected, _ = full.rest_geometry(padded, sex="male", age_years=_AGE)
    assert np.abs(male - expected).max() < 1e-6
