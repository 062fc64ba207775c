"""Raglan tops: the sleeve's cap runs up to the neck along a raglan line, and the front and back
have that line in place of an armhole and a shoulder seam.

The bodice is cut at its underarm and neck points into ``hem``, ``side_*``, ``armhole_*`` (the
whole raglan line, underarm to neck) and ``neck``; the sleeve into ``hem``, ``under_b``,
``cap_b`` (the back raglan line), ``neck`` (the cap's top, between the raglan lines' top
corners), ``cap_f`` and ``under_f``, so the seams and the placement are the set-in top's with no
shoulder seam. The bodice hangs from a shoulder height ``_SHOULDER_DROP_M`` under its neck
points; the sleeve's shoulder point (at the acromion) lies ``_CAP_OVER_SHOULDER_M`` under the
cap's top, as raglan drafts put it.
"""

from __future__ import annotations

import numpy as np

from tryon3d.garments._panels import _clean, _path, _torso_keys
from tryon3d.garments._pattern import Edge, Panel, Placement

__all__ = ["raglan_sleeve_panel", "raglan_torso_panel"]

_SHOULDER_DROP_M = 0.045  # a set-in bodice's shoulder point lies this far under its neck point
_CAP_OVER_SHOULDER_M = 0.10  # a raglan sleeve's top reaches this far past the shoulder point


def raglan_torso_panel(
    name: str, ring: np.ndarray, corners: np.ndarray, center: float, back: bool
) -> Panel:
    """A raglan front or back (see the module doc)."""
    k = _torso_keys(ring, corners, center)
    pos, neg = ("r", "l") if back else ("l", "r")
    chain = [
        ("hem", "hem_m", "hem_p"),
        (f"side_{pos}", "hem_p", "ua_p"),
        (f"armhole_{pos}", "ua_p", "np_p"),
        ("neck", "np_p", "np_m"),
        (f"armhole_{neg}", "np_m", "ua_m"),
        (f"side_{neg}", "ua_m", "hem_m"),
    ]
    edges = [Edge(_clean(_path(ring, k[a], k[b])), label) for label, a, b in chain]
    neck_y = 0.5 * (ring[k["np_p"], 1] + ring[k["np_m"], 1])
    placement = Placement(
        "torso", float(center), "back" if back else "front", "shoulder", neck_y - _SHOULDER_DROP_M
    )
    return Panel(name, tuple(edges), np.array([0.0, 1.0]), placement)


def _sleeve_keys(ring: np.ndarray, corners: np.ndarray) -> dict[str, int]:
    """Ring indices of the hem corners, underarms and raglan lines' top corners (``_p`` at x
    over the middle of the cap's top, ``_m`` under it)."""
    y, x = ring[:, 1], ring[:, 0]
    ranked = sorted((int(c) for c in corners), key=lambda c: -y[c])
    first = ranked[0]
    second = next(
        (c for c in ranked[1:] if abs(x[c] - x[first]) > 0.02 and y[c] > y[first] - 0.06), None
    )
    if second is None:
        raise ValueError("the raglan sleeve's cap has one top corner, not a neck edge")
    mid = 0.5 * (x[first] + x[second])
    keys = {}
    for tag, sign in (("p", 1.0), ("m", -1.0)):
        out = sign * (x - mid)
        side = [int(c) for c in corners if out[c] > 0.005]
        top = first if out[first] > 0 else second
        lowest = min(y[c] for c in side)
        hem = max((c for c in side if y[c] <= lowest + 0.005), key=lambda c: out[c])
        rest = [c for c in side if c not in (hem, top) and y[hem] < y[c] < y[top] - 0.05]
        if not rest:
            raise ValueError("no underarm corner between the raglan sleeve's hem and its top")
        widest = max(out[c] for c in rest)
        ua = max((c for c in rest if out[c] >= widest - 0.003), key=lambda c: y[c])
        keys.update({f"hem_{tag}": hem, f"ua_{tag}": ua, f"top_{tag}": top})
    return keys


def raglan_sleeve_panel(ring: np.ndarray, corners: np.ndarray) -> Panel:
    """The left raglan sleeve, its back half at x > the cap's top (see the module doc)."""
    k = _sleeve_keys(ring, corners)
    chain = [
        ("hem", "hem_m", "hem_p"),
        ("under_b", "hem_p", "ua_p"),
        ("cap_b", "ua_p", "top_p"),
        ("neck", "top_p", "top_m"),
        ("cap_f", "top_m", "ua_m"),
        ("under_f", "ua_m", "hem_m"),
    ]
    edges = [Edge(_clean(_path(ring, k[a], k[b])), label) for label, a, b in chain]
    top = float(max(ring[k["top_p"], 1], ring[k["top_m"], 1]))
    center = float(0.5 * (ring[k["top_p"], 0] + ring[k["top_m"], 0]))
    return Panel(
        "sleeve_l",
        tuple(edges),
        np.array([0.0, 1.0]),
        Placement("arm_left", center, "outer", "arm_top", top - _CAP_OVER_SHOULDER_M),
    )
