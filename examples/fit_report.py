"""Fit report: which size fits this body, and why, as an HTML page and JSON.

Shows ``tryon3d.fit_report`` (drapes the size chart's answer and its neighbours, measures ease,
stretch, lengths and quality gates on each, recommends one size with a confidence) and
``tryon3d.write_report`` (renders fit maps, a front view and a turntable, writes the page).

Writes into ``-o OUT`` (default ``out/examples/fit_report``):

- ``report.html``: the page (open it in a browser; the 3D view works offline)
- ``report.json``: ``recommended_size``, ``confidence`` and per size ``ease_cm``, ``stretch_pct``,
  ``lengths``, ``gates`` and ``verdict``
- ``fitmap_<size>.png``, ``draped_<size>.glb``, ``front.png``, ``turntable.gif``/``.mp4``,
  ``viewer/`` (the vendored 3D viewer)

Run: ``python examples/fit_report.py [--quick] [-o OUT] [--body body.json] [--garment tshirt]
[--sizes auto|S,M,L]``. ``--quick`` drapes on a coarse cloth mesh (5 cm edges) and renders
small images and a four-frame turntable.
"""

from __future__ import annotations

import argparse
import sys

import tryon3d


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="coarse mesh, small images (for tests)"
    )
    parser.add_argument("-o", "--output", default="out/examples/fit_report")
    parser.add_argument("--body", default=None, help="a body.json (or its folder)")
    parser.add_argument("--garment", default="tshirt", help="family: tshirt, dress, trousers, ...")
    parser.add_argument(
        "--sizes",
        default="auto",
        help="'auto' (the chart's answer and its neighbours), 'all' or S,M,L",
    )
    parser.add_argument("--fabric", default=None, help="fabric preset (default: the family's)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    edge_length_m, image_size, frames = (0.05, 128, 4) if args.quick else (0.03, 384, 24)
    sizes = args.sizes if args.sizes in ("auto", "all") else args.sizes.split(",")
    try:
        if args.body:
            body = tryon3d.load_body(args.body)
        else:
            body = tryon3d.body_from_measurements(height_cm=168, weight_kg=62, sex="female")
        report = tryon3d.fit_report(
            body,
            args.garment,
            sizes=sizes,
            fabric=args.fabric,
            device=args.device,
            edge_length_m=edge_length_m,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"recommended size: {report.recommended_size} "
        f"(confidence {report.confidence:.0%}, {report.confidence_label}); "
        f"the size chart alone says {report.chart_size}"
    )
    for reason in report.reasons:
        print("  -", reason)
    for size, fit in report.sizes.items():
        region = fit.governing_region
        print(f"  {size:>4}: {fit.verdict:<10} {region} ease {fit.ease_cm[region]:5.1f} cm")
    written = tryon3d.write_report(
        report, args.output, image_size=image_size, turntable_frames=frames
    )
    print(f"wrote {len(written)} files into {args.output}; open report.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
