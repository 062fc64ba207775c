"""Fabric presets with physically plausible figures, and free-text fabric descriptions.

Units: areal density [kg/m^2]; membrane (stretch, shear) stiffness [N/m] = force per unit
width per unit strain; bending stiffness [N*m] = moment per unit width per unit curvature.

Sources for the ranges (figures are rounded, representative mid-range picks, not measurements):
- Areal density: trade specifications. Single jersey T-shirt cotton 140-180 g/m^2; denim
  12-14 oz/yd^2 = 400-475 g/m^2 (1 oz/yd^2 = 33.9 g/m^2); silk charmeuse 16-19 momme =
  70-82 g/m^2 (1 momme = 4.34 g/m^2); polyester shirting/blouse wovens 90-130 g/m^2; wool
  jersey/sweater knits 220-320 g/m^2; nylon/elastane or cotton/elastane activewear 180-260 g/m^2.
- Tensile, shear and bending: Kawabata KES-FB ranges (tensile EMT at 500 gf/cm = 490 N/m:
  rigid wovens 1-3 % strain, light wovens 5-10 %, knits 30-100 %; shear G 0.3-3 gf/(cm*deg)
  = 17-170 N/m per rad; bending B 0.005-5 gf*cm^2/cm = 5e-8 to 5e-5 N*m), see Kawabata,
  "The Standardization and Analysis of Hand Evaluation" (1980), and the measured cloth
  models of Wang, O'Brien & Ramamoorthi, "Data-Driven Elastic Models for Cloth" (SIGGRAPH 2011)
  and Penava et al., "Determination of the elastic constants of plain woven fabrics" (2014).
- Friction against skin: 0.25-0.6 for dry textiles on skin, silk at the low end, denim and
  brushed cotton at the high end (Derler & Gerhardt, "Tribology of skin", Tribol. Lett. 2012).
- Wearable stretch limit: comfort stretch of ~2-5 % for rigid wovens, 20-40 % for jersey
  knits, 50-80 % for elastane blends (ASTM D2594 stretch-fabric classes: "comfort stretch"
  up to 30 %, "power stretch" 30-50 % and beyond).
"""

from __future__ import annotations

import re
from typing import Literal

from tryon3d.garments._garment import Fabric

#: How a fabric stretches, by ``Fabric.stretch_limit_pct``: a woven (< 110 %), a knit
#: (110-140 %) or a stretch knit (>= 140 %); sizing judges ease per class.
FabricClass = Literal["woven", "knit", "stretch"]

__all__ = ["FABRICS", "FabricClass", "fabric_from_description", "fabric_preset"]

FABRICS: dict[str, Fabric] = {
    # 100 % cotton single jersey, ~160 g/m^2: knit, soft along courses (weft), easy to bend.
    "cotton_jersey": Fabric("cotton_jersey", 0.160, 120.0, 60.0, 15.0, 3.0e-6, 0.45, 130.0, 0.0006),
    # 13 oz/yd^2 cotton denim 3x1 twill, ~440 g/m^2: rigid woven, stiff in bending.
    "denim": Fabric("denim", 0.440, 30000.0, 20000.0, 300.0, 5.0e-5, 0.55, 103.0, 0.0010),
    # 19 momme silk charmeuse (satin weave), ~82 g/m^2: light, slippery, very low bending.
    "silk_charmeuse": Fabric(
        "silk_charmeuse", 0.082, 6000.0, 3500.0, 20.0, 5.0e-7, 0.25, 102.0, 0.0002
    ),
    # plain-weave polyester blouse/shirting fabric, ~110 g/m^2.
    "polyester_woven": Fabric(
        "polyester_woven", 0.110, 12000.0, 9000.0, 60.0, 3.0e-6, 0.35, 103.0, 0.0003
    ),
    # wool jersey / fine sweater knit, ~280 g/m^2: bulky, stretchy across.
    "wool_knit": Fabric("wool_knit", 0.280, 200.0, 100.0, 20.0, 8.0e-6, 0.50, 125.0, 0.0015),
    # 80 % nylon / 20 % elastane activewear knit, ~220 g/m^2: very stretchy, recovers.
    "spandex_blend": Fabric("spandex_blend", 0.220, 60.0, 40.0, 10.0, 2.0e-6, 0.40, 160.0, 0.0005),
}

# keyword -> (preset, weight); weights add up per preset.
_CONSTRUCTION = {
    "jersey": ("cotton_jersey", 3),
    "interlock": ("cotton_jersey", 3),
    "rib": ("cotton_jersey", 2),
    "knit": ("cotton_jersey", 2),
    "tee": ("cotton_jersey", 1),
    "t-shirt": ("cotton_jersey", 1),
    "sweater": ("wool_knit", 3),
    "cardigan": ("wool_knit", 3),
    "jumper": ("wool_knit", 3),
    "denim": ("denim", 5),
    "jean": ("denim", 4),
    "jeans": ("denim", 4),
    "twill": ("denim", 2),
    "canvas": ("denim", 3),
    "chambray": ("polyester_woven", 2),
    "charmeuse": ("silk_charmeuse", 5),
    "satin": ("silk_charmeuse", 3),
    "chiffon": ("silk_charmeuse", 2),
    "crepe": ("silk_charmeuse", 1),
    "habotai": ("silk_charmeuse", 3),
    "woven": ("polyester_woven", 2),
    "poplin": ("polyester_woven", 3),
    "shirting": ("polyester_woven", 3),
    "oxford": ("polyester_woven", 2),
    "georgette": ("polyester_woven", 2),
    "taffeta": ("polyester_woven", 2),
    "leggings": ("spandex_blend", 3),
    "activewear": ("spandex_blend", 3),
    "swim": ("spandex_blend", 3),
    "compression": ("spandex_blend", 3),
    "power stretch": ("spandex_blend", 4),
}
_FIBRES = {
    "cotton": "cotton",
    "organic cotton": "cotton",
    "silk": "silk",
    "mulberry": "silk",
    "wool": "wool",
    "merino": "wool",
    "cashmere": "wool",
    "alpaca": "wool",
    "mohair": "wool",
    "polyester": "synthetic",
    "nylon": "synthetic",
    "polyamide": "synthetic",
    "acrylic": "synthetic",
    "viscose": "synthetic",
    "rayon": "synthetic",
    "modal": "synthetic",
    "lyocell": "synthetic",
    "linen": "cotton",
    "hemp": "cotton",
    "elastane": "elastane",
    "spandex": "elastane",
    "lycra": "elastane",
}
_KNITS = ("jersey", "interlock", "rib", "knit", "sweater", "cardigan", "jumper", "leggings")


def fabric_preset(name: str) -> Fabric:
    """The preset called ``name`` (see ``FABRICS``)."""
    if name not in FABRICS:
        raise ValueError(f"unknown fabric {name!r}; expected one of {sorted(FABRICS)}")
    return FABRICS[name]


def _fibre_shares(text: str) -> dict[str, float]:
    shares: dict[str, float] = {}
    names = "|".join(sorted((re.escape(k) for k in _FIBRES), key=len, reverse=True))
    for match in re.finditer(rf"(\d+(?:\.\d+)?)\s*%\s*({names})", text):
        group = _FIBRES[match.group(2)]
        shares[group] = shares.get(group, 0.0) + float(match.group(1))
    for match in re.finditer(rf"({names})\s*(\d+(?:\.\d+)?)\s*%", text):
        group = _FIBRES[match.group(1)]
        shares.setdefault(group, float(match.group(2)))
    for word, group in _FIBRES.items():  # fibres named without a percentage
        if re.search(rf"\b{re.escape(word)}\b", text) and group not in shares:
            shares[group] = 0.0
    return shares


def fabric_from_description(description: str) -> tuple[Fabric, str]:
    """Map a free-text fabric description to the nearest preset.

    Fibre shares (``"95% cotton 5% elastane"``) and construction words (jersey, denim, satin,
    poplin...) score the presets; the highest score wins.

    Returns:
        ``(fabric, reason)`` where ``reason`` says which words decided it.

    Raises:
        ValueError: the description names no known fibre or construction.
    """
    if not isinstance(description, str) or not description.strip():
        raise ValueError(
            "fabric description must be a non-empty string, e.g. '95% cotton 5% elastane jersey'"
        )
    text = description.lower()
    if text.strip() in FABRICS:
        return FABRICS[text.strip()], f"preset name {text.strip()!r}"
    scores = {name: 0.0 for name in FABRICS}
    reasons: dict[str, list[str]] = {name: [] for name in FABRICS}
    for word, (preset, weight) in _CONSTRUCTION.items():
        if re.search(rf"\b{re.escape(word)}s?\b", text):
            scores[preset] += weight
            reasons[preset].append(f"'{word}'")
    shares = _fibre_shares(text)
    knit = any(re.search(rf"\b{w}", text) for w in _KNITS)
    elastane = shares.get("elastane")
    if elastane is not None:
        if elastane >= 10.0:
            scores["spandex_blend"] += 6
            reasons["spandex_blend"].append(f"{elastane:g}% elastane (>= 10 %: power stretch)")
        else:
            label = f"{elastane:g}% elastane" if elastane else "elastane"
            target = (
                "cotton_jersey"
                if knit or not any(scores.values())
                else max(scores, key=lambda name: scores[name])
            )
            scores[target] += 0.5
            reasons[target].append(f"{label} (comfort stretch only)")
    fibre_targets = {
        "cotton": "denim" if scores["denim"] and not knit else "cotton_jersey",
        "silk": "silk_charmeuse",
        "wool": "wool_knit",
        "synthetic": "cotton_jersey" if knit else "polyester_woven",
    }
    for fibre, target in fibre_targets.items():
        if fibre in shares:
            share = shares[fibre]
            fibre_weight = 1.0 + (share / 50.0 if share else 0.5)
            if fibre == "wool" and knit:
                fibre_weight += 3.0  # a wool knit is a wool knit, not a cotton jersey
            scores[target] += fibre_weight
            reasons[target].append(f"{share:g}% {fibre}" if share else fibre)
    best = max(scores, key=lambda name: scores[name])
    if scores[best] <= 0:
        raise ValueError(
            f"cannot map fabric description {description!r} to a preset: name a fibre (cotton, "
            "silk, wool, "
            f"polyester, elastane...) or a construction (jersey, denim, satin, poplin...)"
        )
    return FABRICS[best], f"nearest preset {best!r} from " + ", ".join(reasons[best])
