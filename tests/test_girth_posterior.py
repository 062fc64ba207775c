"""Each girth as a posterior: the population prior weighed against the photo's reading."""

from __future__ import annotations

import numpy as np
import pytest

from tryon3d.bodyfit._girth_posterior import (
    GIRTHS,
    MODES,
    PhotoGirthError,
    girth_evidence,
    girth_posterior,
    girth_prior,
    load_photo_girth_error,
)
from tryon3d.bodyfit._shape_prior import load_measurement_prior

# A reading error model like the shipped one's shape: skin is sure, fitted cloth stands off a
# little, loose cloth a lot and unsurely.
_STATE_ERRORS = {"skin": (0.0, 0.015), "fitted": (0.02, 0.025), "loose": (0.10, 0.06)}
ERROR = PhotoGirthError(
    slope={(g, s): 1.0 for g in GIRTHS for s in _STATE_ERRORS},
    offset_m={(g, s): b for g in GIRTHS for s, (b, _) in _STATE_ERRORS.items()},
    std_m={(g, s): d for g in GIRTHS for s, (_, d) in _STATE_ERRORS.items()},
    floor_m=dict.fromkeys(GIRTHS, 0.01),
    loose_probability=0.5,
)


def test_conditional_matches_predict_and_height_alone_is_wider():
    prior = load_measurement_prior()
    assert prior is not None
    predicted = prior.predict(height_m=1.78, weight_kg=80.0, sex="male")
    mean, cov = prior.conditional(
        {"stature": 1.78, "weight_kg": 80.0, "bmi": 80.0 / 1.78**2}, GIRTHS, sex="male"
    )
    for i, girth in enumerate(GIRTHS):
        assert mean[i] == pytest.approx(predicted[girth][0], abs=1e-9)
        assert np.sqrt(cov[i, i]) == pytest.approx(predicted[girth][1], abs=1e-9)
    _, wide = girth_prior(height_m=1.78, weight_kg=None, sex="male")
    # without the weight the girths are 2-3 times less sure, and move together
    assert np.all(np.sqrt(np.diag(wide)) > 1.8 * np.sqrt(np.diag(cov)))
    assert wide[0, 1] / np.sqrt(wide[0, 0] * wide[1, 1]) > 0.7
    with pytest.raises(ValueError, match="unknown variables"):
        prior.conditional({"stature": 1.78}, ("chest", "shoe_size"), sex="male")


def test_skin_readings_are_kept_and_sure():
    mean, cov = girth_prior(height_m=1.70, weight_kg=None, sex="female")
    reading = {"chest": 0.90, "waist": 0.76, "hips": 0.98}
    post = girth_posterior(
        reading, dict.fromkeys(GIRTHS, "skin"), prior_mean=mean, prior_cov=cov, error=ERROR
    )
    for girth in GIRTHS:
        assert abs(post.mean_m[girth] - reading[girth]) < 0.006
        assert post.std_m[girth] < 0.016
        assert post.sources[girth] == "photo"
        assert post.loose_probability[girth] == 0.0


def test_a_tee_hanging_straight_reads_as_loose_and_falls_back_towards_the_prior():
    """A slim man in a loose tee: the waist reads as wide as the chest, which an ANSUR body in
    fitted cloth rarely is; the waist is judged loose and its girth comes from the prior, cut
    below the outline."""
    mean, cov = girth_prior(height_m=1.78, weight_kg=None, sex="male")
    reading = {"chest": 1.00, "waist": 1.06, "hips": 0.98}
    evidence = {"chest": "cloth", "waist": "cloth", "hips": "cloth"}
    post = girth_posterior(reading, evidence, prior_mean=mean, prior_cov=cov, error=ERROR)
    assert post.loose_probability["waist"] > 0.7
    assert post.mean_m["waist"] < reading["waist"] - 0.05
    assert post.mean_m["waist"] < reading["chest"]
    assert post.std_m["waist"] > 0.03  # the photo could not tell it well
    fitted_waist = girth_posterior(
        {**reading, "waist": 0.86}, evidence, prior_mean=mean, prior_cov=cov, error=ERROR
    )
    assert fitted_waist.loose_probability["waist"] < 0.5
    assert abs(fitted_waist.mean_m["waist"] - (0.86 - 0.02)) < 0.02


def test_hidden_girth_far_inside_the_outline_is_the_prior_s():
    """A long coat far wider than any body: the girth is the population prior's."""
    mean, cov = girth_prior(height_m=1.65, weight_kg=60.0, sex="female")
    reading = {g: float(m) + 0.40 for g, m in zip(GIRTHS, mean, strict=True)}
    post = girth_posterior(
        reading, dict.fromkeys(GIRTHS, "hidden"), prior_mean=mean, prior_cov=cov, error=ERROR
    )
    for i, girth in enumerate(GIRTHS):
        assert post.loose_probability[girth] > 0.99
        assert abs(post.mean_m[girth] - mean[i]) < 0.25 * np.sqrt(cov[i, i]) + 0.01
    assert "photo" not in post.sources.values()


def test_a_loose_reading_bounds_the_girth():
    mean, cov = girth_prior(height_m=1.80, weight_kg=None, sex="male")
    # an outline narrower than the prior's mean, the cloth hidden: the girth stays under it
    reading = {g: float(m) - 0.08 for g, m in zip(GIRTHS, mean, strict=True)}
    post = girth_posterior(
        reading, dict.fromkeys(GIRTHS, "hidden"), prior_mean=mean, prior_cov=cov, error=ERROR
    )
    for girth in GIRTHS:
        assert post.mean_m[girth] < reading[girth]


def test_posterior_beats_the_prior_and_the_reading_on_simulated_photos():
    """Simulated from the model itself (seeded): girths from the prior, cloth fitted or loose
    at random, readings with the state's bias and noise. The posterior mean's error must be
    below both the prior mean's and the bias-corrected reading's."""
    rng = np.random.default_rng(3)
    mean, cov = girth_prior(height_m=1.75, weight_kg=None, sex="male")
    chol = np.linalg.cholesky(cov)
    errors = {"posterior": [], "prior": [], "reading": []}
    for _ in range(200):
        truth = mean + chol @ rng.normal(size=3)
        loose = rng.random(3) < 0.5
        bias = np.where(loose, 0.10, 0.02)
        noise = np.where(loose, 0.06, 0.025) * rng.normal(size=3)
        stand_off = bias + noise
        reading = truth + np.where(loose, np.maximum(stand_off, 0.01), stand_off)
        post = girth_posterior(
            dict(zip(GIRTHS, reading, strict=True)),
            dict.fromkeys(GIRTHS, "cloth"),
            prior_mean=mean,
            prior_cov=cov,
            error=ERROR,
        )
        errors["posterior"].append(np.array([post.mean_m[g] for g in GIRTHS]) - truth)
        errors["prior"].append(mean - truth)
        errors["reading"].append(reading - 0.06 - truth)  # the mean stand-off removed
    mae = {k: float(np.abs(np.array(v)).mean()) for k, v in errors.items()}
    assert mae["posterior"] < 0.8 * mae["prior"]
    assert mae["posterior"] < 0.8 * mae["reading"]


def test_evidence_from_the_clothed_coverage():
    coverage = {
        "front": {
            "chest": {"skin": 0.9, "cloth": 0.1, "untelling": 0.0},
            "waist": {"skin": 0.1, "cloth": 0.9, "untelling": 0.8},
            "hips": {"skin": 0.0, "cloth": 1.0, "untelling": 0.0},
        },
        "side": {
            "chest": {"skin": 0.6, "cloth": 0.4, "untelling": 0.0},
            "waist": {"skin": 0.0, "cloth": 1.0, "untelling": 0.9},
            "hips": {"skin": 0.0, "cloth": 1.0, "untelling": 0.7},
        },
    }
    assert girth_evidence(coverage) == {"chest": "skin", "waist": "hidden", "hips": "cloth"}
    assert girth_evidence({}) == dict.fromkeys(GIRTHS, "cloth")


def test_bad_inputs_and_the_shipped_table():
    mean, cov = girth_prior(height_m=1.75, weight_kg=None, sex="male")
    with pytest.raises(ValueError, match="reading and evidence"):
        girth_posterior({"chest": 1.0}, {"chest": "skin"}, prior_mean=mean, prior_cov=cov)
    with pytest.raises(ValueError, match="evidence must be among"):
        girth_posterior(
            dict.fromkeys(GIRTHS, 1.0),
            dict.fromkeys(GIRTHS, "coat"),
            prior_mean=mean,
            prior_cov=cov,
        )
    with pytest.raises(ValueError, match="malformed photo girth error"):
        PhotoGirthError.from_dict({"girths": {}})
    with pytest.raises(ValueError, match="slope in"):
        PhotoGirthError(**{**ERROR.__dict__, "slope": {**ERROR.slope, ("chest", "skin"): -0.5}})
    with pytest.raises(ValueError, match="mode must be one of"):
        load_photo_girth_error("with_shoes")
    for mode in MODES:
        shipped = load_photo_girth_error(mode)
        for girth in GIRTHS:
            # per unit of reading, skin tells the girth most surely, cloth less
            for state in ("fitted", "loose"):
                slope = shipped.slope[(girth, state)]
                assert 0.0 <= slope <= 1.2
                assert shipped.std_m[(girth, "skin")] * slope < shipped.std_m[(girth, state)]


def test_a_reading_that_only_repeats_the_prior_leaves_it():
    """Slope 0 (what the calibration finds for clothed fits given the weight): the reading
    tells nothing beyond the prior, and the posterior is the prior whatever it reads."""
    flat = PhotoGirthError(
        **{
            **ERROR.__dict__,
            "slope": dict.fromkeys(ERROR.slope, 0.0),
            "floor_m": dict.fromkeys(GIRTHS, -1.0),
        }
    )
    mean, cov = girth_prior(height_m=1.70, weight_kg=65.0, sex="female")
    for shift in (-0.05, 0.0, 0.08):
        reading = {g: float(m) + shift for g, m in zip(GIRTHS, mean, strict=True)}
        post = girth_posterior(
            reading, dict.fromkeys(GIRTHS, "cloth"), prior_mean=mean, prior_cov=cov, error=flat
        )
        for i, girth in enumerate(GIRTHS):
            assert post.mean_m[girth] == pytest.approx(mean[i], abs=1e-6)
            assert post.std_m[girth] == pytest.approx(np.sqrt(cov[i, i]), rel=1e-6)
            assert post.sources[girth] == "prior"


def test_body_is_refitted_to_the_posterior_girths_from_its_own_shape():
    """The photo fit's last step: the fitted body reshaped to the posterior girths, starting
    from its own sliders; stature, mass (given), pose and the limb lengths stay."""
    from tryon3d.bodyfit import body_from_measurements
    from tryon3d.bodyfit._anny_model import load_anny_model
    from tryon3d.bodyfit._measurements import pose_body
    from tryon3d.bodyfit._photo_fit import _refit_to_girths

    model = load_anny_model()
    body = body_from_measurements(height_m=1.76, weight_kg=74.0, sex="male")
    pose = np.zeros((len(body.joint_names), 3))
    pose[body.joint_names.index("upperarm01.L"), 1] = 0.2
    posed = pose_body(body, pose)
    wanted = {
        "chest": body.measurements_m["chest"] - 0.04,
        "waist": body.measurements_m["waist"] - 0.03,
        "hips": body.measurements_m["hips"] + 0.02,
    }
    refit = _refit_to_girths(
        posed,
        wanted,
        model=model,
        height_m=1.76,
        weight_kg=None,
        sex="male",
        age_years=30.0,
        height_ratios={},
    )
    for girth, value in wanted.items():
        assert abs(refit.measurements_m[girth] - value) < 0.01, girth
    assert abs(refit.measurements_m["stature"] - 1.76) < 0.005
    np.testing.assert_allclose(refit.pose, posed.pose)
    for name in model.parameter_names:
        if name.endswith(("-length-incr", "-height-incr")):
            assert abs(refit.shape_parameters[name] - body.shape_parameters[name]) < 0.05
    # already there: the same body back
    same = {g: body.measurements_m[g] for g in GIRTHS}
    kept = _refit_to_girths(
        posed,
        same,
        model=model,
        height_m=1.76,
        weight_kg=None,
        sex="male",
        age_years=30.0,
        height_ratios={},
    )
    assert kept is posed
