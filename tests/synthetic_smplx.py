"""A synthetic SMPL-X model file for tests (the real one is licence-gated).

Built from an anny body converted to SMPL-X's frame (y-up, facing +z): 55 joints placed at
the matching anny bone heads, its arms raised to a T-pose as SMPL-X's template stands (the
canonical A-pose lowers them again), skinning weights one-hot from anny's dominant bones, and ten
shape directions: beta_0 scales the body about its feet (stature), beta_1 widens it horizontally
(girths and mass), and beta_2-beta_9 are anny's own local changes (bust, waist, hips, thigh,
upper arm, neck, calf, leg length) taken as linear blend shapes, so that girths can change apart
from each other as they do along a real SMPL-X's betas. Like SMPL-X's principal components,
beta_1-beta_9 mix those directions (a fixed orthogonal mix): no beta is one girth's slider.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# SMPL-X joint -> anny bone whose head stands in for it.
_ANNY_BONE_FOR_JOINT = [
    "root", "upperleg01.L", "upperleg01.R", "spine04", "lowerleg01.L", "lowerleg01.R", "spine03",
    "foot.L", "foot.R", "spine02", "toe1-1.L", "toe1-1.R", "neck01", "clavicle.L", "clavicle.R",
    "head", "upperarm01.L", "upperarm01.R", "lowerarm01.L", "lowerarm01.R", "wrist.L", "wrist.R",
    "head", "eye.L", "eye.R",
    *(f"finger{f}-{i}.L" for f in (2, 3, 5, 4, 1) for i in (1, 2, 3)),
    *(f"finger{f}-{i}.R" for f in (2, 3, 5, 4, 1) for i in (1, 2, 3)),
]  # fmt: skip
_PARENTS = [
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15,
    20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38,
    21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53,
]  # fmt: skip
_ENGINE_TO_SMPLX = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
SCALE_PER_BETA = 0.05
WIDTH_PER_BETA = 0.05
# anny's local change -> its amount per beta: about 3-5 cm of the girth (or length) it changes.
LOCAL_SHAPES = {
    "measure-bust-circ-incr": 0.25,
    "measure-waist-circ-incr": 0.4,
    "measure-hips-circ-incr": 0.25,
    "measure-thigh-circ-incr": 0.8,
    "measure-upperarm-circ-incr": 0.4,
    "measure-neck-circ-incr": 0.5,
    "measure-calf-circ-incr": 0.3,
    "measure-upperleg-height-incr": 0.3,
}
# ... and beta_10-beta_15 of a file in SMPL-X 1.1's layout (300 shape components): the rest of
# anny's local changes, smaller (as later principal components are).
FURTHER_SHAPES = {
    "measure-upperarm-length-incr": 0.3,
    "measure-lowerarm-length-incr": 0.3,
    "measure-lowerleg-height-incr": 0.3,
    "measure-knee-circ-incr": 0.3,
    "measure-wrist-circ-incr": 0.5,
    "measure-ankle-circ-incr": 0.5,
}


def _t_pose(anny, parameters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """anny's bodies (B, P) with the arms raised from its A-pose by the angle the SMPL-X backend
    lowers them: vertices (B, V, 3) and bone heads (B, J, 3) [m], our frame."""
    from tryon3d.bodyfit._anny_pose import pose_anny_vertices
    from tryon3d.bodyfit._smplx_model import _ARM_DOWN_RAD

    vertices, joints = anny.rest_geometry(parameters, sex="female", age_years=30.0)
    names = list(anny.joint_names)
    pose = np.zeros((len(names), 3))
    pose[names.index("upperarm01.L")] = (0.0, -_ARM_DOWN_RAD, 0.0)
    pose[names.index("upperarm01.R")] = (0.0, _ARM_DOWN_RAD, 0.0)
    posed = [pose_anny_vertices(anny, v, j, pose) for v, j in zip(vertices, joints, strict=True)]
    return np.stack([v for v, _ in posed]), np.stack([j for _, j in posed])


def write_synthetic_smplx(
    folder: Path, *, local_shapes: bool = True, full_components: bool = False
) -> Path:
    """Write ``folder/SMPLX_NEUTRAL.npz`` and return its path.

    Args:
        folder: where to write.
        local_shapes: with anny's local changes as beta_2-beta_9 (mixed with the width); without
            them the model only scales and widens (a shape space too poor for many targets).
        full_components: in SMPL-X 1.1's layout, 300 shape and 100 expression components
            (16 of them betas the fit uses, see ``bodyfit._smplx_model.MAX_BETA_COUNT``), with
            ``FURTHER_SHAPES`` as beta_10-beta_15; else SMPL-X 1.0's 10 and 10.
    """
    from tryon3d.bodyfit._anny_model import load_anny_model

    anny = load_anny_model()
    # A fixed mid-range anny body (no local changes), not the fit's start table: the synthetic
    # model must not change when that table is regenerated.
    phenotypes = {"muscle": 0.5, "weight": 0.45, "height": 0.4, "proportions": 0.5}
    start = np.array([phenotypes.get(name, 0.0) for name in anny.parameter_names])
    vertices, joints = _t_pose(anny, start[None])
    vertices = vertices[0] @ _ENGINE_TO_SMPLX.T
    bone_heads = joints[0] @ _ENGINE_TO_SMPLX.T
    joint_index = {name: i for i, name in enumerate(anny.joint_names)}
    joint_positions = np.stack([bone_heads[joint_index[name]] for name in _ANNY_BONE_FOR_JOINT])
    vertex_count = len(vertices)
    # Each joint regresses from the 12 vertices nearest to where it should be.
    regressor = np.zeros((55, vertex_count))
    for j, position in enumerate(joint_positions):
        nearest = np.argsort(np.linalg.norm(vertices - position, axis=1))[:12]
        regressor[j, nearest] = 1.0 / 12
    # Put the regressed joints exactly where the anny bones are by shifting nothing: the mean of
    # nearby surface points sits near the bone, close enough for a test model.
    bone_to_joint = {}
    for j, name in enumerate(_ANNY_BONE_FOR_JOINT):
        bone_to_joint.setdefault(joint_index[name], j)
    dominant = anny.module.vertex_bone_indices.numpy()[
        np.arange(vertex_count), anny.module.vertex_bone_weights.numpy().argmax(axis=1)
    ]
    weights = np.zeros((vertex_count, 55))
    for v, bone in enumerate(dominant):
        b = int(bone)
        while b not in bone_to_joint and b >= 0:
            b = int(anny.joint_parents[b])
        weights[v, bone_to_joint.get(b, 0)] = 1.0
    feet = vertices[:, 1].min()
    centre = np.array([0.0, feet, vertices[:, 2].mean()])
    shapedirs = np.zeros((vertex_count, 3, 400 if full_components else 20), dtype=np.float32)
    shapedirs[:, :, 0] = SCALE_PER_BETA * (vertices - centre)
    horizontal = vertices - vertices.mean(axis=0)
    horizontal[:, 1] = 0.0
    shapedirs[:, :, 1] = WIDTH_PER_BETA * horizontal
    if local_shapes:
        names = list(anny.parameter_names)
        changes = {**LOCAL_SHAPES, **(FURTHER_SHAPES if full_components else {})}
        probes = np.repeat(start[None], len(changes), axis=0)
        for row, (name, amount) in enumerate(changes.items()):
            probes[row, names.index(name)] += amount
        changed, _ = _t_pose(anny, probes)
        for row, shape in enumerate(changed):
            shapedirs[:, :, 2 + row] = (shape @ _ENGINE_TO_SMPLX.T) - vertices
        # A fixed orthogonal mix of beta_1-beta_9, as principal components mix a body's changes.
        mix, _ = np.linalg.qr(np.random.default_rng(7).normal(size=(9, 9)))
        shapedirs[:, :, 1:10] = shapedirs[:, :, 1:10] @ mix
    rng = np.random.default_rng(0)
    face_count = len(anny.faces)
    path = Path(folder) / "SMPLX_NEUTRAL.npz"
    np.savez_compressed(
        path,
        v_template=vertices.astype(np.float32),
        f=anny.faces.astype(np.int32),
        shapedirs=shapedirs,
        posedirs=np.zeros((vertex_count, 3, 486), dtype=np.float32),
        J_regressor=regressor.astype(np.float32),
        weights=weights.astype(np.float32),
        kintree_table=np.stack([np.array(_PARENTS) % (2**32), np.arange(55)]).astype(np.int64),
        hands_componentsl=np.eye(45, dtype=np.float32),
        hands_componentsr=np.eye(45, dtype=np.float32),
        hands_meanl=np.zeros(45, dtype=np.float32),
        hands_meanr=np.zeros(45, dtype=np.float32),
        lmk_faces_idx=rng.integers(0, face_count, 51).astype(np.int64),
        lmk_bary_coords=np.full((51, 3), 1.0 / 3, dtype=np.float32),
    )
    return path
