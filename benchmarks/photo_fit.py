"""Photo fitting on synthetic ground truth: anny bodies of known measurements, rendered front and
side (skin material, studio light, over a cluttered background, known camera), fitted back from
the images and the stature alone.

Reports the chest/waist/hip mean absolute error (cm) and the fitting time per subject (wall and
CPU seconds of this process).

Usage: python benchmarks/photo_fit.py [--json] [--subjects 6] [--front-only] [--with-weight]
       [--compare 4x192,1x160]  (refinement spp x crop px; subjects fitted with each, alternating)
       [--baseline]  (also fit each subject the way it was fitted before issue 19: 4 spp at
                      192 px from the first refinement step to the IoU plateau, torch on two
                      threads there; reports the MAE change per girth against it)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time

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
        camera = render.camera_preset(
            vertices,
            view,
            width=size,
            height=size,
            fov_y_deg=rng.uniform(25, 45),
            margin=rng.uniform(0.04, 0.12),
        )
        shot = render.render_body(posed, camera=camera, spp=16, seed=int(rng.integers(1 << 30)))
        rgba = shot.rgba
        alpha = rgba[..., 3:4]
        image = rgba[..., :3] * alpha + background(rng, size) * (1 - alpha)
        photos[view] = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
        cameras[view] = camera
    return body, photos, cameras


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
    args = parser.parse_args()
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
            with _FreshGraphs() if old else contextlib.nullcontext(), _UseSchedule(schedule):
                fit = fit_body_to_photos(
                    photos["front"],
                    None if args.front_only else photos["side"],
                    height_m=truth.measurements_m["stature"],
                    sex=sex,
                    weight_kg=truth.weight_kg if args.with_weight else None,
                    refine_spp=spp,
                    refine_px=px,
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
                    "seconds": round(seconds, 2),
                    "cpu_seconds": round(cpu_seconds, 2),
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
