"""Drape and fit maps: a garment draped on a body, and where it pulls, presses and hangs loose.

Shows ``tryon3d.load_garment`` (a sewing-pattern family in a size, placed around the body),
``tryon3d.drape`` (Newton's Style3D cloth; quality gates and ease per region on the result) and
``tryon3d.render_fitmap`` for each field: stretch [%], contact pressure [Pa], ease [cm].

Writes into ``-o OUT`` (default ``out/examples/drape_and_fit_maps``):

- ``fitmap_stretch.png``, ``fitmap_pressure.png``, ``fitmap_ease.png``: front and back, with legend
- ``drape.json`` (gates, ease [cm], stretch statistics) and ``drape.npz`` (the whole Drape,
  ``tryon3d.sim.load_drape`` reads it back: ``examples/turntable.py --drape OUT`` does)
- ``draped.glb``: body and garment for any glTF viewer

Run: ``python examples/drape_and_fit_maps.py [--quick] [-o OUT] [--body body.json]
[--garment tshirt --size M --fabric cotton_jersey]``. Without ``--body`` a default body is built.
``--quick`` uses a coarse cloth mesh (5 cm edges) and small, noisy maps.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import tryon3d
from tryon3d import sim


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="coarse mesh, small maps (for tests)")
    parser.add_argument("-o", "--output", default="out/examples/drape_and_fit_maps")
    parser.add_argument("--body", default=None, help="a body.json (or its folder) to drape on")
    parser.add_argument("--garment", default="tshirt", help="family: tshirt, dress, trousers, ...")
    parser.add_argument("--size", default="M")
    parser.add_argument("--fabric", default=None, help="fabric preset (default: the family's)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    edge_length_m, map_size, spp = (0.05, 160, 1) if args.quick else (0.025, 512, 16)
    try:
        if args.body:
            body = tryon3d.load_body(args.body)
        else:
            body = tryon3d.body_from_measurements(height_cm=168, weight_kg=62, sex="female")
        garment = tryon3d.load_garment(
            args.garment, size=args.size, fabric=args.fabric, body=body, edge_length_m=edge_length_m
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{garment.name} {garment.size}: {garment.vertex_count} cloth vertices, draping...")
    result = tryon3d.drape(body, garment, device=args.device)
    gates = result.gates
    print(
        f"gates {'passed' if gates.passed else 'FAILED'}: max stretch {gates.max_stretch_pct:.0f} "
        "%, "
        f"{gates.penetrating_vertices} vertices inside the body"
    )
    for region, ease_m in result.ease_m.items():
        if math.isfinite(ease_m):  # NaN: the garment does not reach that region
            print(f"  ease at {region:>9}: {ease_m * 100:5.1f} cm")

    files: dict[str, bytes] = {}
    for field in ("stretch", "pressure", "ease"):
        files[f"fitmap_{field}.png"] = tryon3d.render_fitmap(
            body, result, field=field, size=map_size, spp=spp
        )
    files["drape.json"] = (json.dumps(sim.drape_to_json(result), indent=2) + "\n").encode()
    files["drape.npz"] = sim.drape_to_npz(result)
    files["draped.glb"] = sim.drape_to_glb(body, result, texture=garment.texture_path)
    out = _write(args.output, files)
    print("wrote", ", ".join(sorted(files)), "into", out)
    return 0


def _write(folder: str, files: dict[str, bytes]) -> str:
    from pathlib import Path

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    return str(out)


if __name__ == "__main__":
    sys.exit(main())
