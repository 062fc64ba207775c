"""The anny body model (MakeHuman-based, Apache-2.0, ships in its wheel) behind bodyfit's
backend API.

Anny is metres, z-up, facing -y, left at +x already; we only move the feet onto z = 0.
Phenotype sliders are piecewise linear with kinks at 0, 0.5 and 1; ``gender`` 0 is male and 1
female; ``age`` anchors are newborn (-1/3), baby (0), child (1/3), young adult (2/3), old (1).
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from tryon3d.bodyfit._body import REGION_NAMES, BodyModelName, Sex
from tryon3d.bodyfit._cache import anny_cache_dir, configure_caches, drop_damaged_cache_files
from tryon3d.bodyfit._skeleton import canonical_skeleton
from tryon3d.bodyfit._tape import ANNY_TAPE_CALIBRATION, TapeTopology, build_tape_topology
from tryon3d.core import data_file

if TYPE_CHECKING:
    import torch

# (years, anny age value): MakeHuman's age targets are 1, 11, 25 and 90 years old.
_AGE_ANCHORS = ((0.0, -1.0 / 3.0), (1.0, 0.0), (11.0, 1.0 / 3.0), (25.0, 2.0 / 3.0), (90.0, 1.0))
DEFAULT_AGE_YEARS = 30.0

# Local changes the fit may use, each in [-1, 1] (negative = the "decr" target).
_LOCAL_CHANGES = (
    "measure-bust-circ-incr",
    "measure-underbust-circ-incr",
    "measure-waist-circ-incr",
    "measure-hips-circ-incr",
    "measure-neck-circ-incr",
    "measure-thigh-circ-incr",
    "measure-upperarm-circ-incr",
    # The limbs' lower girths, which the whole-body prior targets (appended: the start table's
    # parameters are a prefix of these).
    "measure-calf-circ-incr",
    "measure-knee-circ-incr",
    "measure-ankle-circ-incr",
    "measure-wrist-circ-incr",
    # The limbs' lengths: phenotypes alone tie arm and leg length to stature, and ANSUR's
    # acromion-radiale, radiale-stylion and knee heights vary about it.
    "measure-upperarm-length-incr",
    "measure-lowerarm-length-incr",
    "measure-upperleg-height-incr",
    "measure-lowerleg-height-incr",
)
_FREE_PHENOTYPES = ("muscle", "weight", "height", "proportions")
# Bounds of the fitted sliders. Anny extrapolates its targets linearly past 0 and 1; a modest
# overshoot reaches BMI 40+ and 200 cm bodies without visible artefacts.
_PHENOTYPE_BOUNDS = {
    "muscle": (0.0, 1.0),
    "weight": (-0.3, 2.0),
    "height": (-0.25, 1.3),
    "proportions": (0.0, 1.0),
}
_LOCAL_CHANGE_BOUNDS = (-2.0, 2.0)

# Dominant bone → region. Bones not listed belong to the torso.
_BONE_REGION_PREFIXES = (
    (
        (
            "head",
            "eye",
            "jaw",
            "tongue",
            "special",
            "levator",
            "oris",
            "orbicularis",
            "temporalis",
            "risorius",
        ),
        "head",
    ),
    (("neck",), "neck"),
    (("upperarm", "lowerarm"), "arm"),
    (("wrist", "finger", "metacarpal"), "hand"),
    (("upperleg", "lowerleg"), "leg"),
    (("foot", "toe"), "foot"),
)


log = logging.getLogger("tryon3d")


@functools.lru_cache(maxsize=1)
def _start_table(parameter_names: tuple[str, ...]) -> dict | None:
    """{sex: (heights (H,), bmis (B,), parameters (H, B, P))} from the shipped table, or None."""
    try:
        text = data_file("anny_start_table.json").read_text()
    except (ModuleNotFoundError, FileNotFoundError):
        path = Path(__file__).resolve().parents[1] / "data" / "anny_start_table.json"
        if not path.exists():
            return None
        text = path.read_text()
    content = json.loads(text)
    tabled = tuple(content.get("parameter_names", ()))
    if tabled != parameter_names[: len(tabled)]:
        return None  # made for another parameter set: ignore rather than mis-start
    heights, bmis = np.array(content["heights_m"]), np.array(content["bmis"])
    extra = len(parameter_names) - len(tabled)  # parameters added since: they start at 0

    def padded(grid: list) -> np.ndarray:
        array = np.array(grid)
        return np.concatenate([array, np.zeros((*array.shape[:-1], extra))], axis=-1)

    return {sex: (heights, bmis, padded(grid)) for sex, grid in content["sexes"].items()}


def anny_age_value(age_years: float) -> float:
    """Anny's ``age`` phenotype for an age in years (piecewise linear in MakeHuman's anchors)."""
    years, values = zip(*_AGE_ANCHORS, strict=True)
    return float(np.interp(age_years, years, values))


def _bone_region(label: str) -> str:
    side = "left" if label.endswith(".L") else "right" if label.endswith(".R") else ""
    for prefixes, region in _BONE_REGION_PREFIXES:
        if label.startswith(prefixes):
            return f"{region}_{side}" if region in ("arm", "hand", "leg", "foot") else region
    return "torso"


@dataclass(frozen=True, eq=False)
class AnnyModel:
    """The loaded anny model plus the fixed mesh data bodyfit needs.

    Attributes:
        module: the ``anny.Anny`` torch module (float64, CPU).
        faces: (F, 3) int64 triangles.
        uv: (T, 2) float32 texture coordinates; ``uv_faces`` (F, 3) int64 index them.
        vertex_regions: (V,) int8 region ids.
        joint_names: bone labels (their heads are the joints).
        joint_parents: (J,) int64 parent bone index, -1 for the root.
        parameter_names: names of the fitted parameters, in vector order.
        parameter_bounds: (P, 2) lower/upper bounds.
        used_columns: indices of the blendshapes our parameters can move.
        vertex_template: (V*3,) template vertices [m]; ``vertex_shapes`` (K, V*3) their blendshapes.
        joint_template: (J*3,) template bone heads [m]; ``joint_shapes`` (K, J*3) their blendshapes.
        tape_topology: the tape measure's precomputed region edges for this mesh.
    """

    module: torch.nn.Module  # anny's torch model (untyped package: Any to mypy)
    faces: np.ndarray
    uv: np.ndarray
    uv_faces: np.ndarray
    vertex_regions: np.ndarray
    joint_names: tuple[str, ...]
    joint_parents: np.ndarray
    parameter_names: tuple[str, ...]
    parameter_bounds: np.ndarray
    used_columns: np.ndarray
    vertex_template: np.ndarray
    vertex_shapes: np.ndarray
    joint_template: np.ndarray
    joint_shapes: np.ndarray
    tape_topology: TapeTopology
    name: BodyModelName = "anny"

    def initial_parameters(
        self, *, height_m: float, bmi: float, sex: Sex | None = None
    ) -> np.ndarray:
        """Where the fit starts: the shipped table of earlier fits over stature and BMI
        (``data/anny_start_table.json``) when it matches this model, else a rough guess; both
        away from the sliders' 0.5 kinks."""
        tabled = _start_table(self.parameter_names)
        if tabled is not None and sex in tabled:
            heights, bmis, grid = tabled[sex]
            point = (
                float(np.clip(height_m, heights[0], heights[-1])),
                float(np.clip(bmi, bmis[0], bmis[-1])),
            )
            return RegularGridInterpolator((heights, bmis), grid)(np.array([point]))[0]
        values = {
            "muscle": 0.55,
            "weight": float(np.clip(0.5 + (bmi - 23.0) / 25.0, 0.05, 0.95)) + 0.013,
            "height": float(np.clip(0.5 + (height_m - 1.72) / 0.5, 0.02, 0.98)),
            "proportions": 0.5,
        }
        return np.array([values.get(name, 0.0) for name in self.parameter_names])

    def rest_geometry(
        self, parameters: np.ndarray, *, sex: Sex, age_years: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Canonical-pose vertices and joints for a batch of parameter vectors.

        Args:
            parameters: (B, P) values of ``parameter_names``.
            sex: ``"male"`` or ``"female"``.
            age_years: age [years].

        Returns:
            vertices (B, V, 3) [m] and joints (B, J, 3) [m], feet on z = 0.
        """
        import torch

        module = self.module
        params = np.atleast_2d(np.asarray(parameters, dtype=np.float64))
        batch = len(params)
        phenotype = np.zeros((batch, len(module.phenotype_labels)))
        fixed = {"gender": 0.0 if sex == "male" else 1.0, "age": anny_age_value(age_years)}
        for column, label in enumerate(module.phenotype_labels):
            if label in self.parameter_names:
                phenotype[:, column] = params[:, self.parameter_names.index(label)]
            else:
                phenotype[:, column] = fixed.get(label, 0.5)
        local = np.zeros((batch, len(module.local_change_labels)))
        for label in _LOCAL_CHANGES:
            local[:, module.local_change_labels.index(label)] = params[
                :, self.parameter_names.index(label)
            ]
        with torch.no_grad():
            coefficients = module._get_phenotype_blendshape_coefficients(
                torch.from_numpy(phenotype),
                torch.from_numpy(local),
                torch.zeros((batch, len(module.facial_action_labels)), dtype=torch.float64),
            ).numpy()
        # Only the phenotype basis and our local changes are ever non-zero: blend those alone.
        coefficients = coefficients[:, self.used_columns]
        vertices = (self.vertex_template + coefficients @ self.vertex_shapes).reshape(batch, -1, 3)
        joints = (self.joint_template + coefficients @ self.joint_shapes).reshape(batch, -1, 3)
        floor = vertices[:, :, 2].min(axis=1)
        vertices[:, :, 2] -= floor[:, None]
        joints[:, :, 2] -= floor[:, None]
        return vertices, joints

    def skeleton(self, joints: np.ndarray) -> dict[str, np.ndarray]:
        """The tape measure's skeleton points from (J, 3) joints."""
        return canonical_skeleton("anny", self.joint_names, joints)

    def shape_parameters(
        self, parameters: np.ndarray, *, sex: Sex, age_years: float
    ) -> dict[str, float]:
        """All shape values by name, fixed ones included."""
        values = {"gender": 0.0 if sex == "male" else 1.0, "age": anny_age_value(age_years)}
        values.update(zip(self.parameter_names, map(float, parameters), strict=True))
        return values


@functools.lru_cache(maxsize=1)
def load_anny_model() -> AnnyModel:
    """Load (and on first use build, ~1 min, ~1 GB cache) the anny model with local changes."""
    configure_caches()
    import warnings

    import anny
    import torch

    torch.set_num_threads(max(1, torch.get_num_threads()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            module = anny.Anny(local_changes="default", extrapolate_phenotypes=True)
        except Exception:  # safetensors raises its own error type on a damaged file
            if not drop_damaged_cache_files(anny_cache_dir()):
                raise
            log.warning(
                "the anny cache in %s was damaged; rebuilding it (about a minute)", anny_cache_dir()
            )
            module = anny.Anny(local_changes="default", extrapolate_phenotypes=True)
    module.eval()
    labels = tuple(module.bone_labels)
    weights = module.vertex_bone_weights.numpy()
    indices = module.vertex_bone_indices.numpy()
    dominant = indices[np.arange(len(indices)), weights.argmax(axis=1)]
    bone_regions = np.array(
        [REGION_NAMES.index(_bone_region(label)) for label in labels], dtype=np.int8
    )
    parents = np.asarray(
        module.bone_parents.numpy()
        if hasattr(module.bone_parents, "numpy")
        else module.bone_parents,
        dtype=np.int64,
    )
    missing = [label for label in _LOCAL_CHANGES if label not in module.local_change_labels]
    if missing:
        raise RuntimeError(f"this anny version lacks local changes {missing}")
    names = _FREE_PHENOTYPES + _LOCAL_CHANGES
    bounds = np.array(
        [_PHENOTYPE_BOUNDS[name] for name in _FREE_PHENOTYPES]
        + [_LOCAL_CHANGE_BOUNDS] * len(_LOCAL_CHANGES)
    )
    # Blendshape columns that phenotypes or our local changes reach (others stay zero).
    probe_local = np.zeros((2, len(module.local_change_labels)))
    for label in _LOCAL_CHANGES:
        probe_local[:, module.local_change_labels.index(label)] = (1.0, -1.0)
    with torch.no_grad():
        probe = module._get_phenotype_blendshape_coefficients(
            torch.rand((64, len(module.phenotype_labels)), dtype=torch.float64),
            torch.from_numpy(np.repeat(probe_local, 32, axis=0)),
            torch.zeros((64, len(module.facial_action_labels)), dtype=torch.float64),
        )
    used = np.flatnonzero(probe.abs().sum(dim=0).numpy() > 0)
    faces = module.faces.numpy().astype(np.int64)
    vertex_regions = bone_regions[dominant]
    template = module.template_vertices.numpy()
    shapes = module.blendshapes[used].numpy()
    joint_shapes = module.bone_heads_blendshapes[used].numpy()
    return AnnyModel(
        used_columns=used,
        vertex_template=module.template_vertices.numpy().reshape(-1).copy(),
        vertex_shapes=np.ascontiguousarray(shapes.reshape(len(used), -1)),
        joint_template=module.template_bone_heads.numpy().reshape(-1).copy(),
        joint_shapes=np.ascontiguousarray(joint_shapes.reshape(len(used), -1)),
        tape_topology=build_tape_topology(
            faces, vertex_regions, template, calibration=ANNY_TAPE_CALIBRATION
        ),
        module=module,
        faces=faces,
        uv=module.texture_coordinates.numpy().astype(np.float32),
        uv_faces=module.face_texture_coordinate_indices.numpy().astype(np.int64),
        vertex_regions=vertex_regions,
        joint_names=labels,
        joint_parents=parents,
        parameter_names=names,
        parameter_bounds=bounds,
    )
