"""Body from photos: a 3D body, its pose and the camera fitted to a full-body front photo.

Shows ``tryon3d.bodyfit.fit_body_to_photos`` (MediaPipe keypoints and person mask, then anny's
shape, a pose and a camera fitted to them; the stature is a hard prior) and what it returns: the
body in the photo's pose, the fitted camera, the fitted silhouette and a diagnostic overlay.

The photo: ``--photo PATH``, else the sample photo ``../shared/photos/ryota_front.png`` beside
the checkout (a 172 cm man), else a synthetic photo: a known body rendered in front of a
patterned backdrop (then ``photo.png`` is written too, and the true measurements are printed;
``--synthetic``
forces it).

Writes into ``-o OUT`` (default ``out/examples/body_from_photos``):

- ``body.json`` + ``body.glb``: the body (``vertices`` posed as in the photo; ``tryon3d.load_body``)
- ``camera.json``: the photo's camera (``tryon3d.render.Camera.from_dict`` reads it)
- ``silhouette_front.png`` (the fitted body's pixels) and ``overlay_front.png``
- ``photo.png`` and ``true_silhouette.png`` (the rendered body's pixels): only for the
  synthetic photo

Run: ``python examples/body_from_photos.py [--quick] [-o OUT] [--photo front.jpg --height 175
--sex female [--weight 70]]``. ``--quick`` runs fewer fitting steps (a rougher fit).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

import tryon3d
from tryon3d import bodyfit, render

SAMPLE_PHOTO = Path(__file__).resolve().parents[1].parent / "shared" / "photos" / "ryota_front.png"
SAMPLE_HEIGHT_CM, SAMPLE_SEX = 172.0, "male"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer fitting steps (for tests)")
    parser.add_argument("-o", "--output", default="out/examples/body_from_photos")
    parser.add_argument("--photo", default=None, help="full-body front photo (default: sample)")
    parser.add_argument("--height", type=float, default=None, help="stature [cm]")
    parser.add_argument("--weight", type=float, default=None, help="body mass [kg], optional")
    parser.add_argument("--sex", default=None, choices=("female", "male"))
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="use the synthetic photo even when the sample photo is there",
    )
    return parser.parse_args(argv)


def synthetic_photo(*, size: int = 384) -> tuple[np.ndarray, bodyfit.Body, np.ndarray]:
    """A known body (168 cm, 72 kg woman) rendered in front of a patterned backdrop:
    the (size, size, 3) uint8 photo, the true body and its (size, size) bool silhouette."""
    truth = tryon3d.body_from_measurements(height_cm=168, weight_kg=72, sex="female")
    camera = render.look_at_camera(
        (0.25, -4.2, 1.0), (0.0, 0.0, 0.85), fov_y_deg=30.0, width=size, height=size
    )
    shot = render.render_body(truth, camera=camera, spp=16)
    v, u = np.mgrid[0:size, 0:size] / size
    backdrop = np.stack([0.3 + 0.4 * u, 0.5 + 0.2 * np.sin(8 * v), 0.6 - 0.3 * v], axis=-1)
    alpha = shot.rgba[..., 3:4]
    image = shot.rgba[..., :3] * alpha + backdrop * (1 - alpha)
    photo = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    return photo, truth, shot.rgba[..., 3] > 0.5


def choose_photo(
    args: argparse.Namespace,
) -> tuple[str | np.ndarray, float, str, object, np.ndarray | None]:
    """(photo, stature [cm], sex, true body or None, true silhouette or None) from the
    arguments and what is on disk."""
    if args.photo:
        if args.height is None or args.sex is None:
            raise ValueError("--photo needs --height and --sex")
        return args.photo, args.height, args.sex, None, None
    if SAMPLE_PHOTO.is_file() and not args.synthetic:
        height = args.height or SAMPLE_HEIGHT_CM
        return str(SAMPLE_PHOTO), height, args.sex or SAMPLE_SEX, None, None
    pixels, truth, silhouette = synthetic_photo()
    return pixels, truth.measurements_m["stature"] * 100, "female", truth, silhouette


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    steps = {"proxy_steps": 50, "refine_steps": 8} if args.quick else {}
    try:
        photo, height_cm, sex, truth, true_silhouette = choose_photo(args)
        print(
            f"fitting a {height_cm:.0f} cm {sex} body to "
            f"{photo if isinstance(photo, str) else 'a synthetic photo'}..."
        )
        fit = bodyfit.fit_body_to_photos(
            photo, height_m=height_cm / 100, sex=sex, weight_kg=args.weight, **steps
        )
    except ValueError as exc:  # unreadable photo, no person found, bad numbers
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"fitted in {fit.seconds:.1f} s; "
        + ", ".join(f"{k} {v:.3f}" for k, v in fit.scores.items())
    )
    for name in ("stature", "chest", "waist", "hips"):
        known = f" (true {truth.measurements_m[name] * 100:.1f})" if truth is not None else ""
        print(f"{name:>8}: {fit.body.measurements_m[name] * 100:6.1f} cm{known}")

    files = {
        "camera.json": (json.dumps(fit.cameras["front"].to_dict(), indent=2) + "\n").encode(),
        "silhouette_front.png": _png(fit.silhouettes["front"].astype(np.uint8) * 255),
        "overlay_front.png": _png(fit.overlays["front"]),
    }
    if true_silhouette is not None:
        files["photo.png"] = _png(photo)
        files["true_silhouette.png"] = _png(true_silhouette.astype(np.uint8) * 255)
    written = tryon3d.save_body(fit.body, args.output, extra_files=files)
    print("wrote", ", ".join(p.name for p in written), "into", args.output)
    return 0


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


if __name__ == "__main__":
    sys.exit(main())
