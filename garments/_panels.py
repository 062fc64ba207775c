"""Pattern pieces turned into our panels: upright (grain up, hem down), unfolded, cut at their
key corners into the edges our families use (bodice, skirt, sleeve), and compared by notches.

Shape tests used to tell pieces apart (mirror images, a half's straight centre edge) live here
too; which piece plays which role is ``garments._roles``'s business.
"""

from __future__ import annotations

import numpy as np

from tryon3d.garments._dxf import DxfPiece, ring_area, unfold_mirror
from tryon3d.garments._pattern import Edge, Panel, Placement, Seam

__all__ = [
    "centre_edge",
    "is_skirt",
    "mirror_gap",
    "notch_check",
    "piece_uv",
    "ring_area",
    "skirt_panel",
    "sleeve_panel",
    "torso_panel",
    "upright",
]


def _ccw(ring: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = ring[:, 0], ring[:, 1]
    if np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)) >= 0:
        return ring, corners
    n = len(ring)
    return ring[::-1].copy(), np.unique((n - 1 - corners) % n)


def _end_span(ring: np.ndarray, top: bool, depth: float = 0.03) -> float:
    """Outermost span [m] of the outline ``depth`` inside its top (or bottom) end."""
    y = ring[:, 1]
    level = y.max() - depth if top else y.min() + depth
    a, b = ring, np.roll(ring, -1, axis=0)
    cross = ((a[:, 1] - level) * (b[:, 1] - level) <= 0) & (a[:, 1] != b[:, 1])
    if not cross.any():
        return 0.0
    x = a[cross, 0] + (level - a[cross, 1]) / (b[cross, 1] - a[cross, 1]) * (
        b[cross, 0] - a[cross, 0]
    )
    return float(x.max() - x.min())


def upright(piece: DxfPiece, flip: bool) -> tuple[np.ndarray, np.ndarray, bool, np.ndarray]:
    """The piece's draped outline (sew line if any), unfolded, grain turned to +y, hem down:
    (ring (N, 2) [m], corners (E,), unfolded, notches (K, 2) [m] moved alike)."""
    # a sew line always comes with its corners (read_dxf_pieces sets both)
    if piece.sew_line is not None and piece.sew_corners is not None:
        ring, corners = piece.sew_line, piece.sew_corners
    else:
        ring, corners = piece.boundary, piece.corners
    notches = piece.notches.reshape(-1, 2)
    unfolded = False
    if piece.mirror is not None:
        got = unfold_mirror(ring, corners, piece.mirror)
        if got is not None:
            ring, corners = got
            unfolded = True
            line = piece.mirror[1] - piece.mirror[0]
            normal = np.array([-line[1], line[0]]) / np.linalg.norm(line)
            offset = (notches - piece.mirror[0]) @ normal
            off = np.abs(offset) > 1e-3  # a notch on the fold stays single
            notches = np.vstack([notches, notches[off] - 2.0 * offset[off, None] * normal[None, :]])
    ring, corners = _ccw(ring, corners)
    grain = piece.grain[1] - piece.grain[0] if piece.grain is not None else np.array([0.0, 1.0])
    if np.linalg.norm(grain) < 1e-9:
        grain = np.array([0.0, 1.0])
    angle = np.pi / 2 - np.arctan2(grain[1], grain[0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    ring, notches = ring @ rot.T, notches @ rot.T
    # the hem is the wider end: a sleeve's cap and a bodice's neck are narrower
    if (_end_span(ring, top=True) > 1.2 * _end_span(ring, top=False)) != flip:
        ring, notches = -ring, -notches  # a half turn: keeps the outline counter-clockwise
    low = ring.min(axis=0)
    return ring - low, corners, unfolded, notches - low


def _notch_positions(points: np.ndarray, notches: np.ndarray, tol: float = 0.003) -> list[float]:
    """Arc-length positions [m] along a polyline of the notches within ``tol`` of it."""
    a, b = points[:-1], points[1:]
    seg = np.linalg.norm(b - a, axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    out = []
    for n in notches:
        t = np.clip(((n - a) * (b - a)).sum(1) / np.maximum(seg**2, 1e-18), 0.0, 1.0)
        d = np.linalg.norm(a + t[:, None] * (b - a) - n, axis=1)
        k = int(np.argmin(d))
        if d[k] <= tol:
            out.append(float(cum[k] + t[k] * seg[k]))
    return sorted(out)


def notch_check(seam: Seam, panels: dict[str, Panel], notches: dict[str, np.ndarray]) -> str:
    """``agree`` when both edges carry the same notches at the same places (1 cm), ``none``
    when neither has one, else what differs."""
    if seam.panel_a not in notches or seam.panel_b not in notches:
        return "none"
    ea, eb = panels[seam.panel_a].edge(seam.edge_a), panels[seam.panel_b].edge(seam.edge_b)
    pa = _notch_positions(ea.points, notches[seam.panel_a])
    pb = _notch_positions(eb.points, notches[seam.panel_b])
    if seam.reverse:
        pb = sorted(eb.length - x for x in pb)
    # notches at an edge's ends (a sleeve's crown, a corner) mark the corner, not the seam
    pa = [x for x in pa if 0.01 < x < ea.length - 0.01]
    pb = [x for x in pb if 0.01 < x < eb.length - 0.01]
    if not pa and not pb:
        return "none"
    if len(pa) != len(pb):
        return f"differ: {len(pa)} vs {len(pb)} notches"
    worst = max(abs(x - y) for x, y in zip(pa, pb, strict=True))
    return "agree" if worst <= 0.01 else f"differ by {worst * 100:.1f} cm"


def _path(ring: np.ndarray, i: int, j: int) -> np.ndarray:
    n = len(ring)
    idx = [i]
    while idx[-1] != j:
        idx.append((idx[-1] + 1) % n)
    return ring[idx]


def _split(points: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """A polyline cut at ``fraction`` of its length."""
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    target = fraction * cum[-1]
    k = int(np.clip(np.searchsorted(cum, target) - 1, 0, len(seg) - 1))
    t = (target - cum[k]) / max(seg[k], 1e-12)
    cut = points[k] + t * (points[k + 1] - points[k])
    first = np.vstack([points[: k + 1], cut])
    second = np.vstack([cut, points[k + 1 :]])
    return _clean(first), _clean(second)


def _clean(points: np.ndarray) -> np.ndarray:
    keep = np.concatenate([[True], np.linalg.norm(np.diff(points, axis=0), axis=1) > 1e-6])
    keep[-1] = True
    out = points[keep]
    if len(out) > 2 and np.linalg.norm(out[-1] - out[-2]) <= 1e-6:
        out = np.delete(out, -2, axis=0)
    return out


def _length(points: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(points, axis=0), axis=1).sum())


def _mirror_x(ring: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An outline mirrored left-right (still counter-clockwise, moved to x, y >= 0) with its
    corner indices."""
    n = len(ring)
    out = (ring * [-1.0, 1.0])[::-1]
    return out - out.min(axis=0), np.unique((n - 1 - corners) % n)


def _half_corners(
    ring: np.ndarray, corners: np.ndarray, center: float, sign: float, *, minimum: int, piece: str
) -> tuple[np.ndarray, list[int]]:
    """How far out each ring point lies on one half (``sign`` +1: x > center) and that half's
    corners; a half with fewer than ``minimum`` corners is refused in one line."""
    out = sign * (ring[:, 0] - center)
    side = [int(c) for c in corners if out[c] > 0.01]
    if len(side) < minimum:
        raise ValueError(
            f"too few corners on the {'right' if sign > 0 else 'left'} half of the {piece}"
        )
    return out, side


def _hem_corner(low: list[int], out: np.ndarray, y: np.ndarray) -> int:
    """Of the corners low down, the lowest of the outermost (a straight side has several)."""
    widest = max(out[c] for c in low)
    return min((c for c in low if out[c] >= widest - 0.003), key=lambda c: y[c])


def _torso_keys(ring: np.ndarray, corners: np.ndarray, center: float) -> dict[str, int]:
    """Ring indices of the hem corner, underarm, shoulder point and neck point on each side
    (``_p`` at x > center, ``_m`` at x < center)."""
    y = ring[:, 1]
    top, height = y.max(), np.ptp(y)
    keys = {}
    for tag, sign in (("p", 1.0), ("m", -1.0)):
        out, side = _half_corners(ring, corners, center, sign, minimum=3, piece="piece")
        upper = [c for c in side if y[c] > top - 0.12]
        sp = max(upper, key=lambda c: out[c])
        neck = max(side, key=lambda c: (y[c], -out[c]))
        below = [c for c in side if y[c] < y[sp] - 0.08 and y[c] > top - 0.55 * height]
        if not below:
            raise ValueError("no underarm corner between the shoulder and the hem")
        # the top of the side seam: the highest of the outermost corners (a straight side
        # seam has several at the same x)
        widest = max(out[c] for c in below)
        ua = max((c for c in below if out[c] >= widest - 0.003), key=lambda c: y[c])
        low = [c for c in side if y[c] < y.min() + 0.35 * height] or [int(np.argmin(y))]
        hem = _hem_corner(low, out, y)
        keys.update({f"hem_{tag}": hem, f"ua_{tag}": ua, f"sp_{tag}": sp, f"np_{tag}": neck})
    return keys


def torso_panel(
    name: str, ring: np.ndarray, corners: np.ndarray, center: float, back: bool
) -> Panel:
    k = _torso_keys(ring, corners, center)
    pos, neg = ("r", "l") if back else ("l", "r")  # the wearer's side, as the families name it
    chain = [
        ("hem", "hem_m", "hem_p"),
        (f"side_{pos}", "hem_p", "ua_p"),
        (f"armhole_{pos}", "ua_p", "sp_p"),
        (f"shoulder_{pos}", "sp_p", "np_p"),
        ("neck", "np_p", "np_m"),
        (f"shoulder_{neg}", "np_m", "sp_m"),
        (f"armhole_{neg}", "sp_m", "ua_m"),
        (f"side_{neg}", "ua_m", "hem_m"),
    ]
    edges = [Edge(_clean(_path(ring, k[a], k[b])), label) for label, a, b in chain]
    sp_y = 0.5 * (ring[k["sp_p"], 1] + ring[k["sp_m"], 1])
    placement = Placement(
        "torso", float(center), "back" if back else "front", "shoulder", float(sp_y)
    )
    return Panel(name, tuple(edges), np.array([0.0, 1.0]), placement)


def _crossings(ring: np.ndarray, level: float) -> int:
    a, b = ring, np.roll(ring, -1, axis=0)
    return int(((a[:, 1] - level) * (b[:, 1] - level) < 0).sum())


def is_skirt(piece: DxfPiece, ring: np.ndarray) -> bool:
    """A skirt piece: named so, or a front whose top is one waist line (a horizontal line 1 cm
    under its top crosses the outline twice; a bodice's neck and shoulders make it four)."""
    words = f"{piece.category} {piece.name}".upper()
    if "SKIRT" in words:
        return True
    return _crossings(ring, float(ring[:, 1].max()) - 0.01) <= 2


def skirt_panel(
    name: str, ring: np.ndarray, corners: np.ndarray, center: float, back: bool
) -> Panel:
    """Hem, side, waist, side: the waist corners are the outermost near the top, the hem corners
    the outermost low down (as the bodice's)."""
    y = ring[:, 1]
    top, height = y.max(), np.ptp(y)
    keys = {}
    for tag, sign in (("p", 1.0), ("m", -1.0)):
        out, side = _half_corners(ring, corners, center, sign, minimum=2, piece="skirt piece")
        upper = [c for c in side if y[c] > top - 0.05] or [max(side, key=lambda c: y[c])]
        keys[f"waist_{tag}"] = max(upper, key=lambda c: out[c])
        low = [c for c in side if y[c] < y.min() + 0.35 * height] or [min(side, key=lambda c: y[c])]
        keys[f"hem_{tag}"] = _hem_corner(low, out, y)
    pos, neg = ("r", "l") if back else ("l", "r")
    chain = [
        ("hem", "hem_m", "hem_p"),
        (f"side_{pos}", "hem_p", "waist_p"),
        ("waist", "waist_p", "waist_m"),
        (f"side_{neg}", "waist_m", "hem_m"),
    ]
    edges = [Edge(_clean(_path(ring, keys[a], keys[b])), label) for label, a, b in chain]
    waist_y = 0.5 * (ring[keys["waist_p"], 1] + ring[keys["waist_m"], 1])
    return Panel(
        name,
        tuple(edges),
        np.array([0.0, 1.0]),
        Placement("skirt", float(center), "back" if back else "front", "waist", float(waist_y)),
    )


def sleeve_panel(ring: np.ndarray, corners: np.ndarray, front_arm: float, back_arm: float) -> Panel:
    """The left sleeve: hem, under_b (x > crown), cap_b, cap_f, under_f; the cap is cut where
    its length divides as the back and front armholes."""
    y = ring[:, 1]
    crown = int(np.argmax(y))
    center = float(ring[crown, 0])
    out = ring[:, 0] - center
    idx = {}
    for tag, sign in (("p", 1.0), ("m", -1.0)):
        side = [int(c) for c in corners if sign * out[c] > 0.01]
        if len(side) < 2:
            raise ValueError(
                f"too few corners on the {'right' if sign > 0 else 'left'} half of the sleeve"
            )
        # the hem's end: the lowest corner (of those within 5 mm of it, the outermost)
        lowest = min(y[c] for c in side)
        hem = max((c for c in side if y[c] <= lowest + 0.005), key=lambda c: sign * out[c])
        rest = [c for c in side if c != hem and y[c] > y[hem]]
        if not rest:
            raise ValueError("no underarm corner above the sleeve's hem")
        widest = max(sign * out[c] for c in rest)
        idx[f"hem_{tag}"] = hem
        idx[f"ua_{tag}"] = max(
            (c for c in rest if sign * out[c] >= widest - 0.003), key=lambda c: y[c]
        )
    cap = _clean(_path(ring, idx["ua_p"], idx["ua_m"]))
    cap_b, cap_f = _split(cap, back_arm / (front_arm + back_arm))
    edges = [
        Edge(_clean(_path(ring, idx["hem_m"], idx["hem_p"])), "hem"),
        Edge(_clean(_path(ring, idx["hem_p"], idx["ua_p"])), "under_b"),
        Edge(cap_b, "cap_b"),
        Edge(cap_f, "cap_f"),
        Edge(_clean(_path(ring, idx["ua_m"], idx["hem_m"])), "under_f"),
    ]
    return Panel(
        "sleeve_l",
        tuple(edges),
        np.array([0.0, 1.0]),
        Placement("arm_left", center, "outer", "arm_top", float(y.max())),
    )


def _frame(piece: DxfPiece) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along and across the piece's grain (file frame)."""
    g = piece.grain[1] - piece.grain[0] if piece.grain is not None else np.array([0.0, 1.0])
    g = g / np.linalg.norm(g) if np.linalg.norm(g) > 1e-9 else np.array([0.0, 1.0])
    return g, np.array([g[1], -g[0]])


def mirror_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance [m] from the points of ``a`` to the nearest of ``b`` (both centred)."""
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    return float(np.linalg.norm(a[:, None] - b[None], axis=2).min(axis=1).mean())


def piece_uv(piece: DxfPiece) -> np.ndarray:
    along, across = _frame(piece)
    return np.stack([piece.boundary @ across, piece.boundary @ along], axis=1)


def centre_edge(piece: DxfPiece) -> np.ndarray | None:
    """A half piece's centre line (2, 2) [m, file frame]: the longer straight run along the grain
    at one side of the piece (the other side's run is the side seam's, up to the underarm)."""
    uv = piece_uv(piece)
    best = None
    for v in (uv[:, 0].min(), uv[:, 0].max()):
        run = np.abs(uv[:, 0] - v) <= 0.002
        if run.sum() >= 2:
            span = float(np.ptp(uv[run, 1]))
            if best is None or span > best[0]:
                idx = np.flatnonzero(run)
                best = (
                    span,
                    piece.boundary[idx[np.argmin(uv[idx, 1])]],
                    piece.boundary[idx[np.argmax(uv[idx, 1])]],
                )
    return None if best is None or best[0] < 0.1 else np.stack([best[1], best[2]])
