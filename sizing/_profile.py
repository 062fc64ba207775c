"""What the judgement needs to know about a garment, from a family or from an imported file.

A ``SizingProfile`` is the small record the size judgement reads: the garment's kind (top,
dress, bottom), the region that sizes it, the design ease per judged region and where its hem
is judged. A ``garments.Family`` gives it from its fields and the drafted design parameters; an
imported garment (a DXF, GarmentCode or mesh file) from its import (``garments.garment_kind``)
and its own pattern: nothing here checks a family's or a file's name.

Design ease of an imported garment. A graded file says how big each size is (its pattern
girths, ``garments.pattern_measurements``) but not for which body: no chart comes with it. So
the ideal at the sizing region is a sensible wearing ease for the kind of garment and fabric
(``IMPORTED_DESIGN_EASE_M``: Armstrong, *Patternmaking for Fashion Design*, ch. 2: about 10 cm
at a woven shirt's chest, 5 cm at a woven skirt's hips, less for knits, negative for stretch),
and the size whose pattern gives this body that ease fits best. The other regions' ideal is
the pattern's own ease there (the style: a straight tee is roomy at the waist by design), so
they can only be too tight, never a reason to change size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body
    from tryon3d.garments import Garment

__all__ = ["IMPORTED_DESIGN_EASE_M", "SizingProfile", "family_profile", "garment_profile"]

#: Design ease [m] at the sizing region of an imported garment, per kind and fabric class.
IMPORTED_DESIGN_EASE_M: dict[str, dict[str, float]] = {
    "top": {"woven": 0.10, "knit": 0.08, "stretch": 0.0},
    "dress": {"woven": 0.08, "knit": 0.06, "stretch": 0.0},
    "bottom": {"woven": 0.05, "knit": 0.03, "stretch": -0.02},
}
#: Regions judged per kind of imported garment; the first sizes it.
_IMPORTED_REGIONS = {
    "top": ("chest", "waist"),
    "dress": ("chest", "waist", "hips"),
    "bottom": ("hips", "waist"),
}
#: Where an imported garment's hem is judged, per kind (trousers: see ``garment_profile``).
_IMPORTED_HEM = {"top": "hips", "dress": "knee", "bottom": "knee"}


@dataclass(frozen=True)
class SizingProfile:
    """What the size judgement reads about a garment.

    Attributes:
        name: the family name or the garment file's name, for messages.
        kind: ``"top"``, ``"dress"`` or ``"bottom"``; a dress hangs as a top.
        governing_region: the body girth whose ease decides the size (``"chest"``, ``"hips"``).
        design_ease_m: judged region -> the ideal ease there [m].
        hem_reference: where the hem length is judged (``"hips"``, ``"knee"``, ``"ankle"``) or
            None.
        source: ``"family"`` (design parameters), ``"pattern"`` (an imported pattern's own
            measurements) or ``"mesh"`` (a mesh: the drape's ease only).
        pattern_girths_m: the pattern's own girths per region [m] (imported patterns), else empty.
    """

    name: str
    kind: str
    governing_region: str
    design_ease_m: dict[str, float]
    hem_reference: str | None
    source: str
    pattern_girths_m: dict[str, float] = field(default_factory=dict)

    @property
    def hangs_as(self) -> str:
        """``"top"`` (from the shoulders, dresses too) or ``"bottom"`` (from the hips)."""
        return "bottom" if self.kind == "bottom" else "top"


def family_profile(family: str, design: dict[str, float]) -> SizingProfile:
    """The profile of a family's garment: its ``Family`` fields and drafted ``design`` [m]."""
    from tryon3d import garments

    fam = garments.FAMILIES[family]
    ease = {region: float(design[key]) for region, key in fam.ease_keys.items() if key in design}
    return SizingProfile(
        name=family,
        kind=fam.kind,
        governing_region=fam.governing_region,
        design_ease_m=ease,
        hem_reference=fam.hem_reference,
        source="family",
    )


def pattern_girths_m(garment: Garment) -> dict[str, float]:
    """An imported pattern's own chest/waist/hips girths [m] (``garments.pattern_measurements``),
    empty for a mesh."""
    from tryon3d import garments

    pattern = garment.metadata.get("pattern")
    if not isinstance(pattern, garments.Pattern):
        return {}
    measured = garments.pattern_measurements(pattern)
    return {r: float(measured[r]) for r in ("chest", "waist", "hips") if r in measured}


def garment_profile(garment: Garment, body: Body, fabric_class: str) -> SizingProfile:
    """The profile of an imported garment on ``body``: kind from the import, the sizing region
    by kind (chest for tops and dresses, hips for bottoms), ideal eases per the module doc.

    Raises:
        ValueError: the garment does not say what kind it is.
    """
    from tryon3d import garments

    kind = garments.garment_kind(garment)
    girths = pattern_girths_m(garment)
    regions = _IMPORTED_REGIONS[kind]
    governing = regions[0]
    ease = {governing: IMPORTED_DESIGN_EASE_M[kind][fabric_class]}
    for region in regions[1:]:
        if region in girths and region in body.measurements_m:
            ease[region] = girths[region] - float(body.measurements_m[region])
        else:
            ease[region] = math.nan  # the drape's reading stands as its own ideal (a mesh)
    pattern = garment.metadata.get("pattern")
    parts = {p.placement.part for p in getattr(pattern, "panels", ()) if p.placement is not None}
    hem = "ankle" if kind == "bottom" and parts & {"leg_left", "leg_right"} else _IMPORTED_HEM[kind]
    source = garment.metadata.get("source", garment.name)
    return SizingProfile(
        name=str(source).replace("\\", "/").rsplit("/", 1)[-1],
        kind=kind,
        governing_region=governing,
        design_ease_m=ease,
        hem_reference=hem,
        source="pattern" if isinstance(pattern, garments.Pattern) else "mesh",
        pattern_girths_m=girths,
    )
