"""tryon3d: 3D virtual try-on. The thin facade over its stages.

Stages (each its own subpackage, each returning a frozen record of numpy arrays, SI units)::

    tryon3d.bodyfit    Body      from measurements, photos or an SMPL-X model
    tryon3d.garments   Garment   parametric patterns, fabrics, placement on a body
    tryon3d.sim        Drape     Newton Style3D cloth, gates, fit fields
    tryon3d.render     images    Mitsuba 3 renders, fit maps, photo composites
    tryon3d.sizing     FitReport every size draped and judged, one recommended

Python API (user units: centimetres and kilograms at this boundary, SI inside)::

    import tryon3d
    body = tryon3d.body_from_measurements(height_cm=168, weight_kg=62, sex="female")
    shirt = tryon3d.load_garment("tshirt", size="M", body=body)
    result = tryon3d.drape(body, shirt)
    report = tryon3d.fit_report(body, "tshirt", sizes="auto")
    print(report.recommended_size, report.confidence)

Everything loads lazily (as Newton's ``__init__`` does): ``import tryon3d`` and ``tryon3d --help``
import no torch, Warp or Mitsuba; the first use of a name imports the module that defines it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY_NAMES: dict[str, str] = {
    "body_from_measurements": "tryon3d._bodies",
    "body_json": "tryon3d._bodies",
    "load_body": "tryon3d._bodies",
    "save_body": "tryon3d._bodies",
    "body_from_photos": "tryon3d._pipeline",
    "fit_photos": "tryon3d._photos",
    "drape": "tryon3d._pipeline",
    "load_garment": "tryon3d._pipeline",
    "render_fitmap": "tryon3d._pipeline",
    "render_on_photo": "tryon3d._pipeline",
    "render_turntable": "tryon3d._pipeline",
    "write_report": "tryon3d._pipeline",
    "FitReport": "tryon3d.sizing",
    "fit_report": "tryon3d.sizing",
    "load_report": "tryon3d.sizing",
    "study": "tryon3d._study",
}
_STAGES = ("bodyfit", "garments", "sim", "render", "sizing", "data")

__all__ = [
    "FitReport",
    "__version__",
    "body_from_measurements",
    "body_from_photos",
    "body_json",
    "drape",
    "fit_photos",
    "fit_report",
    "load_body",
    "load_garment",
    "load_report",
    "render_fitmap",
    "render_on_photo",
    "render_turntable",
    "save_body",
    "study",
    "write_report",
]


def __getattr__(name: str) -> Any:
    module = _LAZY_NAMES.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if name in _STAGES:
        return importlib.import_module(f"tryon3d.{name}")
    raise AttributeError(f"module 'tryon3d' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_NAMES, *_STAGES})


if TYPE_CHECKING:  # the type checker and IDEs see the real names
    from tryon3d._bodies import body_from_measurements, body_json, load_body, save_body
    from tryon3d._photos import fit_photos
    from tryon3d._pipeline import (
        body_from_photos,
        drape,
        load_garment,
        render_fitmap,
        render_on_photo,
        render_turntable,
        write_report,
    )
    from tryon3d._study import study
    from tryon3d.sizing import FitReport, fit_report, load_report
