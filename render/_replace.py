"""What lies under the user's own garment: the pixels of the old garment that the new one leaves
open become skin where the fitted body is, or background where it is not.

- Skin: the fitted body's render under the fitted light gives the shading; its colour is moved
  to the person's own skin by the per-channel ratio of medians (photo over render, linear RGB)
  on the pixels that both call skin (parsing's skin label on the bare rendered body), or to
  the parsing's face sample when too few pixels are shared.
- Background: patches of the background ring around the hole copied in (``_background_fill``:
  wood grain, tiles or foliage carry on), the whole person masked out so only background feeds
  the fill, on a crop around the exposed pixels; ``background_fill="telea"``: OpenCV's Telea
  inpainting instead (a smooth smear).
- Seam: the replaced pixels meet the photo in a Poisson-blended band of ``margin_px``.
"""

from __future__ import annotations

import numpy as np

from ._background_fill import patch_fill, ring_texture
from ._color import linear_to_srgb, srgb_to_linear
from ._poisson import poisson_seam_blend

__all__ = [
    "BACKGROUND_FILLS",
    "CLOTHES_LABELS",
    "REPLACE_OVERLAP",
    "old_garment_labels",
    "underlay",
]

#: Parsing labels that are clothes a new garment may replace.
CLOTHES_LABELS = ("upper_clothes", "lower_clothes", "dress")
#: Share of a clothes label's pixels the new garment must cover for it to count as replaced
#: (a tee covers most of a long sleeve's or a dress's top, only a hem's width of trousers).
REPLACE_OVERLAP = 0.2
_MIN_SKIN_PX = 32  # shared skin pixels below which the parsing's face sample sets the colour
_INPAINT_RADIUS_PX = 5
#: How uncovered background is filled: patches of the ring around it, or Telea's smooth fill.
BACKGROUND_FILLS = ("patch", "telea")
_PATCH_SHARE = 0.008  # the fill's window half-side, as a share of the image's long side
# Rings smoother than this (75th percentile luma step, 2/255: plain walls, gradients, sky) are
# filled smoothly: copies there only risk bringing in a stray object from the ring.
_SMOOTH_RING = 2.0 / 255.0


def old_garment_labels(parsing, garment: np.ndarray) -> tuple[str, ...]:
    """The clothes labels of ``parsing`` (a ``bodyfit.PersonParsing`` at ``garment``'s size)
    of which ``garment`` ((H, W) bool: where the new garment shows) covers at least
    :data:`REPLACE_OVERLAP`."""
    names = []
    for name in CLOTHES_LABELS:
        mask = parsing.mask(name)
        count = int(mask.sum())
        if count and (mask & garment).sum() >= REPLACE_OVERLAP * count:
            names.append(name)
    return tuple(names)


def _skin_scale(
    photo_linear: np.ndarray, body_linear: np.ndarray, shared: np.ndarray, skin_rgb
) -> np.ndarray:
    """Per-channel factor taking the body render's skin to the person's, shape (3,)."""
    if shared.sum() >= _MIN_SKIN_PX:
        target = np.median(photo_linear[shared], axis=0)
        source = np.median(body_linear[shared], axis=0)
    else:
        target = srgb_to_linear(np.asarray(skin_rgb, np.float64) / 255.0)
        source = np.median(body_linear.reshape(-1, 3), axis=0)
    return np.clip(target / np.maximum(source, 1e-4), 0.05, 20.0)


def _inpainted(
    photo: np.ndarray,
    hole: np.ndarray,
    exposed: np.ndarray,
    *,
    method: str = "patch",
    passable: np.ndarray | None = None,
) -> np.ndarray:
    """``photo`` (H, W, 3) uint8 with ``hole`` filled from around it, computed on the crop
    around ``exposed`` only; float sRGB in [0, 1] there, the photo elsewhere. ``method``
    ``"patch"``: the ``exposed`` pixels (reached through ``passable`` ones) take patches of the
    background ring, unless that ring is smooth; ``"telea"`` (and smooth rings): the whole
    crop's hole is inpainted smoothly (Telea)."""
    import cv2

    rows, cols = np.flatnonzero(exposed.any(axis=1)), np.flatnonzero(exposed.any(axis=0))
    half = max(3, round(_PATCH_SHARE * max(photo.shape[:2])))
    ring = 8 * half
    pad = 4 * _INPAINT_RADIUS_PX + 8 if method == "telea" else ring + 2 * half + 2
    r0, r1 = max(0, rows[0] - pad), min(photo.shape[0], rows[-1] + pad + 1)
    c0, c1 = max(0, cols[0] - pad), min(photo.shape[1], cols[-1] + pad + 1)
    crop = np.ascontiguousarray(photo[r0:r1, c0:c1])
    mask = hole[r0:r1, c0:c1].astype(np.uint8) * 255
    out = photo.astype(np.float32) / 255.0
    if mask.all():  # nothing to fill from: the crop's mean
        out[r0:r1, c0:c1] = crop.reshape(-1, 3).mean(axis=0) / 255.0
        return out
    window = (slice(r0, r1), slice(c0, c1))
    if method == "patch" and ring_texture(out[window], ~hole[window], exposed[window], ring) >= (
        _SMOOTH_RING
    ):
        out[window] = patch_fill(
            out[window],
            ~hole[window],
            exposed[window],
            patch_px=2 * half + 1,
            ring_px=ring,
            passable=None if passable is None else passable[window],
        )
        return out
    filled = cv2.inpaint(crop, mask, _INPAINT_RADIUS_PX, cv2.INPAINT_TELEA)
    out[r0:r1, c0:c1] = filled.astype(np.float32) / 255.0
    return out


def underlay(
    photo: np.ndarray,
    exposed: np.ndarray,
    *,
    body_srgb: np.ndarray,
    body_alpha: np.ndarray,
    bare_body: np.ndarray,
    skin: np.ndarray,
    person: np.ndarray,
    skin_rgb,
    margin_px: int,
    hidden: np.ndarray | None = None,
    background_fill: str = "patch",
) -> tuple[np.ndarray, np.ndarray]:
    """The photo with the ``exposed`` old-garment pixels replaced by what lies under them.

    Args:
        photo: the photo, (H, W, 3) uint8 sRGB.
        exposed: old-garment pixels the new garment leaves (partly) open, (H, W) bool.
        body_srgb: the fitted body's colour under the fitted light, (H, W, 3) float sRGB in
            [0, 1], valid where ``body_alpha`` > 0 (e.g. filled from the nearest bare pixel).
        body_alpha: the fitted body's coverage, (H, W) float in [0, 1].
        bare_body: pixels where only the body shows in the render, (H, W) bool.
        skin: the parsing's skin pixels, (H, W) bool.
        person: the person's pixels (every label but background), (H, W) bool.
        skin_rgb: the parsing's face-skin sample, sRGB (3,) in [0, 255].
        margin_px: half-width [px] of the Poisson band where the replaced pixels meet the photo.
        hidden: pixels the new garment hides wholly, (H, W) bool: left out of the blend (the old
            garment there must not bleed into the replaced pixels around it).
        background_fill: one of :data:`BACKGROUND_FILLS`: ``"patch"`` copies patches of the
            background ring into uncovered background, ``"telea"`` inpaints it smoothly.

    Returns:
        (underlay (H, W, 3) float sRGB in [0, 1], changed (H, W) bool: the replaced pixels and
        their blend band).
    """
    from scipy import ndimage

    if background_fill not in BACKGROUND_FILLS:
        raise ValueError(
            f"background_fill must be one of {BACKGROUND_FILLS}, got {background_fill!r}"
        )
    photo_float = photo.astype(np.float32) / 255.0
    if not exposed.any():
        return photo_float, exposed.copy()
    photo_linear = srgb_to_linear(photo_float)
    body_linear = srgb_to_linear(body_srgb)
    scale = _skin_scale(photo_linear, body_linear, skin & bare_body & ~exposed, skin_rgb)
    skin_linear = body_linear * scale
    alpha = np.clip(body_alpha, 0.0, 1.0)[..., None]
    open_background = exposed & (body_alpha < 0.999)
    if open_background.any():
        hole = ndimage.binary_dilation(person | exposed, iterations=2)
        # the patch fill walks in from the ring over pixels off the body (the grown outline
        # around the old garment) to reach background walled in by the person mask
        filled = _inpainted(
            photo,
            hole,
            open_background,
            method=background_fill,
            passable=hole & (body_alpha < 0.5),
        )
        back_linear = srgb_to_linear(filled)
    else:
        back_linear = photo_linear
    replaced = linear_to_srgb(skin_linear * alpha + back_linear * (1.0 - alpha))
    inside = np.where(exposed[..., None], replaced, photo_float)
    if margin_px > 0:
        fused, band = poisson_seam_blend(
            inside, photo_float, exposed, margin_px=int(margin_px), locked=hidden
        )
        inside = np.where(band[..., None], np.clip(fused, 0.0, 1.0), inside)
        return inside.astype(np.float32), exposed | band
    return inside.astype(np.float32), exposed.copy()
