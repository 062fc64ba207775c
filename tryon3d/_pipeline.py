"""End-to-end orchestration: body -> drapes -> renders -> report files (HTML + JSON).

Only wiring: bodies come from ``tryon3d._bodies`` / ``tryon3d._photos``, drapes from ``sim``,
images from ``render``, the size judgement from ``tryon3d._report``.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from tryon3d._files import ensure_writable_dir, write_files_atomically
from tryon3d._report import FitReport, fit_report, report_json

__all__ = [
    "DEMO_DEFAULTS",
    "body_from_photos",
    "drape",
    "load_garment",
    "render_fitmap",
    "render_on_photo",
    "render_report_assets",
    "render_turntable",
    "report_html",
    "run_demo",
    "run_tryon",
    "write_report",
]

_log = logging.getLogger("tryon3d")

#: The demo's embedded inputs: a default body and the default T-shirt.
DEMO_DEFAULTS: dict[str, Any] = {
    "height_cm": 168.0, "weight_kg": 62.0, "sex": "female", "garment": "tshirt", "sizes": "auto",
    "edge_length_m": 0.035, "turntable_frames": 24, "image_size": 320,
}
VIEWER_FILES = ("model-viewer.min.js", "LICENSE", "README.md")


def _viewer_files() -> dict[str, bytes]:
    folder = resources.files("tryon3d.data").joinpath("viewer")
    return {f"viewer/{name}": folder.joinpath(name).read_bytes() for name in VIEWER_FILES}


def _png(pixels) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    array = np.asarray(pixels)
    # a bool mask becomes 0/255 grey through one uint8 array (a view, then the product)
    array = array.view(np.uint8) * np.uint8(255) if array.dtype == bool else array.astype(np.uint8, copy=False)
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def render_report_assets(
    report: FitReport,
    *,
    image_size: int = 384,
    turntable_frames: int = 24,
    progress: Callable[[str], None] | None = None,
) -> dict[str, bytes]:
    """Images and models for the report: ``fitmap_<size>.png`` (stretch, front and back) for each
    size, ``turntable.gif`` + ``turntable.mp4`` and ``front.png`` of the recommended size,
    ``draped_<size>.glb`` for each size.

    Args:
        report: a FitReport (with its body, drapes and garments).
        image_size: fit-map view height and turntable frame size [px].
        turntable_frames: frames in one turn; 0 skips the turntable.
        progress: called with a short message before each slow step.
    """
    from tryon3d import render, sim

    def step(message: str) -> None:
        if progress is not None:
            progress(message)

    body, files = report.body, {}
    if body is None or not report.drapes:
        raise ValueError("the fit report carries no body/drapes to render (was it loaded from JSON?)")
    for size, drape in report.drapes.items():
        step(f"fit map {size}")
        files[f"fitmap_{size}.png"] = render.render_fitmap(body, drape, field="stretch", size=image_size, spp=4)
        texture = report.garments[size].texture_path
        files[f"draped_{size}.glb"] = sim.drape_to_glb(body, report.drapes[size], texture=texture)
    best = report.recommended_size
    drape, texture = report.drapes[best], report.garments[best].texture_path
    step("front view")
    front = render.render_body(body, drape=drape, texture=texture, camera="front", width=image_size * 3 // 4,
                               height=image_size, spp=16)
    files["front.png"] = _png(front.composite() * 255.0 + 0.5)
    if turntable_frames:
        step(f"turntable ({turntable_frames} frames)")
        frames = render.render_turntable(body, drape=drape, texture=texture, frames=turntable_frames,
                                         size=image_size, spp=4)
        files["turntable.gif"] = render.encode_gif(frames, fps=12)
        files["turntable.mp4"] = render.encode_mp4(frames, fps=12)
    return files


# ----------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2430;background:#f5f6f8}
header{background:#1d2b4f;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px} header p{margin:0;opacity:.85}
main{padding:18px 28px;max-width:1200px}
section{background:#fff;border-radius:8px;padding:14px 18px;margin:0 0 16px;box-shadow:0 1px 3px #0002}
h2{font-size:17px;margin:0 0 10px}
.big{font-size:34px;font-weight:700} .conf{display:inline-block;width:180px;height:10px;background:#dde;
border-radius:5px;vertical-align:middle;margin-left:10px} .conf span{display:block;height:10px;border-radius:5px;
background:#2f7d4f}
table{border-collapse:collapse;font-size:14px} th,td{border:1px solid #dde;padding:5px 9px;text-align:center}
th{background:#eef0f5} td.good{background:#d9f2e0} td.snug,td.loose{background:#fff3cc}
td.too-tight,td.too-loose{background:#f9d4d4} tr.best td:first-child{font-weight:700}
.grid{display:flex;flex-wrap:wrap;gap:14px} figure{margin:0} figcaption{font-size:13px;color:#556;text-align:center}
model-viewer{width:420px;height:520px;background:#eef0f5;border-radius:6px}
ul{margin:6px 0 0 18px;padding:0} li{margin:2px 0} small{color:#667}
"""


def _cell_class(verdict: str) -> str:
    return verdict.replace(" ", "-")


def _ease_table(report: FitReport) -> str:
    regions: list[str] = []
    for fit in report.sizes.values():
        regions += [r for r in fit.ease_cm if r not in regions]
    head = "".join(f"<th>{html.escape(r.replace('_', ' '))} ease (cm)</th>" for r in regions)
    rows = []
    for size, fit in report.sizes.items():
        cells = []
        for region in regions:
            if region not in fit.ease_cm:
                cells.append("<td>-</td>")
                continue
            tight, ideal, loose = fit.comfort_cm[region]
            verdict = fit.region_verdicts[region]
            tape = fit.tape_ease_cm.get(region, float("nan"))
            taped = f"; a tape over the garment reads {tape:.1f} cm" if math.isfinite(tape) else ""
            cells.append(f'<td class="{_cell_class(verdict)}" title="comfortable {tight:.0f} to {loose:.0f} cm, '
                         f'design {ideal:.0f} cm; {fit.ease_source[region]}{taped}">{fit.ease_cm[region]:.1f}'
                         f"<br><small>{html.escape(verdict)}</small></td>")
        stretch = fit.stretch
        gates = "passed" if fit.gates["passed"] else "failed"
        lengths = "<br>".join(html.escape(v["text"]) for v in fit.lengths.values()) or "-"
        best = ' class="best"' if size == report.recommended_size else ""
        rows.append(
            f"<tr{best}><td>{html.escape(size)}{' &#9733;' if best else ''}</td>{''.join(cells)}"
            f'<td class="{_cell_class(fit.verdict)}">{html.escape(fit.verdict)}</td>'
            f"<td>{stretch['p95']:.0f} / {stretch['max']:.0f} % <small>(limit {stretch['limit']:.0f} %)</small></td>"
            f"<td>{lengths}</td><td>{gates}<br><small>{fit.gates['penetrating_vertices']} pen., "
            f"{fit.gates['self_intersecting_pairs']} self-int.</small></td></tr>"
        )
    return (f"<table><tr><th>size</th>{head}<th>verdict</th><th>stretch p95 / max</th><th>lengths</th>"
            f"<th>gates</th></tr>{''.join(rows)}</table>")


def report_html(report: FitReport, files: Sequence[str], *, glb: bytes | None = None,
                title: str | None = None) -> str:
    """The ``report.html`` page: recommendation, reasons, ease table, fit maps, turntable and an
    interactive 3D view (vendored ``viewer/model-viewer.min.js``; the GLB embedded as a data URI,
    since browsers refuse ``fetch`` of ``file://`` URLs).

    Args:
        report: the FitReport.
        files: names of the files written next to the page (images shown when present).
        glb: the recommended size's draped GLB to embed; None leaves the 3D view out.
        title: page title.
    """
    names = set(files)
    esc = html.escape
    best = report.recommended_size
    title = title or f"Fit report: {report.family} on your body"
    pct = round(100 * report.confidence)
    body = ", ".join(f"{k.replace('_', ' ')} {v:.1f}" for k, v in report.body_cm.items()
                     if k in ("stature", "chest", "waist", "hips", "upper_arm"))
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><link rel=\"icon\" href=\"data:,\"><style>{_CSS}</style>",
        '<script src="viewer/model-viewer.min.js"></script>' if glb is not None else "",
        "</head><body>",
        f"<header><h1>{esc(title)}</h1><p>{esc(report.fabric)} ({esc(report.fabric_class)}), "
        f"{esc(report.chart)}'s size chart &middot; body (cm): {esc(body)}</p></header><main>",
        f'<section id="recommendation"><h2>Recommended size</h2><div class="big">{esc(best)}</div>'
        f'<div>confidence {pct} % ({esc(report.confidence_label)})<span class="conf"><span style="width:{pct}%">'
        f"</span></span></div><p><small>The size chart alone would say {esc(report.chart_size)} for a "
        f"{report.body_cm.get('chest', 0):.0f} cm chest.</small></p>"
        "<ul>" + "".join(f"<li>{esc(r)}</li>" for r in report.reasons) + "</ul></section>",
        f'<section id="ease"><h2>Ease and stretch per size</h2>{_ease_table(report)}'
        "<p><small>Ease = garment girth minus body girth, measured on the draped garment, or from the pattern where "
        "the drape gives no plausible value (hover a cell for "
        "the comfortable range). Stretch: 100 % = unstretched fabric.</small></p></section>",
    ]
    views = []
    if glb is not None:
        data = base64.b64encode(glb).decode("ascii")
        views.append(
            f'<figure><model-viewer id="viewer" src="data:model/gltf-binary;base64,{data}" camera-controls '
            f'auto-rotate shadow-intensity="0.6" exposure="1.1" camera-orbit="0deg 80deg auto" '
            f'alt="draped {esc(report.family)} size {esc(best)}"></model-viewer>'
            f"<figcaption>3D view, size {esc(best)}: drag to turn, scroll to zoom</figcaption></figure>")
    for name, caption in (("turntable.gif", "turntable"), ("front.png", "front"), ("tryon.png", "on your photo")):
        if name in names:
            views.append(f'<figure><img src="{name}" alt="{caption}" style="max-height:520px">'
                         f"<figcaption>{caption}, size {esc(best)}</figcaption></figure>")
    if views:
        extra = ' <a href="turntable.mp4">turntable.mp4</a>' if "turntable.mp4" in names else ""
        parts.append(f'<section id="views"><h2>Size {esc(best)} on your body</h2><div class="grid">'
                     f"{''.join(views)}</div><p><small>Files:{extra} "
                     + " ".join(f'<a href="draped_{esc(s)}.glb">draped_{esc(s)}.glb</a>' for s in report.sizes
                                if f"draped_{s}.glb" in names) + "</small></p></section>")
    maps = [f'<figure><img src="fitmap_{esc(s)}.png" alt="fit map {esc(s)}" style="max-width:560px">'
            f"<figcaption>size {esc(s)}: stretch, front and back</figcaption></figure>"
            for s in report.sizes if f"fitmap_{s}.png" in names]
    if maps:
        parts.append(f'<section id="fitmaps"><h2>Fit maps</h2><div class="grid">{"".join(maps)}</div></section>')
    parts.append("<footer><main><small>Made by tryon3d. 3D viewer: &lt;model-viewer&gt; (Apache-2.0), "
                 "see viewer/LICENSE.</small></main></footer></body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def write_report(
    report: FitReport,
    folder: str | os.PathLike,
    *,
    image_size: int = 384,
    turntable_frames: int = 24,
    extra_files: dict[str, bytes | str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Render the report's assets and write ``report.json``, ``report.html``, images, GLBs and
    the viewer into ``folder`` (all or nothing). Returns the written paths."""
    out = ensure_writable_dir(folder)
    files: dict[str, bytes | str] = dict(extra_files or {})
    files.update(render_report_assets(report, image_size=image_size, turntable_frames=turntable_frames,
                                      progress=progress))
    files.update(_viewer_files())
    glb = files.get(f"draped_{report.recommended_size}.glb")
    listing = sorted(set(files) | {"report.json", "report.html"})
    content = report_json(report, files={"list": listing})
    files["report.json"] = json.dumps(content, indent=2) + "\n"
    files["report.html"] = report_html(report, listing, glb=glb if isinstance(glb, bytes) else None)
    return write_files_atomically(out, files)


# ----------------------------------------------------------------------------- facade wrappers


def body_from_photos(front: str | os.PathLike, side: str | os.PathLike | None = None, *, height_cm: float,
                     weight_kg: float | None = None, sex: str) -> Any:
    """A body (and the photo's camera) fitted to a front photo (and optional side photo).

    Thin wrapper over ``tryon3d._photos.body_from_photos``; see there for what it returns.

    Raises:
        ValueError: bad inputs, or this build has no photo fitting.
    """
    try:
        from tryon3d._photos import body_from_photos as fit
    except ModuleNotFoundError as exc:
        if exc.name != "tryon3d._photos":
            raise
        raise ValueError("this build cannot fit bodies to photos (no tryon3d._photos)") from None
    return fit(front, side, height_cm=height_cm, weight_kg=weight_kg, sex=sex)


def load_garment(name_or_path: str | os.PathLike, *, size: str | None = None, fabric: Any = None, body: Any = None,
                 **options: Any) -> Any:
    """A ``garments.Garment`` from a family name (``"tshirt"``...) or a pattern/mesh file, placed
    around ``body`` when given. ``size``: the family's size (None: M) or the size to read from a
    graded DXF. ``options``: see ``garments.load_garment`` (``edge_length_m``,
    ``chart``, ``texture``, design parameters [m])."""
    from tryon3d import garments

    return garments.load_garment(name_or_path, size=size, fabric=fabric, body=body, **options)


def drape(body: Any, garment: Any, *, device: str = "cpu", **options: Any) -> Any:
    """Drape ``garment`` on ``body`` (Newton Style3D) -> ``sim.Drape`` (draped mesh, ease per
    region, stretch per face, quality gates). ``options``: see ``sim.drape``."""
    from tryon3d import sim

    return sim.drape(body, garment, device=device, **options)


def render_fitmap(body: Any, drape: Any, *, field: str = "stretch", size: int = 512, **options: Any) -> bytes:
    """A fit map (stretch, pressure or ease), front and back with a legend, as PNG bytes.
    ``options``: see ``render.render_fitmap``."""
    from tryon3d import render

    return render.render_fitmap(body, drape, field=field, size=size, **options)


def render_turntable(body: Any, drape: Any = None, *, frames: int = 36, size: int = 512,
                     path: str | os.PathLike | None = None, fps: float = 12.0, **options: Any) -> list:
    """Frames (each (size, size, 3) uint8) of the dressed body turning once; with ``path``
    (``.mp4`` or ``.gif``) the video is written there too. ``options``: see ``render.render_turntable``."""
    from tryon3d import render

    images = render.render_turntable(body, drape=drape, frames=frames, size=size, **options)
    if path is not None:
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in (".mp4", ".gif"):
            raise ValueError(f"turntable path must end in .mp4 or .gif, got {str(target)!r}")
        data = render.encode_mp4(images, fps=fps) if suffix == ".mp4" else render.encode_gif(images, fps=fps)
        write_files_atomically(target.parent if str(target.parent) else ".", {target.name: data})
    return images


def render_on_photo(body: Any, drape: Any, photo: Any, camera: Any, person_mask: Any = None,
                    **options: Any) -> tuple:
    """The drape composited into the user's photo -> (image (H, W, 3) uint8, garment mask (H, W)
    bool). ``photo`` is a path or an (H, W, 3) uint8 array; ``camera`` the photo's fitted
    ``render.Camera``. ``options``: see ``render.render_on_photo``."""
    import numpy as np

    from tryon3d import render

    if isinstance(photo, (str, os.PathLike)):
        from PIL import Image

        try:
            photo = np.asarray(Image.open(photo).convert("RGB"))
        except OSError as exc:
            raise ValueError(f"cannot read photo {str(photo)!r}: {exc}") from None
    return render.render_on_photo(body, drape, photo, camera, person_mask, **options)


# ----------------------------------------------------------------------------- end to end


class _Progress:
    """A tqdm bar over named steps (silent when ``quiet``)."""

    def __init__(self, total: int, *, quiet: bool) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, disable=quiet, unit="step", leave=False,
                         bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}] {postfix}")
        self._started = False

    def __call__(self, message: str) -> None:
        if self._started:
            self._bar.update(1)
        self._started = True
        self._bar.set_description_str(message)

    def close(self) -> None:
        self._bar.update(1)
        self._bar.close()


def _photo_body(photo: str, side_photo: str | None, *, height_cm: float, weight_kg: float | None, sex: str):
    """(body, front camera, person mask (H, W) bool, upright photo pixels) from the photo fit."""
    import numpy as np
    from PIL import Image

    from tryon3d import bodyfit
    from tryon3d._photos import fit_photos

    front = bodyfit.load_photo(photo)  # decoded once: upright (EXIF applied), for the fit and the composite
    fit = fit_photos(front, side_photo, height_cm=height_cm, weight_kg=weight_kg, sex=sex)
    pixels = front.pixels
    height, width = pixels.shape[:2]
    # MediaPipe's person mask is at the analysis size: back to the photo's
    small = Image.fromarray(np.clip(fit.analyses["front"].mask * 255.0, 0, 255).astype(np.uint8))
    mask = np.asarray(small.resize((width, height), Image.BILINEAR)) > 127  # bool: 1 byte/px at 48 MP
    return fit.body, fit.cameras["front"], mask, pixels


def _check_tryon_inputs(garment: str, size: str, sizes: Any, photo: str | None, side_photo: str | None,
                        sex: str) -> None:
    """Fail on bad inputs before any slow work."""
    from tryon3d import bodyfit, garments

    bodyfit.check_sex(sex)
    families = garments.list_families()
    if garment not in families:
        raise ValueError(f"unknown garment family {garment!r}; expected one of {sorted(families)}")
    labels = families[garment]["sizes"]
    wanted = [size] + ([] if sizes is None or isinstance(sizes, str) else list(sizes))
    for label in wanted:
        if label not in labels:
            raise ValueError(f"unknown size {label!r}; expected one of {labels}")
    if isinstance(sizes, str) and sizes not in ("auto", "all"):
        raise ValueError(f"sizes must be a list of sizes, 'auto' or 'all', got {sizes!r}")
    for path in (photo, side_photo):
        if path is not None and not Path(path).is_file():
            raise ValueError(f"photo {path!r} does not exist")


def run_tryon(
    folder: str | os.PathLike,
    *,
    height_cm: float,
    sex: str,
    garment: str,
    size: str = "M",
    sizes: Sequence[str] | str | None = None,
    weight_kg: float | None = None,
    chest_cm: float | None = None,
    waist_cm: float | None = None,
    hips_cm: float | None = None,
    photo: str | None = None,
    side_photo: str | None = None,
    fabric: str | None = None,
    device: str = "cpu",
    edge_length_m: float = 0.03,
    image_size: int = 384,
    turntable_frames: int = 24,
    quiet: bool = False,
) -> tuple[FitReport, list[Path]]:
    """Body, drape(s), photo composite (when a photo is given), turntable and fit report in one run.

    Writes into ``folder``: ``body.json``/``body.glb``, the report files (see :func:`write_report`)
    and, with a photo, ``tryon.png`` + ``garment_mask.png``. ``sizes`` (default: just ``size``)
    are the sizes compared in the report; ``size`` is always among them.
    """
    from tryon3d import render
    from tryon3d._bodies import body_from_measurements, body_json

    out = ensure_writable_dir(folder)
    started = time.perf_counter()
    if photo is None and side_photo is not None:
        raise ValueError("--side-photo needs --photo (the front photo)")
    if photo is None and weight_kg is None:
        raise ValueError("weight is required when no photo is given")
    if isinstance(sizes, str) and sizes not in ("auto", "all"):
        sizes = [s.strip() for s in sizes.split(",") if s.strip()]
    _check_tryon_inputs(garment, size, sizes, photo, side_photo, sex)
    if sizes is None:
        sizes = [size]
    if not isinstance(sizes, str) and size not in sizes:
        sizes = [*sizes, size]
    count = 4 + (len(sizes) if not isinstance(sizes, str) else 3) * 2 + (1 if photo else 0)
    progress = _Progress(count, quiet=quiet)
    try:
        progress("building the body")
        camera = mask = pixels = None
        if photo is not None:
            body, camera, mask, pixels = _photo_body(photo, side_photo, height_cm=height_cm, weight_kg=weight_kg,
                                                     sex=sex)
        else:
            body = body_from_measurements(height_cm=height_cm, weight_kg=weight_kg, sex=sex, chest_cm=chest_cm,
                                          waist_cm=waist_cm, hips_cm=hips_cm)
        _log.debug("body in %.1f s", time.perf_counter() - started)
        report = fit_report(body, garment, sizes=sizes, fabric=fabric, device=device, edge_length_m=edge_length_m,
                            progress=progress)
        from tryon3d import bodyfit

        extra: dict[str, bytes | str] = {"body.glb": bodyfit.body_to_glb(body),
                                         "body.json": json.dumps(body_json(body), indent=2) + "\n"}
        if photo is not None:
            chosen = size if size in report.drapes else report.recommended_size
            progress("compositing onto the photo")
            composite, garment_mask = render.render_on_photo(
                body, report.drapes[chosen], pixels, camera, mask, texture=report.garments[chosen].texture_path)
            pixels = mask = None  # a 48 MP photo and its mask: 190 MB, freed before the PNGs are encoded
            extra["tryon.png"] = _png(composite)
            composite = None
            extra["garment_mask.png"] = _png(garment_mask)
        written = write_report(report, out, image_size=image_size, turntable_frames=turntable_frames,
                               extra_files=extra, progress=progress)
    finally:
        progress.close()
    _log.debug("tryon in %.1f s", time.perf_counter() - started)
    return report, written


def run_demo(folder: str | os.PathLike = "out/demo", *, quiet: bool = False,
             device: str = "cpu") -> tuple[FitReport, list[Path], float]:
    """The demo: a default body (168 cm, 62 kg, female) and the default T-shirt in the three sizes
    around the size chart's answer -> the full report in ``folder``. Returns (report, paths, seconds)."""
    started = time.perf_counter()
    d = DEMO_DEFAULTS
    report, written = run_tryon(folder, height_cm=d["height_cm"], weight_kg=d["weight_kg"], sex=d["sex"],
                                garment=d["garment"], size="M", sizes=d["sizes"], device=device,
                                edge_length_m=d["edge_length_m"], image_size=d["image_size"],
                                turntable_frames=d["turntable_frames"], quiet=quiet)
    return report, written, time.perf_counter() - started
