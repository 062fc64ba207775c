"""Photo fitting on synthetic ground truth: anny bodies of known measurements, rendered front and
side (skin material, studio light, over a cluttered background, known camera), fitted back from
the images and the stature alone.

Reports the chest/waist/hip mean absolute error (cm) and the fitting time per subject (wall and
CPU seconds of this process).

``--clothed``: the bodies' girths are drawn from ANSUR II's conditional distribution given
height, weight and sex (BMI 18-35, both sexes), dressed in our own drapes (tee + trousers, long
sleeve + trousers, dress, skirt + tee; the chart size or two sizes up; several fabrics, colours
and a striped print) and rendered front and side (rest A-pose) over real photo backgrounds
(``benchmarks/parsing.py``'s scenes). On the same images: (a) the body from the height (+ weight)
alone (the population prior), (b) the photo fit that takes the clothed outline for the body, (c)
the clothed fit (parsed clothes shrunk by the learnt ease, each girth then a posterior with the
population prior) and ``clothed_reading``: (c)'s girths before the prior was weighed in,
``clothed_posterior``: before the outline's own readings (breadth profiles of the front and
side views, side depths) corrected them; MAE and mean signed error (the clothing bias) per girth.
``--scenes DIR`` keeps the rendered subjects (photos and truth, plain arrays and JSON) so that
other modes (``--with-weight``, ``--front-only``) fit the very same images without a drape.

Usage: python benchmarks/photo_fit.py [--json] [--subjects 6] [--front-only] [--with-weight]
       [--compare 4x192,1x160]  (refinement spp x crop px; subjects fitted with each, alternating)
       [--baseline]  (also fit each subject the way it was fitted before issue 19: 4 spp at
                      192 px from the first refinement step to the IoU plateau, torch on two
                      threads there; reports the MAE change per girth against it)
       [--clothed [--methods prior,today,clothed] [--scenes DIR]]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tryon3d import bodyfit, render

GIRTHS = ("chest", "waist", "hips")
MAE_GATE_CM = 0.2  # a faster schedule may raise no girth's MAE by more than this (issue 19)


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A cluttered sRGB background (H, W, 3) float32: gradient, floor, boxes and noise."""
    v, u = np.mgrid[0:size, 0:size] / size
    base = rng.uniform(0.2, 0.8, 3)
    image = base * (0.7 + 0.3 * v[..., None]) + 0.1 * np.sin(6.0 * u + rng.uniform(0, 6))[..., None]
    image[v > 0.82] = rng.uniform(0.2, 0.6, 3)  # floor
    for _ in range(6):
        x0, y0 = rng.uniform(0, 0.9, 2)
        w, h = rng.uniform(0.05, 0.25, 2)
        image[(u > x0) & (u < x0 + w) & (v > y0) & (v < y0 + h)] = rng.uniform(0, 1, 3)
    image += rng.normal(0, 0.02, image.shape)
    return np.clip(image, 0, 1).astype(np.float32)


def _random_camera(rng: np.random.Generator, points: np.ndarray, view: str, size: int):
    """A ``view`` camera framing ``points`` with a random field of view (25-45 deg) and margin."""
    return render.camera_preset(
        points,
        view,
        width=size,
        height=size,
        fov_y_deg=rng.uniform(25, 45),
        margin=rng.uniform(0.04, 0.12),
    )


def synthetic_subject(rng: np.random.Generator, *, sex: str, size: int = 512):
    """A random body (BMI 18-35) and its front and side photos (uint8 RGB) with the cameras."""
    from tryon3d.bodyfit._anny_model import load_anny_model
    from tryon3d.bodyfit._anny_pose import pose_anny_vertices

    height = rng.uniform(1.60, 1.92) if sex == "male" else rng.uniform(1.52, 1.80)
    bmi = rng.uniform(18.0, 35.0)
    body = bodyfit.body_from_measurements(height_m=height, weight_kg=bmi * height**2, sex=sex)
    model = load_anny_model()
    photos, cameras = {}, {}
    for view in ("front", "side"):
        pose = np.zeros((len(body.joint_names), 3))
        for bone, axis, sign in (("upperarm01.L", 1, 1.0), ("upperarm01.R", 1, -1.0)):
            pose[body.joint_names.index(bone), axis] = sign * rng.uniform(-0.2, 0.15)
        vertices, joints = pose_anny_vertices(model, body.rest_vertices, body.rest_joints, pose)
        posed = body.with_pose(vertices, joints, pose)
        camera = _random_camera(rng, vertices, view, size)
        shot = render.render_body(posed, camera=camera, spp=16, seed=int(rng.integers(1 << 30)))
        rgba = shot.rgba
        alpha = rgba[..., 3:4]
        image = rgba[..., :3] * alpha + background(rng, size) * (1 - alpha)
        photos[view] = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
        cameras[view] = camera
    return body, photos, cameras


#: Outfits: (families, the family whose colour is printed with stripes or None).
OUTFITS = {
    "female": (
        (("dress",), None),
        (("tshirt", "skirt"), "tshirt"),
        (("tshirt", "trousers"), None),
        (("longsleeve", "trousers"), "longsleeve"),
    ),
    "male": (
        (("tshirt", "trousers"), "tshirt"),
        (("longsleeve", "trousers"), None),
    ),
}
FABRICS = {
    "tshirt": ("cotton_jersey", "wool_knit", "spandex_blend"),
    "longsleeve": ("polyester_woven", "wool_knit", "cotton_jersey"),
    "dress": ("polyester_woven", "silk_charmeuse", "cotton_jersey"),
    "skirt": ("cotton_jersey", "denim", "polyester_woven"),
    "trousers": ("denim", "polyester_woven", "wool_knit"),
}
SKINS = ((0.62, 0.40, 0.30), (0.30, 0.17, 0.10), (0.80, 0.58, 0.46), (0.45, 0.28, 0.19))
BACKDROPS = ("wood-l.webp", "adwaita-l.webp", "pixels-l.webp", "grid-l.webp", "vnc-l.webp")
#: Scenes kept by ``--scenes`` carry this; others are rendered afresh. 2: each sex wears its own
#: chart (men's sizes on men; 1 dressed everyone by the women's chart) and the charts run to 5XL.
SCENE_FORMAT = 2


def ansur_like_body(rng: np.random.Generator, *, sex: str):
    """A body whose chest, waist and hips are drawn from ANSUR II's conditional normal given a
    random height and BMI (18-35): one after another, each conditioned on those drawn before."""
    from tryon3d.bodyfit._shape_prior import load_measurement_prior

    height = rng.uniform(1.60, 1.92) if sex == "male" else rng.uniform(1.52, 1.80)
    weight = rng.uniform(18.0, 35.0) * height**2
    prior = load_measurement_prior()
    for attempt in range(6):  # some draws are more than anny can meet at that weight: redraw
        given: dict[str, float] = {}
        for girth in GIRTHS:
            mean, std = prior.predict(height_m=height, weight_kg=weight, sex=sex, given_m=given)[
                girth
            ]
            given[girth] = float(mean + std * np.clip(rng.normal(), -2.0, 2.0) / (1 + attempt))
        try:
            return bodyfit.body_from_measurements(
                height_m=height,
                weight_kg=weight,
                sex=sex,
                chest_m=given["chest"],
                waist_m=given["waist"],
                hips_m=given["hips"],
            )
        except ValueError:
            continue
    return bodyfit.body_from_measurements(height_m=height, weight_kg=weight, sex=sex)


def _stripes(colour, rng: np.random.Generator) -> np.ndarray:
    """A (64, 64, 3) uint8 sRGB print: stripes of ``colour`` (linear RGB) and off-white."""
    period = int(rng.integers(8, 24))
    rows = (np.arange(64) // (period // 2)) % 2 == 0
    srgb = np.clip(np.asarray(colour) ** (1 / 2.2), 0, 1)
    image = np.where(rows[:, None, None], srgb, np.array([0.92, 0.9, 0.85]))
    return (np.broadcast_to(image, (64, 64, 3)) * 255).round().astype(np.uint8)


#: ``--arms varied``: how far each subject's arms hang from the rest A-pose. Per subject (its own
#: stream, apart from the scene's), a share ``u`` in [0.15, 1.05] of the 0.62 rad that takes an
#: upper arm from the A-pose (0) to hanging (1), each arm within +-0.08 of it, the forearms bent
#: forward up to 0.35 rad x the share, the thighs turned 0.09 rad together to 0.03 rad apart:
#: the arms-down photos (the commonest real ones) the girth correction is learnt on too.
ARMS_DOWN_RAD = 0.62


def varied_arms(seed: int, index: int) -> dict[str, tuple[float, float, float]]:
    """``--arms varied``: subject ``index``'s pose as anny bone -> axis-angle [rad] about the
    world axes (``photo_poses.POSES`` convention; see ``ARMS_DOWN_RAD``)."""
    draw = np.random.default_rng([seed, index, 977])
    share = float(draw.uniform(0.15, 1.05))
    left, right = (float(np.clip(share + draw.normal(0.0, 0.08), 0.0, 1.1)) for _ in range(2))
    bend = float(draw.uniform(0.0, 0.35))
    legs = float(draw.uniform(-0.09, 0.03))
    return {
        "upperarm01.L": (0.0, ARMS_DOWN_RAD * left, 0.0),
        "upperarm01.R": (0.0, -ARMS_DOWN_RAD * right, 0.0),
        "lowerarm01.L": (bend * left, 0.0, 0.0),
        "lowerarm01.R": (bend * right, 0.0, 0.0),
        "upperleg01.L": (0.0, -legs, 0.0),
        "upperleg01.R": (0.0, legs, 0.0),
    }


def bones_pose(joint_names, bones) -> np.ndarray:
    """The (J, 3) ``Body.pose`` [rad] turning ``bones`` ((anny bone, axis-angle) pairs, or a
    dict of them) and leaving every other bone at rest."""
    pose = np.zeros((len(joint_names), 3))
    for bone, rotation in dict(bones).items():
        pose[list(joint_names).index(bone)] = rotation
    return pose


def _arms_of(args, index: int) -> dict[str, tuple[float, float, float]] | None:
    """Subject ``index``'s arm pose under ``--arms`` (None: the rest A-pose)."""
    return varied_arms(args.seed, index) if getattr(args, "arms", "rest") == "varied" else None


def clothed_subject(
    rng: np.random.Generator,
    index: int,
    *,
    sex: str,
    size: int = 512,
    pose=None,
    views: tuple[str, ...] = ("front", "side"),
    renderings: dict | None = None,
    backdrop: str | None = None,
):
    """A random ANSUR-like body in an outfit (loose or fitted), and its front and side photos
    (uint8 RGB) over real backgrounds, the cameras and a description of the outfit.

    ``pose``: a (J, 3) ``Body.pose`` [rad] (``_anny_pose`` convention) or a callable taking the
    body's joint names and returning one: the body is posed and the garments are draped on the
    posed body (None: the rest A-pose). ``views``: the photos to render. ``renderings``: when
    given, filled with each view's ``render.Rendering`` (its alpha and garment mask are the
    ground truth of the person's mask and the visible skin). ``backdrop``: one of
    ``BACKDROPS`` for every view (None: drawn; the draw is made either way)."""
    import parsing

    body = ansur_like_body(rng, sex=sex)
    if pose is not None:
        from tryon3d.bodyfit._anny_model import load_anny_model
        from tryon3d.bodyfit._anny_pose import pose_anny_vertices

        pose = np.asarray(pose(body.joint_names) if callable(pose) else pose, np.float64)
        vertices, joints = pose_anny_vertices(
            load_anny_model(), body.rest_vertices, body.rest_joints, pose
        )
        body = body.with_pose(vertices, joints, pose)
    outfits = OUTFITS[sex]
    families, printed = outfits[(index // 2) % len(outfits)]
    loose = bool((index // 2 + index) % 2)
    from tryon3d.sizing import chart_for, chart_size_for

    charts = [chart_for(sex, family) for family in families]
    sizes = [
        chart_size_for(body, chart, family, sizes_up=2 if loose else 0)
        for family, chart in zip(families, charts, strict=True)
    ]
    fabrics = [FABRICS[f][int(rng.integers(len(FABRICS[f])))] for f in families]
    colours = [tuple(float(c) for c in rng.uniform(0.03, 0.6, 3)) for _ in families]
    textures = [
        _stripes(c, rng) if f == printed else None for f, c in zip(families, colours, strict=True)
    ]
    # Trousers end above the ankle: the photo fit refuses photos whose ankles it cannot see.
    designs = [
        {"inseam": body.measurements_m["inseam"] - 0.12} if f == "trousers" else {}
        for f in families
    ]
    groups = parsing.dressed_layers(
        body,
        families,
        colours,
        sizes=sizes,
        fabrics=fabrics,
        textures=textures,
        designs=designs,
        charts=charts,
    )
    layers = [layer for group in groups for layer in group]
    points = np.concatenate([body.vertices] + [np.asarray(layer.vertices) for layer in layers])
    skin = SKINS[index % len(SKINS)]
    photos, cameras = {}, {}
    for view in views:
        camera = _random_camera(rng, points, view, size)
        shot = render.render_body(
            body,
            garments=layers,
            camera=camera,
            spp=16,
            seed=int(rng.integers(1 << 30)),
            skin_color=skin,
        )
        drawn = BACKDROPS[int(rng.integers(len(BACKDROPS)))]
        photos[view] = parsing.over_background(shot.rgba, backdrop or drawn)
        cameras[view] = camera
        if renderings is not None:
            renderings[view] = shot
    outfit = {
        "garments": list(families),
        "sizes": sizes,
        "charts": charts,
        "fit": "loose" if loose else "fitted",
        "fabrics": fabrics,
        "print": printed,
    }
    return body, photos, cameras, outfit


def prior_body(*, height_m: float, weight_kg: float | None, sex: str):
    """The population prior's body: ANSUR-typical for the height and the weight (when None, the
    weight expected for the height and sex)."""
    from tryon3d.bodyfit._shape_prior import INPUT_NAMES, load_measurement_prior

    if weight_kg is None:
        prior = load_measurement_prior()
        mean, cov = prior.means[sex], prior.covariances[sex]
        s, w = INPUT_NAMES.index("stature"), INPUT_NAMES.index("weight_kg")
        weight_kg = float(mean[w] + cov[w, s] / cov[s, s] * (height_m - mean[s]))
    return bodyfit.body_from_measurements(height_m=height_m, weight_kg=weight_kg, sex=sex)


def _girth_summary(rows: list[dict], method: str) -> dict:
    """MAE, bias and times of ``method`` over the subjects every method fitted."""
    rows = [r for r in rows if not any("failed" in v for v in r.values() if isinstance(v, dict))]
    if not rows:
        return {"subjects": 0}
    errors = {g: np.array([r[method]["error_cm"][g] for r in rows]) for g in GIRTHS}
    mae = {g: round(float(np.abs(e).mean()), 2) for g, e in errors.items()}
    return {
        "subjects": len(rows),
        "mae_cm": mae,
        "mae_cm_mean": round(float(np.mean(list(mae.values()))), 2),
        "bias_cm": {g: round(float(e.mean()), 2) for g, e in errors.items()},
        "seconds_per_subject": round(float(np.mean([r[method]["seconds"] for r in rows])), 2),
        "cpu_seconds_per_subject": round(
            float(np.mean([r[method]["cpu_seconds"] for r in rows])), 2
        ),
    }


@dataclass(frozen=True)
class _SceneTruth:
    """What the clothed benchmark reads of a true body (from a scene folder)."""

    measurements_m: dict
    weight_kg: float


def load_scene(stem: Path) -> tuple[dict[str, np.ndarray], _SceneTruth, dict] | None:
    """(arrays, truth, outfit) of a scene kept at ``stem`` (``.npz`` plain arrays and ``.json``
    truth: nothing unpickled), or None when it is not there or of another ``SCENE_FORMAT``."""
    if not (stem.with_suffix(".json").exists() and stem.with_suffix(".npz").exists()):
        return None
    meta = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
    if meta.get("format") != SCENE_FORMAT:
        return None
    with np.load(stem.with_suffix(".npz"), allow_pickle=False) as stored:
        arrays = {key: stored[key] for key in stored.files}
    return arrays, _SceneTruth(meta["measurements_m"], meta["weight_kg"]), meta["outfit"]


def save_scene(stem: Path, arrays: dict[str, np.ndarray], truth, outfit: dict) -> None:
    """Keep a scene at ``stem`` for ``load_scene``: its arrays and the truth (the true body's
    measurements [m] and weight [kg]) and outfit."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(stem.with_suffix(".npz"), **arrays)
    meta = {
        "format": SCENE_FORMAT,
        "measurements_m": {k: float(v) for k, v in truth.measurements_m.items()},
        "weight_kg": float(truth.weight_kg),
        "outfit": outfit,
    }
    stem.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")


def _subject_scene(args, rng: np.random.Generator, index: int, *, sex: str):
    """(true body, photos, outfit) of a clothed subject: rendered, or read back from
    ``args.scenes`` (``<seed>_<index>.npz`` photos and ``.json`` truth, written on first use:
    plain arrays and numbers, nothing unpickled)."""
    folder = Path(args.scenes) if getattr(args, "scenes", None) else None
    arms = _arms_of(args, index)
    if folder is not None:
        stem = folder / (f"{args.seed}_{index}" + ("_arms" if arms else ""))
        if (kept := load_scene(stem)) is not None:
            arrays, truth, outfit = kept
            return truth, {view: arrays[view] for view in ("front", "side")}, outfit
    pose = None if arms is None else (lambda joint_names: bones_pose(joint_names, arms))
    truth, photos, _, outfit = clothed_subject(rng, index, sex=sex, pose=pose)
    if folder is not None:
        save_scene(stem, photos, truth, outfit)
    return truth, photos, outfit


def run_clothed(args) -> dict:
    """The clothed benchmark: every method on the same subjects' images."""
    import inspect
    import os
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from tryon3d.bodyfit._photo_fit import fit_body_to_photos

    has_clothed = "clothed" in inspect.signature(fit_body_to_photos).parameters
    rows = []
    indices = (
        [int(i) for i in args.indices.split(",")]
        if args.indices
        else range(args.first, args.first + args.subjects)
    )
    for index in indices:
        rng = np.random.default_rng([args.seed, index])  # one stream per subject
        sex = ("female", "male")[index % 2]
        started, cpu_started = time.perf_counter(), time.process_time()
        truth, photos, outfit = _subject_scene(args, rng, index, sex=sex)
        scene_seconds = time.perf_counter() - started
        scene_cpu = time.process_time() - cpu_started
        height = truth.measurements_m["stature"]
        weight = truth.weight_kg if args.with_weight else None
        row = {
            "sex": sex,
            "height_cm": round(100 * height, 1),
            "bmi": round(truth.weight_kg / height**2, 1),
            "weight_kg": round(truth.weight_kg, 2),
            "truth_cm": {g: round(100 * truth.measurements_m[g], 1) for g in GIRTHS},
            **outfit,
            "index": index,
            **({"arms": arms} if (arms := _arms_of(args, index)) else {}),
            "scene_seconds": round(scene_seconds, 1),
            "scene_cpu_seconds": round(scene_cpu, 1),
        }
        methods = {"prior": None, "today": False}
        if has_clothed:
            methods["clothed"] = True
        methods = {m: c for m, c in methods.items() if m in args.methods.split(",")}
        for method, clothed in methods.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            extra = {}
            if method == "prior":
                body = prior_body(height_m=height, weight_kg=weight, sex=sex)
            else:
                options = {"clothed": clothed} if has_clothed else {}
                try:
                    fit = fit_body_to_photos(
                        photos["front"],
                        None if args.front_only else photos["side"],
                        height_m=height,
                        sex=sex,
                        weight_kg=weight,
                        **options,
                    )
                except ValueError as exc:  # e.g. long trousers hide an ankle: the fit refuses
                    row[method] = {"failed": str(exc)}
                    continue
                body = fit.body
                extra["scores"] = {k: round(v, 3) for k, v in fit.scores.items()}
                uncertainty = getattr(fit, "girth_uncertainty_m", None)
                if uncertainty:
                    extra["uncertainty_cm"] = {
                        g: round(100 * uncertainty[g], 2) for g in GIRTHS if g in uncertainty
                    }
                told = getattr(fit, "girth_sources", None)
                if told:
                    extra["sources"] = {g: told[g] for g in GIRTHS if g in told}
                outline = getattr(fit, "outline_girths_m", None)
                if outline:  # the photo's own reading, before the population prior
                    extra["outline_error_cm"] = {
                        g: round(100 * (outline[g] - truth.measurements_m[g]), 2)
                        for g in GIRTHS
                        if g in outline
                    }
                readings = getattr(fit, "photo_readings", None)
                if readings:  # what the calibration's girth correction reads
                    extra["readings"] = {k: round(v, 5) for k, v in readings.items()}
                posterior = getattr(fit, "posterior_girths_m", None)
                if posterior:  # the girths before that correction
                    extra["posterior_error_cm"] = {
                        g: round(100 * (posterior[g] - truth.measurements_m[g]), 2)
                        for g in GIRTHS
                        if g in posterior
                    }
                if getattr(fit, "clothing", None):
                    extra["clothing"] = {
                        view: {
                            g: {k: round(v, 3) for k, v in shares.items()}
                            for g, shares in coverage.items()
                        }
                        for view, coverage in fit.clothing.items()
                    }
            row[method] = {
                "error_cm": {
                    g: round(100 * (body.measurements_m[g] - truth.measurements_m[g]), 2)
                    for g in GIRTHS
                },
                "seconds": round(time.perf_counter() - started, 2),
                "cpu_seconds": round(time.process_time() - cpu_started, 2),
                **extra,
            }
        row["load_average_1min"] = round(os.getloadavg()[0], 2)
        rows.append(row)
        if not args.json or args.progress:
            print(json.dumps(row), flush=True)
    methods = [m for m in ("prior", "today", "clothed") if rows and m in rows[0]]
    if "clothed" in methods and all("outline_error_cm" in r["clothed"] for r in rows):
        # the clothed fit's own reading, before the population prior (the fit up to issue 16's
        # posterior girths): same fits, same subjects
        for r in rows:
            r["clothed_reading"] = {**r["clothed"], "error_cm": r["clothed"]["outline_error_cm"]}
        methods.append("clothed_reading")
    if "clothed" in methods and all("posterior_error_cm" in r["clothed"] for r in rows):
        # the girths before the outline's readings corrected them: issue 16's posterior
        for r in rows:
            r["clothed_posterior"] = {
                **r["clothed"],
                "error_cm": r["clothed"]["posterior_error_cm"],
            }
        methods.append("clothed_posterior")
    return {
        "benchmark": "photo_fit_clothed",
        "views": "front" if args.front_only else "front+side",
        "with_weight": bool(args.with_weight),
        "subjects": len(rows),
        "failed_fits": {
            m: sum("failed" in r.get(m, {}) for r in rows) for m in ("today", "clothed")
        },
        "targets": {
            "mae_cm_height_only": 2.5,
            "mae_cm_with_weight": 2.0,
            "abs_bias_cm": 1.0,
            "seconds_per_subject": 20.0,
        },
        **{method: _girth_summary(rows, method) for method in methods},
        "rows": rows,
    }


def _parse_settings(text: str) -> list[tuple[int, int]]:
    """``"4x192,1x160"`` -> [(spp, px), ...] (refinement samples per pixel x crop side)."""
    settings = []
    for item in text.split(","):
        try:
            spp, px = (int(part) for part in item.lower().split("x"))
        except ValueError:
            raise SystemExit(f"--compare: expected SPPxPX items like 4x192, got {item!r}") from None
        settings.append((spp, px))
    return settings


class _UseSchedule:
    """Inside: ``fit_body_to_photos`` runs with ``schedule`` (a ``_photo_fitter._Schedule``)."""

    def __init__(self, schedule):
        self._schedule = schedule

    def __enter__(self):
        from tryon3d.bodyfit import _photo_fitter

        self._fitter, self._saved = _photo_fitter, _photo_fitter._SCHEDULE
        _photo_fitter._SCHEDULE = self._schedule

    def __exit__(self, *args):
        self._fitter._SCHEDULE = self._saved


class _StageClock:
    """Inside: the CPU seconds of each stage of ``fit_body_to_photos`` add up in ``seconds``
    (``mediapipe``: analysis and the single-person check; ``parsing``: the clothed targets;
    ``fitter_init``; ``stage_a``: both proxy stages; ``population_prior``: the typical body;
    ``stage_b``: the refinement, of which ``silhouette_forward`` and ``stage_b_backward``;
    ``rest``: everything else, the final body, its measurements, silhouettes and overlays).
    Each fit also starts OpenCV's global RNG from 0: GrabCut (parsing) draws from it, and
    without this a fit's result depends on the fits before it in the process."""

    _PATCHES = (
        ("tryon3d.bodyfit._photo_fit", "analyze_photo", "mediapipe"),
        ("tryon3d.bodyfit._photo_fit", "_clothed_view", "parsing"),
        ("tryon3d.bodyfit._photo_fitter", "_Fitter.__init__", "fitter_init"),
        ("tryon3d.bodyfit._photo_fitter", "_Fitter.stage_a", "stage_a"),
        ("tryon3d.bodyfit._measurements", "body_from_measurements", "population_prior"),
        ("tryon3d.bodyfit._photo_fitter", "_Fitter.stage_b", "stage_b"),
        ("tryon3d.render._silhouette", "SilhouetteRenderer.__call__", "silhouette_forward"),
    )

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def _wrap(self, function, label: str):
        clock = self

        def timed(*args, **kwargs):
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.process_time() - started
                clock.seconds[label] = clock.seconds.get(label, 0.0) + spent

        return timed

    def __enter__(self):
        import importlib

        import cv2
        import torch

        cv2.setRNGSeed(0)
        self._saved = []
        for module_name, path, label in self._PATCHES:
            owner = importlib.import_module(module_name)
            *parents, name = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            self._saved.append((owner, name, getattr(owner, name)))
            setattr(owner, name, self._wrap(getattr(owner, name), label))
        # the refinement's backward passes (torch's and, through it, Mitsuba's)
        backward, fitter = (
            torch.Tensor.backward,
            importlib.import_module("tryon3d.bodyfit._photo_fitter")._Fitter,
        )
        stage_b, clock = fitter.stage_b, self
        clock._refining = False

        def counted_backward(tensor, *args, **kwargs):
            if not clock._refining:
                return backward(tensor, *args, **kwargs)
            return clock._wrap(backward, "stage_b_backward")(tensor, *args, **kwargs)

        def refining(*args, **kwargs):
            clock._refining = True
            try:
                return stage_b(*args, **kwargs)
            finally:
                clock._refining = False

        self._saved.append((torch.Tensor, "backward", backward))
        torch.Tensor.backward = counted_backward
        fitter.stage_b = refining  # restored with the stage_b patch above
        self._started = time.process_time()
        return self

    def __exit__(self, *args):
        total = time.process_time() - self._started
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        stages = sum(v for k, v in self.seconds.items() if k in _TOP_STAGES)
        self.seconds["rest"] = total - stages
        self.seconds = {k: round(v, 3) for k, v in self.seconds.items()}


_TOP_STAGES = (
    "mediapipe",
    "parsing",
    "fitter_init",
    "stage_a",
    "population_prior",
    "stage_b",
)


class _FreshGraphs:
    """Inside: every MediaPipe call builds a new Pose graph, as before the per-process cache."""

    def __enter__(self):
        from tryon3d.bodyfit import _photo

        self._photo, self._solution = _photo, _photo._pose_solution

        def fresh(*args, **kwargs):
            for key in [key for key in _photo._graphs]:
                _photo._graphs.pop(key).close()
            return self._solution(*args, **kwargs)

        _photo._pose_solution = fresh

    def __exit__(self, *args):
        self._photo._pose_solution = self._solution


def _summary(
    rows: list[dict],
    *,
    label: str,
    schedule: dict,
    views: str,
    spp: int,
    px: int,
    loads: list[float],
    graph_per_call: bool = False,
) -> dict:
    mae = {g: round(float(np.mean([abs(r["error_cm"][g]) for r in rows])), 2) for g in GIRTHS}
    return {
        "benchmark": "photo_fit",
        "label": label,
        "schedule": schedule,
        "views": views,
        "refine_spp": spp,
        "refine_px": px,
        "mediapipe_graph_per_call": graph_per_call,
        "subjects": len(rows),
        "mae_cm": mae,
        "mae_cm_mean": round(float(np.mean(list(mae.values()))), 2),
        "target_mae_cm": 2.5,
        "seconds_per_subject": round(float(np.mean([r["seconds"] for r in rows])), 2),
        "cpu_seconds_per_subject": round(float(np.mean([r["cpu_seconds"] for r in rows])), 2),
        "stage_cpu_seconds_per_subject": {
            stage: round(float(np.mean([r["stage_cpu_seconds"].get(stage, 0.0) for r in rows])), 3)
            for stage in rows[0]["stage_cpu_seconds"]
        },
        "target_seconds_per_subject": 5.0,
        "load_average_1min": round(float(np.mean(loads)), 2),
        "rows": rows,
    }


def main() -> int:
    import os

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--subjects", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--first", type=int, default=0, help="with --clothed: index of the first subject"
    )
    parser.add_argument("--indices", default=None, help="with --clothed: subject indices 0,3,...")
    parser.add_argument("--front-only", action="store_true", help="fit the front photo alone")
    parser.add_argument("--with-weight", action="store_true", help="also give the true weight")
    parser.add_argument(
        "--compare",
        default=None,
        help="refinement settings SPPxPX, comma separated (e.g. 4x192,1x160): each "
        "subject is fitted with each, in rotating order, in this process",
    )
    parser.add_argument(
        "--old-graphs",
        action="store_true",
        help="with --compare: the first setting builds a MediaPipe graph per call (the old way)",
    )
    parser.add_argument("--progress", action="store_true", help="with --json: also print each row")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also fit each subject with the schedule before issue 19 (same process, rotating "
        "order) and report the MAE change per girth",
    )
    parser.add_argument(
        "--methods",
        default="prior,today,clothed",
        help="with --clothed: which of prior,today,clothed to run (comma separated)",
    )
    parser.add_argument(
        "--outline-is-body",
        action="store_true",
        help="unclothed subjects: fit with clothed=False (the fit before clothes parsing)",
    )
    parser.add_argument(
        "--clothed",
        action="store_true",
        help="dressed subjects: the prior, today's fit and the clothed fit side by side",
    )
    parser.add_argument(
        "--scenes",
        default=None,
        help="with --clothed: a folder of rendered subjects, read where present and written "
        "where not (the drape and renders are most of a subject's time; the fits of another "
        "mode or table then reuse them)",
    )
    parser.add_argument(
        "--arms",
        choices=("rest", "varied"),
        default="rest",
        help="with --clothed: rest: the A-pose; varied: each subject's arms drawn between the "
        "A-pose and hanging (ARMS_DOWN_RAD), the photos the correction also learns from",
    )
    args = parser.parse_args()
    if args.clothed:
        print(json.dumps(run_clothed(args), indent=None if not args.json else 2))
        return 0
    from dataclasses import asdict

    from tryon3d.bodyfit._photo_fit import _REFINE_PX, _REFINE_SPP, fit_body_to_photos
    from tryon3d.bodyfit._photo_fitter import _LEGACY_REFINE_SPP, _LEGACY_SCHEDULE, _SCHEDULE

    settings = _parse_settings(args.compare) if args.compare else [(_REFINE_SPP, _REFINE_PX)]
    # (label, refinement spp, px, schedule, MediaPipe graph per call)
    configs = [
        (f"{spp}x{px}" if args.compare else "ours", spp, px, _SCHEDULE, False)
        for spp, px in settings
    ]
    if args.old_graphs:
        label, spp, px, schedule, _ = configs[0]
        configs[0] = (label, spp, px, schedule, True)
    if args.baseline:
        configs.insert(0, ("baseline", _LEGACY_REFINE_SPP, _REFINE_PX, _LEGACY_SCHEDULE, False))
    views = "front" if args.front_only else "front+side"
    rng = np.random.default_rng(args.seed)
    rows: dict[str, list[dict]] = {config[0]: [] for config in configs}
    loads: dict[str, list[float]] = {config[0]: [] for config in configs}
    for index in range(args.subjects):
        sex = ("female", "male")[index % 2]
        truth, photos, _ = synthetic_subject(rng, sex=sex)
        order = configs[index % len(configs) :] + configs[: index % len(configs)]
        for label, spp, px, schedule, old in order:
            started, cpu_started = time.perf_counter(), time.process_time()
            with (
                _FreshGraphs() if old else contextlib.nullcontext(),
                _UseSchedule(schedule),
                _StageClock() as clock,
            ):
                fit = fit_body_to_photos(
                    photos["front"],
                    None if args.front_only else photos["side"],
                    height_m=truth.measurements_m["stature"],
                    sex=sex,
                    weight_kg=truth.weight_kg if args.with_weight else None,
                    refine_spp=spp,
                    refine_px=px,
                    **({"clothed": False} if args.outline_is_body else {}),
                )
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
            loads[label].append(os.getloadavg()[0])
            errors = {
                g: 100.0 * (fit.body.measurements_m[g] - truth.measurements_m[g]) for g in GIRTHS
            }
            rows[label].append(
                {
                    "sex": sex,
                    "height_cm": round(100 * truth.measurements_m["stature"], 1),
                    "bmi": round(truth.weight_kg / truth.measurements_m["stature"] ** 2, 1),
                    "error_cm": {k: round(v, 2) for k, v in errors.items()},
                    "stature_error_cm": round(
                        100
                        * (fit.body.measurements_m["stature"] - truth.measurements_m["stature"]),
                        2,
                    ),
                    "weight_error_kg": round(fit.body.weight_kg - truth.weight_kg, 2),
                    "scores": {k: round(v, 3) for k, v in fit.scores.items()},
                    # the photo's own reading, before the population prior
                    "outline_error_cm": {
                        g: round(100.0 * (v - truth.measurements_m[g]), 2)
                        for g, v in fit.outline_girths_m.items()
                    },
                    "seconds": round(seconds, 2),
                    "cpu_seconds": round(cpu_seconds, 2),
                    "stage_cpu_seconds": clock.seconds,
                    "load_average_1min": round(loads[label][-1], 2),
                }
            )
            if not args.json or args.progress:
                print(json.dumps({"config": label, **rows[label][-1]}), flush=True)
    results = [
        _summary(
            rows[label],
            label=label,
            schedule=asdict(schedule),
            views=views,
            spp=spp,
            px=px,
            loads=loads[label],
            graph_per_call=old,
        )
        for label, spp, px, schedule, old in configs
    ]
    if len(results) == 1:
        result = results[0]
    else:
        result = {"benchmark": "photo_fit_compare", "settings": results}
        if args.baseline:
            result["versus_baseline"] = _versus(results[0], results[1:])
    print(json.dumps(result, indent=None if not args.json else 2))
    return 0


def _versus(baseline: dict, others: list[dict]) -> dict:
    """Per other setting: MAE change per girth [cm] against the baseline (gate: <= 0.2 cm), and
    the CPU and wall speed-ups per subject."""
    out = {}
    for other in others:
        delta = {g: round(other["mae_cm"][g] - baseline["mae_cm"][g], 2) for g in GIRTHS}
        out[other["label"]] = {
            "mae_change_cm": delta,
            "mae_gate_cm": MAE_GATE_CM,
            "within_gate": all(value <= MAE_GATE_CM for value in delta.values()),
            "cpu_speedup": round(
                baseline["cpu_seconds_per_subject"] / max(other["cpu_seconds_per_subject"], 1e-9),
                2,
            ),
            "wall_speedup": round(
                baseline["seconds_per_subject"] / max(other["seconds_per_subject"], 1e-9), 2
            ),
        }
    return out


if __name__ == "__main__":
    raise SystemExit(main())
