"""Fit maps: a Drape's stretch, contact-pressure or ease field in CLO-style colour bands on the
dressed body, front and back side by side, with a legend; PNG bytes.

Each garment triangle is painted the colour of its band (stretch is per triangle; the
per-vertex pressure and body distance are averaged over each triangle's corners), rendered by
Mitsuba as a face attribute under a uniform white sky (so the band colours are not tinted: a
fully lit surface shows exactly its band colour, crevices are darkened by their occlusion).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from ._backend import check_mesh, make_mesh, select_variant, sensor_dict
from ._camera import camera_preset
from ._color import linear_to_srgb, srgb_to_linear
from ._scene import _body_arrays

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body
    from tryon3d.core import Camera
    from tryon3d.sim import Drape

__all__ = [
    "FITMAP_FIELDS",
    "FitmapBands",
    "FitmapField",
    "face_values",
    "fitmap_bands",
    "render_fitmap",
]

#: A fit map's field: stretch [%], contact pressure [Pa] or ease (distance to the body) [cm].
FitmapField = Literal["stretch", "pressure", "ease"]


@dataclass(frozen=True)
class FitmapBands:
    """Colour bands of a fit-map field.

    Attributes:
        field: ``stretch``, ``pressure`` or ``ease``.
        title: legend title.
        edges: band edges, shape (K - 1,), increasing (band k is ``edges[k-1] <= value <
        edges[k]``).
        colors: sRGB uint8 colours, shape (K, 3).
        labels: one legend label per band.
    """

    field: FitmapField
    title: str
    edges: np.ndarray
    colors: np.ndarray
    labels: tuple[str, ...]

    def band_of(self, values) -> np.ndarray:
        """Band index of each value, shape like ``values``."""
        return np.searchsorted(self.edges, np.asarray(values, np.float64), side="right")


_STRETCH = FitmapBands(
    "stretch",
    "Stretch (% of pattern)",
    np.array([99.0, 102.0, 105.0, 110.0, 115.0, 120.0]),
    np.array(
        [
            (150, 150, 200),
            (40, 90, 220),
            (0, 190, 220),
            (60, 200, 60),
            (250, 220, 0),
            (255, 130, 0),
            (220, 20, 20),
        ],
        np.uint8,
    ),
    ("< 99 (compressed)", "99-102 (relaxed)", "102-105", "105-110", "110-115", "115-120", ">= 120"),
)
_PRESSURE = FitmapBands(
    "pressure",
    "Contact pressure (Pa)",
    np.array([1.0, 250.0, 500.0, 1000.0, 2000.0]),
    np.array(
        [
            (200, 200, 200),
            (40, 90, 220),
            (0, 190, 220),
            (60, 200, 60),
            (255, 130, 0),
            (220, 20, 20),
        ],
        np.uint8,
    ),
    ("no contact", "1-250", "250-500", "500-1000", "1000-2000", ">= 2000"),
)
_EASE = FitmapBands(
    "ease",
    "Distance to body (cm)",
    np.array([0.0, 0.5, 1.0, 2.0, 4.0, 8.0]),
    np.array(
        [
            (200, 0, 200),
            (220, 20, 20),
            (255, 130, 0),
            (250, 220, 0),
            (60, 200, 60),
            (0, 190, 220),
            (40, 90, 220),
        ],
        np.uint8,
    ),
    ("< 0 (inside body)", "0-0.5 (tight)", "0.5-1", "1-2", "2-4", "4-8", ">= 8 (loose)"),
)
#: Fields of :func:`render_fitmap`.
FITMAP_FIELDS: dict[str, FitmapBands] = {"stretch": _STRETCH, "pressure": _PRESSURE, "ease": _EASE}


def fitmap_bands(field: str) -> FitmapBands:
    """The colour bands of ``field`` (a key of :data:`FITMAP_FIELDS`)."""
    if field not in FITMAP_FIELDS:
        raise ValueError(
            f"unknown fit-map field {field!r}; expected one of {sorted(FITMAP_FIELDS)}"
        )
    return FITMAP_FIELDS[field]


def face_values(drape: Drape, field: FitmapField) -> np.ndarray:
    """Per-triangle values of a field of a ``sim.Drape``, shape (F,): stretch [%], contact
    pressure [Pa] or distance to the body [cm] (vertex values averaged over each triangle)."""
    fitmap_bands(field)
    faces = np.asarray(drape.faces)
    if field == "stretch":
        values = np.asarray(drape.stretch_pct, np.float64)
    elif field == "pressure":
        values = np.asarray(drape.contact_pressure_pa, np.float64)[faces].mean(axis=1)
    else:
        values = np.asarray(drape.body_distance_m, np.float64)[faces].mean(axis=1) * 100.0
    if values.shape != (len(faces),):
        raise ValueError(
            f"drape {field} field must give one value per face ({len(faces)}), got {values.shape}"
        )
    return values


def _render_view(
    body_vertices,
    body_faces,
    vertices,
    faces,
    colors_linear,
    camera: Camera,
    *,
    spp: int,
    seed: int,
    device: str,
) -> np.ndarray:
    """(H, W, 4) float32: straight-alpha sRGB of the dressed body over transparency."""
    mi, _ = select_variant(device)
    from tryon3d.core import vertex_normals

    body_props = mi.Properties()
    body_props["bsdf"] = mi.load_dict(
        {
            "type": "twosided",
            "bsdf": {
                "type": "diffuse",
                "reflectance": {"type": "rgb", "value": [0.55, 0.55, 0.55]},
            },
        }
    )
    body_normals = vertex_normals(body_vertices, body_faces).astype(np.float32)
    body = make_mesh("body", body_vertices, body_faces, normals=body_normals, props=body_props)
    garment_props = mi.Properties()
    garment_props["bsdf"] = mi.load_dict(
        {
            "type": "twosided",
            "bsdf": {
                "type": "diffuse",
                "reflectance": {"type": "mesh_attribute", "name": "face_color"},
            },
        }
    )
    garment = mi.Mesh(
        "garment", len(vertices), len(faces), has_vertex_normals=False, props=garment_props
    )
    params = mi.traverse(garment)
    import drjit as dr

    params["vertex_positions"] = dr.ravel(mi.Point3f(vertices.T))
    params["faces"] = dr.ravel(mi.Vector3u(faces.T))
    params.update()
    garment.add_attribute(
        "face_color", 3, np.ascontiguousarray(colors_linear, np.float32).reshape(-1)
    )
    scene = mi.load_dict(
        {
            "type": "scene",
            "integrator": {
                "type": "aov",
                "aovs": "albedo:albedo",
                "integrator": {"type": "path", "max_depth": 2, "hide_emitters": True},
            },
            "sensor": sensor_dict(camera, sample_count=spp, pixel_format="rgba"),
            "sky": {"type": "constant", "radiance": {"type": "rgb", "value": 1.0}},
            "body": body,
            "garment": garment,
        }
    )
    image = np.array(mi.render(scene, spp=spp, seed=seed & 0xFFFFFFFF), np.float32)
    alpha = np.clip(image[..., 3], 0.0, 1.0)
    safe = np.where(alpha > 1e-4, alpha, 1.0)[..., None]
    lit, albedo = image[..., :3] / safe, image[..., 4:7] / safe
    # colours stay readable: 60 % flat band colour, 40 % ambient-occlusion shading
    linear = 0.6 * albedo + 0.4 * lit
    rgba = np.concatenate([linear_to_srgb(linear), alpha[..., None]], axis=2)
    rgba[alpha <= 1e-4] = 0.0
    return rgba.astype(np.float32)


def _legend(bands: FitmapBands, height: int, values: np.ndarray):
    from PIL import Image, ImageDraw, ImageFont

    width = 230
    panel = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(panel)
    font = ImageFont.load_default()
    draw.text((10, 10), bands.title, fill=(0, 0, 0), font=font)
    counts = np.bincount(bands.band_of(values), minlength=len(bands.colors))
    share = counts / max(counts.sum(), 1)
    row = max(18, min(30, (height - 60) // max(len(bands.colors), 1)))
    for index in range(len(bands.colors) - 1, -1, -1):  # highest band on top
        top = 34 + (len(bands.colors) - 1 - index) * row
        draw.rectangle(
            (10, top, 38, top + row - 6),
            fill=tuple(int(c) for c in bands.colors[index]),
            outline=(0, 0, 0),
        )
        draw.text(
            (46, top + 2),
            f"{bands.labels[index]}  ({100 * share[index]:.0f}%)",
            fill=(0, 0, 0),
            font=font,
        )
    low, high = float(np.min(values)), float(np.max(values))
    draw.text(
        (10, 34 + len(bands.colors) * row + 4),
        f"min {low:.1f}  max {high:.1f}",
        fill=(0, 0, 0),
        font=font,
    )
    return panel


def render_fitmap(
    body: Body,
    drape: Drape,
    *,
    field: FitmapField = "stretch",
    views=("front", "back"),
    size: int = 512,
    spp: int = 16,
    seed: int = 0,
    device: str = "auto",
) -> bytes:
    """A fit map of a drape as PNG bytes: one image per view side by side plus a legend.

    Args:
        body: the ``bodyfit.Body`` (posed ``vertices``) the drape was made on.
        drape: the ``sim.Drape`` (``positions``, ``faces``, ``stretch_pct`` per face,
            ``contact_pressure_pa`` and ``body_distance_m`` per vertex).
        field: ``"stretch"`` (largest principal stretch [%], 100 = unstretched), ``"pressure"``
            (contact pressure [Pa]) or ``"ease"`` (distance to the body [cm]).
        views: camera views (keys of :data:`render.CAMERA_VIEWS`), drawn left to right.
        size: height [px] of each view (views are ``size * 3 / 4`` wide).
        spp: samples per pixel.
        seed: sampler seed.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.

    Returns:
        PNG file content (RGB, white background).
    """
    from PIL import Image, ImageDraw

    bands = fitmap_bands(field)
    if isinstance(views, str) or not views:
        raise ValueError(f"views must be a non-empty sequence of view names, got {views!r}")
    if int(size) != size or not 64 <= size <= 4096:
        raise ValueError(f"size must be an integer in [64, 4096] px, got {size}")
    body_vertices, body_faces = _body_arrays(body)
    body_vertices, body_faces = check_mesh(body_vertices, body_faces, "body")
    positions = getattr(drape, "positions", None)
    if positions is None:
        positions = getattr(drape, "vertices", None)
    vertices, faces = check_mesh(positions, getattr(drape, "faces", None), "drape")
    values = face_values(drape, field)
    colors = srgb_to_linear(bands.colors[bands.band_of(values)].astype(np.float64) / 255.0)
    points = np.concatenate([body_vertices, vertices]).astype(np.float64)
    width = int(size) * 3 // 4
    tiles = []
    for index, view in enumerate(views):
        camera = camera_preset(points, view, width=width, height=int(size))
        rgba = _render_view(
            body_vertices,
            body_faces,
            vertices,
            faces,
            colors,
            camera,
            spp=spp,
            seed=seed + index,
            device=device,
        )
        rgb = rgba[..., :3] * rgba[..., 3:4] + (1.0 - rgba[..., 3:4])  # over white
        tile = Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8))
        ImageDraw.Draw(tile).text((8, 8), str(view), fill=(0, 0, 0))
        tiles.append(tile)
    legend = _legend(bands, int(size), values)
    canvas = Image.new("RGB", (width * len(tiles) + legend.width, int(size)), (255, 255, 255))
    for index, tile in enumerate(tiles):
        canvas.paste(tile, (index * width, 0))
    canvas.paste(legend, (width * len(tiles), 0))
    stream = io.BytesIO()
    canvas.save(stream, format="PNG")
    return stream.getvalue()
