"""Try-on onto the user's photo: the drape rendered from the photo's fitted camera, lit like the
photo, composited behind the user's own occluders and blended along its edges.

Pipeline of :func:`render_on_photo`:

1. A first render of body + drape (studio light) gives, per pixel, which surface is nearest
   (body or garment, shape-index AOV) and the garment's coverage; a garment-only depth render
   gives the garment's depth even where the body hides it.
2. Occlusion: a pixel keeps the photo where the rendered *body* is in front of the garment by
   more than ``occlusion_tolerance_m`` (hands, forearms, the face and hair over a collar), grown
   by ``occluder_grow_px`` but only inside the person mask; body skin poking through the garment
   by less than the tolerance is painted as garment.
3. Light: :func:`fit_photo_lighting` fits the studio rig's four light-group intensities and an
   RGB tint to the photo's visible person, by Adam through Mitsuba's differentiable ``prb``
   integrator (drjit AD on the environment map), then the dressed body is rendered again
   under the fitted lights.
4. Composite: the garment (its antialiased coverage) over the photo, then Poisson
   gradient-domain fusion on a band of ``blend_margin_px`` around the garment's edges.

With a person parsing (``parsing=``) the new garment replaces the old one instead: the light is
fitted to the parsed skin only, the old garment's pixels the new one leaves open become skin or
background (:mod:`render._replace`), blended into the photo across a thin band, and the new
garment goes over that by its render coverage alone, so its edges stay sharp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tryon3d.core import Camera, pieces_touching

from ._backend import check_mesh, make_mesh, select_variant, sensor_dict
from ._color import SKIN_COLOR, linear_to_srgb, srgb_to_linear
from ._lights import ENV_TO_WORLD, studio_environment, studio_light_parts
from ._poisson import poisson_seam_blend
from ._replace import BACKGROUND_FILLS, CLOTHES_LABELS, old_garment_labels, underlay
from ._scene import StudioScene, _body_arrays, _layers_from_drape

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body
    from tryon3d.sim import Drape

__all__ = ["WORK_MAX_SIDE_PX", "PhotoLighting", "fit_photo_lighting", "render_on_photo"]

#: Longest side [px] at which render_on_photo renders, fits the light and blends; larger photos
#: get the result laid over them at full resolution.
WORK_MAX_SIDE_PX = 1024
_STRIP_ROWS = 256
#: Old-garment pixels are grown by this share of the image's long side into the parsing's
#: background and skin (at least 2 px): the parsed outline sits inside the cloth's soft edge.
_OUTLINE_SLACK = 0.01
#: "Shoes" within this Lab distance (OpenCV's 8-bit Lab) of the old garment's median colour are
#: the old garment (trouser legs over the feet).
_SAME_CLOTH_LAB = 25.0
_SKIN_SMOOTH_PX = 1.0  # Gaussian sigma [px] taking the render's grain off the skin's shading


class PhotoLighting:
    """Fitted light of a photo: the studio rig's light groups scaled by ``weights`` (4 values,
    order :data:`render._lights.STUDIO_LIGHTS`) and tinted by ``rgb_scale`` (3 values);
    ``loss`` is the final mean robust error (linear RGB) over ``pixel_count`` fitted pixels."""

    def __init__(self, weights, rgb_scale, loss: float, pixel_count: int):
        self.weights = np.asarray(weights, np.float64)
        self.rgb_scale = np.asarray(rgb_scale, np.float64)
        self.loss = float(loss)
        self.pixel_count = int(pixel_count)

    def environment(self, camera: Camera) -> np.ndarray:
        """The fitted lat-long environment (h, 2h, 3) for ``camera``."""
        return studio_environment(camera, weights=self.weights, rgb_scale=self.rgb_scale)

    def __repr__(self) -> str:
        return (
            f"PhotoLighting(weights={np.round(self.weights, 3).tolist()}, "
            f"rgb_scale={np.round(self.rgb_scale, 3).tolist()}, loss={self.loss:.4f})"
        )


def _check_photo(photo_rgb) -> np.ndarray:
    photo = np.asarray(photo_rgb)
    if photo.ndim != 3 or photo.shape[2] not in (3, 4) or photo.dtype != np.uint8:
        raise ValueError(
            f"photo must be a uint8 array of shape (H, W, 3), got {photo.dtype} {photo.shape}"
        )
    return np.ascontiguousarray(photo[..., :3])


def _check_mask(mask, shape: tuple[int, int], name: str) -> np.ndarray | None:
    """``mask`` as bool at the photo's shape, or as uint8 (0-255) when it is a coarser mask of the
    photo's aspect (e.g. a segmentation at the analysis size: resized only where it is used)."""
    if mask is None:
        return None
    array = np.asarray(mask)
    if array.shape == shape:
        return array if array.dtype == bool else array > 0.5  # no float64 copy of a full-size mask
    aspect, got = (
        shape[1] / shape[0],
        array.shape[1] / max(array.shape[0], 1) if array.ndim == 2 else 0.0,
    )
    if (
        array.ndim != 2
        or array.shape[0] > shape[0]
        or array.shape[1] > shape[1]
        or abs(got / aspect - 1) > 0.02
    ):
        raise ValueError(
            f"{name} must have the photo's shape {shape} (or be a smaller mask of its aspect), "
            f"got {array.shape}"
        )
    if array.dtype == bool:
        return array.view(np.uint8) * np.uint8(255)
    return np.round(np.clip(np.asarray(array, np.float32), 0.0, 1.0) * 255.0).astype(np.uint8)


def _mask_at(mask: np.ndarray | None, size: tuple[int, int]) -> np.ndarray | None:
    """A mask from :func:`_check_mask` as bool at ``size`` (w, h)."""
    from PIL import Image

    if mask is None:
        return None
    if mask.dtype == bool:
        return mask if mask.shape == (size[1], size[0]) else _shrunk(mask, size)
    return np.asarray(Image.fromarray(mask).resize(size, Image.Resampling.BILINEAR)) > 127


def _photo_camera(camera: Camera, width: int, height: int) -> Camera:
    if not isinstance(camera, Camera):
        raise TypeError(f"camera must be a render.Camera, got {type(camera).__name__}")
    if (camera.width, camera.height) == (width, height):
        return camera
    if abs(camera.width / camera.height - width / height) > 0.01 * width / height:
        raise ValueError(
            f"camera is {camera.width}x{camera.height} but the photo is {width}x{height} (another "
            "aspect ratio)"
        )
    return camera.scaled(width / camera.width, width, height)


def _downscaled(camera: Camera, max_side: int) -> tuple[Camera, float]:
    scale = min(1.0, max_side / max(camera.width, camera.height))
    width, height = max(8, round(camera.width * scale)), max(8, round(camera.height * scale))
    scale = width / camera.width
    return camera.scaled(scale, width, height), scale


def fit_photo_lighting(
    body_vertices,
    body_faces,
    photo_rgb,
    camera: Camera,
    fit_mask,
    *,
    skin_color=SKIN_COLOR,
    steps: int = 40,
    learning_rate: float = 0.08,
    max_side: int = 128,
    spp: int = 4,
    seed: int = 0,
    device: str = "auto",
) -> PhotoLighting:
    """Fit the studio rig's light intensities and colour to a photo of the body.

    The body (skin material of ``skin_color``) is rendered at most ``max_side`` pixels on the
    long side with Mitsuba's differentiable ``prb`` integrator under the environment
    ``rgb_scale * sum_i weights_i * part_i``; ``steps`` Adam steps on the logarithms of the 7
    parameters minimise a robust (Charbonnier) error to the photo's linear RGB over
    ``fit_mask``, with a weak pull of the log-parameters towards 0 (the default rig).
    Albedo and light trade off: the tint also absorbs how the user's skin differs from
    ``skin_color``.

    Args:
        body_vertices: body positions in the photo's pose [m], shape (V, 3).
        body_faces: triangles, shape (F, 3).
        photo_rgb: the photo, (H, W, 3) uint8 sRGB.
        camera: the photo's camera (any size of the photo's aspect ratio).
        fit_mask: photo pixels showing the visible person to fit to, (H, W) bool.
        skin_color: linear RGB albedo assumed for the body.
        steps: Adam iterations.
        learning_rate: Adam step size (in log space).
        max_side: longest side of the fitting image [px].
        spp: samples per pixel of each fitting render.
        seed: sampler seed (iteration k uses ``seed + k``).
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.

    Returns:
        The fitted :class:`PhotoLighting`.
    """
    from PIL import Image

    mi, dr = select_variant(device)
    photo = _check_photo(photo_rgb)
    height, width = photo.shape[:2]
    mask = _mask_at(_check_mask(fit_mask, (height, width), "fit_mask"), (width, height))
    if mask is None:
        raise TypeError("fit_mask must be an (H, W) mask of the photo, got None")
    camera = _photo_camera(camera, width, height)
    small, _ = _downscaled(camera, max_side)
    target = srgb_to_linear(
        np.asarray(
            Image.fromarray(photo).resize((small.width, small.height), Image.Resampling.BOX),
            np.float64,
        )
        / 255.0
    )
    weight = (
        np.asarray(
            Image.fromarray((mask * 255).astype(np.uint8)).resize(
                (small.width, small.height), Image.Resampling.BOX
            ),
            np.float64,
        )
        / 255.0
    )
    weight = (weight > 0.99).astype(np.float32)  # only pixels wholly inside the mask
    pixel_count = int(weight.sum())
    if pixel_count < 16:
        raise ValueError(
            f"fit_mask leaves {pixel_count} usable pixels at {small.width}x{small.height}; need >= "
            "16"
        )
    vertices, faces = check_mesh(body_vertices, body_faces, "body")
    props = mi.Properties()
    props["bsdf"] = mi.load_dict(
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
    from ._scene import vertex_normals

    mesh = make_mesh("body", vertices, faces, normals=vertex_normals(vertices, faces), props=props)
    parts = studio_light_parts(camera, width=64)
    scene = mi.load_dict(
        {
            "type": "scene",
            "integrator": {"type": "prb", "max_depth": 2, "hide_emitters": True},
            "sensor": sensor_dict(small, sample_count=spp, pixel_format="rgb"),
            "environment": {
                "type": "envmap",
                "bitmap": mi.Bitmap(
                    np.ascontiguousarray(parts.sum(axis=0)), pixel_format=mi.Bitmap.PixelFormat.RGB
                ),
                "to_world": mi.ScalarTransform4f([list(row) for row in ENV_TO_WORLD]),
            },
            "body": mesh,
        }
    )
    params = mi.traverse(scene)
    # Mitsuba pads the lat-long map by one column (wrap-around) and a sample row: match its layout
    layout = np.array(params["environment.data"]).shape
    padded = np.zeros((len(parts), *layout), np.float32)
    for index, part in enumerate(parts):
        part_map = mi.load_dict(
            {
                "type": "envmap",
                "bitmap": mi.Bitmap(
                    np.ascontiguousarray(part), pixel_format=mi.Bitmap.PixelFormat.RGB
                ),
            }
        )
        padded[index] = np.array(mi.traverse(part_map)["data"])
    part_tensors = [mi.TensorXf(padded[i]) for i in range(len(parts))]
    target_t = mi.TensorXf(target.astype(np.float32))
    weight_t = mi.TensorXf(np.repeat(weight[..., None], 3, axis=2))
    optimizer = mi.ad.Adam(lr=learning_rate)
    optimizer["log_weights"] = mi.Float(np.zeros(len(parts)))
    optimizer["log_rgb"] = mi.Float(np.zeros(3))
    epsilon = 1e-3
    loss_value = float("nan")
    for step in range(int(steps)):
        log_weights, log_rgb = optimizer["log_weights"], optimizer["log_rgb"]
        weights, rgb = dr.exp(log_weights), dr.exp(log_rgb)
        data = part_tensors[0] * dr.gather(mi.Float, weights, 0)
        for index in range(1, len(parts)):
            data = data + part_tensors[index] * dr.gather(mi.Float, weights, index)
        data = data * mi.TensorXf(rgb, shape=(1, 1, 3))
        params["environment.data"] = data
        params.update()
        image = mi.render(scene, params, spp=spp, seed=(int(seed) + step) & 0xFFFFFFFF)
        residual = (image - target_t) * weight_t
        loss = dr.sum(dr.sqrt(dr.square(residual) + epsilon**2) - epsilon, axis=None) / (
            3.0 * pixel_count
        )
        loss = loss + 1e-3 * (
            dr.sum(dr.square(log_weights), axis=None) + dr.sum(dr.square(log_rgb), axis=None)
        )
        dr.backward(loss)
        optimizer.step()
        loss_value = float(loss.array[0])
    weights = np.exp(np.array(optimizer["log_weights"], np.float64))
    rgb = np.exp(np.array(optimizer["log_rgb"], np.float64))
    return PhotoLighting(weights, rgb, loss_value, pixel_count)


def _garment_depth(layers, camera: Camera, spp: int, seed: int, device: str) -> np.ndarray:
    """Camera-space depth [m] of the nearest garment surface per pixel (H, W), inf where none."""
    mi, _ = select_variant(device)
    objects = {}
    for index, layer in enumerate(layers):
        objects[f"garment_{index}"] = make_mesh(
            f"garment_{index}", layer.vertices, layer.faces.astype(np.uint32)
        )
    scene = mi.load_dict(
        {
            "type": "scene",
            "integrator": {
                "type": "aov",
                "aovs": "dd.y:depth",
                "integrator": {"type": "path", "max_depth": 1, "hide_emitters": True},
            },
            "sensor": sensor_dict(camera, sample_count=spp, pixel_format="rgba"),
            **objects,
        }
    )
    image = np.array(mi.render(scene, spp=spp, seed=seed & 0xFFFFFFFF), np.float32)
    alpha = image[..., 3]
    u = (np.arange(camera.width) + 0.5 - camera.cx) / camera.fx
    v = (np.arange(camera.height) + 0.5 - camera.cy) / camera.fy
    ray_length = np.sqrt(1.0 + u[None, :] ** 2 + v[:, None] ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = image[..., 4] / alpha / ray_length
    return np.where(alpha > 1e-4, depth, np.inf).astype(np.float32)


def _fill_from_nearest(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """``values`` with every pixel outside ``known`` replaced by its nearest known pixel's."""
    from scipy import ndimage

    if known.all() or not known.any():
        return values
    _, (rows, cols) = ndimage.distance_transform_edt(~known, return_indices=True)
    return values[rows, cols]


def render_on_photo(
    body: Body,
    drape: Drape,
    photo_rgb: np.ndarray,
    camera: Camera,
    person_mask=None,
    *,
    texture=None,
    garment_color=None,
    protect_mask=None,
    fit_light: bool = True,
    light_steps: int = 40,
    spp: int = 16,
    seed: int = 0,
    blend_margin_px: int = 3,
    occlusion_tolerance_m: float = 0.01,
    occluder_grow_px: int = 2,
    skin_color=SKIN_COLOR,
    device: str = "auto",
    work_max_side_px: int | None = WORK_MAX_SIDE_PX,
    in_place: bool = False,
    parsing=None,
    replace_labels: tuple[str, ...] | None = None,
    background_fill: str = "patch",
) -> tuple[np.ndarray, np.ndarray]:
    """The drape rendered into the user's photo.

    Args:
        body: the ``bodyfit.Body`` fitted to the photo (``vertices`` in the photo's pose).
        drape: the ``sim.Drape`` on that body (``positions`` in the same pose), or any
            garment-like object :func:`render.render_body` accepts.
        photo_rgb: the photo, (H, W, 3) uint8 sRGB.
        camera: the camera fitted to the photo (``render.Camera``; another size of the same
            aspect ratio is rescaled).
        person_mask: the person's pixels in the photo, (H, W) bool or float in [0, 1] (e.g. a
            segmenter's), or a smaller (h, w) mask of the photo's aspect (e.g. at the analysis
            size, resized straight to the working size: no photo-sized mask); None uses the
            rendered body's silhouette.
        texture: the garment texture (image path or (h, w, 3) array) through the drape's UVs.
        garment_color: linear RGB colour of an untextured garment.
        protect_mask: extra photo pixels that stay in front of the garment, (H, W) bool
            (e.g. hair or face from a segmenter).
        fit_light: fit the light to the photo (:func:`fit_photo_lighting`); False keeps the
            default studio rig.
        light_steps: Adam steps of the light fit.
        spp: samples per pixel of the final render.
        seed: sampler seed (same seed, same output).
        blend_margin_px: half-width [px] of the Poisson-blended band along the garment's edges;
            photo pixels farther than this from the garment are returned unchanged.
        occlusion_tolerance_m: the body must be this much nearer than the garment [m] to
            count as in front of it (smaller gaps are body poking through the cloth).
        occluder_grow_px: occluders are grown by this many pixels inside the person mask
            (slack for the body fit).
        skin_color: linear RGB skin albedo assumed by the light fit.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        work_max_side_px: photos longer than this [px] are rendered, lit and blended at this
            size and only the final composite is made at full resolution, in strips of 8-bit
            arithmetic (a 48 MP phone photo stays under 2 GB); None works at full resolution.
        in_place: write the composite into ``photo_rgb`` itself (a writeable C-contiguous
            (H, W, 3) uint8 array) and return it: no second photo-sized array.
        parsing: the photo's ``bodyfit.PersonParsing`` (labels at the photo's size or a
            smaller size of its aspect): the new garment replaces the old one (the old
            garment's uncovered pixels become skin shaded from the body or inpainted
            background; the light is fitted to the parsed skin; the garment's edges stay
            sharp; its hair stays in front of the garment). None paints the garment over the
            photo as before.
        replace_labels: the parsing's clothes labels to replace (of ``"upper_clothes"``,
            ``"lower_clothes"``, ``"dress"``); None: those the new garment covers at least
            :data:`render._replace.REPLACE_OVERLAP` of.
        background_fill: with ``parsing``, how uncovered background is filled (one of
            :data:`render._replace.BACKGROUND_FILLS`): ``"patch"`` copies patches of the
            background ring around it (texture carries on), ``"telea"`` inpaints it smoothly.

    Returns:
        (composite (H, W, 3) uint8 sRGB, garment_mask (H, W) bool: the pixels where the
        garment shows).
    """
    photo = _check_photo(photo_rgb)
    if in_place and not (
        isinstance(photo_rgb, np.ndarray)
        and photo_rgb.ndim == 3
        and photo_rgb.shape[2] == 3
        and photo_rgb.flags.c_contiguous
        and photo_rgb.flags.writeable
    ):
        raise ValueError(
            "in_place needs the photo as a writeable C-contiguous (H, W, 3) uint8 array"
        )
    height, width = photo.shape[:2]
    camera = _photo_camera(camera, width, height)
    person = _check_mask(person_mask, (height, width), "person_mask")
    protect = _check_mask(protect_mask, (height, width), "protect_mask")
    if int(blend_margin_px) != blend_margin_px or blend_margin_px < 0:
        raise ValueError(f"blend_margin_px must be an integer >= 0, got {blend_margin_px}")
    if work_max_side_px is not None and int(work_max_side_px) < 64:
        raise ValueError(f"work_max_side_px must be at least 64 (or None), got {work_max_side_px}")
    _check_parsing(parsing, (height, width))
    if background_fill not in BACKGROUND_FILLS:
        raise ValueError(
            f"background_fill must be one of {BACKGROUND_FILLS}, got {background_fill!r}"
        )
    if replace_labels is not None:
        replace_labels = tuple(replace_labels)
        if parsing is None or not set(replace_labels) <= set(CLOTHES_LABELS):
            raise ValueError(
                f"replace_labels must be a subset of {CLOTHES_LABELS} and needs parsing, got "
                f"{replace_labels!r}"
            )
    options = dict(
        texture=texture,
        garment_color=garment_color,
        fit_light=fit_light,
        light_steps=light_steps,
        spp=spp,
        seed=seed,
        blend_margin_px=int(blend_margin_px),
        occlusion_tolerance_m=occlusion_tolerance_m,
        occluder_grow_px=occluder_grow_px,
        skin_color=skin_color,
        device=device,
        replace_labels=replace_labels,
        background_fill=background_fill,
    )
    if work_max_side_px is None or max(height, width) <= int(work_max_side_px):
        result, region, _ = _composite(
            body,
            drape,
            photo,
            camera,
            _mask_at(person, (width, height)),
            _mask_at(protect, (width, height)),
            _parsing_at(parsing, (width, height)),
            **options,
        )
        if in_place:
            photo[...] = result
        return (photo_rgb if in_place else result), region
    result, region = _composite_large(
        body,
        drape,
        photo,
        camera,
        person,
        protect,
        parsing,
        int(work_max_side_px),
        options,
        in_place=in_place,
    )
    return (
        photo_rgb if in_place else result
    ), region  # in place: ``photo`` is a view of ``photo_rgb``


def _check_parsing(parsing, shape: tuple[int, int]) -> None:
    """A ``bodyfit.PersonParsing`` (or None) whose labels are the photo's shape or a smaller
    map of its aspect."""
    import dataclasses

    if parsing is None:
        return
    labels = getattr(parsing, "labels", None)
    if not (dataclasses.is_dataclass(parsing) and isinstance(labels, np.ndarray)):
        raise TypeError(f"parsing must be a bodyfit.PersonParsing, got {type(parsing).__name__}")
    if (
        labels.ndim != 2
        or labels.shape[0] > shape[0]
        or labels.shape[1] > shape[1]
        or abs(labels.shape[1] / max(labels.shape[0], 1) / (shape[1] / shape[0]) - 1) > 0.02
    ):
        raise ValueError(
            f"parsing.labels must have the photo's shape {shape} (or be smaller of its aspect), "
            f"got {labels.shape}"
        )


def _parsing_at(parsing, size: tuple[int, int]):
    """``parsing`` with its labels resized (nearest) to ``size`` (w, h)."""
    import dataclasses

    from PIL import Image

    if parsing is None or parsing.labels.shape == (size[1], size[0]):
        return parsing
    labels = Image.fromarray(np.ascontiguousarray(parsing.labels, np.uint8))
    small = np.asarray(labels.resize(size, Image.Resampling.NEAREST))
    return dataclasses.replace(parsing, labels=small)


def _shrunk(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``array`` (H, W[, C]) uint8 or bool box-filtered to ``size`` (w, h) without a full-size copy:
    whole-block means in strips first (integer sums), then PIL's box filter for the rest."""
    from PIL import Image

    values = array.view(np.uint8) if array.dtype == bool else array
    height, width = values.shape[:2]
    factor = max(1, min(height // size[1], width // size[0]))
    if factor > 1:
        rows, cols = height // factor, width // factor
        small = np.empty((rows, cols, *values.shape[2:]), dtype=np.uint8)
        for top in range(0, rows, 64):
            bottom = min(top + 64, rows)
            block = values[top * factor : bottom * factor, : cols * factor]
            sums = block.reshape(bottom - top, factor, cols, factor, *values.shape[2:]).sum(
                axis=(1, 3), dtype=np.uint32
            )
            small[top:bottom] = (sums + factor * factor // 2) // (factor * factor)
        values = small
    if array.dtype == bool:
        values = values * np.uint8(255)
    result = np.asarray(Image.fromarray(values).resize(size, Image.Resampling.BOX))
    return result > 127 if array.dtype == bool else result


def _composite_large(
    body: Body,
    drape: Drape,
    photo: np.ndarray,
    camera: Camera,
    person,
    protect,
    parsing,
    max_side: int,
    options: dict,
    *,
    in_place: bool,
):
    """Work at ``max_side`` px, then lay the changed pixels over the full photo in strips."""
    from PIL import Image

    height, width = photo.shape[:2]
    small_camera, _ = _downscaled(camera, max_side)
    small_size = (small_camera.width, small_camera.height)
    small_photo = _shrunk(photo, small_size)
    small_person = _mask_at(person, small_size)
    small_protect = _mask_at(protect, small_size)
    result, region, touched = _composite(
        body,
        drape,
        small_photo,
        small_camera,
        small_person,
        small_protect,
        _parsing_at(parsing, small_size),
        **options,
    )
    # Up to full size strip by strip (PIL resamples a box of the small image straight into each
    # strip), 8-bit: the composite, how much of it replaces the photo, and the garment mask.
    overlay_image = Image.fromarray(result)
    weight_image = Image.fromarray(touched.astype(np.uint8) * 255)
    region_image = Image.fromarray(region.astype(np.uint8) * 255)
    scale_y = small_size[1] / height
    out = (
        photo if in_place else np.empty_like(photo)
    )  # strips read the photo's rows before writing them
    garment = np.empty((height, width), dtype=bool)
    for top in range(0, height, _STRIP_ROWS):
        bottom = min(top + _STRIP_ROWS, height)
        box = (0.0, top * scale_y, float(small_size[0]), bottom * scale_y)
        size = (width, bottom - top)
        overlay = np.asarray(
            overlay_image.resize(size, Image.Resampling.BILINEAR, box=box), dtype=np.uint16
        )
        w = np.asarray(
            weight_image.resize(size, Image.Resampling.BILINEAR, box=box), dtype=np.uint16
        )[..., None]
        rows = slice(top, bottom)
        out[rows] = ((photo[rows].astype(np.uint16) * (255 - w) + overlay * w + 127) // 255).astype(
            np.uint8
        )
        garment[rows] = (
            np.asarray(region_image.resize(size, Image.Resampling.BILINEAR, box=box)) > 127
        )
    return out, garment


def _composite(
    body: Body,
    drape: Drape,
    photo: np.ndarray,
    camera: Camera,
    person,
    protect,
    parsing,
    *,
    texture,
    garment_color,
    fit_light,
    light_steps,
    spp,
    seed,
    blend_margin_px,
    occlusion_tolerance_m,
    occluder_grow_px,
    skin_color,
    device,
    replace_labels,
    background_fill="patch",
):
    """render_on_photo at the photo's own size -> (composite uint8, garment mask, changed
    pixels)."""
    from scipy import ndimage

    _height, _width = photo.shape[:2]
    if parsing is not None and (hair := parsing.mask("hair")).any():
        # hair falling over the shoulders hangs in front of any top (a woman's long hair had
        # been painted away by the new garment)
        protect = hair if protect is None else protect | hair
    vertices, faces = _body_arrays(body)
    layers = _layers_from_drape(drape, texture=texture, color=garment_color)
    if len(layers) != 1:
        raise ValueError(f"render_on_photo takes one garment layer, got {len(layers)}")

    # 1. which surface is nearest, garment coverage, garment depth behind the body
    scene = StudioScene(
        vertices, faces, layers, camera, spp=4, skin_color=skin_color, device=device
    )
    first = scene.render(seed=seed)
    coverage = first.extras["garment_coverage"]
    body_coverage = np.clip(first.mask - coverage, 0.0, 1.0)
    garment_depth = _garment_depth(layers, camera, 4, seed, device)
    if person is None:
        person = first.mask > 0.5

    # 2. occluders: body nearer than the garment by more than the tolerance
    behind = np.isfinite(garment_depth)
    body_front = (
        (body_coverage > 0.5) & behind & (first.depth < garment_depth - occlusion_tolerance_m)
    )
    occluder = body_front
    if occluder_grow_px > 0 and occluder.any():
        occluder = ndimage.binary_dilation(occluder, iterations=int(occluder_grow_px)) & person
        occluder |= body_front
    if protect is not None:
        occluder |= protect
    # body poking through the cloth counts as cloth
    poke = (body_coverage > 0.5) & behind & ~body_front
    garment_alpha = np.where(poke, 1.0, coverage)
    garment_alpha = np.where(occluder, 0.0, garment_alpha).astype(np.float64)

    # 3. light fitted to the visible person (not where the new garment goes)
    environment = None
    fit_region = (
        person & (body_coverage > 0.99) & ~ndimage.binary_dilation(coverage > 0.01, iterations=2)
    )
    if parsing is not None:
        # skin only (clothes would tint the light with their colour), and the skin's albedo is
        # the parsed skin's colour at the studio rig's exposure: light and albedo trade off, and
        # a default albedo would swing the garment's brightness with the person's skin tone
        fit_region &= parsing.mask("skin")
        fit_region = ndimage.binary_erosion(fit_region, iterations=1)
        if fit_region.sum() >= 64:
            seen = np.median(srgb_to_linear(photo[fit_region] / 255.0), axis=0)
            rendered = np.median(srgb_to_linear(first.rgba[..., :3][fit_region]), axis=0)
            ratio = np.clip(seen / np.maximum(rendered, 1e-4), 0.2, 5.0)
            skin_color = tuple(np.clip(np.asarray(skin_color) * ratio, 0.02, 0.95).tolist())
    else:
        fit_region = ndimage.binary_erosion(fit_region, iterations=1)
    if fit_light and fit_region.sum() >= 64:
        lighting = fit_photo_lighting(
            vertices,
            faces,
            photo,
            camera,
            fit_region,
            skin_color=skin_color,
            steps=light_steps,
            seed=seed,
            device=device,
        )
        environment = lighting.environment(camera)
    # Dr.Jit keeps freed buffers for reuse: handing them back before each next big step keeps a
    # render's, the light fit's and the numpy blend's peaks from stacking up
    _, dr = select_variant(device)
    del scene
    dr.flush_malloc_cache()
    final_scene = StudioScene(
        vertices,
        faces,
        layers,
        camera,
        spp=spp,
        skin_color=skin_color,
        environment=environment,
        device=device,
    )
    final = final_scene.render(seed=seed + 1)
    del final_scene
    dr.flush_malloc_cache()

    # 4. garment colour (pure-garment pixels, nearest fill elsewhere) over the photo, then blend
    final_coverage = final.extras["garment_coverage"]
    pure = (final_coverage > 0.98) & (final.mask > 0.98)
    garment_rgb = _fill_from_nearest(final.rgba[..., :3].astype(np.float32), pure)
    if parsing is not None:
        return _replacing(
            photo,
            final,
            garment_rgb,
            garment_alpha,
            parsing,
            person,
            occluder,
            protect,
            replace_labels,
            blend_margin_px,
            background_fill,
        )
    photo_float = photo.astype(np.float32) / 255.0
    alpha = garment_alpha[..., None]
    composite_linear = srgb_to_linear(garment_rgb) * alpha + srgb_to_linear(photo_float) * (
        1.0 - alpha
    )
    composite = linear_to_srgb(composite_linear)
    region = garment_alpha > 0.5
    if blend_margin_px > 0 and region.any():
        inside = np.where(
            region[..., None], composite, garment_rgb
        )  # garment colour beyond its edge
        fused, band = poisson_seam_blend(
            inside, photo_float, region, margin_px=int(blend_margin_px), locked=occluder
        )
        composite = np.where(band[..., None], np.clip(fused, 0.0, 1.0), composite)
    result = np.clip(np.round(composite * 255.0), 0, 255).astype(np.uint8)
    untouched = ~(garment_alpha > 0)
    if blend_margin_px > 0 and region.any():
        untouched &= ~band
    result[untouched] = photo[untouched]  # bit-exact photo wherever nothing was composited
    return result, region, ~untouched


def _bottom_parsed_as_top(photo, parsing, names, region) -> np.ndarray:
    """Pixels the parsing calls the replaced top that are the kept bottom, (H, W) bool: below
    the new garment's hem (per column; the median hem where it has none), of the bottom's
    colour (within ``_SAME_CLOTH_LAB``, lightness halved, and nearer it than the top's own
    colour above the hem) and joined to it, where the bottom is not of the skin's colour. A
    high-waisted skirt's top parsed as the shirt above it became bare hips under a new
    T-shirt (a real photo); a top of the trousers' own colour reaching below the new hem looks
    the same as them either way."""
    bottom = parsing.mask("lower_clothes")
    out = np.zeros(region.shape, bool)
    if "upper_clothes" not in names or "lower_clothes" in names or not bottom.any():
        return out
    # a "bottom" of the skin's colour is bare legs the parsing took for one
    if not region.any() or parsing.skin_coloured(np.median(photo[bottom], axis=0)):
        return out
    import cv2

    rows = np.arange(region.shape[0])[:, None]
    has = region.any(axis=0)
    hem = np.where(has, region.shape[0] - 1 - np.argmax(region[::-1], axis=0), -1)
    hem = np.where(has, hem, np.median(hem[has]))
    # lightness damped (as the parsing's colour split does): a satin's sheen spans L 10-60
    damp = np.array([100.0 / 255.0 / 2.0, 1.0, 1.0], np.float32)
    lab = cv2.cvtColor(photo, cv2.COLOR_RGB2Lab).astype(np.float32) * damp
    top = parsing.mask("upper_clothes")
    above = top & (rows <= hem[None, :])
    if not above.any():
        return out
    to_bottom = np.linalg.norm(lab - np.median(lab[bottom], axis=0), axis=2)
    to_top = np.linalg.norm(lab - np.median(lab[above], axis=0), axis=2)
    # nearer the bottom's colour than the top's own (above the hem): a red top's hem over bare
    # legs parsed as a bottom stays the top
    like = (to_bottom < _SAME_CLOTH_LAB) & (to_bottom < to_top)
    return pieces_touching(top & (rows > hem[None, :]) & like, bottom, reach_px=2)


def _replacing(
    photo,
    final,
    garment_rgb,
    garment_alpha,
    parsing,
    person,
    occluder,
    protect,
    replace_labels,
    blend_margin_px,
    background_fill="patch",
):
    """Step 4 with a parsing: the new garment (its coverage, no blur) over the photo whose old
    garment pixels it leaves open show what lies under them."""
    from scipy import ndimage

    region = garment_alpha > 0.5
    names = old_garment_labels(parsing, region) if replace_labels is None else replace_labels
    old = np.zeros(region.shape, bool)
    for name in names:
        old |= parsing.mask(name)
    shoes = parsing.mask("shoes")
    long = np.zeros(region.shape, bool)  # old clothes that reach the feet
    for name in set(names) & {"lower_clothes", "dress"}:
        long |= parsing.mask(name)
    if long.any() and shoes.any():
        # trouser cuffs over the feet parse as shoes: shoe pixels of the trousers' colour joined
        # to them (a top's try-on had taken a man's light sneakers for his light T-shirt)
        import cv2

        lab = cv2.cvtColor(photo, cv2.COLOR_RGB2Lab).astype(np.float32)
        reference = np.median(lab[long], axis=0)
        cuffs = shoes & (np.linalg.norm(lab - reference, axis=2) < _SAME_CLOTH_LAB)
        old |= pieces_touching(cuffs, long, reach_px=2)
    old &= ~_bottom_parsed_as_top(photo, parsing, names, region)
    grow = max(2, round(_OUTLINE_SLACK * max(region.shape)))
    if old.any():  # the parsed outline runs a few pixels inside the cloth's soft edge
        near = ndimage.binary_dilation(old, iterations=grow)
        old |= near & (parsing.mask("background") | parsing.mask("skin"))
    exposed = old & (garment_alpha < 0.999)
    if protect is not None:
        exposed &= ~protect
    coverage = final.extras["garment_coverage"]
    body_alpha = np.clip(final.mask - coverage, 0.0, 1.0)
    bare = (body_alpha > 0.98) & (coverage < 0.02)
    # the body's shading without the render's sampling grain (a normalised Gaussian over bare
    # body pixels), then filled out from the nearest bare pixel
    weight = ndimage.gaussian_filter(bare.astype(np.float32), _SKIN_SMOOTH_PX)
    summed = ndimage.gaussian_filter(
        final.rgba[..., :3].astype(np.float32) * bare[..., None], (_SKIN_SMOOTH_PX,) * 2 + (0,)
    )
    smooth = summed / np.maximum(weight, 1e-6)[..., None]
    body_srgb = _fill_from_nearest(smooth, bare & (weight > 0.25))
    # the body's own coverage where the garment hides it: the body is there
    body_there = np.where(coverage > 0.02, np.clip(final.mask, 0.0, 1.0), body_alpha)
    under, changed = underlay(
        photo,
        exposed,
        body_srgb=body_srgb,
        body_alpha=body_there,
        bare_body=bare & ~occluder,
        skin=parsing.mask("skin"),
        person=ndimage.binary_dilation(parsing.mask("person") | person, iterations=grow),
        skin_rgb=parsing.skin_rgb,
        margin_px=blend_margin_px,
        hidden=(garment_alpha >= 0.999) & ~exposed,
        background_fill=background_fill,
    )
    alpha = garment_alpha[..., None]
    composite = linear_to_srgb(
        srgb_to_linear(garment_rgb) * alpha + srgb_to_linear(under) * (1.0 - alpha)
    )
    result = np.clip(np.round(composite * 255.0), 0, 255).astype(np.uint8)
    untouched = ~((garment_alpha > 0) | changed)
    if protect is not None:  # in front of everything: not even the blend band reaches them
        untouched |= protect
    result[untouched] = photo[untouched]  # bit-exact photo wherever nothing was composited
    return result, region, ~untouched
