"""Compile (or load from the cache) every Warp kernel a drape uses, on a tiny scene."""

from __future__ import annotations

import time

from tryon3d.sim import _cache  # noqa: F401  (sets WARP_CACHE_PATH before warp loads)


def warm_up_kernels(*, device: str = "cpu") -> float:
    """Drape a tiny skirt on a tiny posed body so every kernel is compiled into the cache
    (``$TRYON3D_CACHE/warp``); later processes load them in milliseconds.

    Returns:
        Seconds spent.
    """
    import numpy as np

    from tryon3d.sim._export import drape_to_glb, drape_to_json
    from tryon3d.sim._scenes import revolved_body, skirt_garment
    from tryon3d.sim._simulate import drape

    started = time.perf_counter()
    body = revolved_body(sections=16, spacing_m=0.08)
    leaned = body.rest_vertices + np.array([0.01, 0.0, 0.0]) * (body.rest_vertices[:, 2:3] - 0.55)
    body = body.with_pose(leaned, body.joints, body.pose)
    garment = skirt_garment(edge_m=0.08)
    result = drape(body, garment, device=device, max_seconds_simulated=0.1, retries=0)
    drape_to_json(result)
    drape_to_glb(body, result)
    return time.perf_counter() - started
