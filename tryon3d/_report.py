"""Size-fit reports: drape each size, judge ease, stretch and lengths, recommend one size.

The judgement is plain arithmetic on what the stages measured (``sim.Drape.ease_m``,
``Drape.stretch_pct``, draped positions against ``Body`` landmarks and joints); no geometry or
physics happens here.

Ease. ``Drape.ease_m`` is the garment's own girth where the drape put it (the width of the flat
pattern, across the grain, along the body's tape line) minus the body's girth: a tailor's ease,
read where the garment actually sits on this body. It is within about a centimetre of the
pattern's nominal ease when the garment sits as drafted, and departs from it where it does not
(a front riding up on the bust puts the chest line into the waist shaping). ``Drape.tape_ease_m``
(a tape pulled round the draped cloth) is shown alongside: what one would measure on the wearer,
high on a close fit (the cloth stands off the skin) and low on a loose one (folds fall inside the
tape). A reading that is missing or more than ``_EASE_PLAUSIBLE_CM`` from the pattern's ease is a
failed measurement, and the pattern's ease stands in (``ease_source`` says which).

Comfort ranges. Ease is judged against a range per region:

- the tight end depends on the fabric class (from ``Fabric.stretch_limit_pct``): a woven
  (limit < 110 %) needs positive wearing ease (about 5 cm at the chest, Armstrong, *Patternmaking
  for Fashion Design*, ch. 2), a knit (110-140 %) may sit at zero ease, a stretch knit (>= 140 %)
  may be cut smaller than the body (negative ease);
- the ideal is the design ease the garment family was drafted with (what the size chart's body
  gets in that size), never below the tight end;
- the loose end is the ideal plus a loose allowance (12 cm for tops' girths, 8 cm for stretch).

Score (lower is better). The size is decided where the size chart sizes the garment (the chest
for tops, the hips for skirts and trousers): the squared deviation from the design ease there,
as a fraction of the comfort range on that side. The other regions only constrain: a T-shirt is
straight by design, so a roomy waist is no reason to size down. Hard failures (+3 each): a
region tighter than the fabric allows by more than the measurement's uncertainty (a woven
anywhere, a knit at its sizing region; a knit's waist or hem smaller than the body clings and
stretches, which the stretch check judges), or the cloth stretched past the fabric's wearable
limit over a large part of the garment. Lengths out of
range add 0.5. Quality gates are simulation warnings, not fit verdicts: only a grossly failed
drape (cloth inside the body or through itself on a good part of the garment, an open seam)
adds 1. The lowest score wins; the confidence is its softmax share among the sizes evaluated. Two
sizes whose deciding ease is equally far from the design ease, within what the drape can tell
apart (``_EASE_TIE_CM``), and that have no other problems, are a tie: the size chart's answer
for the body breaks it, and the reasons say so.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tryon3d._units import m_to_cm

__all__ = [
    "COMFORT_MIN_EASE_CM",
    "FitReport",
    "SizeFit",
    "chart_size_for",
    "evaluate_size",
    "fabric_class",
    "fit_report",
    "governing_region",
    "judge_drapes",
    "recommend",
    "report_json",
]

_log = logging.getLogger("tryon3d")

#: Regions judged, in report order.
REGIONS: tuple[str, ...] = ("chest", "waist", "hips", "upper_arm", "thigh")

#: Tightest comfortable ease [cm] per fabric class and region.
COMFORT_MIN_EASE_CM: dict[str, dict[str, float]] = {
    "woven": {"chest": 5.0, "waist": 2.0, "hips": 4.0, "upper_arm": 4.0, "thigh": 4.0},
    # a jersey hem hugs the hips and waist: a few cm of negative ease is a stretch of 3-4 %
    "knit": {"chest": 0.0, "waist": -4.0, "hips": -4.0, "upper_arm": 0.0, "thigh": 0.0},
    "stretch": {"chest": -8.0, "waist": -8.0, "hips": -8.0, "upper_arm": -4.0, "thigh": -6.0},
}
#: Loosest comfortable ease above the design ease [cm] per fabric class.
LOOSE_ALLOWANCE_CM: dict[str, float] = {"woven": 12.0, "knit": 12.0, "stretch": 8.0}
#: Design parameter holding each region's ease in the garment families.
_DESIGN_EASE_KEYS = {"chest": "chest_ease", "waist": "waist_ease", "hips": "hip_ease", "upper_arm": "sleeve_ease"}
#: Draped ease further than this from the pattern's ease is a measurement failure [cm].
_EASE_PLAUSIBLE_CM = 8.0
#: Uncertainty (1 sd) of a draped ease reading [cm]: on 40 ANSUR subjects x 3 T-shirt sizes the
#: reading was 0.6 cm below the pattern's nominal ease, sd 0.5 cm, up to 2.5 cm off where the chest
#: line ran into shaping.
_EASE_SD_CM = 1.0
#: Deciding eases closer than this [cm] to being equally far from the design ease are a tie.
_EASE_TIE_CM = 1.0
#: Penalty of a hard failure (too tight somewhere, over-stretched), in score units.
_HARD_FAILURE = 3.0
#: Garment mesh edge length [m] of the second try when a drape diverges.
_RETRY_EDGE_LENGTH_M = 0.025
#: Area past the fabric's wearable limit that makes a garment "too tight" (fraction of faces):
#: above it the pull is no local peak at a seam or armhole but a good part of the garment.
_OVERSTRETCH_FRACTION = 0.10
#: Area past the limit worth a warning (fraction of faces).
_STRETCH_WARNING_FRACTION = 0.02
#: Gross gate failures, beyond which a drape's measurements are not trusted: vertices inside
#: the body or crossing triangle pairs (fraction of vertices / faces) and seam gap [mm].
_GROSS_PENETRATION_FRACTION = 0.02
_GROSS_CROSSING_FRACTION = 0.01
_GROSS_SEAM_GAP_MM = 10.0

_REGION_WORDS = {"chest": "chest", "waist": "waist", "hips": "hips", "upper_arm": "upper arm", "thigh": "thigh"}


def fabric_class(fabric: Any) -> str:
    """``"woven"`` (limit < 110 %), ``"knit"`` (< 140 %) or ``"stretch"`` from ``stretch_limit_pct``."""
    limit = float(fabric.stretch_limit_pct)
    return "woven" if limit < 110.0 else "knit" if limit < 140.0 else "stretch"


@dataclass(frozen=True)
class SizeFit:
    """How one size fits (all lengths in cm, user units, since this is the report's content).

    Attributes:
        size: size label.
        verdict: ``"good"``, ``"snug"``, ``"loose"``, ``"too tight"``, ``"too loose"``.
        score: lower is better, dimensionless (0 = every region at its design ease).
        ease_cm: ease per judged region [cm]: the drape's (``Drape.ease_m``, see the module doc),
            or the pattern's where the draped measurement failed.
        ease_source: per region ``"drape"`` or ``"pattern"``.
        pattern_ease_cm: ease from the pattern's nominal girth minus the body tape [cm].
        tape_ease_cm: a tape round the draped cloth minus the body's (``Drape.tape_ease_m``) per
            region [cm], NaN if none.
        comfort_cm: per region ``(tight, ideal, loose)`` ease [cm].
        region_verdicts: per region verdict.
        stretch: ``p50``, ``p95``, ``p99``, ``max`` [%], ``limit`` [%], ``over_limit_fraction``.
        lengths: named length checks, each ``{"value_cm", "text", "ok"}``.
        gates: the drape's quality gates (``sim.drape_to_json`` form).
        reasons: plain-language sentences.
        timings_s: drape timings [s].
        governing_region: the region whose ease decides the size (``governing_region``).
    """

    size: str
    verdict: str
    score: float
    ease_cm: dict[str, float]
    ease_source: dict[str, str]
    pattern_ease_cm: dict[str, float]
    tape_ease_cm: dict[str, float]
    comfort_cm: dict[str, tuple[float, float, float]]
    region_verdicts: dict[str, str]
    stretch: dict[str, float]
    lengths: dict[str, dict[str, Any]]
    gates: dict[str, Any]
    reasons: tuple[str, ...]
    timings_s: dict[str, float] = field(default_factory=dict)
    governing_region: str = "chest"


@dataclass(frozen=True, eq=False)
class FitReport:
    """A size recommendation for one body and garment family.

    Attributes:
        family: garment family, e.g. ``"tshirt"``.
        chart: size chart used (``"women"`` / ``"men"``).
        fabric: fabric preset name; ``fabric_class``: woven / knit / stretch.
        recommended_size: the best size; ``confidence`` in [0, 1]; ``confidence_label``.
        chart_size: the size chart's own answer for the body's chest (or waist/hips) girth.
        reasons: plain-language reasons for the recommendation.
        sizes: size label -> SizeFit, in chart order.
        body_cm: the body's tape measurements [cm].
        body / drapes / garments: the inputs and drapes (for renders; not serialised).
        device: where the drapes ran.
        failed_sizes: sizes whose drape diverged (also with a finer mesh) -> the error; not judged.
    """

    family: str
    chart: str
    fabric: str
    fabric_class: str
    recommended_size: str
    confidence: float
    confidence_label: str
    chart_size: str
    reasons: tuple[str, ...]
    sizes: dict[str, SizeFit]
    body_cm: dict[str, float]
    body: Any = None
    drapes: dict[str, Any] = field(default_factory=dict)
    garments: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    failed_sizes: dict[str, str] = field(default_factory=dict)


# ----------------------------------------------------------------------------- evaluation


def _joint(body: Any, name: str) -> np.ndarray | None:
    """The body's rest-pose joint ``name`` of its canonical skeleton [m], (3,); None if absent."""
    return body.skeleton_m.get(name)


def _sleeve_check(body: Any, garment: Any, positions: np.ndarray, design: dict) -> dict[str, Any] | None:
    sleeve_panels = np.flatnonzero(garment.sleeve_panels).tolist()
    if not sleeve_panels or float(design.get("sleeve_length", 1.0)) <= 0.0:
        return None
    reach = []
    for side in ("l", "r"):
        full_side = "left" if side == "l" else "right"
        shoulder, elbow, wrist = (_joint(body, f"{j}_{full_side}") for j in ("shoulder", "elbow", "wrist"))
        if shoulder is None or elbow is None or wrist is None:
            return None
        axis = wrist - shoulder
        arm = float(np.linalg.norm(axis))
        panels = [i for i in sleeve_panels if garment.panel_names[i].endswith(f"_{side}")] or sleeve_panels
        points = positions[np.isin(np.asarray(garment.vertex_panels), panels)]
        if arm <= 0 or len(points) == 0:
            return None
        along = (points - shoulder) @ (axis / arm)
        reach.append((float(along.max()), float((elbow - shoulder) @ (axis / arm)), arm))
    end, elbow, arm = (float(np.mean([r[k] for r in reach])) for k in range(3))
    short = float(design.get("sleeve_length", 0.0)) < 0.4
    if short:
        value = m_to_cm(elbow - end)
        ok = -2.0 <= value <= 25.0
        text = (f"sleeves end {value:.1f} cm above the elbow" if value >= 0
                else f"sleeves end {-value:.1f} cm below the elbow (long for a short sleeve)")
        return {"name": "sleeve_end_above_elbow_cm", "value_cm": round(value, 1), "text": text, "ok": ok}
    value = m_to_cm(arm - end)
    ok = -4.0 <= value <= 4.0
    text = (f"sleeves end {value:.1f} cm short of the wrist" if value >= 0
            else f"sleeves reach {-value:.1f} cm past the wrist")
    return {"name": "sleeve_end_to_wrist_cm", "value_cm": round(value, 1), "text": text, "ok": ok}


def _hem_check(body: Any, family: str, garment: Any, positions: np.ndarray) -> dict[str, Any] | None:
    body_panels = np.flatnonzero(~garment.sleeve_panels).tolist()
    points = positions[np.isin(np.asarray(garment.vertex_panels), body_panels)]
    if len(points) == 0:
        return None
    hem_z = float(np.percentile(points[:, 2], 1.0))  # robust lowest point of the hem
    marks = body.landmarks_m
    if family in ("tshirt", "longsleeve") and "hips" in marks and "waist" in marks:
        hips, waist = float(marks["hips"][2]), float(marks["waist"][2])
        crotch = float(marks["crotch"][2]) if "crotch" in marks else hips - 0.10
        value = m_to_cm(hips - hem_z)
        ok = hem_z <= waist - 0.03 and hem_z >= crotch - 0.10
        where = f"{value:.1f} cm below the hip line" if value >= 0 else f"{-value:.1f} cm above the hip line"
        if hem_z > waist - 0.03:
            where += " (cropped: above the waist)"
        elif hem_z < crotch - 0.10:
            where += " (long: well below the crotch)"
        return {"name": "hem_below_hips_cm", "value_cm": round(value, 1), "text": f"hem {where}", "ok": ok}
    knee = _joint(body, "knee_left")
    if family in ("dress", "skirt") and knee is not None:
        value = m_to_cm(hem_z - float(knee[2]))
        text = f"hem {abs(value):.1f} cm {'above' if value >= 0 else 'below'} the knee"
        ok = -30.0 <= value <= 35.0 and ("crotch" not in marks or hem_z < float(marks["crotch"][2]) - 0.05)
        return {"name": "hem_above_knee_cm", "value_cm": round(value, 1), "text": text, "ok": ok}
    ankle = _joint(body, "ankle_left")
    if family == "trousers" and ankle is not None:
        value = m_to_cm(hem_z - float(ankle[2]))
        text = f"hem {abs(value):.1f} cm {'above' if value >= 0 else 'below'} the ankle"
        return {"name": "hem_above_ankle_cm", "value_cm": round(value, 1), "text": text, "ok": -6.0 <= value <= 12.0}
    return None


def _slides_down(body: Any, family: str, positions: np.ndarray) -> str | None:
    """Why the garment does not stay up, or None: its top came to rest below the line it hangs
    from (the hips for skirts and trousers, the chest for tops), i.e. nothing held it up and it
    slid down the body (the simulation's floor stops it)."""
    region = governing_region(family)
    mark = body.landmarks_m.get(region)
    if mark is None or len(positions) == 0:
        return None
    below = m_to_cm(float(mark[2]) - float(np.max(positions[:, 2])))
    if below <= 0.0:
        return None
    return (f"does not stay up: too big to hold on, it slides down past the {_REGION_WORDS[region]} "
            f"(its top rests {below:.0f} cm below them)")


def _pattern_ease_cm(body: Any, garment: Any) -> dict[str, float]:
    girths = garment.metadata.get("girths_m", {})
    out = {r: m_to_cm(float(girths[r]) - float(body.measurements_m[r]))
           for r in REGIONS if r in girths and r in body.measurements_m}
    design = garment.metadata.get("design", {})
    pattern = garment.metadata.get("pattern")
    row = getattr(pattern, "metadata", {}).get("body_chart_m", {}) if pattern is not None else {}
    if float(design.get("sleeve_length", 0.0)) > 0 and "upper_arm" in row and "upper_arm" in body.measurements_m:
        out["upper_arm"] = m_to_cm(row["upper_arm"] + float(design.get("sleeve_ease", 0.0))
                                   - body.measurements_m["upper_arm"])
    return out


def governing_region(family: str) -> str:
    """Where the size chart sizes a family: the hips for skirts and trousers, else the chest."""
    return "hips" if family in ("skirt", "trousers") else "chest"


def _stretch_stats(drape: Any, limit: float, sleeves: np.ndarray) -> dict[str, float]:
    values = np.asarray(drape.stretch_pct, dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return {"p50": math.nan, "p95": math.nan, "p99": math.nan, "max": math.nan, "limit": limit,
                "over_limit_fraction": 0.0, "over_limit_fraction_sleeves": 0.0}
    over = finite & (values > limit)
    p50, p95, p99 = np.percentile(values[finite], [50, 95, 99])
    in_sleeves = float(over[sleeves].sum() / max(1, over.sum()))
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99), "max": float(values[finite].max()),
            "limit": float(limit), "over_limit_fraction": float(over.mean()),
            "over_limit_fraction_sleeves": in_sleeves}


def _comfort_z(value: float, comfort: tuple[float, float, float]) -> float:
    """Deviation of an ease from the ideal, as a fraction of the comfort range on that side."""
    tight, ideal, loose = comfort
    return (value - ideal) / ((ideal - tight) if value < ideal else (loose - ideal))


def _judge_region(region: str, value: float, comfort: tuple[float, float, float], tolerance: float,
                  fabric: str, *, clings: bool = False) -> tuple[float, str, str, bool]:
    """(z, verdict, reason, hard failure) of one region's ease against its comfort range.

    z is the deviation from the ideal as a fraction of the comfort range on that side. Below
    the tight end the verdict is "too tight"; it is a hard failure once it is below by more
    than ``tolerance`` (the measurement's uncertainty), where the drape leaves no doubt. With
    ``clings`` (a knit away from its sizing region) less than the tight end is "snug": the
    cloth stretches to fit, and the drape's stretch field judges whether it can.
    """
    tight, ideal, loose = comfort
    z = _comfort_z(value, comfort)
    word = _REGION_WORDS[region]
    if value < tight and clings:
        return z, "snug", (f"clings at the {word}: {value:.1f} cm ease, the {fabric} stretches to fit "
                           f"there"), False
    if value < tight:
        return z, "too tight", (f"too tight at the {word}: {value:.1f} cm ease, {fabric} wants at least "
                                f"{tight:.0f} cm"), value < tight - tolerance
    if z > 1.0:
        return z, "too loose", f"too loose at the {word}: {value:.1f} cm ease, more than {loose:.0f} cm", False
    if z < -0.5:
        return z, "snug", f"snug at the {word}: {value:.1f} cm ease (design {ideal:.0f} cm)", False
    if z > 0.5:
        return z, "loose", f"roomy at the {word}: {value:.1f} cm ease (design {ideal:.0f} cm)", False
    return z, "good", f"{word} ease {value:.1f} cm is close to the design's {ideal:.0f} cm", False


def evaluate_size(body: Any, garment: Any, drape: Any, *, family: str) -> SizeFit:
    """Judge one draped size: ease per region, stretch, lengths and gates -> a SizeFit."""
    fabric = garment.fabric
    klass = fabric_class(fabric)
    design = dict(garment.metadata.get("design", {}))
    pattern_ease = _pattern_ease_cm(body, garment)
    governing = governing_region(family)
    positions = np.asarray(drape.rest_pose_positions)
    ease, source, taped, comfort, verdicts, reasons = {}, {}, {}, {}, {}, []
    score, hard = 0.0, False
    for region in REGIONS:
        key = _DESIGN_EASE_KEYS.get(region)
        if key not in design or region not in pattern_ease:
            continue
        if region == "upper_arm" and float(design.get("sleeve_length", 0.0)) <= 0.0:
            continue
        measured = m_to_cm(float(drape.ease_m.get(region, math.nan)))
        taped[region] = m_to_cm(float(getattr(drape, "tape_ease_m", {}).get(region, math.nan)))
        nominal = pattern_ease[region]
        if math.isfinite(measured) and abs(measured - nominal) <= _EASE_PLAUSIBLE_CM:
            value, source[region], tolerance = measured, "drape", 2.0 * _EASE_SD_CM
        else:
            value, source[region], tolerance = nominal, "pattern", 0.0
            if math.isfinite(measured):
                _log.debug("%s %s: draped %s ease %.1f cm is %.1f cm off the pattern's; using the pattern's",
                           family, garment.size, region, measured, measured - nominal)
        tight = COMFORT_MIN_EASE_CM[klass][region]
        ideal = max(m_to_cm(float(design[key])), tight + 2.0)
        tight = min(tight, ideal - 2.0)
        comfort[region] = (tight, ideal, ideal + LOOSE_ALLOWANCE_CM[klass])
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
    stretch = _stretch_stats(drape, float(fabric.stretch_limit_pct), garment.sleeve_faces)
    over = stretch["over_limit_fraction"]
    where = "mostly in the sleeves" if stretch["over_limit_fraction_sleeves"] > 0.5 else "mostly in the body"
    overstretched = over > _OVERSTRETCH_FRACTION
    if overstretched:
        score += _HARD_FAILURE
        reasons.append(f"fabric stretched past {fabric.name}'s wearable {stretch['limit']:.0f} % on "
                       f"{100 * over:.0f} % of the garment, {where} (p99 {stretch['p99']:.0f} %)")
    elif over > _STRETCH_WARNING_FRACTION:
        reasons.append(f"pulls locally: {100 * over:.0f} % of the garment is past {fabric.name}'s wearable "
                       f"{stretch['limit']:.0f} %, {where} (p99 {stretch['p99']:.0f} %)")
    elif stretch["max"] > stretch["limit"]:
        reasons.append(f"stretch stays within {fabric.name}'s wearable {stretch['limit']:.0f} % except a "
                       f"local peak of {stretch['max']:.0f} % (p99 {stretch['p99']:.0f} %)")
    else:
        reasons.append(f"max stretch {stretch['max']:.0f} % is within {fabric.name}'s wearable "
                       f"{stretch['limit']:.0f} %")
    lengths = {}
    for check in (_sleeve_check(body, garment, positions, design), _hem_check(body, family, garment, positions)):
        if check is None:
            continue
        name = check.pop("name")
        lengths[name] = check
        reasons.append(check["text"])
        if not check["ok"]:
            score += 0.5
    gates = _gates_json(drape)
    gates["gross"] = not gates["passed"] and _gross_gate_failure(gates, vertex_count=len(positions),
                                                                   face_count=len(drape.stretch_pct))
    if not gates["passed"]:
        if gates["gross"]:
            score += 1.0
            reasons.append("the drape of this size is unreliable (" + _gate_failures(gates) + ")")
        else:
            reasons.append("simulation quality warning, not a fit issue: " + _gate_failures(gates))
    falls = _slides_down(body, family, positions)
    if falls is not None:
        score += _HARD_FAILURE
        reasons.insert(0, falls)
    verdict = _overall_verdict(verdicts, overstretched or hard)
    if falls is not None and verdict != "too tight":
        verdict = "too loose"
    return SizeFit(size=garment.size, verdict=verdict, score=float(score), ease_cm=ease, ease_source=source,
                   pattern_ease_cm=pattern_ease, tape_ease_cm=taped, comfort_cm=comfort,
                   region_verdicts=verdicts, stretch=stretch, lengths=lengths, gates=gates, reasons=tuple(reasons),
                   timings_s=dict(drape.timings_s), governing_region=governing)


def _gross_gate_failure(gates: dict[str, Any], *, vertex_count: int, face_count: int) -> bool:
    """A drape too broken to measure: cloth inside the body or through itself on a good part of
    the garment, or a seam open. A few misses, or cloth still settling, are warnings."""
    return (gates["penetrating_vertices"] > _GROSS_PENETRATION_FRACTION * vertex_count
            or gates["self_intersecting_pairs"] > _GROSS_CROSSING_FRACTION * face_count
            or gates["max_seam_gap_mm"] > _GROSS_SEAM_GAP_MM)


def _gates_json(drape: Any) -> dict[str, Any]:
    g = drape.gates
    return {"penetrating_vertices": int(g.penetrating_vertices),
            "self_intersecting_pairs": int(g.self_intersecting_pairs),
            "max_seam_gap_mm": round(float(g.max_seam_gap_mm), 3),
            "max_stretch_pct": round(float(g.max_stretch_pct), 2),
            "converged": bool(g.converged), "passed": bool(g.passed)}


def _gate_failures(gates: dict[str, Any]) -> str:
    parts = []
    if gates["penetrating_vertices"]:
        parts.append(f"{gates['penetrating_vertices']} vertices inside the body")
    if gates["self_intersecting_pairs"]:
        parts.append(f"{gates['self_intersecting_pairs']} self-intersecting triangle pairs")
    if gates["max_seam_gap_mm"] > 2.0:
        parts.append(f"seam gap {gates['max_seam_gap_mm']:.1f} mm")
    if not gates["converged"]:
        parts.append("not fully at rest")
    return ", ".join(parts) or "none"


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


# ----------------------------------------------------------------------------- recommendation


def chart_size_for(body: Any, chart: str, family: str) -> str:
    """The size chart's own answer: the size whose chart girth is nearest the body's.

    Tops use the chest, skirts and trousers the hips.
    """
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
    its deciding ease as near the design ease (``_EASE_TIE_CM``) and no other problem."""
    if chart_size is None or chart_size == best or chart_size not in fits:
        return False
    miss_best, extra_best = _design_miss_cm(fits[best])
    miss_chart, extra_chart = _design_miss_cm(fits[chart_size])
    return miss_chart - miss_best <= _EASE_TIE_CM and extra_chart <= extra_best + 1e-9


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
        region = _REGION_WORDS[fits[best].governing_region]
        tie_note = (f"{chart_size} and {best} are equally close to the design's {region} ease "
                    f"({fits[chart_size].ease_cm[fits[best].governing_region]:.1f} and "
                    f"{fits[best].ease_cm[fits[best].governing_region]:.1f} cm, within the "
                    f"{_EASE_TIE_CM:.0f} cm the drape can tell apart): the size chart's answer {chart_size} breaks the tie.")
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
        detail = f" ({_REGION_WORDS[region]} ease {o.ease_cm[region]:.1f} cm)" if region else ""
        reasons.append(f"{other} would be {o.verdict}{detail}.")
    ranked = [s for s in order if s in fits]
    if fit.verdict == "too tight" and ranked and best == ranked[-1]:
        reasons.append("Even the largest size tried is tight: try a larger size or a stretchier fabric.")
    if fit.verdict == "too loose" and ranked and best == ranked[0]:
        reasons.append("Even the smallest size tried is loose: try a smaller size.")
    return best, confidence, reasons


def _confidence_label(confidence: float) -> str:
    return "high" if confidence >= 0.7 else "medium" if confidence >= 0.45 else "low"


def _resolve_sizes(sizes: Sequence[str] | str | None, table: dict, chart_answer: str) -> list[str]:
    labels = list(table)
    if sizes is None or sizes == "all":
        return labels
    if sizes == "auto":
        i = labels.index(chart_answer)
        return labels[max(0, i - 1): i + 2]
    if isinstance(sizes, str):
        sizes = [s.strip() for s in sizes.split(",") if s.strip()]
    chosen = []
    for size in sizes:
        if size not in table:
            raise ValueError(f"unknown size {size!r}; expected some of {labels}, 'auto' or 'all'")
        if size not in chosen:
            chosen.append(size)
    if not chosen:
        raise ValueError(f"no sizes given; expected some of {labels}, 'auto' or 'all'")
    return sorted(chosen, key=labels.index)


def fit_report(
    body: Any,
    garment_family: str,
    *,
    sizes: Sequence[str] | str | None = None,
    fabric: Any = None,
    device: str = "cpu",
    chart: str | None = None,
    edge_length_m: float = 0.03,
    max_seconds_simulated: float = 4.0,
    progress: Callable[[str], None] | None = None,
) -> FitReport:
    """Drape each size of a garment family on ``body`` and recommend one.

    Args:
        body: a ``bodyfit.Body``.
        garment_family: family name (see ``garments.list_families()``), e.g. ``"tshirt"``.
        sizes: size labels (list or ``"S,M,L"``), ``"auto"`` (the chart's answer for the body and
            its neighbours) or None / ``"all"`` (every size of the chart).
        fabric: fabric preset name, free-text description or ``garments.Fabric``; None for the
            family's default.
        device: ``"cpu"`` or ``"cuda[:N]"`` for the drapes.
        chart: ``"women"`` / ``"men"``; None picks by the body's sex.
        edge_length_m: garment mesh edge length [m] (0.03 gives about 1k vertices for a T-shirt).
        max_seconds_simulated: simulated-time budget per settle [s].
        progress: called with a short message before each drape (e.g. a tqdm bar's update).

    Raises:
        ValueError: unknown family, size, fabric or device; a drape that diverged.
    """
    from tryon3d import garments, sim

    families = garments.list_families()
    if garment_family not in families:
        raise ValueError(f"unknown garment family {garment_family!r}; expected one of {sorted(families)}")
    device = str(device)
    if not (device == "cpu" or device.startswith("cuda")):
        raise ValueError(f"device must be 'cpu' or 'cuda[:N]', got {device!r}")
    if chart is None:
        chart = "men" if str(body.inputs.get("sex", "")).lower() == "male" else families[garment_family]["chart"]
    table = garments.size_chart(chart)
    chart_answer = chart_size_for(body, chart, garment_family)
    chosen = _resolve_sizes(sizes, table, chart_answer)
    drapes, loaded, failed = {}, {}, {}
    for size in chosen:
        if progress is not None:
            progress(f"draping {garment_family} {size}")
        result = None
        for edge in dict.fromkeys((edge_length_m, _RETRY_EDGE_LENGTH_M)):  # a diverged drape: once more, finer
            garment = garments.load_garment(garment_family, size=size, fabric=fabric, body=body, chart=chart,
                                            edge_length_m=edge)
            try:
                result = sim.drape(body, garment, device=device, max_seconds_simulated=max_seconds_simulated)
                break
            except sim.DrapeDivergedError as exc:
                _log.warning("%s %s: the drape diverged at %.1f cm mesh edges (%s)", garment_family, size,
                             m_to_cm(edge), str(exc).split(" (")[0])
                failed[size] = str(exc)
        if result is None:
            continue
        failed.pop(size, None)
        drapes[size], loaded[size] = result, garment
    if not drapes:
        raise ValueError(f"no size of {garment_family} could be draped on this body: {failed[chosen[0]]}")
    return judge_drapes(body, garment_family, loaded, drapes, chart=chart, failed=failed, device=device)


def judge_drapes(
    body: Any,
    garment_family: str,
    garments_by_size: dict[str, Any],
    drapes: dict[str, Any],
    *,
    chart: str,
    failed: dict[str, str] | None = None,
    device: str = "cpu",
) -> FitReport:
    """Judge drapes already made (size -> Garment, size -> Drape) and recommend one size.

    ``fit_report`` without the simulation: also for judging saved drapes again.

    Raises:
        ValueError: no drapes, or the sizes of ``drapes`` and ``garments_by_size`` differ.
    """
    from tryon3d import garments

    if not drapes or set(drapes) != set(garments_by_size):
        raise ValueError(f"expected drapes and garments for the same sizes, got {sorted(drapes)} and "
                         f"{sorted(garments_by_size)}")
    table = garments.size_chart(chart)
    order = [s for s in table if s in drapes]
    fits = {}
    for size in order:
        fits[size] = evaluate_size(body, garments_by_size[size], drapes[size], family=garment_family)
        _log.debug("%s %s: %s, score %.2f", garment_family, size, fits[size].verdict, fits[size].score)
    failed = dict(failed or {})
    chart_answer = chart_size_for(body, chart, garment_family)
    best, confidence, reasons = recommend(fits, list(table), chart_answer)
    for size in failed:
        reasons.append(f"{size} could not be draped (the simulation diverged), so it was not judged.")
    confidence *= 0.8 ** len(failed)
    first = garments_by_size[order[0]]
    return FitReport(
        family=garment_family, chart=chart, fabric=first.fabric.name, fabric_class=fabric_class(first.fabric),
        recommended_size=best, confidence=confidence, confidence_label=_confidence_label(confidence),
        chart_size=chart_answer, reasons=tuple(reasons), sizes=fits,
        body_cm={k: round(m_to_cm(v), 1) for k, v in body.measurements_m.items()},
        body=body, drapes={s: drapes[s] for s in order}, garments={s: garments_by_size[s] for s in order},
        device=device, failed_sizes=failed,
    )


# ----------------------------------------------------------------------------- JSON


def _num(value: float, digits: int = 1) -> float | None:
    return round(float(value), digits) if math.isfinite(float(value)) else None


def report_json(report: FitReport, *, files: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``report.json`` content: recommendation, confidence and per-size gates, ease, stretch, verdict."""
    sizes = {}
    for size, fit in report.sizes.items():
        sizes[size] = {
            "verdict": fit.verdict,
            "score": round(fit.score, 3),
            "governing_region": fit.governing_region,
            "gates": fit.gates,
            "ease_cm": {
                region: {
                    "ease": _num(fit.ease_cm[region]),
                    "source": fit.ease_source[region],
                    "pattern_ease": _num(fit.pattern_ease_cm.get(region, math.nan)),
                    "tape_reading": _num(fit.tape_ease_cm.get(region, math.nan)),
                    "comfort_min": _num(fit.comfort_cm[region][0]),
                    "design": _num(fit.comfort_cm[region][1]),
                    "comfort_max": _num(fit.comfort_cm[region][2]),
                    "verdict": fit.region_verdicts[region],
                }
                for region in fit.ease_cm
            },
            "stretch_pct": {k: _num(v, 3 if k == "over_limit_fraction" else 1) for k, v in fit.stretch.items()},
            "lengths": fit.lengths,
            "reasons": list(fit.reasons),
            "timings_s": {k: round(v, 2) for k, v in fit.timings_s.items()},
        }
    return {
        "garment": report.family,
        "chart": report.chart,
        "fabric": report.fabric,
        "fabric_class": report.fabric_class,
        "recommended_size": report.recommended_size,
        "confidence": round(report.confidence, 3),
        "confidence_label": report.confidence_label,
        "chart_size_for_body": report.chart_size,
        "reasons": list(report.reasons),
        "body_cm": report.body_cm,
        "device": report.device,
        "sizes": sizes,
        "failed_sizes": dict(report.failed_sizes),
        "files": files or {},
    }
