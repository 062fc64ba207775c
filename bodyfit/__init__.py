"""bodyfit: the body stage. Builds a ``Body`` (metres, z-up) from measurements or photos."""

from tryon3d.bodyfit._body import (
    MEASUREMENT_NAMES,
    MODELS,
    REGION_NAMES,
    SEXES,
    Body,
    BodyModelName,
    Sex,
)
from tryon3d.bodyfit._clothed import ClothingEase, load_clothing_ease
from tryon3d.bodyfit._io import (
    Z_UP_TO_Y_UP,
    body_from_record,
    body_record,
    body_to_glb,
    body_to_trimesh,
)
from tryon3d.bodyfit._measure_mesh import (
    MeshTape,
    measure_body,
    measure_mesh,
    tape_definitions,
    tape_svg,
)
from tryon3d.bodyfit._measurements import (
    NAMED_POSES,
    body_from_measurements,
    check_sex,
    pose_body,
    pose_named,
)
from tryon3d.bodyfit._parsing import LABELS, PersonParsing, parse_person
from tryon3d.bodyfit._photo import LANDMARK_NAMES, Photo, PhotoAnalysis, analyze_photo, load_photo
from tryon3d.bodyfit._photo_fit import PhotoFit, fit_body_to_photos
from tryon3d.bodyfit._population import PopulationModel, load_population_model
from tryon3d.bodyfit._skeleton import SKELETON_NAMES

__all__ = [
    "LABELS",
    "LANDMARK_NAMES",
    "MEASUREMENT_NAMES",
    "MODELS",
    "NAMED_POSES",
    "REGION_NAMES",
    "SEXES",
    "SKELETON_NAMES",
    "Z_UP_TO_Y_UP",
    "Body",
    "BodyModelName",
    "ClothingEase",
    "MeshTape",
    "PersonParsing",
    "Photo",
    "PhotoAnalysis",
    "PhotoFit",
    "PopulationModel",
    "Sex",
    "analyze_photo",
    "body_from_measurements",
    "body_from_record",
    "body_record",
    "body_to_glb",
    "body_to_trimesh",
    "check_sex",
    "fit_body_to_photos",
    "load_clothing_ease",
    "load_photo",
    "load_population_model",
    "measure_body",
    "measure_mesh",
    "parse_person",
    "pose_body",
    "pose_named",
    "tape_definitions",
    "tape_svg",
]
