"""Small Warp kernels for the frame loop: velocity damping and per-frame health statistics."""

from __future__ import annotations

import numpy as np
import warp as wp  # noqa: E402

from sim import _cache  # noqa: F401  (sets WARP_CACHE_PATH before warp loads)

wp.config.quiet = True


@wp.kernel
def _damp_kernel(qd: wp.array[wp.vec3], factor: float):
    tid = wp.tid()
    qd[tid] = qd[tid] * factor


@wp.kernel
def _stats_kernel(
    q: wp.array[wp.vec3],
    qd: wp.array[wp.vec3],
    lower: wp.vec3,
    upper: wp.vec3,
    max_speed: wp.array[float],
    counts: wp.array[wp.int32],
):
    tid = wp.tid()
    p = q[tid]
    v = qd[tid]
    finite = wp.isfinite(p) and wp.isfinite(v)
    if not finite:
        wp.atomic_add(counts, 0, 1)
        return
    wp.atomic_max(max_speed, 0, wp.length(v))
    if p[0] < lower[0] or p[1] < lower[1] or p[2] < lower[2] or p[0] > upper[0] or p[1] > upper[1] or p[2] > upper[2]:
        wp.atomic_add(counts, 1, 1)


class FrameStats:
    """Per-frame max speed [m/s], non-finite count and escaped count, in one small read-back."""

    def __init__(self, count: int, lower: np.ndarray, upper: np.ndarray, device: str):
        self.count = count
        self.lower = wp.vec3(*np.asarray(lower, dtype=np.float32))
        self.upper = wp.vec3(*np.asarray(upper, dtype=np.float32))
        self.device = device
        self.max_speed = wp.zeros(1, dtype=float, device=device)
        self.counts = wp.zeros(2, dtype=wp.int32, device=device)

    def damp(self, qd: wp.array, factor: float) -> None:
        """Scale all velocities by ``factor`` in place."""
        wp.launch(_damp_kernel, dim=self.count, inputs=[qd, float(factor)], device=self.device)

    def measure(self, q: wp.array, qd: wp.array) -> tuple[float, int, int]:
        """Returns (max speed [m/s], non-finite particles, particles outside the box)."""
        self.max_speed.zero_()
        self.counts.zero_()
        wp.launch(_stats_kernel, dim=self.count, inputs=[q, qd, self.lower, self.upper, self.max_speed, self.counts],
                  device=self.device)
        counts = self.counts.numpy()
        return float(self.max_speed.numpy()[0]), int(counts[0]), int(counts[1])
