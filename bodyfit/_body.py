"""The Body record: what bodyfit produces and every later stage consumes."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from tryon3d.bodyfit._skeleton import canonical_skeleton, check_skeleton
from tryon3d.core import readonly_array

#: The body models (backends) bodyfit can build a Body with.
BodyModelName = Literal["anny", "smplx"]
#: Sex of a body, as the population statistics and the body models distinguish it.
Sex = Literal["male", "female"]
MODELS: tuple[BodyModelName, ...] = get_args(BodyModelName)
SEXES: tuple[Sex, ...] = get_args(Sex)

#: Body regions a vertex can belong to (values of ``Body.vertex_regions``).
REGION_NAMES: tuple[str, ...] = (
    "head",
    "neck",
    "torso",
    "arm_left",
    "arm_right",
    "hand_left",
    "hand_right",
    "leg_left",
    "leg_right",
    "foot_left",
    "foot_right",
)

#: Tape measurements every Body reports (keys of ``Body.measurements_m``).
MEASUREMENT_NAMES: tuple[str, ...] = (
    "stature",
    "chest",
    "underbust",
    "waist",
    "hips",
    "neck",
    "shoulder_breadth",
    "sleeve_outseam",
    "inseam",
    "thigh",
    "upper_arm",
    "iso_waist",
    "neck_base",
    "thigh_max",
    "lower_thigh",
    "knee",
    "calf",
    "ankle",
    "biceps",
    "forearm",
    "wrist",
    "across_back",
    "crotch_length",
    "acromion_radiale",
    "radiale_stylion",
    "knee_height",
    "waist_to_hip_height",
    "waist_to_knee_height",
    "iso_shoulder_width",
)


def _frozen_array(
    value: ArrayLike, dtype: DTypeLike, shape_tail: tuple[int, ...], name: str
) -> np.ndarray:
    return readonly_array(value, dtype, (None, *shape_tail), f"Body.{name}")


@dataclass(frozen=True, eq=False)
class Body:
    """A human body mesh in metres, z-up, feet on z = 0, facing -y.

    Two poses are carried: ``rest_vertices`` is the canonical A-pose used for measuring and
    draping; ``vertices`` is the target pose (the photo's pose, or the canonical pose again).
    Both share ``faces`` and ``uv``.

    Attributes:
        vertices: posed vertex positions [m], shape (V, 3), float64.
        faces: triangle vertex indices, shape (F, 3), int64, counter-clockwise seen from outside.
        uv: texture coordinates in [0, 1], shape (T, 2), float32 (OBJ-style, T may differ from V).
        uv_faces: per-corner indices into ``uv``, shape (F, 3), int64.
        rest_vertices: canonical-pose (A-pose) vertex positions [m], shape (V, 3), float64.
        joints: posed joint positions [m], shape (J, 3), float64.
        rest_joints: canonical-pose joint positions [m], shape (J, 3), float64.
        joint_names: J names, backend-specific (anny bone heads or SMPL-X joints); stages
            outside bodyfit read ``skeleton_m`` instead.
        joint_parents: parent index per joint, shape (J,), int64, -1 for the root.
        vertex_regions: index into ``REGION_NAMES`` per vertex, shape (V,), int8.
        pose: per-joint rotation relative to the canonical pose, axis-angle [rad], shape (J, 3).
        shape_parameters: backend shape parameters by name (anny phenotypes and local
            changes, or SMPL-X betas as ``beta_0``...), dimensionless.
        measurements_m: tape measurements of the rest pose [m], keys ``MEASUREMENT_NAMES``.
        landmarks_m: named points of the rest pose [m] (``chest``, ``waist``, ``hips``,
            ``crotch``, ``neck``, ``shoulder_left`` ...), each shape (3,).
        weight_kg: mesh volume times body density [kg].
        model: body model name, ``"anny"`` or ``"smplx"``.
        inputs: what the body was built from (user units, for reports), e.g. ``height_cm``.
        skeleton_m: the canonical skeleton of the rest pose [m]: ``SKELETON_NAMES`` -> (3,),
            the same names for every backend (later stages use these, never ``joint_names``);
            derived from ``rest_joints`` when not given.
    """

    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray
    uv_faces: np.ndarray
    rest_vertices: np.ndarray
    joints: np.ndarray
    rest_joints: np.ndarray
    joint_names: tuple[str, ...]
    joint_parents: np.ndarray
    vertex_regions: np.ndarray
    pose: np.ndarray
    shape_parameters: dict[str, float]
    measurements_m: dict[str, float]
    landmarks_m: dict[str, np.ndarray]
    weight_kg: float
    model: BodyModelName
    inputs: dict[str, Any] = field(default_factory=dict)
    skeleton_m: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "vertices", _frozen_array(self.vertices, np.float64, (3,), "vertices"))
        set_(
            self,
            "rest_vertices",
            _frozen_array(self.rest_vertices, np.float64, (3,), "rest_vertices"),
        )
        set_(self, "faces", _frozen_array(self.faces, np.int64, (3,), "faces"))
        set_(self, "uv", _frozen_array(self.uv, np.float32, (2,), "uv"))
        set_(self, "uv_faces", _frozen_array(self.uv_faces, np.int64, (3,), "uv_faces"))
        set_(self, "joints", _frozen_array(self.joints, np.float64, (3,), "joints"))
        set_(self, "rest_joints", _frozen_array(self.rest_joints, np.float64, (3,), "rest_joints"))
        set_(self, "pose", _frozen_array(self.pose, np.float64, (3,), "pose"))
        parents = np.array(self.joint_parents, dtype=np.int64).reshape(-1)
        parents.setflags(write=False)
        set_(self, "joint_parents", parents)
        regions = np.array(self.vertex_regions, dtype=np.int8).reshape(-1)
        regions.setflags(write=False)
        set_(self, "vertex_regions", regions)
        set_(self, "joint_names", tuple(self.joint_names))
        vertex_count = len(self.vertices)
        if len(self.rest_vertices) != vertex_count or len(regions) != vertex_count:
            raise ValueError(
                f"Body: vertices ({vertex_count}), rest_vertices ({len(self.rest_vertices)}) and "
                f"vertex_regions ({len(regions)}) must have the same length"
            )
        if len(self.faces) != len(self.uv_faces):
            raise ValueError(
                f"Body: faces ({len(self.faces)}) and uv_faces ({len(self.uv_faces)}) must match"
            )
        if self.faces.size and (self.faces.min() < 0 or self.faces.max() >= vertex_count):
            raise ValueError(f"Body.faces index outside [0, {vertex_count})")
        joint_count = len(self.joints)
        if not (
            len(self.rest_joints)
            == len(parents)
            == len(self.joint_names)
            == len(self.pose)
            == joint_count
        ):
            raise ValueError(
                "Body: joints, rest_joints, joint_parents, joint_names and pose must match in "
                "length"
            )
        landmarks = {}
        for name, point in self.landmarks_m.items():
            point = np.array(point, dtype=np.float64).reshape(3)
            point.setflags(write=False)
            landmarks[name] = point
        set_(self, "landmarks_m", landmarks)
        skeleton = self.skeleton_m or canonical_skeleton(
            self.model, self.joint_names, self.rest_joints
        )
        set_(self, "skeleton_m", check_skeleton(skeleton))
        set_(self, "shape_parameters", {k: float(v) for k, v in self.shape_parameters.items()})
        set_(self, "measurements_m", {k: float(v) for k, v in self.measurements_m.items()})
        set_(self, "weight_kg", float(self.weight_kg))

    @property
    def vertex_count(self) -> int:
        return len(self.vertices)

    def region_mask(self, *names: str) -> np.ndarray:
        """Boolean mask, shape (V,), of the vertices in any of the named regions."""
        unknown = set(names) - set(REGION_NAMES)
        if unknown:
            raise ValueError(f"unknown body region(s) {sorted(unknown)}; expected {REGION_NAMES}")
        ids = [REGION_NAMES.index(n) for n in names]
        return np.isin(self.vertex_regions, ids)

    def with_pose(self, vertices: np.ndarray, joints: np.ndarray, pose: np.ndarray) -> Body:
        """A copy of this body standing in another pose (same shape, same rest pose)."""
        return dataclasses.replace(self, vertices=vertices, joints=joints, pose=pose)
