"""The full tape on a body mesh from a file: our Body records and anny meshes (OBJ, GLB).

A mesh file carries no skeleton and no body regions. For anny's topology (the face list in
anny's order, as anny and our GLB export write it, seams split or not) both come from the
model: the vertices are mapped back to anny's vertex order through the faces, the blend-shape
weights that reproduce them are solved for by least squares, and those give the joints. Units
(m, cm, mm) and the up axis (z, or y as in glTF/OBJ) are detected from the mesh's extent.

SMPL-X meshes (10,475 vertices, in SMPL-X's own frame: metres, y-up, facing +z) are measured
with the licensed model's body regions and joint regressor (the joints regressed from the
mesh's own vertices), turned once into the tape's z-up frame.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tryon3d.bodyfit._body import Body

if TYPE_CHECKING:
    from tryon3d.bodyfit._anny_model import AnnyModel

__all__ = ["MeshTape", "measure_body", "measure_mesh", "tape_definitions", "tape_svg"]

#: Vertices of an SMPL-X mesh: how ``measure_mesh`` recognises one.
SMPLX_VERTEX_COUNT = 10475

_LOOPS_HORIZONTAL = ("chest", "underbust", "waist", "iso_waist", "hips", "thigh", "thigh_max",
                     "lower_thigh", "knee", "calf", "ankle")  # fmt: skip
_POINTS = ("crotch", "acromion_left", "acromion_right", "cervicale", "suprasternale", "neck",
           "upper_arm", "biceps", "forearm", "wrist")  # fmt: skip


@dataclass(frozen=True)
class MeshTape:
    """A tape reading of a body mesh.

    Attributes:
        vertices: (V, 3) float64 positions [m], z-up, as measured.
        measurements_m: ``MEASUREMENT_NAMES`` -> value [m].
        landmarks_m: landmark name -> (3,) position [m] in the frame of ``vertices``.
        source: what was measured (``"body record"``, ``"anny mesh"``).
    """

    vertices: np.ndarray
    measurements_m: Mapping[str, float]
    landmarks_m: Mapping[str, np.ndarray]
    source: str


def measure_body(body: Body) -> MeshTape:
    """The tape on a Body's rest pose (anny or SMPL-X)."""
    from tryon3d.bodyfit._tape import ANNY_TAPE_CALIBRATION, build_tape_topology, measure

    topology = build_tape_topology(
        body.faces,
        body.vertex_regions,
        body.rest_vertices,
        calibration=ANNY_TAPE_CALIBRATION if body.model == "anny" else None,
    )
    ratios = body.inputs.get("height_ratios") or {}
    measurements, landmarks = measure(
        body.rest_vertices,
        body.vertex_regions,
        dict(body.skeleton_m),
        topology,
        height_ratios=ratios,
    )
    return MeshTape(body.rest_vertices, measurements, landmarks, "body record")


def _to_z_up_metres(vertices: np.ndarray) -> np.ndarray:
    extent = vertices.max(axis=0) - vertices.min(axis=0)
    height = extent.max()
    if height > 300.0:
        vertices = vertices / 1000.0  # millimetres
    elif height > 3.0:
        vertices = vertices / 100.0  # centimetres
    if int(np.argmax(extent)) == 1:  # y-up (glTF, OBJ, SMPL-X): y -> z, z -> -y (front stays front)
        vertices = np.stack([vertices[:, 0], -vertices[:, 2], vertices[:, 1]], axis=1)
    elif int(np.argmax(extent)) != 2:
        raise ValueError(
            "the mesh is lying down (longest along x): expected a standing body, y- or z-up"
        )
    return vertices - np.array([0.0, 0.0, vertices[:, 2].min()])


def measure_mesh(
    vertices: np.ndarray,
    faces: np.ndarray,
    *,
    model: str | None = None,
    smplx_model_dir: str | os.PathLike | None = None,
) -> MeshTape:
    """The tape on a standing body mesh (A-pose) with anny's or SMPL-X's topology.

    Args:
        vertices: (V, 3) positions: anny's in m, cm or mm, y-up or z-up (detected); SMPL-X's in
            its own frame (metres, y-up, facing +z), placed anywhere.
        faces: (F, 3) triangles in the model's face order (anny's vertices may be split at UV
            seams).
        model: ``"anny"`` or ``"smplx"``; by default SMPL-X for a mesh of
            ``SMPLX_VERTEX_COUNT`` vertices, else anny.
        smplx_model_dir: folder with the SMPL-X model files (or env ``TRYON3D_SMPLX_DIR``).

    Raises:
        ValueError: not the model's topology, not a standing body, or SMPL-X's files missing.
    """
    from tryon3d.bodyfit._anny_model import load_anny_model
    from tryon3d.bodyfit._tape import measure

    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or faces.ndim != 2 or faces.shape[1] != 3:
        raise ValueError(
            f"expected vertices (V, 3) and faces (F, 3), got {vertices.shape} and {faces.shape}"
        )
    kind = model or ("smplx" if len(vertices) == SMPLX_VERTEX_COUNT else "anny")
    if kind == "smplx":
        return _measure_smplx_mesh(vertices, faces, smplx_model_dir)
    if kind != "anny":
        raise ValueError(f"model must be 'anny' or 'smplx', got {model!r}")
    anny = load_anny_model()
    if len(faces) != len(anny.faces):
        raise ValueError(
            f"only anny and SMPL-X meshes (or our body.json) can be measured: the mesh has "
            f"{len(faces)} faces, anny {len(anny.faces)} (SMPL-X: {SMPLX_VERTEX_COUNT} vertices)"
        )
    # Back to anny's vertex order through the faces (a split seam vertex maps to its original).
    original = np.full((len(anny.vertex_regions), 3), np.nan)
    original[anny.faces.reshape(-1)] = vertices[faces.reshape(-1)]
    if np.isnan(original).any():
        raise ValueError("the mesh's faces do not follow anny's: cannot map its vertices")
    check = np.abs(original[anny.faces.reshape(-1)] - vertices[faces.reshape(-1)]).max()
    if check > 1e-6 * max(1.0, np.abs(vertices).max()):
        raise ValueError(
            "the mesh's faces do not follow anny's: its vertices disagree across faces"
        )
    points = _to_z_up_metres(original)
    # The blend shapes give joints for a body facing anny's way: solve on the mesh turned (or
    # mirrored) to face it, and turn the joints back (the tape itself reads any facing).
    facing = _turn_to_template(anny, points)
    joints = _joints_from_vertices(anny, points @ facing.T) @ facing
    measurements, landmarks = measure(
        points, anny.vertex_regions, anny.skeleton(joints), anny.tape_topology
    )
    return MeshTape(points, measurements, landmarks, "anny mesh")


def _measure_smplx_mesh(
    vertices: np.ndarray, faces: np.ndarray, smplx_model_dir: str | os.PathLike | None
) -> MeshTape:
    from tryon3d.bodyfit._smplx_model import JOINT_NAMES, SMPLX_TO_ENGINE, load_smplx_model
    from tryon3d.bodyfit._tape import measure

    folder = smplx_model_dir or os.environ.get("TRYON3D_SMPLX_DIR")
    backend = load_smplx_model(Path(folder) if folder else None)
    if len(vertices) != len(backend.vertex_regions) or not np.array_equal(faces, backend.faces):
        raise ValueError(
            f"the mesh is not SMPL-X's: {len(vertices)} vertices and {len(faces)} faces, SMPL-X "
            f"has {len(backend.vertex_regions)} and {len(backend.faces)} in its own order"
        )
    # SMPL-X's frame (y-up, facing +z) turned to the tape's (z-up, facing -y), feet on z = 0.
    points = vertices @ SMPLX_TO_ENGINE.T
    points[:, 2] -= points[:, 2].min()
    # The regressor's rows are affine weights (each sums to 1): it gives the joints of a mesh
    # placed anywhere, in any frame.
    regressor = np.asarray(backend.joint_regressor, dtype=np.float64)[: len(JOINT_NAMES)]
    joints = regressor @ points
    measurements, landmarks = measure(
        points, backend.vertex_regions, backend.skeleton(joints), backend.tape_topology
    )
    return MeshTape(points, measurements, landmarks, "SMPL-X mesh")


def _turn_to_template(model: AnnyModel, points: np.ndarray) -> np.ndarray:
    """The (3, 3) turn about z, or mirror, that best lays the horizontal layout of ``points``
    (V, 3) [m], z-up, in anny's vertex order, over the template's (orthogonal Procrustes):
    ``points @ turn.T`` faces -y with its left side at +x."""
    template = model.vertex_template.reshape(-1, 3)[:, :2]
    mesh = points[:, :2]
    cross = (template - template.mean(axis=0)).T @ (mesh - mesh.mean(axis=0))
    u, _, vt = np.linalg.svd(cross)
    turn = np.eye(3)
    turn[:2, :2] = u @ vt  # template @ (u @ vt) ~ mesh, so mesh @ (u @ vt).T ~ template
    return turn


def _joints_from_vertices(model: AnnyModel, vertices: np.ndarray) -> np.ndarray:
    """anny's joints (J, 3) [m] for a rest-pose mesh: the blend weights (and a shift) that best
    reproduce its vertices, applied to the joints' blend shapes."""
    count = model.vertex_shapes.shape[0]
    shift_columns = np.tile(np.eye(3), (len(vertices), 1))  # (V*3, 3)
    design = np.concatenate([model.vertex_shapes.T, shift_columns], axis=1)
    solution = np.linalg.lstsq(design, vertices.reshape(-1) - model.vertex_template, rcond=None)[0]
    coefficients, shift = solution[:count], solution[count:]
    return (model.joint_template + coefficients @ model.joint_shapes).reshape(-1, 3) + shift


def tape_svg(tape: MeshTape, *, labels: Mapping[str, str] | None = None, stride: int = 3) -> str:
    """An SVG of the body from the front and the side with the tape lines and landmarks.

    Args:
        tape: the reading to draw.
        labels: measurement name -> caption (defaults to the names).
        stride: draw every ``stride``-th vertex as the body's silhouette dots.
    """
    vertices = tape.vertices
    labels = dict(labels or {})
    height = float(vertices[:, 2].max())
    scale = 500.0 / max(height, 1e-6)  # px per metre
    centre = vertices[:, :2].mean(axis=0)
    views = (("front", 0, 200.0), ("side", 1, 560.0))  # (name, horizontal axis, x offset px)
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="560" viewBox="0 0 800 560">',
        '<rect width="800" height="560" fill="white"/>',
    ]

    def px(view_x: float, axis: int, z: float) -> tuple[float, float]:
        return offset + (view_x - centre[axis]) * scale, 530.0 - z * scale

    for name, axis, offset in views:
        parts.append(
            f'<text x="{offset - 30:.0f}" y="20" font-size="14" font-family="sans-serif">'
            f"{name}</text>"
        )
        dots = vertices[::stride]
        parts.append('<g fill="#9aa" fill-opacity="0.35">')
        parts.extend(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="0.8"/>'
            for x, y in (px(p[axis], axis, p[2]) for p in dots)
        )
        parts.append("</g>")
        for loop in _LOOPS_HORIZONTAL:
            if loop not in tape.landmarks_m or loop not in tape.measurements_m:
                continue
            z = float(tape.landmarks_m[loop][2])
            band = vertices[np.abs(vertices[:, 2] - z) < 0.005]
            if loop in ("thigh", "thigh_max", "lower_thigh", "knee", "calf", "ankle"):
                side = np.sign(tape.landmarks_m[loop][0] - centre[0]) or 1.0
                band = band[(band[:, 0] - centre[0]) * side > 0]
            if not len(band):
                continue
            (x0, y0), (x1, _) = px(band[:, axis].min(), axis, z), px(band[:, axis].max(), axis, z)
            caption = labels.get(loop, loop)
            value = tape.measurements_m[loop] * 100.0
            parts.append(
                f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y0:.1f}" '
                'stroke="#d33" stroke-width="1.5"/>'
            )
            if axis == 0:
                parts.append(
                    f'<text x="{x1 + 4:.1f}" y="{y0 + 3:.1f}" font-size="8" '
                    f'font-family="sans-serif" fill="#d33">{caption} {value:.1f}</text>'
                )
        arc = ("acromion_right", "cervicale", "acromion_left")
        if "iso_shoulder_width" in tape.measurements_m and all(n in tape.landmarks_m for n in arc):
            # ISO's shoulder width: its two ends and the cervicale it runs over
            corners = " ".join(
                "{:.1f},{:.1f}".format(*px(tape.landmarks_m[n][axis], axis, tape.landmarks_m[n][2]))
                for n in arc
            )
            parts.append(
                f'<polyline points="{corners}" fill="none" stroke="#d33" stroke-width="1.5"'
                ' stroke-dasharray="3,2"/>'
            )
        for point in _POINTS:
            if point in tape.landmarks_m:
                p = tape.landmarks_m[point]
                x, y = px(p[axis], axis, p[2])
                parts.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#36c">'
                    f"<title>{point}</title></circle>"
                )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


#: Our measurements that ANSUR II has no column for, and how we define them.
_OWN_DEFINITIONS = {
    "stature": "ANSUR II stature",
    "underbust": "smallest trunk girth under the bust (no ANSUR II column)",
    "upper_arm": "relaxed upper-arm girth midway shoulder to elbow (no ANSUR II column)",
    "iso_waist": "ISO 8559-1 waist girth: the natural waist, narrowest between hips and ribs",
    "iso_shoulder_width": (
        "ISO 8559-1 shoulder width: acromion to acromion over the back through the cervicale"
    ),
    "thigh_max": "largest horizontal thigh girth below the crotch (no ANSUR II column)",
    "knee": "horizontal girth at the knee joint (ISO 8559-1 knee girth; no ANSUR II column)",
}


def tape_definitions(kind: str = "ansur") -> dict[str, str]:
    """What each measurement is: measurement name -> a one-line definition.

    Args:
        kind: ``"ansur"`` (ANSUR II columns) or ``"iso8559"`` (ISO 8559-1, where it differs).
    """
    from tryon3d.bodyfit._body import MEASUREMENT_NAMES
    from tryon3d.bodyfit._shape_prior import PRIOR_COLUMNS

    if kind not in ("ansur", "iso8559"):
        raise ValueError(f"definitions must be 'ansur' or 'iso8559', got {kind!r}")
    out = {}
    for name in MEASUREMENT_NAMES:
        column = PRIOR_COLUMNS.get(name)
        if isinstance(column, tuple):
            out[name] = f"ANSUR II {column[0]} - {column[1]}"
        elif column is not None:
            out[name] = f"ANSUR II {column}" + (
                " (relaxed here; flexed in ANSUR II)" if "flexed" in column else ""
            )
        else:
            out[name] = _OWN_DEFINITIONS.get(name, name)
    if kind == "iso8559":
        out["waist"] = _OWN_DEFINITIONS["iso_waist"]
    return out
