"""``tryon3d body``: build a body from measurements (or photos) and write body.glb + body.json."""

from __future__ import annotations

import argparse
import json
import logging

from tryon3d._files import ensure_writable_dir

log = logging.getLogger("tryon3d")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "body",
        help="build a 3D body from height, weight, sex (and optional girths or photos)",
        description=(
            "Build a 3D body whose tape measurements match the inputs and write OUT/body.glb "
            "(mesh with UVs, glTF y-up, metres) and OUT/body.json (inputs, parameters, "
            "measurements in cm, mesh weight)."
        ),
    )
    parser.add_argument(
        "--height", type=float, required=True, metavar="CM", help="stature in cm (50-250)"
    )
    parser.add_argument("--weight", type=float, metavar="KG", help="body mass in kg (10-400)")
    parser.add_argument("--sex", required=True, help="male or female")
    parser.add_argument(
        "--age", type=float, metavar="YEARS", help="age in years (default: population median)"
    )
    parser.add_argument("--chest", type=float, metavar="CM", help="chest/bust girth in cm")
    parser.add_argument("--waist", type=float, metavar="CM", help="waist girth at the navel in cm")
    parser.add_argument("--hips", type=float, metavar="CM", help="hip girth at the buttocks in cm")
    parser.add_argument(
        "--model", default="anny", choices=("anny", "smplx"), help="body model (default anny)"
    )
    parser.add_argument(
        "--smplx-model-dir",
        metavar="DIR",
        help="folder with your SMPL-X .npz files (or env TRYON3D_SMPLX_DIR)",
    )
    parser.add_argument(
        "--photo", metavar="IMAGE", help="front photo (full body) to fit shape and pose to"
    )
    parser.add_argument("--side-photo", metavar="IMAGE", help="optional side photo")
    parser.add_argument(
        "--keep-photos", action="store_true", help="copy the photos into OUT (off by default)"
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder")
    parser.add_argument("--json", action="store_true", help="also print body.json to stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tryon3d._bodies import body_from_measurements, body_json, save_body

    ensure_writable_dir(args.output)
    if args.photo or args.side_photo:
        from tryon3d._photos import run_photo_body  # photo fitting lives in its own module

        return run_photo_body(args)
    if args.weight is None:
        raise ValueError("--weight is required when no --photo is given")
    body = body_from_measurements(
        height_cm=args.height,
        weight_kg=args.weight,
        sex=args.sex,
        age=args.age,
        chest_cm=args.chest,
        waist_cm=args.waist,
        hips_cm=args.hips,
        model=args.model,
        smplx_model_dir=args.smplx_model_dir,
    )
    written = save_body(body, args.output)
    content = body_json(body)
    if args.json:
        print(json.dumps(content, indent=2))
    else:
        log.info("wrote %s", ", ".join(str(p) for p in written))
        measured = content["measurements_cm"]
        log.info("measurements (cm): %s", ", ".join(f"{k} {v:.1f}" for k, v in measured.items()))
        log.info("mesh weight: %.1f kg", content["weight_kg"])
    return 0
