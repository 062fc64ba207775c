"""Facade for bodies: user units (cm) in, ``bodyfit.Body`` out, and the body.json file format."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, SupportsFloat

from tryon3d import __version__, bodyfit
from tryon3d._files import write_files_atomically
from tryon3d._units import cm_to_m, m_to_cm
from tryon3d.bodyfit import Body, BodyModelName


def _optional_cm(value_cm: float | None) -> float | None:
    return None if value_cm is None else cm_to_m(value_cm)


def body_from_measurements(
    *,
    height_cm: float,
    weight_kg: float,
    sex: str,
    age: float | None = None,
    chest_cm: float | None = None,
    waist_cm: float | None = None,
    hips_cm: float | None = None,
    model: BodyModelName = "anny",
    smplx_model_dir: str | os.PathLike | None = None,
) -> Body:
    """A body from height [cm], weight [kg], sex, optional age [years] and girths [cm].

    Girths left out are predicted from ANSUR II population statistics. See
    ``bodyfit.body_from_measurements`` for the accuracy the fit reaches.
    """
    return bodyfit.body_from_measurements(
        height_m=cm_to_m(_number("height", height_cm)),
        weight_kg=weight_kg,
        sex=sex,
        age_years=age,
        chest_m=_optional_cm(None if chest_cm is None else _number("chest", chest_cm)),
        waist_m=_optional_cm(None if waist_cm is None else _number("waist", waist_cm)),
        hips_m=_optional_cm(None if hips_cm is None else _number("hips", hips_cm)),
        model=model,
        smplx_model_dir=smplx_model_dir,
    )


def _number(name: str, value: SupportsFloat | str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None


def body_json(body: Body) -> dict[str, Any]:
    """The user-facing body.json content: centimetres for people, the SI record for tryon3d."""
    record = bodyfit.body_record(body)
    return {
        "version": __version__,
        "model": body.model,
        "inputs": record["inputs"],
        "measurements_cm": {
            name: round(m_to_cm(value), 2) for name, value in body.measurements_m.items()
        },
        "weight_kg": round(body.weight_kg, 3),
        "parameters": record["shape_parameters"],
        "landmarks_cm": {k: [round(m_to_cm(c), 2) for c in v] for k, v in body.landmarks_m.items()},
        "record": record,
    }


def save_body(
    body: Body, folder: str | os.PathLike, *, extra_files: dict[str, bytes] | None = None
) -> list[Path]:
    """Write ``body.glb`` and ``body.json`` into ``folder`` atomically; returns the paths."""
    files: dict[str, bytes | str] = {
        "body.glb": bodyfit.body_to_glb(body),
        "body.json": json.dumps(body_json(body), indent=2) + "\n",
    }
    files.update(extra_files or {})
    return write_files_atomically(folder, files)


def load_body(path: str | os.PathLike, *, smplx_model_dir: str | os.PathLike | None = None) -> Body:
    """Load a body from a ``body.json`` written by ``save_body`` (or its folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / "body.json"
    try:
        content = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"body file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read body file {str(path)!r}: {exc}") from None
    if not isinstance(content, dict) or "record" not in content:
        raise ValueError(f"{str(path)!r} is not a tryon3d body.json (no 'record')")
    return bodyfit.body_from_record(content["record"], smplx_model_dir=smplx_model_dir)
