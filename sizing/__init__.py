"""Sizing: drape every size of a garment on a body, judge each, recommend one.

The drape-every-size loop is a map and a reduce: ``size_jobs`` makes one ``DrapeJob`` per size,
``run_drape_job`` drapes one anywhere (a pool, a cluster) and ``judge_drapes`` judges the
``DrapeJobResult`` records into a ``FitReport``; ``fit_report`` chains them, the map in forked
workers of one warm parent (``fork_map``) on a machine with several cores; a command that
starts its workers before loading the body (``start_drape_workers``) overlaps their kernel
loading with it and sends them jobs whose garments it built (``place_job``). The judgement works
in metres; ``SizeFit`` and ``FitReport`` hold centimetres, the report's user units. What a
garment family means for sizing (the region that sizes it, its ease parameters, its hem, top or
bottom) comes from a ``SizingProfile``: a ``garments.Family``'s fields, or, for a garment
file (a graded DXF, a GarmentCode pattern, a mesh), its import and its own pattern measurements.
"""

from tryon3d.sizing._files import drape_files, load_report, report_json
from tryon3d.sizing._jobs import fit_report, judge_drapes, place_job, run_drape_job, size_jobs
from tryon3d.sizing._judge import (
    COMFORT_MIN_EASE_M,
    LOOSE_ALLOWANCE_M,
    evaluate_size,
    fabric_class,
    governing_region,
    is_family,
    sizing_profile,
)
from tryon3d.sizing._parallel import auto_workers, fork_map
from tryon3d.sizing._profile import IMPORTED_DESIGN_EASE_M, SizingProfile
from tryon3d.sizing._recommend import chart_for, chart_size_for, recommend
from tryon3d.sizing._records import (
    DrapeJob,
    DrapeJobResult,
    FabricClass,
    FitReport,
    SizeChart,
    SizeFit,
    Verdict,
)
from tryon3d.sizing._sources import ONE_SIZE, file_sizes, garment_file, pattern_size_for
from tryon3d.sizing._study import (
    StudyBody,
    StudyResult,
    job_key,
    read_results,
    run_study,
    sample_population,
)
from tryon3d.sizing._study_garments import StudyGarment, study_garments
from tryon3d.sizing._study_report import study_html, study_json
from tryon3d.sizing._workers import DrapeWorkers, start_drape_workers

__all__ = [
    "COMFORT_MIN_EASE_M",
    "IMPORTED_DESIGN_EASE_M",
    "LOOSE_ALLOWANCE_M",
    "ONE_SIZE",
    "DrapeJob",
    "DrapeJobResult",
    "DrapeWorkers",
    "FabricClass",
    "FitReport",
    "SizeChart",
    "SizeFit",
    "SizingProfile",
    "StudyBody",
    "StudyGarment",
    "StudyResult",
    "Verdict",
    "auto_workers",
    "chart_for",
    "chart_size_for",
    "drape_files",
    "evaluate_size",
    "fabric_class",
    "file_sizes",
    "fit_report",
    "fork_map",
    "garment_file",
    "governing_region",
    "is_family",
    "job_key",
    "judge_drapes",
    "load_report",
    "pattern_size_for",
    "place_job",
    "read_results",
    "recommend",
    "report_json",
    "run_drape_job",
    "run_study",
    "sample_population",
    "size_jobs",
    "sizing_profile",
    "start_drape_workers",
    "study_garments",
    "study_html",
    "study_json",
]
