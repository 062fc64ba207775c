"""What kind of garment a ``Garment`` is (top, dress or bottom), whatever it came from."""

from __future__ import annotations

from tryon3d.garments._families import FAMILIES
from tryon3d.garments._garment import Garment, GarmentInfo
from tryon3d.garments._pattern import Pattern

__all__ = ["GARMENT_KINDS", "garment_kind"]

#: The kinds ``garment_kind`` answers.
GARMENT_KINDS = ("top", "dress", "bottom")
#: A top whose hem hangs this far under the shoulder is a dress [m].
_DRESS_SHOULDER_TO_HEM_M = 0.85


def garment_kind(garment: Garment | Pattern) -> str:
    """``"top"``, ``"dress"`` or ``"bottom"`` (hangs from the waist and hips) of a garment or
    of the pattern it is cut from.

    Read from what made it, never from its name: a family's ``kind`` (a ``"dress"`` family is a
    dress), a mesh import's ``metadata["kind"]``, else the pattern's panel placements (torso
    pieces make a top, or a dress when they run more than 85 cm under the shoulder; skirt or leg
    pieces alone a bottom).

    Raises:
        TypeError: not a Garment.
        ValueError: nothing in the garment says what it is.
    """
    if isinstance(garment, Pattern):
        meta = GarmentInfo(pattern=garment, family=garment.metadata.get("family"))
    elif isinstance(garment, Garment):
        meta = garment.metadata
    else:
        raise TypeError(f"garment_kind expects a Garment or Pattern, got {type(garment).__name__}")
    family = meta.get("family")
    if family in FAMILIES:
        return "dress" if family == "dress" else FAMILIES[family].kind
    if meta.get("kind") in GARMENT_KINDS:
        return str(meta["kind"])
    pattern = meta.get("pattern")
    if isinstance(pattern, Pattern):
        parts = {p.placement.part for p in pattern.panels if p.placement is not None}
        if "torso" in parts:
            from tryon3d.garments._inspect import pattern_measurements

            drop = pattern_measurements(pattern).get("shoulder_to_hem", 0.0)
            return "dress" if drop > _DRESS_SHOULDER_TO_HEM_M else "top"
        if parts & {"skirt", "leg_left", "leg_right"}:
            return "bottom"
    raise ValueError(
        f"cannot tell whether {garment.name!r} is a top, a dress or a bottom: "
        "it has no family, mesh kind or placed torso/skirt/leg pieces"
    )
