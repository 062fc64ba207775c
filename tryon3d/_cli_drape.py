"""``tryon3d drape``: drape a garment on a saved body; writes draped.glb, drape.json, drape.npz."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body

_log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "drape",
        help="drape a garment on a body (Newton Style3D cloth simulation)",
        description="Drape a garment family/size on a body from `tryon3d body`; writes "
        "OUT/draped.glb (body + textured garment), OUT/drape.json (gates, ease, timings) and "
        "OUT/drape.npz (all drape arrays, for `tryon3d render`).",
    )
    parser.add_argument(
        "--body", required=True, help="body file written by `tryon3d body` (body.json)"
    )
    parser.add_argument(
        "--garment", required=True, help="garment family (e.g. tshirt) or garment file"
    )
    parser.add_argument(
        "--size",
        default=None,
        help="size label (families: default M; a graded DXF: the size to read)",
    )
    parser.add_argument(
        "--fabric", default=None, help="fabric preset, e.g. cotton_jersey (default: the family's)"
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default cpu)")
    parser.add_argument(
        "--max-seconds", type=float, default=4.0, help="simulated-time budget per settle [s]"
    )
    parser.add_argument("-o", "--output", required=True, help="output folder")
    parser.set_defaults(run=run)


#: Exit status of a drape that ran but failed its quality gates (outputs still written).
EXIT_GATES = 3


def _load_garment(name: str, size: str | None, fabric: str | None, body: Body):
    from tryon3d import garments

    return garments.load_garment(name, size=size, fabric=fabric, body=body)


def run(args: argparse.Namespace) -> int:
    from tryon3d._files import ensure_writable_dir, write_files_atomically

    out = ensure_writable_dir(args.output)  # fail before the slow work
    device = str(args.device)
    if not (device == "cpu" or device.startswith("cuda")):
        raise ValueError(f"--device must be cpu or cuda[:N], got {device!r}")

    from tryon3d import sim
    from tryon3d._bodies import load_body

    body = load_body(args.body)
    garment = _load_garment(args.garment, args.size, args.fabric, body)
    _log.info(
        "draping %s %s (%d vertices) on %s",
        garment.name,
        garment.size,
        garment.vertex_count,
        device,
    )
    result = sim.drape(body, garment, device=device, max_seconds_simulated=args.max_seconds)
    summary = sim.drape_to_json(result)
    summary["body_file"] = str(Path(args.body).resolve())  # lets `tryon3d render` rebuild the body
    glb = sim.drape_to_glb(body, result, texture=garment.texture_path)
    write_files_atomically(
        out,
        {
            "draped.glb": glb,
            "drape.json": json.dumps(summary, indent=2) + "\n",
            "drape.npz": sim.drape_to_npz(result),
        },
    )
    gates = summary["gates"]
    _log.info(
        "drape %s in %.1f s: %d penetrating, %d self-intersecting, max stretch %.1f %%, converged "
        "%s -> %s",
        "passed" if gates["passed"] else "FAILED gates",
        summary["timings_s"]["total"],
        gates["penetrating_vertices"],
        gates["self_intersecting_pairs"],
        gates["max_stretch_pct"],
        gates["converged"],
        out,
    )
    from tryon3d.cli import EXIT_GATES, gates_failure

    failure = gates_failure(result.gates)
    if failure:
        print(
            f"tryon3d: the drape failed its gates: {failure} (files written to {out})",
            file=sys.stderr,
        )
        return EXIT_GATES
    return 0
