"""Photo fitting on synthetic ground truth: anny bodies of known measurements, rendered front and
side (skin material, studio light, over a cluttered background, known camera), fitted back from
the images and the stature alone.

Reports the chest/waist/hip mean absolute error (cm) and the fitting time per subject.

Usage: python benchmarks/photo_fit.py [--json] [--subjects 6] [--front-only] [--with-weight]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from tryon3d import bodyfit, render

GIRTHS = ("chest", "waist", "hips")


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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--subjects", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--front-only", action="store_true", help="fit the front photo alone")
    parser.add_argument("--with-weight", action="store_true", help="also give the true weight")
    args = parser.parse_args()
    from tryon3d.bodyfit._photo_fit import fit_body_to_photos

    rng = np.random.default_rng(args.seed)
    rows = []
    for index in range(args.subjects):
        sex = ("female", "male")[index % 2]
        truth, photos, _ = synthetic_subject(rng, sex=sex)
        started = time.perf_counter()
        fit = fit_body_to_photos(
            photos["front"],
            None if args.front_only else photos["side"],
            height_m=truth.measurements_m["stature"],
            sex=sex,
            weight_kg=truth.weight_kg if args.with_weight else None,
        )
        seconds = time.perf_counter() - started
        errors = {g: 100.0 * (fit.body.measurements_m[g] - truth.measurements_m[g]) for g in GIRTHS}
        rows.append(
            {
                "sex": sex,
                "height_cm": round(100 * truth.measurements_m["stature"], 1),
                "bmi": round(truth.weight_kg / truth.measurements_m["stature"] ** 2, 1),
                "error_cm": {k: round(v, 2) for k, v in errors.items()},
                "stature_error_cm": round(
                    100 * (fit.body.measurements_m["stature"] - truth.measurements_m["stature"]), 2
                ),
                "weight_error_kg": round(fit.body.weight_kg - truth.weight_kg, 2),
                "scores": {k: round(v, 3) for k, v in fit.scores.items()},
                "seconds": round(seconds, 1),
            }
        )
        if not args.json:
            print(json.dumps(rows[-1]), flush=True)
    mae = {g: round(float(np.mean([abs(r["error_cm"][g]) for r in rows])), 2) for g in GIRTHS}
    result = {
        "benchmark": "photo_fit",
        "views": "front" if args.front_only else "front+side",
        "subjects": len(rows),
        "mae_cm": mae,
        "mae_cm_mean": round(float(np.mean(list(mae.values()))), 2),
        "target_mae_cm": 2.5,
        "seconds_per_subject": round(float(np.mean([r["seconds"] for r in rows])), 1),
        "target_seconds_per_subject": 30.0,
        "rows": rows,
    }
    print(json.dumps(result, indent=None if not args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
