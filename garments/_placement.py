"""Placing a pattern mesh around a body: each panel wrapped around its body part.

Each part (trunk, each arm, each leg) gets an axis (for an arm, a centre line bent at the
elbow) and, along it, a cross-section profile:
the body's largest radius per direction (5 degree bins, dilated by one bin, over a slab of
+-2.5 cm), grown by a clearance and, where the garment is wider than the body, scaled up
until its perimeter equals the garment's. A panel's pattern x is laid along that profile as
arc length from the panel's centre line (so horizontal pattern distances are kept), its
pattern y along the axis. A final pass pushes any vertex closer than the clearance to the
body out along the body normal. Seams are left open for the simulation to close.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from garments._pattern import Pattern

__all__ = ["place_pattern_mesh", "body_clearance", "body_intersections", "body_signed_distance"]

_BINS = 72
_SLAB_M = 0.025
_STEP_M = 0.01
_MIDLINE_GAP_M = 0.004
#: A row whose panels cover less of the part's perimeter than this fraction is left partial
#: (a sleeve cap, a neckline); from _CLOSE_FULL up its panels are stretched around the whole
#: perimeter, so the seams around a body part start closed instead of gaping across it.
_CLOSE_START = 0.5
_CLOSE_FULL = 0.75


def _region_mask(body: object, *names: str) -> np.ndarray:
    return body.region_mask(*names)  # type: ignore[attr-defined]


def _vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = vertices[faces]
    face_normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(normals, faces[:, k], face_normals)
    return normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)


class _Part:
    """An axis (origin + unit direction ``axis``, ``t`` along it) with an angular frame.

    Direction of angle phi around the axis: ``cos(phi) * e0 + sin(phi) * e1``; phi = 0 is
    the outward direction of a panel centred at ``phi0 = 0`` (front of trunk or leg, top of arm).
    """

    def __init__(self, origin: np.ndarray, axis: np.ndarray, e0: np.ndarray, e1: np.ndarray,
                 points: np.ndarray, midline_sign: float = 0.0) -> None:
        self.origin, self.axis, self.e0, self.e1 = origin, axis, e0, e1
        rel = points - origin
        self.t = rel @ axis
        self.u = rel @ e0
        self.v = rel @ e1
        self.midline_sign = midline_sign
        lo, hi = self.t.min(), self.t.max()
        self.grid = np.arange(lo, hi + _STEP_M, _STEP_M)
        self.centers = np.zeros((len(self.grid), 2))
        self.radii = np.zeros((len(self.grid), _BINS))
        phi_edges = np.linspace(-np.pi, np.pi, _BINS + 1)
        self.phi = 0.5 * (phi_edges[:-1] + phi_edges[1:])
        previous_center = np.array([np.median(self.u), np.median(self.v)])
        for i, t in enumerate(self.grid):
            sel = np.abs(self.t - t) <= _SLAB_M
            if sel.sum() < 8:
                self.centers[i] = previous_center
                self.radii[i] = self.radii[i - 1] if i else 0.05
                continue
            u, v = self.u[sel], self.v[sel]
            center = np.array([(u.min() + u.max()) / 2, (v.min() + v.max()) / 2])
            if midline_sign:  # leg parts keep their centre on their own side
                center = previous_center if i and abs(center[0] - previous_center[0]) > 0.05 else center
            previous_center = center
            self.centers[i] = center
            du, dv = u - center[0], v - center[1]
            r = np.hypot(du, dv)
            b = np.clip(((np.arctan2(dv, du) + np.pi) / (2 * np.pi) * _BINS).astype(int), 0, _BINS - 1)
            prof = np.zeros(_BINS)
            np.maximum.at(prof, b, r)
            filled = prof > 0
            if filled.sum() >= 3:
                idx = np.arange(_BINS)
                prof = np.interp(idx, idx[filled], prof[filled], period=_BINS)
            prof = np.maximum(prof, np.maximum(np.roll(prof, 1), np.roll(prof, -1)))
            self.radii[i] = prof

    def profile(self, t: float, clearance: float) -> tuple[np.ndarray, np.ndarray]:
        i = int(np.clip(round((t - self.grid[0]) / _STEP_M), 0, len(self.grid) - 1))
        return self.centers[i], self.radii[i] + clearance

    def point(self, t: float, center: np.ndarray, phi: np.ndarray, r: np.ndarray) -> np.ndarray:
        u = center[0] + r * np.cos(phi)
        v = center[1] + r * np.sin(phi)
        return self.origin + t * self.axis + u[:, None] * self.e0 + v[:, None] * self.e1

    def axis_at(self, t: float) -> np.ndarray:
        """Unit axis direction at ``t``, shape (3,)."""
        return self.axis

    def t_of(self, point: np.ndarray) -> float:
        """Axis coordinate [m] of a 3D point."""
        return float((np.asarray(point) - self.origin) @ self.axis)


class _ChainPart(_Part):
    """A part along a bent centre line (an arm: shoulder, elbow, wrist), ``t`` its arc length.

    Each 1 cm row has its own frame (the smoothed tangent, and the ``up`` direction made
    perpendicular to it as phi = 0); a row's profile is measured from the points whose
    closest centre-line point lies within ``_CHAIN_REACH_M`` of the row, so a slab across a
    bent elbow does not take in the other segment.
    """

    def __init__(self, knots: np.ndarray, points: np.ndarray, up: np.ndarray) -> None:
        seg = np.diff(knots, axis=0)
        lengths = np.linalg.norm(seg, axis=1)
        dirs = seg / lengths[:, None]
        cum = np.concatenate([[0.0], np.cumsum(lengths)])
        self.knots, self.cum, self.dirs = knots, cum, dirs
        self.midline_sign = 0.0
        self.grid = np.arange(0.0, cum[-1] + _STEP_M, _STEP_M)
        n = len(self.grid)
        self.origins = np.array([self._on_line(t) for t in self.grid])
        axes = np.array([self._tangent(t) for t in self.grid])
        e0 = up[None, :] - (axes @ up)[:, None] * axes
        e0 /= np.maximum(np.linalg.norm(e0, axis=1, keepdims=True), 1e-12)
        self.axes, self.e0s, self.e1s = axes, e0, np.cross(e0, axes)
        # the part's overall frame (for callers that want one axis)
        self.origin, self.axis, self.e0, self.e1 = knots[0], axes[n // 2], e0[n // 2], self.e1s[n // 2]
        point_t = self._project(points)
        self.t = point_t
        self.centers = np.zeros((n, 2))
        self.radii = np.zeros((n, _BINS))
        phi_edges = np.linspace(-np.pi, np.pi, _BINS + 1)
        self.phi = 0.5 * (phi_edges[:-1] + phi_edges[1:])
        for i, t in enumerate(self.grid):
            rel = points - self.origins[i]
            sel = (np.abs(rel @ axes[i]) <= _SLAB_M) & (np.abs(point_t - t) <= _CHAIN_REACH_M)
            if sel.sum() < 8:
                self.centers[i] = self.centers[i - 1] if i else 0.0
                self.radii[i] = self.radii[i - 1] if i else 0.05
                continue
            u, v = rel[sel] @ e0[i], rel[sel] @ self.e1s[i]
            center = np.array([(u.min() + u.max()) / 2, (v.min() + v.max()) / 2])
            self.centers[i] = center
            du, dv = u - center[0], v - center[1]
            b = np.clip(((np.arctan2(dv, du) + np.pi) / (2 * np.pi) * _BINS).astype(int), 0, _BINS - 1)
            prof = np.zeros(_BINS)
            np.maximum.at(prof, b, np.hypot(du, dv))
            filled = prof > 0
            if filled.sum() >= 3:
                idx = np.arange(_BINS)
                prof = np.interp(idx, idx[filled], prof[filled], period=_BINS)
            self.radii[i] = np.maximum(prof, np.maximum(np.roll(prof, 1), np.roll(prof, -1)))

    def _index(self, t: float) -> int:
        return int(np.clip(round(t / _STEP_M), 0, len(self.grid) - 1))

    def _on_line(self, t: float) -> np.ndarray:
        k = int(np.clip(np.searchsorted(self.cum, t, side="right") - 1, 0, len(self.dirs) - 1))
        return self.knots[k] + (t - self.cum[k]) * self.dirs[k]

    def _tangent(self, t: float) -> np.ndarray:
        # the segment directions blended over +-_CHAIN_BLEND_M around each joint
        weights = np.clip((np.minimum(t - self.cum[:-1], self.cum[1:] - t) + _CHAIN_BLEND_M) / (2 * _CHAIN_BLEND_M),
                          0.0, 1.0)
        if t <= 0.0:
            weights[0] = 1.0
        if t >= self.cum[-1]:
            weights[-1] = 1.0
        d = (weights[:, None] * self.dirs).sum(axis=0)
        return d / np.linalg.norm(d)

    def _project(self, points: np.ndarray) -> np.ndarray:
        best_d = np.full(len(points), np.inf)
        best_t = np.zeros(len(points))
        for k in range(len(self.dirs)):
            s = np.clip((points - self.knots[k]) @ self.dirs[k], 0.0, self.cum[k + 1] - self.cum[k])
            d = np.linalg.norm(points - (self.knots[k] + s[:, None] * self.dirs[k]), axis=1)
            better = d < best_d
            best_d[better], best_t[better] = d[better], self.cum[k] + s[better]
        return best_t

    def profile(self, t: float, clearance: float) -> tuple[np.ndarray, np.ndarray]:
        i = self._index(t)
        return self.centers[i], self.radii[i] + clearance

    def point(self, t: float, center: np.ndarray, phi: np.ndarray, r: np.ndarray) -> np.ndarray:
        i = self._index(t)
        u = center[0] + r * np.cos(phi)
        v = center[1] + r * np.sin(phi)
        return (self._on_line(t) + u[:, None] * self.e0s[i] + v[:, None] * self.e1s[i])

    def axis_at(self, t: float) -> np.ndarray:
        return self.axes[self._index(t)]

    def t_of(self, point: np.ndarray) -> float:
        return float(self._project(np.asarray(point, dtype=float)[None, :])[0])


def _arc_place(part: _Part, t: float, s: np.ndarray, phi0: np.ndarray, required: float, clearance: float) -> np.ndarray:
    """Points at arc lengths ``s`` from angle ``phi0`` on the part's profile at ``t``.

    A row wider than the profile's perimeter widens the profile; a row that covers most of it
    (``_CLOSE_START``..``_CLOSE_FULL``) is stretched along the profile so its side seams meet:
    a body part thicker than the garment (a big arm in an M sleeve) then starts inside a closed,
    stretched tube rather than an open one whose seams would be sewn across the body.
    """
    center, r = part.profile(t, clearance)
    phi = part.phi
    xy = np.stack([r * np.cos(phi), r * np.sin(phi)], axis=1)
    perimeter = np.linalg.norm(np.diff(np.vstack([xy, xy[:1]]), axis=0), axis=1).sum()
    r = r * max(1.0, required / max(perimeter, 1e-9))
    coverage = required / max(perimeter, 1e-9)
    if 0.0 < coverage < 1.0:
        x = float(np.clip((coverage - _CLOSE_START) / (_CLOSE_FULL - _CLOSE_START), 0.0, 1.0))
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
        x = points[:, 0] * part.midline_sign
        points[:, 0] = part.midline_sign * np.maximum(x, _MIDLINE_GAP_M)
    return points


def _widths_by_row(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.round(xy[:, 1] / _STEP_M).astype(int)
    keys = np.unique(rows)
    widths = np.array([np.ptp(xy[rows == k, 0]) for k in keys])
    return keys, widths


def place_pattern_mesh(pattern: Pattern, pattern_positions: np.ndarray, vertex_panels: np.ndarray,
                       body: object, *, clearance_m: float = 0.02, faces: np.ndarray | None = None) -> np.ndarray:
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
    vertices = np.asarray(body.rest_vertices)  # type: ignore[attr-defined]
    landmarks = body.landmarks_m  # type: ignore[attr-defined]
    up = np.array([0.0, 0.0, 1.0])
    z_waist = float(landmarks["waist"][2]) if "waist" in landmarks else float(0.6 * vertices[:, 2].max())
    acromion = [landmarks[k] for k in ("acromion_left", "acromion_right") if k in landmarks]
    if acromion:
        z_shoulder = float(np.mean([a[2] for a in acromion]))
    else:
        z_shoulder = float(vertices[_region_mask(body, "arm_left", "arm_right"), 2].max())
    z_crotch = float(landmarks["crotch"][2]) if "crotch" in landmarks else float(
        vertices[_region_mask(body, "leg_left", "leg_right"), 2].max())
    front, side = np.array([0.0, -1.0, 0.0]), np.array([1.0, 0.0, 0.0])
    parts: dict[str, _Part] = {}

    def part_for(name: str) -> _Part:
        if name in parts:
            return parts[name]
        if name == "torso":
            mask = _region_mask(body, "torso", "neck", "leg_left", "leg_right")
            parts[name] = _Part(np.zeros(3), up, front, side, vertices[mask])
        elif name == "skirt":
            mask = _region_mask(body, "torso", "leg_left", "leg_right")
            parts[name] = _Part(np.zeros(3), up, front, side, vertices[mask])
        elif name.startswith("leg"):
            sign = 1.0 if name.endswith("left") else -1.0
            mask = _region_mask(body, name) | (_region_mask(body, "torso") & (vertices[:, 0] * sign > 0))
            parts[name] = _Part(np.zeros(3), up, front, side, vertices[mask], midline_sign=sign)
        else:
            parts[name] = _arm_part(body, name, vertices, up)
        return parts[name]

    positions = np.zeros((len(pattern_positions), 3))
    midline = np.zeros(len(pattern_positions))  # +-1 for trouser-leg vertices (their side of x = 0)
    # required perimeter per part and pattern row: the summed widths of that part's panels
    by_part: dict[str, list[int]] = {}
    for index, panel in enumerate(pattern.panels):
        if panel.placement is None:
            raise ValueError(f"panel {panel.name!r} has no placement; cannot put it on a body")
        by_part.setdefault(panel.placement.part, []).append(index)
    for part_name, panel_ids in by_part.items():
        part = part_for(part_name)
        required: dict[int, float] = {}
        for index in panel_ids:
            keys, widths = _widths_by_row(pattern_positions[vertex_panels == index])
            for k, w in zip(keys.tolist(), widths.tolist(), strict=True):
                required[k] = required.get(k, 0.0) + w
        for index in panel_ids:
            panel = pattern.panels[index]
            place = panel.placement
            sel = np.flatnonzero(vertex_panels == index)
            xy = pattern_positions[sel]
            if place.anchor == "arm_top":
                acr = landmarks.get("acromion_" + part_name.split("_")[1])
                top = part.t.min() if acr is None else part.t_of(acr)
                t_values = top - (xy[:, 1] - place.anchor_y)
            else:
                if place.anchor == "shoulder":
                    z0 = z_shoulder + clearance_m
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
            phi0 = np.pi if place.side == "back" else 0.0
            rows = np.round(xy[:, 1] / _STEP_M).astype(int)
            for k in np.unique(rows):
                in_row = rows == k
                t = float(np.mean(t_values[in_row]))
                s = xy[in_row, 0] - place.center_x
                pts = _arc_place(part, t, s, np.full(in_row.sum(), phi0), required.get(int(k), 0.0), clearance_m)
                # keep each vertex's own height along the axis (rows are 1 cm bands)
                pts += ((t_values[in_row] - t)[:, None]) * part.axis_at(t)
                positions[sel[in_row]] = pts
    positions = _push_out(positions, body, clearance_m, midline)
    if faces is None:
        faces = _mesh_faces_from_panels(pattern_positions, vertex_panels)
    return _clear_crossing_edges(positions, np.asarray(faces), body, clearance_m, midline)


#: Joint names (anny, SMPL-X) of the shoulder and the elbow per side, for the arm profile cap.
_ARM_JOINTS = {
    "left": (("upperarm01.L", "left_shoulder"), ("lowerarm01.L", "left_elbow"), ("wrist.L", "left_wrist")),
    "right": (("upperarm01.R", "right_shoulder"), ("lowerarm01.R", "right_elbow"), ("wrist.R", "right_wrist")),
}
#: Near the shoulder an arm's profile may exceed the mid upper arm's by at most this factor.
_ARM_CAP_FACTOR = 1.15
#: A bent part's row profile takes points whose centre-line point is at most this far along.
_CHAIN_REACH_M = 0.08
#: A bent part's axis turns smoothly over +- this arc length around each joint [m].
_CHAIN_BLEND_M = 0.06


def _joint(body: object, names: tuple[str, ...]) -> np.ndarray | None:
    joint_names = list(getattr(body, "joint_names", ()) or ())
    joints = getattr(body, "rest_joints", None)
    for n in names:
        if n in joint_names and joints is not None:
            return np.asarray(joints)[joint_names.index(n)]
    return None


def _arm_part(body: object, name: str, vertices: np.ndarray, up: np.ndarray) -> _Part:
    """The arm's part: along the bent centre line shoulder - elbow - wrist where the body has
    those joints (a straight tube along the arm's principal axis would cut through a forearm
    bent forward ~45 degrees), else that principal axis. Its profile is measured only
    below the acromion and, above the mid upper arm, capped at ``_ARM_CAP_FACTOR`` times
    the mid upper arm's radius (the arm region there takes in the shoulder and armpit, a
    profile up to twice the real arm's, which a sleeve top would only half cover)."""
    side = name.split("_")[1]
    arm = vertices[_region_mask(body, name, "hand_" + side)]
    center = arm.mean(axis=0)
    _, _, vt = np.linalg.svd(arm - center, full_matrices=False)
    axis = vt[0] if vt[0][2] < 0 else -vt[0]
    outer = up - (up @ axis) * axis
    outer /= np.linalg.norm(outer)
    e1 = np.cross(outer, axis)
    acromion = body.landmarks_m.get("acromion_" + side)  # type: ignore[attr-defined]
    if acromion is not None:
        below = (arm - center) @ axis >= float((np.asarray(acromion) - center) @ axis)
        if below.sum() >= 0.5 * len(arm):
            arm = arm[below]
    shoulder, elbow, wrist = (_joint(body, names) for names in _ARM_JOINTS[side])
    part: _Part
    if shoulder is not None and elbow is not None and wrist is not None:
        upper = (elbow - shoulder) / np.linalg.norm(elbow - shoulder)
        lower = (wrist - elbow) / np.linalg.norm(wrist - elbow)
        knots = np.array([shoulder - 0.15 * upper, shoulder, elbow, wrist, wrist + 0.3 * lower])
        part = _ChainPart(knots, arm, up)
    else:
        part = _Part(center, axis, outer, e1, arm)
    if shoulder is not None and elbow is not None:
        t_mid = part.t_of(0.5 * (shoulder + elbow))
        i_mid = int(np.clip(round((t_mid - part.grid[0]) / _STEP_M), 0, len(part.grid) - 1))
        cap = _ARM_CAP_FACTOR * part.radii[i_mid]
        part.radii[:i_mid] = np.minimum(part.radii[:i_mid], cap)
    return part


def _mesh_faces_from_panels(pattern_positions: np.ndarray, vertex_panels: np.ndarray) -> np.ndarray:
    """Per-panel Delaunay faces of the pattern (only used to find edges that cross the body)."""
    from scipy.spatial import Delaunay

    faces = []
    for index in np.unique(vertex_panels):
        ids = np.flatnonzero(vertex_panels == index)
        tri = Delaunay(pattern_positions[ids]).simplices
        faces.append(ids[tri])
    return np.concatenate(faces)


def _crossing_edges(positions: np.ndarray, faces: np.ndarray, body: object) -> tuple[np.ndarray, np.ndarray]:
    """Garment edges (E, 2) that pass through a body triangle, and that triangle's index (E,)."""
    vertices = np.asarray(body.rest_vertices)  # type: ignore[attr-defined]
    tri = vertices[np.asarray(body.faces)]  # type: ignore[attr-defined]
    edges = np.unique(np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1), axis=0)
    a, b = positions[edges[:, 0]], positions[edges[:, 1]]
    k = min(64, len(tri))
    _, cand = cKDTree(tri.mean(axis=1)).query((a + b) / 2, k=k)
    hit_tri = np.full(len(edges), -1)
    for j in range(k):
        hit = _segment_triangle_hits(a, b, tri[cand[:, j]]) & (hit_tri < 0)
        hit_tri[hit] = cand[hit, j]
    found = hit_tri >= 0
    return edges[found], hit_tri[found]


def _clear_crossing_edges(positions: np.ndarray, faces: np.ndarray, body: object, clearance: float,
                          midline: np.ndarray, rounds: int = 6) -> np.ndarray:
    """Push both ends of any garment edge that passes through the body out of the crossed triangle."""
    vertices = np.asarray(body.rest_vertices)  # type: ignore[attr-defined]
    tri = vertices[np.asarray(body.faces)]  # type: ignore[attr-defined]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-18)
    positions = positions.copy()
    legs = midline != 0
    for _ in range(rounds):
        edges, hit = _crossing_edges(positions, faces, body)
        if not len(edges):
            break
        for end in (0, 1):
            ids = edges[:, end]
            height = ((positions[ids] - tri[hit, 0]) * normals[hit]).sum(axis=1)
            step = np.maximum(clearance - height, 0.25 * clearance)
            positions[ids] += step[:, None] * normals[hit]
        positions[legs, 0] = midline[legs] * np.maximum(positions[legs, 0] * midline[legs], _MIDLINE_GAP_M)
    return positions


def _lift_hem(t_values: np.ndarray, vertices: np.ndarray, body: object, z_crotch: float, clearance: float) -> np.ndarray:
    """Squeeze the part of a trouser leg below the knee so the hem stays above the feet."""
    feet = _region_mask(body, "foot_left", "foot_right")
    z_floor = (float(vertices[feet, 2].max()) if feet.any() else 0.1) + clearance
    lowest = float(t_values.min())
    if lowest >= z_floor:
        return t_values
    z_knee = 0.5 * (z_crotch + z_floor)
    low = t_values < z_knee
    out = t_values.copy()
    out[low] = z_knee - (z_knee - t_values[low]) * (z_knee - z_floor) / max(z_knee - lowest, 1e-9)
    return out


def _crotch_y(pattern: Pattern, index: int, xy: np.ndarray, panels: np.ndarray) -> float | None:
    panel = pattern.panels[index]
    names = [e.name for e in panel.edges]
    if "crotch" not in names:
        return None
    return float(panel.edge("crotch").end[1])


def _push_out(positions: np.ndarray, body: object, clearance: float, midline: np.ndarray,
              iterations: int = 4) -> np.ndarray:
    """Move vertices nearer than ``clearance`` out along the body normal; trouser-leg
    vertices (``midline`` = +-1) stay on their side of the plane x = 0."""
    vertices = np.asarray(body.rest_vertices)  # type: ignore[attr-defined]
    normals = _vertex_normals(vertices, np.asarray(body.faces))  # type: ignore[attr-defined]
    tree = cKDTree(vertices)
    positions = positions.copy()
    for _ in range(iterations):
        _, nearest = tree.query(positions)
        d = ((positions - vertices[nearest]) * normals[nearest]).sum(axis=1)
        low = d < 0.6 * clearance
        if not low.any():
            break
        positions[low] += (clearance - d[low])[:, None] * normals[nearest[low]]
        legs = midline != 0
        positions[legs, 0] = midline[legs] * np.maximum(positions[legs, 0] * midline[legs], _MIDLINE_GAP_M)
    return positions


def body_clearance(points: np.ndarray, body: object) -> np.ndarray:
    """Approximate signed distance [m] from each point to the body's rest surface, shape (N,).

    Positive outside: the offset from the nearest body vertex along its normal.
    """
    vertices = np.asarray(body.rest_vertices)  # type: ignore[attr-defined]
    normals = _vertex_normals(vertices, np.asarray(body.faces))  # type: ignore[attr-defined]
    _, nearest = cKDTree(vertices).query(points)
    return ((points - vertices[nearest]) * normals[nearest]).sum(axis=1)


def _segment_triangle_hits(p0: np.ndarray, p1: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Moller-Trumbore: does segment k (p0[k] -> p1[k]) cross triangle k (tri[k], (3, 3))? (K,) bool."""
    d = p1 - p0
    e1 = tri[:, 1] - tri[:, 0]
    e2 = tri[:, 2] - tri[:, 0]
    h = np.cross(d, e2)
    a = (e1 * h).sum(1)
    ok = np.abs(a) > 1e-14
    f = np.where(ok, 1.0 / np.where(ok, a, 1.0), 0.0)
    s = p0 - tri[:, 0]
    u = f * (s * h).sum(1)
    q = np.cross(s, e1)
    v = f * (d * q).sum(1)
    t = f * (e2 * q).sum(1)
    return ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t >= 0) & (t <= 1)


def _closest_on_triangles(p: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Closest point to p[k] on triangle tri[k] (Ericson's region test), shape (K, 3)."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    ab, ac, ap = b - a, c - a, p - a
    d1, d2 = (ab * ap).sum(1), (ac * ap).sum(1)
    bp = p - b
    d3, d4 = (ab * bp).sum(1), (ac * bp).sum(1)
    cp = p - c
    d5, d6 = (ab * cp).sum(1), (ac * cp).sum(1)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2
    denom = np.where(np.abs(va + vb + vc) > 1e-30, va + vb + vc, 1e-30)
    v, w = vb / denom, vc / denom
    out = a + v[:, None] * ab + w[:, None] * ac
    safe = lambda x: np.where(np.abs(x) > 1e-30, x, 1e-30)  # noqa: E731
    # edge regions
    m = (vc <= 0) & (d1 >= 0) & (d3 <= 0)
    out[m] = (a + (d1 / safe(d1 - d3))[:, None] * ab)[m]
    m = (vb <= 0) & (d2 >= 0) & (d6 <= 0)
    out[m] = (a + (d2 / safe(d2 - d6))[:, None] * ac)[m]
    m = (va <= 0) & ((d4 - d3) >= 0) & ((d5 - d6) >= 0)
    out[m] = (b + ((d4 - d3) / safe((d4 - d3) + (d5 - d6)))[:, None] * (c - b))[m]
    # vertex regions
    out[(d1 <= 0) & (d2 <= 0)] = a[(d1 <= 0) & (d2 <= 0)]
    out[(d3 >= 0) & (d4 <= d3)] = b[(d3 >= 0) & (d4 <= d3)]
    out[(d6 >= 0) & (d5 <= d6)] = c[(d6 >= 0) & (d5 <= d6)]
    return out


def body_signed_distance(points: np.ndarray, body: object, *, candidates: int = 16) -> np.ndarray:
    """Signed distance [m] from each point to the body's rest surface, shape (N,), < 0 inside.

    Exact distance to the nearest of ``candidates`` triangles (nearest by centroid); the sign
    is that of the closest triangle's outward normal (angle-weighted at shared vertices is
    not needed at the 1-2 cm clearances used here).
    """
    vertices = np.asarray(body.rest_vertices)  # type: ignore[attr-defined]
    faces = np.asarray(body.faces)  # type: ignore[attr-defined]
    tri = vertices[faces]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-18)
    _, cand = cKDTree(tri.mean(axis=1)).query(points, k=candidates)
    best = np.full(len(points), np.inf)
    sign = np.ones(len(points))
    for j in range(candidates):
        closest = _closest_on_triangles(points, tri[cand[:, j]])
        offset = points - closest
        dist = np.linalg.norm(offset, axis=1)
        better = dist < best - 1e-12
        best[better] = dist[better]
        side = (offset * normals[cand[:, j]]).sum(1)
        sign[better] = np.where(side < 0, -1.0, 1.0)[better]
    # a closest point on a crease can carry the wrong normal: confirm "inside" by ray parity
    direction = np.array([0.0131, 0.0217, 1.0])
    direction /= np.linalg.norm(direction)
    for i in np.flatnonzero(sign < 0):
        start = np.broadcast_to(points[i], (len(tri), 3))
        hits = _segment_triangle_hits(start, start + 4.0 * direction, tri)
        if hits.sum() % 2 == 0:
            sign[i] = 1.0
    return sign * best


def body_intersections(positions: np.ndarray, faces: np.ndarray, body: object) -> dict[str, float]:
    """How a garment mesh meets the body's rest surface.

    Returns:
        ``{"edges_crossing": garment edges passing through a body triangle,
        "vertices_inside": garment vertices inside the body,
        "min_distance_m": smallest signed distance of a garment vertex to the skin [m]}``.
    """
    vertices = np.asarray(body.rest_vertices)  # type: ignore[attr-defined]
    tri = vertices[np.asarray(body.faces)]  # type: ignore[attr-defined]
    distance = body_signed_distance(positions, body)
    edges = np.unique(np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1), axis=0)
    a, b = positions[edges[:, 0]], positions[edges[:, 1]]
    half = np.linalg.norm(b - a, axis=1) / 2
    near = np.minimum(distance[edges[:, 0]], distance[edges[:, 1]]) < half + 0.01
    crossing = 0
    if near.any():
        a, b = a[near], b[near]
        k = min(64, len(tri))
        _, cand = cKDTree(tri.mean(axis=1)).query((a + b) / 2, k=k)
        hit = np.zeros(len(a), dtype=bool)
        for j in range(k):
            hit |= _segment_triangle_hits(a, b, tri[cand[:, j]])
        crossing = int(hit.sum())
    return {
        "edges_crossing": crossing,
        "vertices_inside": int((distance < 0).sum()),
        "min_distance_m": float(distance.min()),
    }
