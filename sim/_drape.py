"""The Drape record (what sim/ produces): a garment's draped shape, fit fields and quality gates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from tryon3d.core import readonly_array

#: Body regions whose ease ``Drape.ease_m`` reports.
EASE_REGIONS: tuple[str, ...] = ("chest", "waist", "hips", "upper_arm", "thigh")

#: The per-vertex fit fields of a Drape that a fit map shows: largest principal stretch
#: (``stretch_pct``), contact pressure (``contact_pressure_pa``), ease (``body_distance_m``).
FitField = Literal["stretch", "pressure", "ease"]

#: A vertex deeper than this inside the body counts as penetrating [m].
PENETRATION_TOLERANCE_M = 0.001


class DrapeDivergedError(ValueError):
    """The simulation diverged (NaN, runaway speed, cloth tunnelling through or leaving the body)
    on every attempt, including the retries with a smaller step and more iterations."""


def _frozen(
    value: npt.ArrayLike, dtype: npt.DTypeLike, shape_tail: tuple[int, ...], name: str
) -> np.ndarray:
    return readonly_array(value, dtype, (None, *shape_tail), f"Drape.{name}")


@dataclass(frozen=True)
class DrapeGates:
    """Quality gates of one drape (targets: 0 penetrations, 0 self-intersections, seams closed).

    Attributes:
        penetrating_vertices: garment vertices more than 1 mm inside the body (target pose).
        self_intersecting_pairs: intersecting triangle pairs that share no vertex (BVH test).
        max_seam_gap_mm: largest distance between sewn vertex pairs [mm].
        max_stretch_pct: largest principal stretch of any triangle [%], 100 = unstretched.
        converged: the cloth came to rest (max speed below tolerance) within the frame budget.
        failures: one line per failed gate of a garment read from a file (torn, not on the
            body, wrong scale; see ``sim._import_gates``), empty when none failed.
    """

    penetrating_vertices: int
    self_intersecting_pairs: int
    max_seam_gap_mm: float
    max_stretch_pct: float
    converged: bool
    failures: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when there are no penetrations or self-intersections, seams are closed (<= 2 mm),
        the drape converged and no import gate failed."""
        return (
            self.penetrating_vertices == 0
            and self.self_intersecting_pairs == 0
            and self.max_seam_gap_mm <= 2.0
            and self.converged
            and not self.failures
        )

    def reasons(self) -> list[str]:
        """One line per failed gate (empty when ``passed``)."""
        out = list(self.failures)
        if self.penetrating_vertices:
            out.append(f"{self.penetrating_vertices} vertices inside the body")
        if self.self_intersecting_pairs:
            out.append(f"{self.self_intersecting_pairs} self-intersecting triangle pairs")
        if self.max_seam_gap_mm > 2.0:
            out.append(f"seams open by up to {self.max_seam_gap_mm:.0f} mm")
        if not self.converged:
            out.append("the cloth did not come to rest")
        return out


@dataclass(frozen=True, eq=False)
class Drape:
    """A garment draped on a body.

    Positions are in the body's target pose (``Body.vertices``); ``rest_pose_positions`` is the
    same drape on the canonical pose (``Body.rest_vertices``). Vertex order, ``faces`` and ``uv``
    are the garment's, so seam vertices appear twice (at the same place once sewn).

    Attributes:
        positions: draped vertex positions in the target pose [m], shape (N, 3), float64.
        rest_pose_positions: draped vertex positions on the canonical pose [m], shape (N, 3).
        faces: triangles, shape (F, 3), int64 (the garment's faces).
        uv: texture coordinates, shape (N, 2), float32.
        stretch_pct: largest principal stretch per triangle vs the 2D pattern [%], shape (F,);
            100 = unstretched, below 100 = compressed (target pose).
        stretch_min_pct: smallest principal stretch per triangle [%], shape (F,).
        stretch_warp_pct: stretch along the panel's grain (warp) per triangle [%], shape (F,).
        stretch_weft_pct: stretch across the grain (weft) per triangle [%], shape (F,).
        body_distance_m: signed distance of each vertex to the body [m], shape (N,), negative
            inside, capped at 1 m (target pose).
        contact_pressure_pa: contact pressure proxy per vertex [Pa], shape (N,): the body
            contact penalty force (stiffness x overlap of the contact radius) over the vertex's
            area; 0 where the cloth does not touch.
        ease_m: garment girth minus body girth per region [m] (keys ``EASE_REGIONS``), measured
            on the canonical pose at the body's tape line; the garment's girth is the draped
            cloth's section there measured along the flat pattern (its own girth where it sits,
            before stretch). NaN where the garment does not go around that region.
        tape_ease_m: the same regions read with a tape pulled round the draped cloth (convex
            hull of the section) minus the body's tape [m]: what one measures on the wearer.
        gates: the quality gates (target pose).
        timings_s: wall-clock seconds per phase (``build``, ``settle``, ``transition``,
            ``measure``) and ``total``.
        device: Warp device the simulation ran on, e.g. ``"cpu"`` or ``"cuda:0"``.
        frames: simulation steps taken (canonical settle + pose transition + final settle).
        garment_name / garment_size / fabric_name: what was draped.
        metadata: solver settings and diagnostics (dt, iterations, attempts, ...).
    """

    positions: np.ndarray
    rest_pose_positions: np.ndarray
    faces: np.ndarray
    uv: np.ndarray
    stretch_pct: np.ndarray
    stretch_min_pct: np.ndarray
    stretch_warp_pct: np.ndarray
    stretch_weft_pct: np.ndarray
    body_distance_m: np.ndarray
    contact_pressure_pa: np.ndarray
    ease_m: dict[str, float]
    gates: DrapeGates
    timings_s: dict[str, float]
    device: str
    frames: int
    garment_name: str
    garment_size: str
    fabric_name: str
    metadata: dict = field(default_factory=dict)
    tape_ease_m: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "positions", _frozen(self.positions, np.float64, (3,), "positions"))
        set_(
            self,
            "rest_pose_positions",
            _frozen(self.rest_pose_positions, np.float64, (3,), "rest_pose_positions"),
        )
        set_(self, "faces", _frozen(self.faces, np.int64, (3,), "faces"))
        set_(self, "uv", _frozen(self.uv, np.float32, (2,), "uv"))
        n, f = len(self.positions), len(self.faces)
        for name in ("stretch_pct", "stretch_min_pct", "stretch_warp_pct", "stretch_weft_pct"):
            value = _frozen(
                np.asarray(getattr(self, name)).reshape(-1, 1), np.float64, (1,), name
            ).reshape(-1)
            if len(value) != f:
                raise ValueError(
                    f"Drape.{name} must have {f} values (one per face), got {len(value)}"
                )
            set_(self, name, value)
        for name in ("body_distance_m", "contact_pressure_pa"):
            value = _frozen(
                np.asarray(getattr(self, name)).reshape(-1, 1), np.float64, (1,), name
            ).reshape(-1)
            if len(value) != n:
                raise ValueError(
                    f"Drape.{name} must have {n} values (one per vertex), got {len(value)}"
                )
            set_(self, name, value)
        if len(self.rest_pose_positions) != n or len(self.uv) != n:
            raise ValueError(
                f"Drape.rest_pose_positions and uv must have {n} rows (one per vertex)"
            )
        set_(self, "ease_m", {k: float(v) for k, v in self.ease_m.items()})
        set_(self, "tape_ease_m", {k: float(v) for k, v in self.tape_ease_m.items()})
        set_(self, "timings_s", {k: float(v) for k, v in self.timings_s.items()})

    @property
    def vertex_count(self) -> int:
        return len(self.positions)
