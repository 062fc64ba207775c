"""Colour renders of a body and its garments: materials, studio lights, AOVs.

One :class:`StudioScene` is built per body (+ garments) and image size; the camera and mesh
positions are updated through ``mi.traverse`` between frames, so a turntable compiles its
kernels once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tryon3d.core import Camera, vertex_normals

from ._backend import check_mesh, make_mesh, select_variant, sensor_dict, update_sensor
from ._camera import camera_preset
from ._color import GARMENT_COLOR, SKIN_COLOR, linear_to_srgb
from ._lights import ENV_TO_WORLD, studio_environment
from ._records import GarmentMesh, Rendering

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body
    from tryon3d.sim import Drape

__all__ = ["StudioScene", "render_body"]

#: How far drawn cloth sits off its simulated surface [m] (about a fabric's thickness).
CLOTH_DISPLAY_OFFSET_M = 0.004


def _split_uv_seams(vertices, faces, uv, uv_faces):
    """One Mitsuba vertex per distinct (position, uv) corner pair.

    Returns (source_vertex_index (K,), uv (K, 2), faces (F, 3)).
    """
    if uv_faces is None:
        return np.arange(len(vertices)), uv, faces
    pairs = np.stack([faces.reshape(-1), uv_faces.reshape(-1)], axis=1)
    unique, inverse = np.unique(pairs, axis=0, return_inverse=True)
    return unique[:, 0], uv[unique[:, 1]], inverse.reshape(-1, 3).astype(np.int64)


def load_texture(texture) -> np.ndarray | None:
    """A garment texture as an (H, W, 3) array: from an image path, an array, or None."""
    if texture is None:
        return None
    if isinstance(texture, np.ndarray):
        return texture
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(texture) as image:
            return np.asarray(image.convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise ValueError(f"cannot read the garment texture {str(texture)!r}: {exc}") from None


def _layers_from_drape(drape, *, texture=None, color=None) -> list[GarmentMesh]:
    """GarmentMesh layers from a ``sim.Drape`` (``positions``, ``faces``, per-vertex ``uv``), a
    :class:`GarmentMesh`, an object with ``.garments`` of such, or any object with
    vertices/positions and faces (duck-typed, read-only).

    ``texture`` (image path or (H, W, 3) array) is laid on through the drape's UVs (pattern
    coordinates / texture repeat, so prints run on across seams the pattern matches);
    ``color`` is the linear RGB colour of an untextured garment.
    """
    if drape is None:
        return []
    if isinstance(drape, GarmentMesh):
        return [drape]
    items = getattr(drape, "garments", None)
    candidates = list(items) if items is not None else [drape]
    texture = load_texture(texture)
    layers = []
    for item in candidates:
        if isinstance(item, GarmentMesh):
            layers.append(item)
            continue
        vertices = getattr(item, "vertices", None)
        if vertices is None:
            vertices = getattr(item, "positions", None)
        faces = getattr(item, "faces", None)
        if vertices is None or faces is None:
            raise TypeError(
                "drape must provide vertices/positions and faces (or .garments of such), got "
                f"{type(item).__name__}"
            )
        # Cloth has thickness and the body between cloth vertices bulges: shown exactly at the
        # simulated surface, skin pokes through coarse triangles. Lift the cloth off by its
        # display thickness along the (outward) vertex normals.
        vertices = _lift_along_normals(
            np.asarray(vertices, dtype=np.float64), np.asarray(faces), CLOTH_DISPLAY_OFFSET_M
        )
        uv = getattr(item, "uv", None)
        layer_texture = (
            texture if texture is not None else load_texture(getattr(item, "texture", None))
        )
        if layer_texture is None and getattr(item, "texture_path", None):
            layer_texture = load_texture(item.texture_path)
        layer_color = (
            color if color is not None else (getattr(item, "color", None) or GARMENT_COLOR)
        )
        layers.append(
            GarmentMesh(
                vertices=vertices,
                faces=faces,
                uv=uv,
                uv_faces=getattr(item, "uv_faces", None),
                texture=layer_texture if uv is not None else None,
                color=layer_color,
            )
        )
    return layers


def _lift_along_normals(vertices: np.ndarray, faces: np.ndarray, offset_m: float) -> np.ndarray:
    """Vertices (N, 3) [m] moved ``offset_m`` along their area-weighted vertex normals."""
    return vertices + offset_m * vertex_normals(vertices, faces)


def _sample_count(spp: int) -> int:
    """The low-discrepancy sampler needs a power of 4 (4, 16, 64 ...): round ``spp`` up."""
    if int(spp) != spp or spp < 1:
        raise ValueError(f"spp must be a positive integer, got {spp}")
    count = 4
    while count < spp:
        count *= 4
    return count


class StudioScene:
    """A Mitsuba scene of a body and garments under studio lights, reused across frames.

    Args:
        body_vertices: body positions [m], shape (V, 3).
        body_faces: body triangles, shape (F, 3).
        garments: garment layers.
        camera: the first camera (fixes the image size and the light rig).
        spp: samples per pixel, rounded up to a power of 4, at least 4 (low-discrepancy sampler).
        skin_color: linear RGB skin colour.
        aovs: also render depth and shape-index AOVs (``Rendering.depth``, ``garment_mask``);
            turntables switch them off for speed.
        max_depth: longest light path (2 = direct light only, 3 = one diffuse bounce).
        environment: lat-long linear-RGB light map (h, 2h, 3) to use instead of
            :func:`studio_environment` of ``camera`` (e.g. one fitted to a photo).
        shading: ``"path"`` (path tracing, ``max_depth``) or ``"deferred"``: Mitsuba traces
            only camera rays for albedo (textures included), shading normal, hit position and
            distance; ``render_raw`` then returns these (H, W, 10), averaged over the pixel's
            samples with zeros for misses, for :func:`render._turntable.shade_deferred`.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
    """

    def __init__(
        self,
        body_vertices,
        body_faces,
        garments: list[GarmentMesh],
        camera: Camera,
        *,
        spp: int = 16,
        skin_color=SKIN_COLOR,
        aovs: bool = True,
        max_depth: int = 3,
        environment: np.ndarray | None = None,
        shading: str = "path",
        device: str = "auto",
    ):
        if shading not in ("path", "deferred"):
            raise ValueError(f"shading must be 'path' or 'deferred', got {shading!r}")
        if shading == "deferred" and aovs:
            raise ValueError("deferred shading renders its own AOVs; pass aovs=False")
        mi, dr = select_variant(device)
        self.shading = shading
        self._mi, self._dr = mi, dr
        self.spp = _sample_count(spp)
        self.camera = camera
        body_vertices, body_faces = check_mesh(body_vertices, body_faces, "body")
        self.aovs = bool(aovs)
        # name -> (positions (K, 3) and normals (K, 3) of the Mitsuba vertices, float32)
        self._meshes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        objects: dict[str, Any] = {}
        skin = mi.load_dict(
            {
                "type": "twosided",
                "bsdf": {
                    "type": "principled",
                    "base_color": {"type": "rgb", "value": list(skin_color)},
                    "roughness": 0.55,
                    "specular": 0.35,
                },
            }
        )
        props = mi.Properties()
        props["bsdf"] = skin
        normals = vertex_normals(body_vertices, body_faces).astype(np.float32)
        objects["body"] = make_mesh("body", body_vertices, body_faces, normals=normals, props=props)
        self._meshes["body"] = (body_vertices, normals)
        for index, garment in enumerate(garments):
            name = f"garment_{index}"
            if garment.uv is not None:
                source, uv, faces = _split_uv_seams(
                    garment.vertices, garment.faces, garment.uv, garment.uv_faces
                )
            else:
                source, uv, faces = np.arange(len(garment.vertices)), None, garment.faces
            if garment.texture is not None:
                reflectance = {
                    "type": "bitmap",
                    "bitmap": mi.Bitmap(
                        np.array(garment.texture, dtype=np.float32),
                        pixel_format=mi.Bitmap.PixelFormat.RGB,
                    ),
                    "raw": False,  # the texture is sRGB; Mitsuba converts it to linear
                    "filter_type": "bilinear",
                    "wrap_mode": "repeat",
                }
            else:
                reflectance = {"type": "rgb", "value": list(garment.color)}
            props = mi.Properties()
            props["bsdf"] = mi.load_dict(
                {"type": "twosided", "bsdf": {"type": "diffuse", "reflectance": reflectance}}
            )
            positions = garment.vertices[source]
            normals = vertex_normals(garment.vertices, garment.faces)[source].astype(np.float32)
            objects[name] = make_mesh(
                name, positions, faces.astype(np.uint32), uv=uv, normals=normals, props=props
            )
            self._meshes[name] = (positions, normals)
        self._shape_ids = {name: i for i, name in enumerate(objects)}
        integrator = {"type": "path", "max_depth": int(max_depth), "hide_emitters": True}
        if shading == "deferred":  # camera rays only (no inner integrator: 4x faster)
            integrator = {
                "type": "aov",
                "aovs": "albedo:albedo,normal:sh_normal,position:position,distance:depth",
            }
        if self.aovs:
            integrator = {
                "type": "aov",
                "aovs": "dd.y:depth,si.y:shape_index",
                "integrator": integrator,
            }
        if environment is None:
            environment = studio_environment(camera)
        environment = np.asarray(environment, dtype=np.float32)
        if (
            environment.ndim != 3
            or environment.shape[2] != 3
            or environment.shape[1] != 2 * environment.shape[0]
        ):
            raise ValueError(
                f"environment must be a lat-long map of shape (h, 2h, 3), got {environment.shape}"
            )
        self._scene = mi.load_dict(
            {
                "type": "scene",
                "integrator": integrator,
                "sensor": sensor_dict(
                    camera, sample_count=self.spp, pixel_format="rgba", sampler="ldsampler"
                ),
                "environment": {
                    "type": "envmap",
                    "bitmap": mi.Bitmap(
                        np.ascontiguousarray(environment), pixel_format=mi.Bitmap.PixelFormat.RGB
                    ),
                    "to_world": mi.ScalarTransform4f([list(row) for row in ENV_TO_WORLD]),
                },
                **objects,
            }
        )
        self._params = mi.traverse(self._scene)
        # The shape_index AOV holds each shape's Dr.Jit registry id (0 = nothing hit), which is
        # global to the process and changes as scenes come and go: read it, don't assume order.
        self._shape_index = {
            shape.id(): int(dr.reinterpret_array(mi.UInt32, mi.ShapePtr(shape))[0])
            for shape in self._scene.shapes()
        }

    def set_camera(self, camera: Camera) -> None:
        """Render from ``camera`` (same image size) from now on; the lights stay where they are."""
        update_sensor(self._params, "sensor", camera)
        self._params.update()
        self.camera = camera

    def set_transform(self, rotation: np.ndarray, pivot: np.ndarray) -> None:
        """Rotate every mesh about ``pivot`` [m] by the (3, 3) ``rotation`` (turntables)."""
        mi, dr = self._mi, self._dr
        rotation = np.asarray(rotation, dtype=np.float32)
        pivot = np.asarray(pivot, dtype=np.float32)
        for name, (positions, normals) in self._meshes.items():
            moved = (positions - pivot) @ rotation.T + pivot
            self._params[f"{name}.vertex_positions"] = dr.ravel(
                mi.Point3f(np.ascontiguousarray(moved.T))
            )
            turned = normals @ rotation.T
            self._params[f"{name}.vertex_normals"] = dr.ravel(
                mi.Normal3f(np.ascontiguousarray(turned.T))
            )
        self._params.update()

    def render_raw(self, *, seed: int = 0, spp: int | None = None) -> np.ndarray:
        """Mitsuba's film: linear premultiplied RGB, alpha, then the AOVs (depth along the
        ray [m], shape index) when enabled; shape (H, W, 4 or 6), float32."""
        spp = self.spp if spp is None else _sample_count(spp)
        image = self._mi.render(self._scene, spp=spp, seed=int(seed) & 0xFFFFFFFF)
        return np.array(image, dtype=np.float32)

    def render(self, *, seed: int = 0, spp: int | None = None) -> Rendering:
        """Render the current camera and mesh positions."""
        if not self.aovs:
            raise ValueError("this StudioScene was built with aovs=False; use render_raw()")
        image = self.render_raw(seed=seed, spp=spp)
        camera = self.camera
        alpha = np.clip(image[..., 3], 0.0, 1.0)
        covered = alpha > 1e-4
        safe = np.where(covered, alpha, 1.0)
        rgb = image[..., :3] / safe[..., None]
        rgba = np.concatenate([linear_to_srgb(rgb), alpha[..., None]], axis=2).astype(np.float32)
        rgba[~covered] = 0.0
        # The depth AOV is the distance along the ray, averaged with zeros for missed samples.
        distance = image[..., 4] / safe
        u = (np.arange(camera.width) + 0.5 - camera.cx) / camera.fx
        v = (np.arange(camera.height) + 0.5 - camera.cy) / camera.fy
        ray_length = np.sqrt(1.0 + u[None, :] ** 2 + v[:, None] ** 2)
        depth = np.where(covered, distance / ray_length, np.inf).astype(np.float32)
        shape_index = image[..., 5] / safe
        garment_ids = [i for name, i in self._shape_index.items() if name.startswith("garment_")]
        garment_mask = np.zeros(alpha.shape, dtype=bool)
        for index in garment_ids:
            garment_mask |= covered & (np.abs(shape_index - index) < 0.25)
        extras = {}
        if len(garment_ids) == 1 and len(self._shape_index) == 2:
            # raw index channel = id_body * f_body + id_garment * f_garment, alpha = f_body +
            # f_garment
            body_id = self._shape_index["body"]
            coverage = (image[..., 5] - body_id * alpha) / (garment_ids[0] - body_id)
            extras["garment_coverage"] = np.clip(coverage, 0.0, 1.0).astype(np.float32)
        return Rendering(
            rgba=rgba,
            depth=depth,
            mask=alpha.astype(np.float32),
            garment_mask=garment_mask,
            camera=camera,
            extras=extras,
        )


def _body_arrays(body: Body) -> tuple[np.ndarray, np.ndarray]:
    vertices = getattr(body, "vertices", None)
    faces = getattr(body, "faces", None)
    if vertices is None or faces is None:
        raise TypeError(f"body must be a bodyfit.Body (vertices, faces), got {type(body).__name__}")
    return np.asarray(vertices), np.asarray(faces)


def resolve_camera(camera: Camera | str, points: np.ndarray, width: int, height: int) -> Camera:
    """A Camera from a Camera or a view name of :data:`render.CAMERA_VIEWS`."""
    if isinstance(camera, Camera):
        return camera
    if isinstance(camera, str):
        return camera_preset(points, camera, width=width, height=height)
    raise TypeError(f"camera must be a render.Camera or a view name, got {type(camera).__name__}")


def render_body(
    body: Body,
    *,
    drape: Drape | None = None,
    garments=(),
    camera: Camera | str = "front",
    width: int = 512,
    height: int = 512,
    spp: int = 32,
    seed: int = 0,
    skin_color=SKIN_COLOR,
    texture=None,
    garment_color=None,
    device: str = "auto",
) -> Rendering:
    """Render a Body (skin material), optionally dressed, under soft studio light.

    Args:
        body: a ``bodyfit.Body`` (its posed ``vertices`` and ``faces`` are used).
        drape: a ``sim.Drape`` (or any object with vertices/positions, faces, uv and an optional
            texture, or ``.garments`` of such), drawn over the body.
        garments: extra :class:`GarmentMesh` layers.
        camera: a :class:`Camera`, or a view name (``front``, ``back``, ``three_quarter``,
            ``side``) framing the body at ``width`` x ``height``.
        width: image width [px] for named views.
        height: image height [px] for named views.
        spp: samples per pixel.
        seed: sampler seed (same seed, same image).
        skin_color: linear RGB skin colour.
        texture: the drape's garment texture (image path, e.g. ``Garment.texture_path``, or an
            (H, W, 3) uint8/float sRGB array), laid on through the drape's pattern UVs.
        garment_color: linear RGB colour of an untextured drape.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.

    Returns:
        A :class:`Rendering` (straight-alpha sRGB ``rgba``, ``depth``, ``mask``, ``garment_mask``;
        with one garment layer, ``extras["garment_coverage"]`` (H, W) float32 in [0, 1] too).
    """
    vertices, faces = _body_arrays(body)
    layers = _layers_from_drape(drape, texture=texture, color=garment_color) + list(garments)
    points = np.concatenate([np.asarray(vertices, np.float64)] + [g.vertices for g in layers])
    camera = resolve_camera(camera, points, width, height)
    scene = StudioScene(
        vertices, faces, layers, camera, spp=spp, skin_color=skin_color, device=device
    )
    return scene.render(seed=seed)
