"""Exports: printable pattern layout (SVG, centimetres) and placed garments (binary glTF)."""

from __future__ import annotations

import io
from html import escape
from typing import TYPE_CHECKING

import numpy as np

from tryon3d.garments._garment import Garment
from tryon3d.garments._pattern import Pattern, panel_outline, sample_edge

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body

__all__ = ["garment_to_glb", "pattern_svg"]

_GAP_CM = 4.0


def pattern_svg(item: Garment | Pattern) -> str:
    """A print layout of the pattern in centimetres (1 SVG unit = 1 cm, true size).

    Panels are laid side by side; each shows its outline, name, grain line (arrow) and the
    seam labels (``S1``, ``S2``...) on both edges of every seam.

    Raises:
        ValueError: a garment without a sewing pattern (e.g. an imported mesh).
    """
    pattern = item.metadata.pattern if isinstance(item, Garment) else item
    if not isinstance(pattern, Pattern):
        raise ValueError(
            "pattern_svg needs a Pattern or a Garment made from one; this garment has no pattern"
        )
    labels: dict[tuple[str, str], list[str]] = {}
    for i, seam in enumerate(pattern.seams, start=1):
        labels.setdefault((seam.panel_a, seam.edge_a), []).append(f"S{i}")
        labels.setdefault((seam.panel_b, seam.edge_b), []).append(f"S{i}")
    body, x_cursor, height = [], _GAP_CM, 0.0
    outlines = [panel_outline(p, 32) * 100.0 for p in pattern.panels]
    top = max(o[:, 1].max() for o in outlines)
    for panel, outline in zip(pattern.panels, outlines, strict=True):
        lo, hi = outline.min(axis=0), outline.max(axis=0)
        shift = np.array([x_cursor - lo[0], 0.0])

        def tx(p: np.ndarray, shift: np.ndarray = shift) -> tuple[float, float]:
            q = p + shift
            return float(q[0]), float(top + _GAP_CM - q[1])  # SVG y points down

        path = (
            " ".join(
                f"{'M' if k == 0 else 'L'}{tx(p)[0]:.2f},{tx(p)[1]:.2f}"
                for k, p in enumerate(outline)
            )
            + " Z"
        )
        body.append(f'<path d="{path}" fill="#f4efe6" stroke="#222" stroke-width="0.15"/>')
        center = (lo + hi) / 2
        span = 0.35 * float(np.min(hi - lo))
        g = panel.grain
        a, b = tx(center - g * span), tx(center + g * span)
        body.append(
            f'<line x1="{a[0]:.2f}" y1="{a[1]:.2f}" x2="{b[0]:.2f}" y2="{b[1]:.2f}" stroke="#05a" '
            f'stroke-width="0.2" marker-end="url(#arrow)" marker-start="url(#arrow)"/>'
        )
        c = tx(center)
        body.append(
            f'<text x="{c[0]:.2f}" y="{c[1] - 2:.2f}" font-size="2.2" text-anchor="middle">'
            f"{escape(panel.name)} ({escape(pattern.size or '-')})</text>"
        )
        body.append(
            f'<text x="{c[0]:.2f}" y="{c[1] + 3:.2f}" font-size="1.4" text-anchor="middle" '
            f'fill="#05a">grain</text>'
        )
        for edge in panel.edges:
            names = labels.get((panel.name, edge.name))
            if not names:
                continue
            mid = sample_edge(edge, 2)[1] * 100.0
            inward = center - mid
            inward = inward / max(np.linalg.norm(inward), 1e-9) * 2.0
            m = tx(mid + inward)
            body.append(
                f'<text x="{m[0]:.2f}" y="{m[1]:.2f}" font-size="1.6" fill="#a10" '
                f'text-anchor="middle">{"/".join(names)}</text>'
            )
        x_cursor += float(hi[0] - lo[0]) + _GAP_CM
        height = max(height, float(top - lo[1]) + 2 * _GAP_CM)
    legend = [f"S{i}: {escape(s.label)}" for i, s in enumerate(pattern.seams, start=1)]
    y = height
    for line in legend:
        body.append(f'<text x="{_GAP_CM}" y="{y:.2f}" font-size="1.4">{line}</text>')
        y += 2.0
    width, total = x_cursor, y + _GAP_CM
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.1f}cm" height="{total:.1f}cm" '
        f'viewBox="0 0 {width:.2f} {total:.2f}">\n'
        f"<title>{escape(pattern.name)} size {escape(pattern.size or '-')} (units: cm)</title>\n"
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="5" refY="5" '
        'markerWidth="4" markerHeight="4" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#05a"/></marker></defs>\n'
        + "\n".join(body)
        + "\n</svg>\n"
    )


def garment_to_glb(garment: Garment, body: Body | None = None) -> bytes:
    """The placed garment (and optionally the body in its rest pose) as binary glTF bytes.

    The garment carries its UVs and, when ``garment.texture_path`` is set, its texture.
    """
    import trimesh
    from trimesh.visual import TextureVisuals
    from trimesh.visual.material import PBRMaterial

    scene = trimesh.Scene()
    material = PBRMaterial(baseColorFactor=[200, 190, 170, 255], doubleSided=True)
    if garment.texture_path:
        from PIL import Image

        with Image.open(garment.texture_path) as image:
            material = PBRMaterial(baseColorTexture=image.convert("RGB"), doubleSided=True)
    mesh = trimesh.Trimesh(
        garment.positions,
        garment.faces,
        process=False,
        visual=TextureVisuals(uv=np.asarray(garment.uv, dtype=np.float64), material=material),
    )
    scene.add_geometry(mesh, geom_name="garment")
    if body is not None:
        skin = trimesh.Trimesh(
            np.asarray(body.rest_vertices), np.asarray(body.faces), process=False
        )
        skin.visual.face_colors = [224, 180, 150, 255]
        scene.add_geometry(skin, geom_name="body")
    buffer = io.BytesIO()
    buffer.write(scene.export(file_type="glb"))
    return buffer.getvalue()
