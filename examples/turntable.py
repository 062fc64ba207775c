"""Turntable: the dressed body turning once, as a GIF or MP4 video.

Shows ``tryon3d.render_turntable`` (Mitsuba 3; the scene is built once and the camera moves
round it) on a fresh drape, or on a drape saved by ``examples/drape_and_fit_maps.py``
(``--drape OUT``, read with ``tryon3d.sim.load_drape``).

Writes into ``-o OUT`` (default ``out/examples/turntable``):

- ``turntable.gif`` (``--quick``: six 128 px frames) or ``turntable.mp4`` (36 frames, 512 px)
- ``frame_000.png``: the first frame, the front view

Run: ``python examples/turntable.py [--quick] [-o OUT] [--body body.json [--drape DRAPE_DIR]]
[--garment dress --size M]``. Without ``--drape`` the garment is draped first (coarse in
``--quick``).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from PIL import Image

import tryon3d
from tryon3d import sim

GARMENT_COLOR = (0.55, 0.08, 0.10)  # linear RGB of an untextured drape: a dark red


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few small frames (for tests)")
    parser.add_argument("-o", "--output", default="out/examples/turntable")
    parser.add_argument("--body", default=None, help="a body.json (or its folder)")
    parser.add_argument(
        "--drape", default=None, help="a saved drape (drape.npz or its folder) made on --body"
    )
    parser.add_argument("--garment", default="dress", help="family to drape without --drape")
    parser.add_argument("--size", default="M")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    frames, size, spp = (6, 128, 1) if args.quick else (36, 512, 16)
    try:
        if args.drape and not args.body:
            raise ValueError("--drape needs the --body it was draped on")
        if args.body:
            body = tryon3d.load_body(args.body)
        else:
            body = tryon3d.body_from_measurements(height_cm=168, weight_kg=62, sex="female")
        if args.drape:
            draped = sim.load_drape(args.drape)
        else:
            garment = tryon3d.load_garment(
                args.garment, size=args.size, body=body, edge_length_m=0.05 if args.quick else 0.03
            )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.drape:
        print(f"draping {garment.name} {garment.size} ({garment.vertex_count} vertices)...")
        draped = tryon3d.drape(body, garment, device=args.device)

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    video = out / ("turntable.gif" if args.quick else "turntable.mp4")
    images = tryon3d.render_turntable(
        body, draped, frames=frames, size=size, spp=spp, path=video, garment_color=GARMENT_COLOR
    )
    buffer = io.BytesIO()
    Image.fromarray(images[0]).save(buffer, format="PNG")
    (out / "frame_000.png").write_bytes(buffer.getvalue())
    print(f"wrote {video} ({len(images)} frames of {size} px) and {out / 'frame_000.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
