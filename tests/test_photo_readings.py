"""What the outline tells besides the fitted girths: neck breadth, torso breadths and depths,
and the girth correction learnt from them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _render_scenes import over_gradient

from tryon3d.bodyfit._girth_posterior import (
    CORRECTION_FEATURES,
    GIRTHS,
    GirthCorrection,
    correction_features,
    girth_prior,
    load_girth_correction,
)
from tryon3d.bodyfit._photo import PhotoAnalysis
from tryon3d.bodyfit._photo_readings import (
    DEPTH_LEVELS,
    EAR_TO_EAR_STATURE,
    PROFILE_LEVELS,
    WIDTH_LEVELS,
    LostLegs,
    lost_legs,
    metres_per_pixel,
    neck_breadth_m,
    outline_readings,
    person_height_px,
    run_width_px,
    torso_breadths_m,
)

HEIGHT_M = 2.0  # 400 px tall person: 0.005 m/px


def _figure(*, torso_px: int = 80, neck_px: int = 24, legs: bool = True) -> PhotoAnalysis:
    """A stick person 400 px tall (rows 20-419) in a 480 x 300 image: a 40 px head, a neck
    ``neck_px`` wide from the mouth (row 60) to the shoulders (row 90), a torso ``torso_px``
    wide past the hip line (row 250) to the seat (row 300), two legs to the soles; keypoints
    where MediaPipe puts them (eyes row 40, ankles row 380: 0.85 of the stature below the
    eyes)."""
    mask = np.zeros((480, 300), np.float32)
    centre = 150
    mask[20:62, centre - 20 : centre + 20] = 1.0  # head
    mask[62:90, centre - neck_px // 2 : centre + neck_px // 2] = 1.0
    mask[90:300, centre - torso_px // 2 : centre + torso_px // 2] = 1.0
    if legs:
        mask[300:420, centre - 30 : centre - 6] = 1.0
        mask[300:420, centre + 6 : centre + 30] = 1.0
    keypoints = np.zeros((33, 2))
    keypoints[:, 0] = centre
    keypoints[[2, 5], 1] = 40
    keypoints[[0, 9, 10], 1] = (50, 60, 60)
    keypoints[[11, 12], 1] = 90
    keypoints[[11, 12], 0] = (centre + 35, centre - 35)
    keypoints[[23, 24], 1] = 250
    keypoints[[23, 24], 0] = (centre + 18, centre - 18)
    keypoints[[27, 28], 1] = 380
    return PhotoAnalysis(
        keypoints=keypoints,
        visibility=np.ones(33),
        mask=mask,
        scale=1.0,
        photo_size=(300, 480),
    )


def test_run_width_through_a_column_or_the_nearest_run():
    row = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0], bool)
    assert run_width_px(row, 2.0) == 3
    assert run_width_px(row, 5.4) == 2  # nearest True is column 6
    assert run_width_px(np.ones(5, bool), 0.0) == 5
    assert run_width_px(np.zeros(5, bool), 2.0) == 0


def test_breadths_in_metres_from_the_outline_height():
    figure = _figure()
    scale = metres_per_pixel(figure, HEIGHT_M)
    assert scale == pytest.approx(HEIGHT_M / 400, rel=1e-9)
    assert neck_breadth_m(figure, scale) == pytest.approx(0.12, abs=1e-9)
    widths = torso_breadths_m(figure, scale, (0.0, 0.5, 0.99))
    np.testing.assert_allclose(widths, 0.40, atol=1e-9)


def test_a_cut_outline_falls_back_to_the_keypoints_scale():
    """A person mask that lost the legs (against a background of their colour) is 230 px
    tall: read by its height the torso would come out 1.74x too wide; the eye-to-ankle
    keypoints keep the scale within the 0.85 stature ratio."""
    cut = _figure(legs=False)
    scale = metres_per_pixel(cut, HEIGHT_M)
    assert scale == pytest.approx(0.85 * HEIGHT_M / 340, rel=1e-9)
    assert torso_breadths_m(cut, scale, (0.5,))[0] == pytest.approx(0.40, abs=1e-9)


def _with_head(figure: PhotoAnalysis, *, height_px: float, ankles_seen: float) -> PhotoAnalysis:
    """``figure`` with its ears as far apart as a head on a person ``height_px`` tall, and
    both ankles seen with ``ankles_seen``."""
    from dataclasses import replace

    keypoints = figure.keypoints.copy()
    half = 0.5 * EAR_TO_EAR_STATURE * height_px
    keypoints[[7, 8], 0] = (150 + half, 150 - half)
    keypoints[[7, 8], 1] = 45
    visibility = figure.visibility.copy()
    visibility[[27, 28]] = ankles_seen
    return replace(figure, keypoints=keypoints, visibility=visibility)


def test_a_mask_that_lost_the_legs_is_scaled_by_the_head():
    """Legs against a background of their colour: the mask ends at the seat (row 299: 280 of
    the person's 400 px) and MediaPipe, not seeing the ankles, drew them up onto its lowest
    row. The outline would read the torso 1.43x too wide, the ankles 1.3x; the head (ears
    28 px apart: a 400 px person) keeps the scale, and the lost rows are named."""
    cut = _figure(legs=False)
    cut.keypoints[[27, 28], 1] = 299  # analyze_photo pulls unseen ankles onto the mask
    lost = _with_head(cut, height_px=400.0, ankles_seen=0.1)
    assert person_height_px(lost) == (pytest.approx(400.0), "head")
    scale = metres_per_pixel(lost, HEIGHT_M)
    assert scale == pytest.approx(HEIGHT_M / 400, rel=1e-9)
    assert torso_breadths_m(lost, scale, (0.5,))[0] == pytest.approx(0.40, abs=1e-9)
    assert lost_legs(lost) == LostLegs(
        height_px=pytest.approx(400.0),
        outline_px=280.0,
        cut_row=299,
        feet_row=420,
        scaled_by_head=True,
    )
    # the same head on the whole figure: its outline stands, nothing lost
    whole = _with_head(_figure(), height_px=410.0, ankles_seen=0.1)
    assert person_height_px(whole) == (400.0, "outline")
    assert lost_legs(whole) is None
    # a head 7.5 % taller: the legs may be lost (left free), but no finer ruler than the outline
    unsure = _with_head(_figure(), height_px=430.0, ankles_seen=0.1)
    assert person_height_px(unsure) == (400.0, "outline")
    assert lost_legs(unsure).scaled_by_head is False
    # ankles seen where the legs were lost: their keypoints keep the scale, as before
    seen = _with_head(_figure(legs=False), height_px=400.0, ankles_seen=0.9)
    assert person_height_px(seen) == (pytest.approx(400.0), "ankles")


def test_shoes_at_the_foot_outrank_the_head():
    """A maxi skirt hides the ankles and short hair over the ears widens the head (CCP 0010:
    the head said 12 % taller than the outline): with shoes seen on the outline's lowest rows
    (``PhotoAnalysis.feet_seen``) the mask reached the feet and its height stands; without,
    the head called the legs lost and freed them, and one walked out of the skirt."""
    from dataclasses import replace

    wide_head = _with_head(_figure(), height_px=450.0, ankles_seen=0.3)
    assert person_height_px(wide_head) == (pytest.approx(450.0), "head")
    assert lost_legs(wide_head) is not None
    shod = replace(wide_head, feet_seen=True)
    assert person_height_px(shod) == (400.0, "outline")
    assert lost_legs(shod) is None


def test_the_head_arbitrates_between_outline_and_ankles():
    """Outline (400 px) and ankles (eye to ankle 310 px: 365 px) 10 % apart: a head of a
    365 px person backs the ankles (an outline topped by a hand on the head), one of a 395 px
    person the outline (ankles drawn up by a mask that lost the shins, seen faintly)."""
    figure = _figure()
    figure.keypoints[[27, 28], 1] = 350
    by_ankles = _with_head(figure, height_px=365.0, ankles_seen=0.6)
    assert person_height_px(by_ankles) == (pytest.approx(310 / 0.85), "ankles")
    by_outline = _with_head(figure, height_px=395.0, ankles_seen=0.6)
    assert person_height_px(by_outline) == (400.0, "outline")


def test_hair_and_shoes_do_not_shrink_the_person():
    """A real person's outline holds hair over the skull and shoes under the feet: a bun of
    20 px over the head and soles of 20 px under the feet make the 400 px figure's outline
    440 px tall, and read by it the torso would come out 9 % narrower (0.364 m of 0.40).
    The ankles, seen clearly side by side, say 400 px: the outline may stand at most
    ``OUTLINE_EXCESS`` taller than they say. Seen faintly (a maxi skirt) or a stride apart,
    the head arbitrates as before (here it backs the outline)."""
    from dataclasses import replace

    from tryon3d.bodyfit._photo_readings import OUTLINE_EXCESS

    figure = replace(_figure(), stride=0.02)  # standing: the ankles side by side
    mask = figure.mask.copy()
    mask[0:20, 135:165] = 1.0  # the bun
    mask[420:440, 120:180] = 1.0  # the soles
    dressed = replace(figure, mask=mask)
    height, source = person_height_px(dressed)
    assert (height, source) == (pytest.approx(400.0 * (1.0 + OUTLINE_EXCESS)), "ankles")
    breadth = torso_breadths_m(dressed, metres_per_pixel(dressed, HEIGHT_M), (0.5,))[0]
    assert breadth == pytest.approx(0.40, rel=OUTLINE_EXCESS + 1e-9)
    assert breadth > 0.39
    # within the ankles' own spread the outline stays the finer ruler
    mask = figure.mask.copy()
    mask[14:20, 140:160] = 1.0  # 6 px of hair: 1.5 %
    assert person_height_px(replace(figure, mask=mask)) == (406.0, "outline")
    # ankles seen faintly: no clear ruler below the outline, which stands
    faint = _with_head(dressed, height_px=440.0, ankles_seen=0.6)
    assert person_height_px(faint) == (440.0, "outline")
    # a step towards the camera shortens the eye-to-ankle drop: no ruler of the height either
    walking = _with_head(replace(dressed, stride=0.3), height_px=440.0, ankles_seen=0.9)
    assert person_height_px(walking) == (440.0, "outline")


def test_a_side_view_takes_the_fronts_hair_and_shoes():
    """A side view's ankles stand one behind the other (one hidden): they cannot cap its
    outline, which holds the same bun and soles as the front's. The front measured them (its
    outline 440 px over the ankles' 407): the side's height is its outline less that, and its
    torso reads 0.40 m, not 0.37. A wrist over the shoulders (a hand on the head tops the
    outline, in the front only) measures nothing."""
    from dataclasses import replace

    from tryon3d.bodyfit._photo_readings import OUTLINE_EXCESS, outline_over_height

    figure = replace(_figure(), stride=0.02)
    figure.keypoints[[15, 16]] = ((200.0, 250.0), (100.0, 250.0))  # wrists at the hips
    mask = figure.mask.copy()
    mask[0:20, 135:165] = 1.0  # the bun
    mask[420:440, 120:180] = 1.0  # the soles
    front = replace(figure, mask=mask)
    excess = outline_over_height(front)
    assert excess == pytest.approx(440.0 / (400.0 * (1.0 + OUTLINE_EXCESS)))
    side = replace(front, visibility=np.where(np.arange(33) == 27, 0.2, 1.0))  # one ankle hid
    assert person_height_px(side) == (440.0, "outline")  # on its own: 9 % too tall
    told = replace(side, hair_and_shoes=excess)
    assert person_height_px(told) == (pytest.approx(400.0 * (1.0 + OUTLINE_EXCESS)), "front")
    assert outline_over_height(told) == pytest.approx(excess)  # its hair bounds the head too
    breadth = torso_breadths_m(told, metres_per_pixel(told, HEIGHT_M), (0.5,))[0]
    assert breadth == pytest.approx(0.40, rel=OUTLINE_EXCESS + 1e-9)
    hand_up = front.keypoints.copy()
    hand_up[15] = (190.0, 10.0)  # a wrist on the bun
    assert outline_over_height(replace(front, keypoints=hand_up)) == 1.0
    assert outline_over_height(figure) == 1.0  # no hair, no shoes


def test_outline_readings_name_every_level_and_view():
    figure = _figure(torso_px=60)
    readings = outline_readings({"front": figure, "side": figure}, HEIGHT_M)
    assert readings["neck_front"] == pytest.approx(0.12)
    assert readings["neck_side"] == pytest.approx(0.12)
    for level in WIDTH_LEVELS:
        assert readings[f"width_front_{round(100 * level)}"] == pytest.approx(0.30)
    for level in DEPTH_LEVELS:
        assert readings[f"depth_side_{round(100 * level)}"] == pytest.approx(0.30)
    # the profile: the neck above the shoulder line (level -0.1: row 74), the torso from it
    # to the seat (row 300: level 1.31), then one leg (24 px)
    profile = np.array([readings[f"profile_front_{i:02d}"] for i in range(len(PROFILE_LEVELS))])
    levels = np.array(PROFILE_LEVELS)
    np.testing.assert_allclose(profile[levels < 0], 0.12)
    np.testing.assert_allclose(profile[(levels >= 0) & (levels < 1.3)], 0.30)
    np.testing.assert_allclose(profile[levels > 1.35], 0.12)
    assert readings["torso_drop_side"] == pytest.approx(0.80)  # rows 90 -> 250
    assert readings["shoulder_span_front"] == pytest.approx(0.35)
    assert readings["hip_span_front"] == pytest.approx(0.18)
    assert set(readings) <= set(CORRECTION_FEATURES)
    front_only = outline_readings({"front": figure}, HEIGHT_M)
    assert not any("side" in name for name in front_only)
    assert not any(name.startswith("depth_side") for name in front_only)


def _correction(features, coef) -> GirthCorrection:
    count = len(features)
    return GirthCorrection(
        features=tuple(features),
        mean=np.full(count, 0.1),
        scale=np.full(count, 0.02),
        coef=np.asarray(coef, np.float64),
        intercept_m=np.array([0.01, 0.02, 0.03]),
        std_m=np.array([0.05, 0.06, 0.04]),
        prior_std_m=np.full(3, 0.1),
    )


def test_correction_predicts_a_line_and_reads_missing_features_at_their_mean():
    correction = _correction(("neck_front", "depth_side_30"), [[0.01, 0.0], [0.0, 0.02], [0, 0]])
    np.testing.assert_allclose(
        correction.predict({"neck_front": 0.12, "depth_side_30": 0.06}),
        [0.01 + 0.01, 0.02 - 0.04, 0.03],
    )
    # absent or None: the training mean, so only the intercept remains
    np.testing.assert_allclose(correction.predict({"neck_front": None}), [0.01, 0.02, 0.03])


def test_correction_rejects_bad_tables():
    with pytest.raises(ValueError, match="unknown"):
        _correction(("shoe_size",), [[0.0]] * 3)
    with pytest.raises(ValueError, match="coef"):
        _correction(("neck_front",), [[0.0, 0.0]] * 3)
    with pytest.raises(ValueError, match="malformed"):
        GirthCorrection.from_dict({"features": ["neck_front"]})
    good = _correction(("neck_front",), [[0.0]] * 3)
    bad = {
        "features": list(good.features),
        "mean": good.mean.tolist(),
        "scale": [0.0],
        "coef": good.coef.tolist(),
        "intercept_m": good.intercept_m.tolist(),
        "std_m": good.std_m.tolist(),
        "prior_std_m": good.prior_std_m.tolist(),
    }
    with pytest.raises(ValueError, match="positive"):
        GirthCorrection.from_dict(bad)
    bad["scale"], bad["std_m"] = [0.02], [float("nan"), 0.1, 0.1]
    with pytest.raises(ValueError, match="finite"):
        GirthCorrection.from_dict(json.loads(json.dumps(bad)))


def test_kernel_correction_adds_gaussians_of_its_training_rows():
    """A kernel girth is its line plus, per training row, alpha x exp(-scale |x - row|^2) of the
    reading's standardised (clipped) features: checked against a plain loop."""
    rng = np.random.default_rng(5)
    base = _correction(("neck_front", "depth_side_30"), [[0.01, 0.0], [0.0, 0.02], [0, 0]])
    rows = rng.normal(size=(7, 2))
    alpha = rng.normal(scale=0.01, size=(3, 7))
    alpha[2] = 0.0  # the hips: a line alone
    scale = np.array([0.5, 2.0, 0.0])
    kernel = GirthCorrection(
        **{k: getattr(base, k) for k in ("features", "mean", "scale", "coef", "intercept_m")},
        std_m=base.std_m,
        prior_std_m=base.prior_std_m,
        kernel_rows=rows,
        kernel_alpha=alpha,
        kernel_scale=scale,
    )
    values = {"neck_front": 0.13, "depth_side_30": 0.02}  # the depth 4 spreads under: clipped
    line = base.predict(values)
    x = np.clip((np.array([0.13, 0.02]) - base.mean) / base.scale, -4, 4)
    naive = [
        line[g]
        + sum(alpha[g, i] * np.exp(-scale[g] * ((x - rows[i]) ** 2).sum()) for i in range(7))
        for g in range(3)
    ]
    np.testing.assert_allclose(kernel.predict(values), naive, rtol=1e-12)
    assert kernel.predict(values)[2] == pytest.approx(line[2])
    assert abs(kernel.predict(values)[0] - line[0]) > 1e-5  # the kernel moved the chest
    # round trip through the table's JSON
    entry = {
        **{k: np.asarray(getattr(kernel, k)).tolist() for k in ("mean", "scale", "coef")},
        "features": list(kernel.features),
        "intercept_m": kernel.intercept_m.tolist(),
        "std_m": kernel.std_m.tolist(),
        "prior_std_m": kernel.prior_std_m.tolist(),
        "kernel_rows": rows.tolist(),
        "kernel_alpha": alpha.tolist(),
        "kernel_scale": scale.tolist(),
    }
    again = GirthCorrection.from_dict(json.loads(json.dumps(entry)))
    np.testing.assert_allclose(again.predict(values), kernel.predict(values), rtol=1e-12)
    for name, bad in (
        ("kernel_rows", rows[:, :1].tolist()),
        ("kernel_alpha", alpha[:, :3].tolist()),
        ("kernel_scale", [-1.0, 0.0, 0.0]),
    ):
        with pytest.raises(ValueError, match="kernel"):
            GirthCorrection.from_dict({**entry, name: bad})
    with pytest.raises(ValueError, match="together"):
        GirthCorrection.from_dict({k: v for k, v in entry.items() if k != "kernel_scale"})


def test_correction_features_are_deviations_from_the_prior():
    mean, _ = girth_prior(height_m=1.75, weight_kg=None, sex="male")
    values = correction_features(
        posterior_m={g: float(mean[i]) + 0.01 * (i + 1) for i, g in enumerate(GIRTHS)},
        readings={
            "neck_front": 0.12,
            "depth_side_30": 0.25,
            "something_else": 1.0,
            "fitted_neck_m": 0.39,
            "fitted_mass_kg": 70.0,
        },
        height_m=1.75,
        weight_kg=None,
        sex="male",
    )
    assert [values[f"posterior_{g}"] for g in GIRTHS] == pytest.approx([0.01, 0.02, 0.03])
    assert values["neck_front"] == 0.12 and "something_else" not in values
    assert values["male"] == 1.0 and values["stature"] == 1.75
    assert -20.0 < values["fitted_mass_kg"] < 10.0  # 70 kg against ANSUR's ~80 kg at 1.75 m
    with_weight = correction_features(
        posterior_m=dict(zip(GIRTHS, mean.tolist(), strict=True)),
        readings={"fitted_neck_m": 0.39, "fitted_mass_kg": 70.0},
        height_m=1.75,
        weight_kg=70.0,
        sex="male",
    )
    assert "fitted_mass_kg" not in with_weight  # the mass was given, not read


def test_shipped_correction_reads_known_features():
    correction = load_girth_correction("height_only")
    assert correction is not None
    assert set(correction.features) <= set(CORRECTION_FEATURES)
    # not the neck's breadth: hair beside it and collars round it in real photos, none in ours
    for shipped in (correction, load_girth_correction("height_only", side_view=False)):
        assert shipped is not None and "neck_front" not in shipped.features
    # surer than the height's prior alone over the same training bodies
    assert (correction.std_m < 0.8 * correction.prior_std_m).all(), correction
    assert any(f.startswith("profile_side_") for f in correction.features)
    # a front photo alone reads the front's outline only, and is surer than the prior too
    front = load_girth_correction("height_only", side_view=False)
    assert front is not None
    assert not any("side" in f for f in front.features), front.features
    assert any(f.startswith("profile_front_") for f in front.features)
    assert (front.std_m < 0.8 * front.prior_std_m).all(), front
    # with the weight given the outline's profiles still tell the chest better than the
    # prior (leave-one-out: 2.4 against 3.0 cm on the training fits), the waist and hips
    # about as well
    weighed = load_girth_correction("with_weight")
    assert weighed is not None
    assert weighed.std_m[0] < 0.9 * weighed.prior_std_m[0], weighed
    assert (weighed.std_m <= weighed.prior_std_m + 1e-9).all(), weighed
    # photos whose arms hang towards the sides have their own, front and side or front alone,
    # and they read the arms' pose over a wider range than the A-pose's
    for side_view in (True, False):
        posed = load_girth_correction("height_only", side_view=side_view, arms_down=True)
        a_pose = load_girth_correction("height_only", side_view=side_view)
        assert posed is not None and a_pose is not None
        assert (posed.std_m < 0.9 * posed.prior_std_m).all(), posed
        arm = posed.features.index("pose_arm_low_front")
        a_pose_arm = a_pose.features.index("pose_arm_low_front")
        assert posed.robust_scale[arm] > 2 * a_pose.robust_scale[a_pose_arm]
        assert posed.centre[arm] < a_pose.centre[a_pose_arm] - 0.1
        # read from the outline alone: how the fit poses limbs must not move them
        assert not any(f.startswith("posterior_") for f in posed.features)
    assert load_girth_correction("height_only", front_readings=False, arms_down=True) is None
    with pytest.raises(ValueError, match="mode"):
        load_girth_correction("maybe")


def test_clothed_front_and_side_fit_is_corrected_by_its_readings():
    """A woman in her chart size's draped tee, front and side photos: the fit reads her neck
    and torso from the outline, and her final girths are the shipped correction's for those
    readings (within the refit's tolerance); the chest lands within 5 cm (measured: see the
    assertion message)."""
    from tryon3d import bodyfit, garments, render, sim
    from tryon3d.render._scene import _layers_from_drape

    truth = bodyfit.body_from_measurements(height_m=1.66, weight_kg=62.0, sex="female")
    tee = garments.load_garment("tshirt", size="M", body=truth, edge_length_m=0.04)
    layers = _layers_from_drape(sim.drape(truth, tee, device="cpu"), color=(0.05, 0.12, 0.45))
    size = 384
    photos = []
    for eye in ((0.2, -4.2, 1.0), (4.2, 0.2, 1.0)):
        camera = render.look_at_camera(
            eye, (0.0, 0.0, 0.85), fov_y_deg=30.0, width=size, height=size
        )
        shot = render.render_body(
            truth, garments=layers, camera=camera, spp=8, seed=3, skin_color=(0.62, 0.40, 0.30)
        )
        photos.append(over_gradient(shot.rgba))
    fit = bodyfit.fit_body_to_photos(photos[0], photos[1], height_m=1.66, sex="female")
    readings = fit.photo_readings
    assert 0.07 < readings["neck_front"] < 0.16, readings
    assert 0.15 < readings["depth_side_30"] < 0.35, readings
    correction = load_girth_correction("height_only")
    assert correction is not None
    features = correction_features(
        posterior_m=fit.posterior_girths_m,
        readings=readings,
        height_m=1.66,
        weight_kg=None,
        sex="female",
    )
    mean, _ = girth_prior(height_m=1.66, weight_kg=None, sex="female")
    expected = mean + correction.predict(features)
    got = np.array([fit.body.measurements_m[g] for g in GIRTHS])
    np.testing.assert_allclose(got, expected, atol=0.01)
    np.testing.assert_allclose(
        [fit.girth_uncertainty_m[g] for g in GIRTHS], correction.std_m, atol=1e-9
    )
    error = got - np.array([truth.measurements_m[g] for g in GIRTHS])
    assert abs(error[0]) < 0.05, error


def test_implausible_readings_are_left_out_side_depths_together():
    """A side view scaled by a person mask that lost the legs reads the torso 1.8x too deep:
    far outside what training saw, those depths are read at their training mean, all five
    (one scale), while a plausible neck still counts."""
    features = ("neck_front", "depth_side_30", "depth_side_40")
    correction = GirthCorrection(
        features=features,
        mean=np.array([0.11, 0.28, 0.30]),
        scale=np.array([0.01, 0.03, 0.03]),
        coef=np.array([[0.02, 0.03, 0.03]] * 3),
        intercept_m=np.zeros(3),
        std_m=np.full(3, 0.05),
        prior_std_m=np.full(3, 0.1),
    )
    wrong = {"neck_front": 0.12, "depth_side_30": 0.60, "depth_side_40": 0.31}
    assert set(correction.implausible(wrong)) == {"depth_side_30", "depth_side_40"}
    np.testing.assert_allclose(correction.predict(wrong), 0.02)  # the neck's +1 spread only
    fine = {"neck_front": 0.12, "depth_side_30": 0.31, "depth_side_40": 0.33}
    assert correction.implausible(fine) == ()
    np.testing.assert_allclose(correction.predict(fine), 0.02 + 0.03 + 0.03)


def test_a_view_with_many_readings_off_is_left_out_whole():
    """Arms hanging against the sides widen the front's rows from the chest to the hips (the
    real photo's): six profile readings far off take the whole front view (its plausible neck
    too), while the side view counts; one odd profile row alone (a row meeting one leg or
    both) is kept, as the training rows keep theirs. Judged on the robust spreads where the
    table has them."""
    front = tuple(f"profile_front_{i:02d}" for i in range(10))
    features = ("neck_front", *front, "depth_side_30")
    count = len(features)
    correction = GirthCorrection(
        features=features,
        mean=np.full(count, 0.3),
        scale=np.full(count, 0.2),  # spreads that would let everything through
        coef=np.full((3, count), 0.01),
        intercept_m=np.zeros(3),
        std_m=np.full(3, 0.05),
        prior_std_m=np.full(3, 0.1),
        median=np.full(count, 0.3),
        spread=np.full(count, 0.02),
    )
    arms = {name: 0.3 for name in features} | {name: 0.5 for name in front[2:8]}
    assert set(correction.implausible(arms)) == {"neck_front", *front}
    np.testing.assert_allclose(correction.predict(arms), 0.0)  # the side depth at its mean
    one_row = {name: 0.3 for name in features} | {front[5]: 0.5}
    assert correction.implausible(one_row) == ()
    # without robust spreads (older tables) the deviations judge: nothing is off
    plain = GirthCorrection(**{**correction.__dict__, "median": None, "spread": None})
    assert plain.implausible(arms) == ()


def _posterior(prior_mean: np.ndarray, offset_m: float, prior_std_m: float = 0.08):
    """A posterior stand-in: every girth ``offset_m`` off the prior's mean, 6 cm unsure."""
    from types import SimpleNamespace

    return SimpleNamespace(
        mean_m=dict(zip(GIRTHS, (prior_mean + offset_m).tolist(), strict=True)),
        std_m=dict.fromkeys(GIRTHS, 0.06),
        sources=dict.fromkeys(GIRTHS, "photo+prior"),
        prior_mean_m=dict(zip(GIRTHS, prior_mean.tolist(), strict=True)),
        prior_std_m=dict.fromkeys(GIRTHS, prior_std_m),
    )


def test_front_readings_off_read_the_side_alone_and_a_lone_front_is_not_corrected():
    """The shipped tables: a front outline whose torso rows are far too wide (arms against
    the sides) is left out whole; with a side view the side-alone correction reads the
    rest, with the front photo alone the posterior stands uncorrected."""
    from tryon3d.bodyfit._photo_fit import _corrected_girths

    full = load_girth_correction("height_only")
    side = load_girth_correction("height_only", front_readings=False)
    assert full is not None and side is not None
    assert not any("front" in name for name in side.features)
    mean, _ = girth_prior(height_m=1.75, weight_kg=None, sex="male")
    posterior = _posterior(mean, 0.02)
    readings = {
        name: float(full.centre[i])
        for i, name in enumerate(full.features)
        if "_front" in name or "_side" in name
    }
    readings |= {"fitted_neck_m": 0.39, "fitted_mass_kg": 80.0}
    for i, name in enumerate(full.features):
        if name.startswith("profile_front_") and 10 <= int(name[-2:]) <= 16:
            readings[name] = float(full.centre[i] + 10 * full.robust_scale[i])
    options = dict(height_m=1.75, weight_kg=None, sex="male", age_years=None)
    girths, spread, _, dropped, corrected, _ = _corrected_girths(
        posterior, readings, side_view=True, **options
    )
    assert corrected and {n for n in full.features if "_front" in n} <= set(dropped)
    features = correction_features(
        posterior_m=posterior.mean_m, readings=readings, height_m=1.75, weight_kg=None, sex="male"
    )
    expected = mean + side.predict(features)
    np.testing.assert_allclose([girths[g] for g in GIRTHS], expected, atol=1e-12)
    np.testing.assert_allclose([spread[g] for g in GIRTHS], side.std_m)
    front_alone = {k: v for k, v in readings.items() if "_side" not in k}
    girths, _, _, dropped, corrected, _ = _corrected_girths(
        posterior, front_alone, side_view=False, **options
    )
    assert not corrected and dropped
    assert girths == posterior.mean_m


def _pose_keypoints(left_arm_rad: float, right_arm_rad: float, ankles_u: tuple[float, float]):
    """Landmarks (u right, v down) of a person facing the camera: shoulders at v 100, hips at
    v 200 (a 100 px drop), arms 120 px long at the given abductions, ankles at ``ankles_u``
    (the person's left ankle first: image right)."""
    keypoints = np.zeros((33, 2))
    keypoints[[11, 12]] = ((170, 100), (130, 100))  # left shoulder on the image's right
    keypoints[[23, 24]] = ((165, 200), (135, 200))
    for shoulder, wrist, angle, side in ((11, 15, left_arm_rad, 1), (12, 16, right_arm_rad, -1)):
        keypoints[wrist] = keypoints[shoulder] + 120 * np.array(
            [side * np.sin(angle), np.cos(angle)]
        )
    keypoints[[27, 28], 0] = ankles_u
    keypoints[[27, 28], 1] = 380
    return keypoints


def test_pose_readings_tell_an_a_pose_from_others():
    from tryon3d.bodyfit._photo_readings import pose_readings

    a_pose = pose_readings(_pose_keypoints(0.7, 0.75, (185, 115)))
    assert a_pose["pose_arm_low"] == pytest.approx(0.7)
    assert a_pose["pose_arm_high"] == pytest.approx(0.75)
    assert a_pose["pose_legs"] == pytest.approx(0.7)  # 70 px apart over a 100 px drop
    hanging = pose_readings(_pose_keypoints(0.1, 0.05, (160, 140)))
    assert hanging["pose_arm_high"] < 0.15
    on_head = pose_readings(_pose_keypoints(0.1, 2.6, (160, 140)))
    assert on_head["pose_arm_high"] == pytest.approx(2.6)
    crossed = pose_readings(_pose_keypoints(0.7, 0.7, (140, 160)))
    assert crossed["pose_legs"] == pytest.approx(-0.2)


def test_a_pose_unlike_training_takes_its_view_out():
    """The corrections were learnt on A-pose photos: a front view with its arms hanging (one
    pose reading far off) has all its readings left out, however plausible the rest."""
    features = ("neck_front", "pose_arm_low_front", "profile_front_05", "depth_side_30")
    correction = GirthCorrection(
        features=features,
        mean=np.array([0.11, 0.72, 0.4, 0.28]),
        scale=np.array([0.01, 0.03, 0.03, 0.03]),
        coef=np.full((3, 4), 0.01),
        intercept_m=np.zeros(3),
        std_m=np.full(3, 0.05),
        prior_std_m=np.full(3, 0.1),
    )
    hanging = {"neck_front": 0.11, "pose_arm_low_front": 0.1, "profile_front_05": 0.4}
    assert set(correction.implausible(hanging)) == set(features[:3])
    assert correction.implausible({**hanging, "pose_arm_low_front": 0.7}) == ()


def test_arms_hanging_towards_the_sides_are_read_by_the_arms_down_correction():
    """The shipped tables: a front photo whose arms hang nearer the sides than any A-pose
    (abduction 0.33 rad, the arms-down training photos' median) is not read by the A-pose
    correction; the one learnt on arms-down photos reads it. Arms raised past every training
    photo's are read by neither: the posterior stands."""
    from tryon3d.bodyfit._photo_fit import _corrected_girths

    a_pose = load_girth_correction("height_only", side_view=False)
    arms_down = load_girth_correction("height_only", side_view=False, arms_down=True)
    assert a_pose is not None and arms_down is not None
    mean, _ = girth_prior(height_m=1.62, weight_kg=None, sex="female")
    posterior = _posterior(mean, -0.01)
    readings = {
        name: float(arms_down.centre[i])
        for i, name in enumerate(arms_down.features)
        if "_front" in name
    }
    readings |= {"fitted_neck_m": 0.33, "fitted_mass_kg": 60.0}
    options = dict(height_m=1.62, weight_kg=None, sex="female", age_years=None)
    features = correction_features(
        posterior_m=posterior.mean_m, readings=readings, height_m=1.62, weight_kg=None, sex="female"
    )
    assert a_pose.arms_off(features) and "profile_front_05" in a_pose.implausible(features)
    girths, spread, _, dropped, corrected, _ = _corrected_girths(
        posterior, readings, side_view=False, **options
    )
    assert corrected and not dropped
    expected = mean + arms_down.predict(features)
    np.testing.assert_allclose([girths[g] for g in GIRTHS], expected, atol=1e-12)
    np.testing.assert_allclose([spread[g] for g in GIRTHS], arms_down.std_m)
    raised = readings | {"pose_arm_low_front": 2.2, "pose_arm_high_front": 2.6}
    girths, _, _, dropped, corrected, _ = _corrected_girths(
        posterior, raised, side_view=False, **options
    )
    assert not corrected and "pose_arm_high_front" in dropped
    assert girths == posterior.mean_m


def test_a_body_beyond_every_training_body_keeps_its_posterior():
    """The shipped tables: a plus-size woman, arms hanging (a pose the arms-down correction
    knows), whose torso rows lie 8 training spreads wider than any training photo's and whose
    clothed posterior is 40 cm over the prior's mean (5 prior spreads; real photos: 137-144 cm
    chests read at the prior's 96): her girths are beyond every training body's
    (``_beyond_training``), and stay the posterior's. The same outline with the arms raised
    past every training photo's, or a posterior within the range, is not."""
    from tryon3d.bodyfit._photo_fit import _corrected_girths

    arms_down = load_girth_correction("height_only", side_view=False, arms_down=True)
    assert arms_down is not None
    mean, covariance = girth_prior(height_m=1.65, weight_kg=None, sex="female")
    spread = float(np.sqrt(np.diag(covariance)).max())  # 9.7 cm: her waist's
    readings = {
        name: float(arms_down.centre[i])
        for i, name in enumerate(arms_down.features)
        if "_front" in name
    }
    for i, name in enumerate(arms_down.features):
        if name.startswith("profile_front_") and 9 <= int(name[-2:]) <= 18:
            readings[name] = float(arms_down.centre[i] + 8 * arms_down.robust_scale[i])
    readings |= {"fitted_neck_m": 0.38, "fitted_mass_kg": 110.0}
    options = dict(height_m=1.65, weight_kg=None, sex="female", age_years=None)
    large = _posterior(mean, 0.40, prior_std_m=spread)
    *_, dropped, corrected, beyond = _corrected_girths(large, readings, side_view=False, **options)
    assert not corrected and dropped  # her outline is read by no correction ...
    assert beyond == GIRTHS  # ... and her girths lie beyond them all
    raised = readings | {"pose_arm_low_front": 2.2, "pose_arm_high_front": 2.6}
    *_, beyond = _corrected_girths(large, raised, side_view=False, **options)
    assert beyond == ()  # a raised arm widens an outline: it only bounds the body
    within = _posterior(mean, 0.2, prior_std_m=spread)
    *_, beyond = _corrected_girths(within, readings, side_view=False, **options)
    assert beyond == ()


def test_shoes_fill_the_foot_of_a_whole_outline_only():
    """Shoes on the person's lowest rows say the outline reaches the feet; a mask cut at the
    knees has trousers there, and the shoes below it are not its foot."""
    from tryon3d.bodyfit._photo_fit import _shoes_at_the_foot

    person = _figure().mask > 0.5
    shoes = np.zeros_like(person)
    shoes[404:420] = person[404:420]  # the lowest 4 % of 400 px
    assert _shoes_at_the_foot(person, shoes)
    assert not _shoes_at_the_foot(person, np.zeros_like(person))
    knees_cut = person.copy()
    knees_cut[350:] = False
    assert not _shoes_at_the_foot(knees_cut, shoes)
