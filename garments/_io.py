"""Garment files: mesh garments (OBJ/GLB/glTF/PLY) and AAMA/ASTM-style DXF patterns.

DXF layout written and read here (after ASTM D6673 / AAMA-DXF): one BLOCK per piece and size,
layer ``1`` the closed boundary (POLYLINE), layer ``2`` turn points (edge ends, POINT),
layer ``7`` the grain line (LINE), TEXT ``PIECE NAME: ...`` / ``SIZE: ...``, and our own
``Annotation:`` texts for seams and placement (ignored by other CAD systems). A graded file
holds one block per piece for every size (ASTM D6673's nest of sizes); grade-rule tables
(AAMA ``.rul`` files) are not read. Coordinates in the unit of ``$INSUNITS`` (1 inch, 4 mm,
5 cm, 6 m; mm when absent).
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tryon3d.garments._pattern import Edge, Panel, Pattern, Placement, Seam, sample_edge

if TYPE_CHECKING:  # ezdxf is untyped (Any to mypy); the names document what is passed
    from ezdxf.layouts import BlockLayout

__all__ = ["MESH_SUFFIXES", "pattern_to_dxf", "read_dxf_pattern", "read_mesh_file"]

MESH_SUFFIXES = (".obj", ".glb", ".gltf", ".ply")
_UNIT_TO_M = {1: 0.0254, 4: 0.001, 5: 0.01, 6: 1.0}


_log = logging.getLogger("tryon3d")

#: Limits on garment files, checked before the work that they would make expensive; each can be
#: raised with the environment variable named in its error message.
DEFAULT_LIMITS = {
    "TRYON3D_MAX_GARMENT_BYTES": 200_000_000,  # a garment mesh or pattern file [bytes]
    "TRYON3D_MAX_GARMENT_FACES": 500_000,  # triangles of a mesh garment
    "TRYON3D_MAX_SIDE_FILE_BYTES": 50_000_000,  # an MTL, texture or glTF buffer [bytes]
    "TRYON3D_MAX_DXF_ENTITIES": 100_000,  # records of a DXF pattern (real ones: up to ~35k)
    "TRYON3D_MAX_TEXTURE_PIXELS": 50_000_000,  # a garment texture image [pixels]
}


def file_limit(name: str) -> int:
    """The limit ``name`` (a key of ``DEFAULT_LIMITS``): its environment variable, else the default.

    Raises:
        ValueError: the variable is set to something that is not a positive number.
    """
    text = os.environ.get(name, "").strip()
    if not text:
        return DEFAULT_LIMITS[name]
    try:
        value = int(float(text))
    except ValueError:
        raise ValueError(f"{name} must be a positive number, got {text!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be a positive number, got {text!r}")
    return value


def _check_size(path: Path, limit_name: str, what: str) -> int:
    try:
        info = path.stat()
    except OSError as exc:
        raise ValueError(f"cannot read {what} {str(path)!r}: {exc.strerror or exc}") from None
    if not path.is_file():
        raise ValueError(f"{what} {str(path)!r} is not a regular file")
    limit = file_limit(limit_name)
    if info.st_size > limit:
        raise ValueError(
            f"{what} {path.name!r} is {info.st_size / 1e6:.1f} MB, over the limit of "
            f"{limit / 1e6:.1f} MB (set {limit_name} to raise it)"
        )
    return info.st_size


def _inside(folder: Path, name: str) -> Path | None:
    """``name`` resolved against ``folder`` if it stays inside it (symlinks followed), else None."""
    if not name or "\x00" in name:
        return None
    root = folder.resolve()
    target = (root / name).resolve()
    return target if root in target.parents else None


class _FolderResolver:
    """What trimesh may read besides the main file: regular files inside its folder, capped."""

    def __init__(self, folder: Path) -> None:
        self.parent = folder

    def get(self, name: str) -> bytes:
        target = _inside(self.parent, str(name))
        if target is None:
            raise ValueError(f"{name!r} points outside the garment's folder")
        _check_size(target, "TRYON3D_MAX_SIDE_FILE_BYTES", "file")
        return target.read_bytes()

    def __getitem__(self, name: str) -> bytes:
        return self.get(name)

    def get_base(self) -> str:
        return str(self.parent)

    def namespaced(self, namespace: str) -> _FolderResolver:
        return _FolderResolver(self.parent / namespace)

    def keys(self):
        return iter(())


def _check_gltf_uris(path: Path) -> None:
    try:
        if path.suffix.lower() == ".gltf":
            document = json.loads(path.read_text(encoding="utf-8"))
        else:
            data = path.read_bytes()
            if len(data) < 20 or data[:4] != b"glTF":
                raise ValueError(f"{path.name}: not a binary glTF file")
            length = int.from_bytes(data[12:16], "little")
            document = json.loads(data[20 : 20 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{path.name}: not a valid glTF file ({type(exc).__name__})") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path.name}: not a valid glTF file (its JSON is not an object)")
    folder = path.parent.resolve()
    for key in ("buffers", "images"):
        entries = document.get(key, [])
        if not isinstance(entries, list):
            raise ValueError(f"{path.name}: not a valid glTF file ({key!r} is not a list)")
        for entry in entries:
            uri = entry.get("uri") if isinstance(entry, dict) else None
            if not uri or not isinstance(uri, str) or uri.startswith("data:"):
                continue
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", uri) or uri.startswith("/"):
                raise ValueError(
                    f"{path.name}: {key[:-1]} URI {uri!r} points outside the file's folder"
                )
            target = (folder / uri).resolve()
            if folder not in target.parents and target != folder:
                raise ValueError(
                    f"{path.name}: {key[:-1]} URI {uri!r} points outside the file's folder"
                )
            if not target.exists():
                raise ValueError(f"{path.name}: missing file {uri!r} referenced by the glTF")
            _check_size(target, "TRYON3D_MAX_SIDE_FILE_BYTES", "glTF resource")


def check_texture_image(path: Path) -> Path:
    """``path`` if it is an image within the size and pixel limits (read from its header only).

    Raises:
        ValueError: not a regular file, empty, not an image, or over a limit (names its variable).
    """
    from PIL import Image, UnidentifiedImageError

    size = _check_size(path, "TRYON3D_MAX_SIDE_FILE_BYTES", "texture")
    if size == 0:
        raise ValueError(f"texture {path.name!r} is empty")
    limit = file_limit("TRYON3D_MAX_TEXTURE_PIXELS")
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (
        OSError,
        UnidentifiedImageError,
        Image.DecompressionBombError,
        ValueError,
        SyntaxError,
    ) as exc:
        raise ValueError(
            f"texture {path.name!r} is not a readable image ({type(exc).__name__})"
        ) from None
    if width * height > limit or min(width, height) < 1:
        raise ValueError(
            f"texture {path.name!r} is {width}x{height} pixels, outside 1 to {limit} pixels "
            f"(set TRYON3D_MAX_TEXTURE_PIXELS to raise the limit)"
        )
    return path


def _texture_name(line: str) -> str:
    """The file name of an MTL ``map_Kd`` line: after the options, spaces allowed in it."""
    words = line.split()[1:]
    while words and words[0].startswith("-"):  # options such as -s 1 1 1, -clamp on
        option = words.pop(0)
        takes = {
            "-s": 3,
            "-o": 3,
            "-t": 3,
            "-mm": 2,
            "-bm": 1,
            "-clamp": 1,
            "-blendu": 1,
            "-blendv": 1,
            "-boost": 1,
            "-texres": 1,
            "-imfchan": 1,
            "-cc": 1,
        }.get(option, 0)
        del words[:takes]
    return " ".join(words)


def _obj_texture(path: Path) -> Path | None:
    """The OBJ's diffuse texture, looked up only inside its folder; problems are warnings."""
    folder = path.parent
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.startswith(b"mtllib"):
                continue
            name = raw.decode("utf-8", errors="replace")[6:].strip()
            mtl = _inside(folder, name)
            if mtl is None:
                _log.warning(
                    "%s: material file %r is outside the garment's folder; ignored", path.name, name
                )
                return None
            if not mtl.is_file():
                _log.warning(
                    "%s: material file %r not found; loading the geometry without it",
                    path.name,
                    name,
                )
                return None
            _check_size(mtl, "TRYON3D_MAX_SIDE_FILE_BYTES", "material file")
            for mline in mtl.read_text(encoding="utf-8", errors="replace").splitlines():
                if not mline.strip().startswith("map_Kd"):
                    continue
                texture_name = _texture_name(mline.strip())
                texture = _inside(folder, texture_name)
                if texture is None or not texture.is_file():
                    # textures exported with the artist's absolute path: try its bare name here
                    base = _inside(folder, Path(texture_name.replace("\\", "/")).name)
                    if base is not None and base.is_file():
                        texture = base
                    else:
                        _log.warning(
                            "%s: texture %r is missing or outside the garment's folder; ignored",
                            path.name,
                            texture_name,
                        )
                        return None
                try:
                    return check_texture_image(texture)
                except ValueError as exc:
                    _log.warning("%s: %s; loading the geometry without it", path.name, exc)
                    return None
            return None
    return None


def _count_obj_faces(path: Path) -> int:
    """Triangles an OBJ will make (a polygon of n corners makes n - 2), counted unparsed."""
    count = 0
    with path.open("rb") as handle:
        for line in handle:
            if line.startswith(b"f "):
                count += max(len(line.split()) - 3, 1)
    return count


def read_mesh_file(path: str | os.PathLike) -> dict:
    """Read a mesh garment as a dict of arrays.

    ``{"vertices" (N,3) [m], "faces" (F,3), "uv" (N,2), "texture": path|None}``.

    The file's geometry is taken as the rest shape, in metres. Material and texture files are
    read only from the mesh's own folder (a missing or escaping MTL/texture is a warning);
    file size and triangle count are capped (``DEFAULT_LIMITS``).

    Raises:
        ValueError: unknown format, missing file, empty, non-finite or non-manifold mesh, glTF
            URIs outside the file's folder, a limit exceeded (names its variable).
    """
    import trimesh

    path = Path(path)
    if path.suffix.lower() not in MESH_SUFFIXES:
        raise ValueError(f"unsupported garment mesh {path.name!r}; expected one of {MESH_SUFFIXES}")
    if not path.is_file():
        raise ValueError(f"garment file {str(path)!r} not found")
    _check_size(path, "TRYON3D_MAX_GARMENT_BYTES", "garment mesh")
    face_limit = file_limit("TRYON3D_MAX_GARMENT_FACES")
    texture = None
    if path.suffix.lower() in (".gltf", ".glb"):
        _check_gltf_uris(path)
    elif path.suffix.lower() == ".obj":
        texture = _obj_texture(path)
        counted = _count_obj_faces(path)
        if counted > face_limit:
            raise ValueError(
                f"garment mesh {path.name!r} has {counted} triangles, over the limit of "
                f"{face_limit} "
                f"(set TRYON3D_MAX_GARMENT_FACES to raise it)"
            )
    try:
        options = {"skip_materials": True} if path.suffix.lower() == ".obj" else {}
        with path.open("rb") as handle:
            loaded = trimesh.load(
                handle,
                file_type=path.suffix.lower()[1:],
                force="mesh",
                process=False,
                resolver=_FolderResolver(path.parent),
                **options,
            )
    except Exception as exc:  # trimesh raises many types on corrupt files
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"cannot read garment mesh {path.name!r}: {first}") from None
    vertices = np.asarray(getattr(loaded, "vertices", np.zeros((0, 3))), dtype=np.float64)
    faces = np.asarray(getattr(loaded, "faces", np.zeros((0, 3))), dtype=np.int64)
    if len(vertices) == 0 or len(faces) == 0:
        raise ValueError(f"garment mesh {path.name!r} is empty (no triangles)")
    if len(faces) > face_limit:
        raise ValueError(
            f"garment mesh {path.name!r} has {len(faces)} triangles, over the limit of "
            f"{face_limit} "
            f"(set TRYON3D_MAX_GARMENT_FACES to raise it)"
        )
    if not np.isfinite(vertices).all():
        raise ValueError(
            f"garment mesh {path.name!r} has {int((~np.isfinite(vertices)).any(axis=1).sum())} "
            f"vertices with NaN or infinite coordinates"
        )
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise ValueError(f"garment mesh {path.name!r} has faces that index missing vertices")
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    if (counts > 2).any():
        raise ValueError(
            f"garment mesh {path.name!r} is non-manifold: {int((counts > 2).sum())} edges "
            f"shared by more than two triangles"
        )
    uv = getattr(getattr(loaded, "visual", None), "uv", None)
    uv = np.zeros((len(vertices), 2)) if uv is None or len(uv) != len(vertices) else np.asarray(uv)
    if not np.isfinite(uv).all():
        raise ValueError(f"garment mesh {path.name!r} has NaN or infinite texture coordinates")
    if (
        texture is None and path.suffix.lower() != ".obj"
    ):  # an OBJ's texture is its MTL's map_Kd, read above
        material = getattr(getattr(loaded, "visual", None), "material", None)
        image = getattr(material, "baseColorTexture", None) or getattr(material, "image", None)
        if image is not None:
            texture = image  # a PIL image embedded in the file
    return {"vertices": vertices, "faces": faces, "uv": uv, "texture": texture}


def _graded_sizes(patterns: Pattern | Sequence[Pattern]) -> list[Pattern]:
    """The patterns of one graded file, checked: one family (same name, pieces and seams),
    distinct non-empty sizes when there are several."""
    items = [patterns] if isinstance(patterns, Pattern) else list(patterns)
    if not items or not all(isinstance(p, Pattern) for p in items):
        raise TypeError(
            "pattern_to_dxf expects a Pattern or a sequence of Patterns (the sizes of one garment)"
        )
    first = items[0]
    sizes = [p.size for p in items]
    if len(items) > 1 and (any(not size for size in sizes) or len(set(sizes)) != len(sizes)):
        raise ValueError(f"a graded DXF needs distinct, non-empty sizes, got {sizes}")
    for other in items[1:]:
        if (
            other.name != first.name
            or [q.name for q in other.panels] != [q.name for q in first.panels]
            or other.seams != first.seams
        ):
            raise ValueError(
                f"sizes of a graded DXF must be one garment: {other.name!r} size {other.size!r} "
                f"differs from {first.name!r} size {first.size!r} in name, pieces or seams"
            )
    return items


def pattern_to_dxf(
    patterns: Pattern | Sequence[Pattern], *, unit: str = "mm", samples_per_curve: int = 16
) -> str:
    """The pattern as AAMA/ASTM-style DXF text (curves flattened to polylines).

    Args:
        patterns: one Pattern, or the sizes of one garment (e.g. ``[draft("tshirt", s) for s
            in ("XS", "M", "XXL")]``) for a graded file: one block per piece and size.
        unit: length unit of the file (``"mm"``, ``"cm"``, ``"m"``, ``"inch"``).
        samples_per_curve: polyline points per curved edge.

    Raises:
        TypeError: not a Pattern or a sequence of Patterns.
        ValueError: unknown unit; sizes that repeat, are empty, or are not one garment.
    """
    import ezdxf

    items = _graded_sizes(patterns)
    codes = {"mm": 4, "cm": 5, "m": 6, "inch": 1}
    if unit not in codes:
        raise ValueError(f"unit must be one of {sorted(codes)}, got {unit!r}")
    scale = 1.0 / _UNIT_TO_M[codes[unit]]
    doc = ezdxf.new("R2000")
    doc.header["$INSUNITS"] = codes[unit]
    msp = doc.modelspace()
    for size_index, pattern in enumerate(items):
        for index, panel in enumerate(pattern.panels):
            name = f"PIECE_{index}_{panel.name}" + (
                f"_S{size_index}_{pattern.size}" if len(items) > 1 else ""
            )
            block = doc.blocks.new(name=re.sub(r"[^A-Za-z0-9_]", "_", name))
            _write_piece(block, panel, pattern.size, scale, samples_per_curve)
            msp.add_blockref(block.name, (0, 0))
    seams = [[s.panel_a, s.edge_a, s.panel_b, s.edge_b, s.reverse] for s in items[0].seams]
    msp.add_text(
        "Annotation: pattern " + json.dumps({"name": items[0].name, "seams": seams}),
        dxfattribs={"layer": "15"},
    )
    stream = io.StringIO()
    doc.write(stream)
    return stream.getvalue()


def _write_piece(
    block: BlockLayout, panel: Panel, size: str, scale: float, samples_per_curve: int
) -> None:
    """One piece of one size into a DXF block: boundary, turn points, grain line and texts."""
    points, turns = [], []
    for edge in panel.edges:
        count = samples_per_curve if edge.curve else max(1, len(edge.points) - 1)
        pts = sample_edge(edge, count) if edge.curve else edge.points
        turns.append(pts[0])
        points.extend(pts[:-1].tolist())
    block.add_polyline2d(
        [tuple(p) for p in np.asarray(points) * scale],
        close=True,
        dxfattribs={"layer": "1"},
    )
    for p in np.asarray(turns) * scale:
        block.add_point((float(p[0]), float(p[1])), dxfattribs={"layer": "2"})
    outline = np.asarray(points)
    center = (outline.min(axis=0) + outline.max(axis=0)) / 2
    span = 0.3 * float(np.min(np.ptp(outline, axis=0)))
    a, b = (center - panel.grain * span) * scale, (center + panel.grain * span) * scale
    block.add_line(tuple(a), tuple(b), dxfattribs={"layer": "7"})
    texts = [
        f"PIECE NAME: {panel.name}",
        f"SIZE: {size}",
        "Annotation: edges " + json.dumps([e.name for e in panel.edges]),
    ]
    if panel.placement is not None:
        pl = panel.placement
        texts.append(
            "Annotation: placement "
            + json.dumps(
                {
                    "part": pl.part,
                    "center_x": pl.center_x,
                    "side": pl.side,
                    "anchor": pl.anchor,
                    "anchor_y": pl.anchor_y,
                }
            )
        )
    for k, text in enumerate(texts):
        block.add_text(
            text,
            dxfattribs={
                "layer": "1",
                "height": 5.0,
                "insert": (center[0] * scale, center[1] * scale - 8 * k),
            },
        )


#: ASTM D6673 piece texts, matched whatever their case.
_PIECE_NAME = re.compile(r"^\s*piece\s+name\s*:\s*(.*?)\s*$", re.IGNORECASE)
_SIZE = re.compile(r"^\s*size\s*:\s*(.*?)\s*$", re.IGNORECASE)


# what a malformed entity or annotation raises in the readers (not our own bugs' ValueErrors)
_MALFORMED_ENTITY_ERRORS = (
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    ArithmeticError,
    RecursionError,
)


def read_dxf_pattern(path: str | os.PathLike, *, size: str | None = None) -> Pattern:
    """Read a DXF pattern, one size of it, as a placeable, sewn Pattern.

    Files written by ``pattern_to_dxf`` carry their seams and placement; files from CAD
    systems (Gerber, Lectra, Optitex, CLO...) are read by ``garments._dxf`` and their roles,
    seams and placement inferred by ``garments._roles`` (a ``<file>.tryon3d.json`` sidecar
    overrides them).

    Args:
        path: the ``.dxf`` file.
        size: the size to read from a graded file (its blocks' ``SIZE:`` texts); None reads the
            file's ``Sample Size:`` (base size) or its only size.

    Raises:
        ValueError: unreadable file; no piece with a closed boundary on layer 1; a graded file
            without a base size read without ``size``; a ``size`` the file does not hold (the
            message lists those it does); roles or seams that cannot be inferred (one line
            saying what is missing).
    """
    import ezdxf

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"pattern file {str(path)!r} not found")
    _check_dxf_entity_count(path)
    # our own files say so in a text; others are parsed once, by garments._dxf
    if b"Annotation: pattern " not in path.read_bytes():
        try:
            return _read_cad_pattern(path, size)
        except _MALFORMED_ENTITY_ERRORS as exc:
            raise ValueError(
                f"DXF pattern {path.name!r} has a malformed entity: {_first_line(exc)}"
            ) from None
    try:
        doc = ezdxf.readfile(str(path))
    except (
        OSError,
        ezdxf.DXFError,
        UnicodeDecodeError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
    ) as exc:
        raise ValueError(f"cannot read DXF pattern {path.name!r}: {_first_line(exc)}") from None
    try:
        return _pattern_from_dxf(doc, path, size)
    except ValueError as exc:
        if path.name in str(exc):
            raise
        raise ValueError(f"DXF pattern {path.name!r} is malformed: {_first_line(exc)}") from None
    except (*_MALFORMED_ENTITY_ERRORS, ezdxf.DXFError) as exc:
        raise ValueError(
            f"DXF pattern {path.name!r} has a malformed entity or annotation: {_first_line(exc)}"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _check_dxf_entity_count(path: Path) -> None:
    """Refuse files over the size or entity limits before ezdxf builds its document."""
    _check_size(path, "TRYON3D_MAX_GARMENT_BYTES", "DXF pattern")
    limit = file_limit("TRYON3D_MAX_DXF_ENTITIES")
    count = 0
    with path.open("rb") as handle:
        # group code / value lines alternate; every record starts with group code 0
        for index, line in enumerate(handle):
            if index % 2 == 0 and line.strip() == b"0":
                count += 1
                if count > limit:
                    raise ValueError(
                        f"DXF pattern {path.name!r} has more than {limit} entities "
                        f"(set TRYON3D_MAX_DXF_ENTITIES to raise the limit)"
                    )


def _pattern_from_dxf(doc, path: Path, size: str | None) -> Pattern:
    scale = _UNIT_TO_M.get(int(doc.header.get("$INSUNITS", 4)), 0.001)
    seams, name = [], path.stem
    for entity in doc.modelspace():
        if entity.dxftype() == "TEXT" and entity.dxf.text.startswith("Annotation: pattern "):
            info = json.loads(entity.dxf.text[len("Annotation: pattern ") :])
            name = info.get("name", name)
            seams = [Seam(a, ea, b, eb, bool(r)) for a, ea, b, eb, r in info.get("seams", [])]
    pieces = [
        piece
        for ref in doc.modelspace().query("INSERT")
        if (piece := _read_piece(doc.blocks.get(ref.dxf.name), ref.dxf.name, scale)) is not None
    ]
    if not pieces:
        raise ValueError(
            f"DXF pattern {path.name!r} has no piece with a closed boundary on layer 1"
        )
    named = list(dict.fromkeys(piece_size for _, piece_size in pieces if piece_size))
    chosen = _choose_size(path, named, size, "")
    panels = tuple(panel for panel, piece_size in pieces if piece_size in (chosen, ""))
    return Pattern(name, chosen, panels, tuple(seams), {}, {"source": str(path), "sizes": named})


def _choose_size(path: Path, named: list[str], size: str | None, base: str) -> str:
    if size is None:
        if len(named) > 1 and base not in named:
            raise ValueError(
                f"DXF pattern {path.name!r} is graded in sizes {named}; choose one with size="
            )
        return base if base in named else (named[0] if named else "")
    if size in named:
        return size
    held = f"its sizes are {named}" if named else "it names no sizes"
    raise ValueError(f"DXF pattern {path.name!r} has no size {size!r}; {held}")


def _read_cad_pattern(path: Path, size: str | None) -> Pattern:
    """A CAD system's DXF: pieces read, roles and seams inferred (see ``garments._roles``)."""
    from tryon3d.garments._dxf import read_dxf_file
    from tryon3d.garments._roles import pattern_from_dxf, read_sidecar

    read = read_dxf_file(path)
    chosen = _choose_size(path, list(read.sizes), size, read.sample_size)
    return pattern_from_dxf(read, chosen, sidecar=read_sidecar(path))


def _read_piece(block: BlockLayout, block_name: str, scale: float) -> tuple[Panel, str] | None:
    """A DXF block as a panel and its size (``""`` if unnamed); None without a layer-1 boundary."""
    boundary, turns, grain, piece, edge_names, placement, size = (
        None,
        [],
        None,
        block_name,
        None,
        None,
        "",
    )
    for entity in block:
        kind, layer = entity.dxftype(), entity.dxf.layer
        if kind in ("POLYLINE", "LWPOLYLINE") and layer == "1":
            pts = [
                tuple(v)[:2]
                for v in (entity.points() if kind == "POLYLINE" else entity.get_points("xy"))
            ]
            boundary = np.asarray(pts, dtype=np.float64) * scale
        elif kind == "POINT" and layer == "2":
            turns.append(np.asarray(entity.dxf.location)[:2] * scale)
        elif kind == "LINE" and layer == "7":
            grain = np.asarray(entity.dxf.end)[:2] - np.asarray(entity.dxf.start)[:2]
        elif kind == "TEXT":
            text = entity.dxf.text
            if match := _PIECE_NAME.match(text):
                piece = match.group(1)
            elif match := _SIZE.match(text):
                size = match.group(1)
            elif text.startswith("Annotation: edges "):
                edge_names = json.loads(text[len("Annotation: edges ") :])
            elif text.startswith("Annotation: placement "):
                placement = Placement(**json.loads(text[len("Annotation: placement ") :]))
    if boundary is None or len(boundary) < 3:
        return None
    if np.allclose(boundary[0], boundary[-1]):
        boundary = boundary[:-1]
    area = 0.5 * (
        np.dot(boundary[:, 0], np.roll(boundary[:, 1], -1))
        - np.dot(boundary[:, 1], np.roll(boundary[:, 0], -1))
    )
    if area < 0:
        boundary = boundary[::-1]
    corner_ids = sorted({int(np.argmin(np.linalg.norm(boundary - t, axis=1))) for t in turns}) or [
        0
    ]
    edges = []
    for k, start in enumerate(corner_ids):
        stop = corner_ids[(k + 1) % len(corner_ids)]
        idx = (
            list(range(start, stop + 1))
            if stop > start
            else list(range(start, len(boundary))) + list(range(0, stop + 1))
        )
        label = edge_names[k] if edge_names and len(edge_names) == len(corner_ids) else f"e{k}"
        edges.append(Edge(boundary[idx], label))
    grain_value = grain if grain is not None and np.linalg.norm(grain) > 0 else np.array([0.0, 1.0])
    return Panel(piece, tuple(edges), grain_value, placement), size
