"""Bring your own garment: load, infer, drape every garment file of a folder.

Usage: ``python benchmarks/garment_import.py [--json] [--no-drape] [--edge-m 0.03] [FOLDER_OR_FILE
...]``
(default folder ``../shared/garments/``).

Each file runs in its own child process (so its peak memory is its own): load and infer
(``garments.read_dxf_pattern`` for DXF: pieces, roles, seams), then place it on the default body
(``bodyfit.body_from_measurements(height_m=1.7, weight_kg=65, sex="female")``) with a coarse
``--edge-m`` mesh and drape it (``sim.drape``). Rows: ``file``, ``kind``, ``loaded``, ``size``,
``sizes``, ``pieces``, ``roles`` (role -> piece), ``seams``, ``placed``, ``draped``,
``gates_passed``, ``gates``, ``ease_cm``, ``measurements_cm`` (from the pattern), ``load_s``
(read + roles + seams), ``drape_s``, ``peak_mb`` (the child's peak resident memory) and
``reason`` (one line, why a step failed or was skipped), ``not_garment`` (the file holds
nothing to wear, ``garments.NotAGarmentError``). Totals count each column; ``garments`` is
the files less those with nothing to wear and ``worn_pct`` the share of them draped with
every gate passed.

Handlers are a table by file suffix (``HANDLERS``): a new format adds a function that fills a
row. Files without a handler are listed as skipped.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "garments"
DEFAULT_BODY = {"height_m": 1.70, "weight_kg": 65.0, "sex": "female"}


def _dxf_row(path: Path, row: dict, *, drape: bool, edge_m: float) -> None:
    from tryon3d import garments

    start = time.perf_counter()
    try:
        pattern = garments.read_dxf_pattern(path)  # read, roles, seams: the whole entry point
    except ValueError:
        from tryon3d.garments._dxf import read_dxf_file

        read = read_dxf_file(path)  # loads but cannot be placed: count what it holds
        row.update(
            loaded=True,
            sizes=len(read.sizes),
            pieces=len(read.piece_names()),
            units=read.units_note,
        )
        raise
    row["load_s"] = round(time.perf_counter() - start, 3)
    row.update(
        loaded=True,
        sizes=len(pattern.metadata["sizes"]),
        units=pattern.metadata["units"],
        not_draped=pattern.metadata["not_draped"],
    )
    row.update(
        size=pattern.size,
        roles=pattern.metadata["pieces"],
        seams=len(pattern.seams),
        placed=True,
        measurements_cm={
            k: round(v * 100, 1) for k, v in garments.pattern_measurements(pattern).items()
        },
    )
    if drape:
        _drape(path, row, edge_m=edge_m, size=pattern.size)


def _drape(path: Path, row: dict, *, edge_m: float, size: str | None) -> None:
    from tryon3d import bodyfit, garments, sim

    body = bodyfit.body_from_measurements(**DEFAULT_BODY)
    start = time.perf_counter()
    garment = garments.load_garment(path, size=size, body=body, edge_length_m=edge_m)
    result = sim.drape(body, garment)
    summary = sim.drape_to_json(result)
    row.update(
        draped=True,
        drape_s=round(time.perf_counter() - start, 2),
        vertices=len(garment.positions),
        gates=summary["gates"],
        gates_passed=bool(summary["gates"]["passed"]),
        ease_cm=summary["ease_cm"],
    )
    if not row["gates_passed"]:
        gates = summary["gates"]
        failed = list(gates.get("failures", [])) + [
            k for k in ("penetrating_vertices", "self_intersecting_pairs") if gates.get(k)
        ]
        row["reason"] = f"drape gates failed: {'; '.join(map(str, failed)) or 'not converged'}"


#: file suffix -> handler(path, row, drape=, edge_m=) filling the row.
HANDLERS = {".dxf": _dxf_row}


def run_one(path: Path, *, drape: bool, edge_m: float) -> dict:
    row = {
        "file": path.name,
        "kind": path.suffix.lower().lstrip("."),
        "loaded": False,
        "placed": False,
        "draped": False,
        "gates_passed": False,
        "reason": "",
    }
    handler = HANDLERS.get(path.suffix.lower())
    if handler is None:
        row["reason"] = f"no handler for {path.suffix or 'files without a suffix'}"
        return row
    try:
        handler(path, row, drape=drape, edge_m=edge_m)
    except ValueError as exc:
        from tryon3d.garments import NotAGarmentError

        row["reason"] = str(exc).splitlines()[0]
        # a file with nothing to wear (CLO's test box) is not counted against the importers
        row["not_garment"] = isinstance(exc, NotAGarmentError)
    row["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return row


def _files(targets: list[str]) -> list[Path]:
    out = []
    for target in targets or [str(DEFAULT_FOLDER)]:
        path = Path(target)
        if path.is_dir():
            out += sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in HANDLERS
            )
        elif path.is_file():
            out.append(path)
        else:
            raise SystemExit(f"garment_import: {target!r} not found")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help="folders or files (default ../shared/garments/)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--no-drape", action="store_true", help="load and infer only")
    parser.add_argument(
        "--edge-m", type=float, default=0.03, help="drape mesh edge length [m] (0.03)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one file, in this process
        print(
            json.dumps(run_one(Path(args.targets[0]), drape=not args.no_drape, edge_m=args.edge_m))
        )
        return 0
    rows = []
    for path in _files(args.targets):
        command = [sys.executable, __file__, "--child", str(path), "--edge-m", str(args.edge_m)]
        command += ["--no-drape"] if args.no_drape else []
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        try:
            row = json.loads(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            row = {
                "file": path.name,
                "kind": path.suffix.lower().lstrip("."),
                "loaded": False,
                "placed": False,
                "draped": False,
                "gates_passed": False,
                "reason": f"crashed: {tail}",
            }
        rows.append(row)
        if not args.json:
            print(
                f"{row['file']:<40} loaded={row['loaded']!s:<5} placed={row['placed']!s:<5} "
                f"gates={row['gates_passed']!s:<5} load_s={row.get('load_s', '-')} "
                f"drape_s={row.get('drape_s', '-')} "
                f"peak_mb={row.get('peak_mb', '-')} {row['reason']}",
                flush=True,
            )
    totals = {
        "files": len(rows),
        **{
            k: sum(bool(r.get(k)) for r in rows)
            for k in ("loaded", "placed", "draped", "gates_passed", "not_garment")
        },
    }
    garments_count = totals["files"] - totals["not_garment"]
    totals["garments"] = garments_count
    # the goal: the share of real garment files worn with every gate passed
    totals["worn_pct"] = round(100.0 * totals["gates_passed"] / max(garments_count, 1), 1)
    if args.json:
        print(json.dumps({"rows": rows, "totals": totals}, indent=1))
    else:
        print("totals:", totals)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
