"""render stage: Mitsuba 3 images of bodies and drapes, and differentiable silhouettes.

Mitsuba is imported lazily; the variant (``llvm_ad_rgb`` on CPU, ``cuda_ad_rgb`` on GPU) is
chosen by :func:`select_variant`, which every render function calls, never at import.
"""

from ._backend import active_variant, select_variant
from ._camera import CAMERA_VIEWS, Camera, camera_preset, look_at_camera, project
from ._scene import GarmentMesh, Rendering, StudioScene, render_body
from ._silhouette import SilhouetteRenderer, render_silhouette
from ._turntable import encode_gif, encode_mp4, render_turntable

__all__ = [
    "CAMERA_VIEWS",
    "Camera",
    "GarmentMesh",
    "Rendering",
    "SilhouetteRenderer",
    "StudioScene",
    "active_variant",
    "camera_preset",
    "encode_gif",
    "encode_mp4",
    "look_at_camera",
    "project",
    "render_body",
    "render_silhouette",
    "render_turntable",
    "select_variant",
]
