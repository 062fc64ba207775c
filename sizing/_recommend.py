"""The recommendation: the best of the judged sizes, its confidence and the reasons in words.

Works on the ``SizeFit`` records (centimetres, the report's content); its own threshold is in
metres. The size chart's answer for the body breaks a tie the drape cannot resolve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from tryon3d._units import m_to_cm
from tryon3d.sizing._checks import REGION_WORDS
from tryon3d.sizing._judge import _comfort_z, governing_region
from tryon3d.sizing._records import SizeChart, SizeFit

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body

#: Deciding eases closer than this [m] to being equally far from the design ease are a tie.
_EASE_TIE_M = 0.01


def chart_for(sex: str, family: str, chart: SizeChart | None = None) -> SizeChart:
    """The size chart a body of ``sex`` wears ``family`` in: ``chart`` when given, else the
    men's chart for a man and the family's own chart otherwise."""
    from tryon3d.garments._families import FAMILIES

    if chart is not None:
        return chart
    return "men" if str(sex).lower() == "male" else FAMILIES[family].chart


def chart_size_for(body: Body, chart: str, family: str, *, sizes_up: int = 0) -> str:
    """The size chart's own answer: the size whose chart girth at the family's
    ``governing_region`` is nearest the body's; ``sizes_up`` sizes above it (a looser fit),
    the chart's largest at most."""
    from tryon3d import garments

    region = governing_region(family)
    table = garments.size_chart(chart)
    girth = float(body.measurements_m[region])
    labels = list(table)
    nearest = labels.index(min(labels, key=lambda size: abs(table[size][region] - girth)))
    return labels[min(nearest + sizes_up, len(labels) - 1)]


def _design_miss_cm(fit: SizeFit) -> tuple[float, float]:
    """(|deciding ease - design ease| [cm], score beyond that miss) of one size."""
    region = fit.governing_region
    if region not in fit.ease_cm:
        return math.inf, fit.score
    value = fit.ease_cm[region]
    return abs(value - fit.comfort_cm[region][1]), fit.score - _comfort_z(
        value, fit.comfort_cm[region]
    ) ** 2


def _chart_breaks_tie(fits: dict[str, SizeFit], best: str, chart_size: str | None) -> bool:
    """Whether the chart's size is as good as ``best`` within what the drape can tell apart:
    its deciding ease as near the design ease (``_EASE_TIE_M``) and no other problem."""
    if chart_size is None or chart_size == best or chart_size not in fits:
        return False
    miss_best, extra_best = _design_miss_cm(fits[best])
    miss_chart, extra_chart = _design_miss_cm(fits[chart_size])
    return miss_chart - miss_best <= m_to_cm(_EASE_TIE_M) and extra_chart <= extra_best + 1e-9


def recommend(
    fits: dict[str, SizeFit], order: Sequence[str], chart_size: str | None = None
) -> tuple[str, float, list[str]]:
    """(best size, confidence in [0, 1], plain-language reasons) from evaluated sizes.

    ``chart_size``, the size chart's answer for the body, breaks a tie (``_chart_breaks_tie``).
    """
    if not fits:
        raise ValueError("no sizes were evaluated")
    best = min(fits, key=lambda s: fits[s].score)
    tie = _chart_breaks_tie(fits, best, chart_size)
    tie_note = ""
    if tie and chart_size is not None:  # a tie implies a chart size
        region = fits[best].governing_region
        tie_note = (
            f"{chart_size} and {best} are equally close to the design's {REGION_WORDS[region]} "
            f"ease ({fits[chart_size].ease_cm[region]:.1f} and "
            f"{fits[best].ease_cm[region]:.1f} cm, "
            f"within "
            f"the {m_to_cm(_EASE_TIE_M):.0f} cm the drape can tell apart): the size chart's answer "
            f"{chart_size} breaks the tie."
        )
        best = chart_size
    scores = np.array([fits[s].score for s in fits])
    weights = np.exp(-(scores - scores.min()))
    confidence = (
        float(1.0 / weights.sum()) if len(fits) > 1 else float(1.0 / (1.0 + fits[best].score))
    )
    if not fits[best].gates["passed"]:  # a sound drape with a few misses still measures the fit
        confidence *= 0.7 if fits[best].gates.get("gross", True) else 0.9
    if fits[best].ease_source.get(fits[best].governing_region) == "pattern":
        confidence *= 0.85  # the deciding ease is the pattern's: the drape's measurement failed
    if fits[best].verdict in ("too tight", "too loose"):
        confidence *= 0.5
    confidence = float(min(0.99, max(0.01, confidence)))
    fit = fits[best]
    tried = ", ".join(s for s in order if s in fits)
    if tie:
        reasons = [
            f"{best} of {tried}, on a tie the size chart broke: overall {fit.verdict}.",
            tie_note,
        ]
    else:
        reasons = [f"{best} fits best of {tried}: overall {fit.verdict}."]
    reasons += [r[0].upper() + r[1:] + "." for r in fit.reasons]
    index = {s: i for i, s in enumerate(order)}
    for other in sorted(fits, key=lambda s: index.get(s, 0)):
        if other == best:
            continue
        o = fits[other]
        other_region = "chest" if "chest" in o.ease_cm else next(iter(o.ease_cm), None)
        detail = (
            f" ({REGION_WORDS[other_region]} ease {o.ease_cm[other_region]:.1f} cm)"
            if other_region
            else ""
        )
        reasons.append(f"{other} would be {o.verdict}{detail}.")
    ranked = [s for s in order if s in fits]
    if fit.verdict == "too tight" and ranked and best == ranked[-1]:
        reasons.append(
            "Even the largest size tried is tight: try a larger size or a stretchier fabric."
        )
    if fit.verdict == "too loose" and ranked and best == ranked[0]:
        reasons.append("Even the smallest size tried is loose: try a smaller size.")
    return best, confidence, reasons


def confidence_label(confidence: float) -> str:
    """``"high"`` (>= 0.7), ``"medium"`` (>= 0.45) or ``"low"``."""
    return "high" if confidence >= 0.7 else "medium" if confidence >= 0.45 else "low"
