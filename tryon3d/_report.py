"""Moved: the size judgement is the ``tryon3d.sizing`` stage. Import from there; this thin
re-export keeps old imports of ``tryon3d._report`` working."""

from tryon3d.sizing import (
    FitReport,
    SizeFit,
    chart_size_for,
    evaluate_size,
    fabric_class,
    fit_report,
    governing_region,
    judge_drapes,
    recommend,
    report_json,
)

__all__ = [
    "FitReport",
    "SizeFit",
    "chart_size_for",
    "evaluate_size",
    "fabric_class",
    "fit_report",
    "governing_region",
    "judge_drapes",
    "recommend",
    "report_json",
]
