"""Public entry points: families, fabrics, garments from a family or a file, placement."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tryon3d.garments._fabrics import FABRICS, fabric_from_description, fabric_preset
from tryon3d.garments._families import FAMILIES, SizeChart, draft, size_chart
from tryon3d.garments._garment import Fabric, Garment, GarmentInfo
from tryon3d.garments._garmentcode import read_garmentcode
from tryon3d.garments._io import (
    MESH_SUFFIXES,
    check_texture_image,
    read_dxf_pattern,
)
from tryon3d.garments._mesh import mesh_pattern
from tryon3d.garments._mesh_import import read_garment_mesh
from tryon3d.garments._mesh_place import place_mesh
from tryon3d.garments._pattern import Pattern
from tryon3d.garments._pattern_grading import grade_pattern
from tryon3d.garments._placement import place_pattern_mesh

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body

__all__ = [
    "garment_from_pattern",
    "list_fabrics",
    "list_families",
    "load_garment",
    "place_garment",
    "resolve_fabric",
]


def list_families() -> dict[str, dict]:
    """Family name -> ``{"description", "sizes", "chart", "fabric", "design", "graded"}``.

    ``design``: the design defaults [m]; ``graded``: those given for size M and graded with the
    chest for other sizes (e.g. a top's ``armhole_depth``).
    """
    return {
        name: {
            "description": fam.description,
            "sizes": list(size_chart(fam.chart)),
            "chart": fam.chart,
            "fabric": fam.fabric,
            "design": dict(fam.defaults),
            "graded": sorted(fam.grades),
        }
        for name, fam in FAMILIES.items()
    }


def list_fabrics() -> dict[str, Fabric]:
    """Preset name -> Fabric."""
    return dict(FABRICS)


def resolve_fabric(
    fabric: Fabric | str | None, default: str = "cotton_jersey"
) -> tuple[Fabric, str]:
    """A Fabric from a Fabric, a preset name, a free-text description or None (``default``)."""
    if fabric is None:
        return fabric_preset(default), f"default preset {default!r}"
    if isinstance(fabric, Fabric):
        return fabric, "given"
    if isinstance(fabric, str):
        if fabric in FABRICS:
            return FABRICS[fabric], f"preset {fabric!r}"
        return fabric_from_description(fabric)
    raise TypeError(
        f"fabric must be a Fabric, a preset name or a description, got {type(fabric).__name__}"
    )


def _uv(
    pattern: Pattern, positions: np.ndarray, panels: np.ndarray, repeat: tuple[float, float]
) -> np.ndarray:
    """Pattern coordinates in each panel's grain frame divided by the texture repeat."""
    uv = np.zeros((len(positions), 2))
    for index, panel in enumerate(pattern.panels):
        sel = panels == index
        g = panel.grain
        across = np.array([g[1], -g[0]])  # weft: grain turned clockwise
        uv[sel, 0] = positions[sel] @ across / repeat[0]
        uv[sel, 1] = positions[sel] @ g / repeat[1]
    return uv


def _flat_layout(pattern: Pattern, positions: np.ndarray, panels: np.ndarray) -> np.ndarray:
    """Panels side by side in the x-z plane (y = 0), 5 cm apart: a layout for bodiless use."""
    out = np.zeros((len(positions), 3))
    cursor = 0.0
    for index in range(len(pattern.panels)):
        sel = panels == index
        xy = positions[sel]
        out[sel, 0] = xy[:, 0] - xy[:, 0].min() + cursor
        out[sel, 2] = xy[:, 1]
        cursor += float(np.ptp(xy[:, 0])) + 0.05
    return out


def _check_texture(
    texture: str | os.PathLike | None, repeat: tuple[float, float]
) -> tuple[str | None, tuple[float, float]]:
    lengths = tuple(float(r) for r in repeat)
    if len(lengths) != 2 or not all(np.isfinite(r) and r > 0 for r in lengths):
        raise ValueError(f"texture_repeat_m must be two positive lengths in metres, got {lengths}")
    repeat = (lengths[0], lengths[1])
    if texture is None:
        return None, repeat
    path = Path(texture)
    if not path.is_file():
        raise ValueError(f"texture file {str(path)!r} not found")
    return str(check_texture_image(path)), repeat


def garment_from_pattern(
    pattern: Pattern,
    *,
    fabric: Fabric | str | None = None,
    body: Body | None = None,
    edge_length_m: float = 0.02,
    texture: str | os.PathLike | None = None,
    texture_repeat_m: tuple[float, float] = (0.1, 0.1),
    clearance_m: float = 0.02,
    default_fabric: str = "cotton_jersey",
) -> Garment:
    """Triangulate a pattern into a Garment, placed around ``body`` when given.

    Without a body the panels lie flat side by side in the x-z plane.
    """
    _check_body(body)
    fabric_value, reason = resolve_fabric(fabric, default_fabric)
    texture_path, repeat = _check_texture(texture, texture_repeat_m)
    mesh = mesh_pattern(pattern, edge_length_m=edge_length_m)
    if body is None:
        positions = _flat_layout(pattern, mesh.pattern_positions, mesh.vertex_panels)
    else:
        positions = place_pattern_mesh(
            pattern,
            mesh.pattern_positions,
            mesh.vertex_panels,
            body,
            clearance_m=clearance_m,
            faces=mesh.faces,
        )
    metadata = GarmentInfo(
        pattern=pattern,
        fabric_reason=reason,
        girths_m={k: v[0] for k, v in pattern.girths_m.items()},
        seam_ids=mesh.seam_ids,
        seam_labels=[s.label for s in pattern.seams],
        edge_vertices=mesh.edge_vertices,
        edge_length_m=float(edge_length_m),
        placed=body is not None,
        **{
            k: v
            for k, v in pattern.metadata.items()
            if k in ("family", "chart", "design", "source", "format")
        },
    )
    return Garment(
        name=pattern.name,
        size=pattern.size,
        fabric=fabric_value,
        positions=positions,
        faces=mesh.faces,
        uv=_uv(pattern, mesh.pattern_positions, mesh.vertex_panels, repeat),
        vertex_panels=mesh.vertex_panels,
        panel_names=tuple(p.name for p in pattern.panels),
        seam_pairs=mesh.seam_pairs,
        grain_directions=np.array([p.grain for p in pattern.panels]),
        pattern_positions=mesh.pattern_positions,
        texture_path=texture_path,
        texture_repeat_m=repeat,
        metadata=metadata,
    )


def _check_body(body: object) -> None:
    """``body`` must be None or a ``bodyfit.Body`` (placement reads its mesh and landmarks)."""
    if body is None:
        return
    from tryon3d.bodyfit import Body

    if not isinstance(body, Body):
        raise TypeError(f"body must be a bodyfit.Body or None, got {type(body).__name__}")


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
    max_vertices: int | None = None,
    **design: float,
) -> Garment:
    """A garment from a family name (``"tshirt"``...) or a file: a DXF pattern, a GarmentCode
    pattern specification (``.json``) or an OBJ/GLB/glTF/PLY mesh.

    Args:
        name_or_path: family name (see ``list_families``) or path.
        size: size label XS..5XL of a family (None: M), or the size to read from a graded DXF
            file (None: the file's only size; a file holding several needs one), or a size of
            the women's chart to grade a GarmentCode specification to (``garments._grading``;
            None: the specification as drafted).
        fabric: Fabric, preset name or free-text description; None for the family default.
        body: a ``bodyfit.Body`` to place the garment around (rest A-pose), or None.
        edge_length_m: target triangle edge length [m] (patterns only): 0.02 gives 2-4k vertices.
        chart: size chart (``"women"``/``"men"``), None for the family's.
        texture: texture image file; its tile covers ``texture_repeat_m`` [m] of fabric.
        units: a mesh file's length unit (``"m"``, ``"cm"``, ``"mm"``, ``"inch"``); None infers it.
        up: a mesh file's up axis (``"+y"``, ``"-y"``, ``"+z"``, ``"-z"``); None infers it.
        max_vertices: a mesh file declaring more vertices is refused before it is read (None:
            ``MESH_IMPORT_LIMITS["vertices"]``, 3 million).
        **design: design parameters of the family [m] (e.g. ``length=0.7``).

    Raises:
        ValueError: unknown family/size/fabric/parameter, unreadable or invalid file, a graded DXF
            file without ``size``.
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(
            f"load_garment needs a family name or a file path, got {type(name_or_path).__name__}"
        )
    _check_body(body)
    text = os.fspath(name_or_path)
    if not isinstance(text, str) or not text.strip():
        raise ValueError("load_garment needs a family name or a file path, got an empty one")
    if isinstance(name_or_path, str) and name_or_path in FAMILIES:
        pattern = draft(name_or_path, "M" if size is None else size, chart=chart, **design)
        return garment_from_pattern(
            pattern,
            fabric=fabric,
            body=body,
            edge_length_m=edge_length_m,
            texture=texture,
            texture_repeat_m=texture_repeat_m,
            default_fabric=FAMILIES[name_or_path].fabric,
        )
    path = Path(text)
    suffix = path.suffix.lower()
    if design:
        raise ValueError(
            f"design parameters {sorted(design)} only apply to garment families, not to files"
        )
    if suffix in (".dxf", ".json"):
        if suffix == ".dxf":
            pattern = read_dxf_pattern(path, size=size)
        else:
            pattern = read_garmentcode(path)
            if size is not None:  # one design: its other sizes graded by the chart's steps
                pattern = grade_pattern(pattern, size)
        return garment_from_pattern(
            pattern,
            fabric=fabric,
            body=body,
            edge_length_m=edge_length_m,
            texture=texture,
            texture_repeat_m=texture_repeat_m,
            # what the pattern's construction says (leggings: a stretch knit), else jersey
            default_fabric=str(pattern.metadata.get("fabric", "cotton_jersey")),
        )
    if suffix in MESH_SUFFIXES:
        return _mesh_garment(
            path,
            fabric=fabric,
            body=body,
            edge_length_m=edge_length_m,
            texture=texture,
            texture_repeat_m=texture_repeat_m,
            units=units,
            up=up,
            max_vertices=max_vertices,
        )
    if not path.suffix:
        raise ValueError(
            f"unknown garment family {text!r}; expected one of {sorted(FAMILIES)} or a file path"
        )
    raise ValueError(
        f"unsupported garment file {path.name!r}; expected a family name, .dxf, .json "
        f"(GarmentCode) or one of {MESH_SUFFIXES}"
    )


def _mesh_garment(
    path: Path,
    *,
    fabric: Fabric | str | None,
    body: Body | None,
    edge_length_m: float,
    texture: str | os.PathLike | None,
    texture_repeat_m: tuple[float, float],
    units: str | None,
    up: str | None,
    max_vertices: int | None = None,
) -> Garment:
    """A garment from a mesh file (see ``garments._mesh_import``), placed on ``body`` if given."""
    data = read_garment_mesh(
        path, units=units, up=up, edge_length_m=edge_length_m, max_vertices=max_vertices
    )
    fabric_value, reason = resolve_fabric(fabric)
    texture_path, repeat = _check_texture(texture, texture_repeat_m)
    if texture_path is None and isinstance(data["texture"], Path):
        texture_path = str(data["texture"])
    rest = data["vertices"]
    positions, log = rest, list(data["log"])
    welded = _welded_faces(data["faces"], data["seam_pairs"], len(rest))
    kind = data["kind"]
    if body is not None:
        placed = place_mesh(rest, welded, body, kind=kind)
        positions, rest, kind = placed.positions, placed.rest_positions, placed.kind
        log += placed.log
    return Garment(
        name=path.stem,
        size="",
        fabric=fabric_value,
        positions=positions,
        faces=data["faces"],
        uv=data["uv"],
        vertex_panels=np.zeros(len(positions), dtype=np.int32),
        panel_names=("mesh",),
        seam_pairs=data["seam_pairs"],
        grain_directions=np.array([[0.0, 1.0]]),
        pattern_positions=data["pattern_positions"],
        texture_path=texture_path,
        texture_repeat_m=repeat,
        metadata=GarmentInfo(
            source=str(path),
            format="mesh",
            fabric_reason=reason,
            rest_positions=rest,
            placed=body is not None,
            kind=kind,
            import_log=log,
            edge_length_m=float(edge_length_m),
        ),
    )


def _welded_faces(faces: np.ndarray, seam_pairs: np.ndarray, count: int) -> np.ndarray:
    """Faces with each sewn vertex replaced by its twin (the mesh as one surface)."""
    rep = np.arange(count)
    rep[seam_pairs[:, 1]] = seam_pairs[:, 0]
    return rep[faces]


def place_garment(garment: Garment, body: Body, *, clearance_m: float = 0.02) -> Garment:
    """The same garment re-placed around another body (patterns are wrapped, meshes pushed out)."""
    pattern = garment.metadata.pattern
    if isinstance(pattern, Pattern) and garment.pattern_positions is not None:
        positions = place_pattern_mesh(
            pattern,
            garment.pattern_positions,
            garment.vertex_panels,
            body,
            clearance_m=clearance_m,
            faces=garment.faces,
        )
    else:
        info = garment.metadata
        rest = np.asarray(garment.positions if info.rest_positions is None else info.rest_positions)
        welded = _welded_faces(garment.faces, garment.seam_pairs, len(rest))
        positions = place_mesh(
            rest, welded, body, clearance_m=clearance_m, kind=info.kind
        ).positions
    return dataclasses.replace(
        garment, positions=positions, metadata=dataclasses.replace(garment.metadata, placed=True)
    )
