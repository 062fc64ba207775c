"""Geometry read off a drape: sleeve end, hem height, sliding down, pattern ease, stretch, gates.

Lengths are in metres; a check's ``value_cm`` and text are the report's (user units).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from tryon3d._units import m_to_cm

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body
    from tryon3d.garments import Garment
    from tryon3d.sim import Drape
    from tryon3d.sizing._profile import SizingProfile

#: Regions judged, in report order.
REGIONS: tuple[str, ...] = ("chest", "waist", "hips", "upper_arm", "thigh")
REGION_WORDS = {
    "chest": "chest",
    "waist": "waist",
    "hips": "hips",
    "upper_arm": "upper arm",
    "thigh": "thigh",
}
#: The line a garment hangs from, per ``SizingProfile.hangs_as``: below it, it slid down.
HANGS_FROM = {"top": "chest", "bottom": "hips"}
#: Gross gate failures, beyond which a drape's measurements are not trusted: vertices inside
#: the body or crossing triangle pairs (fraction of vertices / faces) and seam gap [mm].
_GROSS_PENETRATION_FRACTION = 0.02
_GROSS_CROSSING_FRACTION = 0.01
_GROSS_SEAM_GAP_MM = 10.0


def _joint(body: Body, name: str) -> np.ndarray | None:
    """The body's rest-pose joint ``name`` of its canonical skeleton [m], (3,); None if absent."""
    return body.skeleton_m.get(name)


def _length(name: str, value_m: float, text: str, ok: bool) -> dict[str, Any]:
    return {"name": name, "value_cm": round(m_to_cm(value_m), 1), "text": text, "ok": bool(ok)}


def sleeve_check(
    body: Body, garment: Garment, positions: np.ndarray, design: dict
) -> dict[str, Any] | None:
    """Where the sleeves end: above the elbow (short sleeves) or short of the wrist (long)."""
    sleeve_panels = np.flatnonzero(garment.sleeve_panels).tolist()
    if not sleeve_panels or float(design.get("sleeve_length", 1.0)) <= 0.0:
        return None
    reach = []
    for side in ("l", "r"):
        full_side = "left" if side == "l" else "right"
        shoulder, elbow, wrist = (
            _joint(body, f"{j}_{full_side}") for j in ("shoulder", "elbow", "wrist")
        )
        if shoulder is None or elbow is None or wrist is None:
            return None
        axis = wrist - shoulder
        arm = float(np.linalg.norm(axis))
        panels = [
            i for i in sleeve_panels if garment.panel_names[i].endswith(f"_{side}")
        ] or sleeve_panels
        points = positions[np.isin(np.asarray(garment.vertex_panels), panels)]
        if arm <= 0 or len(points) == 0:
            return None
        along = (points - shoulder) @ (axis / arm)
        reach.append((float(along.max()), float((elbow - shoulder) @ (axis / arm)), arm))
    end, elbow_along, arm = (float(np.mean([r[k] for r in reach])) for k in range(3))
    if float(design.get("sleeve_length", 0.0)) < 0.4:  # a short sleeve
        value = elbow_along - end
        text = (
            f"sleeves end {m_to_cm(value):.1f} cm above the elbow"
            if value >= 0
            else f"sleeves end {-m_to_cm(value):.1f} cm below the elbow (long for a short sleeve)"
        )
        return _length("sleeve_end_above_elbow_cm", value, text, -0.02 <= value <= 0.25)
    value = arm - end
    text = (
        f"sleeves end {m_to_cm(value):.1f} cm short of the wrist"
        if value >= 0
        else f"sleeves reach {-m_to_cm(value):.1f} cm past the wrist"
    )
    return _length("sleeve_end_to_wrist_cm", value, text, -0.04 <= value <= 0.04)


def hem_check(
    body: Body, profile: SizingProfile, garment: Garment, positions: np.ndarray
) -> dict[str, Any] | None:
    """Where the hem hangs, against the profile's ``hem_reference`` (hip line, knee or ankle)."""
    body_panels = np.flatnonzero(~garment.sleeve_panels).tolist()
    points = positions[np.isin(np.asarray(garment.vertex_panels), body_panels)]
    if len(points) == 0:
        return None
    hem_z = float(np.percentile(points[:, 2], 1.0))  # robust lowest point of the hem
    marks = body.landmarks_m
    reference = profile.hem_reference
    if reference == "hips" and "hips" in marks and "waist" in marks:
        hips, waist = float(marks["hips"][2]), float(marks["waist"][2])
        crotch = float(marks["crotch"][2]) if "crotch" in marks else hips - 0.10
        value = hips - hem_z
        ok = hem_z <= waist - 0.03 and hem_z >= crotch - 0.10
        cm = m_to_cm(value)
        where = (
            f"{cm:.1f} cm below the hip line" if value >= 0 else f"{-cm:.1f} cm above the hip line"
        )
        if hem_z > waist - 0.03:
            where += " (cropped: above the waist)"
        elif hem_z < crotch - 0.10:
            where += " (long: well below the crotch)"
        return _length("hem_below_hips_cm", value, f"hem {where}", ok)
    knee = _joint(body, "knee_left")
    if reference == "knee" and knee is not None:
        value = hem_z - float(knee[2])
        text = f"hem {abs(m_to_cm(value)):.1f} cm {'above' if value >= 0 else 'below'} the knee"
        ok = -0.30 <= value <= 0.35 and (
            "crotch" not in marks or hem_z < float(marks["crotch"][2]) - 0.05
        )
        return _length("hem_above_knee_cm", value, text, ok)
    ankle = _joint(body, "ankle_left")
    if reference == "ankle" and ankle is not None:
        value = hem_z - float(ankle[2])
        text = f"hem {abs(m_to_cm(value)):.1f} cm {'above' if value >= 0 else 'below'} the ankle"
        return _length("hem_above_ankle_cm", value, text, -0.06 <= value <= 0.12)
    return None


def slides_down(body: Body, profile: SizingProfile, positions: np.ndarray) -> str | None:
    """Why the garment does not stay up, or None: its top came to rest below the line it hangs
    from (``HANGS_FROM[profile.hangs_as]``), i.e. nothing held it up and it slid down the body (the
    simulation's floor stops it)."""
    hangs = getattr(profile, "hangs_as", None) or profile.kind  # a Family has only ``kind``
    region = HANGS_FROM[hangs]
    mark = body.landmarks_m.get(region)
    if mark is None or len(positions) == 0:
        return None
    below = float(mark[2]) - float(np.max(positions[:, 2]))
    if below <= 0.0:
        return None
    return (
        f"does not stay up: too big to hold on, it slides down past the {REGION_WORDS[region]} "
        f"(its top rests {m_to_cm(below):.0f} cm below them)"
    )


def pattern_ease_m(
    body: Body, garment: Garment, pattern_girths_m: dict[str, float] | None = None
) -> dict[str, float]:
    """Per region, the pattern's nominal girth minus the body's tape girth [m]; an imported
    pattern's own girths (``pattern_girths_m``) where the drafting recorded none."""
    girths = {**(pattern_girths_m or {}), **garment.metadata.get("girths_m", {})}
    out = {
        r: float(girths[r]) - float(body.measurements_m[r])
        for r in REGIONS
        if r in girths and r in body.measurements_m
    }
    design = garment.metadata.get("design", {})
    pattern = garment.metadata.get("pattern")
    row = getattr(pattern, "metadata", {}).get("body_chart_m", {}) if pattern is not None else {}
    if (
        float(design.get("sleeve_length", 0.0)) > 0
        and "upper_arm" in row
        and "upper_arm" in body.measurements_m
    ):
        out["upper_arm"] = (
            row["upper_arm"]
            + float(design.get("sleeve_ease", 0.0))
            - body.measurements_m["upper_arm"]
        )
    return out


def stretch_stats(drape: Drape, limit: float, sleeves: np.ndarray) -> dict[str, float]:
    """Stretch percentiles [%] of the drape's faces and the fraction past ``limit`` [%]."""
    values = np.asarray(drape.stretch_pct, dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return {
            "p50": math.nan,
            "p95": math.nan,
            "p99": math.nan,
            "max": math.nan,
            "limit": limit,
            "over_limit_fraction": 0.0,
            "over_limit_fraction_sleeves": 0.0,
        }
    over = finite & (values > limit)
    p50, p95, p99 = np.percentile(values[finite], [50, 95, 99])
    in_sleeves = float(over[sleeves].sum() / max(1, over.sum()))
    return {
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "max": float(values[finite].max()),
        "limit": float(limit),
        "over_limit_fraction": float(over.mean()),
        "over_limit_fraction_sleeves": in_sleeves,
    }


def gross_gate_failure(gates: dict[str, Any], *, vertex_count: int, face_count: int) -> bool:
    """A drape too broken to measure: cloth inside the body or through itself on a good part of
    the garment, or a seam open. A few misses, or cloth still settling, are warnings."""
    return (
        gates["penetrating_vertices"] > _GROSS_PENETRATION_FRACTION * vertex_count
        or gates["self_intersecting_pairs"] > _GROSS_CROSSING_FRACTION * face_count
        or gates["max_seam_gap_mm"] > _GROSS_SEAM_GAP_MM
    )


def gates_json(drape: Drape) -> dict[str, Any]:
    """The drape's quality gates as plain JSON values."""
    g = drape.gates
    return {
        "penetrating_vertices": int(g.penetrating_vertices),
        "self_intersecting_pairs": int(g.self_intersecting_pairs),
        "max_seam_gap_mm": round(float(g.max_seam_gap_mm), 3),
        "max_stretch_pct": round(float(g.max_stretch_pct), 2),
        "converged": bool(g.converged),
        "passed": bool(g.passed),
    }


def gate_failures(gates: dict[str, Any]) -> str:
    """The failed gates in words."""
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
