"""tryon3d: 3D virtual try-on. The thin facade over bodyfit, garments, sim and render.

Python API (user units: centimetres and kilograms)::

    import tryon3d
    body = tryon3d.body_from_measurements(height_cm=178, weight_kg=75, sex="male")
    tryon3d.save_body(body, "out/body")
"""

__version__ = "0.1.0"

from tryon3d._bodies import body_from_measurements, body_json, load_body, save_body  # noqa: E402

__all__ = ["__version__", "body_from_measurements", "body_json", "load_body", "save_body"]
