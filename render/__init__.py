"""render stage: Mitsuba 3 images of bodies and drapes, try-on composites onto photos,
turntables, fit maps, and differentiable silhouettes.

Mitsuba is imported lazily; the variant (``llvm_ad_rgb`` on CPU, ``cuda_ad_rgb`` on GPU) is
chosen by :func:`select_variant`, which every render function calls, never at import.
"""

from ._backend import active_variant, select_variant
from ._camera import CAMERA_VIEWS, Camera, camera_preset, look_at_camera, project
from ._fitmap import FITMAP_FIELDS, FitmapBands, FitmapField, fitmap_bands, render_fitmap
from ._lights import STUDIO_LIGHTS, studio_environment
from ._photo_composite import WORK_MAX_SIDE_PX, PhotoLighting, fit_photo_lighting, render_on_photo
from ._poisson import poisson_seam_blend
from ._records import GarmentMesh, Rendering
from ._scene import StudioScene, render_body
from ._silhouette import SilhouetteRenderer, render_silhouette
from ._turntable import encode_gif, encode_mp4, render_turntable

__all__ = [
    "CAMERA_VIEWS",
    "FITMAP_FIELDS",
    "STUDIO_LIGHTS",
    "WORK_MAX_SIDE_PX",
    "Camera",
    "FitmapBands",
    "FitmapField",
    "GarmentMesh",
    "PhotoLighting",
    "Rendering",
    "SilhouetteRenderer",
    "StudioScene",
    "active_variant",
    "camera_preset",
    "encode_gif",
    "encode_mp4",
    "fit_photo_lighting",
    "fitmap_bands",
    "look_at_camera",
    "poisson_seam_blend",
    "project",
    "render_body",
    "render_fitmap",
    "render_on_photo",
    "render_silhouette",
    "render_turntable",
    "select_variant",
    "studio_environment",
]
