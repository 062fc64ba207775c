"""Facade for photo bodies: user units in, ``bodyfit`` photo fitting, files out.

Privacy: the photos themselves are never written unless asked for (``--keep-photos``); every
image written is a fresh PNG without EXIF or other metadata.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from tryon3d import bodyfit
from tryon3d._bodies import _number, body_json
from tryon3d._files import ensure_writable_dir, write_files_atomically
from tryon3d._units import cm_to_m, m_to_cm
from tryon3d.bodyfit import Body

log = logging.getLogger("tryon3d")

__all__ = [
    "body_from_photos",
    "fit_photos",
    "photo_body_json",
    "photo_fit_files",
    "photo_fit_record",
    "run_photo_body",
]


def _png(array: np.ndarray) -> bytes:
    """PNG bytes (no metadata) of an (H, W) bool/uint8 or (H, W, 3) uint8 image."""
    from PIL import Image

    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG")
    return buffer.getvalue()


def fit_photos(
    front: str | os.PathLike | bytes | np.ndarray | bodyfit.Photo,
    side: str | os.PathLike | bytes | np.ndarray | bodyfit.Photo | None = None,
    *,
    height_cm: float,
    weight_kg: float | None = None,
    sex: str,
    age: float | None = None,
    overlay_on_photo: bool = False,
    clothed: bool = True,
) -> bodyfit.PhotoFit:
    """The full photo fit (body, cameras, silhouettes, overlays, scores, girth uncertainty); see
    ``bodyfit.fit_body_to_photos`` (``clothed``: fit the body inside the parsed clothes)."""
    return bodyfit.fit_body_to_photos(
        front,
        side,
        height_m=cm_to_m(_number("height", height_cm)),
        weight_kg=None if weight_kg is None else _number("weight", weight_kg),
        sex=sex,
        age_years=None if age is None else _number("age", age),
        overlay_on_photo=overlay_on_photo,
        clothed=clothed,
    )


def body_from_photos(
    front: str | os.PathLike | bytes | np.ndarray,
    side: str | os.PathLike | bytes | np.ndarray | None = None,
    *,
    height_cm: float,
    weight_kg: float | None = None,
    sex: str,
    age: float | None = None,
) -> Body:
    """A body fitted to a full-body front photo (and optionally a side photo) and the stature.

    Args:
        front: front photo: a path, encoded image bytes or an (H, W[, 3|4]) uint8 array.
        side: optional side photo (either side), same forms.
        height_cm: stature [cm].
        weight_kg: body mass [kg], optional.
        sex: ``"male"`` or ``"female"``.
        age: age [years], optional.

    Returns:
        The Body: ``vertices`` in the front photo's pose, ``rest_vertices`` in the canonical pose.
    """
    return fit_photos(front, side, height_cm=height_cm, weight_kg=weight_kg, sex=sex, age=age).body


def _shares_record(shares: Mapping[str, float]) -> dict[str, float]:
    """One girth's ``PhotoFit.clothing`` entry in user units: ``*_m`` lengths as ``*_cm`` [cm],
    the shares as they are."""
    record = {}
    for key, value in shares.items():
        if key.endswith("_m"):
            record[f"{key[:-2]}_cm"] = round(m_to_cm(value), 2)
        else:
            record[key] = round(float(value), 3)
    return record


def photo_fit_record(fit: bodyfit.PhotoFit) -> dict:
    """The ``photo_fit`` block of a photo body's body.json (user units): ``scores``,
    ``seconds``, ``stature_cm``, ``girth_uncertainty_cm`` (one standard deviation per girth),
    ``girth_sources`` (``"photo"``, or ``"prior"`` where the clothes hid the girth),
    ``clothing`` (per view and girth: the outline's skin / cloth / untelling shares and the ease
    spread [cm]), ``notes`` (what the photos could not tell) and, for clothed fits,
    ``posterior_girths_cm`` (the girths before the outline's readings corrected them) and
    ``readings`` (those readings: breadths, depths and the fitted neck [cm], the fitted mass
    [kg])."""
    readings = {  # lengths in cm (names without their "_m"), the mass in kg as named
        name if name.endswith("_kg") else name.removesuffix("_m"): round(
            value if name.endswith("_kg") else m_to_cm(value), 2
        )
        for name, value in fit.photo_readings.items()
    }
    return {
        "scores": {k: round(float(v), 4) for k, v in fit.scores.items()},
        "seconds": round(fit.seconds, 2),
        "stature_cm": round(m_to_cm(fit.body.measurements_m["stature"]), 2),
        "girth_uncertainty_cm": {
            k: round(m_to_cm(v), 2) for k, v in fit.girth_uncertainty_m.items()
        },
        "girth_sources": dict(fit.girth_sources),
        "clothing": {
            view: {girth: _shares_record(shares) for girth, shares in per_view.items()}
            for view, per_view in fit.clothing.items()
        },
        "notes": list(fit.notes),
        "posterior_girths_cm": {k: round(m_to_cm(v), 2) for k, v in fit.posterior_girths_m.items()},
        "readings": readings,
    }


def photo_body_json(fit: bodyfit.PhotoFit) -> dict:
    """The body.json content of a photo body (``tryon3d body --photo`` and ``tryon3d tryon
    --photo`` alike): :func:`tryon3d.body_json`'s, with ``cameras`` (per view, the fitted camera
    and, beside the front, that view's pose [rad]) and ``photo_fit`` (:func:`photo_fit_record`)."""
    content = body_json(fit.body)
    content["cameras"] = {
        name: {
            **camera.to_dict(),
            "pose_axis_angle_rad": np.asarray(fit.poses[name]).round(8).tolist(),
        }
        if name != "front"
        else camera.to_dict()
        for name, camera in fit.cameras.items()
    }
    content["photo_fit"] = photo_fit_record(fit)
    return content


def photo_fit_files(
    fit: bodyfit.PhotoFit, *, photos: Mapping[str, bodyfit.Photo] | None = None
) -> dict[str, bytes | str]:
    """Output files of a photo fit: body.glb, body.json (:func:`photo_body_json`),
    overlay_<view>.png, silhouette_<view>.png, and ``photo_<view>.png`` for the photos given in
    ``photos``."""
    files: dict[str, bytes | str] = {
        "body.glb": bodyfit.body_to_glb(fit.body),
        "body.json": json.dumps(photo_body_json(fit), indent=2) + "\n",
    }
    for name in fit.cameras:
        files[f"overlay_{name}.png"] = _png(fit.overlays[name])
        files[f"silhouette_{name}.png"] = _png(fit.silhouettes[name])
    for name, photo in (photos or {}).items():
        files[f"photo_{name}.png"] = _png(photo.pixels)
    return files


def run_photo_body(args: argparse.Namespace) -> int:
    """``tryon3d body --photo ...``: fit, then write every output file at once."""
    if not args.photo:
        raise ValueError("--side-photo needs a front photo too (--photo)")
    for flag in ("chest", "waist", "hips"):
        if getattr(args, flag, None) is not None:
            raise ValueError(
                f"--{flag} cannot be combined with --photo (the photo fit measures it)"
            )
    if getattr(args, "model", "anny") != "anny":
        raise ValueError("photo fitting supports the anny model only (--model anny)")
    out = ensure_writable_dir(args.output)
    photos = {"front": bodyfit.load_photo(args.photo)}
    if args.side_photo:
        photos["side"] = bodyfit.load_photo(args.side_photo)
    fit = fit_photos(
        photos["front"],
        photos.get("side"),
        height_cm=args.height,
        weight_kg=args.weight,
        sex=args.sex,
        age=args.age,
        overlay_on_photo=bool(args.keep_photos),
    )
    files = photo_fit_files(fit, photos=photos if args.keep_photos else None)
    written = write_files_atomically(out, files)
    if getattr(args, "json", False):
        print(files["body.json"], end="")
    else:
        log.info("wrote %s", ", ".join(str(Path(p)) for p in written))
        log.info(
            "fit: %s (%.1f s)",
            ", ".join(f"{k} {v:.3f}" for k, v in fit.scores.items()),
            fit.seconds,
        )
        measured = {k: m_to_cm(v) for k, v in fit.body.measurements_m.items()}
        log.info("measurements (cm): %s", ", ".join(f"{k} {v:.1f}" for k, v in measured.items()))
        log.info(
            "girths +/- (cm): %s",
            ", ".join(
                f"{k} {measured[k]:.1f} +/- {m_to_cm(v):.1f} ({fit.girth_sources.get(k, 'photo')})"
                for k, v in fit.girth_uncertainty_m.items()
            ),
        )
        for note in fit.notes:
            log.info("note: %s", note)
    return 0
