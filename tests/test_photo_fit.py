"""Photo fitting: the real photo's silhouette, a synthetic photo of a known body, output files."""

from __future__ import annotations

import argparse
import io
import json

import numpy as np
import pytest
from PIL import Image, ImageFilter

from tryon3d import bodyfit, render


@pytest.fixture(scope="module")
def ryota_fit(shared_dir):
    path = shared_dir / "photos" / "ryota_front.png"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return bodyfit.fit_body_to_photos(path, height_m=1.72, sex="male")


def test_real_photo_silhouette_iou(ryota_fit, shared_dir):
    truth = (
        np.asarray(Image.open(shared_dir / "photos" / "ryota_front_mask.png").convert("L")) > 127
    )
    fitted = ryota_fit.silhouettes["front"]
    assert fitted.shape == truth.shape == (512, 512)
    iou = (fitted & truth).sum() / (fitted | truth).sum()
    # the body is fitted inside his clothes and his hair, which only bounds the head (measured:
    # IoU 0.750, 99.2 % inside; the head fitted to the hair's top: 0.775, 97.7 %; the outline
    # taken as the body: 0.886, 94.4 %): the IoU with the clothed outline drops
    assert iou >= 0.72, iou
    assert (fitted & truth).sum() / fitted.sum() >= 0.98
    # his shoes (the parsing's) fill the outline's lowest rows: its feet are seen
    assert ryota_fit.analyses["front"].feet_seen
    # his hair and shoes stand over his height (2.2 % over the ankles' measure, 1.8 % allowed)
    assert any(
        n.startswith("front photo: hair and shoes stand 0.4 % over") for n in ryota_fit.notes
    ), ryota_fit.notes
    body = ryota_fit.body
    assert body.measurements_m["stature"] == pytest.approx(1.72, abs=0.01)
    # his arms hang near his sides (0.32 rad from straight down; an A-pose's 0.6-0.8): the
    # A-pose correction does not read his front (it took his waist to 59 cm when it did), the
    # one learnt on arms-down photos does, and corrects the posterior's girths
    from tryon3d.bodyfit._girth_posterior import correction_features, load_girth_correction

    features = correction_features(
        posterior_m=ryota_fit.posterior_girths_m,
        readings=ryota_fit.photo_readings,
        height_m=1.72,
        weight_kg=None,
        sex="male",
    )
    a_pose = load_girth_correction("height_only", side_view=False)
    arms_down = load_girth_correction("height_only", side_view=False, arms_down=True)
    assert a_pose is not None and arms_down is not None
    assert "pose_arm_low_front" in a_pose.implausible(features)
    assert not arms_down.implausible(features), arms_down.implausible(features)
    assert not any("outline" in note for note in ryota_fit.notes), ryota_fit.notes
    expected = arms_down.predict(features)
    for i, girth in enumerate(("chest", "waist", "hips")):  # refitted within 1 cm
        corrected = _prior_mean(girth) + float(expected[i])
        assert body.measurements_m[girth] == pytest.approx(corrected, abs=0.01), girth
    # a slim man's girths (measured: chest 92.0, waist 82.4, hips 89.0 cm; the posterior's
    # 95.3 / 79.5 / 92.3)
    assert 0.85 < body.measurements_m["chest"] < 1.0
    assert 0.72 < body.measurements_m["waist"] < 0.9
    assert 0.84 < body.measurements_m["hips"] < 0.98
    assert body.pose.shape == (len(body.joint_names), 3) and np.abs(body.pose).max() > 0.01
    # the camera sees the posed body where the silhouette says
    from scipy import ndimage

    uv = render.project(ryota_fit.cameras["front"], body.vertices)
    grown = ndimage.binary_dilation(fitted, iterations=2)
    inside = grown[np.clip(uv[:, 1].astype(int), 0, 511), np.clip(uv[:, 0].astype(int), 0, 511)]
    assert inside.mean() > 0.99
    assert ryota_fit.overlays["front"].shape == (512, 512, 3)


def _prior_mean(girth: str) -> float:
    """The population prior's mean girth [m] of a 1.72 m man (the height alone)."""
    from tryon3d.bodyfit._girth_posterior import GIRTHS, girth_prior

    mean, _ = girth_prior(height_m=1.72, weight_kg=None, sex="male")
    return float(mean[GIRTHS.index(girth)])


def test_a_side_photo_the_detector_finds_no_person_in_is_left_out(ryota_fit, shared_dir):
    """MediaPipe found no person in one benchmark side photo (a man before a striped wood
    panel of his trousers' colour) and the whole fit failed. The front alone fits then, as
    without a side photo, and a note says why; here the side is a bare wall."""
    wall = np.tile(np.linspace(90, 200, 512, dtype=np.uint8)[:, None, None], (1, 384, 3))
    fit = bodyfit.fit_body_to_photos(
        shared_dir / "photos" / "ryota_front.png", wall, height_m=1.72, sex="male"
    )
    assert list(fit.analyses) == ["front"] and list(fit.silhouettes) == ["front"]
    assert fit.body.inputs["views"] == ["front"]
    assert any(n.startswith("side photo: not read (no ") for n in fit.notes), fit.notes
    truth = (
        np.asarray(Image.open(shared_dir / "photos" / "ryota_front_mask.png").convert("L")) > 127
    )
    fitted = fit.silhouettes["front"]
    assert (fitted & truth).sum() / fitted.sum() >= 0.95
    for girth in ("chest", "waist", "hips"):  # the same front photo, fitted alone
        assert fit.body.measurements_m[girth] == pytest.approx(
            ryota_fit.body.measurements_m[girth], abs=0.02
        )
    with pytest.raises(ValueError, match="no person found in photo"):
        bodyfit.fit_body_to_photos(wall, height_m=1.72, sex="male")  # a front must show one


def test_posed_record_round_trip_and_files(ryota_fit, tmp_path):
    from tryon3d._bodies import load_body
    from tryon3d._files import write_files_atomically
    from tryon3d._photos import photo_fit_files

    files = photo_fit_files(ryota_fit)
    assert set(files) == {"body.glb", "body.json", "overlay_front.png", "silhouette_front.png"}
    write_files_atomically(tmp_path, files)
    content = json.loads((tmp_path / "body.json").read_text())
    fit = content["photo_fit"]
    assert set(fit["girth_uncertainty_cm"]) == {"chest", "waist", "hips"}
    assert all(0.5 < v < 10 for v in fit["girth_uncertainty_cm"].values())
    assert set(fit["girth_sources"].values()) <= {"photo", "prior", "photo+prior"}
    shares = fit["clothing"]["front"]
    assert set(shares) == {"chest", "waist", "hips"}
    assert all(0 <= s[k] <= 1 for s in shares.values() for k in ("skin", "cloth", "untelling"))
    assert shares["waist"]["cloth"] > 0.5  # his hoodie forms the waist's outline (0.67)
    camera = render.Camera.from_dict(content["cameras"]["front"])
    assert camera.fx == pytest.approx(ryota_fit.cameras["front"].fx)
    reloaded = load_body(tmp_path)
    assert np.abs(reloaded.vertices - ryota_fit.body.vertices).max() < 1e-6
    assert np.abs(reloaded.rest_vertices - ryota_fit.body.rest_vertices).max() < 1e-6
    silhouette = Image.open(tmp_path / "silhouette_front.png")
    assert silhouette.size == (512, 512) and not silhouette.getexif()
    assert set(np.unique(np.asarray(silhouette))) <= {0, 255}


def test_cli_writes_outputs_without_photos(ryota_fit, tmp_path, monkeypatch, shared_dir):
    import tryon3d._photos as photos

    monkeypatch.setattr(photos, "fit_photos", lambda *a, **k: ryota_fit)
    args = argparse.Namespace(
        photo=str(shared_dir / "photos" / "ryota_front.png"),
        side_photo=None,
        keep_photos=False,
        height=172.0,
        weight=None,
        sex="male",
        age=None,
        output=str(tmp_path),
        json=False,
        chest=None,
        waist=None,
        hips=None,
        model="anny",
    )
    assert photos.run_photo_body(args) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".tryon3d-manifest.json",
        "body.glb",
        "body.json",
        "overlay_front.png",
        "silhouette_front.png",
    ]
    args.keep_photos, args.output = True, str(tmp_path / "kept")
    photos.run_photo_body(args)
    kept = Image.open(io.BytesIO((tmp_path / "kept" / "photo_front.png").read_bytes()))
    assert kept.size == (512, 512) and not kept.getexif()
    with pytest.raises(ValueError, match="cannot be combined"):
        photos.run_photo_body(argparse.Namespace(**{**vars(args), "chest": 90.0}))


def _synthetic_front_photo(body, size: int = 384):
    camera = render.look_at_camera(
        (0.25, -4.2, 1.0), (0.0, 0.0, 0.85), fov_y_deg=30.0, width=size, height=size
    )
    shot = render.render_body(body, camera=camera, spp=16)
    v, u = np.mgrid[0:size, 0:size] / size
    backdrop = np.stack([0.3 + 0.4 * u, 0.5 + 0.2 * np.sin(8 * v), 0.6 - 0.3 * v], axis=-1)
    backdrop[(u > 0.1) & (u < 0.3) & (v > 0.2) & (v < 0.5)] = (0.1, 0.2, 0.8)
    alpha = shot.rgba[..., 3:4]
    image = shot.rgba[..., :3] * alpha + backdrop * (1 - alpha)
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8), camera


def test_synthetic_front_photo_recovers_the_body(monkeypatch):
    from tryon3d.bodyfit._photo_fitter import _REFINE_PX, _REFINE_SPP, _SCHEDULE

    truth = bodyfit.body_from_measurements(height_m=1.68, weight_kg=72.0, sex="female")
    photo, _ = _synthetic_front_photo(truth)
    rendered = []  # (px, spp) of every refinement silhouette, in order

    def spy(vertices, faces, camera, *, spp=4, seed=0):
        rendered.append((camera.width, spp))
        return silhouette(vertices, faces, camera, spp=spp, seed=seed)

    silhouette = render.render_silhouette
    monkeypatch.setattr(render, "render_silhouette", spy)
    fit = bodyfit.fit_body_to_photos(photo, height_m=truth.measurements_m["stature"], sex="female")
    refinement, final = rendered[:-1], rendered[-1]  # the last: the fitted photo silhouette
    assert final[0] == fit.silhouettes["front"].shape[1]
    coarse = _SCHEDULE.coarse_steps
    assert refinement[:coarse] == [(_SCHEDULE.coarse_px, _SCHEDULE.coarse_spp)] * coarse
    assert set(refinement[coarse:]) == {(_REFINE_PX, _REFINE_SPP)}
    # a bare body's outline is the body: refined until the IoU plateaus (at least
    # min_steps), not cut after the clothed fits' fine_steps; never past refine_steps (20)
    assert max(coarse, _SCHEDULE.min_steps) <= len(refinement) <= 20
    assert any("outline is taken as the body" in note for note in fit.notes), fit.notes
    measured = fit.body.measurements_m
    assert abs(measured["stature"] - truth.measurements_m["stature"]) < 0.01
    for girth in ("chest", "waist", "hips"):
        assert abs(measured[girth] - truth.measurements_m[girth]) < 0.05, (
            girth,
            measured[girth],
            truth.measurements_m[girth],
        )
    assert fit.scores["iou_front"] > 0.9
    assert fit.silhouettes["front"].shape == (384, 384)


def test_tryon_with_a_photo_composites_the_garment(ryota_fit, tmp_path, monkeypatch, shared_dir):
    """`tryon3d tryon --photo`: the drape on the photo-posed body is composited onto the photo,
    inside the person's true silhouette, leaving the background untouched; body.json carries the
    photo fit's block (as `tryon3d body --photo` writes it) and the report page shows it."""
    import dataclasses
    import html

    import tryon3d._photos as photos
    from tryon3d.cli import main

    # as if his clothes had hidden the waist: the page must say the girth is the prior's
    hidden = "the clothes hide the waist in every photo: its girth is the population prior's"
    fit = dataclasses.replace(
        ryota_fit,
        girth_sources={**ryota_fit.girth_sources, "waist": "prior"},
        notes=(*ryota_fit.notes, hidden),
    )
    monkeypatch.setattr(photos, "fit_photos", lambda *a, **k: fit)  # the fit is tested above
    parse_calls = []
    parse_person = bodyfit.parse_person
    monkeypatch.setattr(
        bodyfit, "parse_person", lambda *a, **k: parse_calls.append(1) or parse_person(*a, **k)
    )
    photo = shared_dir / "photos" / "ryota_front.png"
    out = tmp_path / "tryon"
    code = main(
        [
            "-q",
            "tryon",
            "--photo",
            str(photo),
            "--height",
            "172",
            "--sex",
            "male",
            "--garment",
            "tshirt",
            "--size",
            "M",
            "--edge-length",
            "4",
            "--image-size",
            "128",
            "--turntable",
            "2",
            "-o",
            str(out),
        ]
    )
    assert parse_calls == [] and "front" in fit.parsings  # the fit's parsing is reused
    content = json.loads((out / "body.json").read_text())
    assert content["photo_fit"] == json.loads(json.dumps(photos.photo_fit_record(fit)))
    assert render.Camera.from_dict(content["cameras"]["front"]).fx == pytest.approx(
        fit.cameras["front"].fx
    )
    report = json.loads((out / "report.json").read_text())
    page = (out / "report.html").read_text()
    section = page[page.index('<section id="photo-body">') :]
    section = section[: section.index("</section>")]
    for girth, std in content["photo_fit"]["girth_uncertainty_cm"].items():
        value = report["body_cm"][girth]
        assert f"<td>{girth}</td><td>{value:.1f}</td><td>&plusmn; {std:.1f}</td>" in section
    assert '<tr class="prior"><td>waist</td>' in section and "could not tell" in section
    assert section.count("<li>") == len(fit.notes) and html.escape(hidden) in section
    # exit 3 exactly when the recommended size's drape failed its gates (documented exit code)
    recommended = report["recommended_size"]
    assert code == (0 if report["sizes"][recommended]["gates"]["passed"] else 3), report["sizes"][
        recommended
    ]["gates"]
    # Known limit: arms hanging at the sides pinch the cloth between arm and torso, where the
    # penalty contact cannot settle it (a few vertices may end up inside, the drape may not come to
    # rest); bounded here, the composite is what this test is about
    gates = report["sizes"]["M"]["gates"]
    assert gates["penetrating_vertices"] <= 5 and gates["max_seam_gap_mm"] <= 2.0, gates
    composite = np.asarray(Image.open(out / "tryon.png").convert("RGB")).astype(float)
    garment = np.asarray(Image.open(out / "garment_mask.png")) > 127
    original = np.asarray(Image.open(photo).convert("RGB")).astype(float)
    truth = (
        np.asarray(Image.open(shared_dir / "photos" / "ryota_front_mask.png").convert("L")) > 127
    )
    assert composite.shape == original.shape and garment.shape == truth.shape
    assert garment.sum() > 0.15 * truth.sum()  # a T-shirt covers a good part of the person
    # ...and sits on the person: 89.9-90.5 % of its pixels over repeated runs (the photo fit's
    # threaded float sums differ run to run); the rest is the T-shirt's loose sleeves and hem drawn
    # past the real person's outline, which the clothed-photo work (issue 16) is to bring in
    assert (garment & truth).sum() > 0.85 * garment.sum()
    assert np.abs(composite - original)[garment].mean() > 10.0  # the garment is drawn
    far = ~np.asarray(Image.fromarray(truth).filter(ImageFilter.MaxFilter(15)))
    assert np.abs(composite - original)[far].mean() < 1.0  # background untouched
    # the new garment replaces his own top: the hoodie's sleeves below the T-shirt's are gone
    # (measured 0.4 % of its uncovered pixels unchanged; the paint-over leaves 99 %)
    hoodie = bodyfit.parse_person(original.astype(np.uint8)).mask("upper_clothes")
    uncovered = hoodie & ~np.asarray(
        Image.fromarray(garment).filter(ImageFilter.MaxFilter(5)), dtype=bool
    )
    unchanged = np.linalg.norm(composite[uncovered] - original[uncovered], axis=1) < 30.0
    assert uncovered.sum() > 1000 and unchanged.mean() < 0.1, unchanged.mean()


def test_arms_set_as_fitted_from_a_slider_at_the_top_of_its_range():
    """A fit that left the upper arm's own slider near the top of its range: probing it
    upwards left the model's range (a real photo, a woman walking in a jacket, was refused
    with "shape parameters out of the anny model's range"); it is probed downwards, and the
    arms still read as the outline fit's."""
    from tryon3d.bodyfit._anny_model import load_anny_model
    from tryon3d.bodyfit._measurements import rebuild_body
    from tryon3d.bodyfit._photo_fit import _arms_as_fitted

    model = load_anny_model()
    base = bodyfit.body_from_measurements(height_m=1.68, weight_kg=64.0, sex="female")
    slider = "measure-upperarm-circ-incr"
    high = float(model.parameter_bounds[list(model.parameter_names).index(slider)][1])

    def with_arm(value: float):
        return rebuild_body(
            model="anny",
            shape_parameters={**base.shape_parameters, slider: value},
            sex="female",
            age_years=30.0,
        )

    body, fitted = with_arm(high - 0.05), with_arm(high - 0.6)
    out = _arms_as_fitted(body, fitted, model=model, sex="female", age_years=30.0, height_ratios={})
    assert out.shape_parameters[slider] <= high
    assert out.measurements_m["upper_arm"] == pytest.approx(
        fitted.measurements_m["upper_arm"], abs=0.003
    )


def test_real_photos_benchmark_judges_a_photo_against_its_own_mask(shared_dir, tmp_path, capsys):
    """``benchmarks/real_photos.py`` on a folder holding the real front photo, its person mask
    and a manifest: the fitted body lies inside his mask (measured 0.977), nothing refused."""
    import importlib.util

    from conftest import REPO_ROOT

    for name in ("ryota_front.png", "ryota_front_mask.png"):
        (tmp_path / name).symlink_to(shared_dir / "photos" / name)
    manifest = {"ryota_front.png": {"sex": "male", "height_cm": 172}}
    (tmp_path / "people.json").write_text(json.dumps(manifest), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(
        "real_photos", REPO_ROOT / "benchmarks" / "real_photos.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--photos", str(tmp_path), "--json", "--save", str(tmp_path / "out")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["photos"] == 1 and summary["refused"] == []
    (row,) = summary["rows"]
    assert row["truth_mask"] is True
    assert row["inside"] >= 0.95, row
    assert row["skin_covered"] >= 0.9, row
    assert (tmp_path / "out" / "ryota_front.png").is_file()


def test_a_person_turned_from_the_camera_is_fitted_turned(monkeypatch):
    """A woman photographed 45 deg off her front (the camera towards her right): MediaPipe's 3D
    landmarks read her torso turned by 40 deg, and the fit starts turned by as much. Measured:
    0.961 of the fitted silhouette inside her, chest -0.7 cm; started facing the camera (as
    before), the shoulders stayed square: 0.945 inside, chest -5.0 cm. A photo taken square
    on reads within 5 deg."""
    import math

    import cv2
    from _render_scenes import over_gradient

    from tryon3d.bodyfit import _photo_fitter

    body = bodyfit.body_from_measurements(height_m=1.66, weight_kg=55.0, sex="female")
    photos = {}
    for name, turn in (("turned", -45.0), ("square", 0.0)):
        eye = (4.2 * math.sin(math.radians(turn)), -4.2 * math.cos(math.radians(turn)), 1.0)
        camera = render.look_at_camera(eye, (0.0, 0.0, 0.85), fov_y_deg=30.0, width=384, height=384)
        shot = render.render_body(body, camera=camera, spp=4, seed=3, skin_color=(0.62, 0.4, 0.3))
        photos[name] = (over_gradient(shot.rgba, base=(0.55, 0.55, 0.6)), shot.mask > 0.5)
    square = bodyfit.analyze_photo(bodyfit.load_photo(photos["square"][0]))
    assert square.torso_yaw_rad is not None and abs(square.torso_yaw_rad) < math.radians(5)
    photo, person = photos["turned"]
    assert bodyfit.analyze_photo(bodyfit.load_photo(photo)).torso_yaw_rad > math.radians(30)
    results = {}
    for start in ("turned", "facing"):
        if start == "facing":
            monkeypatch.setattr(_photo_fitter, "_TURN_MIN_RAD", math.pi)
        cv2.setRNGSeed(0)
        fit = bodyfit.fit_body_to_photos(photo, height_m=1.66, sex="female", clothed=False)
        fitted = fit.silhouettes["front"]
        chest = fit.body.measurements_m["chest"] - body.measurements_m["chest"]
        results[start] = ((fitted & person).sum() / fitted.sum(), chest)
    inside, chest = results["turned"]
    assert inside >= 0.955, results
    assert abs(chest) < 0.025, results
    assert inside > results["facing"][0] + 0.01, results
