"""Test scenes: a flat sheet garment (the revolved body and skirt live in sim._scenes)."""

from __future__ import annotations

import numpy as np

from tryon3d.garments import Fabric, Garment
from tryon3d.sim._scenes import _grid_faces, test_fabric

__all__ = ["sheet_garment"]


def sheet_garment(
    *,
    width_m: float = 0.5,
    edge_m: float = 0.025,
    centre_m: tuple[float, float, float] = (0.0, 0.0, 2.0),
    fabric: Fabric | None = None,
) -> Garment:
    """A flat square sheet in the horizontal plane, no seams (for free-fall and drop tests)."""
    fabric = fabric or test_fabric()
    n = max(2, round(width_m / edge_m) + 1)
    u = np.linspace(-width_m / 2.0, width_m / 2.0, n)
    xx, yy = np.meshgrid(u, u, indexing="xy")
    pattern = np.stack([xx, yy], axis=-1).reshape(-1, 2)
    positions = np.concatenate([pattern, np.zeros((len(pattern), 1))], axis=1) + np.asarray(
        centre_m
    )
    return Garment(
        name="sheet",
        size="",
        fabric=fabric,
        positions=positions,
        faces=_grid_faces(n, n),
        uv=(pattern / 0.1).astype(np.float32),
        vertex_panels=np.zeros(len(positions), dtype=np.int32),
        panel_names=("sheet",),
        seam_pairs=np.zeros((0, 2), dtype=np.int64),
        grain_directions=np.array([[0.0, 1.0]]),
        pattern_positions=pattern,
    )
