"""Garments made elsewhere, file to drape: GarmentCode specifications and garment meshes.

Usage: ``python benchmarks/garment_import_meshes.py [FOLDER ...] [--edge-m 0.03] [--seconds 3]
[--no-generated] [--json]``

For every GarmentCode ``*.json`` and mesh (``.obj .glb .gltf .ply``) under the folders (default
``../shared/garments``), plus generated files (a y-up centimetre OBJ of our own draped T-shirt
with its UV seams split, the same carried onto a T-posed avatar (arms raised 45 degrees, as
garments modelled on another avatar come), and a Draco GLB of it made with DracoPy), one row:
``file``, ``format``, ``loaded``, ``placed``, ``draped`` (gates passed), ``gates`` (the failed
gates, one line each), ``ease_measured`` (a finite cloth or tape ease at chest, waist or hips),
``ease_cm`` (cloth ease, or the tape's for meshes), ``tape_ease_cm``, ``vertices``,
``load_place_s`` (wall) and ``load_place_cpu_s`` (CPU seconds: loading, welding, sewing,
decimation, placement and retargeting), ``drape_s``, ``seconds``, ``peak_memory_mb``
(the process's peak resident memory after the row), ``error`` (one line) and ``log`` (what was
assumed). ``--json`` prints ``{"rows": [...], "totals": {...}}``; otherwise a table. Rows match
``benchmarks/garment_import.py`` (the DXF benchmark) so both can be merged.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests/_garment_files.py makes the generated files

SUFFIXES = (".json", ".obj", ".glb", ".gltf", ".ply")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _is_garment_file(path: Path) -> bool:
    """Meshes, and JSON files that are GarmentCode specifications (not DXF readers' outputs)."""
    if path.suffix.lower() != ".json":
        return True
    try:
        return "pattern" in json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return True  # a broken one still gets its row (and its one-line error)


def generated_files(body, folder: Path, edge_m: float) -> list[Path]:
    """Our T-shirt draped (seams closed), exported y-up in cm as OBJ (one vt per vertex, so the
    UV seams stay split) and as a Draco GLB in metres."""
    from tests._garment_files import t_posed_garment, write_draco_glb, write_obj, z_up_m_to_y_up
    from tryon3d import garments, sim

    shirt = garments.load_garment("tshirt", size="M", body=body, edge_length_m=edge_m)
    drape = sim.drape(body, shirt, max_seconds_simulated=3.0)
    positions = np.asarray(drape.rest_pose_positions, dtype=np.float64)  # sewn pairs share a point
    uv = np.asarray(shirt.uv, dtype=np.float64)
    uv = (uv - uv.min(axis=0)) / np.maximum(np.ptp(uv, axis=0), 1e-9)  # an atlas in [0, 1]
    faces = np.asarray(shirt.faces)
    t_posed, _ = t_posed_garment(body, positions, arm_raise_deg=45.0)  # as if made on a T-pose
    return [
        write_obj(folder / "tshirt_cm_yup.obj", z_up_m_to_y_up(positions, 100.0), faces, uv),
        write_obj(folder / "tshirt_tpose_cm_yup.obj", z_up_m_to_y_up(t_posed, 100.0), faces, uv),
        write_draco_glb(folder / "tshirt_draco.glb", z_up_m_to_y_up(positions, 1.0), faces, uv),
    ]


def run_one(path: Path, body, edge_m: float, seconds: float) -> dict:
    from tryon3d import garments, sim

    row = {
        "file": path.name,
        "format": "garmentcode" if path.suffix.lower() == ".json" else "mesh",
        "loaded": False,
        "placed": False,
        "draped": False,
        "gates": [],
        "ease_measured": False,
        "ease_cm": {},
        "vertices": 0,
        "load_place_s": None,
        "load_place_cpu_s": None,
        "drape_s": None,
        "error": "",
        "log": [],
    }
    started = time.perf_counter()
    cpu = time.process_time()
    try:
        garment = garments.load_garment(path, body=body, edge_length_m=edge_m)
        row.update(
            loaded=True,
            placed=bool(garment.metadata.get("placed")),
            vertices=garment.vertex_count,
            load_place_s=round(time.perf_counter() - started, 2),
            load_place_cpu_s=round(time.process_time() - cpu, 2),
            log=garment.metadata.get("import_log", []),
        )
        t = time.perf_counter()
        drape = sim.drape(body, garment, max_seconds_simulated=seconds)
        row["drape_s"] = round(time.perf_counter() - t, 2)
        row["draped"] = bool(drape.gates.passed)
        row["gates"] = drape.gates.reasons()
        # the cloth ease (pattern garments) where there is one, else the tape's (meshes)
        ease = {
            k: (c if np.isfinite(c) else drape.tape_ease_m.get(k, float("nan")))
            for k, c in drape.ease_m.items()
        }
        ease = {k: v for k, v in ease.items() if np.isfinite(v)}
        row["ease_cm"] = {k: round(100 * v, 1) for k, v in ease.items()}
        row["tape_ease_cm"] = {
            k: round(100 * v, 1) for k, v in drape.tape_ease_m.items() if np.isfinite(v)
        }
        row["ease_measured"] = any(k in ease for k in ("chest", "waist", "hips"))
    except (ValueError, TypeError) as exc:
        row["error"] = str(exc).splitlines()[0]
    except Exception as exc:  # a diverged drape and the like: a row, not a crash
        row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    row["seconds"] = round(time.perf_counter() - started, 2)
    row["peak_memory_mb"] = round(_peak_mb(), 0)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", default=[str(REPO.parent / "shared" / "garments")])
    parser.add_argument("--edge-m", type=float, default=0.03, help="drape edge length [m]")
    parser.add_argument("--seconds", type=float, default=3.0, help="simulated seconds per drape")
    parser.add_argument(
        "--no-generated", action="store_true", help="skip the generated T-shirt files"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from tryon3d import bodyfit

    body = bodyfit.body_from_measurements(height_m=1.7, weight_kg=65, sex="female")
    files = sorted(
        p
        for folder in args.folders
        for p in Path(folder).rglob("*")
        if p.suffix.lower() in SUFFIXES and p.is_file() and _is_garment_file(p)
    )
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_generated:
            files += generated_files(body, Path(tmp), args.edge_m)
        rows = [run_one(path, body, args.edge_m, args.seconds) for path in files]
    totals = {
        "files": len(rows),
        "loaded": sum(r["loaded"] for r in rows),
        "placed": sum(r["placed"] for r in rows),
        "draped": sum(r["draped"] for r in rows),
        "ease_measured": sum(r["ease_measured"] for r in rows),
        "seconds": round(sum(r["seconds"] for r in rows), 1),
        "peak_memory_mb": round(_peak_mb(), 0),
    }
    if args.json:
        print(json.dumps({"rows": rows, "totals": totals}, indent=2))
    else:
        for r in rows:
            status = "ok" if r["draped"] else (r["error"] or "; ".join(r["gates"]))
            print(
                f"{r['file']:<40} {r['vertices']:>6} v  load {r['load_place_s']} s  drape "
                f"{r['drape_s']} s  {status}"
            )
        print(totals)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
