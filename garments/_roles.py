"""Which piece goes where: roles, edges, seams and placement of imported pattern pieces.

Pattern files name their pieces ("REGULAR TEEFR", category "FRONT") but say nothing about how
they are sewn or where they sit on a body. Here:

- roles come from the ``Category:`` text, else the piece name's last word or suffix after the
  style name (``FR``/``FRONT``, ``BK``/``BACK``, ``SL``/``SLV``/``SS``/``SLEEVE``; collars,
  cuffs, plackets, ribs, waistbands, hoods, pockets and interlinings are recognised and, for
  now, not draped); a sidecar file overrides them;
- each piece is turned so its grain line runs up the body, the cap/neck up: the end of the
  piece with the longer straight run across the grain is the hem (grain lines have no
  reliable arrow);
- a piece drafted as a half (mirror line on its outline) is unfolded;
- the seam line is draped when the file has one (layer 14), else the cut line;
- torso pieces are cut into the edges our own families use (hem, side, armhole, shoulder,
  neck per side) at their key corners (hem corner, underarm, shoulder point, neck point), and
  sleeves into hem, underarm seams and a cap split where front and back armholes meet it; a
  front whose top is one waist line (or a piece named SKIRT) makes a skirt (hem, sides, waist);
- a sleeve is mirrored when that puts its cap's notches where the armholes have theirs, and
  every seam's notches are compared (``Pattern.metadata["notches"]``);
- seams: front and back sides and shoulders, sleeve caps to armholes, each sleeve's underarm;
  each is kept only when its two edges agree in length (5 %), else reported;
- quantity 2 (or a sleeve) gives a left and a right copy.

Sidecar ``<file>.tryon3d.json`` (all keys optional)::

    {"pieces": {"REGULAR TEEFR": "front", "REGULAR TEEBK": "back", "REGULAR TEESL1": "sleeve",
                "REGULAR TEECO": "skip"},
     "flip": ["REGULAR TEESL1"],
     "seams": [["front", "side_l", "back", "side_l"]]}

``pieces`` maps piece names to ``front``/``back``/``sleeve``/``skip``; ``flip`` turns pieces
upside down; ``seams`` replaces the inferred seams (our panel and edge names, or edge indices).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from tryon3d.garments._dxf import DxfFile, DxfPiece, unfold_mirror
from tryon3d.garments._pattern import Edge, Panel, Pattern, Placement, Seam

__all__ = ["common_prefix", "infer_role", "pattern_from_dxf", "read_sidecar", "ROLES"]

ROLES = ("front", "back", "sleeve", "skip")
_ACCESSORY = re.compile(r"\bCO\b|COLLAR|CUFF|PLACKET|RIB|BINDING|WAISTBAND|HOOD|POCKET|FACING|INTERLIN|FUSING|"
                        r"STAND|YOKE|BELT|LOOP|STRAP|FLAP")
_BOTTOM = re.compile(r"\bLEG\b|LEGGING|TROUSER|\bPANTS?\b|\bSHORTS\b|\bJEANS?\b")
_WORDS = {  # sleeve first: "SL FR" is the front half of a sleeve
    "sleeve": re.compile(r"\bSLEEVE\b|\bSLV\b|\bSL\d*\b|\bSS\d*\b|\bLS\b"),
    "front": re.compile(r"\bFRONT\b|\bFRT\b|\bFR\b|\bFT\b|\bF\b"),
    "back": re.compile(r"\bBACK\b|\bBK\b|\bBCK\b|\bB\b"),
}
_SUFFIX = {"FR": "front", "FRT": "front", "BK": "back", "SL": "sleeve", "SLV": "sleeve", "SS": "sleeve",
           "LS": "sleeve", "CO": "skip", "CU": "skip", "WB": "skip", "NR": "skip", "RN": "skip",
           "YP": "skip", "YL": "skip", "IX": "skip", "IY": "skip"}
_SEAM_TOLERANCE = 0.05  # as validate_pattern


def common_prefix(names: list[str]) -> str:
    """The style code the piece names of one file share ("REGULAR TEE" of "REGULAR TEEFR", ...)."""
    if len(names) < 2:
        return ""
    first, last = min(names), max(names)
    k = 0
    while k < min(len(first), len(last)) and first[k] == last[k]:
        k += 1
    return first[:k]


def infer_role(piece: DxfPiece, prefix: str = "") -> str | None:
    """``front``/``back``/``sleeve``/``skip``/``bottom`` from the piece's category and name
    (``prefix``: the style code all the file's piece names start with), None when neither says."""
    prefix = prefix.upper()
    category = piece.category.upper()
    name = piece.name.upper()
    short = name[len(prefix):].strip(" -_") if prefix and name.startswith(prefix) else name
    if prefix and category.startswith(prefix):
        category = category[len(prefix):].strip(" -_")
    if _BOTTOM.search(category) or _BOTTOM.search(short):
        return "bottom"
    for text in (category, short):
        if not text or text == name and text == category:
            continue
        if _ACCESSORY.search(text):
            return "skip"
        for role, pattern in _WORDS.items():
            if pattern.search(text.replace("_", " ").replace("-", " ")):
                return role
    tail = re.sub(r"[\d\s]+$", "", re.split(r"[\s\-_]", short)[-1] if short else "")
    for size in (3, 2):
        if tail[-size:] in _SUFFIX:
            return _SUFFIX[tail[-size:]]
    return None


def read_sidecar(path: Path) -> dict:
    """The sidecar next to a pattern file (``<file>.tryon3d.json``), {} when there is none.

    Raises:
        ValueError: unreadable JSON or unknown keys/roles.
    """
    side = path.with_name(path.name + ".tryon3d.json")
    if not side.is_file():
        return {}
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"sidecar {side.name!r} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or set(data) - {"pieces", "flip", "seams"}:
        raise ValueError(f"sidecar {side.name!r}: expected an object with keys pieces, flip, seams")
    bad = {k: v for k, v in data.get("pieces", {}).items() if v not in ROLES}
    if bad:
        raise ValueError(f"sidecar {side.name!r}: roles must be one of {ROLES}, got {bad}")
    return data


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
    x = a[cross, 0] + (level - a[cross, 1]) / (b[cross, 1] - a[cross, 1]) * (b[cross, 0] - a[cross, 0])
    return float(x.max() - x.min())


def _upright(piece: DxfPiece, flip: bool) -> tuple[np.ndarray, np.ndarray, bool, np.ndarray]:
    """The piece's draped outline (sew line if any), unfolded, grain turned to +y, hem down:
    (ring (N, 2) [m], corners (E,), unfolded, notches (K, 2) [m] moved alike)."""
    ring, corners = (piece.sew_line, piece.sew_corners) if piece.sew_line is not None else (piece.boundary,
                                                                                              piece.corners)
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


def _notch_check(seam: Seam, panels: dict[str, Panel], notches: dict[str, np.ndarray]) -> str:
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
    second = np.vstack([cut, points[k + 1:]])
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


def _torso_keys(ring: np.ndarray, corners: np.ndarray, center: float) -> dict[str, int]:
    """Ring indices of the hem corner, underarm, shoulder point and neck point on each side
    (``_p`` at x > center, ``_m`` at x < center)."""
    y = ring[:, 1]
    top, height = y.max(), np.ptp(y)
    keys = {}
    for tag, sign in (("p", 1.0), ("m", -1.0)):
        out = sign * (ring[:, 0] - center)
        side = [int(c) for c in corners if out[c] > 0.01]
        if len(side) < 3:
            raise ValueError(f"too few corners on the {'right' if sign > 0 else 'left'} half of the piece")
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
        widest = max(out[c] for c in low)
        hem = min((c for c in low if out[c] >= widest - 0.003), key=lambda c: y[c])
        keys.update({f"hem_{tag}": hem, f"ua_{tag}": ua, f"sp_{tag}": sp, f"np_{tag}": neck})
    return keys


def _torso_panel(name: str, ring: np.ndarray, corners: np.ndarray, center: float, back: bool) -> Panel:
    k = _torso_keys(ring, corners, center)
    pos, neg = ("r", "l") if back else ("l", "r")  # the wearer's side, as the families name it
    chain = [("hem", "hem_m", "hem_p"), (f"side_{pos}", "hem_p", "ua_p"), (f"armhole_{pos}", "ua_p", "sp_p"),
             (f"shoulder_{pos}", "sp_p", "np_p"), ("neck", "np_p", "np_m"), (f"shoulder_{neg}", "np_m", "sp_m"),
             (f"armhole_{neg}", "sp_m", "ua_m"), (f"side_{neg}", "ua_m", "hem_m")]
    edges = [Edge(_clean(_path(ring, k[a], k[b])), label) for label, a, b in chain]
    sp_y = 0.5 * (ring[k["sp_p"], 1] + ring[k["sp_m"], 1])
    placement = Placement("torso", float(center), "back" if back else "front", "shoulder", float(sp_y))
    return Panel(name, edges, (0.0, 1.0), placement)


def _crossings(ring: np.ndarray, level: float) -> int:
    a, b = ring, np.roll(ring, -1, axis=0)
    return int((((a[:, 1] - level) * (b[:, 1] - level) < 0)).sum())


def _is_skirt(piece: DxfPiece, ring: np.ndarray) -> bool:
    """A skirt piece: named so, or a front whose top is one waist line (a horizontal line 1 cm
    under its top crosses the outline twice; a bodice's neck and shoulders make it four)."""
    words = f"{piece.category} {piece.name}".upper()
    if "SKIRT" in words:
        return True
    return _crossings(ring, float(ring[:, 1].max()) - 0.01) <= 2


def _skirt_panel(name: str, ring: np.ndarray, corners: np.ndarray, center: float, back: bool) -> Panel:
    """Hem, side, waist, side: the waist corners are the outermost near the top, the hem corners
    the outermost low down (as the bodice's)."""
    y = ring[:, 1]
    top, height = y.max(), np.ptp(y)
    keys = {}
    for tag, sign in (("p", 1.0), ("m", -1.0)):
        out = sign * (ring[:, 0] - center)
        side = [int(c) for c in corners if out[c] > 0.01]
        if len(side) < 2:
            raise ValueError(f"too few corners on the {'right' if sign > 0 else 'left'} half of the skirt piece")
        upper = [c for c in side if y[c] > top - 0.05] or [max(side, key=lambda c: y[c])]
        keys[f"waist_{tag}"] = max(upper, key=lambda c: out[c])
        low = [c for c in side if y[c] < y.min() + 0.35 * height] or [min(side, key=lambda c: y[c])]
        widest = max(out[c] for c in low)
        keys[f"hem_{tag}"] = min((c for c in low if out[c] >= widest - 0.003), key=lambda c: y[c])
    pos, neg = ("r", "l") if back else ("l", "r")
    chain = [("hem", "hem_m", "hem_p"), (f"side_{pos}", "hem_p", "waist_p"), ("waist", "waist_p", "waist_m"),
             (f"side_{neg}", "waist_m", "hem_m")]
    edges = [Edge(_clean(_path(ring, keys[a], keys[b])), label) for label, a, b in chain]
    waist_y = 0.5 * (ring[keys["waist_p"], 1] + ring[keys["waist_m"], 1])
    return Panel(name, edges, (0.0, 1.0), Placement("skirt", float(center), "back" if back else "front", "waist",
                                                    float(waist_y)))


def _sleeve_panel(ring: np.ndarray, corners: np.ndarray, front_arm: float, back_arm: float) -> Panel:
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
            raise ValueError(f"too few corners on the {'right' if sign > 0 else 'left'} half of the sleeve")
        # the hem's end: the lowest corner (of those within 5 mm of it, the outermost)
        lowest = min(y[c] for c in side)
        hem = max((c for c in side if y[c] <= lowest + 0.005), key=lambda c: sign * out[c])
        rest = [c for c in side if c != hem and y[c] > y[hem]]
        if not rest:
            raise ValueError("no underarm corner above the sleeve's hem")
        widest = max(sign * out[c] for c in rest)
        idx[f"hem_{tag}"] = hem
        idx[f"ua_{tag}"] = max((c for c in rest if sign * out[c] >= widest - 0.003), key=lambda c: y[c])
    cap = _clean(_path(ring, idx["ua_p"], idx["ua_m"]))
    cap_b, cap_f = _split(cap, back_arm / (front_arm + back_arm))
    edges = [Edge(_clean(_path(ring, idx["hem_m"], idx["hem_p"])), "hem"),
             Edge(_clean(_path(ring, idx["hem_p"], idx["ua_p"])), "under_b"),
             Edge(cap_b, "cap_b"), Edge(cap_f, "cap_f"),
             Edge(_clean(_path(ring, idx["ua_m"], idx["hem_m"])), "under_f")]
    return Panel("sleeve_l", edges, (0.0, 1.0), Placement("arm_left", center, "outer", "arm_top", float(y.max())))


def _frame(piece: DxfPiece) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along and across the piece's grain (file frame)."""
    g = piece.grain[1] - piece.grain[0] if piece.grain is not None else np.array([0.0, 1.0])
    g = g / np.linalg.norm(g) if np.linalg.norm(g) > 1e-9 else np.array([0.0, 1.0])
    return g, np.array([g[1], -g[0]])


def _mirror_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance [m] from the points of ``a`` to the nearest of ``b`` (both centred)."""
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    return float(np.linalg.norm(a[:, None] - b[None], axis=2).min(axis=1).mean())


def _uv(piece: DxfPiece) -> np.ndarray:
    along, across = _frame(piece)
    return np.stack([piece.boundary @ across, piece.boundary @ along], axis=1)


def _centre_edge(piece: DxfPiece) -> np.ndarray | None:
    """A half piece's centre line (2, 2) [m, file frame]: the longer straight run along the grain
    at one side of the piece (the other side's run is the side seam's, up to the underarm)."""
    uv = _uv(piece)
    best = None
    for v in (uv[:, 0].min(), uv[:, 0].max()):
        run = np.abs(uv[:, 0] - v) <= 0.002
        if run.sum() >= 2:
            span = float(np.ptp(uv[run, 1]))
            if best is None or span > best[0]:
                idx = np.flatnonzero(run)
                best = (span, piece.boundary[idx[np.argmin(uv[idx, 1])]], piece.boundary[idx[np.argmax(uv[idx, 1])]])
    return None if best is None or best[0] < 0.1 else np.stack([best[1], best[2]])


def _infer_by_shape(pieces: list[DxfPiece]) -> tuple[dict[str, str], dict[str, DxfPiece]]:
    """Roles of unnamed pieces (CLO's ``11``, ``Pattern2D_768516``...) from their shapes: left and
    right halves (mirror images, each lopsided) are joined about their straight centre edge;
    the two largest tall pieces are the bodice, the one with the deeper neck the front; the
    largest remaining piece symmetric about its grain is the sleeve. Returns roles and the
    pieces to use in place of the file's (a half with its centre edge as mirror line)."""
    uvs = {p.name: _uv(p) for p in pieces}
    symmetric = {p.name: _mirror_gap(uvs[p.name], uvs[p.name] * [-1.0, 1.0]) < 0.01 for p in pieces}
    roles: dict[str, str] = {}
    replaced: dict[str, DxfPiece] = {}
    done: set[str] = set()
    wholes = []
    for k, a in enumerate(pieces):
        if a.name in done:
            continue
        partner = next((b for b in pieces[k + 1:] if b.name not in done and len(b.boundary) == len(a.boundary)
                        and _mirror_gap(uvs[a.name], uvs[b.name] * [-1.0, 1.0]) < 0.005), None)
        if partner is not None and not symmetric[a.name] and (line := _centre_edge(a)) is not None:
            replaced[a.name] = DxfPiece(**{**a.__dict__, "mirror": line})
            roles[partner.name] = "skip"  # its mirror image, joined into ``a``
            done |= {a.name, partner.name}
            wholes.append(replaced[a.name])
        else:
            done.add(a.name)
            if partner is not None:
                roles[partner.name] = "skip"  # the other sleeve of a pair
                done.add(partner.name)
            wholes.append(a)

    def size(p: DxfPiece) -> tuple[float, float, float]:
        uv = uvs[p.name]
        factor = 2.0 if p.name in replaced else 1.0
        return float(np.ptp(uv[:, 1])), factor * float(np.ptp(uv[:, 0])), factor * abs(_area(p.boundary))

    tall = sorted((p for p in wholes if size(p)[0] > 0.35 and size(p)[1] > 0.3), key=lambda p: -size(p)[2])[:2]
    if len(tall) == 2:
        def neck_depth(p: DxfPiece) -> float:
            ring, _, _, _ = _upright(p, False)
            centre = ring[:, 0].max() / 2.0
            near = np.abs(ring[:, 0] - centre) < 0.02
            return float(ring[:, 1].max() - ring[near, 1].max()) if near.any() else 0.0

        front, back = sorted(tall, key=neck_depth, reverse=True)
        roles[front.name], roles[back.name] = "front", "back"
    rest = [p for p in wholes if p.name not in roles and symmetric[p.name] is not None and size(p)[2] > 0.02]
    sleeves = [p for p in rest if _mirror_gap(uvs[p.name], uvs[p.name] * [-1.0, 1.0]) < 0.02]
    if sleeves and len(tall) == 2:
        roles[max(sleeves, key=lambda p: size(p)[2]).name] = "sleeve"
    return roles, replaced


def _area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return float(0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _best_sleeve(ring: np.ndarray, corners: np.ndarray, sleeve_notches: np.ndarray, bodice: dict[str, Panel],
                 notches: dict[str, np.ndarray]) -> Panel:
    """The left sleeve, its back half at x > crown: as drawn or mirrored, whichever puts the cap's
    notches where the armholes have theirs (a sleeve has no name for its back; the notches
    say, e.g. one at the front armhole and two at the back). Sets ``notches["sleeve_l"]``."""
    arms = (bodice["front"].edge("armhole_l").length, bodice["back"].edge("armhole_l").length)
    n = len(ring)
    mirrored = (ring * [-1.0, 1.0])[::-1]
    shift = mirrored.min(axis=0)
    options = [(_sleeve_panel(ring, corners, *arms), sleeve_notches)]
    try:
        options.append((_sleeve_panel(mirrored - shift, np.unique(n - 1 - corners), *arms),
                        sleeve_notches * [-1.0, 1.0] - shift))
    except ValueError:
        pass

    def score(option: tuple[Panel, np.ndarray]) -> int:
        panels = {**bodice, "sleeve_l": option[0]}
        marks = {**notches, "sleeve_l": option[1]}
        checks = [_notch_check(Seam(part, "armhole_l", "sleeve_l", cap), panels, marks)
                  for part, cap in (("front", "cap_f"), ("back", "cap_b"))]
        return sum(c == "agree" for c in checks) - sum(c.startswith("differ") for c in checks)

    best = max(options, key=score)  # ties keep the piece as drawn
    notches["sleeve_l"] = best[1]
    return best[0]


def pattern_from_dxf(read: DxfFile, size: str, *, sidecar: dict | None = None) -> Pattern:
    """A placeable, sewn Pattern from one size of a DXF pattern file.

    Raises:
        ValueError: one line saying what is missing (no front/back piece, a piece whose shape
            does not give its edges), with a pointer to the sidecar.
    """
    sidecar = sidecar or {}
    overrides, flips = sidecar.get("pieces", {}), set(sidecar.get("flip", []))
    hint = (f"; name the pieces' roles in {Path(read.path).name}.tryon3d.json "
            f"(see `tryon3d garments inspect`)")
    chosen: dict[str, DxfPiece] = {}
    roles, skipped = {}, []
    prefix = common_prefix(read.piece_names())
    pieces = read.size_pieces(size)
    named = {p.name: infer_role(p, prefix) for p in pieces}
    shaped: dict[str, str] = {}
    if not {"front", "back"} <= set(named.values()) | set(overrides.values()):
        # no names to go by: shapes (only the pieces neither names nor the sidecar place)
        unnamed = [p for p in pieces if named[p.name] is None and p.name not in overrides]
        shaped, replaced = _infer_by_shape(unnamed)
        pieces = [replaced.get(p.name, p) for p in pieces]
    for piece in pieces:
        role = overrides.get(piece.name) or named[piece.name] or shaped.get(piece.name)
        roles[piece.name] = role
        if role in ("front", "back", "sleeve") and role not in chosen:
            chosen[role] = piece
        else:
            skipped.append(f"{piece.name} ({role or 'no role'})" if role != "skip" else piece.name)
    missing = [r for r in ("front", "back") if r not in chosen]
    if missing and "bottom" in roles.values():
        raise ValueError(f"{Path(read.path).name}: trousers, leggings and shorts from pattern files are not "
                         f"placed yet (pieces {read.piece_names()}); tops and skirts are")
    if missing:
        raise ValueError(f"{Path(read.path).name}: no {' and no '.join(missing)} piece found among "
                         f"{read.piece_names()}{hint}")
    panels, notes = [], []
    notches: dict[str, np.ndarray] = {}
    skirt = False  # decided on the front piece
    for role in ("front", "back"):
        piece = chosen[role]
        uv = _uv(piece)
        if (piece.mirror is None and piece.quantity >= 2 and _mirror_gap(uv, uv * [-1.0, 1.0]) >= 0.01
                and (line := _centre_edge(piece)) is not None):
            # cut twice and lopsided: a left and a right half (a shirt's fronts), joined at the
            # straight edge along the grain (with a button stand, the stand's edge)
            piece = DxfPiece(**{**piece.__dict__, "mirror": line})
            notes.append(f"{piece.name}: quantity {piece.quantity} halves joined at their centre edge")
        ring, corners, unfolded, notches[role] = _upright(piece, piece.name in flips)
        center = float(0.5 * (ring[:, 0].min() + ring[:, 0].max()))
        if role == "front":
            skirt = _is_skirt(piece, ring)
        try:
            build = _skirt_panel if skirt else _torso_panel
            panels.append(build(role, ring, corners, center, back=role == "back"))
        except ValueError as exc:
            raise ValueError(f"{Path(read.path).name}: {role} piece {piece.name!r}: {exc}{hint}") from None
    front, back = panels
    seams = [Seam("front", f"{e}_{s}", "back", f"{e}_{s}") for e in ("side", "shoulder") for s in ("l", "r")
             if not (skirt and e == "shoulder")]
    if "sleeve" in chosen and not skirt:
        ring, corners, _, sleeve_notches = _upright(chosen["sleeve"], chosen["sleeve"].name in flips)
        try:
            left = _best_sleeve(ring, corners, sleeve_notches, {"front": front, "back": back}, notches)
        except ValueError as exc:
            raise ValueError(f"{Path(read.path).name}: sleeve piece {chosen['sleeve'].name!r}: {exc}{hint}") from None
        right = left.mirrored("sleeve_r", side="arm_right")
        panels += [left, right]
        for sleeve, s in ((left, "l"), (right, "r")):
            seams += [Seam(sleeve.name, "under_b", sleeve.name, "under_f"),
                      Seam("front", f"armhole_{s}", sleeve.name, "cap_f"),
                      Seam("back", f"armhole_{s}", sleeve.name, "cap_b")]
    by_name = {p.name: p for p in panels}
    if "seams" in sidecar:
        seams = [_sidecar_seam(item, by_name) for item in sidecar["seams"]]
    kept = []
    for seam in seams:
        la = by_name[seam.panel_a].edge(seam.edge_a).length
        lb = by_name[seam.panel_b].edge(seam.edge_b).length
        if abs(la - lb) <= _SEAM_TOLERANCE * max(la, lb):
            kept.append(seam)
        elif "seams" not in sidecar:  # a garment missing a side, shoulder or armhole seam falls apart
            raise ValueError(f"{Path(read.path).name}: the edges of seam {seam.label} differ in length "
                             f"({la * 100:.1f} cm vs {lb * 100:.1f} cm; raglan or split pieces?){hint}")
        else:
            notes.append(f"seam {seam.label} not sewn: {la * 100:.1f} cm vs {lb * 100:.1f} cm")
    metadata = {"source": read.path, "sizes": list(read.sizes), "units": read.units_note, "roles": roles,
                "not_draped": skipped, "notes": notes,
                "notches": {seam.label: _notch_check(seam, by_name, notches) for seam in kept},
                "pieces": {role: piece.name for role, piece in chosen.items()}}
    return Pattern(read.style, size, tuple(panels), tuple(kept), {}, metadata)


def _sidecar_seam(item: list, panels: dict[str, Panel]) -> Seam:
    if not isinstance(item, list) or len(item) not in (4, 5):
        raise ValueError(f"sidecar seam {item!r}: expected [panel_a, edge_a, panel_b, edge_b(, reverse)]")
    a, ea, b, eb = item[:4]
    names = []
    for panel, edge in ((a, ea), (b, eb)):
        if panel not in panels:
            raise ValueError(f"sidecar seam {item!r}: no panel {panel!r}; panels: {sorted(panels)}")
        edges = [e.name for e in panels[panel].edges]
        if isinstance(edge, int) and 0 <= edge < len(edges):
            edge = edges[edge]
        if edge not in edges:
            raise ValueError(f"sidecar seam {item!r}: panel {panel!r} has no edge {edge!r}; edges: {edges}")
        names.append(edge)
    return Seam(a, names[0], b, names[1], bool(item[4]) if len(item) == 5 else True)
