"""How long a 3-size fit report takes: the old way (serial, in one process) against the new
(drape workers forked before the body loads, the sizes in their forked children, fit maps
rendered as sizes come back, no collection while loading or at exit).

One body (168 cm, 62 kg, female: the demo's) and the T-shirt in sizes S, M, L. Each way runs in
a fresh Python process, one after the other, both children of this one (the same process tree,
the same machine load): load the body from body.json, place + drape the sizes (``fit_report``'s
map step), judge them, optionally (``--render``) render the report's assets.

``baseline`` is today's serial path, what ``tryon3d fit-report --serial`` runs: one process, the
sizes one after the other, the collector on while loading, interpreter teardown at exit. It is
not the code before issue 19 (its drapes and placement are today's): ``--cli --base DIR`` gives
that comparison honestly, the whole ``tryon3d fit-report --sizes S,M,L`` command of this checkout
against DIR's (e.g. ``git worktree add --detach /tmp/base9a 9aaed81``; DIR/.venv/bin/python runs
it with DIR as the working directory).

Stages (``seconds``, wall): ``body`` (load), ``warm`` (the new way: the workers' imports and
kernel loading, on the other core while ``body`` runs), ``map`` (placing and draping all sizes;
the new way: also waiting for the workers and the fit maps rendered meanwhile), ``place`` /
``drape`` (summed over the sizes), ``judge``, ``render`` (what is left to render after the
judgement). ``wall_s`` is the whole process, interpreter exit included; ``cpu_s`` the user +
system CPU seconds of its whole process tree (the workers included), ``main_process_cpu_s``
its main process's. This process samples the memory of each child's whole tree (RSS and PSS
summed over the child and its forked workers; PSS splits the pages a fork shares) every 50 ms.

Both ways run with the body cache off (``TRYON3D_NO_BODY_CACHE=1``: each rebuilds the body with
anny, as before the cache). ``--body-cache`` adds ``body_cache``: the new way twice more with the
cache on in a fresh folder (anny's and Warp's caches kept), ``cold`` (empty: rebuilt and stored)
then ``warm`` (read back: no torch, no anny), each with its main process's CPU seconds, its
``seconds.body`` and ``torch_imported`` (whether torch was in the main process at the end).

Goal: ``speedup`` >= 2 on a 2-core CPU. Other work on the machine skews both ways alike but not
evenly (on a loaded machine a parallel way gains little): the JSON carries the load average
before and after; compare ``cpu_s`` too.

Usage: ``python benchmarks/fit_report_speed.py [--json] [--render] [--cli] [--base DIR] [--workers
N] [--body-cache]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = "S,M,L"
GARMENT = "tshirt"


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def _memory_kib(pids: list[int]) -> tuple[int, int]:
    rss = pss = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            continue
    return rss, pss


def _run_sampled(
    command: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess, dict]:
    """Run ``command``; wall time [s] and the peak summed RSS / PSS [MiB] of its process tree."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env
    )
    peak = {"rss": 0, "pss": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss, pss = _memory_kib(_tree(process.pid))
            peak["rss"], peak["pss"] = max(peak["rss"], rss), max(peak["pss"], pss)
            done.wait(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, err = process.communicate()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    done.set()
    thread.join()
    result = subprocess.CompletedProcess(command, process.returncode, out, err)
    return result, {
        "wall_s": round(wall, 2),
        # user + system CPU of the whole tree (each process is reaped by its parent)
        "cpu_s": round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 2),
        "peak_rss_mib": round(peak["rss"] / 1024, 1),
        "peak_pss_mib": round(peak["pss"] / 1024, 1),
    }


def _worker(body_path: str, workers: int, render: bool) -> None:
    """One way, in this (fresh) process; prints its JSON on stdout's last line.

    ``workers`` 1: the baseline, today's serial path (``fit-report --serial``: load the body,
    freeze it out of the collector, place and drape the sizes one after the other here, judge,
    render). Otherwise the new way as ``fit-report`` runs it: the drape workers forked before
    the body is loaded (their kernels load meanwhile, ``start_drape_workers``), no collections
    while the stages load, the garments placed here while the workers warm up, the sizes draped
    in the workers' forked children, each size's fit map rendered as it comes back, no teardown
    at exit.
    """
    import gc

    started, cpu_started = time.perf_counter(), time.process_time()
    seconds: dict[str, float] = {}
    new_way = workers != 1
    if new_way:
        gc.disable()
    from tryon3d._pipeline import render_report_assets, size_renderer
    from tryon3d.sizing import (
        judge_drapes,
        place_job,
        run_drape_job,
        size_jobs,
        start_drape_workers,
    )

    pool = start_drape_workers(workers=workers or None) if new_way else None
    from tryon3d._bodies import load_body

    tick = time.perf_counter()
    body = load_body(body_path)
    seconds["body"] = time.perf_counter() - tick
    gc.freeze()  # as the CLI does once the body is loaded
    gc.enable()
    jobs = size_jobs(body, GARMENT, sizes=SIZES)
    rendered: dict[str, dict[str, bytes]] = {}
    render_size = size_renderer(rendered, image_size=384, turntable_frames=24) if render else None
    tick = time.perf_counter()
    if pool is None:
        results = [run_drape_job(job) for job in jobs]
    else:
        results = pool.map(run_drape_job, jobs, prepare=place_job, on_result=render_size)
        seconds["warm"] = pool.warm_s  # the workers' warm-up, on the other core during "body"
    # wall time of placing and draping all sizes (the new way: and of their fit maps)
    seconds["map"] = time.perf_counter() - tick
    seconds["place"] = sum(r.seconds.get("place", 0.0) for r in results)
    seconds["drape"] = sum(r.seconds.get("drape", 0.0) for r in results)
    tick = time.perf_counter()
    report = judge_drapes(body, GARMENT, results, chart=jobs[0].chart)
    seconds["judge"] = time.perf_counter() - tick
    if render:
        tick = time.perf_counter()
        render_report_assets(report, image_size=384, turntable_frames=24, rendered=rendered)
        seconds["render"] = time.perf_counter() - tick
    seconds["total"] = time.perf_counter() - started
    out = {
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
        "main_process_cpu_s": round(time.process_time() - cpu_started, 2),
        "recommended_size": report.recommended_size,
        "ease_cm": {s: fit.ease_cm for s, fit in report.sizes.items()},
        "errors": {r.job.size: r.error for r in results if r.error},
        "torch_imported": "torch" in sys.modules,
    }
    print(json.dumps(out), flush=True)
    if new_way:  # the new CLI's exit: no teardown of the loaded models
        sys.stderr.flush()
        os._exit(0)


def _same(a: dict, b: dict) -> bool:
    if a["recommended_size"] != b["recommended_size"] or set(a["ease_cm"]) != set(b["ease_cm"]):
        return False
    for size, ease in a["ease_cm"].items():
        other = b["ease_cm"][size]
        if set(ease) != set(other) or any(abs(ease[k] - other[k]) > 0.1 for k in ease):
            return False
    return True


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _env(*, body_cache: str | None = None) -> dict[str, str]:
    """This process's environment with the body cache off, or on in the folder ``body_cache``
    (``TRYON3D_CACHE``; anny's and Warp's caches stay where they are)."""
    env = dict(os.environ)
    if body_cache is None:
        env["TRYON3D_NO_BODY_CACHE"] = "1"
        return env
    from tryon3d.core import cache_root

    root = cache_root()
    env.pop("TRYON3D_NO_BODY_CACHE", None)
    env.setdefault("ANNY_CACHE_DIR", str(root / "anny"))
    env.setdefault("WARP_CACHE_PATH", str(root / "warp"))
    env["TRYON3D_CACHE"] = body_cache
    return env


def _cli(python: Path, root: Path, body: str, out: str) -> dict:
    command = [
        str(python),
        "-m",
        "tryon3d",
        "-q",
        "fit-report",
        "--body",
        body,
        "--garment",
        GARMENT,
        "--sizes",
        SIZES,
        "-o",
        out,
    ]
    # python -m: the checkout's own package first
    result, stats = _run_sampled(command, cwd=root, env=_env())
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()[-400:]}")
    return {**stats, "root": str(root), "load_avg": _load()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--render", action="store_true", help="also render the report's assets in both ways"
    )
    parser.add_argument(
        "--cli",
        action="store_true",
        help="also time the whole fit-report command here and in --base",
    )
    parser.add_argument(
        "--base", default=str(ROOT.parent / "base"), help="the checkout to compare the CLI with"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="workers of the new way (0: one per core)"
    )
    parser.add_argument(
        "--body-cache",
        action="store_true",
        help="also run the new way with the body cache on: cold, then warm",
    )
    parser.add_argument("--worker", nargs=2, metavar=("BODY", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker[0], int(args.worker[1]), args.render)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        body_path = str(Path(tmp) / "body.json")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tryon3d",
                "-q",
                "body",
                "--height",
                "168",
                "--weight",
                "62",
                "--sex",
                "female",
                "-o",
                tmp,
            ],
            check=True,
            capture_output=True,
        )
        report: dict = {
            "sizes": SIZES,
            "garment": GARMENT,
            "cpu_count": os.cpu_count(),
            "load_avg_before": _load(),
        }
        ways = {}
        runs = [("baseline", 1, None), ("ours", args.workers, None)]
        if args.body_cache:
            folder = str(Path(tmp) / "cache")
            runs += [("cold", args.workers, folder), ("warm", args.workers, folder)]
        for name, workers, body_cache in runs:
            command = [sys.executable, __file__, "--worker", body_path, str(workers)] + (
                ["--render"] * args.render
            )
            result, stats = _run_sampled(command, env=_env(body_cache=body_cache))
            if result.returncode:
                raise RuntimeError(f"the {name} run failed: {result.stderr.strip()[-600:]}")
            ways[name] = {
                **json.loads(result.stdout.strip().splitlines()[-1]),
                **stats,
                "load_avg": _load(),
            }
        report["baseline_s"] = ways["baseline"]["wall_s"]
        report["ours_s"] = ways["ours"]["wall_s"]
        report["speedup"] = round(report["baseline_s"] / report["ours_s"], 2)
        report["same_recommendation"] = _same(ways["baseline"], ways["ours"])
        report["baseline"], report["ours"] = ways["baseline"], ways["ours"]
        if args.body_cache:
            cold, warm = ways["cold"], ways["warm"]
            report["body_cache"] = {
                "cold": cold,
                "warm": warm,
                "warm_vs_cold_wall": round(cold["wall_s"] / warm["wall_s"], 2),
                "main_process_cpu_saved_s": round(
                    cold["main_process_cpu_s"] - warm["main_process_cpu_s"], 2
                ),
                "same_recommendation": _same(cold, warm) and _same(ways["ours"], warm),
            }
        if args.cli:
            base = Path(args.base)
            report["cli_before"] = _cli(
                base / ".venv" / "bin" / "python", base, body_path, str(Path(tmp) / "before")
            )
            report["cli_after"] = _cli(
                Path(sys.executable), ROOT, body_path, str(Path(tmp) / "after")
            )
            report["cli_speedup"] = round(
                report["cli_before"]["wall_s"] / report["cli_after"]["wall_s"], 2
            )
        report["load_avg_after"] = _load()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"3-size fit report: {report['baseline_s']:.1f} s serial -> {report['ours_s']:.1f} s "
            f"({report['speedup']:.2f}x), same recommendation: {report['same_recommendation']}, "
            f"load {report['load_avg_before']} -> {report['load_avg_after']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
