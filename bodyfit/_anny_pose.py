"""Differentiable anny in torch: shape sliders -> canonical mesh -> posed mesh.

The pose convention (``Body.pose``) is ours, not anny's "local-ref": each bone turns by an
axis-angle rotation about its own rest head, with the axis given in the canonical (world) frame,
and the turns compose down the bone chain (a child is carried by its parents). All zeros is the
canonical A-pose. Skinning is anny's sparse linear blend skinning weights. The posed mesh is
moved vertically so that its lowest vertex is on z = 0 (feet on the floor).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tryon3d.bodyfit._anny_model import _LOCAL_CHANGES, AnnyModel, anny_age_value
from tryon3d.bodyfit._body import Sex

if TYPE_CHECKING:
    import torch

__all__ = [
    "AnnyTorch",
    "PoseRig",
    "anny_torch",
    "axis_angle_to_matrix",
    "pose_anny_vertices",
    "pose_rig",
]


def axis_angle_to_matrix(rotvec):
    """Rotation matrices (..., 3, 3) from axis-angle vectors (..., 3) [rad] (Rodrigues, torch)."""
    import torch

    angle = torch.sqrt((rotvec * rotvec).sum(-1, keepdim=True) + 1e-16)
    axis = rotvec / angle
    x, y, z = axis.unbind(-1)
    zero = torch.zeros_like(x)
    k = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).reshape(
        *rotvec.shape[:-1], 3, 3
    )
    s = torch.sin(angle)[..., None]
    c = torch.cos(angle)[..., None]
    eye = torch.eye(3, dtype=rotvec.dtype, device=rotvec.device).expand_as(k)
    return eye + s * k + (1.0 - c) * (k @ k)


@dataclass(frozen=True, eq=False)
class AnnyTorch:
    """Torch tensors of an AnnyModel for differentiable fitting (float32 or float64, CPU).

    Attributes:
        model: the numpy-side AnnyModel.
        vertex_template: (V, 3) template vertices [m].
        vertex_shapes: (K, V, 3) used blendshapes.
        joint_template: (J, 3) template bone heads [m].
        joint_shapes: (K, J, 3) their blendshapes.
        skin_weights: (V, I) linear blend skinning weights.
        skin_indices: (V, I) bone index per weight.
        parents: J parent indices (-1 for the root), parents before children.
    """

    model: AnnyModel
    vertex_template: torch.Tensor
    vertex_shapes: torch.Tensor
    joint_template: torch.Tensor
    joint_shapes: torch.Tensor
    skin_weights: torch.Tensor
    skin_indices: torch.Tensor
    parents: tuple[int, ...]
    dtype: torch.dtype

    def coefficients(self, parameters, *, sex: Sex, age_years: float):
        """Used-blendshape coefficients (K,) for the (P,) parameter tensor (differentiable)."""
        import torch

        module = self.model.module
        names = self.model.parameter_names
        fixed = {"gender": 0.0 if sex == "male" else 1.0, "age": anny_age_value(age_years)}
        params = parameters.to(torch.float64)
        phenotype = []
        for label in module.phenotype_labels:
            if label in names:
                phenotype.append(params[names.index(label)])
            else:
                phenotype.append(torch.tensor(fixed.get(label, 0.5), dtype=torch.float64))
        local = [torch.zeros((), dtype=torch.float64)] * len(module.local_change_labels)
        for label in _LOCAL_CHANGES:
            local[module.local_change_labels.index(label)] = params[names.index(label)]
        coefficients = module._get_phenotype_blendshape_coefficients(
            torch.stack(phenotype)[None],
            torch.stack(local)[None],
            torch.zeros((1, len(module.facial_action_labels)), dtype=torch.float64),
        )[0]
        return coefficients[torch.as_tensor(self.model.used_columns)].to(self.dtype)

    def rest(self, parameters, *, sex: Sex, age_years: float):
        """Canonical vertices (V, 3) and joints (J, 3) [m], feet on z = 0, as torch tensors."""
        import torch

        c = self.coefficients(parameters, sex=sex, age_years=age_years)
        vertices = self.vertex_template + torch.einsum("k,kvd->vd", c, self.vertex_shapes)
        joints = self.joint_template + torch.einsum("k,kjd->jd", c, self.joint_shapes)
        floor = vertices[:, 2].min()
        shift = torch.stack([torch.zeros_like(floor), torch.zeros_like(floor), floor])
        return vertices - shift, joints - shift

    def bone_transforms(self, rest_joints, pose):
        """World transforms (J, 3, 4) of the bones for ``pose`` (J, 3) axis-angle [rad]."""
        import torch

        rotations = axis_angle_to_matrix(pose)
        local_t = rest_joints - torch.einsum("jab,jb->ja", rotations, rest_joints)
        world_r: list = [None] * len(self.parents)
        world_t: list = [None] * len(self.parents)
        for j, p in enumerate(self.parents):
            if p < 0:
                world_r[j], world_t[j] = rotations[j], local_t[j]
            else:
                world_r[j] = world_r[p] @ rotations[j]
                world_t[j] = world_r[p] @ local_t[j] + world_t[p]
        return torch.cat([torch.stack(world_r), torch.stack(world_t)[:, :, None]], dim=2)

    def posed(self, rest_vertices, rest_joints, pose, *, floor: bool = True):
        """Posed vertices (V, 3) and joints (J, 3) [m] for ``pose`` (J, 3) [rad].

        With ``floor`` the result is shifted vertically so its lowest vertex is on z = 0.
        """
        import torch

        transforms = self.bone_transforms(rest_joints, pose)  # (J, 3, 4)
        blended = torch.einsum("vi,viab->vab", self.skin_weights, transforms[self.skin_indices])
        vertices = torch.einsum("vab,vb->va", blended[:, :, :3], rest_vertices) + blended[:, :, 3]
        joints = torch.einsum("jab,jb->ja", transforms[:, :, :3], rest_joints) + transforms[:, :, 3]
        if floor:
            low = vertices[:, 2].min()
            shift = torch.stack([torch.zeros_like(low), torch.zeros_like(low), low])
            vertices, joints = vertices - shift, joints - shift
        return vertices, joints


@dataclass(frozen=True, eq=False)
class PoseRig:
    """A reduced skeleton for fitting: only ``bones`` turn; every other bone follows its
    nearest turning ancestor (what a zero rotation does), so skinning is one dense matmul.

    Attributes:
        bones: (G,) anny bone index of each group; group 0 is the root bone.
        group_parents: (G,) parent group (-1 for the root).
        bone_group: (J,) group that carries each anny bone.
        weights: (V, G) skinning weights summed per group (torch).
    """

    bones: tuple[int, ...]
    group_parents: tuple[int, ...]
    bone_group: np.ndarray
    weights: torch.Tensor

    def transforms(self, rest_joints, pose):
        """World transforms (G, 3, 4) for group rotations ``pose`` (G, 3) [rad]."""
        import torch

        heads = rest_joints[list(self.bones)]
        rotations = axis_angle_to_matrix(pose)
        local_t = heads - torch.einsum("gab,gb->ga", rotations, heads)
        world_r: list = []
        world_t: list = []
        for g, p in enumerate(self.group_parents):
            if p < 0:
                world_r.append(rotations[g])
                world_t.append(local_t[g])
            else:
                world_r.append(world_r[p] @ rotations[g])
                world_t.append(world_r[p] @ local_t[g] + world_t[p])
        return torch.cat([torch.stack(world_r), torch.stack(world_t)[:, :, None]], dim=2)

    def posed(self, rest_vertices, rest_joints, pose, *, vertex_ids=None):
        """Posed vertices (N, 3) (``vertex_ids`` subset or all) and joints (J, 3) [m]; no floor
        shift."""
        import torch

        transforms = self.transforms(rest_joints, pose)
        weights = self.weights if vertex_ids is None else self.weights[vertex_ids]
        blended = (weights @ transforms.reshape(len(self.bones), 12)).reshape(-1, 3, 4)
        vertices = torch.einsum("vab,vb->va", blended[:, :, :3], rest_vertices) + blended[:, :, 3]
        carried = transforms[torch.as_tensor(self.bone_group)]
        joints = torch.einsum("jab,jb->ja", carried[:, :, :3], rest_joints) + carried[:, :, 3]
        return vertices, joints

    def full_pose(self, pose):
        """The (J, 3) ``Body.pose`` for group rotations (G, 3) (numpy)."""
        pose = np.asarray(pose, dtype=np.float64)
        full = np.zeros((len(self.bone_group), 3))
        full[list(self.bones)] = pose
        return full


def pose_rig(torch_model: AnnyTorch, bone_names: tuple[str, ...]) -> PoseRig:
    """A PoseRig turning ``bone_names`` (the root is always group 0)."""
    import torch

    names = torch_model.model.joint_names
    unknown = [n for n in bone_names if n not in names]
    if unknown:
        raise ValueError(f"unknown anny bones {unknown}")
    chosen = sorted({0, *(names.index(n) for n in bone_names)})
    group_of = {b: g for g, b in enumerate(chosen)}
    bone_group = np.zeros(len(names), dtype=np.int64)
    for j, p in enumerate(torch_model.parents):
        bone_group[j] = group_of[j] if j in group_of else bone_group[p]
    group_parents = tuple(-1 if b == 0 else int(bone_group[torch_model.parents[b]]) for b in chosen)
    indices = torch_model.skin_indices
    groups = torch.as_tensor(bone_group)[indices]
    weights = torch.zeros((len(indices), len(chosen)), dtype=torch_model.dtype)
    weights.scatter_add_(1, groups, torch_model.skin_weights)
    return PoseRig(
        bones=tuple(chosen), group_parents=group_parents, bone_group=bone_group, weights=weights
    )


@functools.lru_cache(maxsize=2)
def anny_torch(model: AnnyModel, dtype_name: str = "float32") -> AnnyTorch:
    """The torch view of ``model`` (cached per model and dtype)."""
    import torch

    dtype = getattr(torch, dtype_name)
    vertex_count = len(model.vertex_template) // 3
    joint_count = len(model.joint_template) // 3
    module = model.module
    weights = module.vertex_bone_weights.detach().to(dtype)
    weights = weights / weights.sum(dim=1, keepdim=True).clamp_min(1e-12)
    parents = tuple(int(p) for p in model.joint_parents)
    if any(p >= j for j, p in enumerate(parents)):
        raise RuntimeError("anny bones are not ordered parents-first")
    return AnnyTorch(
        model=model,
        vertex_template=torch.as_tensor(
            model.vertex_template.reshape(vertex_count, 3), dtype=dtype
        ),
        vertex_shapes=torch.as_tensor(
            model.vertex_shapes.reshape(-1, vertex_count, 3), dtype=dtype
        ),
        joint_template=torch.as_tensor(model.joint_template.reshape(joint_count, 3), dtype=dtype),
        joint_shapes=torch.as_tensor(model.joint_shapes.reshape(-1, joint_count, 3), dtype=dtype),
        skin_weights=weights,
        skin_indices=module.vertex_bone_indices.detach().long(),
        parents=parents,
        dtype=dtype,
    )


def pose_anny_vertices(
    model: AnnyModel, rest_vertices: np.ndarray, rest_joints: np.ndarray, pose: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pose a canonical anny mesh (numpy in, numpy out, float64).

    Args:
        model: the anny model.
        rest_vertices: (V, 3) canonical vertices [m].
        rest_joints: (J, 3) canonical bone heads [m].
        pose: (J, 3) axis-angle per bone [rad], this module's convention.

    Returns:
        Posed vertices (V, 3) and joints (J, 3) [m], lowest vertex on z = 0.
    """
    import torch

    pose = np.asarray(pose, dtype=np.float64)
    joint_count = len(model.joint_names)
    if pose.shape != (joint_count, 3):
        raise ValueError(f"anny pose must have shape ({joint_count}, 3), got {pose.shape}")
    if not np.all(np.isfinite(pose)):
        raise ValueError("anny pose contains NaN or infinity")
    torch_model = anny_torch(model, "float64")
    with torch.no_grad():
        vertices, joints = torch_model.posed(
            torch.tensor(np.asarray(rest_vertices), dtype=torch.float64),
            torch.tensor(np.asarray(rest_joints), dtype=torch.float64),
            torch.tensor(pose),  # a copy: the Body's arrays are read-only
        )
    return vertices.numpy(), joints.numpy()
