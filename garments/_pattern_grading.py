"""Sizes of a one-size parametric pattern (a GarmentCode specification) by grading.

A GarmentCode specification is one design drafted around GarmentCode's mean body: one size.
Real grading adds the body's step between sizes to the garment, so every size keeps the
design's own ease on the body it is made for. Here: the base size is the chart size whose
body is nearest GarmentCode's mean body (its bust for tops and dresses, its hips for bottoms);
size X adds the chart's girth step (X's body minus the base's) to the pattern's own girth at
that level, spread over the width of every body piece in proportion (each panel's across
direction, its pattern x, scaled); lengths follow the chart's stature step (each body
panel's pattern y scaled); a sleeve grows as its armhole does, alike both ways, so its cap
still fits it; a seam whose two sides then differ (a sleeve cap against a graded
armhole, short edges most) is eased in, listed in ``metadata["gathered_seams"]``.
Placements (centre lines, anchor heights) scale with their panels; seams are unchanged.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tryon3d.garments._families import size_chart
from tryon3d.garments._garmentcode import GARMENTCODE_MEAN_BODY_CM
from tryon3d.garments._inspect import pattern_measurements
from tryon3d.garments._kind import garment_kind
from tryon3d.garments._pattern import Edge, Panel, Pattern, sample_edge

__all__ = ["GRADING_CHART", "grade_pattern", "graded_sizes"]

#: The size chart whose steps grade a one-size pattern (GarmentCode's mean body is a
#: women's-chart L).
GRADING_CHART = "women"
_EASE_SHARE = 0.049  # graded seams whose sides differ more than this are eased (gathered)


def _level(pattern: Pattern) -> tuple[str, str]:
    """(the chart's girth that sizes it, the pattern girth that carries it)."""
    if garment_kind(pattern) == "bottom":
        return "hips", "hips"
    measured = pattern_measurements(pattern)
    return "chest", "chest" if "chest" in measured else "hem"


def graded_sizes(pattern: Pattern, *, chart: str = GRADING_CHART) -> tuple[list[str], str]:
    """(the chart's size labels, the base size: the one whose body is nearest GarmentCode's mean
    body at the pattern's sizing girth)."""
    table = size_chart(chart)
    key, _ = _level(pattern)
    mean_m = GARMENTCODE_MEAN_BODY_CM["hips" if key == "hips" else "bust"] / 100.0
    base = min(table, key=lambda size: abs(table[size][key] - mean_m))
    return list(table), base


def _scaled_panel(panel: Panel, across: float, along: float) -> Panel:
    scale = np.array([across, along])
    edges = tuple(
        Edge(points=np.asarray(e.points) * scale, name=e.name, curve=e.curve) for e in panel.edges
    )
    place = panel.placement
    if place is not None:
        place = dataclasses.replace(
            place, center_x=place.center_x * across, anchor_y=place.anchor_y * along
        )
    grain = np.asarray(panel.grain) * scale
    return dataclasses.replace(
        panel, edges=edges, placement=place, grain=grain / np.linalg.norm(grain)
    )


def _fitted_scale(
    pairs: list[tuple[Panel, str, Panel, str]], prior: tuple[float, float]
) -> tuple[float, float]:
    """One (across, along) scale for the sleeve panels (all alike, so their own seams still
    match): along is the arm's chart step (``prior[1]``); across the one whose edges sewn to
    graded pieces best keep their new lengths (relative least squares), within 0.7-1.4."""
    from scipy.optimize import least_squares

    if not pairs:
        return prior
    steps = [np.diff(sample_edge(panel.edge(mine), 16), axis=0) for panel, mine, _, _ in pairs]
    targets = np.array([other.edge(name).length for _, _, other, name in pairs])

    def residuals(across: np.ndarray) -> np.ndarray:
        scale = np.array([across[0], prior[1]])
        return np.array([np.linalg.norm(d * scale, axis=1).sum() for d in steps]) / targets - 1.0

    fit = least_squares(residuals, x0=np.array([prior[0]]), bounds=(0.7, 1.4))
    return float(fit.x[0]), prior[1]


def grade_pattern(pattern: Pattern, size: str, *, chart: str = GRADING_CHART) -> Pattern:
    """``pattern`` (one size, drafted on GarmentCode's mean body) graded to ``size`` of
    ``chart`` (see the module notes); the base size returns its panels unchanged.

    Raises:
        ValueError: a size the chart does not have, or a pattern with no girth to grade.
    """
    labels, base = graded_sizes(pattern, chart=chart)
    if size not in labels:
        raise ValueError(f"unknown size {size!r} for {pattern.name!r}; expected one of {labels}")
    table = size_chart(chart)
    key, girth_name = _level(pattern)
    measured = pattern_measurements(pattern)
    girth = measured.get(girth_name)
    if not girth:
        raise ValueError(f"{pattern.name!r}: no {girth_name} round in the pattern to grade by")
    across = (girth + table[size][key] - table[base][key]) / girth
    along = table[size]["stature"] / table[base]["stature"]
    body = {
        p.name: _scaled_panel(p, across, along)
        for p in pattern.panels
        if p.placement is None or not p.placement.part.startswith("arm")
    }
    # a sleeve keeps fitting its armhole: its own across/along scales are the ones whose
    # seams to the graded body pieces keep their lengths (nearest the arm's chart steps)
    sleeve_round = 2.0 * measured.get("sleeve_width", 0.0)
    arm_across = (
        (sleeve_round + table[size]["upper_arm"] - table[base]["upper_arm"]) / sleeve_round
        if sleeve_round > 0
        else across
    )
    arm_along = table[size]["arm_length"] / table[base]["arm_length"]
    arms = [p for p in pattern.panels if p.name not in body]
    pairs = [
        (panel, edge_mine, body[other], edge_other)
        for panel in arms
        for seam in pattern.seams
        for mine, edge_mine, other, edge_other in (
            (seam.panel_a, seam.edge_a, seam.panel_b, seam.edge_b),
            (seam.panel_b, seam.edge_b, seam.panel_a, seam.edge_a),
        )
        if mine == panel.name and other in body
    ]
    arm_scale = _fitted_scale(pairs, (arm_across, arm_along))
    sleeves = {p.name: _scaled_panel(p, *arm_scale) for p in arms}
    arm_across, arm_along = arm_scale
    panels = tuple(body.get(p.name) or sleeves[p.name] for p in pattern.panels)
    girths = {level: (value * across, y * along) for level, (value, y) in pattern.girths_m.items()}
    graded = {p.name: p for p in panels}
    already = set(pattern.metadata.get("gathered_seams", ()))
    eased = [
        seam.label
        for seam in pattern.seams
        if seam.label not in already
        and abs(
            graded[seam.panel_a].edge(seam.edge_a).length
            - graded[seam.panel_b].edge(seam.edge_b).length
        )
        > _EASE_SHARE
        * max(
            graded[seam.panel_a].edge(seam.edge_a).length,
            graded[seam.panel_b].edge(seam.edge_b).length,
        )
    ]
    metadata = {
        **pattern.metadata,
        # a sleeve cap a little longer or shorter than its graded armhole is eased in, as a
        # tailor sets a sleeve (the sleeve's two directions cannot follow the torso's exactly)
        "gathered_seams": (*pattern.metadata.get("gathered_seams", ()), *eased),
        "graded": {
            "chart": chart,
            "base": base,
            "width_scale": across,
            "length_scale": along,
            "eased_seams": eased,
            "sleeve_width_scale": arm_across,
            "sleeve_length_scale": arm_along,
        },
    }
    return dataclasses.replace(
        pattern, size=size, panels=panels, girths_m=girths, metadata=metadata
    )
