"""SMPL-X behind bodyfit's backend API, from the user's own licensed model files.

SMPL-X is metres, y-up, facing +z; we rotate it once here to z-up facing -y (left stays +x)
and put the feet on z = 0. Its rest pose is a T-pose; our canonical pose lowers the arms to the
same A-pose as anny so that garments are placed and draped alike.
"""

from __future__ import annotations

import contextlib
import functools
import io
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tryon3d.bodyfit._body import REGION_NAMES, BodyModelName, Sex
from tryon3d.bodyfit._safe_load import read_npz_safely, read_pickle_safely
from tryon3d.bodyfit._skeleton import canonical_skeleton
from tryon3d.bodyfit._tape import TapeTopology, build_tape_topology

SMPLX_DOWNLOAD_HINT = (
    "download SMPL-X (SMPLX_NEUTRAL.npz, SMPLX_MALE.npz, SMPLX_FEMALE.npz) from "
    "https://smpl-x.is.tue.mpg.de after accepting its licence, then pass --smplx-model-dir "
    "or set TRYON3D_SMPLX_DIR"
)
BETA_COUNT = 10  # betas of a file with SMPL-X 1.0's 10 shape components (smplx reads no more)
#: Betas fitted from a file with SMPL-X 1.1's 300 shape (and 100 expression) components: the
#: first principal components carry most of the shape, and each beta costs the fit one tape
#: reading per step.
MAX_BETA_COUNT = 16
_FULL_COMPONENTS = 400  # smplx reads a file with fewer as 10 shape + 10 expression components
_BETA_BOUND = 4.0
# SMPL-X (y-up, +z forward) to engine (z-up, -y forward): (x, y, z) -> (x, -z, y).
_SMPLX_TO_ENGINE = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
#: The turn from SMPL-X's frame (y-up, facing +z) into ours (z-up, facing -y); apply as
#: ``points @ SMPLX_TO_ENGINE.T``.
SMPLX_TO_ENGINE = _SMPLX_TO_ENGINE
_ARM_DOWN_RAD = 0.75  # lowers the T-pose arms to the canonical A-pose (about 43 degrees)
_LEFT_SHOULDER, _RIGHT_SHOULDER = 16, 17

_FINGERS = ("index", "middle", "pinky", "ring", "thumb")
JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "jaw", "left_eye", "right_eye",
    *(f"left_{finger}{i}" for finger in _FINGERS for i in (1, 2, 3)),
    *(f"right_{finger}{i}" for finger in _FINGERS for i in (1, 2, 3)),
)  # fmt: skip

_JOINT_REGION = {
    **dict.fromkeys((0, 3, 6, 9, 13, 14), "torso"),
    12: "neck",
    **dict.fromkeys((15, 22, 23, 24), "head"),
    16: "arm_left", 18: "arm_left", 17: "arm_right", 19: "arm_right",
    **dict.fromkeys((20, *range(25, 40)), "hand_left"),
    **dict.fromkeys((21, *range(40, 55)), "hand_right"),
    1: "leg_left", 4: "leg_left", 2: "leg_right", 5: "leg_right",
    7: "foot_left", 10: "foot_left", 8: "foot_right", 11: "foot_right",
}  # fmt: skip


def _model_file(folder: Path, sex: str) -> Path | None:
    for name in (f"SMPLX_{sex.upper()}", "SMPLX_NEUTRAL"):
        for suffix in (".npz", ".pkl"):
            for candidate in (folder / (name + suffix), folder / "smplx" / (name + suffix)):
                if candidate.is_file():
                    return candidate
    return None


# name -> (number of dimensions, dtype kind) each SMPL-X array needs; sizes are cross-checked.
_REQUIRED_ARRAYS = {
    "v_template": (2, "f"), "f": (2, "iu"), "shapedirs": (3, "f"), "posedirs": (3, "f"),
    "J_regressor": (2, "f"), "weights": (2, "f"), "kintree_table": (2, "iu"),
    "hands_componentsl": (2, "f"), "hands_componentsr": (2, "f"),
    "hands_meanl": (1, "f"), "hands_meanr": (1, "f"),
    "lmk_faces_idx": (1, "iu"), "lmk_bary_coords": (2, "f"),
}  # fmt: skip


def _read_model_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of one SMPL-X file, read without unpickling code and checked for shape.

    Raises:
        ValueError: damaged, hostile or wrong-shaped file, naming it and what is wrong.
    """
    if path.suffix == ".pkl":
        content = read_pickle_safely(path)
        if not isinstance(content, dict):
            raise ValueError(
                f"SMPL-X file {str(path)!r} holds a {type(content).__name__}, not a dict of arrays"
            )
        arrays = {str(k): np.asarray(v) for k, v in content.items()}
    else:
        arrays = read_npz_safely(path)
    label = f"SMPL-X file {str(path)!r}"
    for name, (ndim, kinds) in _REQUIRED_ARRAYS.items():
        if name not in arrays:
            raise ValueError(f"{label} lacks the array {name!r}")
        array = arrays[name]
        if (
            array.ndim != ndim
            or array.dtype.kind not in kinds + "f" * (kinds == "iu")
            or array.size == 0
        ):
            raise ValueError(
                f"{label}: {name!r} has shape {array.shape} and dtype {array.dtype}, "
                f"expected {ndim} dimensions of numbers"
            )
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError(f"{label}: {name!r} holds NaN or infinite values")
    vertex_count = len(arrays["v_template"])
    joint_count = arrays["kintree_table"].shape[1]
    checks = (
        ("v_template", arrays["v_template"].shape[1] == 3),
        (
            "f",
            arrays["f"].shape[1] == 3
            and arrays["f"].min() >= 0
            and arrays["f"].max() < vertex_count,
        ),
        ("shapedirs", arrays["shapedirs"].shape[:2] == (vertex_count, 3)),
        (
            "posedirs",
            arrays["posedirs"].shape[:2] == (vertex_count, 3)
            and arrays["posedirs"].shape[2] == 9 * (joint_count - 1),
        ),
        ("J_regressor", arrays["J_regressor"].shape == (joint_count, vertex_count)),
        ("weights", arrays["weights"].shape == (vertex_count, joint_count)),
        (
            "kintree_table",
            arrays["kintree_table"].shape[0] == 2 and joint_count == len(JOINT_NAMES),
        ),
        (
            "lmk_faces_idx",
            arrays["lmk_faces_idx"].min() >= 0 and arrays["lmk_faces_idx"].max() < len(arrays["f"]),
        ),
    )
    for name, ok in checks:
        if not ok:
            raise ValueError(
                f"{label}: {name!r} has the wrong shape {arrays[name].shape} for "
                f"{vertex_count} vertices and {joint_count} joints"
            )
    return arrays


class _NumpyGivingArrays:
    """Stands in for numpy inside ``smplx.body_models`` while a layer is built: its ``load``
    hands over arrays we already read safely, so smplx never opens the user's file itself."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self._arrays = arrays

    def load(self, *_args, **_kwargs) -> dict[str, np.ndarray]:
        return dict(self._arrays)

    def __getattr__(self, name: str):
        return getattr(np, name)


_SMPLX_PATCH_LOCK = threading.Lock()


def beta_count(shapedirs: np.ndarray) -> int:
    """How many betas a file's ``shapedirs`` (V, 3, K) offers the fit."""
    return MAX_BETA_COUNT if shapedirs.shape[2] >= _FULL_COMPONENTS else BETA_COUNT


def _build_layer(path: Path, arrays: dict[str, np.ndarray], sex: str, betas: int):
    import smplx
    import smplx.body_models as body_models

    with _SMPLX_PATCH_LOCK:
        real = body_models.np
        body_models.np = _NumpyGivingArrays(arrays)
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # smplx prints warnings
                return smplx.SMPLX(
                    str(path),
                    gender=sex,
                    ext="npz",
                    num_betas=betas,
                    use_pca=False,
                    flat_hand_mean=True,
                )
        finally:
            body_models.np = real


def _cylindrical_uv(vertices: np.ndarray) -> np.ndarray:
    """Fallback UVs (V, 2) when the model file has none: angle around the body and height."""
    centred = vertices - vertices.mean(axis=0)
    u = (np.arctan2(centred[:, 0], -centred[:, 1]) / (2 * np.pi)) + 0.5
    height = vertices[:, 2]
    v = (height - height.min()) / max(np.ptp(height), 1e-9)
    return np.stack([u, v], axis=1).astype(np.float32)


@dataclass(frozen=True, eq=False)
class SMPLXModel:
    """Loaded SMPL-X layers (one per sex file found) and fixed mesh data; see ``AnnyModel``."""

    layers: dict
    faces: np.ndarray
    uv: np.ndarray
    uv_faces: np.ndarray
    vertex_regions: np.ndarray
    joint_names: tuple[str, ...]
    joint_parents: np.ndarray
    parameter_names: tuple[str, ...]
    parameter_bounds: np.ndarray
    tape_topology: TapeTopology
    name: BodyModelName = "smplx"

    @property
    def joint_regressor(self) -> np.ndarray:
        """(J, V) weights giving the joints from the vertices (rows sum to 1), float32."""
        return self.layers["neutral"].J_regressor.numpy()

    def initial_parameters(
        self, *, height_m: float, bmi: float, sex: Sex | None = None
    ) -> np.ndarray:
        return np.full(len(self.parameter_names), 0.01)

    def rest_geometry(
        self, parameters: np.ndarray, *, sex: Sex, age_years: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Canonical A-pose vertices (B, V, 3) and joints (B, 55, 3) [m], z-up, feet on z = 0."""
        import torch

        layer = self.layers.get(sex) or self.layers["neutral"]
        betas = torch.as_tensor(np.atleast_2d(parameters), dtype=torch.float32)
        batch = len(betas)
        if betas.shape[1] < layer.num_betas:  # this sex's file has more: they stay 0
            betas = torch.cat([betas, torch.zeros((batch, layer.num_betas - betas.shape[1]))], 1)
        body_pose = torch.zeros((batch, 21 * 3))
        body_pose[:, (_LEFT_SHOULDER - 1) * 3 + 2] = -_ARM_DOWN_RAD
        body_pose[:, (_RIGHT_SHOULDER - 1) * 3 + 2] = _ARM_DOWN_RAD
        zeros = {
            name: torch.zeros((batch, size))
            for name, size in (
                ("global_orient", 3), ("jaw_pose", 3), ("leye_pose", 3), ("reye_pose", 3),
                ("left_hand_pose", 45), ("right_hand_pose", 45),
                ("expression", layer.num_expression_coeffs),
            )
        }  # fmt: skip
        with torch.no_grad():
            output = layer(betas=betas, body_pose=body_pose, return_verts=True, **zeros)
        vertices = output.vertices.double().numpy() @ _SMPLX_TO_ENGINE.T
        joints = output.joints[:, : len(JOINT_NAMES)].double().numpy() @ _SMPLX_TO_ENGINE.T
        floor = vertices[:, :, 2].min(axis=1)
        vertices[:, :, 2] -= floor[:, None]
        joints[:, :, 2] -= floor[:, None]
        return vertices, joints

    def skeleton(self, joints: np.ndarray) -> dict[str, np.ndarray]:
        return canonical_skeleton("smplx", JOINT_NAMES, joints)

    def shape_parameters(
        self, parameters: np.ndarray, *, sex: Sex, age_years: float
    ) -> dict[str, float]:
        return dict(zip(self.parameter_names, map(float, parameters), strict=True))


@functools.lru_cache(maxsize=2)
def load_smplx_model(folder: Path | None) -> SMPLXModel:
    """Load SMPL-X from ``folder`` (files ``SMPLX_{NEUTRAL,MALE,FEMALE}.npz``, optionally in
    smplx/).

    Raises:
        ValueError: no folder given, or no SMPL-X file in it (says where to get them).
    """
    if folder is None:
        raise ValueError(f"the SMPL-X model needs its model files: {SMPLX_DOWNLOAD_HINT}")
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ValueError(
            f"SMPL-X model folder {str(folder)!r} does not exist: {SMPLX_DOWNLOAD_HINT}"
        )
    layers = {}
    first_arrays: dict[str, np.ndarray] | None = None
    for sex in ("neutral", "male", "female"):
        path = _model_file(folder, sex)
        if path is None or (sex != "neutral" and path.stem == "SMPLX_NEUTRAL"):
            continue
        arrays = _read_model_arrays(path)
        first_arrays = first_arrays if first_arrays is not None else arrays
        try:
            layers[sex] = _build_layer(path, arrays, sex, beta_count(arrays["shapedirs"]))
        except (
            KeyError,
            ValueError,
            OSError,
            AssertionError,
            AttributeError,
            IndexError,
            RuntimeError,
            TypeError,
        ) as exc:
            raise ValueError(
                f"cannot read SMPL-X file {str(path)!r}: {type(exc).__name__}: {exc}"
            ) from None
    if not layers:
        raise ValueError(f"no SMPLX_*.npz (or .pkl) file in {str(folder)!r}: {SMPLX_DOWNLOAD_HINT}")
    if "neutral" not in layers:
        layers["neutral"] = next(iter(layers.values()))
    # One set of parameter names for every sex's file: the betas all of them offer (a file
    # with more gets zeros for the rest, see ``rest_geometry``).
    betas = min(layer.num_betas for layer in layers.values())
    layer = layers["neutral"]
    faces = np.asarray(layer.faces, dtype=np.int64)
    weights = layer.lbs_weights.numpy()
    dominant = weights.argmax(axis=1)
    regions = np.array(
        [REGION_NAMES.index(_JOINT_REGION.get(int(j), "torso")) for j in dominant], dtype=np.int8
    )
    parents = layer.parents.numpy().astype(np.int64)[: len(JOINT_NAMES)]
    parents[0] = -1
    template = layer.v_template.double().numpy() @ _SMPLX_TO_ENGINE.T
    # set with the first layer, and a folder without layers was refused above
    data = first_arrays if first_arrays is not None else {}
    vt, ft = data.get("vt"), data.get("ft")
    if (
        vt is not None
        and ft is not None
        and vt.ndim == 2
        and vt.shape[1] == 2
        and ft.shape == faces.shape
    ):
        uv, uv_faces = np.asarray(vt, dtype=np.float32), np.asarray(ft, dtype=np.int64)
    else:
        uv, uv_faces = _cylindrical_uv(template), faces
    return SMPLXModel(
        layers=layers,
        faces=faces,
        uv=uv,
        uv_faces=uv_faces,
        vertex_regions=regions,
        joint_names=JOINT_NAMES,
        joint_parents=parents,
        parameter_names=tuple(f"beta_{i}" for i in range(betas)),
        parameter_bounds=np.array([[-_BETA_BOUND, _BETA_BOUND]] * betas),
        tape_topology=build_tape_topology(faces, regions, template),
    )
