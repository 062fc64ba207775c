"""Background where a removed garment leaves a hole: filled with patches of the background ring
around it (exemplar fill), so wood grain, tiles or foliage carry on instead of smearing.

Onion peel in the manner of Criminisi et al. (2004), without their isophote term: hole pixels
on the front with the most known pixels in their window go first, several far-apart windows
per round; each takes the ring patch whose known pixels match best (sum of squared
differences, as two matrix products over a seeded sample of the ring's patches) and copies the
pixels it still lacks. What no front reaches (a hole pocket walled in by the person) falls back
to OpenCV's Telea inpainting.
"""

from __future__ import annotations

import numpy as np

__all__ = ["patch_fill", "ring_texture"]

_COHERENCE = 1.3  # a coherent copy wins unless the best match is this much closer (SSD)
_TONE_SIGMA = 2.0  # [windows] scale below which the copies keep their own tone
_TONE_LIMIT = 0.05  # largest tone shift [sRGB]: a smear across bold shapes must not glow
_BATCH = 16  # windows filled per round (far apart: each sees the others' earlier rounds only)


def patch_fill(
    image: np.ndarray,
    known: np.ndarray,
    target: np.ndarray,
    *,
    patch_px: int = 9,
    ring_px: int = 36,
    candidate_count: int = 2500,
    seed: int = 0,
    passable: np.ndarray | None = None,
) -> np.ndarray:
    """``image`` with its ``target`` pixels filled from patches of the ``known`` ring around
    them.

    Args:
        image: (H, W, 3) float colours in [0, 1] (copied, not blended).
        known: (H, W) bool, pixels that may be copied from and matched against.
        target: (H, W) bool, pixels to fill (outside ``known``); pixels neither known nor
            target (e.g. the person) are ignored by the match and left as they are.
        patch_px: window side [px], odd.
        ring_px: source patches lie within this many pixels of the target.
        candidate_count: at most this many source patches (a seeded sample of the ring's).
        seed: seed of that sample.
        passable: (H, W) bool, unknown pixels the fill may cross to reach the target (e.g. the
            band between the known background and a hole walled in by a grown person mask);
            those within ``ring_px / 2`` of the target are filled too.

    Returns:
        (H, W, 3) float32: ``image`` with ``target`` (and ``passable``) filled.
    """
    import cv2

    if image.ndim != 3 or image.shape[2] != 3 or image.shape[:2] != known.shape:
        raise ValueError(f"image must be (H, W, 3) with known's shape {known.shape}")
    if target.shape != known.shape:
        raise ValueError(f"target must have known's shape {known.shape}, got {target.shape}")
    if patch_px < 3 or patch_px % 2 == 0:
        raise ValueError(f"patch_px must be an odd integer >= 3, got {patch_px}")
    out = np.array(image, np.float32, copy=True)
    target = target & ~known
    if passable is not None and target.any():
        # only the passable pixels near the target: a path in, not the whole outline
        gap = cv2.distanceTransform((~target).astype(np.uint8), cv2.DIST_L2, 5)
        target = target | (passable & ~known & (gap <= 0.5 * ring_px))
    if not target.any():
        return out
    half = patch_px // 2
    # pad by half a window: every window below lies inside the arrays
    pad = ((half, half), (half, half))
    colours = np.pad(out, (*pad, (0, 0)))
    valid = np.pad(known, pad)
    todo = np.pad(target, pad)
    window = np.ones((patch_px, patch_px), np.uint8)
    # source windows: wholly known, within ring_px of the target
    whole = cv2.erode(valid.astype(np.uint8), window, borderValue=0).astype(bool)
    near = cv2.distanceTransform((~todo).astype(np.uint8), cv2.DIST_L2, 5) <= ring_px
    sources = np.argwhere(whole & near)
    if len(sources) == 0:
        return _telea(out, known, target)
    if len(sources) > candidate_count:
        pick = np.random.default_rng(seed).choice(len(sources), candidate_count, replace=False)
        sources = sources[np.sort(pick)]
    offsets = np.mgrid[-half : half + 1, -half : half + 1].reshape(2, -1).T  # (p*p, 2)
    rows = sources[:, None, 0] + offsets[None, :, 0]
    cols = sources[:, None, 1] + offsets[None, :, 1]
    library = colours[rows, cols].reshape(len(sources), -1)  # (N, p*p*3)
    # transposed once, contiguous: each round's match is two small matrix products
    library_t = np.ascontiguousarray(library.T)
    library_sq_t = np.ascontiguousarray((colours[rows, cols] ** 2).sum(axis=-1).T)  # (p*p, N)
    height, width = todo.shape
    inner = np.zeros_like(todo)
    inner[half : height - half, half : width - half] = True
    # where each filled pixel was copied from: its neighbours' sources, shifted, are candidates
    # too (coherent copies keep a texture's larger structure)
    source = np.full((height, width, 2), -1, np.int64)
    while todo.any():
        grown = cv2.dilate(valid.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        front = np.argwhere(todo & grown & inner)
        if len(front) == 0:
            break
        confidence = cv2.boxFilter(
            valid.astype(np.float32), -1, (patch_px, patch_px), normalize=False
        )
        order = np.argsort(-confidence[front[:, 0], front[:, 1]], kind="stable")
        chosen: list[tuple[int, int]] = []
        for r, c in front[order[: 64 * _BATCH]].tolist():  # the most confident, far apart
            if all(max(abs(r - r2), abs(c - c2)) >= patch_px for r2, c2 in chosen):
                chosen.append((r, c))
                if len(chosen) == _BATCH:
                    break
        centres = np.array(chosen)
        win_rows = centres[:, None, 0] + offsets[None, :, 0]
        win_cols = centres[:, None, 1] + offsets[None, :, 1]
        mask = valid[win_rows, win_cols].astype(np.float32)  # (k, p*p)
        values = colours[win_rows, win_cols] * mask[..., None]  # (k, p*p, 3)
        # masked SSD: sum m c^2 - 2 sum m c v + sum m v^2
        cost = mask @ library_sq_t - 2.0 * values.reshape(len(centres), -1) @ library_t
        cost += (values**2).sum(axis=(1, 2))[:, None]
        best = np.argmin(cost, axis=1)
        picked = sources[best]  # (k, 2) source centres
        for k in range(len(centres)):
            shifted = source[win_rows[k], win_cols[k]] - offsets  # (p*p, 2)
            shifted = np.unique(shifted[shifted[:, 0] >= 0], axis=0)
            if len(shifted) == 0:
                continue
            shifted = shifted[whole[shifted[:, 0], shifted[:, 1]]]
            if len(shifted) == 0:
                continue
            windows = colours[
                shifted[:, None, 0] + offsets[None, :, 0], shifted[:, None, 1] + offsets[None, :, 1]
            ]  # (m, p*p, 3)
            coherent = (mask[k][None, :, None] * (windows - values[k][None]) ** 2).sum(axis=(1, 2))
            if coherent.min() <= _COHERENCE * cost[k, best[k]]:
                picked[k] = shifted[int(np.argmin(coherent))]
        fill = todo[win_rows, win_cols]  # (k, p*p)
        from_rows = picked[:, None, 0] + offsets[None, :, 0]
        from_cols = picked[:, None, 1] + offsets[None, :, 1]
        rows, cols = win_rows[fill], win_cols[fill]
        colours[rows, cols] = colours[from_rows[fill], from_cols[fill]]
        source[rows, cols] = np.stack([from_rows[fill], from_cols[fill]], axis=-1)
        valid[rows, cols] = True
        todo[rows, cols] = False
    out = colours[half : height - half, half : width - half]
    left = todo[half : height - half, half : width - half]
    if left.any():
        out = _telea(out, ~(left | (~known & ~target)), left)
    # the copies' tone follows the ring's smooth fill (the texture stays the copies'): patches
    # from a darker or lighter part of the ring would otherwise show as blotches
    filled = target & ~left
    if filled.any() and _TONE_SIGMA > 0:
        support = (known | target).astype(np.float32)
        smooth = _telea(out, known, filled)
        sigma = _TONE_SIGMA * patch_px
        weight = np.maximum(cv2.GaussianBlur(support, (0, 0), sigma), 1e-6)[..., None]
        low_copy = cv2.GaussianBlur(out * support[..., None], (0, 0), sigma) / weight
        low_ring = cv2.GaussianBlur(smooth * support[..., None], (0, 0), sigma) / weight
        shift = np.clip(low_ring - low_copy, -_TONE_LIMIT, _TONE_LIMIT)
        out[filled] = np.clip(out[filled] + shift[filled], 0.0, 1.0)
    return out


def ring_texture(image: np.ndarray, known: np.ndarray, target: np.ndarray, ring_px: int) -> float:
    """How textured the background ring around ``target`` is: the 75th percentile of the
    absolute luma step (horizontal plus vertical, colours in [0, 1]) over the ``known`` pixels
    within ``ring_px`` of the target; 0 without such pixels."""
    import cv2

    luma = image[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    step = np.zeros(luma.shape, np.float32)
    step[:-1, :-1] = np.abs(np.diff(luma, axis=1))[:-1] + np.abs(np.diff(luma, axis=0))[:, :-1]
    near = cv2.distanceTransform((~target).astype(np.uint8), cv2.DIST_L2, 5) <= ring_px
    # both pixels of a step in the ring: the person's outline is no texture
    ring = known & near
    ring[:-1, :-1] &= known[1:, :-1] & known[:-1, 1:]
    return float(np.percentile(step[ring], 75)) if ring.any() else 0.0


def _telea(image: np.ndarray, known: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``target`` filled by OpenCV's Telea inpainting from ``known`` (colours in [0, 1], through
    8 bits there)."""
    import cv2

    eight = np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)
    filled = cv2.inpaint(eight, (~known).astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)
    out = image.copy()
    out[target] = filled[target].astype(np.float32) / 255.0
    return out
