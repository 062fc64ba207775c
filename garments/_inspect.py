"""Pattern measurements and the ``garments inspect`` outputs (pieces SVG, sidecar template)."""

from __future__ import annotations

import html
import itertools
import json
import os
from pathlib import Path

import numpy as np

from tryon3d.garments._pattern import Panel, Pattern, panel_outline, panel_widths

__all__ = ["inspect_pattern_file", "pattern_measurements"]

_CHEST_BELOW_UNDERARM = 0.025  # the chest line, as the families draft it [m]
_WAIST_TO_HIP = 0.20  # where a skirt's hip round is taken, under its waist [m]
_HIP_SHARE_OF_RISE = 0.8  # a short rise's hip round: this share of the way down to the crotch
_THIGH_UNDER_CROTCH = 0.025  # a leg's thigh round: this far under the crotch line [m]


def _underarm_y(panel: Panel) -> float | None:
    ys = [float(e.points[:, 1].min()) for e in panel.edges if e.name.startswith("armhole")]
    return min(ys) if ys else None


def _leg_measurements(pattern: Pattern) -> dict[str, float]:
    """Trousers' and leggings' measurements [m] from their leg panels (``leg_left``/``leg_right``
    parts with ``crotch`` edges), each levelled on its waist anchor (the outseam's top)."""
    legs = [
        p
        for p in pattern.panels
        if p.placement is not None
        and p.placement.part.startswith("leg")
        and "crotch" in {e.name for e in p.edges}
    ]
    if not legs:
        return {}

    def names(panel: Panel) -> set[str]:
        return {e.name for e in panel.edges}

    anchors = [float(p.placement.anchor_y) for p in legs if p.placement is not None]
    # the crotch point: the crotch edge's low end (a mirrored panel's edges run backwards)
    crotch = min(
        a - float(p.edge("crotch").points[:, 1].min()) for p, a in zip(legs, anchors, strict=True)
    )

    def round_at(depth: float) -> float:
        return float(
            sum(
                panel_widths(p, np.array([a - depth]))[0]
                for p, a in zip(legs, anchors, strict=True)
            )
        )

    fronts = [p for p in legs if p.placement is not None and p.placement.side == "front"]
    backs = [p for p in legs if p.placement is not None and p.placement.side == "back"]
    out = {
        # along the waist seam: a slanted waist's rows cut across its edge
        "waist": float(sum(p.edge("waist").length for p in legs if "waist" in names(p))),
        # the hip round: 20 cm under the waist, a low rise's 80 % of the way to the crotch
        "hips": round_at(min(_WAIST_TO_HIP, _HIP_SHARE_OF_RISE * crotch)),
        "thigh": 0.5 * round_at(crotch + _THIGH_UNDER_CROTCH),
        "outseam": max(p.edge("outseam").length for p in legs if "outseam" in names(p)),
    }
    if fronts:
        out["inseam"] = fronts[0].edge("inseam").length
        out["front_rise"] = fronts[0].edge("rise").length + fronts[0].edge("crotch").length
    if backs:
        out["back_rise"] = backs[0].edge("rise").length + backs[0].edge("crotch").length
    bottom = min(float(panel_outline(p)[:, 1].min()) for p in legs)
    out["leg_opening"] = 0.5 * float(
        sum(panel_widths(p, np.array([bottom + 0.005]))[0] for p in legs)
    )
    return out


def pattern_measurements(pattern: Pattern) -> dict[str, float]:
    """Finished-garment measurements [m] taken from the pattern itself (no size chart).

    Keys (present when the pattern has the pieces): ``chest`` (all torso pieces' widths
    2.5 cm under the underarm, added round), ``waist`` (the narrowest round between the
    chest line and 5 cm above the hem; a skirt's round at its top), ``hips`` (a skirt's round
    20 cm under its waist), ``hem`` (round at the hem), ``length`` (the longest
    torso piece, top to hem), ``shoulder_to_hem`` (from the shoulder point; a skirt's
    ``waist_to_hem``), ``sleeve_length``
    (cap top to hem), ``sleeve_width`` (across the sleeve at the underarm, flat). Trousers and
    leggings (leg panels): ``waist`` (along the waist edges), ``hips`` (round 20 cm under
    the waist, at most 80 % of the way to the crotch line), ``thigh`` (one leg's round 2.5 cm
    under the crotch), ``outseam``, ``inseam``, ``front_rise``/``back_rise`` (waist to crotch
    point along the centre seam) and ``leg_opening`` (one leg's round at the hem).
    Torso pieces are levelled on their shoulder anchors (``Placement.anchor_y``).

    Raises:
        TypeError: not a Pattern.
    """
    if not isinstance(pattern, Pattern):
        raise TypeError(f"pattern_measurements expects a Pattern, got {type(pattern).__name__}")
    torso = [
        p
        for p in pattern.panels
        if p.placement is not None and p.placement.part in ("torso", "skirt")
    ]
    out: dict[str, float] = {}
    if torso:
        places = [p.placement for p in torso if p.placement is not None]  # all, as filtered
        anchors = [place.anchor_y for place in places]
        bottoms = [float(panel_outline(p)[:, 1].min()) for p in torso]
        tops = [float(panel_outline(p)[:, 1].max()) for p in torso]
        out["length"] = max(t - b for t, b in zip(tops, bottoms, strict=True))
        drop = min(
            a - b for a, b in zip(anchors, bottoms, strict=True)
        )  # shoulder to the shortest hem

        def round_at(depth: float) -> float:
            return float(
                sum(
                    panel_widths(p, np.array([a - depth]))[0]
                    for p, a in zip(torso, anchors, strict=True)
                )
            )

        skirt = all(place.anchor == "waist" for place in places)
        out["waist_to_hem" if skirt else "shoulder_to_hem"] = drop
        out["hem"] = round_at(drop - 0.005)
        if skirt:
            # skirts hang from the waist: the waist round at the top, the hips 20 cm under it
            out["waist"] = round_at(1e-4)
            out["hips"] = round_at(min(_WAIST_TO_HIP, drop - 0.01))
        unders = [
            (a - u)
            for p, a in zip(torso, anchors, strict=True)
            if (u := _underarm_y(p)) is not None
        ]
        if unders:
            chest_depth = float(np.mean(unders)) + _CHEST_BELOW_UNDERARM
            out["chest"] = round_at(chest_depth)
            depths = np.linspace(chest_depth + 0.05, drop - 0.05, 40)
            if len(depths) and depths[0] < depths[-1]:
                out["waist"] = min(round_at(float(d)) for d in depths)
    out.update(_leg_measurements(pattern))
    sleeves = [
        p for p in pattern.panels if p.placement is not None and p.placement.part.startswith("arm")
    ]
    if sleeves:
        outline = panel_outline(sleeves[0])
        out["sleeve_length"] = float(np.ptp(outline[:, 1]))
        caps = [e for e in sleeves[0].edges if e.name.startswith("cap")]
        level = (
            min(float(e.points[:, 1].min()) for e in caps) + 1e-4
            if caps
            else float(outline[:, 1].max()) - 0.1
        )
        out["sleeve_width"] = float(panel_widths(sleeves[0], np.array([level]))[0])
    return out


def _svg(
    pieces: list[tuple[str, str, np.ndarray, list[tuple[int, str, np.ndarray]]]], seams: list[list]
) -> str:
    """Pieces side by side [cm]: outline, numbered edges, role; seams as shared colours."""
    colours = [
        "#d62728",
        "#1f77b4",
        "#2ca02c",
        "#9467bd",
        "#ff7f0e",
        "#8c564b",
        "#e377c2",
        "#17becf",
        "#bcbd22",
        "#7f7f7f",
    ]
    seam_colour = {}
    for k, seam in enumerate(seams):
        seam_colour[(seam[0], seam[1])] = seam_colour[(seam[2], seam[3])] = (
            colours[k % len(colours)],
            k + 1,
        )
    body, x0, height = [], 2.0, 0.0
    placed = []
    for name, role, outline, edges in pieces:
        cm = outline * 100.0
        lo = cm.min(axis=0)
        placed.append((name, role, x0 - lo[0], -lo[1], cm, edges))
        x0 += float(np.ptp(cm[:, 0])) + 6.0
        height = max(height, float(np.ptp(cm[:, 1])))
    for name, role, dx, dy, cm, edges in placed:

        def pt(p: np.ndarray, dx: float = dx, dy: float = dy) -> str:
            return f"{p[0] * 100 + dx:.2f},{height + 4 - (p[1] * 100 + dy):.2f}"

        ring = " ".join(f"{x + dx:.2f},{height + 4 - (y + dy):.2f}" for x, y in cm)
        body.append(f'<polygon points="{ring}" fill="#f4f1ea" stroke="#999" stroke-width="0.15"/>')
        for index, edge_name, points in edges:
            colour, number = seam_colour.get((name, edge_name), ("#333", None))
            line = " ".join(pt(p) for p in points)
            width = 0.6 if number else 0.25
            body.append(
                f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="{width}"/>'
            )
            mid = points[len(points) // 2]
            label = f"{index}:{edge_name}" + (f" (seam {number})" if number else "")
            body.append(
                f'<text x="{pt(mid).split(",")[0]}" y="{pt(mid).split(",")[1]}" font-size="1.6" '
                f'fill="{colour}">{html.escape(label)}</text>'
            )
        body.append(
            f'<text x="{dx + cm[:, 0].min():.2f}" y="{height + 9:.2f}" font-size="2.2">'
            f"{html.escape(name)}: {html.escape(role)}</text>"
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {x0:.1f} {height + 12:.1f}" '
        f'width="{x0 * 4:.0f}" height="{(height + 12) * 4:.0f}">\n' + "\n".join(body) + "\n</svg>\n"
    )


def inspect_pattern_file(path: str | os.PathLike, *, size: str | None = None) -> dict[str, str]:
    """What tryon3d makes of a DXF pattern: ``{"pieces.svg": svg, "sidecar.template.json": text,
    "summary": one line}``. Works when inference fails too (the template then says what to fill).

    Raises:
        ValueError: unreadable file or unknown size.
    """
    from tryon3d.garments._dxf import read_dxf_file
    from tryon3d.garments._io import _choose_size
    from tryon3d.garments._roles import (
        ROLES,
        common_prefix,
        infer_role,
        pattern_from_dxf,
        read_sidecar,
    )

    path = Path(path)
    read = read_dxf_file(path)
    chosen = _choose_size(path, list(read.sizes), size, read.sample_size)
    sidecar = read_sidecar(path)
    prefix = common_prefix(read.piece_names())
    roles = {
        p.name: (sidecar.get("pieces", {}).get(p.name) or infer_role(p, prefix))
        for p in read.size_pieces(chosen)
    }
    try:
        pattern = pattern_from_dxf(read, chosen, sidecar=sidecar)
        problem = ""
    except ValueError as exc:
        pattern, problem = None, str(exc)
    pieces, seams = [], []
    if pattern is not None:
        seams = [[s.panel_a, s.edge_a, s.panel_b, s.edge_b] for s in pattern.seams]
        source = pattern.metadata["pieces"]
        for panel in pattern.panels:
            key = panel.name
            if panel.name.startswith("sleeve"):
                key = "sleeve"
            elif panel.name.startswith(("front_", "back_")):  # trouser panels: the leg pieces
                key = "leg_" + panel.name.split("_")[0]
            origin = source.get(key) or source.get("leg", "")
            edges = [(k, e.name, e.points) for k, e in enumerate(panel.edges)]
            pieces.append((panel.name, f"{origin}", panel_outline(panel, 16), edges))
    used = set(pattern.metadata["pieces"].values()) if pattern is not None else set()
    for piece in read.size_pieces(chosen):
        if piece.name in used:
            continue
        ring = piece.boundary - piece.boundary.min(axis=0)
        corners = [*list(piece.corners), int(piece.corners[0]) + len(ring)]
        wrapped = np.vstack([ring, ring])
        edges = [
            (k, f"e{k}", wrapped[a : b + 1]) for k, (a, b) in enumerate(itertools.pairwise(corners))
        ]
        pieces.append((piece.name, roles.get(piece.name) or "no role", ring, edges))
    if pattern is not None:  # what was decided (a leg found by its shape, a piece left off)
        roles = {**roles, **pattern.metadata["roles"]}
    template = {
        "pieces": {
            name: role if role in ROLES else f"?  (one of {', '.join(ROLES)})"
            for name, role in roles.items()
        },
        "flip": [],
        "seams": seams,
    }
    summary = f"{path.name} size {chosen}: " + (
        f"{len(pattern.panels)} panels, {len(pattern.seams)} seams"
        if pattern is not None
        else f"not placeable: {problem}"
    )
    return {
        "pieces.svg": _svg(pieces, seams),
        "sidecar.template.json": json.dumps(template, indent=2) + "\n",
        "summary": summary,
    }
