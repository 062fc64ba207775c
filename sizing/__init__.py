"""Sizing: drape every size of a garment on a body, judge each, recommend one.

The drape-every-size loop is a map and a reduce: ``size_jobs`` makes one ``DrapeJob`` per size,
``run_drape_job`` drapes one anywhere (a pool, a cluster) and ``judge_drapes`` judges the
``DrapeJobResult`` records into a ``FitReport``; ``fit_report`` chains them. The judgement works
in metres; ``SizeFit`` and ``FitReport`` hold centimetres, the report's user units. What a
garment family means for sizing (the region that sizes it, its ease parameters, its hem, top or
bottom) comes from a ``SizingProfile``: a ``garments.Family``'s fields, or, for a garment
file (a graded DXF, a GarmentCode pattern, a mesh), its import and its own pattern measurements.
"""

from tryon3d.sizing._files import drape_files, load_report, report_json
from tryon3d.sizing._jobs import fit_report, judge_drapes, run_drape_job, size_jobs
from tryon3d.sizing._judge import (
    COMFORT_MIN_EASE_M,
    LOOSE_ALLOWANCE_M,
    evaluate_size,
    fabric_class,
    governing_region,
    is_family,
    sizing_profile,
)
from tryon3d.sizing._profile import IMPORTED_DESIGN_EASE_M, SizingProfile
from tryon3d.sizing._recommend import chart_size_for, recommend
from tryon3d.sizing._records import DrapeJob, DrapeJobResult, FitReport, SizeFit
from tryon3d.sizing._sources import ONE_SIZE, file_sizes, garment_file, pattern_size_for

__all__ = [
    "COMFORT_MIN_EASE_M",
    "IMPORTED_DESIGN_EASE_M",
    "ONE_SIZE",
    "SizingProfile",
    "file_sizes",
    "garment_file",
    "is_family",
    "pattern_size_for",
    "sizing_profile",
    "LOOSE_ALLOWANCE_M",
    "DrapeJob",
    "DrapeJobResult",
    "FitReport",
    "SizeFit",
    "chart_size_for",
    "drape_files",
    "evaluate_size",
    "fabric_class",
    "fit_report",
    "governing_region",
    "judge_drapes",
    "load_report",
    "recommend",
    "report_json",
    "run_drape_job",
    "size_jobs",
]
