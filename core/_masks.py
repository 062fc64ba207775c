"""Boolean pixel masks."""

from __future__ import annotations

import numpy as np


def pieces_touching(candidates: np.ndarray, anchor: np.ndarray, *, reach_px: int = 0) -> np.ndarray:
    """The connected pieces (4-connected) of ``candidates`` that have a pixel within
    ``reach_px`` (city-block) of ``anchor``, both (H, W) bool -> (H, W) bool: what joins a
    region, not merely lies near it."""
    from scipy import ndimage

    pieces, count = ndimage.label(candidates)
    if not count:
        return np.zeros(candidates.shape, bool)
    near = ndimage.binary_dilation(anchor, iterations=reach_px) if reach_px > 0 else anchor
    touched = np.unique(pieces[near & candidates])
    return np.isin(pieces, touched[touched > 0])
