"""sim: the drape stage. Settles a ``Garment`` on a ``Body`` with Newton's Style3D cloth solver
and returns a ``Drape`` (draped mesh, fit fields, quality gates)."""

from tryon3d.sim import _cache  # noqa: F401  (WARP_CACHE_PATH before warp is imported anywhere)
from tryon3d.sim._drape import (
    EASE_REGIONS,
    PENETRATION_TOLERANCE_M,
    Drape,
    DrapeDivergedError,
    DrapeGates,
    FitField,
)
from tryon3d.sim._export import (
    drape_to_glb,
    drape_to_json,
    drape_to_npz,
    load_drape,
    load_drape_npz,
)
from tryon3d.sim._settings import (
    DEFAULT_LINEAR_ITERATIONS,
    DEFAULT_MAX_DT_S,
    DEFAULT_SOLVER_SETTINGS,
    LEGACY_DRAPE_OPTIONS,
    LEGACY_SOLVER_SETTINGS,
    SolverSettings,
)
from tryon3d.sim._simulate import drape
from tryon3d.sim._warmup import warm_up_kernels

__all__ = [
    "DEFAULT_LINEAR_ITERATIONS",
    "DEFAULT_MAX_DT_S",
    "DEFAULT_SOLVER_SETTINGS",
    "EASE_REGIONS",
    "LEGACY_DRAPE_OPTIONS",
    "LEGACY_SOLVER_SETTINGS",
    "PENETRATION_TOLERANCE_M",
    "Drape",
    "DrapeDivergedError",
    "DrapeGates",
    "FitField",
    "SolverSettings",
    "drape",
    "drape_to_glb",
    "drape_to_json",
    "drape_to_npz",
    "load_drape",
    "load_drape_npz",
    "warm_up_kernels",
]
