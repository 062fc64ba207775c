"""Photo views: the square crop around the person and its pinhole camera."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tryon3d.bodyfit._photo import PhotoAnalysis

if TYPE_CHECKING:
    import torch

_CROP_PX = 256  # fitting resolution (square crop around the person)

_CROP_MARGIN = 0.08
# Weight of clothed target pixels the body leaves empty (and of clothed contour points' pull):
# cloth bridges gaps of the body (armpits, between the legs) that no erosion of the outline
# removes; leaking out of the clothes still costs in full.
_CLOTH_UNDERFILL = 0.3

_FOCAL_PRIOR = (
    1.6  # focal length prior, times the photo's long side (about a 36 mm-equivalent lens)
)


@dataclass
class _View:
    """Per-view fitting data in crop pixels."""

    name: str
    analysis: PhotoAnalysis
    crop_origin: np.ndarray  # (2,) analysis px of the crop's top-left corner
    crop_scale: float  # crop px per analysis px
    keypoints: torch.Tensor  # (33, 2) crop px
    weights: torch.Tensor  # (33,)
    target: torch.Tensor  # (R, R) float mask in crop
    outside_distance: torch.Tensor  # (1, 1, R, R) distance to the mask [crop px]
    contour: torch.Tensor  # (N, 2) contour samples [crop px]
    person_px: float
    rotation0: np.ndarray
    focal0: float
    mirrored: bool = False
    focal_known: bool = False  # focal0 from the photo's EXIF: held fixed
    # (R, R) weight of the body not filling a target pixel (0: the mask only bounds the body
    # there; _CLOTH_UNDERFILL under clothes, which may bridge gaps of the body; None: all 1)
    weight: torch.Tensor | None = None
    contour_weight: torch.Tensor | None = None  # (N,) pull of each contour point (None: all 1)
    legs_lost: bool = False  # the person mask lost the legs: they are held near the rest stance
    # () -> (R, R) bool: skin outside the target that a view in another pose than the A-pose
    # covers (fingers the person mask trimmed; ``_Fitter``), asked for only by such views (a
    # GrabCut: 0.2-0.5 CPU s an A-pose fit would spend for nothing); None: none
    posed_skin: Callable[[], np.ndarray] | None = None


def _crop_view(
    name: str,
    analysis: PhotoAnalysis,
    sex: str,
    *,
    focal_px: float | None = None,
    bound_only: np.ndarray | None = None,
    cloth: np.ndarray | None = None,
    posed_skin: Callable[[], np.ndarray] | None = None,
) -> _View:
    """The view's crop; ``focal_px`` (photo px, from EXIF) fixes the focal length;
    ``bound_only`` (analysis size, bool) marks mask pixels that only bound the body from
    outside: their contour does not pull the body out and the refinement does not fill them;
    ``cloth`` (same size, bool) marks clothed pixels, which pull and ask to be filled less;
    ``posed_skin`` (() -> same size, bool) is skin the fit covers in a pose off the A-pose."""
    import torch
    from PIL import Image
    from scipy import ndimage

    mask = analysis.mask
    binary = mask > 0.5
    rows, cols = np.flatnonzero(binary.any(axis=1)), np.flatnonzero(binary.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    side = max(bottom - top, right - left) * (1.0 + 2.0 * _CROP_MARGIN)
    centre = np.array([(left + right) / 2.0, (top + bottom) / 2.0])
    origin = centre - side / 2.0
    scale = _CROP_PX / side
    _height, _width = mask.shape
    # Crop (with padding) and resample the soft mask to R x R.
    box = (origin[0], origin[1], origin[0] + side, origin[1] + side)
    image = Image.fromarray((np.clip(mask, 0, 1) * 255).astype(np.uint8))
    crop = (
        np.asarray(
            image.transform(
                (_CROP_PX, _CROP_PX),
                Image.Transform.EXTENT,
                box,
                Image.Resampling.BILINEAR,
                fillcolor=0,
            ),
            dtype=np.float32,
        )
        / 255.0
    )
    inside = crop > 0.5
    outside_distance = ndimage.distance_transform_edt(~inside).astype(np.float32)
    edge = inside & ~ndimage.binary_erosion(inside)

    def crop_bool(array: np.ndarray | None) -> np.ndarray:
        if array is None:
            return np.zeros((_CROP_PX, _CROP_PX), bool)
        image = Image.fromarray(array.astype(np.uint8) * 255)
        resampled = image.transform(
            (_CROP_PX, _CROP_PX), Image.Transform.EXTENT, box, Image.Resampling.NEAREST
        )
        return np.asarray(resampled) > 127

    loose, clothed = crop_bool(bound_only), crop_bool(cloth)
    weight = None
    if loose.any() or clothed.any():
        edge &= ~loose
        under = np.where(clothed, _CLOTH_UNDERFILL, 1.0)
        weight = torch.as_tensor(np.where(loose & inside, 0.0, under).astype(np.float32))
    v_idx, u_idx = np.nonzero(edge)
    contour = np.stack([u_idx + 0.5, v_idx + 0.5], axis=1)
    contour_cloth = clothed[v_idx, u_idx]
    if len(contour) > 600:
        keep = np.linspace(0, len(contour) - 1, 600).astype(int)
        contour, contour_cloth = contour[keep], contour_cloth[keep]
    contour_weight = (
        torch.as_tensor(np.where(contour_cloth, _CLOTH_UNDERFILL, 1.0).astype(np.float32))
        if contour_cloth.any()
        else None
    )
    keypoints = (analysis.keypoints - origin) * scale
    weights = np.where(analysis.visibility > 0.5, analysis.visibility, 0.0)
    if name == "front":
        rotation0 = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])
    else:
        # Facing direction in the image from the nose relative to the ears (then toes vs heels).
        k = analysis.keypoints
        facing = k[0, 0] - 0.5 * (k[7, 0] + k[8, 0])
        if abs(facing) < 2.0:
            facing = 0.5 * (k[31, 0] + k[32, 0]) - 0.5 * (k[29, 0] + k[30, 0])
        if facing > 0:  # faces image right: camera on the body's right (-x), looking +x
            rotation0 = np.array([[0, -1.0, 0], [0, 0, -1.0], [1.0, 0, 0]])
        else:
            rotation0 = np.array([[0, 1.0, 0], [0, 0, -1.0], [-1.0, 0, 0]])
    focal0 = (
        _FOCAL_PRIOR * max(analysis.size) * scale
        if focal_px is None
        else focal_px * analysis.scale * scale
    )
    return _View(
        name=name,
        analysis=analysis,
        crop_origin=origin,
        crop_scale=scale,
        keypoints=torch.as_tensor(keypoints, dtype=torch.float32),
        weights=torch.as_tensor(weights, dtype=torch.float32),
        target=torch.as_tensor(crop),
        outside_distance=torch.as_tensor(outside_distance)[None, None],
        contour=torch.as_tensor(contour, dtype=torch.float32),
        person_px=float((bottom - top) * scale),
        rotation0=rotation0,
        focal0=float(focal0),
        mirrored=name != "front",
        focal_known=focal_px is not None,
        weight=weight,
        contour_weight=contour_weight,
        posed_skin=None if posed_skin is None else (lambda: crop_bool(posed_skin())),
    )
