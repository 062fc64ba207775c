"""Pays first-use costs once, in setup, so tests and demos don't pay them by surprise.

Builds anny's model cache (~1 GB, about a minute), compiles the Warp kernels of the body model and
of the cloth simulation, and JIT-compiles Mitsuba's CPU renderer, all under ``$TRYON3D_CACHE``.
Run as ``python -m tryon3d.warmup``; a second run takes seconds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def _step(name: str, work: Callable[[], object]) -> None:
    started = time.perf_counter()
    work()
    print(f"  {name}: {time.perf_counter() - started:.1f} s", flush=True)


def _body() -> None:
    from tryon3d import bodyfit

    bodyfit.body_from_measurements(height_m=1.70, weight_kg=65.0, sex="female")


def _sim() -> None:
    from tryon3d.sim import warm_up_kernels

    warm_up_kernels()


def _render() -> None:
    import numpy as np
    import trimesh

    from tryon3d import render

    sphere = trimesh.creation.icosphere(subdivisions=2, radius=0.3)
    camera = render.look_at_camera(
        (0.0, -2.0, 0.0), (0.0, 0.0, 0.0), fov_y_deg=40, width=32, height=32
    )
    import torch

    render.render_silhouette(
        torch.tensor(np.asarray(sphere.vertices), dtype=torch.float32), sphere.faces, camera
    )


def main() -> int:
    from tryon3d.bodyfit._cache import configure_caches

    root = configure_caches()
    print(f"warming caches under {root}", flush=True)
    _step("body model (anny cache)", _body)
    _step("cloth simulation kernels (Warp)", _sim)
    _step("renderer (Mitsuba JIT)", _render)
    return 0


if __name__ == "__main__":
    sys.exit(main())
