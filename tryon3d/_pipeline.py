"""End-to-end orchestration: body -> drapes -> renders -> report files (HTML + JSON).

Only wiring: bodies come from ``tryon3d._bodies`` / ``tryon3d._photos``, drapes from ``sim``,
images from ``render``, the size judgement from ``sizing``; the page from
``tryon3d/templates/report.html``.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import logging
import math
import os
import re
import string
import time
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from tryon3d._files import ensure_writable_dir, write_files_atomically
from tryon3d.core import data_file
from tryon3d.sizing import (
    DrapeJobResult,
    FitReport,
    SizeChart,
    SizeFit,
    fit_report,
    report_json,
)

if TYPE_CHECKING:
    import numpy as np

    from tryon3d.bodyfit import Body, PersonParsing
    from tryon3d.core import Camera
    from tryon3d.garments import Fabric, Garment
    from tryon3d.render import FitmapField, GarmentMesh
    from tryon3d.sim import Drape, SolverSettings

__all__ = [
    "DEMO_DEFAULTS",
    "body_from_photos",
    "drape",
    "load_garment",
    "render_fitmap",
    "render_on_photo",
    "render_report_assets",
    "render_size_assets",
    "render_turntable",
    "report_html",
    "run_demo",
    "run_tryon",
    "size_renderer",
    "write_report",
]

_log = logging.getLogger("tryon3d")

#: The demo's embedded inputs: a default body and the default T-shirt.
DEMO_DEFAULTS: dict[str, Any] = {
    "height_cm": 168.0,
    "weight_kg": 62.0,
    "sex": "female",
    "garment": "tshirt",
    "sizes": "auto",
    "edge_length_m": 0.035,
    "turntable_frames": 24,
    "image_size": 320,
}
VIEWER_FILES = ("model-viewer.min.js", "LICENSE", "README.md")


def _viewer_files() -> dict[str, bytes]:
    folder = data_file("viewer")
    return {f"viewer/{name}": folder.joinpath(name).read_bytes() for name in VIEWER_FILES}


def _png(pixels) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    array = np.asarray(pixels)
    if array.size > _PNG_STRIP_BYTES:
        return _png_in_strips(array)
    buffer = io.BytesIO()
    # a bool mask becomes 0/255 grey through one uint8 array (a view, then the product)
    array = (
        array.view(np.uint8) * np.uint8(255)
        if array.dtype == bool
        else array.astype(np.uint8, copy=False)
    )
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


_PNG_STRIP_BYTES = (
    1 << 24
)  # larger images are encoded in strips (PIL would hold RGB at 4 bytes a pixel)


def _png_in_strips(array) -> bytes:
    """PNG (8-bit grey or RGB, Sub filter) of an (H, W) bool/uint8 or (H, W, 3) uint8 array,
    compressed 256 rows at a time: no full-size copy of a 48 MP composite or mask."""
    import struct
    import zlib

    import numpy as np

    height, width = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    if channels not in (1, 3) or array.dtype not in (np.uint8, np.bool_):
        raise ValueError(f"cannot write {array.dtype} {array.shape} as PNG")

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0 if channels == 1 else 2, 0, 0, 0)
    parts = [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", header)]
    compressor = zlib.compressobj(6)
    for top in range(0, height, 256):
        strip = array[top : top + 256].reshape(-1, width * channels)
        strip = strip.view(np.uint8) * np.uint8(255) if array.dtype == bool else strip
        rows = np.empty((strip.shape[0], strip.shape[1] + 1), np.uint8)
        rows[:, 0] = 1  # Sub: each byte minus the same channel of the pixel to its left (mod 256)
        rows[:, 1:] = strip
        rows[:, 1 + channels :] -= strip[:, :-channels]
        data = compressor.compress(rows.tobytes())
        if data:
            parts.append(chunk(b"IDAT", data))
    parts += [chunk(b"IDAT", compressor.flush()), chunk(b"IEND", b"")]
    return b"".join(parts)


def render_size_assets(
    body: Body,
    size: str,
    drape: Drape,
    garment: Garment,
    *,
    image_size: int = 384,
    views: bool = False,
    turntable_frames: int = 0,
    fitmap: bool = True,
) -> dict[str, bytes]:
    """One size's report files: ``fitmap_<size>.png`` (stretch, front and back, ``image_size``
    [px] high) and ``draped_<size>.glb``; with ``views`` also the recommended size's
    ``front.png`` and (``turntable_frames`` > 0) ``turntable.gif`` + ``turntable.mp4``;
    ``fitmap`` False: the views alone.

    A command renders them as each size's drape comes back, while the others still drape (the
    views of the size it expects to recommend), and hands them to ``write_report`` as
    ``rendered``.
    """
    from tryon3d import render, sim

    files = {}
    if fitmap:
        files[f"fitmap_{size}.png"] = render.render_fitmap(
            body, drape, field="stretch", size=image_size, spp=4
        )
        files[f"draped_{size}.glb"] = sim.drape_to_glb(body, drape, texture=garment.texture_path)
    if views:
        front = render.render_body(
            body,
            drape=drape,
            texture=garment.texture_path,
            camera="front",
            width=image_size * 3 // 4,
            height=image_size,
            spp=16,
        )
        files["front.png"] = _png(front.composite() * 255.0 + 0.5)
    if views and turntable_frames:
        frames = render.render_turntable(
            body,
            drape=drape,
            texture=garment.texture_path,
            frames=turntable_frames,
            size=image_size,
            spp=4,
        )
        files["turntable.gif"] = render.encode_gif(frames, fps=12)
        files["turntable.mp4"] = render.encode_mp4(frames, fps=12)
    return files


def size_renderer(
    rendered: dict[str, dict[str, bytes]],
    *,
    image_size: int = 384,
    turntable_frames: int = 24,
    progress: Callable[[str], None] | None = None,
) -> Callable[[int, DrapeJobResult], None]:
    """An ``on_result(index, result)`` for ``sizing.DrapeWorkers.map`` that renders each size's
    files into ``rendered[size]`` as its drape comes back, while the other sizes drape; the size
    chart's answer (which the recommendation most often is) gets its views too
    (``render_size_assets``; ``render_report_assets`` renders them again for another
    recommended size). Pass ``rendered`` on to ``write_report``."""
    from tryon3d import sizing

    def render_size(_index: int, result: DrapeJobResult) -> None:
        job = result.job
        if result.drape is None or result.garment is None:
            return
        expected = bool(job.chart) and sizing.is_family(job.family)
        expected = expected and sizing.chart_size_for(job.body, job.chart, job.family) == job.size
        if progress is not None:
            progress(f"fit map {job.size}")
        rendered[job.size] = render_size_assets(
            job.body,
            job.size,
            result.drape,
            result.garment,
            image_size=image_size,
            views=expected,
            turntable_frames=turntable_frames,
        )

    return render_size


def render_report_assets(
    report: FitReport,
    *,
    image_size: int = 384,
    turntable_frames: int = 24,
    progress: Callable[[str], None] | None = None,
    rendered: Mapping[str, Mapping[str, bytes]] | None = None,
) -> dict[str, bytes]:
    """Images and models for the report: ``fitmap_<size>.png`` (stretch, front and back) for each
    size, ``turntable.gif`` + ``turntable.mp4`` and ``front.png`` of the recommended size,
    ``draped_<size>.glb`` for each size.

    Args:
        report: a FitReport (with its body, drapes and garments).
        image_size: fit-map view height and turntable frame size [px].
        turntable_frames: frames in one turn; 0 skips the turntable.
        progress: called with a short message before each slow step.
        rendered: size -> files rendered already for that size's drape in the report
            (``render_size_assets`` at the same ``image_size`` and ``turntable_frames``): used
            as they are, not rendered again; a size's views only if it is the recommended one.
    """

    def step(message: str) -> None:
        if progress is not None:
            progress(message)

    body, files = report.body, {}
    if body is None or not report.drapes:
        raise ValueError(
            "the fit report carries no body/drapes to render (was it loaded from JSON?)"
        )
    done = {size: dict(rendered.get(size, {})) for size in report.drapes} if rendered else {}
    best = report.recommended_size
    views = ["front.png"] + ["turntable.gif", "turntable.mp4"] * bool(turntable_frames)
    for size, drape in report.drapes.items():
        names = [f"fitmap_{size}.png", f"draped_{size}.glb"] + views * (size == best)
        have = done.get(size, {})
        if not all(name in have for name in names):
            own = all(name in have for name in names[:2])  # only the views are missing
            step(f"views of {size}" if own else f"fit map {size}")
            have = have | render_size_assets(
                body,
                size,
                drape,
                report.garments[size],
                image_size=image_size,
                views=size == best,
                turntable_frames=turntable_frames,
                fitmap=not own,
            )
        files.update({name: have[name] for name in names})
    return files


# ----------------------------------------------------------------------------- HTML

#: Marks the start of each named piece in ``templates/report_parts.html``.
_PART = re.compile(r"^<!-- part: (\w+) -->$", re.MULTILINE)


@functools.cache
def _templates() -> tuple[string.Template, dict[str, string.Template]]:
    """The page template and its named pieces (``tryon3d/templates``, shipped in the wheel)."""
    folder = resources.files("tryon3d").joinpath("templates")
    page = string.Template(folder.joinpath("report.html").read_text(encoding="utf-8"))
    chunks = _PART.split(folder.joinpath("report_parts.html").read_text(encoding="utf-8"))
    parts = {
        name: string.Template(text.strip("\n"))
        for name, text in zip(chunks[1::2], chunks[2::2], strict=True)
    }
    return page, parts


def _part(part: str, /, **values: str) -> str:
    """One named piece of ``templates/report_parts.html``, filled in."""
    return _templates()[1][part].substitute(values)


def _cell_class(verdict: str) -> str:
    return verdict.replace(" ", "-")


def _ease_cell(fit: SizeFit, region: str) -> str:
    if region not in fit.ease_cm:
        return _part("ease_cell_empty")
    tight, ideal, loose = fit.comfort_cm[region]
    verdict = fit.region_verdicts[region]
    tape = fit.tape_ease_cm.get(region, float("nan"))
    taped = f"; a tape over the garment reads {tape:.1f} cm" if math.isfinite(tape) else ""
    return _part(
        "ease_cell",
        verdict_class=_cell_class(verdict),
        tight=f"{tight:.0f}",
        loose=f"{loose:.0f}",
        ideal=f"{ideal:.0f}",
        source=fit.ease_source[region],
        taped=taped,
        ease=f"{fit.ease_cm[region]:.1f}",
        verdict=html.escape(verdict),
    )


def _ease_rows(report: FitReport, regions: list[str]) -> str:
    rows = []
    for size, fit in report.sizes.items():
        best = size == report.recommended_size
        stretch = fit.stretch
        rows.append(
            _part(
                "ease_row",
                row_class=' class="best"' if best else "",
                size=html.escape(size),
                star=" &#9733;" if best else "",
                cells="".join(_ease_cell(fit, r) for r in regions),
                verdict_class=_cell_class(fit.verdict),
                verdict=html.escape(fit.verdict),
                p95=f"{stretch['p95']:.0f}",
                max=f"{stretch['max']:.0f}",
                limit=f"{stretch['limit']:.0f}",
                lengths="<br>".join(html.escape(v["text"]) for v in fit.lengths.values()) or "-",
                gates="passed" if fit.gates["passed"] else "failed",
                penetrating=fit.gates["penetrating_vertices"],
                crossing=fit.gates["self_intersecting_pairs"],
            )
        )
    return "\n".join(rows)


def _views(report: FitReport, names: set[str], glb: bytes | None) -> str:
    esc, best = html.escape, report.recommended_size
    figures = []
    if glb is not None:
        figures.append(
            _part(
                "viewer",
                glb=base64.b64encode(glb).decode("ascii"),
                family=esc(report.family),
                best=esc(best),
            )
        )
    images = (
        ("turntable.gif", "turntable"),
        ("front.png", "front"),
        ("tryon.png", "on your photo"),
    )
    for name, caption in images:
        if name in names:
            figures.append(_part("image", name=name, caption=caption, best=esc(best)))
    if not figures:
        return ""
    links = " ".join(
        _part("glb_link", size=esc(s)) for s in report.sizes if f"draped_{s}.glb" in names
    )
    return (
        _part(
            "views",
            best=esc(best),
            figures="".join(figures),
            mp4=_part("mp4_link") if "turntable.mp4" in names else "",
            glb_links=links,
        )
        + "\n"
    )


#: How the report words ``PhotoFit.girth_sources``.
_GIRTH_SOURCE_WORDS = {
    "photo": "the photo",
    "photo+prior": "the photo and the population for your height",
    "prior": "the population prior (the photo could not tell)",
}


def _photo_section(report: FitReport, photo_fit: Mapping[str, Any] | None) -> str:
    """The "body from your photo" section: each girth with its uncertainty and where it comes
    from, and the fit's notes; empty without a photo fit."""
    if not photo_fit:
        return ""
    esc = html.escape
    spread = photo_fit.get("girth_uncertainty_cm", {})
    sources = photo_fit.get("girth_sources", {})
    rows = "".join(
        _part(
            "photo_girth",
            girth=esc(girth),
            value=f"{report.body_cm[girth]:.1f}" if girth in report.body_cm else "-",
            spread=f"{float(std):.1f}",
            source=esc(_GIRTH_SOURCE_WORDS.get(str(sources.get(girth)), "the photo")),
            row_class=' class="prior"' if sources.get(girth) == "prior" else "",
        )
        for girth, std in spread.items()
    )
    notes = "".join(_part("reason", text=esc(str(n))) for n in photo_fit.get("notes", ()))
    return _part("photo_body", rows=rows, notes=notes) + "\n"


def report_html(
    report: FitReport,
    files: Sequence[str],
    *,
    glb: bytes | None = None,
    title: str | None = None,
    photo_fit: Mapping[str, Any] | None = None,
) -> str:
    """The ``report.html`` page (``tryon3d/templates/report.html``): recommendation, reasons, ease
    table, fit maps, turntable and an interactive 3D view (vendored ``viewer/model-viewer.min.js``;
    the GLB embedded as a data URI, since browsers refuse ``fetch`` of ``file://`` URLs).

    Args:
        report: the FitReport.
        files: names of the files written next to the page (images shown when present).
        glb: the recommended size's draped GLB to embed; None leaves the 3D view out.
        title: page title.
        photo_fit: the ``photo_fit`` block of a photo body's body.json
            (``tryon3d._photos.photo_fit_record``): adds the body's girths with their
            uncertainty [cm] and the photo fit's notes; None leaves that section out.
    """
    names = set(files)
    esc = html.escape
    source = Path(report.garment_source).name if report.garment_source else ""
    title = title or f"Fit report: {source or report.family} on your body"
    pct = round(100 * report.confidence)
    body = ", ".join(
        f"{k.replace('_', ' ')} {v:.1f}"
        for k, v in report.body_cm.items()
        if k in ("stature", "chest", "waist", "hips", "upper_arm")
    )
    regions: list[str] = []
    for fit in report.sizes.values():
        regions += [r for r in fit.ease_cm if r not in regions]
    maps = "".join(_part("fitmap", size=esc(s)) for s in report.sizes if f"fitmap_{s}.png" in names)
    page = _templates()[0]
    return page.substitute(
        title=esc(title),
        viewer_script=_part("viewer_script") if glb is not None else "",
        fabric=esc(report.fabric),
        fabric_class=esc(report.fabric_class),
        chart_text=esc(
            f"garment file {report.garment_source}, its own sizes"
            if source
            else f"{report.chart}'s size chart"
        ),
        body=esc(body),
        best=esc(report.recommended_size),
        pct=pct,
        confidence_label=esc(report.confidence_label),
        chart_note=esc(
            f"No size chart: sizes are judged by {source}'s own pattern measurements."
            if source
            else f"The size chart alone would say {report.chart_size} for a "
            f"{report.body_cm.get('chest', 0):.0f} cm chest."
        ),
        reasons="".join(_part("reason", text=esc(r)) for r in report.reasons),
        photo_body=_photo_section(report, photo_fit),
        ease_heads="".join(_part("ease_head", region=esc(r.replace("_", " "))) for r in regions),
        ease_rows=_ease_rows(report, regions),
        views=_views(report, names, glb),
        fitmaps=_part("fitmaps", figures=maps) + "\n" if maps else "",
    )


def write_report(
    report: FitReport,
    folder: str | os.PathLike,
    *,
    image_size: int = 384,
    turntable_frames: int = 24,
    extra_files: dict[str, bytes | str] | None = None,
    progress: Callable[[str], None] | None = None,
    rendered: Mapping[str, Mapping[str, bytes]] | None = None,
    photo_fit: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Render the report's assets and write ``report.json``, ``report.html``, images, GLBs and
    the viewer into ``folder`` (all or nothing), with what reloads the report
    (``tryon3d.load_report``): ``body.json`` and the drapes (``sizing.drape_files``). Returns the
    written paths. ``rendered``: see ``render_report_assets``. ``photo_fit``: a photo body's
    ``photo_fit`` block, shown on the page (see :func:`report_html`)."""
    from tryon3d import sizing
    from tryon3d._bodies import body_json

    out = ensure_writable_dir(folder)
    files: dict[str, bytes | str] = dict(extra_files or {})
    files.update(
        render_report_assets(
            report,
            image_size=image_size,
            turntable_frames=turntable_frames,
            progress=progress,
            rendered=rendered,
        )
    )
    files.update(sizing.drape_files(report))
    if "body.json" not in files:
        if report.body is None:
            raise ValueError("the report carries no body, so body.json cannot be written")
        files["body.json"] = json.dumps(body_json(report.body), indent=2) + "\n"
    files.update(_viewer_files())
    glb = files.get(f"draped_{report.recommended_size}.glb")
    listing = sorted(set(files) | {"report.json", "report.html"})
    content = report_json(report, files={"list": listing})
    files["report.json"] = json.dumps(content, indent=2) + "\n"
    files["report.html"] = report_html(
        report, listing, glb=glb if isinstance(glb, bytes) else None, photo_fit=photo_fit
    )
    return write_files_atomically(out, files)


# ----------------------------------------------------------------------------- facade wrappers


def body_from_photos(
    front: str | os.PathLike,
    side: str | os.PathLike | None = None,
    *,
    height_cm: float,
    weight_kg: float | None = None,
    sex: str,
) -> Any:
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


def load_garment(
    name_or_path: str | os.PathLike,
    *,
    size: str | None = None,
    fabric: Fabric | str | None = None,
    body: Body | None = None,
    edge_length_m: float = 0.02,
    chart: SizeChart | None = None,
    texture: str | os.PathLike | None = None,
    texture_repeat_m: tuple[float, float] = (0.1, 0.1),
    units: str | None = None,
    up: str | None = None,
    **design: float,
) -> Garment:
    """A ``garments.Garment`` from a family name (``"tshirt"``...) or a pattern/mesh file, placed
    around ``body`` when given. ``size``: the family's size (None: M) or the size to read from a
    graded DXF. The other keywords are ``garments.load_garment``'s: mesh ``edge_length_m`` [m],
    size ``chart``, ``texture`` and its tile size ``texture_repeat_m`` [m], a mesh file's
    ``units`` and ``up`` axis, and ``design`` parameters [m] of a family."""
    from tryon3d import garments

    return garments.load_garment(
        name_or_path,
        size=size,
        fabric=fabric,
        body=body,
        edge_length_m=edge_length_m,
        chart=chart,
        texture=texture,
        texture_repeat_m=texture_repeat_m,
        units=units,
        up=up,
        **cast("dict[str, Any]", design),  # design parameters [m]; no keyword of its own
    )


def drape(
    body: Body,
    garment: Garment,
    *,
    device: str = "cpu",
    max_seconds_simulated: float = 4.0,
    dt: float = 1.0 / 60.0,
    max_dt: float | None = 0.1,
    substeps: int = 1,
    iterations: int = 10,
    linear_iterations: int | None = None,
    velocity_damping: float = 6.0,
    speed_tolerance_m_s: float = 0.01,
    stop_on_convergence: bool = True,
    self_collision: bool = True,
    transition_speed_m_s: float = 0.5,
    retries: int = 2,
    divergence_checks: bool = True,
    sewing_s: float = 0.3,
    solver_settings: SolverSettings | None = None,
) -> Drape:
    """Drape ``garment`` on ``body`` (Newton Style3D) -> ``sim.Drape`` (draped mesh, ease per
    region, stretch per face, quality gates). The keywords are ``sim.drape``'s: ``device``
    (``"cpu"``, ``"cuda[:N]"``), the settle budget ``max_seconds_simulated`` [s], frame steps
    ``dt`` / ``max_dt`` [s], solver ``substeps`` / ``iterations`` / ``linear_iterations``,
    ``velocity_damping`` [1/s], the rest test ``speed_tolerance_m_s`` [m/s] and
    ``stop_on_convergence``, ``self_collision``, the pose ``transition_speed_m_s`` [m/s],
    ``retries``, ``divergence_checks``, the retries' sewing ramp ``sewing_s`` [s] and the
    stepping choices ``solver_settings`` (``sim.SolverSettings``; None: ``sim``'s defaults;
    ``linear_iterations`` None: ``sim.DEFAULT_LINEAR_ITERATIONS``)."""
    from tryon3d import sim

    settings: dict[str, Any] = (
        {} if solver_settings is None else {"solver_settings": solver_settings}
    )
    if linear_iterations is not None:
        settings["linear_iterations"] = linear_iterations

    return sim.drape(
        body,
        garment,
        device=device,
        max_seconds_simulated=max_seconds_simulated,
        dt=dt,
        max_dt=max_dt,
        substeps=substeps,
        iterations=iterations,
        velocity_damping=velocity_damping,
        speed_tolerance_m_s=speed_tolerance_m_s,
        stop_on_convergence=stop_on_convergence,
        self_collision=self_collision,
        transition_speed_m_s=transition_speed_m_s,
        retries=retries,
        divergence_checks=divergence_checks,
        sewing_s=sewing_s,
        **settings,
    )


def render_fitmap(
    body: Body,
    drape: Drape,
    *,
    field: FitmapField = "stretch",
    views: Sequence[str] = ("front", "back"),
    size: int = 512,
    spp: int = 16,
    seed: int = 0,
    device: str = "auto",
) -> bytes:
    """A fit map (``field``: stretch [%], contact pressure [Pa] or ease [cm]), one image per
    camera view (``views``, left to right) with a legend, as PNG bytes. ``size``: each view's
    height [px]; ``spp``, ``seed``, ``device``: see ``render.render_fitmap``."""
    from tryon3d import render

    return render.render_fitmap(
        body, drape, field=field, views=views, size=size, spp=spp, seed=seed, device=device
    )


def render_turntable(
    body: Body,
    drape: Drape | None = None,
    *,
    frames: int = 36,
    size: int = 512,
    path: str | os.PathLike | None = None,
    fps: float = 12.0,
    garments: Sequence[GarmentMesh] = (),
    texture: str | os.PathLike | np.ndarray | None = None,
    garment_color: tuple[float, float, float] | None = None,
    spp: int = 4,
    seed: int = 0,
    background: tuple[float, float, float] = (0.80, 0.80, 0.82),
    shading: Literal["deferred", "path"] = "deferred",
    device: str = "auto",
) -> list[np.ndarray]:
    """Frames (each (size, size, 3) uint8) of the dressed body turning once; with ``path``
    (``.mp4`` or ``.gif``) the video is written there too, at ``fps`` [1/s]. The other keywords
    are ``render.render_turntable``'s: extra ``garments`` layers, the drape's ``texture`` or
    linear RGB ``garment_color``, ``spp``, ``seed``, linear RGB ``background`` (the default is
    ``render.BACKGROUND``), ``shading`` and ``device``."""
    from tryon3d import render

    images = render.render_turntable(
        body,
        drape=drape,
        garments=garments,
        texture=texture,
        garment_color=garment_color,
        frames=frames,
        size=size,
        spp=spp,
        seed=seed,
        background=background,
        shading=shading,
        device=device,
    )
    if path is not None:
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in (".mp4", ".gif"):
            raise ValueError(f"turntable path must end in .mp4 or .gif, got {str(target)!r}")
        data = (
            render.encode_mp4(images, fps=fps)
            if suffix == ".mp4"
            else render.encode_gif(images, fps=fps)
        )
        write_files_atomically(target.parent if str(target.parent) else ".", {target.name: data})
    return images


def render_on_photo(
    body: Body,
    drape: Drape,
    photo: str | os.PathLike | np.ndarray,
    camera: Camera,
    person_mask: np.ndarray | None = None,
    *,
    texture: str | os.PathLike | np.ndarray | None = None,
    garment_color: tuple[float, float, float] | None = None,
    protect_mask: np.ndarray | None = None,
    fit_light: bool = True,
    light_steps: int = 40,
    spp: int = 16,
    seed: int = 0,
    blend_margin_px: int = 3,
    occlusion_tolerance_m: float = 0.01,
    occluder_grow_px: int = 2,
    skin_color: tuple[float, float, float] = (0.42, 0.24, 0.16),
    device: str = "auto",
    work_max_side_px: int | None = 1024,
    parsing: PersonParsing | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The drape composited into the user's photo -> (image (H, W, 3) uint8, garment mask (H, W)
    bool). ``photo`` is a path or an (H, W, 3) uint8 array; ``camera`` the photo's fitted
    ``render.Camera``; ``person_mask`` the person's pixels, (H, W). The other keywords are
    ``render.render_on_photo``'s (defaults ``render.SKIN_COLOR`` and
    ``render.WORK_MAX_SIDE_PX``): texture or colour, pixels kept in front, the light fit,
    samples, the blend band [px], the occlusion tolerance [m], the working size [px], and
    ``parsing`` (``bodyfit.parse_person(photo)``): the new garment replaces the old one."""
    import numpy as np

    from tryon3d import render

    if isinstance(photo, (str, os.PathLike)):
        from PIL import Image

        try:
            photo = np.asarray(Image.open(photo).convert("RGB"))
        except OSError as exc:
            raise ValueError(f"cannot read photo {str(photo)!r}: {exc}") from None
    return render.render_on_photo(
        body,
        drape,
        photo,
        camera,
        person_mask,
        texture=texture,
        garment_color=garment_color,
        protect_mask=protect_mask,
        fit_light=fit_light,
        light_steps=light_steps,
        spp=spp,
        seed=seed,
        blend_margin_px=blend_margin_px,
        occlusion_tolerance_m=occlusion_tolerance_m,
        occluder_grow_px=occluder_grow_px,
        skin_color=skin_color,
        device=device,
        work_max_side_px=work_max_side_px,
        parsing=parsing,
    )


# ----------------------------------------------------------------------------- end to end


class _Progress:
    """A tqdm bar over named steps (silent when ``quiet``)."""

    def __init__(self, total: int, *, quiet: bool) -> None:
        from tqdm import tqdm

        self._bar = tqdm(
            total=total,
            disable=quiet,
            unit="step",
            leave=False,
            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}] {postfix}",
        )
        self._started = False

    def __call__(self, message: str) -> None:
        if self._started:
            self._bar.update(1)
        self._started = True
        self._bar.set_description_str(message)

    def close(self) -> None:
        self._bar.update(1)
        self._bar.close()


def _photo_body(
    photo: str,
    side_photo: str | None,
    *,
    height_cm: float,
    weight_kg: float | None,
    sex: str,
    parse: bool = False,
) -> tuple[Body, Camera, np.ndarray, np.ndarray, PersonParsing | None, dict]:
    """(body, front camera, person mask (h, w) uint8 at the analysis size, upright photo pixels
    (H, W, 3) uint8, the front photo's parsing when ``parse`` and it parses, else None, and the
    body.json content with the fit's ``cameras`` and ``photo_fit`` block) from the photo fit."""
    import numpy as np

    from tryon3d import bodyfit
    from tryon3d._photos import fit_photos, photo_body_json

    front = bodyfit.load_photo(
        photo
    )  # decoded once: upright (EXIF applied), for the fit and the composite
    fit = fit_photos(front, side_photo, height_cm=height_cm, weight_kg=weight_kg, sex=sex)
    # MediaPipe's person mask stays at the analysis size (uint8): render_on_photo resizes it
    # straight to its working size, so no photo-sized mask is ever made
    mask = np.round(np.clip(fit.analyses["front"].mask, 0.0, 1.0) * 255.0).astype(np.uint8)
    parsing = fit.parsings.get("front")  # the clothed fit's own: parsed once, not twice
    if parse and parsing is None:
        try:
            parsing = bodyfit.parse_person(front, analysis=fit.analyses["front"])
        except ValueError as exc:  # e.g. a face too small for the skin model: paint over
            _log.warning("cannot parse the photo (%s); the garment is painted over it", exc)
    record = photo_body_json(fit)
    return fit.body, fit.cameras["front"], mask, front.pixels, parsing if parse else None, record


def _families() -> dict[str, dict]:
    from tryon3d import garments

    return garments.list_families()


def _check_tryon_inputs(
    garment: str,
    size: str,
    sizes: Sequence[str] | str | None,
    photo: str | None,
    side_photo: str | None,
    sex: str,
) -> None:
    """Fail on bad inputs before any slow work."""
    from tryon3d import bodyfit, garments, sizing

    bodyfit.check_sex(sex)
    families = garments.list_families()
    if garment in families:
        labels = families[garment]["sizes"]
    else:  # a garment file: its own sizes
        labels = sizing.file_sizes(sizing.garment_file(garment))
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
    workers: int | None = None,
    replace_garment: bool = True,
) -> tuple[FitReport, list[Path]]:
    """Body, drape(s), photo composite (when a photo is given), turntable and fit report in one run.

    Writes into ``folder``: ``body.json``/``body.glb``, the report files (see :func:`write_report`)
    and, with a photo, ``tryon.png`` + ``garment_mask.png``. ``sizes`` (default: just ``size``)
    are the sizes compared in the report; ``size`` is always among them. ``workers``: sizes
    draped at once (see ``sizing.fit_report``; None: one per core, 1: one after the other here);
    on the CPU the drape workers start before the body is built (``sizing.start_drape_workers``)
    and each size is rendered as it comes back.
    ``replace_garment``: the photo is parsed and the new garment replaces the person's own
    (``render.render_on_photo(parsing=...)``); False paints it over the photo.
    """
    from tryon3d import render, sizing
    from tryon3d._bodies import body_from_measurements, body_json

    out = ensure_writable_dir(folder)
    started = time.perf_counter()
    if photo is None and side_photo is not None:
        raise ValueError("--side-photo needs --photo (the front photo)")
    if photo is None and weight_kg is None:
        raise ValueError("weight is required when no photo is given")
    if isinstance(sizes, str) and sizes not in ("auto", "all"):
        sizes = [s.strip() for s in sizes.split(",") if s.strip()]
    if garment not in _families() and sizing.file_sizes(sizing.garment_file(garment)) == [
        sizing.ONE_SIZE
    ]:
        size = sizing.ONE_SIZE  # a mesh or GarmentCode file: its only size, whatever was asked
    _check_tryon_inputs(garment, size, sizes, photo, side_photo, sex)
    if sizes is None:
        sizes = [size]
    if not isinstance(sizes, str) and size not in sizes:
        sizes = [*sizes, size]
    count = 4 + (len(sizes) if not isinstance(sizes, str) else 3) * 2 + (1 if photo else 0)
    # the drape workers load Newton and Warp's kernels on another core while the body is built
    pool = (
        sizing.start_drape_workers(device=device, workers=workers)
        if device == "cpu" and workers != 1
        else None
    )
    progress = _Progress(count, quiet=quiet)
    rendered: dict[str, dict[str, bytes]] = {}
    try:
        progress("building the body")
        camera: Camera | None = None
        mask: np.ndarray | None = None
        pixels: np.ndarray | None = None
        parsing = None
        content: dict | None = None  # body.json: the photo body's, with its photo_fit block
        if photo is not None:
            body, camera, mask, pixels, parsing, content = _photo_body(
                photo,
                side_photo,
                height_cm=height_cm,
                weight_kg=weight_kg,
                sex=sex,
                parse=replace_garment,
            )
        else:
            body = body_from_measurements(
                height_cm=height_cm,
                weight_kg=cast(float, weight_kg),  # given without a photo (checked above)
                sex=sex,
                chest_cm=chest_cm,
                waist_cm=waist_cm,
                hips_cm=hips_cm,
            )
        _log.debug("body in %.1f s", time.perf_counter() - started)
        report = fit_report(
            body,
            garment,
            sizes=sizes,
            fabric=fabric,
            device=device,
            edge_length_m=edge_length_m,
            progress=progress,
            map_jobs=None
            if pool is None
            else pool.mapper(
                prepare=sizing.place_job,
                on_result=size_renderer(
                    rendered,
                    image_size=image_size,
                    turntable_frames=turntable_frames,
                    progress=progress,
                ),
            ),
            workers=workers,
        )
        from tryon3d import bodyfit

        extra: dict[str, bytes | str] = {
            "body.glb": bodyfit.body_to_glb(body),
            "body.json": json.dumps(content or body_json(body), indent=2) + "\n",
        }
        if pixels is not None and camera is not None:  # a photo body
            chosen = size if size in report.drapes else report.recommended_size
            progress("compositing onto the photo")
            composite, garment_mask = render.render_on_photo(
                body,
                report.drapes[chosen],
                pixels,
                camera,
                mask,
                texture=report.garments[chosen].texture_path,
                in_place=True,
                parsing=parsing,
            )  # the photo becomes the composite: one 48 MP array (144 MB), not two
            pixels = mask = parsing = None
            extra["tryon.png"] = _png(composite)
            del composite
            extra["garment_mask.png"] = _png(garment_mask)
        written = write_report(
            report,
            out,
            image_size=image_size,
            turntable_frames=turntable_frames,
            extra_files=extra,
            progress=progress,
            rendered=rendered,
            photo_fit=None if content is None else content["photo_fit"],
        )
    finally:
        progress.close()
        if pool is not None:
            pool.close()
    _log.debug("tryon in %.1f s", time.perf_counter() - started)
    return report, written


def run_demo(
    folder: str | os.PathLike = "out/demo",
    *,
    quiet: bool = False,
    device: str = "cpu",
    workers: int | None = None,
) -> tuple[FitReport, list[Path], float]:
    """The demo: a default body (168 cm, 62 kg, female) and the default T-shirt in the three sizes
    around the size chart's answer -> the full report in ``folder``. Returns (report, paths,
    seconds)."""
    started = time.perf_counter()
    d = DEMO_DEFAULTS
    report, written = run_tryon(
        folder,
        height_cm=d["height_cm"],
        weight_kg=d["weight_kg"],
        sex=d["sex"],
        garment=d["garment"],
        size="M",
        sizes=d["sizes"],
        device=device,
        edge_length_m=d["edge_length_m"],
        image_size=d["image_size"],
        turntable_frames=d["turntable_frames"],
        quiet=quiet,
        workers=workers,
    )
    return report, written, time.perf_counter() - started
