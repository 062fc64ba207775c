"""tryon3d: 3D virtual try-on. The thin facade over bodyfit, garments, sim and render.

Python API (user units: centimetres and kilograms at this boundary, SI inside)::

    import tryon3d
    body = tryon3d.body_from_measurements(height_cm=168, weight_kg=62, sex="female")
    shirt = tryon3d.load_garment("tshirt", size="M", body=body)
    result = tryon3d.drape(body, shirt)
    report = tryon3d.fit_report(body, "tshirt", sizes="auto")
    print(report.recommended_size, report.confidence)
"""

__version__ = "0.1.0"

from tryon3d._bodies import body_from_measurements, body_json, load_body, save_body  # noqa: E402
from tryon3d._pipeline import (  # noqa: E402
    body_from_photos,
    drape,
    load_garment,
    render_fitmap,
    render_on_photo,
    render_turntable,
    write_report,
)
from tryon3d._report import FitReport, fit_report  # noqa: E402

__all__ = [
    "FitReport",
    "__version__",
    "body_from_measurements",
    "body_from_photos",
    "body_json",
    "drape",
    "fit_report",
    "load_body",
    "load_garment",
    "render_fitmap",
    "render_on_photo",
    "render_turntable",
    "save_body",
    "write_report",
]
