"""Body from measurements: a 3D body from height, weight and sex (girths optional).

Shows ``tryon3d.body_from_measurements`` (user units: cm, kg), the tape measurements the body
carries and ``tryon3d.save_body``. Girths left out are predicted from the ANSUR II survey.

Writes into ``-o OUT`` (default ``out/examples/body_from_measurements``):

- ``body.json``: inputs, tape measurements [cm], model parameters (``tryon3d.load_body`` reads it)
- ``body.glb``: the mesh (glTF, y-up, metres)
- ``front.png``: a studio render of the body from the front

Run: ``python examples/body_from_measurements.py [--quick] [-o OUT] [--height 175 --weight 70
--sex male --chest 100]``. ``--quick`` renders a small, noisier picture (the body is the same).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from PIL import Image

import tryon3d
from tryon3d import render


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small render (for tests)")
    parser.add_argument("-o", "--output", default="out/examples/body_from_measurements")
    parser.add_argument("--height", type=float, default=168.0, help="stature [cm]")
    parser.add_argument("--weight", type=float, default=62.0, help="body mass [kg]")
    parser.add_argument("--sex", default="female", choices=("female", "male"))
    parser.add_argument("--chest", type=float, default=None, help="chest girth [cm], optional")
    parser.add_argument("--waist", type=float, default=None, help="waist girth [cm], optional")
    parser.add_argument("--hips", type=float, default=None, help="hip girth [cm], optional")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        body = tryon3d.body_from_measurements(
            height_cm=args.height,
            weight_kg=args.weight,
            sex=args.sex,
            chest_cm=args.chest,
            waist_cm=args.waist,
            hips_cm=args.hips,
        )
    except ValueError as exc:  # bad numbers: one line, exit code 2, as the CLI does
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, value_m in body.measurements_m.items():
        print(f"{name:>18}: {value_m * 100:6.1f} cm")
    print(f"{'weight (mesh)':>18}: {body.weight_kg:6.1f} kg")

    height = 160 if args.quick else 640
    shot = render.render_body(
        body, camera="front", width=height * 3 // 4, height=height, spp=4 if args.quick else 64
    )
    front = (np.clip(shot.composite(), 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    written = tryon3d.save_body(body, args.output, extra_files={"front.png": _png_bytes(front)})
    print("wrote", ", ".join(str(p) for p in written))
    return 0


def _png_bytes(pixels: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


if __name__ == "__main__":
    sys.exit(main())
