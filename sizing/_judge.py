"""The size judgement: one draped size against comfort ranges, and the recommendation.

Plain arithmetic on what the stages measured (``sim.Drape.ease_m``, ``Drape.stretch_pct``,
draped positions against ``Body`` landmarks and joints), in metres; the ``SizeFit`` it returns
holds centimetres (the report's content).

Ease. ``Drape.ease_m`` is the garment's own girth where the drape put it (the width of the flat
pattern, across the grain, along the body's tape line) minus the body's girth: a tailor's ease,
read where the garment actually sits on this body. It is within about a centimetre of the
pattern's nominal ease when the garment sits as drafted, and departs from it where it does not
(a front riding up on the bust puts the chest line into the waist shaping). ``Drape.tape_ease_m``
(a tape pulled round the draped cloth) is shown alongside: what one would measure on the wearer,
high on a close fit (the cloth stands off the skin) and low on a loose one (folds fall inside the
tape). A reading that is missing or more than ``_EASE_PLAUSIBLE_M`` from the pattern's ease is a
failed measurement, and the pattern's ease stands in (``ease_source`` says which).

Comfort ranges. Ease is judged against a range per region (the family's ``ease_keys``):

- the tight end depends on the fabric class (from ``Fabric.stretch_limit_pct``): a woven
  (limit < 110 %) needs positive wearing ease (about 5 cm at the chest, Armstrong, *Patternmaking
  for Fashion Design*, ch. 2), a knit (110-140 %) may sit at zero ease, a stretch knit (>= 140 %)
  may be cut smaller than the body (negative ease);
- the ideal is the design ease the garment family was drafted with (what the size chart's body
  gets in that size), never below the tight end;
- the loose end is the ideal plus a loose allowance (12 cm for tops' girths, 8 cm for stretch).

Score (lower is better). The size is decided where the size chart sizes the garment (the
family's ``governing_region``: the chest for tops, the hips for skirts and trousers): the squared
deviation from the design ease there, as a fraction of the comfort range on that side. The other
regions only constrain: a T-shirt is straight by design, so a roomy waist is no reason to size
down. Hard failures (+3 each): a region tighter than the fabric allows by more than the
measurement's uncertainty (a woven anywhere, a knit at its sizing region; a knit's waist or hem
smaller than the body clings and stretches, which the stretch check judges), the cloth stretched
past the fabric's wearable limit over a large part of the garment, or a garment that slid down.
Lengths out of range add 0.5. Quality gates are simulation warnings, not fit verdicts: only a
grossly failed drape (cloth inside the body or through itself on a good part of the garment, an
open seam) adds 1. The lowest score wins; the confidence is its softmax share among the sizes
evaluated. Two sizes whose deciding ease is equally far from the design ease, within what the
drape can tell apart (``_EASE_TIE_M``), and that have no other problems, are a tie: the size
chart's answer for the body breaks it, and the reasons say so.
"""

from __future__ import annotations

import logging
import math
import os
from typing import TYPE_CHECKING

import numpy as np

from tryon3d._units import m_to_cm
from tryon3d.sizing import _checks
from tryon3d.sizing._checks import REGION_WORDS, REGIONS
from tryon3d.sizing._profile import SizingProfile, family_profile, garment_profile
from tryon3d.sizing._records import FabricClass, SizeFit, Verdict

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body
    from tryon3d.garments import Fabric, Family, Garment
    from tryon3d.sim import Drape

_log = logging.getLogger("tryon3d")

#: Tightest comfortable ease [m] per fabric class and region.
COMFORT_MIN_EASE_M: dict[str, dict[str, float]] = {
    "woven": {"chest": 0.05, "waist": 0.02, "hips": 0.04, "upper_arm": 0.04, "thigh": 0.04},
    # a jersey hem hugs the hips and waist: a few cm of negative ease is a stretch of 3-4 %
    "knit": {"chest": 0.0, "waist": -0.04, "hips": -0.04, "upper_arm": 0.0, "thigh": 0.0},
    "stretch": {"chest": -0.08, "waist": -0.08, "hips": -0.08, "upper_arm": -0.04, "thigh": -0.06},
}
#: Loosest comfortable ease above the design ease [m] per fabric class.
LOOSE_ALLOWANCE_M: dict[str, float] = {"woven": 0.12, "knit": 0.12, "stretch": 0.08}
#: The ideal ease is at least this much above the tight end [m].
_MIN_COMFORT_SPAN_M = 0.02
#: Draped ease further than this from the pattern's ease is a measurement failure [m].
_EASE_PLAUSIBLE_M = 0.08
#: Uncertainty (1 sd) of a draped ease reading [m]: on 40 ANSUR subjects x 3 T-shirt sizes the
#: reading was 0.6 cm below the pattern's nominal ease, sd 0.5 cm, up to 2.5 cm off where the chest
#: line ran into shaping.
_EASE_SD_M = 0.01
#: Penalty of a hard failure (too tight somewhere, over-stretched, slid down), in score units.
_HARD_FAILURE = 3.0
#: Area past the fabric's wearable limit that makes a garment "too tight" (fraction of faces):
#: above it the pull is no local peak at a seam or armhole but a good part of the garment.
_OVERSTRETCH_FRACTION = 0.10
#: Area past the limit worth a warning (fraction of faces).
_STRETCH_WARNING_FRACTION = 0.02


def _family(name: str) -> Family:
    from tryon3d import garments

    if name not in garments.FAMILIES:
        raise ValueError(
            f"unknown garment family {name!r}; expected one of {sorted(garments.FAMILIES)}"
        )
    return garments.FAMILIES[name]


def fabric_class(fabric: Fabric) -> FabricClass:
    """``"woven"`` (limit < 110 %), ``"knit"`` (< 140 %) or ``"stretch"``, from the fabric's
    ``stretch_limit_pct``."""
    limit = float(fabric.stretch_limit_pct)
    return "woven" if limit < 110.0 else "knit" if limit < 140.0 else "stretch"


def governing_region(family: str) -> str:
    """Where the size chart sizes a family (``Family.governing_region``): e.g. the hips for
    skirts and trousers, the chest for tops."""
    return _family(family).governing_region


def _comfort_z(value: float, comfort: tuple[float, float, float]) -> float:
    """Deviation of an ease from the ideal, as a fraction of the comfort range on that side
    (any one length unit for all four numbers)."""
    tight, ideal, loose = comfort
    return (value - ideal) / ((ideal - tight) if value < ideal else (loose - ideal))


def _judge_region(
    region: str,
    value: float,
    comfort: tuple[float, float, float],
    tolerance: float,
    fabric: str,
    *,
    clings: bool = False,
) -> tuple[float, Verdict, str, bool]:
    """(z, verdict, reason, hard failure) of one region's ease [m] against its comfort range [m].

    z is the deviation from the ideal as a fraction of the comfort range on that side. Below
    the tight end the verdict is "too tight"; it is a hard failure once it is below by more
    than ``tolerance`` [m] (the measurement's uncertainty), where the drape leaves no doubt. With
    ``clings`` (a knit away from its sizing region) less than the tight end is "snug": the
    cloth stretches to fit, and the drape's stretch field judges whether it can.
    """
    tight, ideal, loose = comfort
    z = _comfort_z(value, comfort)
    word = REGION_WORDS[region]
    value_cm, tight_cm, ideal_cm, loose_cm = (m_to_cm(v) for v in (value, tight, ideal, loose))
    if value < tight and clings:
        return (
            z,
            "snug",
            (f"clings at the {word}: {value_cm:.1f} cm ease, the {fabric} stretches to fit there"),
            False,
        )
    if value < tight:
        return (
            z,
            "too tight",
            (
                f"too tight at the {word}: {value_cm:.1f} cm ease, {fabric} wants at least "
                f"{tight_cm:.0f} cm"
            ),
            value < tight - tolerance,
        )
    if z > 1.0:
        return (
            z,
            "too loose",
            f"too loose at the {word}: {value_cm:.1f} cm ease, more than {loose_cm:.0f} cm",
            False,
        )
    if z < -0.5:
        return (
            z,
            "snug",
            f"snug at the {word}: {value_cm:.1f} cm ease (design {ideal_cm:.0f} cm)",
            False,
        )
    if z > 0.5:
        return (
            z,
            "loose",
            f"roomy at the {word}: {value_cm:.1f} cm ease (design {ideal_cm:.0f} cm)",
            False,
        )
    return (
        z,
        "good",
        f"{word} ease {value_cm:.1f} cm is close to the design's {ideal_cm:.0f} cm",
        False,
    )


def _overall_verdict(verdicts: dict[str, Verdict], overstretched: bool) -> Verdict:
    values = set(verdicts.values())
    if overstretched or "too tight" in values:
        return "too tight"
    if "too loose" in values:
        return "too loose"
    if "snug" in values and "loose" not in values:
        return "snug"
    if "loose" in values and "snug" not in values:
        return "loose"
    return "good"


def _stretch_reason(stretch: dict[str, float], fabric: str, over: float) -> str:
    where = (
        "mostly in the sleeves"
        if stretch["over_limit_fraction_sleeves"] > 0.5
        else "mostly in the body"
    )
    limit, p99 = stretch["limit"], stretch["p99"]
    if over > _OVERSTRETCH_FRACTION:
        return (
            f"fabric stretched past {fabric}'s wearable {limit:.0f} % on {100 * over:.0f} % of the "
            f"garment, {where} (p99 {p99:.0f} %)"
        )
    if over > _STRETCH_WARNING_FRACTION:
        return (
            f"pulls locally: {100 * over:.0f} % of the garment is past {fabric}'s wearable "
            f"{limit:.0f} %, "
            f"{where} (p99 {p99:.0f} %)"
        )
    if stretch["max"] > limit:
        return (
            f"stretch stays within {fabric}'s wearable {limit:.0f} % except a local peak of "
            f"{stretch['max']:.0f} % (p99 {p99:.0f} %)"
        )
    return f"max stretch {stretch['max']:.0f} % is within {fabric}'s wearable {limit:.0f} %"


def is_family(garment: str | os.PathLike) -> bool:
    """Whether ``garment`` names a garment family (else it is a garment file)."""
    from tryon3d import garments

    return isinstance(garment, str) and garment in garments.FAMILIES


def sizing_profile(body: Body, garment: Garment, family: str) -> SizingProfile:
    """The judgement's record of a draped garment: from its family when ``family`` names one,
    else from the imported garment itself (``sizing._profile``)."""
    if is_family(family):
        return family_profile(family, dict(garment.metadata.get("design", {})))
    return garment_profile(garment, body, fabric_class(garment.fabric))


def evaluate_size(body: Body, garment: Garment, drape: Drape, *, family: str) -> SizeFit:
    """Judge one draped size: ease per region, stretch, lengths and gates -> a SizeFit.

    ``family`` is the family name, or the file the garment was imported from: the judgement
    reads a ``SizingProfile`` either way (``sizing_profile``).
    """
    profile = sizing_profile(body, garment, family)
    fabric = garment.fabric
    klass = fabric_class(fabric)
    design = dict(garment.metadata.get("design", {}))
    pattern_ease = _checks.pattern_ease_m(body, garment, profile.pattern_girths_m)
    governing = profile.governing_region
    positions = np.asarray(drape.rest_pose_positions)
    ease, source, taped, comfort, verdicts, reasons = {}, {}, {}, {}, {}, []
    score, hard = 0.0, False
    for region in REGIONS:
        if region not in profile.design_ease_m:
            continue
        if region == "upper_arm" and float(design.get("sleeve_length", 0.0)) <= 0.0:
            continue
        measured = float(drape.ease_m.get(region, math.nan))
        taped[region] = float(getattr(drape, "tape_ease_m", {}).get(region, math.nan))
        nominal = pattern_ease.get(region, math.nan)
        if not math.isfinite(nominal) and not math.isfinite(measured):
            if profile.source != "mesh" or not math.isfinite(taped[region]):
                continue  # neither the pattern nor the drape measures this region
            measured = taped[region]  # a mesh without a flat pattern: the tape is all there is
            source[region] = "tape"
        if math.isfinite(measured) and (
            not math.isfinite(nominal) or abs(measured - nominal) <= _EASE_PLAUSIBLE_M
        ):
            value, tolerance = measured, 2.0 * _EASE_SD_M
            source.setdefault(region, "drape")
        else:
            value, source[region], tolerance = nominal, "pattern", 0.0
            if math.isfinite(measured):
                _log.debug(
                    "%s %s: draped %s ease %.1f cm is %.1f cm off the pattern's; "
                    "using the pattern's",
                    profile.name,
                    garment.size,
                    region,
                    m_to_cm(measured),
                    m_to_cm(measured - nominal),
                )
        tight = COMFORT_MIN_EASE_M[klass][region]
        design_ease = profile.design_ease_m[region]
        if not math.isfinite(design_ease):  # an imported mesh: its own ease is its design
            design_ease = value
        ideal = max(design_ease, tight + _MIN_COMFORT_SPAN_M)
        tight = min(tight, ideal - _MIN_COMFORT_SPAN_M)
        comfort[region] = (tight, ideal, ideal + LOOSE_ALLOWANCE_M[klass])
        ease[region] = value
        # a knit's waist or hem smaller than the body stretches over it: whether it can is the
        # stretch field's call (past the wearable limit on a good part of the garment, below)
        clings = klass != "woven" and region != governing
        z, verdicts[region], reason, failed = _judge_region(
            region, value, comfort[region], tolerance, f"{fabric.name} ({klass})", clings=clings
        )
        if region == governing:
            score += z * z
        if failed:
            score += _HARD_FAILURE
            hard = True
        if source[region] == "pattern":
            reason += " (from the pattern: the drape's measurement failed here)"
        elif profile.source == "pattern" and region in profile.pattern_girths_m:
            reason += (
                f" (the pattern's own round there is "
                f"{m_to_cm(profile.pattern_girths_m[region]):.1f} cm)"
            )
        reasons.append(reason)
    stretch = _checks.stretch_stats(drape, float(fabric.stretch_limit_pct), garment.sleeve_faces)
    over = stretch["over_limit_fraction"]
    overstretched = over > _OVERSTRETCH_FRACTION
    if overstretched:
        score += _HARD_FAILURE
    reasons.append(_stretch_reason(stretch, fabric.name, over))
    lengths = {}
    for check in (
        _checks.sleeve_check(body, garment, positions, design),
        _checks.hem_check(body, profile, garment, positions),
    ):
        if check is None:
            continue
        name = check.pop("name")
        lengths[name] = check
        reasons.append(check["text"])
        if not check["ok"]:
            score += 0.5
    gates = _checks.gates_json(drape)
    gates["gross"] = not gates["passed"] and _checks.gross_gate_failure(
        gates, vertex_count=len(positions), face_count=len(drape.stretch_pct)
    )
    if not gates["passed"]:
        if gates["gross"]:
            score += 1.0
            reasons.append(
                "the drape of this size is unreliable (" + _checks.gate_failures(gates) + ")"
            )
        else:
            reasons.append(
                "simulation quality warning, not a fit issue: " + _checks.gate_failures(gates)
            )
    falls = _checks.slides_down(body, profile, positions)
    if falls is not None:
        score += _HARD_FAILURE
        reasons.insert(0, falls)
    verdict = _overall_verdict(verdicts, overstretched or hard)
    if falls is not None and verdict != "too tight":
        verdict = "too loose"
    return SizeFit(
        size=garment.size,
        verdict=verdict,
        score=float(score),
        ease_cm={r: m_to_cm(v) for r, v in ease.items()},
        ease_source=source,
        pattern_ease_cm={r: m_to_cm(v) for r, v in pattern_ease.items()},
        tape_ease_cm={r: m_to_cm(v) for r, v in taped.items()},
        comfort_cm={
            r: (m_to_cm(tight), m_to_cm(ideal), m_to_cm(loose))
            for r, (tight, ideal, loose) in comfort.items()
        },
        region_verdicts=verdicts,
        stretch=stretch,
        lengths=lengths,
        gates=gates,
        reasons=tuple(reasons),
        timings_s=dict(drape.timings_s),
        governing_region=governing,
    )
