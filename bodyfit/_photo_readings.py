"""What a clothed photo shows of the body's size besides its fitted girths, straight from the
person's outline: the neck's breadth and the torso's breadth (front view) and depth (side
view) at rows between the shoulder and hip lines, in metres.

The fitted body's girths follow the outline only as far as the clothes let them; these
readings follow it directly. In the side view a top rests on the chest and the back, and
trousers on the seat, loose or not, so the torso's depth there tracks the body's size; the
neck, bare in nearly every outfit, is as thick as the body is heavy. ``GirthCorrection``
(``bodyfit._girth_posterior``) weighs them with the posterior girths, learnt on training fits
(``scripts/calibrate_photo_girths.py``).

The scale is the person's pixel height against the stature where the outline reaches the
feet; where it does not (a person mask that lost the legs against a background of their
colour) the eye-to-ankle keypoint distance, ``EYE_TO_ANKLE_STATURE`` of the stature.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tryon3d.bodyfit._photo import PhotoAnalysis

__all__ = [
    "ARM_CUT_M",
    "DEPTH_LEVELS",
    "EYE_TO_ANKLE_STATURE",
    "PROFILE_LEVELS",
    "WIDTH_LEVELS",
    "metres_per_pixel",
    "neck_breadth_m",
    "outline_readings",
    "run_width_px",
    "torso_breadths_m",
    "without_forearms",
]

#: Eye line to ankle line, as a share of the stature (median over the training photos: 0.850,
#: spread 1.8 %, MediaPipe's eye and ankle landmarks, A-pose).
EYE_TO_ANKLE_STATURE = 0.85
_SCALE_AGREEMENT = 0.05  # outline height this far off the keypoints' scale: the outline is cut
#: Rows read, as fractions of the shoulder-line (0) to hip-line (1) drop: side depths through
#: the chest and upper waist, front breadths at the waist and the hips.
DEPTH_LEVELS: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, 0.6)
WIDTH_LEVELS: tuple[float, ...] = (0.5, 0.6, 1.0, 1.1)
#: Levels of the breadth profiles (``profile_<view>_<i>``): from just above the shoulder line
#: (-0.1) to below the crotch (1.5) in steps of 0.05 of the shoulder-to-hip-line drop. The
#: whole profile tells the body's build under the clothes better than a few rows: a top hangs
#: from the shoulders and the bust, trousers sit on the seat and the thighs (leave-one-out on
#: 119 training fits: 6.07 -> 5.1 cm height only).
PROFILE_LEVELS: tuple[float, ...] = tuple(round(-0.1 + 0.05 * i, 2) for i in range(33))
#: Half-breadth [m] of a forearm and hand cut from a side view's outline (an arm's 3.5 cm and
#: a sleeve's ease).
ARM_CUT_M = 0.045
_ARM_SEEN = 0.3  # MediaPipe visibility above which an arm landmark is believed
_EYES, _MOUTH, _SHOULDERS, _HIPS, _ANKLES = (2, 5), (9, 10), (11, 12), (23, 24), (27, 28)


def run_width_px(row: np.ndarray, u: float) -> int:
    """Width [px] of the run of True in the boolean ``row`` through column ``u`` (else through
    the nearest True pixel); 0 for an empty row."""
    inside = np.flatnonzero(row)
    if not len(inside):
        return 0
    start = int(inside[np.argmin(np.abs(inside - u))])
    outside = np.flatnonzero(~row)
    left, right = outside[outside < start], outside[outside > start]
    return int((right[0] if len(right) else len(row)) - (left[-1] + 1 if len(left) else 0))


def metres_per_pixel(analysis: PhotoAnalysis, height_m: float) -> float:
    """Scale of the analysis image at the person [m/px] (see the module notes)."""
    keypoints = analysis.keypoints
    eye_to_ankle = float(keypoints[list(_ANKLES), 1].mean() - keypoints[list(_EYES), 1].mean())
    by_keypoints = EYE_TO_ANKLE_STATURE * height_m / eye_to_ankle if eye_to_ankle > 1 else None
    rows = np.flatnonzero((analysis.mask > 0.5).any(axis=1))
    by_outline = height_m / float(rows[-1] + 1 - rows[0]) if len(rows) > 1 else None
    if by_outline is None:
        if by_keypoints is None:
            raise ValueError("the photo shows no person to measure")
        return by_keypoints
    if by_keypoints is not None and abs(by_outline / by_keypoints - 1.0) > _SCALE_AGREEMENT:
        return by_keypoints
    return by_outline


def neck_breadth_m(analysis: PhotoAnalysis, metres_per_px: float) -> float | None:
    """The neck's breadth [m]: the narrowest row of the outline between the mouth and the
    shoulder line (front view: its width, side view: its depth); None when the landmarks
    frame no neck."""
    mask = analysis.mask > 0.5
    keypoints = analysis.keypoints
    top = float(keypoints[list(_MOUTH), 1].mean())
    bottom = float(keypoints[list(_SHOULDERS), 1].mean())
    if not bottom - top >= 2.0:
        return None
    centre = float(keypoints[[0, *_MOUTH], 0].mean())
    widths = [
        run_width_px(mask[row], centre)
        for row in range(max(int(top), 0), min(int(bottom), mask.shape[0]))
    ]
    widths = [w for w in widths if w > 0]
    return min(widths) * metres_per_px if widths else None


def without_forearms(analysis: PhotoAnalysis, metres_per_px: float) -> np.ndarray:
    """The person mask less the forearms and hands (elbow-wrist-fingers capsules of
    ``ARM_CUT_M`` where the landmarks are seen), shape (h, w) bool: in a side view the hands
    of an A-pose reach forward at the hips and join the torso's rows there."""
    from tryon3d.bodyfit._parsing import _capsule

    mask = analysis.mask > 0.5
    radius = ARM_CUT_M / metres_per_px
    points, seen = analysis.keypoints, analysis.visibility > _ARM_SEEN
    for a, b in ((13, 15), (15, 19), (14, 16), (16, 20)):  # forearms, hands to the fingers
        if seen[a] and seen[b]:
            mask &= ~_capsule(mask.shape, points[a, :2], points[b, :2], radius)
    return mask


def torso_breadths_m(
    analysis: PhotoAnalysis,
    metres_per_px: float,
    levels: tuple[float, ...],
    *,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """The outline's breadth [m] through the torso's centre at each level (fraction of the
    shoulder-to-hip-line drop), shape (len(levels),); 0 where the row holds no person.
    ``mask``: the outline to read (default the person mask)."""
    mask = analysis.mask > 0.5 if mask is None else mask
    keypoints = analysis.keypoints
    shoulder = float(keypoints[list(_SHOULDERS), 1].mean())
    hip = float(keypoints[list(_HIPS), 1].mean())
    centre = float(keypoints[[*_SHOULDERS, *_HIPS], 0].mean())
    out = np.zeros(len(levels))
    for i, level in enumerate(levels):
        row = int(np.rint(shoulder + level * (hip - shoulder)))
        if 0 <= row < mask.shape[0]:
            out[i] = run_width_px(mask[row], centre) * metres_per_px
    return out


def pose_readings(keypoints: np.ndarray) -> dict[str, float]:
    """How the photo's pose departs from the rest A-pose the corrections were learnt on, from
    the landmarks (u right, v down): ``pose_arm_low`` / ``pose_arm_high``, the smaller and
    larger arm abduction [rad] (shoulder-to-wrist direction from straight down, outwards
    positive: ~0.1 hanging, ~0.6 an A-pose, > 2 a hand on the head) and ``pose_legs``, the
    ankles' signed spread (left less right) over the shoulder-to-hip-line drop (a stride in a
    side view; negative in a front view: crossed)."""
    centre = float(keypoints[[*_SHOULDERS, *_HIPS], 0].mean())
    arms = []
    for shoulder, wrist in ((11, 15), (12, 16)):
        du, dv = keypoints[wrist, :2] - keypoints[shoulder, :2]
        outward = du if keypoints[shoulder, 0] >= centre else -du
        arms.append(float(np.arctan2(outward, dv)))
    drop = float(keypoints[list(_HIPS), 1].mean() - keypoints[list(_SHOULDERS), 1].mean())
    ankles = float(keypoints[_ANKLES[0], 0] - keypoints[_ANKLES[1], 0])
    legs = ankles / drop if drop > 1.0 else 0.0
    return {"pose_arm_low": min(arms), "pose_arm_high": max(arms), "pose_legs": legs}


def outline_readings(analyses: Mapping[str, PhotoAnalysis], height_m: float) -> dict[str, float]:
    """Per view (``front``, ``side``) the neck's breadth (``neck_<view>``), the breadth
    profile (``profile_<view>_<i>`` at ``PROFILE_LEVELS[i]``), the shoulder-to-hip-line drop
    (``torso_drop_<view>``), and the front's breadths (``width_front_<level %>``), shoulder
    and hip landmark spans (``shoulder_span_front``, ``hip_span_front``) and the side's depths
    (``depth_side_<level %>``) through the torso [m]; a view not given, or a neck not framed,
    is left out."""
    readings: dict[str, float] = {}
    for view, analysis in analyses.items():
        scale = metres_per_pixel(analysis, height_m)
        neck = neck_breadth_m(analysis, scale)
        if neck is not None:
            readings[f"neck_{view}"] = neck
        if view not in ("front", "side"):
            continue
        outline = without_forearms(analysis, scale) if view == "side" else None
        profile = torso_breadths_m(analysis, scale, PROFILE_LEVELS, mask=outline)
        readings.update({f"profile_{view}_{i:02d}": float(v) for i, v in enumerate(profile)})
        keypoints = analysis.keypoints
        readings.update({f"{k}_{view}": v for k, v in pose_readings(keypoints).items()})
        drop = keypoints[list(_HIPS), 1].mean() - keypoints[list(_SHOULDERS), 1].mean()
        readings[f"torso_drop_{view}"] = float(drop) * scale
        if view == "front":
            readings["shoulder_span_front"] = (
                float(abs(keypoints[11, 0] - keypoints[12, 0])) * scale
            )
            readings["hip_span_front"] = float(abs(keypoints[23, 0] - keypoints[24, 0])) * scale
            names, levels = "width_front", WIDTH_LEVELS
        else:
            names, levels = "depth_side", DEPTH_LEVELS
        breadths = torso_breadths_m(analysis, scale, levels, mask=outline)
        for level, value in zip(levels, breadths, strict=True):
            readings[f"{names}_{round(100 * level)}"] = float(value)
    return readings
