"""Sewing patterns: panels (2D outlines in metres), seams between panel edges, grain lines.

Conventions: each panel lives in its own 2D frame [m], seen from the outside of the garment
(the right side of the fabric), x to the right, y up (towards the head). Outlines run
counter-clockwise in that frame, so triangle normals computed from the pattern point away
from the body. A seam joins edge ``edge_a`` of ``panel_a`` to ``edge_b`` of ``panel_b``; with
``reverse=True`` (the usual case for two counter-clockwise panels sewn edge to edge) point
``i`` of edge a meets point ``n - 1 - i`` of edge b.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

__all__ = [
    "PART_NAMES",
    "Edge",
    "Panel",
    "Pattern",
    "Placement",
    "Seam",
    "panel_outline",
    "panel_spans",
    "panel_widths",
    "ring_spans",
    "sample_edge",
    "validate_pattern",
]

#: Body parts a panel can be wrapped around (see ``garments.place_garment``).
PART_NAMES: tuple[str, ...] = ("torso", "skirt", "arm_left", "arm_right", "leg_left", "leg_right")

_DENSE_SAMPLES = 64  # samples per curved edge for lengths and intersection tests
_SEAM_TOLERANCE = 0.05  # seams whose edge lengths differ by more than this fraction are rejected
_GATHER_MAX = 2.0  # a seam listed in ``Pattern.metadata["gathered_seams"]`` may gather up to 1:2


@dataclass(frozen=True)
class Edge:
    """One edge of a panel outline in the panel frame [m].

    Attributes:
        points: shape (K, 2), K >= 2, float64. With ``curve=False`` a polyline through
            the points (K = 2: a straight line); with ``curve=True`` the control polygon of
            a Bezier curve (K = 3 quadratic, K = 4 cubic) from ``points[0]`` to ``points[-1]``.
        name: edge id, unique within its panel (e.g. ``"side_l"``, ``"hem"``).
        curve: whether ``points`` are Bezier control points.
    """

    points: np.ndarray
    name: str
    curve: bool = False

    def __post_init__(self) -> None:
        points = np.array(self.points, dtype=np.float64, copy=True)
        if points.ndim != 2 or points.shape[1] != 2 or len(points) < 2:
            raise ValueError(
                f"Edge {self.name!r}: points must have shape (K>=2, 2), got {points.shape}"
            )
        if self.curve and len(points) not in (3, 4):
            raise ValueError(
                f"Edge {self.name!r}: a Bezier edge needs 3 or 4 control points, got {len(points)}"
            )
        if not np.all(np.isfinite(points)):
            raise ValueError(f"Edge {self.name!r}: points must be finite")
        points.setflags(write=False)
        object.__setattr__(self, "points", points)

    @property
    def start(self) -> np.ndarray:
        return self.points[0]

    @property
    def end(self) -> np.ndarray:
        return self.points[-1]

    def reversed(self) -> Edge:
        return Edge(self.points[::-1], self.name, self.curve)

    def mirrored(self) -> Edge:
        """The edge mirrored in x (x -> -x) and reversed, so outlines stay counter-clockwise."""
        points = self.points[::-1] * np.array([-1.0, 1.0])
        return Edge(points, self.name, self.curve)

    @property
    def length(self) -> float:
        """Arc length [m]."""
        dense = sample_edge(self, _DENSE_SAMPLES)
        return float(np.linalg.norm(np.diff(dense, axis=0), axis=1).sum())


@dataclass(frozen=True)
class Placement:
    """Where a panel goes on the body (consumed by ``place_garment``).

    Attributes:
        part: one of ``PART_NAMES``: ``torso`` (tops, around the trunk), ``skirt`` (around
            trunk and both legs), ``arm_left``/``arm_right`` (around the arm axis),
            ``leg_left``/``leg_right`` (around one leg and that half of the pelvis).
        center_x: pattern x [m] of the panel's centre line (centre front/back, sleeve top,
            trouser crease); it lands on the middle of its side of the part.
        side: ``"front"`` (centre line at -y), ``"back"`` (at +y) or ``"outer"`` (sleeves:
            the top of the arm).
        anchor: what the pattern height ``anchor_y`` is aligned with: ``"shoulder"``
            (shoulder height), ``"waist"`` (body waist), ``"arm_top"`` (top of the arm axis).
        anchor_y: pattern y [m] aligned with the anchor.
    """

    part: str
    center_x: float = 0.0
    side: str = "front"
    anchor: str = "shoulder"
    anchor_y: float = 0.0

    def __post_init__(self) -> None:
        if self.part not in PART_NAMES:
            raise ValueError(f"Placement.part must be one of {PART_NAMES}, got {self.part!r}")
        if self.side not in ("front", "back", "outer"):
            raise ValueError(
                f"Placement.side must be 'front', 'back' or 'outer', got {self.side!r}"
            )
        if self.anchor not in ("shoulder", "waist", "arm_top"):
            raise ValueError(
                f"Placement.anchor must be 'shoulder', 'waist' or 'arm_top', got {self.anchor!r}"
            )


@dataclass(frozen=True)
class Panel:
    """A pattern piece: a closed counter-clockwise outline of named edges.

    Attributes:
        name: unique panel name.
        edges: closed chain; ``edges[i].end`` equals ``edges[i + 1].start`` (1e-6 m).
        grain: warp (grain line) direction in the panel frame, unit vector, shape (2,).
        placement: where the panel goes on the body, or None (not placeable).
    """

    name: str
    edges: tuple[Edge, ...]
    grain: np.ndarray = field(default_factory=lambda: np.array([0.0, 1.0]))
    placement: Placement | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "edges", tuple(self.edges))
        grain = np.array(self.grain, dtype=np.float64).reshape(-1)
        if grain.shape != (2,) or not np.isfinite(grain).all() or np.linalg.norm(grain) < 1e-9:
            raise ValueError(
                f"Panel {self.name!r}: grain must be a nonzero 2-vector, got {grain.tolist()}"
            )
        grain = grain / np.linalg.norm(grain)
        grain.setflags(write=False)
        object.__setattr__(self, "grain", grain)
        if len(self.edges) < 2:
            raise ValueError(
                f"Panel {self.name!r}: an outline needs at least 2 edges, got {len(self.edges)}"
            )
        names = [e.name for e in self.edges]
        if len(set(names)) != len(names):
            raise ValueError(f"Panel {self.name!r}: edge names must be unique, got {names}")

    def edge(self, name: str) -> Edge:
        for edge in self.edges:
            if edge.name == name:
                return edge
        raise ValueError(
            f"panel {self.name!r} has no edge {name!r}; edges: {[e.name for e in self.edges]}"
        )

    def edge_index(self, name: str) -> int:
        return [e.name for e in self.edges].index(self.edge(name).name)

    def mirrored(
        self, name: str, *, rename: dict[str, str] | None = None, side: str | None = None
    ) -> Panel:
        """This panel mirrored in x (a left piece from a right one), still counter-clockwise.

        Args:
            name: name of the new panel.
            rename: edge renames, e.g. ``{"side_l": "side_r"}``.
            side: new ``Placement.part`` (e.g. ``"arm_right"``), or None to keep it.
        """
        rename = rename or {}
        edges = tuple(
            replace(e.mirrored(), name=rename.get(e.name, e.name)) for e in reversed(self.edges)
        )
        grain = self.grain * np.array([-1.0, 1.0])
        placement = self.placement
        if placement is not None:
            placement = replace(
                placement, center_x=-placement.center_x, part=side or placement.part
            )
        return Panel(name, edges, grain, placement)

    @property
    def area(self) -> float:
        """Outline area [m^2] (positive for counter-clockwise)."""
        outline = panel_outline(self, _DENSE_SAMPLES)
        x, y = outline[:, 0], outline[:, 1]
        return float(0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


@dataclass(frozen=True)
class Seam:
    """Two panel edges sewn together.

    Attributes:
        panel_a, edge_a: first panel name and its edge name.
        panel_b, edge_b: second panel name and its edge name.
        reverse: point i of edge a meets point n-1-i of edge b (True for two counter-clockwise
            outlines sewn edge to edge), else point i meets point i.
    """

    panel_a: str
    edge_a: str
    panel_b: str
    edge_b: str
    reverse: bool = True

    @property
    def label(self) -> str:
        return f"{self.panel_a}.{self.edge_a}-{self.panel_b}.{self.edge_b}"


@dataclass(frozen=True)
class Pattern:
    """A complete sewing pattern.

    Attributes:
        name: family or file name.
        size: size label ("" when ungraded).
        panels: the panels, names unique.
        seams: the seams between panel edges.
        girths_m: design girths of the finished garment [m] by level (``chest``, ``waist``,
            ``hips``...), each with the pattern y [m] where it is measured: ``{level: (girth, y)}``.
        metadata: free-form information (design parameters, size-chart row...);
            ``gathered_seams``: labels of seams sewn from edges of different lengths on
            purpose (gathers, up to 1:2), which ``validate_pattern`` accepts.
    """

    name: str
    size: str
    panels: tuple[Panel, ...]
    seams: tuple[Seam, ...] = ()
    girths_m: dict[str, tuple[float, float]] = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "panels", tuple(self.panels))
        object.__setattr__(self, "seams", tuple(self.seams))
        names = [p.name for p in self.panels]
        if not names:
            raise ValueError(f"pattern {self.name!r} has no panels")
        if len(set(names)) != len(names):
            raise ValueError(f"pattern {self.name!r}: panel names must be unique, got {names}")

    def panel(self, name: str) -> Panel:
        for panel in self.panels:
            if panel.name == name:
                return panel
        raise ValueError(
            f"pattern {self.name!r} has no panel {name!r}; panels: {[p.name for p in self.panels]}"
        )


def _bezier(points: np.ndarray, t: np.ndarray) -> np.ndarray:
    t = t[:, None]
    if len(points) == 3:
        p0, p1, p2 = points
        return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2
    p0, p1, p2, p3 = points
    return (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3


def _dense(edge: Edge) -> np.ndarray:
    if edge.curve:
        return _bezier(edge.points, np.linspace(0.0, 1.0, 4 * _DENSE_SAMPLES + 1))
    return edge.points


def sample_edge(edge: Edge, count: int) -> np.ndarray:
    """``count + 1`` points at equal arc-length spacing, start to end, shape (count+1, 2) [m]."""
    if count < 1:
        raise ValueError(f"sample_edge: count must be >= 1, got {count}")
    dense = _dense(edge)
    seg = np.linalg.norm(np.diff(dense, axis=0), axis=1)
    cumulative = np.concatenate([[0.0], np.cumsum(seg)])
    if cumulative[-1] <= 0:
        raise ValueError(f"edge {edge.name!r} has zero length")
    targets = np.linspace(0.0, cumulative[-1], count + 1)
    out = np.stack([np.interp(targets, cumulative, dense[:, k]) for k in (0, 1)], axis=1)
    out[0], out[-1] = dense[0], dense[-1]
    return out


def panel_outline(panel: Panel, samples_per_edge: int = _DENSE_SAMPLES) -> np.ndarray:
    """Closed outline without the repeated first point, shape (M, 2) [m]."""
    parts = [
        sample_edge(e, samples_per_edge if (e.curve or len(e.points) > 2) else 1)[:-1]
        for e in panel.edges
    ]
    return np.concatenate(parts, axis=0)


def panel_spans(panel: Panel, ys: np.ndarray, samples_per_edge: int = _DENSE_SAMPLES) -> np.ndarray:
    """Leftmost and rightmost x [m] of the panel's outline on the horizontal line at each
    height ``ys`` [m], shape (len(ys), 2); NaN where the line misses the panel."""
    return ring_spans(panel_outline(panel, samples_per_edge), ys)


def ring_spans(outline: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Leftmost and rightmost x [m] of a closed outline (M, 2) [m] on the horizontal line at
    each height ``ys`` [m], shape (len(ys), 2); NaN where the line misses it."""
    a, b = outline, np.roll(outline, -1, axis=0)
    spans = np.full((len(ys), 2), np.nan)
    for i, y in enumerate(np.asarray(ys, dtype=float)):
        crossing = ((a[:, 1] - y) * (b[:, 1] - y) <= 0) & (a[:, 1] != b[:, 1])
        if crossing.any():
            x = a[crossing, 0] + (y - a[crossing, 1]) / (b[crossing, 1] - a[crossing, 1]) * (
                b[crossing, 0] - a[crossing, 0]
            )
            spans[i] = x.min(), x.max()
    return spans


def panel_widths(
    panel: Panel, ys: np.ndarray, samples_per_edge: int = _DENSE_SAMPLES
) -> np.ndarray:
    """Extent [m] of the panel's outline cut by the horizontal line at each height ``ys`` [m],
    shape (len(ys),): outermost intersections, 0 where the line misses the panel."""
    return np.nan_to_num(np.diff(panel_spans(panel, ys, samples_per_edge), axis=1)[:, 0])


def _segments_intersect(
    a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray
) -> np.ndarray:
    """Proper intersection of segment arrays a (N,2)x2 against b (M,2)x2, shape (N, M) bool."""

    def cross(o: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        return (p[..., 0] - o[..., 0]) * (q[..., 1] - o[..., 1]) - (p[..., 1] - o[..., 1]) * (
            q[..., 0] - o[..., 0]
        )

    A0, A1 = a0[:, None, :], a1[:, None, :]
    B0, B1 = b0[None, :, :], b1[None, :, :]
    d1 = cross(B0, B1, A0)
    d2 = cross(B0, B1, A1)
    d3 = cross(A0, A1, B0)
    d4 = cross(A0, A1, B1)
    return (d1 * d2 < 0) & (d3 * d4 < 0)


def validate_pattern(pattern: Pattern) -> None:
    """Check outlines (closed, counter-clockwise, not self-intersecting) and seams.

    Raises:
        ValueError: naming the panel or seam at fault.
    """
    for panel in pattern.panels:
        edges = panel.edges
        for i, edge in enumerate(edges):
            following = edges[(i + 1) % len(edges)]
            gap = float(np.linalg.norm(edge.end - following.start))
            if gap > 1e-6:
                raise ValueError(
                    f"panel {panel.name!r}: edge {edge.name!r} ends {gap * 100:.2f} cm away from "
                    "the start "
                    f"of edge {following.name!r} (outline must be closed)"
                )
        outline = panel_outline(panel, 24)
        a0, a1 = outline, np.roll(outline, -1, axis=0)
        hits = _segments_intersect(a0, a1, a0, a1)
        count = len(outline)
        idx = np.arange(count)
        near = np.abs(idx[:, None] - idx[None, :])
        near = np.minimum(near, count - near) <= 1
        hits &= ~near
        if hits.any():
            i, _j = np.argwhere(hits)[0]
            raise ValueError(
                f"panel {panel.name!r}: outline intersects itself near ({a0[i][0] * 100:.1f}, "
                f"{a0[i][1] * 100:.1f}) cm"
            )
        if panel.area <= 0:
            raise ValueError(
                f"panel {panel.name!r}: outline must run counter-clockwise (area {panel.area:.4f} "
                "m^2)"
            )
    gathered = set(pattern.metadata.get("gathered_seams", ()))
    for seam in pattern.seams:
        la = pattern.panel(seam.panel_a).edge(seam.edge_a).length
        lb = pattern.panel(seam.panel_b).edge(seam.edge_b).length
        if seam.label in gathered and max(la, lb) <= _GATHER_MAX * min(la, lb):
            continue  # gathered on purpose (``metadata["gathered_seams"]``), up to 1:_GATHER_MAX
        if abs(la - lb) > _SEAM_TOLERANCE * max(la, lb):
            raise ValueError(
                f"seam {seam.label}: edge lengths differ by more than {_SEAM_TOLERANCE:.0%} "
                f"({la * 100:.1f} cm vs {lb * 100:.1f} cm)"
            )
