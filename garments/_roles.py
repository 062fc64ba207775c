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

import contextlib
import json
import re
from pathlib import Path

import numpy as np

from tryon3d.garments._bottoms import LegShape, distinct_legs, leg_panels, leg_shape
from tryon3d.garments._dxf import DxfFile, DxfPiece
from tryon3d.garments._panels import (
    _mirror_x,
    centre_edge,
    is_skirt,
    mirror_gap,
    notch_check,
    piece_uv,
    ring_area,
    skirt_panel,
    sleeve_panel,
    torso_panel,
    upright,
)
from tryon3d.garments._pattern import Panel, Pattern, Seam
from tryon3d.garments._raglan import raglan_sleeve_panel, raglan_torso_panel

__all__ = [
    "ROLES",
    "NotAGarmentError",
    "common_prefix",
    "infer_role",
    "pattern_from_dxf",
    "read_sidecar",
]

ROLES = ("front", "back", "sleeve", "skip", "leg_front", "leg_back", "leg")
_ACCESSORY = re.compile(
    r"\bCO\b|COLLAR|CUFF|PLACKET|RIB|BINDING|WAISTBAND|HOOD|POCKET|FACING|INTERLIN|FUSING|"
    r"STAND|YOKE|BELT|LOOP|STRAP|FLAP"
)
_BOTTOM = re.compile(r"\bLEG\b|LEGGING|TROUSER|\bPANTS?\b|\bSHORTS\b|\bJEANS?\b")
_WORDS = {  # sleeve first: "SL FR" is the front half of a sleeve
    "sleeve": re.compile(r"\bSLEEVE\b|\bSLV\b|\bSL\d*\b|\bSS\d*\b|\bLS\b"),
    "front": re.compile(r"\bFRONT\b|\bFRT\b|\bFR\b|\bFT\b|\bF\b"),
    "back": re.compile(r"\bBACK\b|\bBK\b|\bBCK\b|\bB\b"),
}
_SUFFIX = {
    "FR": "front",
    "FRT": "front",
    "BK": "back",
    "SL": "sleeve",
    "SLV": "sleeve",
    "SS": "sleeve",
    "LS": "sleeve",
    "CO": "skip",
    "CU": "skip",
    "WB": "skip",
    "NR": "skip",
    "RN": "skip",
    "YP": "skip",
    "YL": "skip",
    "IX": "skip",
    "IY": "skip",
}
_SEAM_TOLERANCE = 0.05  # as validate_pattern


class NotAGarmentError(ValueError):
    """A pattern file that holds nothing to wear (CLO's test box: one plain rectangle)."""


def _plain_rectangle(piece: DxfPiece) -> bool:
    """One straight-sided rectangle (every outline point on its bounding box), no notches,
    internal lines or mirror line: a sheet of cloth, nothing cut to a body."""
    uv = piece_uv(piece)
    lo, hi = uv.min(axis=0), uv.max(axis=0)
    tol = 0.002 * float(np.max(hi - lo))  # CLO's box is 1 mm out of square over 3 m
    on_box = (np.abs(uv - lo) <= tol) | (np.abs(uv - hi) <= tol)
    return (
        bool(on_box.any(axis=1).all())
        and len(piece.corners) == 4
        and not len(piece.notches)
        and not piece.internal
        and piece.mirror is None
    )


def _refuse_non_garment(read: DxfFile, pieces: list[DxfPiece], sidecar: dict) -> None:
    if len(pieces) != 1 or sidecar.get("pieces") or not _plain_rectangle(pieces[0]):
        return
    file = Path(read.path).name
    w, h = np.ptp(piece_uv(pieces[0]), axis=0) * 100.0
    raise NotAGarmentError(
        f"{file}: not a garment: its one piece {pieces[0].name!r} is a plain "
        f"{max(w, h):.0f} x {min(w, h):.0f} cm rectangle with nothing to sew it to (a test "
        f"box or a sheet of cloth)"
    )


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
    short = name[len(prefix) :].strip(" -_") if prefix and name.startswith(prefix) else name
    if prefix and category.startswith(prefix):
        category = category[len(prefix) :].strip(" -_")
    if _BOTTOM.search(category) or _BOTTOM.search(short):
        return "bottom"
    for text in (category, short):
        if not text or (text == name and text == category):
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


def _infer_by_shape(pieces: list[DxfPiece]) -> tuple[dict[str, str], dict[str, DxfPiece]]:
    """Roles of unnamed pieces (CLO's ``11``, ``Pattern2D_768516``...) from their shapes: left and
    right halves (mirror images, each lopsided) are joined about their straight centre edge;
    the two largest tall pieces are the bodice, the one with the deeper neck the front; the
    largest remaining piece symmetric about its grain is the sleeve. Returns roles and the
    pieces to use in place of the file's (a half with its centre edge as mirror line)."""
    uvs = {p.name: piece_uv(p) for p in pieces}
    symmetric = {p.name: mirror_gap(uvs[p.name], uvs[p.name] * [-1.0, 1.0]) < 0.01 for p in pieces}
    roles: dict[str, str] = {}
    replaced: dict[str, DxfPiece] = {}
    done: set[str] = set()
    wholes = []
    for k, a in enumerate(pieces):
        if a.name in done:
            continue
        partner = next(
            (
                b
                for b in pieces[k + 1 :]
                if b.name not in done
                and len(b.boundary) == len(a.boundary)
                and mirror_gap(uvs[a.name], uvs[b.name] * [-1.0, 1.0]) < 0.005
            ),
            None,
        )
        if partner is not None and not symmetric[a.name] and (line := centre_edge(a)) is not None:
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
        return (
            float(np.ptp(uv[:, 1])),
            factor * float(np.ptp(uv[:, 0])),
            factor * abs(ring_area(p.boundary)),
        )

    tall = sorted(
        (p for p in wholes if size(p)[0] > 0.35 and size(p)[1] > 0.3), key=lambda p: -size(p)[2]
    )[:2]
    if len(tall) == 2:

        def neck_depth(p: DxfPiece) -> float:
            ring, _, _, _ = upright(p, False)
            centre = ring[:, 0].max() / 2.0
            near = np.abs(ring[:, 0] - centre) < 0.02
            return float(ring[:, 1].max() - ring[near, 1].max()) if near.any() else 0.0

        front, back = sorted(tall, key=neck_depth, reverse=True)
        roles[front.name], roles[back.name] = "front", "back"
    rest = [
        p
        for p in wholes
        if p.name not in roles and symmetric[p.name] is not None and size(p)[2] > 0.02
    ]
    sleeves = [p for p in rest if mirror_gap(uvs[p.name], uvs[p.name] * [-1.0, 1.0]) < 0.02]
    if sleeves and len(tall) == 2:
        roles[max(sleeves, key=lambda p: size(p)[2]).name] = "sleeve"
    return roles, replaced


def _best_sleeve(
    ring: np.ndarray,
    corners: np.ndarray,
    sleeve_notches: np.ndarray,
    bodice: dict[str, Panel],
    notches: dict[str, np.ndarray],
) -> Panel:
    """The left sleeve, its back half at x > crown: as drawn or mirrored, whichever puts the cap's
    notches where the armholes have theirs (a sleeve has no name for its back; the notches
    say, e.g. one at the front armhole and two at the back). Sets ``notches["sleeve_l"]``."""
    arms = (bodice["front"].edge("armhole_l").length, bodice["back"].edge("armhole_l").length)
    n = len(ring)
    mirrored = (ring * [-1.0, 1.0])[::-1]
    shift = mirrored.min(axis=0)
    options = [(sleeve_panel(ring, corners, *arms), sleeve_notches)]
    with contextlib.suppress(ValueError):
        options.append(
            (
                sleeve_panel(mirrored - shift, np.unique(n - 1 - corners), *arms),
                sleeve_notches * [-1.0, 1.0] - shift,
            )
        )

    def score(option: tuple[Panel, np.ndarray]) -> int:
        panels = {**bodice, "sleeve_l": option[0]}
        marks = {**notches, "sleeve_l": option[1]}
        checks = [
            notch_check(Seam(part, "armhole_l", "sleeve_l", cap), panels, marks)
            for part, cap in (("front", "cap_f"), ("back", "cap_b"))
        ]
        return sum(c == "agree" for c in checks) - sum(c.startswith("differ") for c in checks)

    best = max(options, key=score)  # ties keep the piece as drawn
    notches["sleeve_l"] = best[1]
    return best[0]


def pattern_from_dxf(read: DxfFile, size: str, *, sidecar: dict | None = None) -> Pattern:
    """A placeable, sewn Pattern from one size of a DXF pattern file.

    Raises:
        NotAGarmentError: a file with nothing to wear (one plain rectangle), in one line.
        ValueError: one line saying what is missing (no front/back piece, a piece whose shape
            does not give its edges), with a pointer to the sidecar.
    """
    sidecar = sidecar or {}
    overrides, flips = sidecar.get("pieces", {}), set(sidecar.get("flip", []))
    hint = (
        f"; name the pieces' roles in {Path(read.path).name}.tryon3d.json "
        f"(see `tryon3d garments inspect`)"
    )
    chosen: dict[str, DxfPiece] = {}
    roles, skipped = {}, []
    prefix = common_prefix(read.piece_names())
    pieces = read.size_pieces(size)
    _refuse_non_garment(read, pieces, sidecar)
    named = {p.name: infer_role(p, prefix) for p in pieces}
    bottom = _bottom_pattern(read, size, pieces, named, sidecar, hint=hint, prefix=prefix)
    if bottom is not None:
        return bottom
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
    if missing:
        raise ValueError(
            f"{Path(read.path).name}: no {' and no '.join(missing)} piece found among "
            f"{read.piece_names()}{hint}"
        )
    panels, notes = [], []
    notches: dict[str, np.ndarray] = {}
    outlines: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
    skirt = False  # decided on the front piece
    for role in ("front", "back"):
        piece = chosen[role]
        uv = piece_uv(piece)
        if (
            piece.mirror is None
            and piece.quantity >= 2
            and mirror_gap(uv, uv * [-1.0, 1.0]) >= 0.01
            and (line := centre_edge(piece)) is not None
        ):
            # cut twice and lopsided: a left and a right half (a shirt's fronts), joined at the
            # straight edge along the grain (with a button stand, the stand's edge)
            piece = DxfPiece(**{**piece.__dict__, "mirror": line})
            notes.append(
                f"{piece.name}: quantity {piece.quantity} halves joined at their centre edge"
            )
        ring, corners, _unfolded, notches[role] = upright(piece, piece.name in flips)
        center = float(0.5 * (ring[:, 0].min() + ring[:, 0].max()))
        outlines[role] = (ring, corners, center)
        if role == "front":
            skirt = is_skirt(piece, ring)
        try:
            build = skirt_panel if skirt else torso_panel
            panels.append(build(role, ring, corners, center, back=role == "back"))
        except ValueError as exc:
            raise ValueError(
                f"{Path(read.path).name}: {role} piece {piece.name!r}: {exc}{hint}"
            ) from None
    front, back = panels
    seams = [
        Seam("front", f"{e}_{s}", "back", f"{e}_{s}")
        for e in ("side", "shoulder")
        for s in ("l", "r")
        if not (skirt and e == "shoulder")
    ]
    if "sleeve" in chosen and not skirt:
        ring, corners, _, sleeve_notches = upright(chosen["sleeve"], chosen["sleeve"].name in flips)
        try:
            left = _best_sleeve(
                ring, corners, sleeve_notches, {"front": front, "back": back}, notches
            )
        except ValueError as exc:
            raise ValueError(
                f"{Path(read.path).name}: sleeve piece {chosen['sleeve'].name!r}: {exc}{hint}"
            ) from None
        if "seams" not in sidecar and _is_raglan(front, back, left):
            try:
                front, back, left = _raglan_panels(outlines, ring, corners)
            except ValueError as exc:
                _refuse_raglan(read, front, back, left, chosen, roles, str(exc))
            panels = [front, back]
            seams = [s for s in seams if "shoulder" not in s.edge_a]
            notes.append("raglan sleeves: sewn to the front and back along their raglan lines")
        right = left.mirrored("sleeve_r", side="arm_right")
        panels += [left, right]
        for sleeve, s in ((left, "l"), (right, "r")):
            seams += [
                Seam(sleeve.name, "under_b", sleeve.name, "under_f"),
                Seam("front", f"armhole_{s}", sleeve.name, "cap_f"),
                Seam("back", f"armhole_{s}", sleeve.name, "cap_b"),
            ]
    chosen_names = {role: piece.name for role, piece in chosen.items()}
    return _sewn_pattern(
        read,
        size,
        panels,
        seams,
        sidecar=sidecar,
        hint=hint,
        notes=notes,
        notches=notches,
        roles=roles,
        skipped=skipped,
        chosen=chosen_names,
    )


def _sewn_pattern(
    read: DxfFile,
    size: str,
    panels: list[Panel],
    seams: list[Seam],
    *,
    sidecar: dict,
    hint: str,
    notes: list[str],
    notches: dict[str, np.ndarray],
    roles: dict,
    skipped: list[str],
    chosen: dict[str, str],
) -> Pattern:
    """The Pattern with the seams whose edges agree in length (5 %); an inferred seam that does
    not is refused in one line (a garment missing a side seam falls apart), a sidecar's noted."""
    by_name = {p.name: p for p in panels}
    if "seams" in sidecar:
        seams = [_sidecar_seam(item, by_name) for item in sidecar["seams"]]
    kept = []
    for seam in seams:
        la = by_name[seam.panel_a].edge(seam.edge_a).length
        lb = by_name[seam.panel_b].edge(seam.edge_b).length
        if abs(la - lb) <= _SEAM_TOLERANCE * max(la, lb):
            kept.append(seam)
        elif "seams" not in sidecar:
            raise ValueError(
                f"{Path(read.path).name}: the edges of seam {seam.label} differ in length "
                f"({la * 100:.1f} cm vs {lb * 100:.1f} cm; raglan or split pieces?){hint}"
            )
        else:
            notes.append(f"seam {seam.label} not sewn: {la * 100:.1f} cm vs {lb * 100:.1f} cm")
    metadata = {
        "source": read.path,
        "sizes": list(read.sizes),
        "units": read.units_note,
        "roles": roles,
        "not_draped": skipped,
        "notes": notes,
        "notches": {seam.label: notch_check(seam, by_name, notches) for seam in kept},
        "pieces": chosen,
    }
    return Pattern(read.style, size, tuple(panels), tuple(kept), {}, metadata)


def _length(panel: Panel, *names: str) -> float:
    return float(sum(panel.edge(n).length for n in names))


def _raglan_lengths(front: Panel, back: Panel, sleeve: Panel) -> tuple[float, float, float]:
    """[m]: the bodice's armholes, its armholes and shoulders together, the sleeve's cap."""
    armholes = _length(front, "armhole_l") + _length(back, "armhole_l")
    to_neck = armholes + _length(front, "shoulder_l") + _length(back, "shoulder_l")
    return armholes, to_neck, _length(sleeve, "cap_f", "cap_b")


def _is_raglan(front: Panel, back: Panel, sleeve: Panel) -> bool:
    """Raglan sleeves: the sleeve's cap runs up to the neck, so its length is the bodice's
    armholes and shoulders together (a set-in cap: the armholes and 1-4 cm of ease), and the
    front's and back's "shoulders" (the raglan lines' tops) disagree."""
    armholes, to_neck, cap = _raglan_lengths(front, back, sleeve)
    shoulders = (_length(front, "shoulder_l"), _length(back, "shoulder_l"))
    agree = abs(shoulders[0] - shoulders[1]) <= _SEAM_TOLERANCE * max(shoulders)
    return not agree and abs(cap - to_neck) < abs(cap - armholes) and cap >= 1.15 * armholes


def _raglan_panels(
    outlines: dict[str, tuple[np.ndarray, np.ndarray, float]],
    ring: np.ndarray,
    corners: np.ndarray,
) -> tuple[Panel, Panel, Panel]:
    """Front, back and left sleeve cut along their raglan lines (``garments._raglan``); the
    sleeve as drawn or mirrored, whichever matches its raglan lines to the bodice's."""
    front = raglan_torso_panel("front", *outlines["front"], back=False)
    back = raglan_torso_panel("back", *outlines["back"], back=True)
    options = [raglan_sleeve_panel(ring, corners)]
    with contextlib.suppress(ValueError):
        options.append(raglan_sleeve_panel(*_mirror_x(ring, corners)))

    def mismatch(sleeve: Panel) -> float:
        return abs(_length(sleeve, "cap_b") - _length(back, "armhole_l")) + abs(
            _length(sleeve, "cap_f") - _length(front, "armhole_l")
        )

    return front, back, min(options, key=mismatch)


def _refuse_raglan(
    read: DxfFile,
    front: Panel,
    back: Panel,
    sleeve: Panel,
    chosen: dict[str, DxfPiece],
    roles: dict,
    why: str,
) -> None:
    """Refuse raglan sleeves whose pieces do not give their raglan lines, in one line."""
    armholes, to_neck, cap = _raglan_lengths(front, back, sleeve)
    file = Path(read.path).name
    others = sorted(n for n, r in roles.items() if r in (None, "skip") or n not in roles)
    raise ValueError(
        f"{file}: raglan sleeves (sleeve {chosen['sleeve'].name!r}'s cap, {cap * 100:.1f} cm, runs "
        f"up to the neck: the armholes and shoulders together are {to_neck * 100:.1f} cm, the "
        f"armholes alone {armholes * 100:.1f} cm), but {why}; name the seams in "
        f"{file}.tryon3d.json (hood and trims are not draped: {', '.join(others)})"
    )


def _leg_side(piece: DxfPiece, prefix: str) -> str | None:
    """``front``/``back`` when a leg piece's name or category says which, else None."""
    name = piece.name.upper()
    short = name[len(prefix) :] if prefix and name.startswith(prefix.upper()) else name
    for text in (piece.category.upper(), short):
        words = text.replace("_", " ").replace("-", " ")
        for side in ("front", "back"):
            if _WORDS[side].search(words):
                return side
    tail = re.sub(r"[\d\s]+$", "", short)
    return {"FR": "front", "FT": "front", "BK": "back"}.get(tail[-2:])


def _bottom_pattern(
    read: DxfFile,
    size: str,
    pieces: list[DxfPiece],
    named: dict[str, str | None],
    sidecar: dict,
    *,
    hint: str,
    prefix: str,
) -> Pattern | None:
    """Trousers, leggings or shorts (``garments._bottoms``) when the file's leg pieces make
    one, else None (a top or a skirt: the caller goes on)."""
    overrides, flips = sidecar.get("pieces", {}), set(sidecar.get("flip", []))
    file = Path(read.path).name
    roles = {p.name: overrides.get(p.name) or named[p.name] for p in pieces}
    legs: dict[str, tuple[DxfPiece, LegShape]] = {}
    for piece in pieces:
        role = roles[piece.name]
        by_name = role in ("bottom", "leg", "leg_front", "leg_back")
        if not by_name and role not in ("front", "back", "sleeve", None):
            continue
        shape = leg_shape(piece, flip=piece.name in flips)
        if shape is None and by_name and piece.name not in overrides:
            continue  # a waistband or pocket of a named bottom
        if shape is None and by_name:
            raise ValueError(f"{file}: piece {piece.name!r} is named a leg but has no crotch{hint}")
        if shape is not None and (by_name or float(np.ptp(shape.ring[:, 1])) >= 0.45):
            legs[piece.name] = (piece, shape)
    # a "sleeve" by a two-letter suffix may be a leg ("...SLS"); a front or back is a top's
    named_torso = [n for n, r in roles.items() if r in ("front", "back") and n not in legs]
    if not legs or named_torso:
        return None  # a top (or a jumpsuit, not read yet): the tops' inference decides
    sides: dict[str, list[str]] = {"front": [], "back": [], "leg": []}
    for name, (piece, shape) in legs.items():
        role = roles[name]
        side = {"leg_front": "front", "leg_back": "back", "front": "front", "back": "back"}.get(
            str(role)
        ) or _leg_side(piece, prefix)
        sides["leg" if side is None or (shape.whole and role != "leg_front") else side].append(name)
    front = back = whole = None
    if sides["front"] and sides["back"]:
        front, back = legs[sides["front"][0]], legs[sides["back"][0]]
    elif sides["leg"]:
        wholes = [n for n in sides["leg"] if legs[n][1].whole]
        if wholes:
            # length variants of one leg (shorts, 7/8, full) come as several: the sidecar's
            # choice, else the longest (the first of equals)
            picked = [n for n in wholes if overrides.get(n) == "leg"] or wholes
            whole = legs[max(picked, key=lambda n: round(float(np.ptp(legs[n][1].ring[:, 1])), 2))]
        else:
            distinct = distinct_legs([legs[n][1] for n in sides["leg"]])
            if len(distinct) == 2 and not sides["front"] and not sides["back"]:
                # two half legs, unnamed (the other leg's mirror copies aside): the back has
                # the longer crotch extension
                a, b = sorted(
                    (sides["leg"][k] for k in distinct), key=lambda n: max(legs[n][1].extension)
                )
                front, back = legs[a], legs[b]
    if front is None and whole is None:
        raise ValueError(
            f"{file}: leg pieces {sorted(legs)} do not say which is the front and which the "
            f"back; name them leg_front/leg_back in {file}.tryon3d.json"
        )
    try:
        panels, seams, notes = leg_panels(
            None if front is None else front[1],
            None if back is None else back[1],
            None if whole is None else whole[1],
        )
    except ValueError as exc:
        raise ValueError(f"{file}: leg pieces: {exc}{hint}") from None
    used = [x[0].name for x in (front, back, whole) if x is not None]
    chosen = (
        {"leg": whole[0].name} if whole is not None else {"leg_front": used[0], "leg_back": used[1]}
    )
    skipped = []
    for piece in pieces:
        if piece.name in used:
            roles[piece.name] = next(r for r, n in chosen.items() if n == piece.name)
            continue
        roles[piece.name] = "skip"
        skipped.append(piece.name)
        words = f"{piece.category} {piece.name}".upper()
        if piece.name in legs:
            notes.append(
                f"{piece.name}: another leg piece (the other leg's or a length variant) not "
                f'draped; pick one with "leg" in {file}.tryon3d.json'
            )
            continue
        what = "waistband" if re.search(r"WAISTBAND|\bWB\b|WB$", words) else "piece"
        notes.append(f"{piece.name}: {what} not sewn (the legs are draped without it)")
    if whole is not None:
        # a leg without an outseam is cut so only in stretch knits (leggings, tights)
        notes.append("legs without an outseam: a stretch knit (spandex_blend) unless fabric= says")
    pattern = _sewn_pattern(
        read,
        size,
        panels,
        seams,
        sidecar=sidecar,
        hint=hint,
        notes=notes,
        notches={},
        roles=roles,
        skipped=skipped,
        chosen=chosen,
    )
    if whole is not None:
        pattern.metadata["fabric"] = "spandex_blend"
    return pattern


def _sidecar_seam(item: list, panels: dict[str, Panel]) -> Seam:
    if not isinstance(item, list) or len(item) not in (4, 5):
        raise ValueError(
            f"sidecar seam {item!r}: expected [panel_a, edge_a, panel_b, edge_b(, reverse)]"
        )
    a, ea, b, eb = item[:4]
    names = []
    for panel, edge in ((a, ea), (b, eb)):
        if panel not in panels:
            raise ValueError(f"sidecar seam {item!r}: no panel {panel!r}; panels: {sorted(panels)}")
        edges = [e.name for e in panels[panel].edges]
        if isinstance(edge, int) and 0 <= edge < len(edges):
            edge = edges[edge]
        if edge not in edges:
            raise ValueError(
                f"sidecar seam {item!r}: panel {panel!r} has no edge {edge!r}; edges: {edges}"
            )
        names.append(edge)
    return Seam(a, names[0], b, names[1], bool(item[4]) if len(item) == 5 else True)
