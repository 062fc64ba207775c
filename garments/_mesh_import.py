"""Garment meshes made elsewhere (CLO/Marvelous OBJ, web GLB incl. Draco, PLY, simulator inputs)
turned into a wearable ``Garment``.

What a file does not say is inferred, and each assumption is logged (``metadata["import_log"]``):

- units: the scale (m, cm, mm, inch) that makes the garment garment-sized (0.2-2.5 m);
- up axis: the normal of its largest opening (a hem or a waist) among the file's axes; glTF is
  y-up by specification;
- vertices split along UV seams (one per UV corner, as exporters write them) are kept, each with
  its own UV, and sewn to each other (``seam_pairs``), so the cloth does not tear open;
- rest shape: the file's own geometry, or its UV layout when the UVs are a pattern (beyond the
  unit square, and every edge's UV length a fixed multiple of its 3D length, as CLO exports);
- what it is: a top or a dress (openings to the sides, sleeves or armholes, above a middle one,
  the hem) or a bottom (side openings, trouser legs, lowest, or only middle ones); placed by
  that opening on the body's
  neck or waist, scaled around the body when it was modelled on a much smaller or larger
  avatar, and pushed out of the skin;
- very dense meshes are decimated towards the drape's edge length.
"""

from __future__ import annotations

import json
import logging
import math
import os
import struct
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    pass

__all__ = ["MESH_IMPORT_LIMITS", "mesh_kind_and_loops", "read_garment_mesh"]

_log = logging.getLogger("tryon3d.garments")

#: Refused before reading (the vertex count the file declares, before parsing it): the defaults;
#: ``load_garment(..., max_vertices=)`` / ``read_garment_mesh(..., max_vertices=)`` raise the
#: vertex limit for one call.
MESH_IMPORT_LIMITS = {"file_bytes": 300_000_000, "vertices": 3_000_000}
_UNITS = (("m", 1.0), ("cm", 0.01), ("mm", 0.001), ("inch", 0.0254))
_PLAUSIBLE_M = (0.2, 2.5)  # a garment's largest extent
_WELD_M = 1e-5  # vertices closer than this are one point split by a UV seam ...
_WELD_EDGE_SHARE = 0.1  # ... or closer than this share of the median edge, at most _WELD_MAX_M
_WELD_MAX_M = 0.001  # (exporters and simulators leave seams a hair apart)
_DENSE_FACTOR = 0.6  # decimate when the mean edge is below this fraction of the drape's edge
_PATTERN_UV_SPREAD = 0.1  # UVs are a pattern when 90 % of edges keep one UV/3D ratio within 10 %
_SEW_M = 0.005  # open edges this close (and not neighbours along the opening) are a seam left open
_SEW_STEPS = 4  # ... more than this many boundary edges apart (an opening's own points are near)
_SOLID_RATIO = 1.0  # boundary length below this times sqrt(area): a closed solid (avatar, button)
_SMALL_PART = 0.02  # a part under this share of the garment's area is a stray bit, not cloth


def _gltf_document(path: Path) -> tuple[dict, bytes | None]:
    data = path.read_bytes()
    if path.suffix.lower() == ".gltf":
        return json.loads(data.decode("utf-8")), None
    if len(data) < 20 or data[:4] != b"glTF":
        raise ValueError(f"{path.name}: not a binary glTF file")
    length = struct.unpack_from("<I", data, 12)[0]
    document = json.loads(data[20 : 20 + length].decode("utf-8"))
    offset = 20 + length
    binary = None
    if offset + 8 <= len(data):
        chunk_length = struct.unpack_from("<I", data, offset)[0]
        binary = data[offset + 8 : offset + 8 + chunk_length]
    return document, binary


def _node_matrices(document: dict) -> dict[int, np.ndarray]:
    """Mesh index -> world matrix (4, 4) of the first node that uses it."""
    nodes = document.get("nodes", [])

    def local(node: dict) -> np.ndarray:
        if "matrix" in node:
            return np.asarray(node["matrix"], dtype=np.float64).reshape(4, 4).T
        from scipy.spatial.transform import Rotation

        m = np.eye(4)
        m[:3, :3] = Rotation.from_quat(node.get("rotation", [0, 0, 0, 1])).as_matrix() * np.asarray(
            node.get("scale", [1, 1, 1])
        )
        m[:3, 3] = node.get("translation", [0, 0, 0])
        return m

    out: dict[int, np.ndarray] = {}

    def walk(index: int, parent: np.ndarray, depth: int) -> None:
        if depth > 64 or not 0 <= index < len(nodes):
            return
        world = parent @ local(nodes[index])
        if "mesh" in nodes[index]:
            out.setdefault(int(nodes[index]["mesh"]), world)
        for child in nodes[index].get("children", []):
            walk(int(child), world, depth + 1)

    scenes = document.get("scenes", [])
    roots = scenes[document.get("scene", 0)].get("nodes", []) if scenes else range(len(nodes))
    for root in roots:
        walk(int(root), np.eye(4), 0)
    return out


def _texture_transform(
    document: dict, material_index: int | None, uv: np.ndarray
) -> tuple[np.ndarray, str | None]:
    """UVs with the material's KHR_texture_transform (offset, rotation, scale) applied."""
    if material_index is None:
        return uv, None
    material = document.get("materials", [])[material_index]
    info = material.get("pbrMetallicRoughness", {}).get("baseColorTexture", {})
    transform = info.get("extensions", {}).get("KHR_texture_transform")
    if not transform:
        return uv, None
    offset = np.asarray(transform.get("offset", [0.0, 0.0]), dtype=np.float64)
    rotation = float(transform.get("rotation", 0.0))
    scale = np.asarray(transform.get("scale", [1.0, 1.0]), dtype=np.float64)
    c, s = math.cos(rotation), math.sin(rotation)
    turned = (uv * scale) @ np.array([[c, s], [-s, c]]).T
    return (
        turned + offset,
        f"applied KHR_texture_transform (offset {offset.tolist()}, rotation {rotation:g}, scale "
        f"{scale.tolist()})",
    )


def _read_draco_gltf(path: Path, document: dict, binary: bytes | None) -> dict:
    """Every Draco-compressed primitive of a glTF decoded (DracoPy) and put in the world frame."""
    try:
        import DracoPy
    except ImportError:  # pragma: no cover - a declared dependency
        raise ValueError(
            f"{path.name} is Draco-compressed: install DracoPy (pip install DracoPy)"
        ) from None
    if binary is None:
        raise ValueError(
            f"{path.name}: a Draco glTF without a binary chunk is not supported (use .glb)"
        )
    views = document.get("bufferViews", [])
    worlds = _node_matrices(document)
    vertices, faces, uvs, notes = [], [], [], []
    offset = 0
    for mesh_index, mesh in enumerate(document.get("meshes", [])):
        world = worlds.get(mesh_index, np.eye(4))
        for primitive in mesh.get("primitives", []):
            draco = primitive.get("extensions", {}).get("KHR_draco_mesh_compression")
            if draco is None:
                raise ValueError(
                    f"{path.name}: mixes Draco and plain primitives; re-export it all Draco or "
                    "all plain"
                )
            view = views[int(draco["bufferView"])]
            start = int(view.get("byteOffset", 0))
            blob = binary[start : start + int(view["byteLength"])]
            try:
                decoded = DracoPy.decode(blob)
            except Exception as exc:  # DracoPy raises its own types on corrupt data
                raise ValueError(f"{path.name}: cannot decode its Draco mesh: {exc}") from None
            points = np.asarray(decoded.points, dtype=np.float64).reshape(-1, 3)
            tris = np.asarray(decoded.faces, dtype=np.int64).reshape(-1, 3)
            points = points @ world[:3, :3].T + world[:3, 3]
            uv = getattr(decoded, "tex_coord", None)
            uv = (
                np.zeros((len(points), 2))
                if uv is None or len(uv) != len(points)
                else np.asarray(uv, np.float64)
            )
            uv, note = _texture_transform(document, primitive.get("material"), uv)
            if note:
                notes.append(note)
            vertices.append(points)
            faces.append(tris + offset)
            uvs.append(uv)
            offset += len(points)
    if not vertices:
        raise ValueError(f"{path.name}: no mesh primitives")
    uv = np.concatenate(uvs)
    uv[:, 1] = 1.0 - uv[:, 1]  # glTF's v runs down the image; ours (OBJ-style) up
    return {
        "vertices": np.concatenate(vertices),
        "faces": np.concatenate(faces),
        "uv": uv,
        "texture": None,
        "notes": ["decoded Draco-compressed mesh (DracoPy)", *notes],
    }


def _declared_vertex_count(path: Path) -> int:
    """How many vertices the file says it holds, read without parsing its geometry: OBJ ``v``
    lines, a PLY header's ``element vertex``, a glTF's POSITION accessor counts (0: unknown)."""
    suffix = path.suffix.lower()
    if suffix == ".obj":
        data = path.read_bytes()
        return data.count(b"\nv ") + int(data.startswith(b"v "))
    if suffix == ".ply":
        with path.open("rb") as handle:
            for _ in range(64):
                line = handle.readline()
                if not line or line.strip() == b"end_header":
                    break
                words = line.split()
                if words[:2] == [b"element", b"vertex"] and len(words) == 3 and words[2].isdigit():
                    return int(words[2])
        return 0
    if suffix in (".glb", ".gltf"):
        try:
            document, _ = _gltf_document(path)
            accessors = document.get("accessors", [])
            return sum(
                int(accessors[int(primitive["attributes"]["POSITION"])].get("count", 0))
                for mesh in document.get("meshes", [])
                for primitive in mesh.get("primitives", [])
                if "POSITION" in primitive.get("attributes", {})
            )
        except (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError):
            return 0  # the reader says what is wrong with it
    return 0


def _read_raw(path: Path) -> dict:
    from tryon3d.garments._io import _check_gltf_uris, read_mesh_file

    suffix = path.suffix.lower()
    if suffix in (".glb", ".gltf"):
        _check_gltf_uris(path)  # a valid document whose URIs stay in the file's folder, or one line
        document, binary = _gltf_document(path)
        if "KHR_draco_mesh_compression" in document.get("extensionsUsed", []):
            return _read_draco_gltf(path, document, binary)
        data = dict(read_mesh_file(path))
        materials = [
            p.get("material") for m in document.get("meshes", []) for p in m.get("primitives", [])
        ]
        if len(set(materials)) == 1:  # one material: its texture transform applies to all UVs
            uv = np.asarray(data["uv"], dtype=np.float64).copy()
            uv[:, 1] = 1.0 - uv[:, 1]
            uv, note = _texture_transform(document, materials[0], uv)
            uv[:, 1] = 1.0 - uv[:, 1]
            data["uv"] = uv
            data["notes"] = [note] if note else []
        return data
    data = dict(read_mesh_file(path))
    data["notes"] = []
    return data


def _detect_units(vertices: np.ndarray, units: str | None) -> tuple[float, str]:
    extent = float(np.ptp(vertices, axis=0).max())
    if units is not None:
        table = dict(_UNITS)
        if units not in table:
            raise ValueError(f"units must be one of {sorted(table)}, got {units!r}")
        return table[units], f"units {units} (given)"
    fits = [
        (name, scale)
        for name, scale in _UNITS
        if _PLAUSIBLE_M[0] <= extent * scale <= _PLAUSIBLE_M[1]
    ]
    if not fits:
        raise ValueError(
            f"garment size {extent:g} file units fits no unit (m, cm, mm, inch) as a garment "
            f"of {_PLAUSIBLE_M[0]}-{_PLAUSIBLE_M[1]} m; pass units="
        )
    name, scale = fits[0]
    return (
        scale,
        f"units {name} assumed (largest extent {extent:g} file units = {extent * scale:.2f} m)",
    )


def _boundary_loops(faces: np.ndarray) -> list[np.ndarray]:
    """Openings: connected chains of boundary edges (edges of one face), vertex ids (walked in
    order where the chain is a simple loop). A chain pinched at a vertex (a pleat meeting a
    hem) stays one opening."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    key = np.sort(edges, axis=1)
    _, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    boundary = edges[counts[inverse.reshape(-1)] == 1]
    if not len(boundary):
        return []
    n = int(faces.max()) + 1
    graph = coo_matrix((np.ones(len(boundary)), (boundary[:, 0], boundary[:, 1])), shape=(n, n))
    labels = connected_components(graph, directed=False)[1]
    following: dict[int, int] = {}
    for a, b in boundary:
        following.setdefault(int(a), int(b))
    loops = []
    for label in np.unique(labels[boundary[:, 0]]):
        members = np.unique(boundary[labels[boundary[:, 0]] == label])
        if len(members) < 3:
            continue
        loop, v, seen = [], int(members[0]), set()
        while v not in seen and v in following:
            seen.add(v)
            loop.append(v)
            v = following[v]
        loops.append(np.asarray(loop) if len(loop) == len(members) else members)
    return loops


def _loop_perimeter(vertices: np.ndarray, boundary: np.ndarray, loop: np.ndarray) -> float:
    """Length [m] of the ``boundary`` edges (E, 2) (``_boundary_edges``) among a loop's
    vertices."""
    inside = np.isin(boundary, loop).all(axis=1)
    ends = boundary[inside]
    return float(np.linalg.norm(vertices[ends[:, 0]] - vertices[ends[:, 1]], axis=1).sum())


def _weld_map(vertices: np.ndarray, faces: np.ndarray, *, exact: bool = False) -> np.ndarray:
    """Index of a representative per vertex: vertices within ``_WELD_M`` (``exact``), or, on
    open edges, within ``_WELD_EDGE_SHARE`` of the median edge length (at most ``_WELD_MAX_M``),
    share one. The wider weld joins edges only: layers lying on each other (a pocket, a
    double collar) keep their own vertices."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]]])
    median = float(np.median(np.linalg.norm(vertices[edges[:, 0]] - vertices[edges[:, 1]], axis=1)))
    radius = _WELD_M if exact else max(_WELD_M, min(_WELD_EDGE_SHARE * median, _WELD_MAX_M))
    if exact:
        pairs = cKDTree(vertices).query_pairs(radius, output_type="ndarray")
    else:
        edge_vertices = np.unique(_boundary_edges(faces))
        pairs = edge_vertices[
            cKDTree(vertices[edge_vertices]).query_pairs(radius, output_type="ndarray")
        ].reshape(-1, 2)
    n = len(vertices)
    graph = (
        coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        if len(pairs)
        else coo_matrix((n, n))
    )
    _, labels = connected_components(graph, directed=False)
    first = np.full(labels.max() + 1, -1)
    order = np.arange(n)[::-1]
    first[labels[order]] = order  # the lowest index of each group
    return first[labels]


def _components(count: int, faces: np.ndarray) -> np.ndarray:
    """Connected component label per vertex (N,) of a face list (unused vertices alone)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]]])
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(count, count))
    return connected_components(graph, directed=False)[1]


def _boundary_edges(faces: np.ndarray) -> np.ndarray:
    """Edges (E, 2) used by one face only (sorted vertex ids)."""
    key = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    unique, counts = np.unique(key, axis=0, return_counts=True)
    return unique[counts == 1]


def _sew_open_seams(vertices: np.ndarray, faces: np.ndarray, rep: np.ndarray) -> np.ndarray:
    """``rep`` with pieces sewn where they touch: a boundary vertex of one piece (a connected
    part of the file's own faces, before welding) within ``_SEW_M`` of a boundary vertex of
    another piece, more than ``_SEW_STEPS`` edges away along the openings (not where two
    openings meet), paired mutual-nearest, a few rounds. Simulator inputs and panel-wise
    exports leave seams open like this (pieces touching, not joined). A piece's own open
    edges are never sewn to each other: a cut, a vent or a UV seam left open stays open, and
    the torn gate says so."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree

    rep = rep.copy()
    piece = _components(len(vertices), faces)
    for round_index in range(3):
        boundary = _boundary_edges(_drop_degenerate(rep[faces]))
        verts = np.unique(boundary)
        if len(verts) < 2:
            break
        tree = cKDTree(vertices[verts])
        near = tree.query_pairs(_SEW_M, output_type="ndarray")
        if not len(near):
            break
        index = np.full(len(vertices), -1)
        index[verts] = np.arange(len(verts))
        graph = coo_matrix(
            (np.ones(len(boundary)), (index[boundary[:, 0]], index[boundary[:, 1]])),
            shape=(len(verts), len(verts)),
        ).tocsr()
        sources = np.unique(near.ravel())
        steps = dijkstra(graph, directed=False, unweighted=True, indices=sources, limit=_SEW_STEPS)
        row = np.full(len(verts), -1)
        row[sources] = np.arange(len(sources))
        far = ~np.isfinite(steps[row[near[:, 0]], near[:, 1]])
        near = near[far & (piece[verts[near[:, 0]]] != piece[verts[near[:, 1]]])]
        if not len(near):
            break
        gap = np.linalg.norm(vertices[verts[near[:, 0]]] - vertices[verts[near[:, 1]]], axis=1)
        # each vertex's nearest far partner; sew the pairs that choose each other
        order = np.argsort(gap)
        best = np.full(len(verts), -1)
        for a, b in near[order]:
            if best[a] < 0:
                best[a] = b
            if best[b] < 0:
                best[b] = a
        a = np.flatnonzero(best >= 0)
        if round_index == 0:  # first the pairs that choose each other; then the rest of a
            a = a[best[best[a]] == a]  # denser side joins its nearest (a short edge collapses)
            a = a[a < best[a]]
        if not len(a):
            break
        rep = _joined(rep, np.stack([verts[a], verts[best[a]]], axis=1))
    return rep


def _joined(rep: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Representative map (N,) (each group's lowest index) of ``rep`` with ``pairs`` joined."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(rep)
    links = np.concatenate([np.stack([np.arange(n), rep], axis=1), pairs])
    graph = coo_matrix((np.ones(len(links)), (links[:, 0], links[:, 1])), shape=(n, n))
    labels = connected_components(graph, directed=False)[1]
    first = np.full(labels.max() + 1, n)
    np.minimum.at(first, labels, np.arange(n))
    return first[labels]


def _degenerate_mask(faces: np.ndarray) -> np.ndarray:
    """Mask (F,) of faces with two corners on one vertex."""
    return (
        (faces[:, 0] == faces[:, 1]) | (faces[:, 1] == faces[:, 2]) | (faces[:, 0] == faces[:, 2])
    )


def _drop_degenerate(faces: np.ndarray) -> np.ndarray:
    """Faces (F', 3) without those having two corners on one vertex."""
    return faces[~_degenerate_mask(faces)]


def _part_sizes(vertices: np.ndarray, welded: np.ndarray) -> tuple:
    """Per face its part label (F,), and per part its area [m2] and open-edge length [m]."""
    vertex_part = _components(len(vertices), welded)
    labels = vertex_part[welded[:, 0]]
    area = 0.5 * np.linalg.norm(
        np.cross(
            vertices[welded[:, 1]] - vertices[welded[:, 0]],
            vertices[welded[:, 2]] - vertices[welded[:, 0]],
        ),
        axis=1,
    )
    boundary = _boundary_edges(welded)
    length = np.linalg.norm(vertices[boundary[:, 0]] - vertices[boundary[:, 1]], axis=1)
    part_area = np.bincount(labels, weights=area, minlength=vertex_part.max() + 1)
    part_open = np.bincount(
        vertex_part[boundary[:, 0]], weights=length, minlength=vertex_part.max() + 1
    )
    return labels, part_area, part_open


def _solid_faces(vertices: np.ndarray, welded: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Mask (F,) of faces on closed solids, not cloth: an avatar, buttons, eyes (parts whose
    open edges are short for their area: under ``_SOLID_RATIO`` times its square root). Unless
    that is all there is."""
    labels, part_area, part_open = _part_sizes(vertices, welded)
    solid = part_open < _SOLID_RATIO * np.sqrt(part_area)
    parts = np.unique(labels)
    if solid[parts].all() or not solid[parts].any():
        return np.zeros(len(welded), dtype=bool), []
    found = [int(p) for p in parts if solid[p]]
    areas = ", ".join(f"{part_area[p]:.2f}" for p in sorted(found, key=lambda p: -part_area[p])[:3])
    return np.isin(labels, found), [
        f"left out {len(found)} closed part(s) that are not cloth (an avatar, buttons; "
        f"largest {areas} m2)"
    ]


def _stray_faces(vertices: np.ndarray, welded: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Mask (F,) of faces on parts under ``_SMALL_PART`` of the largest part's area."""
    labels, part_area, _ = _part_sizes(vertices, welded)
    stray = part_area < _SMALL_PART * part_area.max()
    found = np.unique(labels[stray[labels]])
    if not len(found):
        return np.zeros(len(welded), dtype=bool), []
    return stray[labels], [
        f"left out {len(found)} stray part(s) under {_SMALL_PART:.0%} of the garment's area"
    ]


def _keep_faces(
    vertices: np.ndarray, uv: np.ndarray, faces: np.ndarray, rep: np.ndarray, keep: np.ndarray
) -> tuple:
    """(vertices, uv, faces, rep) of the kept faces only, unused vertices dropped."""
    faces = faces[keep]
    used = np.unique(np.r_[faces.ravel(), rep[faces].ravel()])
    remap = np.full(len(vertices), -1)
    remap[used] = np.arange(len(used))
    return vertices[used], uv[used], remap[faces], remap[rep[used]]


_OPENING_M = 0.15  # boundary loops shorter than this are slits or holes, not openings
_LATERAL_M = (
    0.08  # an opening this far to the side of the garment's middle is a sleeve's or a leg's
)


def _openings(vertices: np.ndarray, faces: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """Boundary loops at least ``_OPENING_M`` round (neck, armholes, hems, waist), each with
    its perimeter [m]."""
    boundary = _boundary_edges(faces)  # once: each loop's perimeter picks its edges from it
    rounds = [(_loop_perimeter(vertices, boundary, lp), lp) for lp in _boundary_loops(faces)]
    return [(length, lp) for length, lp in rounds if length >= _OPENING_M]


def mesh_kind_and_loops(vertices: np.ndarray, faces: np.ndarray) -> tuple[str, list[np.ndarray]]:
    """What a z-up welded garment mesh is, ``"top"``, ``"dress"`` or ``"bottom"`` (``"unknown"``
    without openings), and its openings (largest perimeter first)."""
    openings = sorted(_openings(vertices, faces), key=lambda item: item[0], reverse=True)
    loops = [lp for _, lp in openings]
    if not loops:
        return "unknown", loops
    height = float(np.ptp(vertices[:, 2]))
    # sleeves and armholes open to the sides above a top's hem; trouser legs open to the sides
    # below their waist; a skirt (or a tube top) opens only at its middle, the top one its waist
    middle = 0.5 * (vertices[:, 0].min() + vertices[:, 0].max())
    lateral = [lp for lp in loops if abs(float(vertices[lp, 0].mean()) - middle) > _LATERAL_M]
    central = [lp for lp in loops if abs(float(vertices[lp, 0].mean()) - middle) <= _LATERAL_M]
    if (
        not lateral
        or not central
        or min(float(vertices[lp, 2].mean()) for lp in central)
        > min(float(vertices[lp, 2].mean()) for lp in lateral)
    ):
        return "bottom", loops
    return ("dress" if height > 0.85 else "top"), loops


def _up_rotation(
    vertices: np.ndarray, faces: np.ndarray, up: str | None, gltf: bool
) -> tuple[np.ndarray, str]:
    """Rotation (3, 3) taking the file's up axis to +z."""
    axes = {
        "+y": np.array([0.0, 1.0, 0.0]),
        "-y": np.array([0.0, -1.0, 0.0]),
        "+z": np.array([0.0, 0.0, 1.0]),
        "-z": np.array([0.0, 0.0, -1.0]),
    }
    if up is not None:
        if up not in axes:
            raise ValueError(f"up must be one of {sorted(axes)}, got {up!r}")
        chosen, why = up, f"up axis {up} (given)"
    elif gltf:
        chosen, why = "+y", "up axis +y (glTF)"
    else:
        # a garment is shallowest front to back: that axis is not up; of the others the
        # normal of its largest opening (a hem, a waist) decides, else y (OBJ/PLY convention)
        extent = np.ptp(vertices, axis=0)
        depth = int(np.argmin(extent))
        candidates = [k for k in (1, 2) if k != depth]
        chosen, why = "+y", "up axis +y assumed (the usual for OBJ/PLY)"
        if len(candidates) == 1:
            chosen = "+y" if candidates[0] == 1 else "+z"
            why = f"up axis {chosen} (the garment is shallowest along {'xyz'[depth]})"
        else:
            loops = [lp for _, lp in _openings(vertices, faces)]
            if loops:
                widest = max(loops, key=lambda lp: float(np.ptp(vertices[lp], axis=0).max()))
                p = vertices[widest] - vertices[widest].mean(axis=0)
                k = int(np.argmax(np.abs(np.linalg.svd(p, full_matrices=False)[2][2])))
                if k in (1, 2):
                    chosen = "+y" if k == 1 else "+z"
                    why = f"up axis {chosen} (the normal of its largest opening)"
    if chosen == "+z":
        return np.eye(3), why
    if chosen == "-z":
        return np.diag([1.0, -1.0, -1.0]), why
    sign = 1.0 if chosen == "+y" else -1.0
    # y-up, z-forward (the wearer faces +z) -> z-up, wearer facing -y (ours)
    return np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -sign], [0.0, sign, 0.0]]), why


def _decimate(
    vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, edge_length_m: float
) -> tuple:
    import fast_simplification
    from scipy.spatial import cKDTree

    area = float(
        np.linalg.norm(
            np.cross(
                vertices[faces[:, 1]] - vertices[faces[:, 0]],
                vertices[faces[:, 2]] - vertices[faces[:, 0]],
            ),
            axis=1,
        ).sum()
        / 2
    )
    wanted_faces = max(200, int(area / (math.sqrt(3) / 4 * edge_length_m**2)))
    if wanted_faces >= len(faces):
        return vertices, faces, uv
    points, tris = fast_simplification.simplify(
        vertices.astype(np.float32),
        faces.astype(np.int32),
        target_reduction=1.0 - wanted_faces / len(faces),
    )
    points = np.asarray(points, dtype=np.float64)
    _, nearest = cKDTree(vertices).query(points)
    return points, np.asarray(tris, dtype=np.int64), uv[nearest]


def read_garment_mesh(
    path: str | os.PathLike,
    *,
    units: str | None = None,
    up: str | None = None,
    edge_length_m: float = 0.02,
    max_vertices: int | None = None,
) -> dict:
    """Read a garment mesh into our frame (metres, z-up, wearer facing -y).

    Args:
        path: ``.obj``, ``.glb``/``.gltf`` (Draco and KHR_texture_transform included) or ``.ply``.
        units: ``"m"``, ``"cm"``, ``"mm"`` or ``"inch"``; None: inferred from its size.
        up: the file's up axis ``"+y"``/``"-y"``/``"+z"``/``"-z"``; None: inferred.
        edge_length_m: the drape's edge length [m]; denser meshes are decimated towards it.
        max_vertices: refuse files declaring more vertices than this, before reading them (None:
            ``MESH_IMPORT_LIMITS["vertices"]``).

    Returns:
        ``{"vertices" (N, 3) [m], "faces" (F, 3), "uv" (N, 2), "texture", "seam_pairs" (S, 2)
        (split vertices at one point, to sew), "pattern_positions" (N, 2) [m] or None (UVs
        that are a pattern), "kind", "log" [lines]}``.

    Raises:
        ValueError: unknown format, missing or oversized file, no unit fits, unreadable content.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"garment file {str(path)!r} not found")
    size = path.stat().st_size
    if size > MESH_IMPORT_LIMITS["file_bytes"]:
        raise ValueError(
            f"{path.name} is {size} bytes, over the limit of {MESH_IMPORT_LIMITS['file_bytes']} "
            f"(garments._mesh_import.MESH_IMPORT_LIMITS['file_bytes'])"
        )
    if max_vertices is not None and (
        isinstance(max_vertices, bool) or not isinstance(max_vertices, int) or max_vertices < 1
    ):
        raise ValueError(f"max_vertices must be a positive integer, got {max_vertices!r}")
    limit = MESH_IMPORT_LIMITS["vertices"] if max_vertices is None else max_vertices
    declared = _declared_vertex_count(path)
    if declared > limit:
        raise ValueError(
            f"{path.name} declares {declared} vertices, over the limit of {limit} "
            "(raise it with max_vertices=; the drape decimates to its edge length anyway)"
        )
    raw = _read_raw(path)
    log = list(raw.get("notes", []))
    vertices = np.asarray(raw["vertices"], dtype=np.float64)
    faces = np.asarray(raw["faces"], dtype=np.int64)
    if len(vertices) > limit:  # a file that declared fewer than it holds
        raise ValueError(
            f"{path.name} has {len(vertices)} vertices, over the limit of {limit} "
            "(raise it with max_vertices=)"
        )
    uv = np.asarray(raw["uv"], dtype=np.float64)
    used = np.unique(faces)
    if len(used) < len(vertices):  # drop unreferenced vertices
        remap = np.full(len(vertices), -1)
        remap[used] = np.arange(len(used))
        vertices, uv, faces = vertices[used], uv[used], remap[faces]
    scale, why = _detect_units(vertices, units)
    log.append(why)
    vertices = vertices * scale
    rep = _weld_map(vertices, faces, exact=True)
    solid, lines = _solid_faces(vertices, rep[faces])
    if solid.any():
        log += lines
        vertices, uv, faces, rep = _keep_faces(vertices, uv, faces, rep, ~solid)
    rep = _weld_map(vertices, faces)
    sewn = _sew_open_seams(vertices, faces, rep)
    joined = int(np.count_nonzero(sewn != rep))
    if joined:
        log.append(f"sewed {joined} vertices where pieces touch (seams left open in the file)")
        rep = sewn
        for group in np.unique(rep[rep != np.arange(len(rep))]):  # one point per sewn group
            members = np.flatnonzero(rep == group)
            vertices[members] = vertices[members].mean(axis=0)
    faces = faces[~_degenerate_mask(rep[faces])]
    stray, lines = _stray_faces(vertices, rep[faces])
    if stray.any():
        log += lines
        vertices, uv, faces, rep = _keep_faces(vertices, uv, faces, rep, ~stray)
    rotation, why = _up_rotation(vertices, rep[faces], up, path.suffix.lower() in (".glb", ".gltf"))
    log.append(why)
    vertices = vertices @ rotation.T
    kind, _ = mesh_kind_and_loops(vertices, rep[faces])  # before decimation blurs the openings
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    mean_edge = float(np.linalg.norm(vertices[edges[:, 0]] - vertices[edges[:, 1]], axis=1).mean())
    if mean_edge < _DENSE_FACTOR * edge_length_m and len(vertices) > 4000:
        welded_faces = rep[faces]
        keep = np.unique(welded_faces)
        remap = np.full(len(vertices), -1)
        remap[keep] = np.arange(len(keep))
        before = len(keep)
        vertices, faces, uv = _decimate(
            vertices[keep], remap[welded_faces], uv[keep], edge_length_m
        )
        log.append(
            f"decimated {before} -> {len(vertices)} vertices (mean edge {mean_edge * 1000:.1f} mm, "
            f"drape edge {edge_length_m * 1000:.0f} mm)"
        )
        _log.info("%s: %s", path.name, log[-1])
        rep = np.arange(len(vertices))
    split = np.flatnonzero(rep != np.arange(len(vertices)))
    seam_pairs = (
        np.stack([rep[split], split], axis=1) if len(split) else np.zeros((0, 2), dtype=np.int64)
    )
    if len(split):
        log.append(f"sewed {len(split)} vertices split along UV seams to their twins")
    pattern_positions = _pattern_uv(vertices, faces, uv)
    if pattern_positions is not None:
        log.append("rest shape: the UV layout (a pattern in metres)")
    else:
        log.append("rest shape: the file's geometry")
    log.append(f"looks like a {kind}")
    for line in log:
        _log.info("%s: %s", path.name, line)
    return {
        "vertices": vertices,
        "faces": faces,
        "uv": uv,
        "texture": raw.get("texture"),
        "seam_pairs": seam_pairs.astype(np.int64),
        "pattern_positions": pattern_positions,
        "kind": kind,
        "log": log,
    }


def _pattern_uv(vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray) -> np.ndarray | None:
    """The UVs as 2D rest coordinates [m] when they are a pattern: not a texture atlas in the
    unit square (CLO writes pattern UVs in its length unit) and one UV/3D length ratio for
    (nearly) every edge; else None (the file's geometry is the rest shape)."""
    if uv.size == 0 or (uv.min() >= -1e-6 and uv.max() <= 1.0 + 1e-6):
        return None
    a = np.concatenate([faces[:, 0], faces[:, 1], faces[:, 2]])
    b = np.concatenate([faces[:, 1], faces[:, 2], faces[:, 0]])
    d3 = np.linalg.norm(vertices[a] - vertices[b], axis=1)
    d2 = np.linalg.norm(uv[a] - uv[b], axis=1)
    ok = d3 > 1e-9
    if ok.sum() < 3 or not (d2[ok] > 0).any():
        return None
    ratio = d2[ok] / d3[ok]
    median = float(np.median(ratio))
    if median <= 0 or np.mean(np.abs(ratio / median - 1.0) < _PATTERN_UV_SPREAD) < 0.9:
        return None
    return uv / median
