"""Garment files made for the import tests and benchmark: a y-up centimetre OBJ with split UV
seams, and a Draco-compressed GLB (DracoPy), from our own geometry."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np


def cone_skirt(
    *,
    waist_m: float = 0.9,
    hem_m: float = 1.25,
    length_m: float = 0.5,
    rows: int = 14,
    columns: int = 40,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An A-line tube skirt, z-up [m], its waist at z = 0: (vertices, faces, uv). The column at
    angle 0 is split (a UV seam): its vertices appear twice, once with u = 0 and once with u = 1."""
    t = np.linspace(0.0, 1.0, rows + 1)
    radius = (waist_m + (hem_m - waist_m) * t) / (2 * np.pi)
    angle = np.linspace(0.0, 2 * np.pi, columns + 1)  # the last column repeats the first
    ring = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    vertices = np.concatenate(
        [
            np.c_[r * ring, np.full(columns + 1, -length_m * s)]
            for r, s in zip(radius, t, strict=True)
        ]
    )
    vertices[np.arange(rows + 1) * (columns + 1) + columns, :2] = vertices[
        np.arange(rows + 1) * (columns + 1), :2
    ]
    uv = np.stack(np.meshgrid(angle / (2 * np.pi), 1.0 - t), axis=-1).reshape(-1, 2)
    faces = []
    for i in range(rows):
        for j in range(columns):
            a, b = i * (columns + 1) + j, i * (columns + 1) + j + 1
            c, d = a + columns + 1, b + columns + 1
            faces += [(a, c, b), (b, c, d)]  # outward normals
    return vertices, np.asarray(faces, dtype=np.int64), uv


def z_up_m_to_y_up(vertices: np.ndarray, scale: float) -> np.ndarray:
    """Our frame (z-up, wearer facing -y) [m] to a y-up, z-forward file frame times ``scale``."""
    return np.c_[vertices[:, 0], vertices[:, 2], -vertices[:, 1]] * scale


def write_obj(path: Path, vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray) -> Path:
    """An OBJ with one ``vt`` per vertex (split vertices stay split), no material."""
    lines = [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices]
    lines += [f"vt {u:.6f} {v:.6f}" for u, v in uv]
    lines += [f"f {a + 1}/{a + 1} {b + 1}/{b + 1} {c + 1}/{c + 1}" for a, b, c in faces]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_draco_glb(
    path: Path,
    vertices: np.ndarray,
    faces: np.ndarray,
    uv: np.ndarray,
    texture_transform: dict | None = None,
) -> Path:
    """A GLB whose one primitive is Draco-compressed (KHR_draco_mesh_compression), y-up file
    coordinates as given; with ``texture_transform`` a material whose base colour texture
    carries that KHR_texture_transform (no image)."""
    import DracoPy

    blob = DracoPy.encode(
        np.asarray(vertices, np.float32),
        np.asarray(faces, np.uint32),
        quantization_bits=16,
        tex_coord=np.c_[uv[:, 0], 1.0 - uv[:, 1]].astype(np.float64),
        preserve_order=True,
    )
    blob += b"\0" * (-len(blob) % 4)
    lo, hi = vertices.min(axis=0).tolist(), vertices.max(axis=0).tolist()
    document = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "extensionsUsed": ["KHR_draco_mesh_compression"],
        "extensionsRequired": ["KHR_draco_mesh_compression"],
        "buffers": [{"byteLength": len(blob)}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": len(blob)}],
        "accessors": [
            {"componentType": 5126, "count": len(vertices), "type": "VEC3", "min": lo, "max": hi},
            {"componentType": 5126, "count": len(vertices), "type": "VEC2"},
            {"componentType": 5125, "count": 3 * len(faces), "type": "SCALAR"},
        ],
        "meshes": [
            {
                "primitives": [
                    {
                        "attributes": {"POSITION": 0, "TEXCOORD_0": 1},
                        "indices": 2,
                        "extensions": {
                            "KHR_draco_mesh_compression": {
                                "bufferView": 0,
                                "attributes": {"POSITION": 0, "TEXCOORD_0": 1},
                            }
                        },
                    }
                ]
            }
        ],
    }
    if texture_transform is not None:
        document["extensionsUsed"].append("KHR_texture_transform")
        document["materials"] = [
            {
                "pbrMetallicRoughness": {
                    "baseColorTexture": {
                        "index": 0,
                        "extensions": {"KHR_texture_transform": texture_transform},
                    }
                }
            }
        ]
        document["meshes"][0]["primitives"][0]["material"] = 0
    text = json.dumps(document).encode("utf-8")
    text += b" " * (-len(text) % 4)
    total = 12 + 8 + len(text) + 8 + len(blob)
    data = struct.pack("<4sII", b"glTF", 2, total) + struct.pack("<I4s", len(text), b"JSON") + text
    data += struct.pack("<I4s", len(blob), b"BIN\0") + blob
    path.write_bytes(data)
    return path


def t_posed_garment(
    body, positions: np.ndarray, *, arm_raise_deg: float = 45.0, leg_spread_deg: float = 0.0
):
    """A garment placed on ``body``'s A-pose carried into a T-pose (arms raised by
    ``arm_raise_deg``, legs spread by ``leg_spread_deg`` each): the body is posed (anny's
    skinning), and each garment vertex follows the rigid motion of its 24 nearest body
    vertices (a least-squares fit), as a garment modelled on such an avatar is. Returns
    (posed positions (N, 3) [m], the posed Body)."""
    from scipy.spatial import cKDTree

    from tryon3d import bodyfit

    names = list(body.joint_names)
    pose = np.zeros((len(names), 3))
    pose[names.index("upperarm01.L"), 1] = -np.radians(arm_raise_deg)
    pose[names.index("upperarm01.R"), 1] = np.radians(arm_raise_deg)
    pose[names.index("upperleg01.L"), 1] = -np.radians(leg_spread_deg)
    pose[names.index("upperleg01.R"), 1] = np.radians(leg_spread_deg)
    posed = bodyfit.pose_body(body, pose)
    rest = np.asarray(body.rest_vertices, dtype=np.float64)
    moved = np.asarray(posed.vertices, dtype=np.float64)
    moved = moved - moved[:, 2].min() + rest[:, 2].min()  # pose_body stands it on z = 0
    _, near = cKDTree(rest).query(positions, k=24)
    out = np.empty_like(positions)
    for i, ids in enumerate(near):
        a, b = rest[ids], moved[ids]
        ca, cb = a.mean(axis=0), b.mean(axis=0)
        u, _, vt = np.linalg.svd((a - ca).T @ (b - cb))
        d = np.sign(np.linalg.det(vt.T @ u.T))
        rotation = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
        out[i] = cb + rotation @ (positions[i] - ca)
    return out, posed
