"""The body under the clothes: how far a garment's outline stands off the body, per region.

A photo's person outline is the body where skin shows; where clothes cover it, the outline is an
upper bound and the body sits inside it by the garment's ease there. ``data/clothing_ease.json``
(``scripts/build_clothing_ease.py``) holds that stand-off, learnt from our own drapes: for each
view (``front``: the sideways stand-off; ``side``: front/back), parsed garment class
(``upper``, ``lower``, ``dress``) and body region (``EASE_REGIONS``), the median, mean and spread
[m] of the horizontal distance from a cloth outline pixel to the body silhouette, over families,
sizes, fabrics and bodies.

Regions are found in the image from the pose keypoints alone (MediaPipe's landmark order), the
same way for the drapes that made the table and for a photo: rows between the shoulder and hip
lines split the torso into chest / waist / hips, capsules around the arm bones take the arms,
the rows below the hips are thigh then lower leg.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from tryon3d.core import data_file, readonly_array

__all__ = [
    "EASE_CLASSES",
    "EASE_REGIONS",
    "EASE_VIEWS",
    "ClothedTarget",
    "ClothingEase",
    "clothed_target",
    "ease_samples",
    "load_clothing_ease",
    "lower_garment_class",
    "region_map",
]

EASE_VIEWS: tuple[str, ...] = ("front", "side")
#: Parsed garment classes (``bodyfit.LABELS`` upper_clothes, lower_clothes, dress); lower
#: clothes are trousers where the background or skin shows between the legs, else a skirt.
EASE_CLASSES: tuple[str, ...] = ("upper", "trousers", "skirt", "dress")
EASE_REGIONS: tuple[str, ...] = (
    "shoulders",
    "chest",
    "waist",
    "hips",
    "thigh",
    "lower_leg",
    "upper_arm",
    "forearm",
)
#: Girths judged from the outline of these regions.
GIRTH_REGIONS = {"chest": "chest", "waist": "waist", "hips": "hips"}
_NECK = 0  # index of "shoulders" (everything above the shoulder line)
# Row fractions between the shoulder (0) and hip (1) keypoint lines: chest above 0.45, waist to
# 0.8, hips on to 0.35 of the hip-to-knee drop below the hip line.
_CHEST_END, _WAIST_END, _HIPS_BELOW = 0.45, 0.8, 0.35
# Torso half-breadth [m] (front view; side view: half-depth) and limb radius [m]: a pixel is an
# arm's when it is nearer the arm bone (less its radius) than the torso's edge.
_TORSO_HALF_M = {"front": 0.16, "side": 0.12}
_ARM_RADIUS_M = 0.05
_SHOULDER, _ELBOW, _WRIST = (11, 12), (13, 14), (15, 16)
_HIP, _KNEE, _ANKLE = (23, 24), (25, 26), (27, 28)
# Rows judged for trousers vs skirt: from this fraction of the hip-to-knee drop below the hip
# line (the crotch) to this fraction of the knee-to-ankle drop below the knee line.
_GAP_FROM, _GAP_TO = 0.35, 0.5
_GAP_SKIRT_SHARE = 0.5  # more of those rows spanned by cloth than this: a skirt
_GAP_MIN_ROWS = 5
#: Spread of the stand-off [m] above which a region's outline cannot tell where the body is:
#: its clothed outline bounds the body from outside only (no pull towards it).
UNTELLING_SPREAD_M = 0.02


def region_map(
    shape: tuple[int, int], keypoints: np.ndarray, px_per_m: float, *, view: str
) -> np.ndarray:
    """Body region per pixel from the pose keypoints.

    Args:
        shape: (H, W) of the image [px].
        keypoints: (33, 2) landmark pixel positions (u, v) [px], MediaPipe's order.
        px_per_m: image pixels per metre at the body.
        view: ``"front"`` or ``"side"``.

    Returns:
        Index into ``EASE_REGIONS`` per pixel, shape (H, W), int8.
    """
    from tryon3d.bodyfit._parsing import _segment_distance

    if view not in EASE_VIEWS:
        raise ValueError(f"view must be one of {EASE_VIEWS}, got {view!r}")
    keypoints = np.asarray(keypoints, np.float64)
    if keypoints.shape != (33, 2):
        raise ValueError(f"keypoints must have shape (33, 2), got {keypoints.shape}")
    height, width = shape
    v, u = np.mgrid[0:height, 0:width]
    points = np.stack([u.ravel() + 0.5, v.ravel() + 0.5], axis=1).astype(np.float64)
    shoulder = keypoints[list(_SHOULDER)].mean(axis=0)
    hip = keypoints[list(_HIP)].mean(axis=0)
    knee_v = float(keypoints[list(_KNEE), 1].mean())
    drop = max(hip[1] - shoulder[1], 1.0)
    t = (points[:, 1] - shoulder[1]) / drop
    regions = np.full(len(points), EASE_REGIONS.index("lower_leg"), np.int8)
    hips_end = hip[1] + _HIPS_BELOW * (knee_v - hip[1])
    regions[points[:, 1] < knee_v] = EASE_REGIONS.index("thigh")
    regions[points[:, 1] < hips_end] = EASE_REGIONS.index("hips")
    regions[t < _WAIST_END] = EASE_REGIONS.index("waist")
    regions[t < _CHEST_END] = EASE_REGIONS.index("chest")
    regions[t < 0.0] = _NECK
    # Arms: nearer an arm bone (less the arm's radius) than the torso's edge (the spine line
    # between the shoulder and hip midpoints, less the torso's half-breadth).
    spine_u = shoulder[0] + np.clip(t, 0.0, 1.0) * (hip[0] - shoulder[0])
    torso_gap = np.abs(points[:, 0] - spine_u) - _TORSO_HALF_M[view] * px_per_m
    arm_radius = _ARM_RADIUS_M * px_per_m
    for name, (start, end) in (("upper_arm", (_SHOULDER, _ELBOW)), ("forearm", (_ELBOW, _WRIST))):
        for a, b in zip(start, end, strict=True):
            gap = _segment_distance(points, keypoints[a], keypoints[b]) - arm_radius
            arm = (gap < torso_gap) & (t > -0.1) & (points[:, 1] < hips_end)
            regions[arm] = EASE_REGIONS.index(name)
            torso_gap = np.where(arm, gap, torso_gap)
    return regions.reshape(height, width)


def lower_garment_class(
    labels: np.ndarray, keypoints: np.ndarray, person: np.ndarray | None = None
) -> str | None:
    """Trousers or skirt: does the parsed lower garment fill the gap between the legs?

    On rows below the crotch where lower clothes lie on both sides of the line midway between
    the legs (hip, knee and ankle keypoints), trousers leave background or skin on that line,
    a skirt spans it. Judge a front view: in a side view the legs overlap.

    Args:
        labels: ``bodyfit.LABELS`` index per pixel, shape (H, W), uint8.
        keypoints: (33, 2) pose keypoints [px] at the same scale, MediaPipe's order.
        person: the person mask, (H, W) bool, or None: a row whose midline the parsing calls
            cloth where the person mask sees background is not judged. The parsing's GrabCut
            band takes a narrow gap between the legs for cloth where the background has a
            colour of the person's (a white wall between jeans under a white-striped top: a
            real photo read as a skirt, its jeans shrunk by a skirt's ease and its shins left
            free); on the 272 training photos it took one pair of trousers for a skirt, and
            judged no skirt otherwise.

    Returns:
        ``"trousers"``, ``"skirt"``, or None when too few rows show lower clothes on both legs.
    """
    from tryon3d.bodyfit._parsing import LOWER

    keypoints = np.asarray(keypoints, np.float64)
    height, width = labels.shape
    stations = [keypoints[list(pair)].mean(axis=0) for pair in (_HIP, _KNEE, _ANKLE)]
    hip_v, knee_v, ankle_v = (float(p[1]) for p in stations)
    if not hip_v < knee_v < ankle_v:
        return None
    first = int(hip_v + _GAP_FROM * (knee_v - hip_v))
    last = int(knee_v + _GAP_TO * (ankle_v - knee_v))
    lower = labels == LOWER
    columns = np.arange(width)
    judged = spanned = 0
    for v in range(max(first, 0), min(last, height - 1) + 1):
        mid = int(np.interp(v, [p[1] for p in stations], [p[0] for p in stations]))
        if not 1 <= mid < width - 1 or not lower[v].any():
            continue
        cols = columns[lower[v]]
        if not ((cols < mid - 1).any() and (cols > mid + 1).any()):
            continue  # cloth on one leg only (a hem, a crossed leg): says nothing
        centre = slice(mid - 1, mid + 2)
        cloth = bool(lower[v, centre].all())
        if cloth and person is not None and not person[v, centre].all():
            continue  # cloth to the parsing, background to the person mask: cannot tell
        judged += 1
        spanned += cloth
    if judged < _GAP_MIN_ROWS:
        return None
    return "skirt" if spanned > _GAP_SKIRT_SHARE * judged else "trousers"


def ease_samples(
    body_mask: np.ndarray,
    garment_mask: np.ndarray,
    regions: np.ndarray,
    px_per_m: float,
) -> dict[str, np.ndarray]:
    """Stand-off [m] of a garment's outline from the body silhouette, per region.

    Args:
        body_mask: the body's silhouette alone, shape (H, W), bool.
        garment_mask: the garment's silhouette alone, shape (H, W), bool.
        regions: ``region_map`` of the image, shape (H, W), int8.
        px_per_m: pixels per metre.

    Returns:
        region name -> distances [m] (one per outline pixel of the dressed silhouette that the
        garment forms and the body does not), float64; regions without any are left out.
    """
    from scipy import ndimage

    dressed = body_mask | garment_mask
    outline = dressed & ~ndimage.binary_erosion(dressed, border_value=0)
    cloth_outline = outline & garment_mask & ~body_mask
    distance = ndimage.distance_transform_edt(~body_mask) / px_per_m
    out = {}
    for index, name in enumerate(EASE_REGIONS):
        picked = cloth_outline & (regions == index)
        if picked.any():
            out[name] = distance[picked].astype(np.float64)
    return out


@dataclass(frozen=True, eq=False)
class ClothingEase:
    """Learnt stand-off of clothes from the body [m] (``data/clothing_ease.json``).

    Attributes:
        median: per view, shape (len(EASE_CLASSES), len(EASE_REGIONS)), float64 [m]; NaN where
            no drape had cloth outline there.
        mean: same shape [m].
        std: spread (standard deviation) of the stand-off, same shape [m].
        count: outline pixels behind each entry, same shape, int64.
    """

    median: dict[str, np.ndarray]
    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray]
    count: dict[str, np.ndarray]

    def __post_init__(self) -> None:
        shape = (len(EASE_CLASSES), len(EASE_REGIONS))
        for table in (self.median, self.mean, self.std):
            for view in EASE_VIEWS:
                if view not in table:
                    raise ValueError(f"clothing ease table lacks view {view!r}")
                readonly_array(table[view], np.float64, shape, f"ease[{view!r}]")
        for view in EASE_VIEWS:
            readonly_array(self.count[view], np.int64, shape, f"count[{view!r}]")

    def lookup(self, view: str, garment_class: str, region: str) -> tuple[float, float]:
        """(median, spread) [m] of the stand-off; (0, 0) where the table has nothing."""
        i, j = EASE_CLASSES.index(garment_class), EASE_REGIONS.index(region)
        median, std = float(self.median[view][i, j]), float(self.std[view][i, j])
        return (0.0, 0.0) if not np.isfinite(median) else (median, std)

    def to_dict(self) -> dict[str, Any]:
        def cell(view: str, i: int, j: int) -> dict[str, float | int] | None:
            if not self.count[view][i, j]:
                return None
            return {
                "median_m": round(float(self.median[view][i, j]), 4),
                "mean_m": round(float(self.mean[view][i, j]), 4),
                "std_m": round(float(self.std[view][i, j]), 4),
                "count": int(self.count[view][i, j]),
            }

        return {
            "views": {
                view: {
                    c: {r: cell(view, i, j) for j, r in enumerate(EASE_REGIONS)}
                    for i, c in enumerate(EASE_CLASSES)
                }
                for view in EASE_VIEWS
            }
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClothingEase:
        """Inverse of :meth:`to_dict`; ValueError naming what is missing or wrong."""
        shape = (len(EASE_CLASSES), len(EASE_REGIONS))
        fields: dict[str, dict[str, np.ndarray]] = {
            "median": {},
            "mean": {},
            "std": {},
            "count": {},
        }
        views = data.get("views") if isinstance(data, dict) else None
        if not isinstance(views, dict):
            raise ValueError("clothing ease table: expected a 'views' mapping")
        for view in EASE_VIEWS:
            arrays = {key: np.full(shape, np.nan) for key in ("median", "mean", "std")}
            count = np.zeros(shape, np.int64)
            classes = views.get(view)
            if not isinstance(classes, dict):
                raise ValueError(f"clothing ease table: view {view!r} missing")
            for i, garment_class in enumerate(EASE_CLASSES):
                for j, region in enumerate(EASE_REGIONS):
                    entry = (classes.get(garment_class) or {}).get(region)
                    if entry is None:
                        continue
                    values = [entry.get(f"{key}_m") for key in ("median", "mean", "std")]
                    if not all(isinstance(x, int | float) and 0 <= x < 1.0 for x in values):
                        raise ValueError(
                            f"clothing ease table: {view}/{garment_class}/{region} needs "
                            f"median_m, mean_m, std_m in [0, 1) m, got {entry}"
                        )
                    for key, value in zip(("median", "mean", "std"), values, strict=True):
                        arrays[key][i, j] = float(value)
                    count[i, j] = int(entry.get("count", 0))
            for key, array in arrays.items():
                array.flags.writeable = False
                fields[key][view] = array
            count.flags.writeable = False
            fields["count"][view] = count
        return cls(**fields)


@functools.cache
def load_clothing_ease() -> ClothingEase:
    """The shipped ease table (``data/clothing_ease.json``), read once per process."""
    with data_file("clothing_ease.json").open(encoding="utf-8") as handle:
        return ClothingEase.from_dict(json.load(handle))


@dataclass(frozen=True, eq=False)
class ClothedTarget:
    """A person outline corrected for clothes (one view, analysis pixels).

    Attributes:
        target: the body's expected silhouette, shape (H, W), float32 in [0, 1]: the person mask
            with clothed outline pixels pulled in by the ease.
        bound_only: pixels where the photo bounds the body from outside only (clothes whose
            ease is too uncertain, e.g. a dress over the hips), shape (H, W), bool.
        cloth: clothed pixels of ``target`` (not bound-only), shape (H, W), bool: the body may
            sit inside them (arm-to-torso and leg gaps the cloth bridges).
        coverage: girth name -> {"skin", "cloth", "untelling"} shares of that region's outline
            pixels, and "ease_std_m" (their ease spread, averaged) [m].
        lower: ease class used for the lower clothes, ``"trousers"`` or ``"skirt"``.
    """

    target: np.ndarray
    bound_only: np.ndarray
    cloth: np.ndarray
    coverage: dict[str, dict[str, float]]
    lower: str = "trousers"


def clothed_target(
    mask: np.ndarray,
    labels: np.ndarray,
    keypoints: np.ndarray,
    px_per_m: float,
    *,
    view: str,
    ease: ClothingEase | None = None,
    lower: str | None = None,
    own_skin: np.ndarray | None = None,
) -> ClothedTarget:
    """The person mask shrunk where clothes form the outline, by the learnt ease.

    Args:
        mask: person probability, shape (H, W), float in [0, 1].
        labels: ``bodyfit.LABELS`` index per pixel at the same size, shape (H, W), uint8.
        keypoints: (33, 2) pose keypoints [px] at the same scale.
        px_per_m: pixels per metre at the body.
        view: ``"front"`` or ``"side"`` (side views use the front/back stand-off).
        ease: the table (None: the shipped one).
        lower: ``"trousers"`` or ``"skirt"``: the ease class of the lower clothes (None: judged
            by ``lower_garment_class`` on these labels, trousers when it cannot tell: their
            smaller ease keeps the outline nearer an upper bound).
        own_skin: where the parsing itself found skin, (H, W) bool, when ``labels`` also call
            skin what only has its colour: each girth's coverage gets its ``own_skin`` share
            (None: the ``skin`` share).

    Returns:
        A :class:`ClothedTarget`.
    """
    from scipy import ndimage

    from tryon3d.bodyfit._parsing import CLOTHES, DRESS, LOWER, SKIN, UPPER

    if mask.shape != labels.shape:
        raise ValueError(f"labels must have the mask's shape {mask.shape}, got {labels.shape}")
    if lower not in (None, "trousers", "skirt"):
        raise ValueError(f"lower must be 'trousers', 'skirt' or None, got {lower!r}")
    person = mask > 0.5
    if lower is None:
        lower = lower_garment_class(labels, keypoints, person=person) or "trousers"
    ease = load_clothing_ease() if ease is None else ease
    regions = region_map(mask.shape, keypoints, px_per_m, view=view)
    inside = ndimage.distance_transform_edt(person)  # [px] to the nearest background pixel
    shrink = np.zeros(mask.shape)  # ease [px] to remove
    spread = np.zeros(mask.shape)
    for garment_class, label in (("upper", UPPER), (lower, LOWER), ("dress", DRESS)):
        cloth = person & (labels == label)
        if not cloth.any():
            continue
        for region_index, region in enumerate(EASE_REGIONS):
            where = cloth & (regions == region_index)
            median, std = ease.lookup(view, garment_class, region)
            shrink[where] = median * px_per_m
            spread[where] = std
    bound_only = person & (spread > UNTELLING_SPREAD_M)  # not shrunk: an upper bound only
    removed = person & (inside <= shrink) & ~bound_only
    target = np.where(removed, 0.0, mask).astype(np.float32)
    # Outline pixels per girth region: skin, cloth, or cloth too loose to tell.
    outline = person & ~ndimage.binary_erosion(person, border_value=0)
    coverage = {}
    for girth, region in GIRTH_REGIONS.items():
        ring = outline & (regions == EASE_REGIONS.index(region))
        total = max(int(ring.sum()), 1)
        cloth = ring & (shrink > 0)
        skin = ring & (labels == SKIN)
        coverage[girth] = {
            "skin": float(skin.sum() / total),
            "own_skin": float((skin if own_skin is None else ring & own_skin).sum() / total),
            "cloth": float(cloth.sum() / total),
            "untelling": float((ring & bound_only).sum() / total),
            "ease_std_m": float(spread[ring].mean()) if ring.any() else 0.0,
        }
    cloth = person & np.isin(labels, CLOTHES) & ~bound_only & ~removed
    return ClothedTarget(
        target=target, bound_only=bound_only, cloth=cloth, coverage=coverage, lower=lower
    )
