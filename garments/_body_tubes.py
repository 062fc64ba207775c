"""The body as tubes: per-part axes and cross-section profiles for the wrap."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from tryon3d.core import triangle_plane_crossings

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body

_BINS = 72
_SLAB_M = 0.025
_STEP_M = 0.01

#: Next to an armpit, rows close fully only this far [m] from where they are left open.
_CLOSE_FADE_M = 0.03
#: A traced trunk row whose median first exit is under this fraction of the row's hull radius
#: did not start inside the trunk's section but in a crevice's tip (the crotch apex): its hull
#: is kept. Rows that are the trunk's section measure 0.77 and more (12 bodies, both sexes).
_TRACED_MIN_FRACTION = 0.5


def _region_mask(body: Body, *names: str) -> np.ndarray:
    return body.region_mask(*names)


class _Part:
    """An axis (origin + unit direction ``axis``, ``t`` along it) with an angular frame.

    Direction of angle phi around the axis: ``cos(phi) * e0 + sin(phi) * e1``; phi = 0 is
    the outward direction of a panel centred at ``phi0 = 0`` (front of trunk or leg, top of arm).
    """

    def __init__(
        self,
        origin: np.ndarray,
        axis: np.ndarray,
        e0: np.ndarray,
        e1: np.ndarray,
        points: np.ndarray,
        midline_sign: float = 0.0,
        body_triangles: np.ndarray | None = None,
    ) -> None:
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
                center = (
                    previous_center if i and abs(center[0] - previous_center[0]) > 0.05 else center
                )
            previous_center = center
            self.centers[i] = center
            du, dv = u - center[0], v - center[1]
            r = np.hypot(du, dv)
            b = np.clip(
                ((np.arctan2(dv, du) + np.pi) / (2 * np.pi) * _BINS).astype(int), 0, _BINS - 1
            )
            prof = np.zeros(_BINS)
            np.maximum.at(prof, b, r)
            filled = prof > 0
            if filled.sum() >= 3:
                idx = np.arange(_BINS)
                prof = np.interp(idx, idx[filled], prof[filled], period=_BINS)
            prof = np.maximum(prof, np.maximum(np.roll(prof, 1), np.roll(prof, -1)))
            self.radii[i] = prof
        self.limits = np.full_like(self.radii, np.inf)
        #: axis interval [m] whose rows are never closed around the part: the trunk above an
        #: armpit's apex and an arm inboard of it, where the arm and the trunk are one
        self.open_span = (np.inf, np.inf)
        if body_triangles is not None:
            self._trace_rows(body_triangles)

    def _trace_rows(self, triangles: np.ndarray) -> None:
        """Where a row's centre lies inside the body, take the radius per direction from the
        body's whole cross-section (the first exit along the ray, so an arm joined to the
        trunk above the armpit counts as surface) and store the next entry (an arm beside the
        trunk, the other thigh) as a limit: cloth in such a crevice keeps to its middle. A row
        whose centre sits in a crevice's tip (most rays leave within a fraction of the hull,
        ``_TRACED_MIN_FRACTION``) keeps its hull."""
        heights = (triangles - self.origin) @ self.axis
        low, high = heights.min(axis=1), heights.max(axis=1)
        directions = np.stack([np.cos(self.phi), np.sin(self.phi)], axis=1)
        for i, t in enumerate(self.grid):
            near = (low < t) & (high > t)
            if near.sum() < 8:
                continue
            plane_origin = (
                self.origin
                + t * self.axis
                + self.centers[i, 0] * self.e0
                + self.centers[i, 1] * self.e1
            )
            segments, _ = _plane_section(
                triangles[near], heights[near] - t, plane_origin, self.e0, self.e1
            )
            crossings = [c for c, _ in _ray_crossings(directions, segments)]
            inside = np.array([len(c) % 2 == 1 for c in crossings])
            if inside.mean() < 0.9:  # centre outside the body (between the legs): keep the hull
                continue
            exit_r = np.array([c[0] if len(c) else 0.0 for c in crossings])
            # a plane just above the crotch apex cuts the saddle between the thighs: the row's
            # centre is then inside by a hair and every ray leaves within a few cm, a profile
            # that would wrap the hem round the crotch (and through the body)
            if np.median(exit_r) < _TRACED_MIN_FRACTION * np.median(self.radii[i]):
                continue
            entry_r = np.array([c[1] if len(c) > 1 else np.inf for c in crossings])
            exit_r = np.maximum(exit_r, np.maximum(np.roll(exit_r, 1), np.roll(exit_r, -1)))
            entry_r = np.minimum(entry_r, np.minimum(np.roll(entry_r, 1), np.roll(entry_r, -1)))
            self.radii[i] = exit_r
            self.limits[i] = 0.5 * (exit_r + entry_r)

    def closing(self, t: float) -> float:
        """How far [0, 1] a row at ``t`` may be closed around the part: 0 inside ``open_span``,
        fading in over ``_CLOSE_FADE_M`` outside it, so the rows' ends retract gradually."""
        lo, hi = self.open_span
        outside = max(lo - t, t - hi)
        return (
            float(np.clip(outside / _CLOSE_FADE_M, 0.0, 1.0))
            if np.isfinite(lo) or np.isfinite(hi)
            else 1.0
        )

    def profile(self, t: float, clearance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Centre (2,), radius per direction grown by ``clearance`` (``_BINS``,) and the most
        each radius may grow (the middle of a crevice) [m]."""
        i = int(np.clip(round((t - self.grid[0]) / _STEP_M), 0, len(self.grid) - 1))
        limit = np.maximum(self.limits[i], self.radii[i])
        return self.centers[i], np.minimum(self.radii[i] + clearance, limit), limit

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
        self.origin, self.axis, self.e0, self.e1 = (
            knots[0],
            axes[n // 2],
            e0[n // 2],
            self.e1s[n // 2],
        )
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
            b = np.clip(
                ((np.arctan2(dv, du) + np.pi) / (2 * np.pi) * _BINS).astype(int), 0, _BINS - 1
            )
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
        weights = np.clip(
            (np.minimum(t - self.cum[:-1], self.cum[1:] - t) + _CHAIN_BLEND_M)
            / (2 * _CHAIN_BLEND_M),
            0.0,
            1.0,
        )
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

    def profile(self, t: float, clearance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        i = self._index(t)
        return self.centers[i], self.radii[i] + clearance, np.full(_BINS, np.inf)

    def point(self, t: float, center: np.ndarray, phi: np.ndarray, r: np.ndarray) -> np.ndarray:
        i = self._index(t)
        u = center[0] + r * np.cos(phi)
        v = center[1] + r * np.sin(phi)
        return self._on_line(t) + u[:, None] * self.e0s[i] + v[:, None] * self.e1s[i]

    def axis_at(self, t: float) -> np.ndarray:
        return self.axes[self._index(t)]

    def t_of(self, point: np.ndarray) -> float:
        return float(self._project(np.asarray(point, dtype=float)[None, :])[0])


def _plane_section(
    triangles: np.ndarray, heights: np.ndarray, origin: np.ndarray, e0: np.ndarray, e1: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Segments, shape (S, 2, 2) in the (e0, e1) frame at ``origin`` [m], where triangles
    (K, 3, 3) cross a plane, and the index of each segment's triangle, shape (S,);
    ``heights`` (K, 3) are the corners' signed distances to the plane."""
    ends, crossing = triangle_plane_crossings(triangles, heights)
    ends[~crossing] = np.nan  # (K, 3, 3), NaN on the edge that does not cross
    order = np.argsort(np.isnan(ends[:, :, 0]), axis=1, kind="stable")[:, :2]
    pair = np.take_along_axis(ends, order[:, :, None], axis=1) - origin
    segments = np.stack([pair @ e0, pair @ e1], axis=-1)
    keep = np.isfinite(segments).all(axis=(1, 2))
    return segments[keep], np.flatnonzero(keep)


def _ray_crossings(
    directions: np.ndarray, segments: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per ray from the origin along ``directions`` (R, 2): the distances [m] at which it
    crosses the ``segments`` (K, 2, 2), sorted, and the crossed segments' indices."""
    p, e = segments[:, 0], segments[:, 1] - segments[:, 0]
    denom = directions[:, None, 0] * e[None, :, 1] - directions[:, None, 1] * e[None, :, 0]
    ok = np.abs(denom) > 1e-12
    denom = np.where(ok, denom, 1.0)
    s = (p[None, :, 0] * e[None, :, 1] - p[None, :, 1] * e[None, :, 0]) / denom
    w = (p[None, :, 0] * directions[:, None, 1] - p[None, :, 1] * directions[:, None, 0]) / denom
    hit = ok & (s > 0) & (w >= 0) & (w < 1)
    out = []
    for k in range(len(directions)):
        ids = np.flatnonzero(hit[k])
        order = np.argsort(s[k, ids])
        out.append((s[k, ids[order]], ids[order]))
    return out


#: Near the shoulder an arm's profile may exceed the mid upper arm's by at most this factor.
_ARM_CAP_FACTOR = 1.15
#: A bent part's row profile takes points whose centre-line point is at most this far along.
_CHAIN_REACH_M = 0.08
#: A bent part's axis turns smoothly over +- this arc length around each joint [m].
_CHAIN_BLEND_M = 0.06


def _joint(body: Body, name: str) -> np.ndarray | None:
    """The body's rest-pose joint ``name`` of its canonical skeleton [m], (3,); None if absent."""
    return (getattr(body, "skeleton_m", None) or {}).get(name)


def _arm_part(body: Body, name: str, vertices: np.ndarray, up: np.ndarray) -> _Part:
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
    acromion = body.landmarks_m.get("acromion_" + side)
    if acromion is not None:
        below = (arm - center) @ axis >= float((np.asarray(acromion) - center) @ axis)
        if below.sum() >= 0.5 * len(arm):
            arm = arm[below]
    shoulder, elbow, wrist = (_joint(body, f"{j}_{side}") for j in ("shoulder", "elbow", "wrist"))
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


#: Cloth passes between an arm and the trunk only where they are at least this far apart [m].
_ARMPIT_GAP_M = 0.015

#: Lateral rays within this angle [rad] of the side direction probe the armpit.
_ARMPIT_SPREAD = np.pi / 4
#: Armpit probes look this far [m] from their planes' origins (a trunk's half width and more).
_PROBE_M = 0.4


def _open_planes(
    body: Body, planes: Sequence[tuple[np.ndarray, ...]], toward: float, own: np.ndarray
) -> np.ndarray:
    """Whether each cross-section plane ``(origin, normal, e0, e1)`` has an opening between
    the arm and the trunk, shape (len(planes),) bool: every ray from the origin within
    ``_ARMPIT_SPREAD`` of angle ``toward`` (in the (e0, e1) frame) first leaves the body
    through a triangle where ``own`` (per body triangle) holds, and meets nothing else
    for ``_ARMPIT_GAP_M``."""
    vertices = np.asarray(body.rest_vertices)
    faces = np.asarray(body.faces)
    # only triangles within _PROBE_M of some plane's origin can bound its rays
    origins = np.array([plane[0] for plane in planes])
    centroids = vertices[faces].mean(axis=1)
    close = (
        np.min(np.linalg.norm(centroids[:, None] - origins[None, ::4], axis=2), axis=1) < _PROBE_M
    )
    local = np.flatnonzero(close)
    triangles = vertices[faces[local]]
    angles = toward + np.linspace(-_ARMPIT_SPREAD, _ARMPIT_SPREAD, 9)
    directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    out = np.zeros(len(planes), dtype=bool)
    for i, (origin, normal, e0, e1) in enumerate(planes):
        heights = (triangles - origin) @ normal
        near = np.flatnonzero((heights.min(axis=1) < 0) & (heights.max(axis=1) > 0))
        segments, ids = _plane_section(triangles[near], heights[near], origin, e0, e1)
        tri_of = local[near[ids]]
        out[i] = all(
            len(d) > 0 and own[tri_of[k[0]]] and (len(d) == 1 or d[1] - d[0] >= _ARMPIT_GAP_M)
            for d, k in _ray_crossings(directions, segments)
        )
    return out


def _first_open(values: np.ndarray, is_open: np.ndarray, run: int = 3) -> float | None:
    """The first of ``values`` that starts ``run`` consecutive open planes, or None."""
    for i in range(len(values) - run + 1):
        if is_open[i : i + run].all():
            return float(values[i])
    return None


def _armpit_height(body: Body, torso: _Part, side: str, z_top: float) -> float | None:
    """Height [m] of one armpit's apex: the highest level below ``z_top`` from which down the
    trunk's lateral rays leave through the trunk and clear the arm by ``_ARMPIT_GAP_M``."""
    faces = np.asarray(body.faces)
    arm = _region_mask(body, "arm_" + side, "hand_" + side)[faces[:, 0]]
    heights = np.arange(z_top, z_top - 0.4, -_STEP_M)
    planes = []
    for z in heights:
        center, _, _ = torso.profile(z, 0.0)
        origin = torso.origin + z * torso.axis + center[0] * torso.e0 + center[1] * torso.e1
        planes.append((origin, torso.axis, torso.e0, torso.e1))
    toward = np.pi / 2 if side == "left" else -np.pi / 2  # e1 is +x, the body's left
    return _first_open(heights, _open_planes(body, planes, toward, ~arm))


def _armpit_reach(body: Body, arm: _Part, side: str, t_top: float) -> float | None:
    """Arc length [m] along an arm's centre line from which out its rows clear the trunk:
    the underside rays leave through the arm and meet the trunk only after ``_ARMPIT_GAP_M``."""
    if not isinstance(arm, _ChainPart):
        return None
    faces = np.asarray(body.faces)
    own = _region_mask(body, "arm_" + side, "hand_" + side)[faces[:, 0]]
    ts = np.arange(t_top, t_top + 0.3, _STEP_M)
    planes = []
    for t in ts:
        i = arm._index(t)
        center = arm.centers[i]
        origin = arm._on_line(t) + center[0] * arm.e0s[i] + center[1] * arm.e1s[i]
        planes.append((origin, arm.axes[i], arm.e0s[i], arm.e1s[i]))
    return _first_open(ts, _open_planes(body, planes, np.pi, own))
