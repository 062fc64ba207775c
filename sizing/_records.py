"""The sizing stage's records: one size's fit, the report, and the map step's job and result.

``SizeFit`` and ``FitReport`` hold centimetres: they are the report's content, shown to a user.
The judgement itself works in metres (``sizing._judge``); the job records are SI like every stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from tryon3d.garments._fabrics import FabricClass

# the closed sets of charts and fabric classes belong to garments; sizing re-exports them
from tryon3d.garments._families import SizeChart

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body
    from tryon3d.garments import Fabric, Garment
    from tryon3d.sim import Drape

__all__ = [
    "DrapeJob",
    "DrapeJobResult",
    "FabricClass",
    "FitReport",
    "SizeChart",
    "SizeFit",
    "Verdict",
]

#: How one size (or one region of it) fits, from tightest to loosest in words.
Verdict = Literal["good", "snug", "loose", "too tight", "too loose"]


@dataclass(frozen=True)
class SizeFit:
    """How one size fits (all lengths in cm, user units, since this is the report's content).

    Attributes:
        size: size label.
        verdict: ``"good"``, ``"snug"``, ``"loose"``, ``"too tight"``, ``"too loose"``.
        score: lower is better, dimensionless (0 = every region at its design ease).
        ease_cm: ease per judged region [cm]: the drape's (``Drape.ease_m``, see the module doc),
            or the pattern's where the draped measurement failed.
        ease_source: per region ``"drape"``, ``"pattern"`` or ``"tape"`` (a mesh without a flat
            pattern: the tape round the draped cloth).
        pattern_ease_cm: ease from the pattern's nominal girth minus the body tape [cm].
        tape_ease_cm: a tape round the draped cloth minus the body's (``Drape.tape_ease_m``) per
            region [cm], NaN if none.
        comfort_cm: per region ``(tight, ideal, loose)`` ease [cm].
        region_verdicts: per region verdict.
        stretch: ``p50``, ``p95``, ``p99``, ``max`` [%], ``limit`` [%], ``over_limit_fraction``.
        lengths: named length checks, each ``{"value_cm", "text", "ok"}``.
        gates: the drape's quality gates (``sim.drape_to_json`` form).
        reasons: plain-language sentences.
        timings_s: drape timings [s].
        governing_region: the region whose ease decides the size (``Family.governing_region``).
    """

    size: str
    verdict: Verdict
    score: float
    ease_cm: dict[str, float]
    ease_source: dict[str, str]
    pattern_ease_cm: dict[str, float]
    tape_ease_cm: dict[str, float]
    comfort_cm: dict[str, tuple[float, float, float]]
    region_verdicts: dict[str, Verdict]
    stretch: dict[str, float]
    lengths: dict[str, dict[str, Any]]
    gates: dict[str, Any]
    reasons: tuple[str, ...]
    timings_s: dict[str, float] = field(default_factory=dict)
    governing_region: str = "chest"


@dataclass(frozen=True, eq=False)
class FitReport:
    """A size recommendation for one body and garment family.

    Attributes:
        family: garment family, e.g. ``"tshirt"``.
        chart: size chart used (``"women"`` / ``"men"``).
        fabric: fabric preset name; ``fabric_class``: woven / knit / stretch.
        recommended_size: the best size; ``confidence`` in [0, 1]; ``confidence_label``.
        chart_size: the size chart's own answer for the body's chest (or waist/hips) girth.
        reasons: plain-language reasons for the recommendation.
        sizes: size label -> SizeFit, in chart order.
        body_cm: the body's tape measurements [cm].
        body / drapes / garments: the inputs and drapes (for renders; not serialised).
        device: where the drapes ran.
        failed_sizes: sizes whose drape diverged (also with a finer mesh) -> the error; not judged.
        garment_source: the garment file judged (``family`` is then that path and ``chart``
            ``""``; ``chart_size`` the size whose pattern ease is nearest the design's), or ``""``
            for a family.
    """

    family: str
    chart: SizeChart | Literal[""]
    fabric: str
    fabric_class: FabricClass
    recommended_size: str
    confidence: float
    confidence_label: str
    chart_size: str
    reasons: tuple[str, ...]
    sizes: dict[str, SizeFit]
    body_cm: dict[str, float]
    body: Body | None = None
    drapes: dict[str, Drape] = field(default_factory=dict)
    garments: dict[str, Garment] = field(default_factory=dict)
    device: str = "cpu"
    failed_sizes: dict[str, str] = field(default_factory=dict)
    garment_source: str = ""


@dataclass(frozen=True)
class DrapeJob:
    """One drape of the map step: everything needed to run it anywhere (a pool, a cluster).

    Attributes:
        body: the body to drape on.
        family: garment family name (see ``garments.list_families()``), or the path of a
            garment file (``sizing.size_jobs``).
        size: size label of ``chart``, or of the garment file (``"one size"`` for a file that
            holds one).
        chart: size chart, ``"women"`` or ``"men"``; ``""`` for a garment file.
        fabric: fabric preset name, free-text description or ``garments.Fabric``; None for the
            family's default.
        edge_length_m: garment mesh edge length of the first try [m].
        device: ``"cpu"`` or ``"cuda[:N]"``.
        max_seconds_simulated: simulated-time budget per settle [s].
        garment: the first try's garment, already built and placed on ``body`` at
            ``edge_length_m`` (``sizing.place_job``: by a parent that has the body's placement
            data while its workers load their kernels); None: ``run_drape_job`` builds it.
    """

    body: Body
    family: str
    size: str
    chart: SizeChart | Literal[""]
    fabric: Fabric | str | None = None
    edge_length_m: float = 0.03
    device: str = "cpu"
    max_seconds_simulated: float = 4.0
    garment: Garment | None = None


@dataclass(frozen=True)
class DrapeJobResult:
    """What one ``DrapeJob`` gave.

    Attributes:
        job: the job.
        garment: the garment draped (of the last try), None when every try diverged.
        drape: its drape, None when every try diverged.
        error: one line saying why it could not be draped, else None.
        seconds: wall-clock times [s]: ``"place"`` (garment build and placement), ``"drape"``,
            ``"total"``, summed over the tries.
    """

    job: DrapeJob
    garment: Garment | None
    drape: Drape | None
    error: str | None
    seconds: dict[str, float]
