"""``tryon3d study``: garments x sizes x bodies drapes on Ray, with coverage and chart checks."""

from __future__ import annotations

import argparse
import logging

from tryon3d._cli_report import _add_verbosity

_log = logging.getLogger("tryon3d")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "study",
        help="fit study: which size of each garment fits which share of a population (Ray)",
        description="Drape every size of each garment on every body of a population sample, a "
        "customers CSV "
        "or a folder of body files, on Ray (started here on 127.0.0.1, or a running cluster with "
        "--ray-address / RAY_ADDRESS). Writes into OUT: results/*.parquet (one row per job, keyed "
        "by a content "
        "hash: a rerun skips finished jobs), study.json and study.html (coverage per size, a size "
        "per body, "
        "bodies no size fits, overlapping sizes, grading step vs the population's spread, the size "
        "chart's "
        "answer vs the drape's). Needs the extra: pip install 'tryon3d[study]'.",
    )
    parser.add_argument(
        "--garment",
        action="append",
        required=True,
        metavar="FAMILY|FILE",
        help="garment family (tshirt, longsleeve, dress, skirt, trousers) or garment file (a "
        "graded .dxf, a GarmentCode .json, an .obj/.glb mesh: its own sizes, no size chart); "
        "repeat for several",
    )
    parser.add_argument(
        "--sizes",
        default="all",
        metavar="LIST",
        help="sizes to drape, e.g. S,M,L or a DXF's 46,50 (default all); each garment drapes "
        "those it holds",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--population", choices=("ansur",), help="draw bodies from the shipped ANSUR II model"
    )
    source.add_argument(
        "--customers",
        metavar="CSV",
        help="customers' measurements: height_cm, weight_kg, sex and optionally id, age, chest_cm, "
        "waist_cm, hips_cm",
    )
    source.add_argument(
        "--bodies", metavar="DIR", help="folder of body.json files written by `tryon3d body`"
    )
    parser.add_argument("--count", type=int, default=None, help="bodies to draw with --population")
    parser.add_argument(
        "--sex",
        default="both",
        choices=("female", "male", "both"),
        help="sex of the drawn bodies (default both, alternating)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the population draw (default 0)"
    )
    parser.add_argument("--fabric", default=None, help="fabric preset (default: each family's)")
    parser.add_argument(
        "--edge-length",
        type=float,
        default=3.0,
        metavar="CM",
        help="garment mesh edge length in cm (default 3)",
    )
    parser.add_argument(
        "--max-seconds-simulated",
        type=float,
        default=4.0,
        metavar="S",
        help="simulated time budget per settle (default 4)",
    )
    parser.add_argument(
        "--device", default=None, help="cpu or cuda (default cpu; cuda with --gpus-per-job)"
    )
    parser.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="a running Ray cluster (default: RAY_ADDRESS, else Ray starts here on 127.0.0.1)",
    )
    parser.add_argument(
        "--gpus-per-job",
        type=float,
        default=0,
        metavar="G",
        help="GPUs per Ray task (default 0: CPU tasks)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=1,
        metavar="N",
        help="jobs per Ray task, all on one body (default 1; more for GPU workers)",
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="study folder")
    _add_verbosity(parser)
    parser.set_defaults(run=run_study_command)


def run_study_command(args: argparse.Namespace) -> int:
    from tryon3d._study import study

    if args.population and args.count is None:
        raise ValueError("--population needs --count")
    if args.count is not None and not args.population:
        raise ValueError("--count goes with --population")
    device = args.device or ("cuda" if args.gpus_per_job > 0 else "cpu")
    result, summary = study(
        args.garment,
        out=args.output,
        sizes=args.sizes,
        population=args.population,
        count=args.count,
        sex=args.sex,
        seed=args.seed,
        customers=args.customers,
        bodies=args.bodies,
        fabric=args.fabric,
        edge_length_cm=args.edge_length,
        max_seconds_simulated=args.max_seconds_simulated,
        device=device,
        ray_address=args.ray_address,
        gpus_per_job=args.gpus_per_job,
        batch_size=args.batch_size,
        quiet=getattr(args, "quiet", False),
    )
    jobs = summary["jobs"]
    _log.info(
        "study: %d jobs done (%d now, %d from before, %d failed to drape, %d lost) in %.0f s",
        jobs["done"],
        jobs["ran"],
        jobs["skipped"],
        jobs["failed"],
        jobs["lost"],
        result.seconds,
    )
    for family, g in summary["garments"].items():
        shares = ", ".join(
            f"{s} {100 * v['share']['good']:.0f} % good" for s, v in g["sizes"].items()
        )
        _log.info(
            "  %s: %s; no size fits %.0f %% of bodies",
            family,
            shares,
            100 * g["no_size_fits"]["share"],
        )
    _log.info("wrote %s/study.html, study.json and results/", args.output)
    return 0
