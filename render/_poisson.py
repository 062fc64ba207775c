"""Gradient-domain fusion (Poisson image editing, Perez et al. 2003) of two images along a seam.

The unknown pixels are a band around the seam; inside it the result keeps each side's own
gradients (garment gradients on the garment side, photo gradients on the photo side) while the
colour step across the seam is spread smoothly over the band. Pixels outside the band keep their
values and act as Dirichlet boundary conditions; ``locked`` pixels (occluders in front of the
garment) are left out of the system entirely, so occlusion edges stay sharp.
"""

from __future__ import annotations

import numpy as np

__all__ = ["poisson_seam_blend"]


_ANCHOR = 1e-9


def poisson_seam_blend(
    inside: np.ndarray,
    outside: np.ndarray,
    region: np.ndarray,
    *,
    margin_px: int = 3,
    locked: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fuse ``inside`` (where ``region``) and ``outside`` (elsewhere) in the gradient domain.

    Args:
        inside: image shown inside the region, shape (H, W, C), float.
        outside: image shown outside it, shape (H, W, C), float.
        region: where ``inside`` shows, shape (H, W), bool.
        margin_px: half-width of the blended band on each side of the seam [px], >= 1.
        locked: pixels that keep ``outside`` and do not couple to their neighbours, (H, W) bool.

    Returns:
        (fused (H, W, C) float64, band (H, W) bool: the pixels that were solved for).
    """
    from scipy import ndimage, sparse
    from scipy.sparse.linalg import splu

    inside = np.asarray(inside, np.float64)
    outside = np.asarray(outside, np.float64)
    region = np.asarray(region, bool)
    if inside.shape != outside.shape or inside.shape[:2] != region.shape:
        raise ValueError(
            f"inside {inside.shape}, outside {outside.shape} and region {region.shape} must agree"
        )
    if int(margin_px) != margin_px or margin_px < 1:
        raise ValueError(f"margin_px must be an integer >= 1, got {margin_px}")
    locked = np.zeros(region.shape, bool) if locked is None else np.asarray(locked, bool)
    hard = np.where(region[..., None], inside, outside)
    seam = region & ~ndimage.binary_erosion(region, border_value=1)
    seam |= ~region & ndimage.binary_dilation(region)
    seam &= ~locked
    band = ndimage.binary_dilation(seam, iterations=int(margin_px)) & ~locked
    height, width = region.shape
    if not band.any():
        return hard, band
    index = -np.ones(region.shape, np.int64)
    rows, cols = np.nonzero(band)
    count = len(rows)
    index[rows, cols] = np.arange(count)
    diagonal = np.zeros(count)
    rhs = np.zeros((count, hard.shape[2]))
    entries_i, entries_j = [], []
    for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        r2, c2 = rows + dr, cols + dc
        valid = (r2 >= 0) & (r2 < height) & (c2 >= 0) & (c2 < width)
        valid[valid] &= ~locked[r2[valid], c2[valid]]
        p = np.nonzero(valid)[0]
        q_r, q_c = r2[p], c2[p]
        p_r, p_c = rows[p], cols[p]
        # guidance gradient f_p - f_q: each side's own, zero across the seam
        same_in = region[p_r, p_c] & region[q_r, q_c]
        same_out = ~region[p_r, p_c] & ~region[q_r, q_c]
        guide = np.zeros((len(p), hard.shape[2]))
        guide[same_in] = inside[p_r[same_in], p_c[same_in]] - inside[q_r[same_in], q_c[same_in]]
        guide[same_out] = (
            outside[p_r[same_out], p_c[same_out]] - outside[q_r[same_out], q_c[same_out]]
        )
        diagonal[p] += 1.0
        np.add.at(rhs, p, guide)
        q_index = index[q_r, q_c]
        unknown = q_index >= 0
        entries_i.append(p[unknown])
        entries_j.append(q_index[unknown])
        known = ~unknown
        np.add.at(rhs, p[known], hard[q_r[known], q_c[known]])
    i = np.concatenate(entries_i)
    j = np.concatenate(entries_j)
    matrix = sparse.coo_matrix((np.full(len(i), -1.0), (i, j)), shape=(count, count)).tocsc()
    # a faint pull to the hard value: a band patch walled in by locked pixels and the image border
    # has no known neighbour, which leaves its Laplacian singular; elsewhere it changes nothing
    matrix = matrix + sparse.diags(np.maximum(diagonal, 1.0) + _ANCHOR).tocsc()
    rhs += _ANCHOR * hard[rows, cols]
    # isolated band pixels (no valid neighbour) keep their hard value
    rhs[diagonal == 0] = hard[rows[diagonal == 0], cols[diagonal == 0]] * (1.0 + _ANCHOR)
    solution = splu(matrix).solve(rhs)
    fused = hard.copy()
    fused[rows, cols] = solution
    return fused, band
