"""Placing a pattern mesh around a body: each panel wrapped around its body part.

Each part (trunk, each arm, each leg) gets an axis (for an arm, a centre line bent at the
elbow) and, along it, a cross-section profile:
the body's largest radius per direction (5 degree bins, dilated by one bin, over a slab of
+-2.5 cm); on the trunk, where the axis lies inside the body, the first exit of a ray through
the whole body's cross-section instead, so an arm joined to the trunk counts as surface and
cloth in the crevice beside an arm keeps to its middle. The profile is grown by a clearance
and, where the garment is wider than the body, scaled up until its perimeter equals the
garment's. A panel's pattern x is laid along that profile as arc length from the panel's
centre line (so horizontal pattern distances are kept), its pattern y along the axis.
Bodice underarms start below the armpit's apex and sleeve caps reach past it; above the
crotch the trouser panels share one loop around the pelvis. A final pass
(``garments._clearance``) moves whatever still comes near the skin or passes through it
out, with its neighbours. Seams are left open for the simulation to close.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np

from tryon3d.garments._body_tubes import (
    _STEP_M,
    _arm_part,
    _armpit_height,
    _armpit_reach,
    _ChainPart,
    _Part,
    _region_mask,
)
from tryon3d.garments._bodycache import body_data
from tryon3d.garments._clearance import _MIDLINE_GAP_M, _body_surface, _settle
from tryon3d.garments._pattern import Panel, Pattern, panel_spans, panel_widths

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body

__all__ = ["place_pattern_mesh", "prepare_body"]

#: A row whose panels cover less of the part's perimeter than this fraction is left partial
#: (a sleeve cap, a neckline); from _CLOSE_FULL up its panels are stretched around the whole
#: perimeter, so the seams around a body part start closed instead of gaping across it.
_CLOSE_START = 0.5
_CLOSE_FULL = 0.75


def _arc_place(
    part: _Part, t: float, s: np.ndarray, phi0: np.ndarray, required: float, clearance: float
) -> np.ndarray:
    """Points at arc lengths ``s`` from angle ``phi0`` on the part's profile at ``t``.

    A row wider than the profile's perimeter widens the profile; a row that covers most of it
    (``_CLOSE_START``..``_CLOSE_FULL``) is stretched along the profile so its side seams meet:
    a body part thicker than the garment (a big arm in an M sleeve) then starts inside a closed,
    stretched tube rather than an open one whose seams would be sewn across the body.
    """
    center, r, limit = part.profile(t, clearance)
    phi = part.phi
    perimeter = _perimeter(r, phi)
    coverage = required / max(perimeter, 1e-9)
    for _ in range(4):  # widen where there is room: a crevice's cloth stays in its middle
        if required <= perimeter * (1.0 + 1e-3):
            break
        r = np.minimum(r * required / perimeter, np.maximum(limit, r))
        perimeter = _perimeter(r, phi)
    if 0.0 < coverage < 1.0:
        x = float(np.clip((coverage - _CLOSE_START) / (_CLOSE_FULL - _CLOSE_START), 0.0, 1.0))
        x *= part.closing(t)
        s = s * (1.0 + (1.0 / coverage - 1.0) * x * x * (3.0 - 2.0 * x))
    dense_phi = np.linspace(-np.pi, np.pi, 721)
    dense_r = np.interp(dense_phi, phi, r, period=2 * np.pi)
    pts = np.stack([dense_r * np.cos(dense_phi), dense_r * np.sin(dense_phi)], axis=1)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
    total = arc[-1]
    arc0 = np.interp(np.mod(phi0 + np.pi, 2 * np.pi) - np.pi, dense_phi, arc)
    target = np.mod(arc0 + s, total)
    out_phi = np.interp(target, arc, dense_phi)
    out_r = np.interp(out_phi, dense_phi, dense_r)
    points = part.point(t, center, out_phi, out_r)
    if part.midline_sign:  # trouser legs: never cross the body's midline plane x = 0
        side_x = points[:, 0] * part.midline_sign
        points[:, 0] = part.midline_sign * np.maximum(side_x, _MIDLINE_GAP_M)
    return points


def _perimeter(r: np.ndarray, phi: np.ndarray) -> float:
    xy = np.stack([r * np.cos(phi), r * np.sin(phi)], axis=1)
    return float(np.linalg.norm(np.diff(np.vstack([xy, xy[:1]]), axis=0), axis=1).sum())


def _required_widths(
    pattern: Pattern, panel_ids: list[int], pattern_positions: np.ndarray, vertex_panels: np.ndarray
) -> dict[int, float]:
    """Summed width [m] of the given panels per pattern row key (y / ``_STEP_M``)."""
    required: dict[int, float] = {}
    for index in panel_ids:
        keys, widths = _widths_by_row(
            pattern.panels[index], pattern_positions[vertex_panels == index]
        )
        for k, w in zip(keys.tolist(), widths.tolist(), strict=True):
            required[k] = required.get(k, 0.0) + w
    return required


def _rise_x(panel: Panel, ys: np.ndarray, center_x: float) -> np.ndarray | None:
    """Pattern x [m] of a trouser panel's inner (rise and crotch) side at heights ``ys``,
    or None for a panel without a ``rise`` edge."""
    names = [e.name for e in panel.edges]
    if "rise" not in names:
        return None
    inner_left = float(panel.edge("rise").start[0]) < center_x
    spans = panel_spans(panel, np.clip(ys, ys.min() + 1e-6, ys.max() - 1e-6))
    return spans[:, 0] if inner_left else spans[:, 1]


def _widths_by_row(panel: Panel, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row keys (pattern y / ``_STEP_M``) of a panel's vertices ``xy`` and the panel's width [m]
    at each row, measured on its outline: the few mesh vertices in a 1 cm row rarely include
    both ends, and widths read from them would zigzag from row to row."""
    keys = np.unique(np.round(xy[:, 1] / _STEP_M).astype(int))
    lo, hi = xy[:, 1].min(), xy[:, 1].max()
    return keys, panel_widths(panel, np.clip(keys * _STEP_M, lo + 1e-6, hi - 1e-6))


def place_pattern_mesh(
    pattern: Pattern,
    pattern_positions: np.ndarray,
    vertex_panels: np.ndarray,
    body: Body,
    *,
    clearance_m: float = 0.02,
    faces: np.ndarray | None = None,
) -> np.ndarray:
    """3D positions [m], shape (N, 3), of a triangulated pattern wrapped around ``body``.

    Args:
        pattern: the pattern (panels carry their ``Placement``).
        pattern_positions: 2D rest coordinates [m], shape (N, 2).
        vertex_panels: panel index per vertex, shape (N,).
        body: a ``bodyfit.Body`` (its rest A-pose is used).
        clearance_m: gap kept between the cloth and the skin [m].
        faces: the mesh triangles, shape (F, 3); edges crossing the body are pushed out.
            None: a per-panel Delaunay triangulation of the pattern stands in.

    Raises:
        ValueError: a panel has no placement, or the body lacks the needed regions.
    """
    vertices = np.asarray(body.rest_vertices)
    landmarks = body.landmarks_m
    z_waist = (
        float(landmarks["waist"][2]) if "waist" in landmarks else float(0.6 * vertices[:, 2].max())
    )
    z_shoulder = _shoulder_z(body, vertices)
    z_crotch = (
        float(landmarks["crotch"][2])
        if "crotch" in landmarks
        else float(vertices[_region_mask(body, "leg_left", "leg_right"), 2].max())
    )
    cached = body_data(body)  # the parts and armpit probes depend only on the body
    parts: dict[str, _Part] = {}

    def part_for(name: str) -> _Part:
        if name not in parts:
            if ("part", name) not in cached:
                cached["part", name] = _body_part(body, name, vertices)
            parts[name] = copy.copy(cached["part", name])  # this placement sets its open_span
        return parts[name]

    def armpit_z() -> float | None:
        """The lower armpit apex [m] (None: no opening found on either side)."""
        if "armpit_apex" not in cached:
            found = [
                _armpit_height(body, part_for("torso"), side, z_shoulder)
                for side in ("left", "right")
            ]
            cached["armpit_apex"] = min((z for z in found if z is not None), default=None)
        return cached["armpit_apex"]

    def armpit_reach(part: _Part, side_name: str, top: float) -> float | None:
        if ("armpit_reach", side_name) not in cached:
            cached["armpit_reach", side_name] = _armpit_reach(body, part, side_name, top)
        return cached["armpit_reach", side_name]

    positions = np.zeros((len(pattern_positions), 3))
    midline = np.zeros(len(pattern_positions))  # +-1 for trouser-leg vertices (their side of x = 0)
    # required perimeter per part and pattern row: the summed widths of that part's panels
    by_part: dict[str, list[int]] = {}
    for index, panel in enumerate(pattern.panels):
        if panel.placement is None:
            raise ValueError(f"panel {panel.name!r} has no placement; cannot put it on a body")
        by_part.setdefault(panel.placement.part, []).append(index)
    required = {
        name: _required_widths(pattern, ids, pattern_positions, vertex_panels)
        for name, ids in by_part.items()
    }
    # above the crotch the four trouser panels share one loop around the pelvis, each laid
    # from its rise at the centre front or back: around half the pelvis alone, a leg panel
    # would close over the cut at x = 0, inside the body
    pelvis_required: dict[int, float] = {}
    for name in ("leg_left", "leg_right"):
        for k, w in required.get(name, {}).items():
            pelvis_required[k] = pelvis_required.get(k, 0.0) + w
    for part_name, panel_ids in by_part.items():
        part = part_for(part_name)
        for index in panel_ids:
            panel = pattern.panels[index]
            place = panel.placement
            if place is None:  # by_part holds placed panels only
                raise ValueError(f"panel {panel.name!r} has no placement")
            sel = np.flatnonzero(vertex_panels == index)
            xy = pattern_positions[sel]
            s_values = xy[:, 0] - place.center_x
            rise: np.ndarray | None = None
            if place.anchor == "arm_top":
                side_name = part_name.split("_")[1]
                acr = landmarks.get("acromion_" + side_name)
                top = part.t.min() if acr is None else part.t_of(acr)
                depth = place.anchor_y - xy[:, 1]
                cap = _seam_bottom_y(pattern, index)
                reach = armpit_reach(part, side_name, top) if cap is not None else None
                if reach is not None and cap is not None and place.anchor_y - cap > 0:
                    # the cap's underarm point starts out along the arm past the armpit
                    depth = _stretch_top(
                        depth, place.anchor_y - cap, reach + _ARMPIT_MARGIN_M - top
                    )
                    part.open_span = (-np.inf, reach)
                t_values = _lift_cuff(top + depth, part)
            elif place.anchor == "shoulder":
                z0 = z_shoulder + clearance_m
                drop = place.anchor_y - xy[:, 1]
                underarm = _seam_bottom_y(pattern, index)
                apex = (
                    armpit_z() if underarm is not None and place.anchor_y - underarm > 0 else None
                )
                if apex is not None and underarm is not None:
                    # the underarm point starts below the armpit's apex; above it rows stay open
                    drop = _stretch_top(
                        drop, place.anchor_y - underarm, z0 - apex + _ARMPIT_MARGIN_M
                    )
                    part.open_span = (apex, np.inf)
                t_values = z0 - drop
            else:
                z0 = z_waist
                if part_name.startswith("leg"):
                    crotch_y = _crotch_y(pattern, index, pattern_positions, vertex_panels)
                    if crotch_y is not None:
                        z0 = min(z0, z_crotch - clearance_m - (crotch_y - place.anchor_y))
                t_values = z0 + (xy[:, 1] - place.anchor_y)
                if part_name.startswith("leg"):
                    t_values = _lift_hem(t_values, vertices, body, z_crotch, clearance_m)
                    midline[sel] = part.midline_sign
                    rise = _rise_x(panel, xy[:, 1], place.center_x)
            phi0 = np.pi if place.side == "back" else 0.0
            rows = np.round(xy[:, 1] / _STEP_M).astype(int)
            for k in np.unique(rows):
                in_row = rows == k
                t = float(np.mean(t_values[in_row]))
                if rise is not None and t > z_crotch:
                    row_part, row_required, s = (
                        part_for("skirt"),
                        pelvis_required,
                        xy[in_row, 0] - rise[in_row],
                    )
                else:
                    row_part, row_required, s = part, required[part_name], s_values[in_row]
                pts = _arc_place(
                    row_part,
                    t,
                    s,
                    np.full(in_row.sum(), phi0),
                    row_required.get(int(k), 0.0),
                    clearance_m,
                )
                # keep each vertex's own height along the axis (rows are 1 cm bands)
                pts += ((t_values[in_row] - t)[:, None]) * row_part.axis_at(t)
                positions[sel[in_row]] = pts
    if faces is None:
        faces = _mesh_faces_from_panels(pattern_positions, vertex_panels)
    return _settle(positions, np.asarray(faces), body, clearance_m, midline)


def prepare_body(body: Body) -> None:
    """Compute and cache what placing any garment on ``body`` needs from the body alone (its
    surface tree, trunk, skirt, arm and leg profiles, armpit apex and reaches), so that later
    placements on it, here or in processes forked from here, skip that work.

    Raises:
        ValueError: the body lacks the regions a part needs.
    """
    vertices = np.asarray(body.rest_vertices)
    cached = body_data(body)
    _body_surface(body)
    for name in ("torso", "skirt", "arm_left", "arm_right", "leg_left", "leg_right"):
        if ("part", name) not in cached:
            cached["part", name] = _body_part(body, name, vertices)
    landmarks = body.landmarks_m
    for side in ("left", "right"):
        if ("armpit_reach", side) not in cached:
            arm, acr = cached["part", "arm_" + side], landmarks.get("acromion_" + side)
            top = arm.t.min() if acr is None else arm.t_of(acr)
            cached["armpit_reach", side] = _armpit_reach(body, arm, side, top)
    if "armpit_apex" not in cached:
        found = [
            _armpit_height(body, cached["part", "torso"], side, _shoulder_z(body, vertices))
            for side in ("left", "right")
        ]
        cached["armpit_apex"] = min((z for z in found if z is not None), default=None)


def _shoulder_z(body: Body, vertices: np.ndarray) -> float:
    landmarks = body.landmarks_m
    acromion = [landmarks[k] for k in ("acromion_left", "acromion_right") if k in landmarks]
    if acromion:
        return float(np.mean([a[2] for a in acromion]))
    return float(vertices[_region_mask(body, "arm_left", "arm_right"), 2].max())


def _body_part(body: Body, name: str, vertices: np.ndarray) -> _Part:
    """The part ``name`` of the body (``PART_NAMES`` or ``"skirt"``, the trunk with both legs)."""
    up, front, side = (
        np.array([0.0, 0.0, 1.0]),
        np.array([0.0, -1.0, 0.0]),
        np.array([1.0, 0.0, 0.0]),
    )
    if name == "torso":
        mask = _region_mask(body, "torso", "neck", "leg_left", "leg_right")
        return _Part(
            np.zeros(3),
            up,
            front,
            side,
            vertices[mask],
            body_triangles=vertices[np.asarray(body.faces)],
        )
    if name == "skirt":
        mask = _region_mask(body, "torso", "leg_left", "leg_right")
        return _Part(np.zeros(3), up, front, side, vertices[mask])
    if name.startswith("leg"):
        sign = 1.0 if name.endswith("left") else -1.0
        mask = _region_mask(body, name) | (
            _region_mask(body, "torso") & (vertices[:, 0] * sign > 0)
        )
        return _Part(np.zeros(3), up, front, side, vertices[mask], midline_sign=sign)
    return _arm_part(body, name, vertices, up)


#: A sleeve's hem starts at least this far [m] above (shoulder side of) the wrist joint.
_CUFF_ABOVE_WRIST_M = 0.02
#: How far the underarm seam point starts below the armpit's apex (and out along the arm) [m].
_ARMPIT_MARGIN_M = 0.01


def _stretch_top(depth: np.ndarray, span: float, wanted: float) -> np.ndarray:
    """Depths [m] below a panel's anchor with the first ``span`` stretched to ``wanted`` when
    that is longer (the rest shifted along): a seam point kept off a tight armpit."""
    if wanted <= span:
        return depth
    return np.where(depth <= span, depth * wanted / span, depth + wanted - span)


def _seam_bottom_y(pattern: Pattern, index: int) -> float | None:
    """Lowest pattern y [m] of a panel's edges sewn to a panel on another body part (a
    bodice's armholes, a sleeve's cap) or, without such seams, of its ``armhole*`` edges;
    None if it has neither."""
    panel = pattern.panels[index]
    part = panel.placement.part if panel.placement else None
    by_name = {p.name: p for p in pattern.panels}
    ys = []
    for seam in pattern.seams:
        for mine, other, edge in (
            (seam.panel_a, seam.panel_b, seam.edge_a),
            (seam.panel_b, seam.panel_a, seam.edge_b),
        ):
            placement = by_name[other].placement
            if mine == panel.name and placement is not None and placement.part != part:
                ys.append(min(float(panel.edge(edge).start[1]), float(panel.edge(edge).end[1])))
    if not ys:  # sleeveless: the armholes are open edges
        ys = [
            min(float(e.start[1]), float(e.end[1]))
            for e in panel.edges
            if e.name.startswith("armhole")
        ]
    return min(ys) if ys else None


def _mesh_faces_from_panels(pattern_positions: np.ndarray, vertex_panels: np.ndarray) -> np.ndarray:
    """Per-panel Delaunay faces of the pattern (only used to find edges that cross the body)."""
    from scipy.spatial import Delaunay

    faces = []
    for index in np.unique(vertex_panels):
        ids = np.flatnonzero(vertex_panels == index)
        tri = Delaunay(pattern_positions[ids]).simplices
        faces.append(ids[tri])
    return np.concatenate(faces)


def _squeeze_past(values: np.ndarray, pivot: float, limit: float) -> np.ndarray:
    """Squeeze the values beyond ``pivot`` (on the side of ``limit``) linearly so that none
    passes ``limit``; values on the other side of the pivot, and all values when none passes,
    stay as they are."""
    ahead = np.sign(limit - pivot)
    extreme = float(values.max() if ahead > 0 else values.min())
    if ahead == 0 or (extreme - limit) * ahead <= 0.0:
        return values
    beyond = (values - pivot) * ahead > 0.0
    out = values.copy()
    out[beyond] = pivot + (values[beyond] - pivot) * (limit - pivot) / (extreme - pivot)
    return out


def _lift_hem(
    t_values: np.ndarray, vertices: np.ndarray, body: Body, z_crotch: float, clearance: float
) -> np.ndarray:
    """Squeeze the part of a trouser leg below the knee so the hem stays above the feet."""
    feet = _region_mask(body, "foot_left", "foot_right")
    z_floor = (float(vertices[feet, 2].max()) if feet.any() else 0.1) + clearance
    return _squeeze_past(t_values, 0.5 * (z_crotch + z_floor), z_floor)


def _lift_cuff(t_values: np.ndarray, part: _Part) -> np.ndarray:
    """Squeeze the part of a sleeve below the elbow so its hem starts above the wrist: a hem
    placed round the hand closes round the thumb (the sim cannot pull it off); from above the
    wrist the sleeve slides down under gravity to where it rests."""
    if not isinstance(part, _ChainPart):  # no elbow and wrist joints to go by
        return t_values
    t_elbow, t_wrist = float(part.cum[2]), float(part.cum[3])
    return _squeeze_past(t_values, t_elbow, t_wrist - _CUFF_ABOVE_WRIST_M)


def _crotch_y(pattern: Pattern, index: int, xy: np.ndarray, panels: np.ndarray) -> float | None:
    panel = pattern.panels[index]
    names = [e.name for e in panel.edges]
    if "crotch" not in names:
        return None
    return float(panel.edge("crotch").end[1])
