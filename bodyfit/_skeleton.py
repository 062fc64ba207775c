"""The canonical skeleton: one set of joint names for every body backend.

Later stages read ``Body.skeleton_m`` by these names; the backends' own joint names (anny bone
heads such as ``upperarm01.L``, SMPL-X joints such as ``left_shoulder``) stay in bodyfit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: Canonical joint names of ``Body.skeleton_m``, root first.
SKELETON_NAMES: tuple[str, ...] = (
    "pelvis", "spine", "chest", "neck", "head",
    "shoulder_left", "elbow_left", "wrist_left",
    "shoulder_right", "elbow_right", "wrist_right",
    "hip_left", "knee_left", "ankle_left",
    "hip_right", "knee_right", "ankle_right",
)  # fmt: skip

#: Each backend's joint for a canonical name: anny's bone heads (MakeHuman's default rig,
#: spine05 lowest, spine01 highest) and SMPL-X's joints. ``spine`` is the mid back, ``chest``
#: the top of the thoracic spine; the others are the joint centres their names say.
BACKEND_JOINTS: dict[str, dict[str, str]] = {
    "anny": {
        "pelvis": "root", "spine": "spine03", "chest": "spine02", "neck": "neck01", "head": "head",
        "shoulder_left": "upperarm01.L", "elbow_left": "lowerarm01.L", "wrist_left": "wrist.L",
        "shoulder_right": "upperarm01.R", "elbow_right": "lowerarm01.R", "wrist_right": "wrist.R",
        "hip_left": "upperleg01.L", "knee_left": "lowerleg01.L", "ankle_left": "foot.L",
        "hip_right": "upperleg01.R", "knee_right": "lowerleg01.R", "ankle_right": "foot.R",
    },
    "smplx": {
        "pelvis": "pelvis", "spine": "spine2", "chest": "spine3", "neck": "neck", "head": "head",
        "shoulder_left": "left_shoulder", "elbow_left": "left_elbow", "wrist_left": "left_wrist",
        "shoulder_right": "right_shoulder", "elbow_right": "right_elbow",
        "wrist_right": "right_wrist",
        "hip_left": "left_hip", "knee_left": "left_knee", "ankle_left": "left_ankle",
        "hip_right": "right_hip", "knee_right": "right_knee", "ankle_right": "right_ankle",
    },
}  # fmt: skip


def canonical_skeleton(
    model: str, joint_names: Sequence[str], joints: np.ndarray
) -> dict[str, np.ndarray]:
    """The canonical skeleton of a backend's joints.

    Args:
        model: body model name, a key of ``BACKEND_JOINTS`` (others give an empty skeleton).
        joint_names: the backend's J joint names.
        joints: joint positions [m], shape (J, 3).

    Returns:
        Canonical name -> position [m], shape (3,) (the dtype of ``joints``), in
        ``SKELETON_NAMES`` order, for the names whose backend joint is present.
    """
    table = BACKEND_JOINTS.get(model, {})
    index = {name: i for i, name in enumerate(joint_names)}
    joints = np.asarray(joints)  # keep the dtype: the tape measures with the backend's precision
    return {
        name: joints[index[table[name]]].copy()
        for name in SKELETON_NAMES
        if table.get(name) in index
    }


def check_skeleton(skeleton: Mapping[str, object]) -> dict[str, np.ndarray]:
    """Read-only (3,) float64 copies of a skeleton's points.

    Raises:
        ValueError: a name is not in ``SKELETON_NAMES`` or a point is not 3 finite numbers.
    """
    out = {}
    for name, point in skeleton.items():
        if name not in SKELETON_NAMES:
            raise ValueError(
                f"Body.skeleton_m: unknown joint {name!r}; expected names in {SKELETON_NAMES}"
            )
        array = np.array(point, dtype=np.float64)
        if array.shape != (3,) or not np.all(np.isfinite(array)):
            raise ValueError(
                f"Body.skeleton_m[{name!r}] must be 3 finite numbers [m], got shape {array.shape}"
            )
        array.setflags(write=False)
        out[name] = array
    return out
