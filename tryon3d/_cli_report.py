"""``tryon3d fit-report``, ``tryon3d tryon`` and ``tryon3d demo``: size-fit reports end to end."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import time
from typing import TYPE_CHECKING

from tryon3d._files import ensure_writable_dir

if TYPE_CHECKING:
    from tryon3d.sizing import FitReport

_log = logging.getLogger("tryon3d")

_REPORT_FILES = (
    "report.html (open in a browser, works offline), report.json (recommended_size, confidence, "
    "per-size "
    "gates/ease/stretch/verdict), fitmap_<SIZE>.png, draped_<SIZE>.glb, front.png, "
    "turntable.gif/.mp4, viewer/"
)


def _add_verbosity(parser: argparse.ArgumentParser) -> None:
    """``-v`` / ``-q`` after the command too (``tryon3d demo -q``), same as before it."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log details and show tracebacks",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print only errors (no progress bar)",
    )


def _add_workers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="sizes draped at once, each in a worker forked from this process (default: one per "
        "CPU core, up to one per size; CUDA drapes run one after the other)",
    )
    parser.add_argument(
        "--serial",
        action="store_true",
        help="drape the sizes one after the other in this process (same as --workers 1)",
    )


def _workers(args: argparse.Namespace) -> int | None:
    """The ``workers`` of ``fit_report`` from ``--workers`` / ``--serial``."""
    if args.serial:
        if args.workers not in (None, 1):
            raise ValueError(
                f"--serial drapes with one worker, but --workers {args.workers} was given"
            )
        return 1
    if args.workers is not None and not 1 <= args.workers <= 64:
        raise ValueError(f"--workers must be within [1, 64], got {args.workers}")
    return args.workers


def _add_common(parser: argparse.ArgumentParser) -> None:
    _add_verbosity(parser)
    _add_workers(parser)
    parser.add_argument(
        "--fabric",
        default=None,
        help="fabric preset (e.g. cotton_jersey, denim, spandex_blend) or a description such as "
        "'95%% cotton 5%% elastane jersey' (default: the garment family's)",
    )
    parser.add_argument(
        "--device", default="cpu", help="cpu or cuda[:N] for the drapes (default cpu)"
    )
    parser.add_argument(
        "--edge-length",
        type=float,
        default=3.0,
        metavar="CM",
        help="garment mesh edge length in cm (default 3; smaller is finer and slower)",
    )
    parser.add_argument(
        "--image-size",
        type=int,
        default=384,
        metavar="PX",
        help="fit-map height and turntable frame size in pixels (default 384)",
    )
    parser.add_argument(
        "--turntable",
        type=int,
        default=24,
        metavar="FRAMES",
        help="turntable frames (default 24; 0 = none)",
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder")


def register(subparsers: argparse._SubParsersAction) -> None:
    fit = subparsers.add_parser(
        "fit-report",
        help="drape every size of a garment on a body and recommend one (HTML + JSON report)",
        description="Drape each size of a garment family on a saved body, judge ease per region "
        "against "
        "fabric-dependent comfort ranges, stretch against the fabric's wearable limit and lengths "
        "(sleeve end, "
        "hem), and recommend one size with a confidence and reasons. Writes into OUT: "
        + _REPORT_FILES
        + ".",
    )
    fit.add_argument(
        "--body", required=True, metavar="BODY_JSON", help="body.json written by `tryon3d body`"
    )
    fit.add_argument(
        "--garment",
        required=True,
        help="garment family (tshirt, longsleeve, dress, skirt, trousers) or a garment file: "
        "a graded .dxf (its own sizes), a GarmentCode .json (XS..5XL graded from its design by the "
        "women's chart steps) or a mesh (one size)",
    )
    fit.add_argument(
        "--sizes",
        default="all",
        metavar="LIST",
        help="sizes to compare, e.g. S,M,L; 'auto' = the size chart's answer (for a file: the size "
        "whose pattern gives the body a usual design ease) and its neighbours; "
        "'all' (default) = every size XS..5XL, or every size of the file",
    )
    fit.add_argument(
        "--chart",
        choices=("women", "men"),
        default=None,
        help="size chart (default: by the body's sex)",
    )
    _add_common(fit)
    fit.set_defaults(run=run_fit_report)

    tryon = subparsers.add_parser(
        "tryon",
        help="body + drape + photo composite + turntable + fit report in one run",
        description="Build a body (from a photo, or from height/weight and optional girths), drape "
        "the garment "
        "in the given size (and any --sizes to compare), composite it onto the photo when one is "
        "given, and "
        "write the fit report. Writes into OUT: body.json, body.glb, tryon.png + garment_mask.png "
        "(with "
        "--photo), " + _REPORT_FILES + ".",
    )
    tryon.add_argument("--photo", metavar="IMAGE", help="front photo, full body (optional)")
    tryon.add_argument("--side-photo", metavar="IMAGE", help="side photo (optional, with --photo)")
    tryon.add_argument("--height", type=float, required=True, metavar="CM", help="stature in cm")
    tryon.add_argument(
        "--weight", type=float, metavar="KG", help="body mass in kg (required without --photo)"
    )
    tryon.add_argument("--sex", required=True, help="male or female")
    tryon.add_argument(
        "--chest", type=float, metavar="CM", help="chest/bust girth in cm (optional)"
    )
    tryon.add_argument("--waist", type=float, metavar="CM", help="waist girth in cm (optional)")
    tryon.add_argument("--hips", type=float, metavar="CM", help="hip girth in cm (optional)")
    tryon.add_argument(
        "--garment",
        required=True,
        help="garment family (tshirt, longsleeve, dress, skirt, trousers) or a garment file: "
        "a graded .dxf (its own sizes), a GarmentCode .json (XS..5XL graded from its design by the "
        "women's chart steps) or a mesh (one size)",
    )
    tryon.add_argument(
        "--size",
        default="M",
        help="size to try on (default M; of a graded garment file, one of its sizes, e.g. 50)",
    )
    tryon.add_argument(
        "--sizes",
        default=None,
        metavar="LIST",
        help="also compare these sizes in the report, e.g. S,M,L or 'auto' (default: --size only)",
    )
    tryon.add_argument(
        "--paint-over",
        action="store_true",
        help="paint the garment over the photo instead of replacing the person's own clothes "
        "(default: the photo is parsed and uncovered old clothes become skin or background)",
    )
    _add_common(tryon)
    tryon.set_defaults(run=run_tryon_command)

    demo = subparsers.add_parser(
        "demo",
        help="the full report for a default body and T-shirt (no inputs needed)",
        description="Build a default body (168 cm, 62 kg, female), drape the default T-shirt in "
        "the three sizes "
        "around the size chart's answer and write the full report. Writes into OUT (default "
        "out/demo): "
        "body.json, body.glb, " + _REPORT_FILES + ".",
    )
    demo.add_argument(
        "-o", "--output", default="out/demo", metavar="OUT", help="output folder (default out/demo)"
    )
    demo.add_argument(
        "--device", default="cpu", help="cpu or cuda[:N] for the drapes (default cpu)"
    )
    _add_verbosity(demo)
    _add_workers(demo)
    demo.set_defaults(run=run_demo_command)


def _check(args: argparse.Namespace) -> None:
    device = str(args.device)
    if not (device == "cpu" or device.startswith("cuda")):
        raise ValueError(f"--device must be cpu or cuda[:N], got {device!r}")
    _workers(args)
    if hasattr(args, "edge_length") and not 0.5 <= args.edge_length <= 10.0:
        raise ValueError(f"--edge-length must be within [0.5, 10] cm, got {args.edge_length}")
    if hasattr(args, "image_size") and not 64 <= args.image_size <= 2048:
        raise ValueError(f"--image-size must be within [64, 2048] px, got {args.image_size}")
    if hasattr(args, "turntable") and not 0 <= args.turntable <= 360:
        raise ValueError(f"--turntable must be within [0, 360] frames, got {args.turntable}")


def _check_garment(name: str) -> None:
    """A family name, or a garment file that exists in a format we read (before any slow work)."""
    from tryon3d import garments, sizing

    if name not in garments.list_families():
        sizing.garment_file(name)


def _announce(report: FitReport, written, seconds: float, out) -> None:
    _log.info(
        "recommended size %s (confidence %.0f %%, %s) for %s in %s",
        report.recommended_size,
        100 * report.confidence,
        report.confidence_label,
        report.family,
        report.fabric,
    )
    for reason in report.reasons[1:4]:
        _log.info("  - %s", reason)
    top = sorted({p.relative_to(out).parts[0] for p in written})
    _log.info("wrote %d files in %.1f s to %s: %s", len(written), seconds, out, ", ".join(top))
    _log.info("open %s in a browser to see the report", (out / "report.html").resolve().as_uri())


def _gates_exit(report: FitReport, out) -> int:
    """EXIT_GATES (one line on stderr) when the recommended size's drape failed its gates."""
    from tryon3d.cli import EXIT_GATES, gates_failure

    drape = report.drapes.get(report.recommended_size)
    failure = gates_failure(drape.gates) if drape is not None else None
    if failure:
        print(
            f"tryon3d: the size {report.recommended_size} drape failed its gates: {failure} "
            f"(report written to {out})",
            file=sys.stderr,
        )
        return EXIT_GATES
    return 0


def run_fit_report(args: argparse.Namespace) -> int:
    from tryon3d import sizing
    from tryon3d._pipeline import _Progress, size_renderer, write_report
    from tryon3d._units import cm_to_m

    out = ensure_writable_dir(args.output)
    _check(args)
    _check_garment(args.garment)
    workers = _workers(args)
    started = time.perf_counter()
    # no collections while the stages load: ~400k objects that live to the end, hardly any
    # garbage (0.45 CPU s of collections saved); frozen once the body is loaded
    gc.disable()
    # --serial is the old way: everything in this process, one size after the other
    pool = None if workers == 1 else sizing.start_drape_workers(device=args.device, workers=workers)
    try:
        from tryon3d._bodies import load_body

        body = load_body(args.body)  # meanwhile the workers load Newton and Warp's kernels
        gc.freeze()  # the body model's objects live to the end: no collection needs to scan them
        gc.enable()
        progress = _Progress(8, quiet=args.quiet)
        try:
            rendered: dict[str, dict[str, bytes]] = {}
            render_size = size_renderer(
                rendered,
                image_size=args.image_size,
                turntable_frames=args.turntable,
                progress=progress,
            )
            report = sizing.fit_report(
                body,
                args.garment,
                sizes=args.sizes,
                fabric=args.fabric,
                device=args.device,
                chart=args.chart,
                edge_length_m=cm_to_m(args.edge_length),
                progress=progress,
                map_jobs=None
                if pool is None
                else pool.mapper(prepare=sizing.place_job, on_result=render_size),
                workers=workers,
            )
            written = write_report(
                report,
                out,
                image_size=args.image_size,
                turntable_frames=args.turntable,
                progress=progress,
                rendered=rendered,
            )
        finally:
            progress.close()
    finally:
        gc.enable()
        if pool is not None:
            pool.close()
    _announce(report, written, time.perf_counter() - started, out)
    return _gates_exit(report, out)


def run_tryon_command(args: argparse.Namespace) -> int:
    from tryon3d._pipeline import run_tryon
    from tryon3d._units import cm_to_m

    out = ensure_writable_dir(args.output)
    _check(args)
    _check_garment(args.garment)
    started = time.perf_counter()
    gc.freeze()  # what is loaded by now lives to the end; fit_report's forked map keeps it frozen
    report, written = run_tryon(
        out,
        height_cm=args.height,
        weight_kg=args.weight,
        sex=args.sex,
        chest_cm=args.chest,
        waist_cm=args.waist,
        hips_cm=args.hips,
        photo=args.photo,
        side_photo=args.side_photo,
        garment=args.garment,
        size=args.size,
        sizes=args.sizes,
        fabric=args.fabric,
        device=args.device,
        edge_length_m=cm_to_m(args.edge_length),
        image_size=args.image_size,
        turntable_frames=args.turntable,
        quiet=args.quiet,
        workers=_workers(args),
        replace_garment=not args.paint_over,
    )
    _announce(report, written, time.perf_counter() - started, out)
    return _gates_exit(report, out)


def run_demo_command(args: argparse.Namespace) -> int:
    from tryon3d._pipeline import run_demo

    out = ensure_writable_dir(args.output)
    _check(args)
    gc.freeze()  # see run_tryon_command
    _log.info(
        "tryon3d demo: default body (168 cm, 62 kg, female) + default T-shirt, 3 sizes -> %s", out
    )
    report, written, seconds = run_demo(
        out, quiet=args.quiet, device=args.device, workers=_workers(args)
    )
    _announce(report, written, seconds, out)
    return _gates_exit(report, out)
