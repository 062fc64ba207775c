"""What a clothed photo shows of the body's size besides its fitted girths, straight from the
person's outline: the neck's breadth and the torso's breadth (front view) and depth (side
view) at rows between the shoulder and hip lines, in metres.

The fitted body's girths follow the outline only as far as the clothes let them; these
readings follow it directly. In the side view a top rests on the chest and the back, and
trousers on the seat, loose or not, so the torso's depth there tracks the body's size.
``GirthCorrection`` (``bodyfit._girth_posterior``) weighs them with the posterior girths, learnt
on training fits (``scripts/calibrate_photo_girths.py``); it does not read the neck's breadth,
which hair beside the neck and collars widen in real photos and never in our training renders.

The scale is the person's pixel height against the stature where the outline reaches the
feet, but no more than ``OUTLINE_EXCESS`` over what the eye-to-ankle keypoint distance
says where MediaPipe sees both ankles clearly, side by side (a real person's outline holds
hair and shoes, which no stature counts; a side view, whose ankles stand one behind the
other, takes the front's measure of them: ``PhotoAnalysis.hair_and_shoes``,
``outline_over_height``); where it does not reach them (a person mask that
lost the legs against a background of their colour) the eye-to-ankle keypoint distance,
``EYE_TO_ANKLE_STATURE`` of the stature, when MediaPipe sees both ankles. Where it does not
see them either, MediaPipe squeezes the whole lower body into what the mask kept (hips, knees
and ankles drawn up with it): then the head, ear to ear (``EAR_TO_EAR_STATURE``), tells the
person's height in pixels; where it says the person is more than ``LOST_LEGS_MARGIN``
taller than the outline, the legs were lost (``lost_legs``), and more than
``HEAD_SCALE_MARGIN``, the head's height is the scale (``person_height_px``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from tryon3d.bodyfit._photo import PhotoAnalysis

__all__ = [
    "ARM_CUT_M",
    "DEPTH_LEVELS",
    "EAR_TO_EAR_STATURE",
    "EYE_TO_ANKLE_STATURE",
    "HEAD_SCALE_MARGIN",
    "LOST_LEGS_MARGIN",
    "OUTLINE_EXCESS",
    "PROFILE_LEVELS",
    "WIDTH_LEVELS",
    "LostLegs",
    "lost_legs",
    "metres_per_pixel",
    "neck_breadth_m",
    "outline_over_height",
    "outline_readings",
    "person_height_px",
    "pose_readings",
    "run_width_px",
    "torso_breadths_m",
    "without_forearms",
]

#: Eye line to ankle line, as a share of the stature (median over the training photos: 0.850,
#: spread 1.8 %, MediaPipe's eye and ankle landmarks, A-pose).
EYE_TO_ANKLE_STATURE = 0.85
_SCALE_AGREEMENT = 0.05  # outline height this far off the keypoints' scale: the outline is cut
#: The most the outline may stand taller than the ankles say (the eye-to-ankle ratio's spread
#: on our renders): a real person's outline holds hair over the skull and shoes under the
#: feet, which no stature counts. On our renders (bald, barefoot) the outline stands 1.00 +-
#: 0.015 of the ankles' height (the 48 front photos of seed 7); on 40 real street photos (Clothing
#: Co-Parsing) 1.02-1.11, 1.057 on average: read by the outline, such a person came out
#: about 5 % narrower than she is, every girth with her.
OUTLINE_EXCESS = 0.018
#: Ankles MediaPipe sees at least this surely are where the feet are (on 40 real street photos
#: 35 of the 37 pairs seen were; the faint ones, 0.53-0.69, stand in a maxi skirt over
#: platforms and in a stride): below it the head arbitrates between outline and ankles, as
#: for a mask that lost the shins.
_CLEAR = 0.75
#: ... and where they stand side by side (``PhotoAnalysis.stride`` below this): a step
#: towards or away from the camera shortens the eye-to-ankle drop (our renders' walking
#: stride, 0.18-0.39: 2.6-7.6 % under the outline's height with neither hair nor shoes).
_STANDING_STRIDE = 0.12
#: Ear to ear (MediaPipe's ear landmarks, a front view) as a share of the stature (median over
#: 26 clothed photos of benchmarks/photo_poses.py, four poses: 0.0705, spread 3.5 %; the
#: eye-to-mouth drop spreads 5.9 %, the shoulder line's 5.5 %).
EAR_TO_EAR_STATURE = 0.0705
#: The head's height this much over the outline's (or the ankles'), the ankles unseen: the
#: mask lost the legs (``lost_legs``: the fit leaves the legs free of the outline there).
LOST_LEGS_MARGIN = 0.05
#: ... and this much over it: the head's height is the person's (``person_height_px``).
#: Heads are a coarse ruler: 3.5 % spread on our renders, and the one real front photo
#: (ryota_front.png, its ankles seen) reads 7 % taller by its head than by its whole outline.
HEAD_SCALE_MARGIN = 0.10
_SEEN = 0.5  # MediaPipe visibility above which a landmark is believed (as analyze_photo's)
#: Rows read, as fractions of the shoulder-line (0) to hip-line (1) drop: side depths through
#: the chest and upper waist, front breadths at the waist and the hips.
DEPTH_LEVELS: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, 0.6)
WIDTH_LEVELS: tuple[float, ...] = (0.5, 0.6, 1.0, 1.1)
#: Levels of the breadth profiles (``profile_<view>_<i>``): from just above the shoulder line
#: (-0.1) to below the crotch (1.5) in steps of 0.05 of the shoulder-to-hip-line drop. The
#: whole profile tells the body's build under the clothes better than a few rows: a top hangs
#: from the shoulders and the bust, trousers sit on the seat and the thighs (leave-one-out on
#: 119 training fits, height only: 6.07 cm with a few rows, 4.65 with the profiles).
PROFILE_LEVELS: tuple[float, ...] = tuple(round(-0.1 + 0.05 * i, 2) for i in range(33))
#: Half-breadth [m] of a forearm and hand cut from a side view's outline (an arm's 3.5 cm and
#: a sleeve's ease).
ARM_CUT_M = 0.045
_EYES, _MOUTH, _SHOULDERS, _HIPS, _ANKLES = (2, 5), (9, 10), (11, 12), (23, 24), (27, 28)
_EARS = (7, 8)


@dataclass(frozen=True)
class LostLegs:
    """A person mask that lost the lower body (``lost_legs``).

    Attributes:
        height_px: the person's height by the head [analysis px].
        outline_px: the outline's height [analysis px].
        cut_row: the outline's lowest row [analysis px].
        feet_row: where the soles should be by the head's height [analysis px].
        scaled_by_head: whether the head's height is the view's scale (more than
            ``HEAD_SCALE_MARGIN`` over the outline's; else the outline's stays).
    """

    height_px: float
    outline_px: float
    cut_row: int
    feet_row: int
    scaled_by_head: bool


def person_height_px(analysis: PhotoAnalysis) -> tuple[float, str]:
    """The person's height in the analysis image [px] and what told it: ``"outline"`` (the
    person mask's rows), ``"ankles"`` (eye to ankle over ``EYE_TO_ANKLE_STATURE``, both ankles
    seen), ``"front"`` (the outline less the hair and shoes another view measured:
    ``PhotoAnalysis.hair_and_shoes``) or ``"head"`` (ear to ear over ``EAR_TO_EAR_STATURE``;
    see the module notes).

    Ankles seen clearly side by side cap the outline at ``OUTLINE_EXCESS`` over their
    height: more is hair, shoes or a hand on the head. Else, where the outline and the ankles
    disagree by more than 5 %, the one nearer the head's height wins (the ankles where the
    head is not seen: a hand on the head tops the outline, a mask that lost the shins cuts
    it); where the head is more than ``HEAD_SCALE_MARGIN`` taller than that and the ankles
    are unseen (and no shoes seen on the outline's lowest rows: ``PhotoAnalysis.feet_seen``),
    the mask lost the legs and the head's height is the person's.

    Raises:
        ValueError: no person pixels and no ankles to measure.
    """
    height, source, by_head = _heights(analysis)
    if by_head is not None and by_head > height * (1.0 + HEAD_SCALE_MARGIN):
        return by_head, "head"
    return height, source


def _heights(analysis: PhotoAnalysis) -> tuple[float, str, float | None]:
    """The outline's or the ankles' height [px] (``person_height_px``'s choice between them)
    and its source, and the head's height [px] where the ankles are unseen, the feet not seen
    on the outline's lowest rows (``PhotoAnalysis.feet_seen``) and the ears seen (else None)."""
    keypoints, seen = analysis.keypoints, analysis.visibility > _SEEN
    eye_to_ankle = float(keypoints[list(_ANKLES), 1].mean() - keypoints[list(_EYES), 1].mean())
    # unseen ankles are where MediaPipe guessed them or on the mask's lowest row: no height
    ankles_seen = bool(seen[list(_ANKLES)].all())
    by_ankles = eye_to_ankle / EYE_TO_ANKLE_STATURE if eye_to_ankle > 1 and ankles_seen else None
    rows = np.flatnonzero((analysis.mask > 0.5).any(axis=1))
    by_outline = float(rows[-1] + 1 - rows[0]) if len(rows) > 1 else None
    ears = float(np.linalg.norm(keypoints[_EARS[0]] - keypoints[_EARS[1]]))
    by_head = ears / EAR_TO_EAR_STATURE if seen[list(_EARS)].all() and ears > 1 else None
    if by_outline is None:
        if by_ankles is None:
            raise ValueError("the photo shows no person to measure")
        return by_ankles, "ankles", None
    height, source = by_outline, "outline"
    if (
        by_ankles is not None
        and (analysis.visibility[list(_ANKLES)] >= _CLEAR).all()
        and analysis.stride is not None
        and analysis.stride < _STANDING_STRIDE
        and by_outline > by_ankles * (1.0 + OUTLINE_EXCESS)
    ):
        # hair, shoes, a hand on the head: the outline bounds the body's height from above
        height, source = by_ankles * (1.0 + OUTLINE_EXCESS), "ankles"
    elif (
        # outline and ankles apart: a hand on the head tops the outline, a lost leg shortens it
        by_ankles is not None
        and abs(by_outline / by_ankles - 1.0) > _SCALE_AGREEMENT
        and (by_head is None or _nearer(by_ankles, by_outline, by_head))
    ):
        height, source = by_ankles, "ankles"
    if source == "outline" and analysis.hair_and_shoes > 1.0:
        # another view of the person measured their hair and shoes
        height, source = by_outline / analysis.hair_and_shoes, "front"
    # shoes on the outline's lowest rows: it reached the feet, whatever the head says
    return height, source, None if ankles_seen or analysis.feet_seen else by_head


def outline_over_height(analysis: PhotoAnalysis) -> float:
    """How many times the person's height (``person_height_px``) their outline stands where
    the ankles, or another view (``PhotoAnalysis.hair_and_shoes``), say it stands taller: hair,
    shoes, a hat; 1 elsewhere, and where a wrist is over the shoulders (a hand on the head
    tops the outline, and no other view shows it)."""
    from tryon3d.bodyfit._parsing import _WRISTS

    rows = np.flatnonzero((analysis.mask > 0.5).any(axis=1))
    if len(rows) < 2:
        return 1.0
    height, source = person_height_px(analysis)
    keypoints = analysis.keypoints
    if (
        source not in ("ankles", "front")
        or keypoints[list(_WRISTS), 1].min() < keypoints[list(_SHOULDERS), 1].mean()
    ):
        return 1.0
    return max(float(rows[-1] + 1 - rows[0]) / height, 1.0)


def _nearer(a: float, b: float, reference: float) -> bool:
    """Whether ``a`` is nearer ``reference`` than ``b`` is, by ratio (all > 0)."""
    return abs(math.log(a / reference)) < abs(math.log(b / reference))


def lost_legs(analysis: PhotoAnalysis) -> LostLegs | None:
    """The outline cut short of the feet: the ankles unseen, no shoes seen on the outline's
    lowest rows, and the head more than ``LOST_LEGS_MARGIN`` taller than the outline (or the
    ankles) say; else None."""
    height, _, by_head = _heights(analysis)
    if by_head is None or by_head <= height * (1.0 + LOST_LEGS_MARGIN):
        return None
    rows = np.flatnonzero((analysis.mask > 0.5).any(axis=1))
    return LostLegs(
        height_px=by_head,
        outline_px=float(rows[-1] + 1 - rows[0]),
        cut_row=int(rows[-1]),
        feet_row=int(np.ceil(rows[0] + by_head)),
        scaled_by_head=by_head > height * (1.0 + HEAD_SCALE_MARGIN),
    )


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
    """Scale of the analysis image at the person [m/px]: the stature over
    ``person_height_px``."""
    return height_m / person_height_px(analysis)[0]


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
    from tryon3d.bodyfit._parsing import _seen_limbs

    mask = analysis.mask > 0.5
    # forearms, hands to the fingers
    limbs = ((13, 15), (15, 19), (14, 16), (16, 20))
    return mask & ~_seen_limbs(
        mask.shape, analysis.keypoints, analysis.visibility, limbs, ARM_CUT_M / metres_per_px
    )


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
        for level in levels:  # rows of the profile itself
            readings[f"{names}_{round(100 * level)}"] = float(profile[PROFILE_LEVELS.index(level)])
    return readings
