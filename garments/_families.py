"""Parametric garment families: graded size charts and pattern-drafting programs.

Every family drafts its panels from one size-chart row (body measurements) plus design
parameters (ease, lengths, neckline...). Finished garment girths are exactly
size-chart girth + design ease at the chest, waist and hip levels that the garment spans.

Panel frames: tops and dresses have y = 0 at the waist line, y > 0 towards the neck; skirts
and trousers have y = 0 at the waist and y < 0 towards the feet. Sleeves have y = 0 at the
top of the sleeve cap.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from tryon3d.core import data_file
from tryon3d.garments._pattern import Edge, Panel, Pattern, Placement, Seam, panel_widths

__all__ = ["FAMILIES", "Family", "SizeChart", "chart_row", "draft", "pattern_girth", "size_chart"]

#: The size charts shipped in ``data/size_charts.json``.
SizeChart = Literal["women", "men"]


@dataclass(frozen=True)
class Family:
    """A garment family: a drafting program with documented design parameters.

    Attributes:
        name: family name, e.g. ``"tshirt"``.
        description: one line.
        chart: size chart name (``"women"`` or ``"men"``) used by default.
        defaults: design parameters and their defaults [m unless named otherwise].
        bounds: allowed range per design parameter.
        fabric: default fabric preset name.
        build: ``build(row, params) -> (panels, seams, girths)``.
        grades: design parameters given for the chart's M size and graded with the size:
            ``{parameter: metres per metre of chest girth away from M}``. The bounds apply
            to the M value; a graded value never drops below the lower bound.
        kind: ``"top"`` (hangs from the shoulders: T-shirts, dresses) or ``"bottom"`` (hangs
            from the waist and hips: skirts, trousers); a garment that slid down past the line
            it hangs from (the chest for a top, the hips for a bottom) is too big.
        governing_region: the body girth that sizes the family on its size chart, and whose
            ease decides the size (``"chest"`` for tops, ``"hips"`` for bottoms).
        ease_keys: body region -> the design parameter holding the family's ease there [m];
            the regions a fit report judges.
        hem_reference: where the hem length is judged: ``"hips"`` (a top's hem below the hip
            line), ``"knee"`` (a skirt or dress), ``"ankle"`` (trousers) or None (not judged).
    """

    name: str
    description: str
    chart: SizeChart
    defaults: dict[str, float]
    bounds: dict[str, tuple[float, float]]
    fabric: str
    build: Callable
    grades: dict[str, float] = field(default_factory=dict)
    kind: str = "top"
    governing_region: str = "chest"
    ease_keys: dict[str, str] = field(default_factory=dict)
    hem_reference: str | None = None


@functools.cache
def _charts() -> dict:
    text = data_file("size_charts.json").read_text(encoding="utf-8")
    return json.loads(text)["charts"]


def size_chart(chart: str = "women") -> dict[str, dict[str, float]]:
    """Body measurements per size [m]: ``{size: {measurement: value}}`` (XS..5XL).

    ``chart`` is a chart name (``"women"``, ``"men"``) or a family name (its default chart).
    """
    if chart in FAMILIES:
        chart = FAMILIES[chart].chart
    charts = _charts()
    if chart not in charts:
        raise ValueError(
            f"unknown size chart {chart!r}; expected one of {sorted(charts)} or a family name"
        )
    table = charts[chart]
    return {
        size: {name: values[i] / 100.0 for name, values in table["measurements_cm"].items()}
        for i, size in enumerate(table["sizes"])
    }


def chart_row(chart: str, size: str) -> dict[str, float]:
    """One size's body measurements [m]."""
    table = size_chart(chart)
    if size not in table:
        raise ValueError(
            f"unknown size {size!r} for chart {chart!r}; expected one of {list(table)}"
        )
    return table[size]


# ----------------------------------------------------------------------------- tops


def _half_shoulder(row: dict, p: dict) -> float:
    """Half the bodice's shoulder width [m]: where the armhole meets the shoulder seam."""
    return row["shoulder_breadth"] / 2.0 + p.get("shoulder_ease", 0.0)


def _armhole(half_chest: float, half_shoulder: float, y_sp: float, depth: float) -> np.ndarray:
    """Armhole cubic control points [m], underarm (``depth`` below ``y_sp``) to shoulder point."""
    y_ua = y_sp - depth
    return np.array(
        [
            (half_chest, y_ua),
            (half_shoulder + 0.35 * (half_chest - half_shoulder), y_ua),
            (half_shoulder, y_ua + 0.45 * (y_sp - y_ua)),
            (half_shoulder, y_sp),
        ]
    )


def _bodice_half(
    row: dict, p: dict, *, back: bool, side_levels: list[tuple[float, float]], y_hem: float
) -> list[Edge]:
    """x > 0 half of a bodice outline: side (from the hem corner), armhole, shoulder, neck."""
    y_np = row["back_waist"]
    y_sp = y_np - p["shoulder_drop"]
    y_ua = y_sp - p["armhole_depth"]
    half_chest = side_levels[-1][0]
    sw = _half_shoulder(row, p)
    nw = row["neck"] / (2.0 * math.pi) + p["neck_width"]
    depth = 0.02 if back else p["neck_depth"]
    side_points = [(w, y) for w, y in side_levels if y > y_hem + 1e-3]
    hem_w = np.interp(y_hem, [y for _, y in side_levels], [w for w, _ in side_levels])
    side = Edge(np.array([(hem_w, y_hem), *side_points, (half_chest, y_ua)]), "side")
    armhole = Edge(_armhole(half_chest, sw, y_sp, p["armhole_depth"]), "armhole", curve=True)
    shoulder = Edge(np.array([(sw, y_sp), (nw, y_np)]), "shoulder")
    neck = Edge(
        np.array(
            [(nw, y_np), (nw, y_np - 0.6 * depth), (0.55 * nw, y_np - depth), (0.0, y_np - depth)]
        ),
        "neck",
        curve=True,
    )
    return [side, armhole, shoulder, neck]


def _symmetric(
    name: str, half: list[Edge], *, pos: str, neg: str, hem_name: str = "hem", placement: Placement
) -> Panel:
    hem = Edge(np.array([half[0].start * np.array([-1.0, 1.0]), half[0].start]), hem_name)
    plus = [Edge(e.points, f"{e.name}_{pos}", e.curve) for e in half]
    minus = [Edge(e.mirrored().points, f"{e.name}_{neg}", e.curve) for e in reversed(half)]
    return Panel(name, (hem, *plus, *minus), placement=placement)


def _cubic_length(points: np.ndarray) -> float:
    t = np.linspace(0.0, 1.0, 257)[:, None]
    p0, p1, p2, p3 = points
    curve = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3
    return float(np.linalg.norm(np.diff(curve, axis=0), axis=1).sum())


def _cap(bw: float, cap_h: float) -> np.ndarray:
    return np.array([(bw, -cap_h), (0.6 * bw, -0.8 * cap_h), (0.35 * bw, 0.0), (0.0, 0.0)])


# The chest line lies 2.5 cm under the underarm and at least 2 cm above the waist [m].
_CHEST_BELOW_UNDERARM = 0.025
_CHEST_ABOVE_WAIST_MIN = 0.02

# A sleeve cap's half-width may reach 97 % of the armhole length it is sewn to: wider, the
# cap has no height left to match that length.
_CAP_HALF_WIDTH_PER_ARMHOLE = 0.97


def _sleeve_half_width(row: dict, p: dict) -> float:
    """Half the sleeve's width at the underarm [m]: upper arm plus sleeve ease."""
    return (row["upper_arm"] + p["sleeve_ease"]) / 2.0


def _armhole_depth(row: dict, p: dict, half_chest: float) -> float:
    """The graded armhole depth [m], deepened just enough that the sleeve's cap can match the
    armhole at the sleeve's full width (big sizes of a shallow design would otherwise get a
    sleeve narrower than upper arm + ease).

    Raises:
        ValueError: the sleeve is too wide for any armhole this bodice has room for.
    """
    y_sp = row["back_waist"] - p["shoulder_drop"]
    # the chest line, _CHEST_BELOW_UNDERARM under the underarm, must stay above the waist (y = 0)
    # for the side seam to run down to it; the back waist length grades slower than the armhole,
    # so the deepest M designs stop deepening there in the big sizes
    deepest = y_sp - _CHEST_BELOW_UNDERARM - _CHEST_ABOVE_WAIST_MIN
    depth = min(p["armhole_depth"], deepest)
    if p["sleeve_length"] <= 0:
        return depth
    sw = _half_shoulder(row, p)
    half_width = _sleeve_half_width(row, p)
    need = half_width / _CAP_HALF_WIDTH_PER_ARMHOLE

    def length(d: float) -> float:
        return Edge(_armhole(half_chest, sw, y_sp, d), "armhole", curve=True).length

    if length(depth) >= need:
        return depth
    if length(deepest) < need:
        widest = 2.0 * _CAP_HALF_WIDTH_PER_ARMHOLE * length(deepest)
        raise ValueError(
            f"a sleeve {2.0 * half_width * 100:.1f} cm wide (upper arm "
            f"{row['upper_arm'] * 100:.1f} cm + "
            f"sleeve_ease {p['sleeve_ease'] * 100:.1f} cm) is too wide for this size's armhole "
            "even at "
            f"its deepest: at most {widest * 100:.1f} cm fits"
        )
    lo, hi = depth, deepest
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if length(mid) >= need else (mid, hi)
    return hi


def _sleeve(row: dict, p: dict, armhole_length: float) -> Panel:
    """Left sleeve: y = 0 at the cap top; x > 0 is the back of the left arm."""
    # widest sleeve whose cap can still match the armhole (_armhole_depth made room for the full
    # width), then the cap height that matches it
    bw = min(_sleeve_half_width(row, p), _CAP_HALF_WIDTH_PER_ARMHOLE * armhole_length)
    lo, hi = 0.005, armhole_length
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _cubic_length(_cap(bw, mid)) < armhole_length:
            lo = mid
        else:
            hi = mid
    cap_h = 0.5 * (lo + hi)
    length = p["sleeve_length"]
    if length <= cap_h + 0.02:
        raise ValueError(
            f"sleeve_length {length * 100:.1f} cm is shorter than the sleeve cap "
            f"({cap_h * 100:.1f} cm)"
        )
    hem_half = min(bw, p["sleeve_hem"] / 2.0)
    y_hem = -length
    edges = [
        Edge(np.array([(-hem_half, y_hem), (hem_half, y_hem)]), "hem"),
        Edge(np.array([(hem_half, y_hem), (bw, -cap_h)]), "under_b"),
        Edge(_cap(bw, cap_h), "cap_b", curve=True),
        Edge(_cap(bw, cap_h)[::-1] * np.array([-1.0, 1.0]), "cap_f", curve=True),
        Edge(np.array([(-bw, -cap_h), (-hem_half, y_hem)]), "under_f"),
    ]
    return Panel(
        "sleeve_l", tuple(edges), placement=Placement("arm_left", 0.0, "outer", "arm_top", 0.0)
    )


def _build_top(
    row: dict, p: dict, *, flare_skirt: bool = False
) -> tuple[list[Panel], list[Seam], dict]:
    chest = row["chest"] + p["chest_ease"]
    waist = row["waist"] + p["waist_ease"]
    hips = row["hips"] + p["hip_ease"]
    p = dict(p, armhole_depth=_armhole_depth(row, p, chest / 4.0))
    y_np = row["back_waist"]
    y_sp = y_np - p["shoulder_drop"]
    y_ua = y_sp - p["armhole_depth"]
    y_chest = y_ua - _CHEST_BELOW_UNDERARM
    y_hip = -row["waist_to_hip"]
    y_hem = y_np - p["length"]
    if y_hem > y_chest - 0.05:
        raise ValueError(
            f"length {p['length'] * 100:.1f} cm is too short: the hem must lie below the chest line"
        )
    levels = [(hips / 4.0, y_hip), (waist / 4.0, 0.0), (chest / 4.0, y_chest)]
    if flare_skirt and y_hem < y_hip:
        levels.insert(0, (hips / 4.0 + p["flare"] * (y_hip - y_hem), y_hem))
    elif y_hem < y_hip:
        levels.insert(0, (hips / 4.0, y_hem))
    girths = {"chest": (chest, y_chest), "waist": (waist, 0.0)}
    if y_hem < y_hip - 1e-3:
        girths["hips"] = (hips, y_hip)
    panels = []
    for name, back in (("front", False), ("back", True)):
        half = _bodice_half(row, p, back=back, side_levels=levels, y_hem=y_hem)
        placement = Placement("torso", 0.0, "back" if back else "front", "shoulder", y_sp)
        pos, neg = ("r", "l") if back else ("l", "r")
        panels.append(_symmetric(name, half, pos=pos, neg=neg, placement=placement))
    seams = [
        Seam("front", f"{e}_{s}", "back", f"{e}_{s}")
        for e in ("side", "shoulder")
        for s in ("l", "r")
    ]
    if p["sleeve_length"] > 0:
        armhole_length = panels[0].edge("armhole_l").length
        left = _sleeve(row, p, armhole_length)
        right = left.mirrored("sleeve_r", side="arm_right")
        panels += [left, right]
        for sleeve, s in ((left, "l"), (right, "r")):
            seams.append(Seam(sleeve.name, "under_b", sleeve.name, "under_f"))
            seams.append(Seam("front", f"armhole_{s}", sleeve.name, "cap_f"))
            seams.append(Seam("back", f"armhole_{s}", sleeve.name, "cap_b"))
    return panels, seams, girths


# armhole_depth (the M size's) at most 28 cm: deeper, the women's M chest line at the deepest
# shoulder drop would fall within 2 cm of the waist. sleeve_ease at most 25 cm: the women's XXL
# armhole at that drop has room for a set-in sleeve of about 27 cm ease, not more.
_TOP_BOUNDS = {
    "chest_ease": (-0.10, 0.40),
    "waist_ease": (-0.10, 0.60),
    "hip_ease": (-0.10, 0.60),
    "length": (0.35, 1.60),
    "sleeve_length": (0.0, 0.85),
    "sleeve_ease": (0.0, 0.25),
    "sleeve_hem": (0.12, 0.60),
    "neck_depth": (0.01, 0.30),
    "neck_width": (0.0, 0.10),
    "shoulder_drop": (0.01, 0.08),
    "armhole_depth": (0.14, 0.28),
    "flare": (0.0, 0.8),
}


# The armhole deepens by 1/10 of the chest girth's difference from M: Aldrich's size charts
# (Metric Pattern Cutting for Women's Wear; ... for Menswear) step the armscye depth by about
# 0.4 cm per 4 cm of bust or chest. On our charts: 0.6-0.8 cm per women's size (6-8 cm chest
# steps), 0.8 cm per men's size (8 cm steps).
_TOP_GRADES = {"armhole_depth": 0.1}


def _top_defaults(**overrides: float) -> dict[str, float]:
    base = {
        "chest_ease": 0.10,
        "waist_ease": 0.20,
        "hip_ease": 0.06,
        "length": 0.65,
        "sleeve_length": 0.20,
        "sleeve_ease": 0.08,
        "sleeve_hem": 0.34,
        "neck_depth": 0.08,
        "neck_width": 0.012,
        "shoulder_drop": 0.045,
        "armhole_depth": 0.19,
    }
    base.update(overrides)
    return base


# ----------------------------------------------------------------------------- bottoms


def _build_skirt(row: dict, p: dict) -> tuple[list[Panel], list[Seam], dict]:
    waist = row["waist"] + p["waist_ease"]
    hips = row["hips"] + p["hip_ease"]
    y_hip, y_hem = -row["waist_to_hip"], -p["length"]
    if y_hem > y_hip - 0.05:
        raise ValueError(
            f"length {p['length'] * 100:.1f} cm is too short: the hem must lie below the hips"
        )
    hem_half = hips / 4.0 + p["flare"] * (y_hip - y_hem)
    panels = []
    for name, back in (("front", False), ("back", True)):
        side = Edge(np.array([(hem_half, y_hem), (hips / 4.0, y_hip), (waist / 4.0, 0.0)]), "side")
        pos, neg = ("r", "l") if back else ("l", "r")
        hem = Edge(np.array([(-hem_half, y_hem), (hem_half, y_hem)]), "hem")
        edges = [
            hem,
            Edge(side.points, f"side_{pos}"),
            Edge(np.array([(waist / 4.0, 0.0), (-waist / 4.0, 0.0)]), "waist"),
            Edge(side.mirrored().points, f"side_{neg}"),
        ]
        placement = Placement("skirt", 0.0, "back" if back else "front", "waist", 0.0)
        panels.append(Panel(name, tuple(edges), placement=placement))
    seams = [Seam("front", "side_l", "back", "side_l"), Seam("front", "side_r", "back", "side_r")]
    return panels, seams, {"waist": (waist, 0.0), "hips": (hips, y_hip)}


def _leg_panel(
    name: str,
    *,
    hip_w: float,
    waist_w: float,
    ext: float,
    row: dict,
    p: dict,
    hem_w: float,
    part: str,
    side: str,
) -> Panel:
    """Half-leg panel with the inner (crotch) side at -x and the outer side at +x."""
    y_hip = -row["waist_to_hip"]
    y_crotch = -(row["crotch_depth"] + p["rise_ease"])
    y_hem = y_crotch - p["inseam"]
    x_cf = -hip_w / 2.0
    x_out_hip = hip_w / 2.0
    x_out_waist = x_cf + waist_w
    crotch_pt = (x_cf - ext, y_crotch)
    edges = [
        Edge(np.array([(-hem_w / 2.0, y_hem), (hem_w / 2.0, y_hem)]), "hem"),
        Edge(np.array([(hem_w / 2.0, y_hem), (x_out_hip, y_hip), (x_out_waist, 0.0)]), "outseam"),
        Edge(np.array([(x_out_waist, 0.0), (x_cf, 0.0)]), "waist"),
        Edge(np.array([(x_cf, 0.0), (x_cf, y_hip)]), "rise"),
        Edge(
            np.array(
                [
                    (x_cf, y_hip),
                    (x_cf, y_hip + 0.55 * (y_crotch - y_hip)),
                    (x_cf - 0.55 * ext, y_crotch),
                    crotch_pt,
                ]
            ),
            "crotch",
            curve=True,
        ),
        Edge(np.array([crotch_pt, (-hem_w / 2.0, y_hem)]), "inseam"),
    ]
    return Panel(name, tuple(edges), placement=Placement(part, 0.0, side, "waist", 0.0))


def trouser_seams() -> list[Seam]:
    """The seams of four trouser panels named front_l/front_r/back_l/back_r: outseams and
    inseams front to back, rises and crotch curves left to right."""
    seams = []
    for s in ("l", "r"):
        seams.append(Seam(f"front_{s}", "outseam", f"back_{s}", "outseam"))
        seams.append(Seam(f"front_{s}", "inseam", f"back_{s}", "inseam"))
    for piece in ("front", "back"):
        seams.append(Seam(f"{piece}_l", "rise", f"{piece}_r", "rise"))
        seams.append(Seam(f"{piece}_l", "crotch", f"{piece}_r", "crotch"))
    return seams


def _build_trousers(row: dict, p: dict) -> tuple[list[Panel], list[Seam], dict]:
    waist = row["waist"] + p["waist_ease"]
    hips = row["hips"] + p["hip_ease"]
    front_hip, back_hip = hips / 4.0 - 0.01, hips / 4.0 + 0.01
    front_waist, back_waist = waist / 4.0 - 0.005, waist / 4.0 + 0.005
    hem = p["hem_girth"]
    front_l = _leg_panel(
        "front_l",
        hip_w=front_hip,
        waist_w=front_waist,
        ext=hips / 16.0,
        row=row,
        p=p,
        hem_w=hem / 2.0 - 0.02,
        part="leg_left",
        side="front",
    )
    back_r = _leg_panel(
        "back_r",
        hip_w=back_hip,
        waist_w=back_waist,
        ext=hips / 9.0,
        row=row,
        p=p,
        hem_w=hem / 2.0 + 0.02,
        part="leg_right",
        side="back",
    )
    front_r = front_l.mirrored("front_r", side="leg_right")
    back_l = back_r.mirrored("back_l", side="leg_left")
    seams = trouser_seams()
    girths = {"waist": (waist, 0.0), "hips": (hips, -row["waist_to_hip"])}
    return [front_l, front_r, back_l, back_r], seams, girths


# Design parameter holding the ease at each body region a fit report judges.
_TOP_EASE_KEYS = {
    "chest": "chest_ease",
    "waist": "waist_ease",
    "hips": "hip_ease",
    "upper_arm": "sleeve_ease",
}
_BOTTOM_EASE_KEYS = {"waist": "waist_ease", "hips": "hip_ease"}

FAMILIES: dict[str, Family] = {
    "tshirt": Family(
        "tshirt",
        "short-sleeve crew-neck T-shirt",
        "women",
        _top_defaults(),
        _TOP_BOUNDS,
        "cotton_jersey",
        _build_top,
        _TOP_GRADES,
        ease_keys=_TOP_EASE_KEYS,
        hem_reference="hips",
    ),
    "longsleeve": Family(
        "longsleeve",
        "long-sleeve shirt / top",
        "women",
        _top_defaults(
            chest_ease=0.12,
            waist_ease=0.18,
            hip_ease=0.10,
            length=0.68,
            sleeve_length=0.60,
            sleeve_ease=0.07,
            sleeve_hem=0.24,
            neck_depth=0.06,
        ),
        _TOP_BOUNDS,
        "polyester_woven",
        _build_top,
        _TOP_GRADES,
        ease_keys=_TOP_EASE_KEYS,
        hem_reference="hips",
    ),
    "dress": Family(
        "dress",
        "sleeveless A-line shift dress",
        "women",
        _top_defaults(
            chest_ease=0.08,
            waist_ease=0.10,
            hip_ease=0.10,
            length=0.95,
            sleeve_length=0.0,
            neck_depth=0.10,
            armhole_depth=0.20,
            flare=0.20,
        ),
        _TOP_BOUNDS,
        "polyester_woven",
        functools.partial(_build_top, flare_skirt=True),
        _TOP_GRADES,
        ease_keys=_TOP_EASE_KEYS,
        hem_reference="knee",
    ),
    "skirt": Family(
        "skirt",
        "A-line skirt (front and back panel)",
        "women",
        {"waist_ease": 0.01, "hip_ease": 0.05, "length": 0.55, "flare": 0.20},
        {
            "waist_ease": (-0.05, 0.10),
            "hip_ease": (0.0, 0.40),
            "length": (0.30, 1.10),
            "flare": (0.0, 0.8),
        },
        "cotton_jersey",
        _build_skirt,
        kind="bottom",
        governing_region="hips",
        ease_keys=_BOTTOM_EASE_KEYS,
        hem_reference="knee",
    ),
    "trousers": Family(
        "trousers",
        "straight-leg trousers (four panels)",
        "women",
        {
            "waist_ease": 0.02,
            "hip_ease": 0.06,
            "rise_ease": 0.015,
            "inseam": 0.72,
            "hem_girth": 0.42,
        },
        {
            "waist_ease": (-0.05, 0.15),
            "hip_ease": (0.0, 0.40),
            "rise_ease": (0.0, 0.08),
            "inseam": (0.15, 1.00),
            "hem_girth": (0.30, 0.80),
        },
        "denim",
        _build_trousers,
        kind="bottom",
        governing_region="hips",
        ease_keys=_BOTTOM_EASE_KEYS,
        hem_reference="ankle",
    ),
}


def draft(
    family: str, size: str = "M", *, chart: SizeChart | None = None, **design: float
) -> Pattern:
    """Draft a family's pattern for one size of its chart.

    Args:
        family: one of ``FAMILIES``.
        size: size label of the chart (XS..5XL).
        chart: size chart name, or None for the family's default.
        **design: design parameters [m] overriding the family defaults; those in the family's
            ``grades`` are the M size's values, graded with the chest for other sizes.

    Raises:
        ValueError: unknown family, size, chart or design parameter, or a value out of range.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown garment family {family!r}; expected one of {sorted(FAMILIES)}")
    fam = FAMILIES[family]
    row = chart_row(chart or fam.chart, size)
    params = dict(fam.defaults)
    for key, value in design.items():
        if key not in fam.defaults:
            raise ValueError(
                f"unknown design parameter {key!r} for {family}; expected one of "
                f"{sorted(fam.defaults)}"
            )
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"design parameter {key} must be a number of metres, got {value!r}"
            ) from None
        lo, hi = fam.bounds[key]
        if not (math.isfinite(number) and lo <= number <= hi):
            graded = " for size M (other sizes are graded from it)" if key in fam.grades else ""
            raise ValueError(
                f"design parameter {key} must be within [{lo}, {hi}] m{graded}, got {value!r}"
            )
        params[key] = number
    chest_from_m = row["chest"] - chart_row(chart or fam.chart, "M")["chest"]
    sized = dict(params)
    for key, per_m in fam.grades.items():
        sized[key] = max(fam.bounds[key][0], params[key] + per_m * chest_from_m)
    panels, seams, girths = fam.build(row, sized)
    # the design as given (M values); the drafted outline holds the graded ones
    metadata = {
        "family": family,
        "chart": chart or fam.chart,
        "design": params,
        "body_chart_m": row,
    }
    return Pattern(family, size, tuple(panels), tuple(seams), girths, metadata)


def pattern_girth(pattern: Pattern, y: float) -> float:
    """Garment girth [m] at pattern height ``y`` [m]: summed widths of the body panels there.

    Sleeves are left out. Each panel's width is the extent of its outline cut by the line
    at height ``y`` (outer intersections).
    """
    total = 0.0
    for panel in pattern.panels:
        if panel.placement is not None and panel.placement.part.startswith("arm"):
            continue
        total += float(panel_widths(panel, np.array([y]), 256)[0])
    return total
