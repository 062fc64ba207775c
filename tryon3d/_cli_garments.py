"""``tryon3d garments``: list families, sizes, fabrics; show a garment (pattern SVG, placed GLB)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from tryon3d._units import cm_to_m

_LOG = logging.getLogger("tryon3d.garments")
DEFAULT_BODY: dict[str, Any] = {"height_m": 1.70, "weight_kg": 65.0, "sex": "female"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("garments", help="garment families, sizes and fabrics")
    commands = parser.add_subparsers(dest="garments_command", metavar="ACTION")
    commands.required = True
    listing = commands.add_parser("list", help="list families (with sizes) and fabric presets")
    listing.set_defaults(run=run_list)
    show = commands.add_parser(
        "show", help="write OUT/pattern.svg and OUT/garment.glb (on the default body)"
    )
    show.add_argument(
        "family",
        help="garment family (e.g. tshirt) or garment file (.dxf, GarmentCode .json, "
        ".obj/.glb/.gltf/.ply)",
    )
    show.add_argument(
        "--size", default=None, help="size label (XS..5XL; default M), or a graded DXF's size"
    )
    show.add_argument("--fabric", default=None, help="fabric preset or description, e.g. denim")
    show.add_argument(
        "--edge-length-cm", type=float, default=2.0, help="triangle edge length [cm], default 2"
    )
    show.add_argument("-o", "--out", required=True, help="output folder")
    show.set_defaults(run=run_show)
    inspect = commands.add_parser(
        "inspect",
        help="write OUT/pieces.svg (numbered edges, inferred roles and "
        "seams) and OUT/sidecar.template.json for a DXF pattern file",
    )
    inspect.add_argument("file", help="a DXF pattern file (AAMA/ASTM, Gerber, Lectra, CLO...)")
    inspect.add_argument(
        "--size", default=None, help="size to inspect (default: the file's sample size)"
    )
    inspect.add_argument("-o", "--out", required=True, help="output folder")
    inspect.set_defaults(run=run_inspect)


def run_list(args: argparse.Namespace) -> int:
    from tryon3d import garments

    print("families:")
    for name, info in garments.list_families().items():
        print(
            f"  {name:<11} {info['description']}; sizes {' '.join(info['sizes'])}; default fabric "
            f"{info['fabric']}"
        )
    print("fabrics:")
    for name, fabric in garments.list_fabrics().items():
        print(
            f"  {name:<16} {fabric.areal_density_kg_m2 * 1000:.0f} g/m2, stretch limit "
            f"{fabric.stretch_limit_pct:.0f} %"
        )
    return 0


def run_show(args: argparse.Namespace) -> int:
    from tryon3d._files import ensure_writable_dir, write_files_atomically

    ensure_writable_dir(args.out)
    from tryon3d import bodyfit, garments

    is_file = args.family not in garments.FAMILIES and Path(args.family).suffix != ""
    if not is_file and args.family not in garments.FAMILIES:
        raise ValueError(
            f"unknown garment family {args.family!r}; expected one of {sorted(garments.FAMILIES)} "
            f"or a garment file"
        )
    if is_file and not Path(args.family).is_file():
        raise ValueError(f"garment file {args.family!r} not found")
    size = args.size
    if not is_file:
        size = "M" if size is None else size
        if size not in garments.size_chart(args.family):  # fail fast before building the body
            raise ValueError(
                f"unknown size {size!r}; expected one of {list(garments.size_chart(args.family))}"
            )
    if args.fabric is not None:
        garments.resolve_fabric(args.fabric)
    body = bodyfit.body_from_measurements(**DEFAULT_BODY)
    garment = garments.load_garment(
        args.family,
        size=size,
        fabric=args.fabric,
        body=body,
        edge_length_m=cm_to_m(args.edge_length_cm),
    )
    files: dict[str, bytes | str] = {"garment.glb": garments.garment_to_glb(garment, body)}
    if garment.pattern_positions is not None and garment.metadata.pattern is not None:
        files["pattern.svg"] = garments.pattern_svg(garment)
    for line in garment.metadata.import_log or []:
        _LOG.info("%s: %s", garment.name, line)
    written = write_files_atomically(args.out, files)
    _LOG.info(
        "%s size %s (%s, %d vertices): %s",
        garment.name,
        garment.size,
        garment.fabric.name,
        garment.vertex_count,
        ", ".join(str(p) for p in written),
    )
    return 0


def run_inspect(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tryon3d._files import ensure_writable_dir, write_files_atomically

    if Path(args.file).suffix.lower() != ".dxf":
        raise ValueError(f"garments inspect reads DXF pattern files, got {Path(args.file).name!r}")
    ensure_writable_dir(args.out)
    from tryon3d import garments

    result = garments.inspect_pattern_file(args.file, size=args.size)
    written = write_files_atomically(
        args.out, {k: result[k] for k in ("pieces.svg", "sidecar.template.json")}
    )
    print(result["summary"])
    _LOG.info("wrote %s", ", ".join(str(p) for p in written))
    return 0
