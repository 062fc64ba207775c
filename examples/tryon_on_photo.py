"""Try-on on a photo: a garment draped on the body fitted to a photo, drawn into that photo.

Shows the photo path end to end: ``tryon3d.bodyfit.fit_body_to_photos`` (body in the photo's
pose and the photo's camera), ``tryon3d.drape`` (the cloth settles in the canonical pose and is
carried to the photo's pose) and ``tryon3d.render_on_photo`` (lit to match the photo; the face,
hair and hands stay in front of the garment).

The body and camera come from ``--body DIR``, a folder written by ``examples/body_from_photos.py``
(``body.json`` + ``camera.json``, and ``photo.png`` for its synthetic photo), or are fitted here
to ``--photo`` or the same sample photo that example uses.

Writes into ``-o OUT`` (default ``out/examples/tryon_on_photo``):

- ``tryon.png``: the photo with the garment, at the photo's size
- ``garment_mask.png``: the garment's pixels (white)

Run: ``python examples/tryon_on_photo.py [--quick] [-o OUT] [--body DIR] [--photo front.jpg
--height 175 --sex female] [--garment tshirt --size M]``. ``--quick``: a coarse cloth mesh
(5 cm edges), a rougher photo fit and a cheaper lighting fit.
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
    parser.add_argument("--quick", action="store_true", help="coarse and fast (for tests)")
    parser.add_argument("-o", "--output", default="out/examples/tryon_on_photo")
    parser.add_argument(
        "--body",
        default=None,
        help="folder from examples/body_from_photos.py (body.json, camera.json)",
    )
    parser.add_argument("--photo", default=None, help="full-body front photo (default: sample)")
    parser.add_argument("--height", type=float, default=None, help="stature [cm] (fitting here)")
    parser.add_argument("--sex", default=None, choices=("female", "male"))
    parser.add_argument("--garment", default="tshirt", help="family: tshirt, dress, ...")
    parser.add_argument("--size", default="M")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    return parser.parse_args(argv)


def photo_body(args: argparse.Namespace) -> tuple[np.ndarray, bodyfit.Body, render.Camera, object]:
    """(photo (H, W, 3) uint8, body posed as in the photo, its camera, person mask or None)."""
    photo = args.photo
    if photo is None and args.body and (Path(args.body) / "photo.png").is_file():
        photo = str(Path(args.body) / "photo.png")  # the synthetic photo that body was fitted to
    if photo is None:
        if not SAMPLE_PHOTO.is_file():
            raise ValueError(f"no --photo given and no sample photo at {SAMPLE_PHOTO}")
        photo = str(SAMPLE_PHOTO)
    pixels = bodyfit.load_photo(photo).pixels  # upright (EXIF applied), RGB uint8
    if args.body:
        camera_file = Path(args.body) / "camera.json"
        if not camera_file.is_file():
            raise ValueError(f"{camera_file} is missing: run examples/body_from_photos.py first")
        camera = render.Camera.from_dict(json.loads(camera_file.read_text()))
        return pixels, tryon3d.load_body(args.body), camera, None
    height_cm = args.height or (SAMPLE_HEIGHT_CM if photo == str(SAMPLE_PHOTO) else None)
    sex = args.sex or (SAMPLE_SEX if photo == str(SAMPLE_PHOTO) else None)
    if height_cm is None or sex is None:
        raise ValueError("--photo needs --height and --sex")
    steps = {"proxy_steps": 50, "refine_steps": 8} if args.quick else {}
    fit = bodyfit.fit_body_to_photos(pixels, height_m=height_cm / 100, sex=sex, **steps)
    mask = fit.analyses["front"].mask  # MediaPipe's person mask, at the analysis size
    mask = (
        np.asarray(
            Image.fromarray((mask * 255).astype(np.uint8)).resize(
                (pixels.shape[1], pixels.shape[0]), Image.BILINEAR
            ),
            dtype=np.float32,
        )
        / 255.0
    )
    return pixels, fit.body, fit.cameras["front"], mask


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        pixels, body, camera, person_mask = photo_body(args)
        garment = tryon3d.load_garment(
            args.garment, size=args.size, body=body, edge_length_m=0.05 if args.quick else 0.03
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"draping {garment.name} {garment.size} on the photo's body...")
    draped = tryon3d.drape(body, garment, device=args.device)
    print(f"gates {'passed' if draped.gates.passed else 'failed'}; compositing...")
    options = {"light_steps": 10, "spp": 4} if args.quick else {}
    image, garment_mask = tryon3d.render_on_photo(
        body, draped, pixels, camera, person_mask, texture=garment.texture_path, **options
    )
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for name, array in (("tryon.png", image), ("garment_mask.png", garment_mask * np.uint8(255))):
        buffer = io.BytesIO()
        Image.fromarray(np.asarray(array, dtype=np.uint8)).save(buffer, format="PNG")
        (out / name).write_bytes(buffer.getvalue())
    print(
        f"wrote tryon.png and garment_mask.png into {out} "
        f"(the garment covers {garment_mask.mean():.1%} of the photo)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
