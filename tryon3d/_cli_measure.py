"""``tryon3d measure``: the full tape on a body (our body.json, or an anny mesh as OBJ/GLB)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from tryon3d._files import ensure_writable_dir, write_files_atomically
from tryon3d._units import m_to_cm

log = logging.getLogger("tryon3d")

DEFINITIONS = ("ansur", "iso8559")
_MESH_SUFFIXES = (".obj", ".glb", ".gltf", ".ply", ".stl")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "measure",
        help="tape-measure a body: girths, lengths and heights, with a picture of the tape",
        description=(
            "Measure BODY (our body.json, an anny mesh: OBJ/GLB, y-up or z-up, m/cm/mm, or an "
            "SMPL-X mesh in its own frame, which needs the SMPL-X model files) and "
            "write OUT/measurements.json (cm, each labelled with its definition) and OUT/tape.svg "
            "(front and side views with the tape lines and landmarks)."
        ),
    )
    parser.add_argument("body", metavar="BODY", help="body.json, or a mesh file (.obj, .glb)")
    parser.add_argument(
        "--definitions", default="ansur", choices=DEFINITIONS,
        help=(
            "ansur (ANSUR II, default) or iso8559 (ISO 8559-1: the waist is the natural waist); "
            "both report ISO's shoulder width over the back as iso_shoulder_width"
        ),
    )  # fmt: skip
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder")
    parser.add_argument(
        "--smplx-model-dir", metavar="DIR", default=None,
        help="folder with SMPLX_*.npz, for SMPL-X meshes and bodies (or env TRYON3D_SMPLX_DIR)",
    )  # fmt: skip
    parser.add_argument(
        "--json", action="store_true", help="also print measurements.json to stdout"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tryon3d import bodyfit

    path = Path(args.body)
    if not path.is_file():
        raise ValueError(f"body file not found: {path}")
    ensure_writable_dir(args.output)
    suffix = path.suffix.lower()
    if suffix == ".json":
        from tryon3d._bodies import load_body

        tape = bodyfit.measure_body(load_body(path, smplx_model_dir=args.smplx_model_dir))
    elif suffix in _MESH_SUFFIXES:
        import trimesh

        try:
            mesh = trimesh.load(path, force="mesh", process=False)
        except Exception as error:  # trimesh raises many types for unreadable files
            raise ValueError(f"cannot read mesh {path.name}: {error}") from None
        tape = bodyfit.measure_mesh(mesh.vertices, mesh.faces, smplx_model_dir=args.smplx_model_dir)
    else:
        raise ValueError(
            f"BODY must be .json or a mesh ({', '.join(_MESH_SUFFIXES)}), got {path.name}"
        )
    definitions = bodyfit.tape_definitions(args.definitions)
    values = dict(tape.measurements_m)
    if args.definitions == "iso8559":
        values["waist"] = values["iso_waist"]  # ISO's waist is the natural waist
    content = {
        "definitions": args.definitions,
        "source": tape.source,
        "unit": "cm",
        "measurements_cm": {name: round(m_to_cm(value), 2) for name, value in values.items()},
        "labels": {name: definitions[name] for name in values},
        "landmarks_cm": {
            name: [round(m_to_cm(float(c)), 2) for c in point]
            for name, point in tape.landmarks_m.items()
        },
    }
    text = json.dumps(content, indent=2) + "\n"
    captions = {name: name.replace("_", " ") for name in values}
    written = write_files_atomically(
        args.output,
        {"measurements.json": text, "tape.svg": bodyfit.tape_svg(tape, labels=captions)},
    )
    if args.json:
        print(text, end="")
    else:
        log.info("wrote %s", ", ".join(str(p) for p in written))
    return 0
