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
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from tryon3d._units import m_to_cm
from tryon3d.sizing import _checks
from tryon3d.sizing._checks import REGION_WORDS, REGIONS
from tryon3d.sizing._records import SizeFit

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
#: Deciding eases closer than this [m] to being equally far from the design ease are a tie.
_EASE_TIE_M = 0.01
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
        raise ValueError(f"unknown garment family {name!r}; expected one of {sorted(garments.FAMILIES)}")
    return garments.FAMILIES[name]


def fabric_class(fabric: Fabric) -> str:
    """``"woven"`` (limit < 110 %), ``"knit"`` (< 140 %) or ``"stretch"`` from ``stretch_limit_pct``."""
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


def _judge_region(region: str, value: float, comfort: tuple[float, float, float], tolerance: float,
                  fabric: str, *, clings: bool = False) -> tuple[float, str, str, bool]:
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
        return z, "snug", (f"clings at the {word}: {value_cm:.1f} cm ease, the {fabric} stretches to fit "
                           f"there"), False
    if value < tight:
        return z, "too tight", (f"too tight at the {word}: {value_cm:.1f} cm ease, {fabric} wants at least "
                                f"{tight_cm:.0f} cm"), value < tight - tolerance
    if z > 1.0:
        return z, "too loose", f"too loose at the {word}: {value_cm:.1f} cm ease, more than {loose_cm:.0f} cm", False
    if z < -0.5:
        return z, "snug", f"snug at the {word}: {value_cm:.1f} cm ease (design {ideal_cm:.0f} cm)", False
    if z > 0.5:
        return z, "loose", f"roomy at the {word}: {value_cm:.1f} cm ease (design {ideal_cm:.0f} cm)", False
    return z, "good", f"{word} ease {value_cm:.1f} cm is close to the design's {ideal_cm:.0f} cm", False


def _overall_verdict(verdicts: dict[str, str], overstretched: bool) -> str:
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
    where = "mostly in the sleeves" if stretch["over_limit_fraction_sleeves"] > 0.5 else "mostly in the body"
    limit, p99 = stretch["limit"], stretch["p99"]
    if over > _OVERSTRETCH_FRACTION:
        return (f"fabric stretched past {fabric}'s wearable {limit:.0f} % on {100 * over:.0f} % of the "
                f"garment, {where} (p99 {p99:.0f} %)")
    if over > _STRETCH_WARNING_FRACTION:
        return (f"pulls locally: {100 * over:.0f} % of the garment is past {fabric}'s wearable {limit:.0f} %, "
                f"{where} (p99 {p99:.0f} %)")
    if stretch["max"] > limit:
        return (f"stretch stays within {fabric}'s wearable {limit:.0f} % except a local peak of "
                f"{stretch['max']:.0f} % (p99 {p99:.0f} %)")
    return f"max stretch {stretch['max']:.0f} % is within {fabric}'s wearable {limit:.0f} %"


def evaluate_size(body: Body, garment: Garment, drape: Drape, *, family: str) -> SizeFit:
    """Judge one draped size: ease per region, stretch, lengths and gates -> a SizeFit."""
    fam = _family(family)
    fabric = garment.fabric
    klass = fabric_class(fabric)
    design = dict(garment.metadata.get("design", {}))
    pattern_ease = _checks.pattern_ease_m(body, garment)
    governing = fam.governing_region
    positions = np.asarray(drape.rest_pose_positions)
    ease, source, taped, comfort, verdicts, reasons = {}, {}, {}, {}, {}, []
    score, hard = 0.0, False
    for region in REGIONS:
        key = fam.ease_keys.get(region)
        if key not in design or region not in pattern_ease:
            continue
        if region == "upper_arm" and float(design.get("sleeve_length", 0.0)) <= 0.0:
            continue
        measured = float(drape.ease_m.get(region, math.nan))
        taped[region] = float(getattr(drape, "tape_ease_m", {}).get(region, math.nan))
        nominal = pattern_ease[region]
        if math.isfinite(measured) and abs(measured - nominal) <= _EASE_PLAUSIBLE_M:
            value, source[region], tolerance = measured, "drape", 2.0 * _EASE_SD_M
        else:
            value, source[region], tolerance = nominal, "pattern", 0.0
            if math.isfinite(measured):
                _log.debug("%s %s: draped %s ease %.1f cm is %.1f cm off the pattern's; using the pattern's",
                           family, garment.size, region, m_to_cm(measured), m_to_cm(measured - nominal))
        tight = COMFORT_MIN_EASE_M[klass][region]
        ideal = max(float(design[key]), tight + _MIN_COMFORT_SPAN_M)
        tight = min(tight, ideal - _MIN_COMFORT_SPAN_M)
        comfort[region] = (tight, ideal, ideal + LOOSE_ALLOWANCE_M[klass])
        ease[region] = value
        # a knit's waist or hem smaller than the body stretches over it: whether it can is the
        # stretch field's call (past the wearable limit on a good part of the garment, below)
        clings = klass != "woven" and region != governing
        z, verdicts[region], reason, failed = _judge_region(region, value, comfort[region], tolerance,
                                                            f"{fabric.name} ({klass})", clings=clings)
        if region == governing:
            score += z * z
        if failed:
            score += _HARD_FAILURE
            hard = True
        reasons.append(reason + ("" if source[region] == "drape" else " (from the pattern: the drape's "
                                                                      "measurement failed here)"))
    stretch = _checks.stretch_stats(drape, float(fabric.stretch_limit_pct), garment.sleeve_faces)
    over = stretch["over_limit_fraction"]
    overstretched = over > _OVERSTRETCH_FRACTION
    if overstretched:
        score += _HARD_FAILURE
    reasons.append(_stretch_reason(stretch, fabric.name, over))
    lengths = {}
    for check in (_checks.sleeve_check(body, garment, positions, design),
                  _checks.hem_check(body, fam, garment, positions)):
        if check is None:
            continue
        name = check.pop("name")
        lengths[name] = check
        reasons.append(check["text"])
        if not check["ok"]:
            score += 0.5
    gates = _checks.gates_json(drape)
    gates["gross"] = not gates["passed"] and _checks.gross_gate_failure(
        gates, vertex_count=len(positions), face_count=len(drape.stretch_pct))
    if not gates["passed"]:
        if gates["gross"]:
            score += 1.0
            reasons.append("the drape of this size is unreliable (" + _checks.gate_failures(gates) + ")")
        else:
            reasons.append("simulation quality warning, not a fit issue: " + _checks.gate_failures(gates))
    falls = _checks.slides_down(body, fam, positions)
    if falls is not None:
        score += _HARD_FAILURE
        reasons.insert(0, falls)
    verdict = _overall_verdict(verdicts, overstretched or hard)
    if falls is not None and verdict != "too tight":
        verdict = "too loose"
    return SizeFit(size=garment.size, verdict=verdict, score=float(score),
                   ease_cm={r: m_to_cm(v) for r, v in ease.items()}, ease_source=source,
                   pattern_ease_cm={r: m_to_cm(v) for r, v in pattern_ease.items()},
                   tape_ease_cm={r: m_to_cm(v) for r, v in taped.items()},
                   comfort_cm={r: tuple(m_to_cm(v) for v in c) for r, c in comfort.items()},
                   region_verdicts=verdicts, stretch=stretch, lengths=lengths, gates=gates, reasons=tuple(reasons),
                   timings_s=dict(drape.timings_s), governing_region=governing)


# ----------------------------------------------------------------------------- recommendation


def chart_size_for(body: Body, chart: str, family: str) -> str:
    """The size chart's own answer: the size whose chart girth at the family's
    ``governing_region`` is nearest the body's."""
    from tryon3d import garments

    region = governing_region(family)
    table = garments.size_chart(chart)
    girth = float(body.measurements_m[region])
    return min(table, key=lambda size: abs(table[size][region] - girth))


def _design_miss_cm(fit: SizeFit) -> tuple[float, float]:
    """(|deciding ease - design ease| [cm], score beyond that miss) of one size."""
    region = fit.governing_region
    if region not in fit.ease_cm:
        return math.inf, fit.score
    value = fit.ease_cm[region]
    return abs(value - fit.comfort_cm[region][1]), fit.score - _comfort_z(value, fit.comfort_cm[region]) ** 2


def _chart_breaks_tie(fits: dict[str, SizeFit], best: str, chart_size: str | None) -> bool:
    """Whether the chart's size is as good as ``best`` within what the drape can tell apart:
    its deciding ease as near the design ease (``_EASE_TIE_M``) and no other problem."""
    if chart_size is None or chart_size == best or chart_size not in fits:
        return False
    miss_best, extra_best = _design_miss_cm(fits[best])
    miss_chart, extra_chart = _design_miss_cm(fits[chart_size])
    return miss_chart - miss_best <= m_to_cm(_EASE_TIE_M) and extra_chart <= extra_best + 1e-9


def recommend(fits: dict[str, SizeFit], order: Sequence[str],
              chart_size: str | None = None) -> tuple[str, float, list[str]]:
    """(best size, confidence in [0, 1], plain-language reasons) from evaluated sizes.

    ``chart_size``, the size chart's answer for the body, breaks a tie (``_chart_breaks_tie``).
    """
    if not fits:
        raise ValueError("no sizes were evaluated")
    best = min(fits, key=lambda s: fits[s].score)
    tie = _chart_breaks_tie(fits, best, chart_size)
    tie_note = ""
    if tie:
        region = fits[best].governing_region
        tie_note = (f"{chart_size} and {best} are equally close to the design's {REGION_WORDS[region]} ease "
                    f"({fits[chart_size].ease_cm[region]:.1f} and {fits[best].ease_cm[region]:.1f} cm, within "
                    f"the {m_to_cm(_EASE_TIE_M):.0f} cm the drape can tell apart): the size chart's answer "
                    f"{chart_size} breaks the tie.")
        best = chart_size
    scores = np.array([fits[s].score for s in fits])
    weights = np.exp(-(scores - scores.min()))
    confidence = float(1.0 / weights.sum()) if len(fits) > 1 else float(1.0 / (1.0 + fits[best].score))
    if not fits[best].gates["passed"]:  # a sound drape with a few misses still measures the fit
        confidence *= 0.7 if fits[best].gates.get("gross", True) else 0.9
    if fits[best].ease_source.get(fits[best].governing_region) == "pattern":
        confidence *= 0.85  # the deciding ease is the pattern's: the drape's measurement failed
    if fits[best].verdict in ("too tight", "too loose"):
        confidence *= 0.5
    confidence = float(min(0.99, max(0.01, confidence)))
    fit = fits[best]
    tried = ", ".join(s for s in order if s in fits)
    if tie:
        reasons = [f"{best} of {tried}, on a tie the size chart broke: overall {fit.verdict}.", tie_note]
    else:
        reasons = [f"{best} fits best of {tried}: overall {fit.verdict}."]
    reasons += [r[0].upper() + r[1:] + "." for r in fit.reasons]
    index = {s: i for i, s in enumerate(order)}
    for other in sorted(fits, key=lambda s: index.get(s, 0)):
        if other == best:
            continue
        o = fits[other]
        region = "chest" if "chest" in o.ease_cm else next(iter(o.ease_cm), None)
        detail = f" ({REGION_WORDS[region]} ease {o.ease_cm[region]:.1f} cm)" if region else ""
        reasons.append(f"{other} would be {o.verdict}{detail}.")
    ranked = [s for s in order if s in fits]
    if fit.verdict == "too tight" and ranked and best == ranked[-1]:
        reasons.append("Even the largest size tried is tight: try a larger size or a stretchier fabric.")
    if fit.verdict == "too loose" and ranked and best == ranked[0]:
        reasons.append("Even the smallest size tried is loose: try a smaller size.")
    return best, confidence, reasons


def confidence_label(confidence: float) -> str:
    """``"high"`` (>= 0.7), ``"medium"`` (>= 0.45) or ``"low"``."""
    return "high" if confidence >= 0.7 else "medium" if confidence >= 0.45 else "low"


