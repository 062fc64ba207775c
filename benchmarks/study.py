"""A fit study serially in one process and on Ray with 2 workers, side by side.

Usage: ``python benchmarks/study.py [--garment tshirt|FILE] [--sizes S,M,L] [--bodies 6]
[--edge-length 4] [--max-seconds-simulated 1] [--workers 2] [--json]``

``--garment`` is a family name or a garment file (e.g. ``"../shared/garments/dxf/MEN CLASSIC
TEE.DXF" --sizes 46,50``); for a file the report adds its size in the object store (its bytes,
sent once per garment).

The same jobs (garment x sizes x bodies drawn from the ANSUR II model with seed 0) run twice,
into two fresh folders: ``run_study(executor="serial")`` in this process, then on a Ray started
here with ``--workers`` CPUs (127.0.0.1). Reported per run: wall time, jobs/hour, the mean
per-job time breakdown (body build amortised over the body's jobs, garment placement, drape,
judge) and what is left for Ray and the driver ("overhead": wall x workers / jobs minus the
per-job work); then the speed-up ratio, whether the results agree job for job (same verdicts),
the object-store size of one body (Ray's serialisation of a ``Body``) and the load average
(the machine may be shared: other processes' load slows both runs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

from tryon3d import sizing


def _breakdown(result, workers: int) -> dict:
    rows = result.rows
    jobs = max(1, len(rows))
    per_body = {}
    for row in rows:
        per_body[row["body_id"]] = row["seconds_body_build"] or 0.0
    build = sum(per_body.values()) / jobs
    mean = {
        k: sum(r[f"seconds_{k}"] or 0.0 for r in rows) / jobs for k in ("place", "drape", "judge")
    }
    work = build + sum(mean.values())
    return {
        "wall_s": round(result.seconds, 1),
        "jobs": len(rows),
        "workers": workers,
        "jobs_per_hour": round(3600.0 * len(rows) / result.seconds, 1),
        "per_job_s": {
            "body_build": round(build, 2),
            **{k: round(v, 2) for k, v in mean.items()},
            "overhead": round(result.seconds * workers / jobs - work, 2),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--garment", default="tshirt", help="family name or garment file")
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--bodies", type=int, default=6)
    parser.add_argument("--edge-length", type=float, default=4.0, help="cm")
    parser.add_argument("--max-seconds-simulated", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    import ray

    bodies = sizing.sample_population(args.bodies, seed=0)
    options = {
        "sizes": args.sizes.split(","),
        "edge_length_m": args.edge_length / 100.0,
        "max_seconds_simulated": args.max_seconds_simulated,
        "quiet": True,
    }
    load = [os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="tryon3d-bench-study-") as tmp:
        serial = sizing.run_study(
            bodies, [args.garment], out=os.path.join(tmp, "serial"), executor="serial", **options
        )
        load.append(os.getloadavg())
        started = time.perf_counter()
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
        startup = time.perf_counter() - started
        try:
            on_ray = sizing.run_study(
                bodies, [args.garment], out=os.path.join(tmp, "ray"), **options
            )
            load.append(os.getloadavg())
            built = ray.get(ray.remote(sizing._study._safe_build).remote(bodies[0]))
            context = ray._private.worker.global_worker.get_serialization_context()
            body_bytes = int(context.serialize(built[0]).total_bytes)
            garment = sizing.study_garments([args.garment], sizes=options["sizes"])[0]
            garment_bytes = int(context.serialize(garment).total_bytes) if garment.is_file else 0
        finally:
            ray.shutdown()
    same = {r["key"]: r["verdict"] for r in serial.rows} == {
        r["key"]: r["verdict"] for r in on_ray.rows
    }
    report = {
        "study": {
            "garment": args.garment,
            "sizes": args.sizes,
            "bodies": args.bodies,
            "edge_length_cm": args.edge_length,
            "max_seconds_simulated": args.max_seconds_simulated,
        },
        "serial": _breakdown(serial, 1),
        "ray": {**_breakdown(on_ray, args.workers), "ray_start_s": round(startup, 1)},
        "speedup": round(serial.seconds / on_ray.seconds, 2),
        "same_verdicts": same,
        "object_store_bytes_per_body": body_bytes,
        "object_store_bytes_per_garment_file": garment_bytes,
        "load_average_1min": [round(x[0], 2) for x in load],
        "cpu_count": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name in ("serial", "ray"):
            r = report[name]
            print(
                f"{name}: {r['jobs']} jobs in {r['wall_s']} s = {r['jobs_per_hour']} jobs/h, per "
                f"job {r['per_job_s']}"
            )
        print(
            f"speed-up {report['speedup']}x, same verdicts {same}, body in the object store "
            f"{body_bytes / 1e6:.2f} MB, load {report['load_average_1min']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
