"""Photos in: loading with checks, and MediaPipe Pose analysis (2D keypoints + person mask).

Uses MediaPipe 0.10.14's legacy Pose with ``model_complexity=1``, the only model its wheel
ships (complexities 0 and 2 try to download theirs). Pixel coordinates follow ``render.Camera``:
``u`` right, ``v`` down, pixel ``(i, j)`` spans ``[i, i + 1]``.
"""

from __future__ import annotations

import atexit
import io
import math
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "LANDMARK_NAMES",
    "NoPersonFound",
    "Photo",
    "PhotoAnalysis",
    "analyze_photo",
    "load_photo",
]

#: MediaPipe Pose's 33 landmarks; "left" is the person's left.
LANDMARK_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)

MAX_PIXELS = 50_000_000  # decompression-bomb guard: larger images are refused
MAX_FILE_BYTES = 80 * 1024 * 1024
MIN_SIDE_PX = 128
ANALYSIS_LONG_SIDE_PX = 1024  # photos are analysed and fitted at most this large
_VISIBLE = 0.5
_HEAD = (0, 2, 5, 7, 8)
_ANKLES = (27, 28)
_BODY = tuple(range(11, 29))
#: Shoulders and hips: a person whose torso is seen is clearly visible, whatever clothes and
#: bags hide (a maxi skirt hides the knees and ankles, pockets the hands: 12 of _BODY's 18)
_TORSO = (11, 12, 23, 24)
_lock = threading.Lock()
_FILM_DIAGONAL_MM = math.hypot(36.0, 24.0)
_EXIF_IFD, _FOCAL_35MM_TAG = 0x8769, 41989
_FOCAL_35MM_RANGE = (8.0, 1200.0)  # [mm]: anything outside is a broken tag, not a lens


def _exif_focal_35mm(image) -> float | None:
    """``FocalLengthIn35mmFilm`` [mm] from a PIL image's EXIF (its Exif IFD, else IFD0), None
    when absent or implausible."""
    try:
        exif = image.getexif()
        value = exif.get_ifd(_EXIF_IFD).get(_FOCAL_35MM_TAG, exif.get(_FOCAL_35MM_TAG))
        focal = float(value) if value is not None else None
    except Exception:  # a damaged EXIF block must not refuse the photo: ignore it
        return None
    low, high = _FOCAL_35MM_RANGE
    return focal if focal is not None and low <= focal <= high else None


@dataclass(frozen=True, eq=False)
class Photo:
    """A decoded photo, upright (EXIF orientation applied), alpha composited.

    Attributes:
        pixels: sRGB colours, shape (H, W, 3), uint8.
        alpha: the file's alpha channel in [0, 1], shape (H, W), float32, or None.
        name: where it came from (for messages).
        focal_35mm_mm: the lens's 35 mm-equivalent focal length [mm] from the file's EXIF
            (``FocalLengthIn35mmFilm``), or None when the file has none.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None
    name: str
    focal_35mm_mm: float | None = None

    @property
    def focal_px(self) -> float | None:
        """Focal length [px] from ``focal_35mm_mm`` (35 mm equivalence is by the diagonal:
        43.27 mm on film), or None."""
        if self.focal_35mm_mm is None:
            return None
        return self.focal_35mm_mm / _FILM_DIAGONAL_MM * math.hypot(self.width, self.height)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


@dataclass(frozen=True, eq=False)
class PhotoAnalysis:
    """What MediaPipe sees in a photo, at the analysis scale.

    Attributes:
        keypoints: landmark pixel positions (u, v) [px], shape (33, 2), float64, order
            ``LANDMARK_NAMES``, in the analysis image (``scale`` times the photo's size).
        visibility: MediaPipe's visibility per landmark in [0, 1], shape (33,).
        mask: person segmentation probability in [0, 1], shape (h, w), float32.
        scale: analysis size / photo size (<= 1).
        photo_size: (width, height) of the photo [px].
        notes: plain statements about what the photo hid (e.g. ankles under long clothes).
        torso_yaw_rad: how far the torso is turned about the vertical from facing the camera
            [rad], by MediaPipe's metric 3D landmarks (the shoulders' and the hips' left-right
            lines; positive: the person's left side away from the camera); None where they
            were not found. Side views read about -90 or +90 deg.
        stride: how far the ankles stand apart towards the camera, over the legs' length
            (dimensionless, by the same 3D landmarks): about 0 standing, 0.18-0.39 in our
            renders' walking stride; None where they were not found.
        feet_seen: whether the person mask's lowest rows are known to be the feet (the
            clothed fit's parsing found shoes there, ``_photo_fit``): then a head that says the
            person is taller than the outline does not say the mask lost the legs.
        hair_and_shoes: how many times the person's height their outline stands, as another
            view of them measured it (``_photo_fit`` gives a side view the front's: hair over
            the skull and shoes under the feet, which a side view's ankles, one hidden behind
            the other, cannot measure); 1 where not known.
    """

    keypoints: np.ndarray
    visibility: np.ndarray
    mask: np.ndarray
    scale: float
    photo_size: tuple[int, int]
    notes: tuple[str, ...] = ()
    torso_yaw_rad: float | None = None
    stride: float | None = None
    feet_seen: bool = False
    hair_and_shoes: float = 1.0

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the analysis image [px]."""
        return int(self.mask.shape[1]), int(self.mask.shape[0])


def max_photo_pixels() -> int:
    """Largest photo accepted [pixels]: ``TRYON3D_MAX_PHOTO_PIXELS`` or ``MAX_PIXELS`` (50 MP)."""
    text = os.environ.get("TRYON3D_MAX_PHOTO_PIXELS", "").strip()
    if not text:
        return MAX_PIXELS
    try:
        value = int(float(text))
    except ValueError:
        raise ValueError(
            f"TRYON3D_MAX_PHOTO_PIXELS must be a number of pixels, got {text!r}"
        ) from None
    if value <= 0:
        raise ValueError(f"TRYON3D_MAX_PHOTO_PIXELS must be positive, got {text!r}")
    return value


#: What ``load_photo`` decodes: a path, encoded bytes or an (H, W[, 3|4]) uint8 array.
PhotoSource = str | os.PathLike | bytes | np.ndarray


def load_photo(source: PhotoSource, *, name: str | None = None) -> Photo:
    """Decode a photo from a path, bytes or an (H, W[, 3|4]) uint8 array, with checks.

    EXIF orientation is applied; grayscale, palette, 16-bit and CMYK images become RGB; an alpha
    channel is composited over black (and kept in ``Photo.alpha``).

    Raises:
        ValueError: unreadable or not an image, too large (pixels or bytes), or too small.
    """
    from PIL import Image, ImageOps

    focal = None
    if isinstance(source, np.ndarray):
        label = name or "photo array"
        array = source
        if array.dtype != np.uint8:
            raise ValueError(f"{label}: pixel arrays must be uint8, got {array.dtype}")
        if array.ndim == 2:
            array = np.repeat(array[:, :, None], 3, axis=2)
        if array.ndim != 3 or array.shape[2] not in (3, 4):
            raise ValueError(
                f"{label}: expected shape (H, W), (H, W, 3) or (H, W, 4), got {source.shape}"
            )
        image = Image.fromarray(
            np.ascontiguousarray(array), "RGBA" if array.shape[2] == 4 else "RGB"
        )
    else:
        if isinstance(source, bytes | bytearray):
            label, data = name or "photo bytes", bytes(source)
        else:
            path = Path(source)
            label = name or str(path)
            if not path.is_file():
                raise ValueError(f"photo {label!r} does not exist or is not a file")
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise ValueError(
                    f"photo {label!r} is {size / 2**20:.0f} MiB, more than the "
                    f"{MAX_FILE_BYTES / 2**20:.0f} MiB allowed"
                )
            data = path.read_bytes()
        if len(data) > MAX_FILE_BYTES:
            raise ValueError(f"photo {label!r} is larger than {MAX_FILE_BYTES / 2**20:.0f} MiB")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(data))
                width, height = image.size
                limit = max_photo_pixels()
                if width * height > limit:
                    raise ValueError(
                        f"photo {label!r} has {width}x{height} pixels, more than the "
                        f"{limit / 1e6:.0f} MP allowed (possible decompression bomb); "
                        "scale it down or set TRYON3D_MAX_PHOTO_PIXELS"
                    )
                image.seek(0)
                image.load()
                focal = _exif_focal_35mm(image)
                ImageOps.exif_transpose(image, in_place=True)  # no copy of a 48 MP image
        except ValueError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValueError(
                f"photo {label!r} is too large (possible decompression bomb)"
            ) from None
        except Exception as exc:  # PIL raises many types for corrupt files
            raise ValueError(
                f"cannot read photo {label!r}: not a readable image ({type(exc).__name__})"
            ) from None
    width, height = image.size
    if min(width, height) < MIN_SIDE_PX:
        raise ValueError(
            f"photo {label!r} is {width}x{height} px; at least {MIN_SIDE_PX} px per side is needed"
        )
    alpha = None
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.uint8)
        pixels = np.empty((height, width, 3), dtype=np.uint8)
        for top in range(
            0, height, 512
        ):  # round(rgb * a / 255) in integers, in strips: no float copy
            strip = rgba[top : top + 512]
            a = strip[:, :, 3:4].astype(np.uint16)
            pixels[top : top + 512] = (strip[:, :, :3] * a + 127) // 255
        alpha = rgba[:, :, 3].astype(np.float32) / 255.0
        if alpha.min() > 0.999:
            alpha = None
    elif image.mode == "RGB":
        # copied out in strips: a writeable array, and no photo-sized bytes object on the way
        pixels = np.empty((height, width, 3), dtype=np.uint8)
        for top in range(0, height, 512):
            pixels[top : top + 512] = np.asarray(
                image.crop((0, top, width, min(top + 512, height)))
            )
    else:
        if image.mode.startswith("I;16") or image.mode in ("I", "F"):
            values = np.asarray(image, dtype=np.float64)
            high = max(float(values.max()), 1.0)
            image = Image.fromarray(np.round(values / high * 255.0).astype(np.uint8), "L")
        # a copy: PIL hands numpy a read-only buffer, and the try-on composites in place (a
        # palette PNG had failed there)
        pixels = np.array(image.convert("RGB"), dtype=np.uint8)
    return Photo(pixels=np.ascontiguousarray(pixels), alpha=alpha, name=label, focal_35mm_mm=focal)


_POSE_OPTIONS = (
    ("static_image_mode", True),
    ("model_complexity", 1),
    ("enable_segmentation", True),
)
_graphs: dict[tuple, Any] = {}  # (pid, options) -> open mediapipe Pose graph, guarded by _lock
_graph_builds = 0  # graphs built in this process (for tests and benchmarks)


def _pose_solution(options: tuple = _POSE_OPTIONS):
    """The process's MediaPipe Pose graph for ``options``, built on first use (~0.5 s) and reused.

    Static-image mode keeps no state between frames, so one graph serves every photo. Keyed by the
    process id too: a forked child must not share its parent's graph threads. Call under ``_lock``.
    """
    global _graph_builds
    key = (os.getpid(), options)
    graph = _graphs.get(key)
    if graph is None:
        import mediapipe as mp

        graph = mp.solutions.pose.Pose(**dict(options))
        _graphs[key] = graph
        _graph_builds += 1
    return graph


def close_pose_graphs() -> None:
    """Close this process's cached MediaPipe graphs (registered to run at exit)."""
    with _lock:
        for key in [key for key in _graphs if key[0] == os.getpid()]:
            _graphs.pop(key).close()


atexit.register(close_pose_graphs)


class _Look(tuple):
    """``_run_pose``'s (keypoints, visibility, mask), also carrying MediaPipe's metric 3D
    landmarks (``world``: (33, 3) [m], x to the image's right, z away from the camera; None
    where it gave none), from which the torso's turn is read without a second pass; a
    mirrored copy's are mirrored back with its landmarks (``_retries``)."""

    world: np.ndarray | None = None


def _run_pose(pixels: np.ndarray):
    """(keypoints (33, 2) px, visibility (33,), mask (h, w)) as a ``_Look``, or None when
    nobody is found."""
    height, width = pixels.shape[:2]
    with _lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = _pose_solution().process(np.ascontiguousarray(pixels))
        if result.pose_landmarks is None:
            return None
        marks = result.pose_landmarks.landmark
        keypoints = np.array([[m.x * width, m.y * height] for m in marks], dtype=np.float64)
        visibility = np.array([m.visibility for m in marks], dtype=np.float64)
        mask = result.segmentation_mask
        # a copy: the graph's output buffers are reused by its next call
        mask = np.zeros((height, width), np.float32) if mask is None else np.array(mask, np.float32)
        world = result.pose_world_landmarks
    look = _Look((keypoints, visibility, mask))
    if world is not None:
        look.world = np.array([[m.x, m.y, m.z] for m in world.landmark], dtype=np.float64)
    return look


def _torso_yaw(found) -> float | None:
    """The torso's turn about the vertical [rad] (``PhotoAnalysis.torso_yaw_rad``) from the
    3D landmarks of the look taken (``found``: a ``_Look``); None where it has none."""
    world = getattr(found, "world", None)
    if world is None:
        return None
    # a left-minus-right line turned away from the camera: the person's left side is farther
    turns = [world[left] - world[right] for left, right in ((11, 12), (23, 24))]
    return float(np.mean([math.atan2(line[2], line[0]) for line in turns]))


def _stride(found) -> float | None:
    """The ankles' separation in depth over the legs' mean hip-to-ankle length
    (``PhotoAnalysis.stride``) from the 3D landmarks of the look taken; None where it has
    none."""
    world = getattr(found, "world", None)
    if world is None:
        return None
    length = float(np.mean([np.linalg.norm(world[a] - world[h]) for h, a in ((23, 27), (24, 28))]))
    return float(abs(world[27, 2] - world[28, 2]) / length) if length > 0 else None


def _resize(pixels: np.ndarray, scale: float) -> np.ndarray:
    from PIL import Image

    if scale >= 1.0:
        return pixels
    height, width = pixels.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if pixels.nbytes <= 1 << 25:
        return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS))
    # a large photo in bands of output rows, each from its source rows plus the filter's reach:
    # PIL would otherwise copy the whole photo at 4 bytes a pixel (192 MB at 48 MP)
    step = height / size[1]
    reach = 3.0 * step + 2  # Lanczos-3, widened by the reduction
    out = np.empty((size[1], size[0], *pixels.shape[2:]), np.uint8)
    for top in range(0, size[1], 64):
        bottom = min(top + 64, size[1])
        first = max(0, int(top * step - reach))
        last = min(height, int(np.ceil(bottom * step + reach)))
        band = Image.fromarray(np.ascontiguousarray(pixels[first:last]))
        box = (0.0, top * step - first, float(width), bottom * step - first)
        out[top:bottom] = np.asarray(
            band.resize((size[0], bottom - top), Image.Resampling.LANCZOS, box=box)
        )
    return out


def _components(binary: np.ndarray) -> tuple[np.ndarray, int]:
    from scipy import ndimage

    labels, count = ndimage.label(binary)
    return labels, count


#: Holes in the person mask up to this share of the person's area are filled (at 0.5: the fit
#: may cover them, but need not); larger ones are the background seen through the body's own
#: loops and keep MediaPipe's values: crossed legs whose thighs and feet meet (a real photo:
#: 7.4 % of the person), an arm bent to the head (``photo_poses``: 2.7-3.8 %) or holding a
#: skirt out. Filled, the fit was free to lie there: that woman's crossed leg was fitted over
#: the gap beside it (0.918 of the fitted silhouette inside her mask; kept: 0.946). Narrower
#: slivers between a hanging arm and the torso (0.3-1.4 % on real photos; training side views
#: up to 2 %) stay filled: kept as background, the fitted arm, placed less exactly than the
#: outline, fell into them off the skin (a woman walking in a long skirt: 0.969 of her visible
#: skin covered filled, 0.735 kept; photo_poses' walking woman 0.993 and 0.877).
_SMALL_HOLE_SHARE = 0.02


def _person_mask(mask: np.ndarray, keypoints: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """The segmentation restricted to the components that hold the body's keypoints, small
    holes filled (``_SMALL_HOLE_SHARE``)."""
    from scipy import ndimage

    binary = mask > 0.5
    labels, count = _components(binary)
    if count == 0:
        return mask * 0.0
    height, width = mask.shape
    keep: set[int] = set()
    for index in _BODY:
        if visibility[index] < _VISIBLE:
            continue
        u, v = np.clip(keypoints[index], 0, [width - 1, height - 1]).astype(int)
        window = labels[max(0, v - 3) : v + 4, max(0, u - 3) : u + 4]
        keep.update(int(x) for x in np.unique(window) if x > 0)
    if not keep:
        sizes = ndimage.sum(binary, labels, range(1, count + 1))
        keep = {int(np.argmax(sizes)) + 1}
    body = np.isin(labels, sorted(keep))
    person = ndimage.binary_fill_holes(body)
    holes, count = ndimage.label(person & ~body)
    if count:
        area = ndimage.sum_labels(np.ones(body.shape), holes, np.arange(1, count + 1))
        loops = np.flatnonzero(area > _SMALL_HOLE_SHARE * person.sum()) + 1
        person &= ~np.isin(holes, loops)
    return np.where(person, np.maximum(mask, 0.5), np.minimum(mask, 0.49)).astype(np.float32)


#: The parsing network's person reaching this share of its height below the person mask's
#: lowest row: MediaPipe lost the lower body (its landmark crop misjudged: side views of a
#: standing person before a plain or striped backdrop came back cut at the hips, landmarks
#: and all, on 7 of the 48 clothed benchmark subjects; 14 of their 96 views are looked at again).
_CUT_SHORT_SHARE = 0.05
#: A retry is taken when its mask agrees with the network's person this much better (IoU).
_RETRY_GAIN = 0.05
#: ... or, for a copy of the photo's own pixels (mirrored, edge-padded) whose mask reaches the
#: network's lowest rows, no worse, if its mask strays outside the network's person by at most
#: this share more than the first look's: a dress before a striped wood panel
#: (``photo_poses``), whose network person was itself off (IoU 0.78 with the truth), took a
#: grey-backdrop copy agreeing 0.09 better with it but 4-5 px wide of the body all round (0.10
#: of the mask outside her) over a padded one agreeing 0.04 better (0.04 outside, the first
#: look's edge); a mirrored side view agreeing 0.015 better had a blob on the back (0.03 more
#: stray) and is passed over for a padded one agreeing 0.05 better.
_RETRY_OWN_STRAY = 0.01
#: Most share of a retry's mask outside the network's person (``_near_person``) beyond the
#: first look's own share, for the retry to be taken: a padded copy of one side view (arms half
#: down) found the whole person with a blob below the hands (9 % of its mask outside, the first
#: look 2 %). Relative, as the network misses some of a person alike in every look (the back of
#: a bare body on a skin-brown backdrop: 8 % outside in the first look and its retries).
_RETRY_STRAY_SHARE = 0.05
#: Paddings tried, as shares of the photo's long side: where MediaPipe crops for its landmark
#: model shifts with them (one side view: IoU with the network's person 0.57 at 0.125, 0.82
#: mirrored at 0.2, 0.93 at 0.3).
_RETRY_PADS = (0.125, 0.2, 0.3)
#: Each of MediaPipe's 33 landmarks' left/right twin (itself on the midline): a mirrored photo
#: shows the person's left as a right.
MIRRORED_LANDMARKS = np.arange(33)
for _a, _b in ((1, 4), (2, 5), (3, 6), *((i, i + 1) for i in range(7, 33, 2))):
    MIRRORED_LANDMARKS[_a], MIRRORED_LANDMARKS[_b] = _b, _a


def _network_person(pixels: np.ndarray, person: np.ndarray) -> np.ndarray | None:
    """The parsing network's person (h, w) bool, in a box from the mask's top row down to the
    photo's bottom and widened by a quarter of that each side, kept where it joins ``person``;
    None without the network's weights."""
    from tryon3d.bodyfit._parsing_net import class_probabilities

    rows, cols = np.flatnonzero(person.any(axis=1)), np.flatnonzero(person.any(axis=0))
    height, width = person.shape
    reach = 0.25 * (height - rows[0])
    probe = np.zeros_like(person)
    probe[rows[0] :, max(0, int(cols[0] - reach)) : min(width, int(cols[-1] + 1 + reach))] = True
    probs = class_probabilities(pixels, probe)
    if probs is None:
        return None
    labels, _ = _components(probs[..., 0] < 0.5)
    joined = np.unique(labels[person])
    return np.isin(labels, joined[joined > 0])


def _near_person(network: np.ndarray) -> np.ndarray:
    """The network's person (h, w) bool grown by half a percent of the photo's height (at least
    2 px): its edge is coarser than MediaPipe's."""
    from scipy import ndimage

    grow = max(2, round(0.005 * network.shape[0]))
    return ndimage.binary_dilation(network, iterations=grow)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a & b)) / max(float(np.count_nonzero(a | b)), 1.0)


def _retries(pixels: np.ndarray, near: np.ndarray | None, *, flat: bool = False):
    """MediaPipe's results on altered copies of ``pixels``, mapped back to its pixels, least
    altered first: mirrored; padded by ``_RETRY_PADS`` of the long side (the edge pixels
    repeated), also mirrored; or, with ``flat`` and given the network's person (``near``: as
    ``_near_person`` grows it), the backdrop outside it flat grey, unpadded and padded with
    grey, also mirrored. A flat backdrop moves the mask's edge towards the network's coarser
    one (on a real photo: IoU with the first look 0.87-0.90 against the mirror's 0.98), so
    those come last."""
    pads = [round(share * max(pixels.shape[:2])) for share in _RETRY_PADS]
    # (image, pad [px], padded with the edge's pixels (else grey), mirrored)
    tries = []
    if not flat:
        tries += [(pixels, 0, True, True)]
        tries += [(pixels, pad, True, mirror) for pad in pads for mirror in (False, True)]
    elif near is not None:
        grey = np.where(near[..., None], pixels, np.uint8(128))
        tries += [(grey, pad, False, mirror) for pad in (0, *pads) for mirror in (False, True)]
    for image, pad, edge, mirror in tries:
        if pad:
            around = ((pad, pad), (pad, pad), (0, 0))
            image = (
                np.pad(image, around, "edge")
                if edge
                else np.pad(image, around, "constant", constant_values=128)
            )
        result = _run_pose(np.ascontiguousarray(image[:, ::-1] if mirror else image))
        if result is None:
            continue
        points, seen, probability = result
        world = getattr(result, "world", None)
        if mirror:
            points, seen = points[MIRRORED_LANDMARKS], seen[MIRRORED_LANDMARKS]
            points[:, 0] = image.shape[1] - points[:, 0]
            probability = probability[:, ::-1]
            if world is not None:
                world = world[MIRRORED_LANDMARKS] * np.array([-1.0, 1.0, 1.0])
        if pad:
            points, probability = points - pad, probability[pad:-pad, pad:-pad]
        look = _Look((points, seen, np.ascontiguousarray(probability)))
        look.world = world
        yield look


def _whole_person(pixels: np.ndarray, found: tuple) -> tuple[tuple, bool]:
    """MediaPipe's result for ``pixels``, retried where it lost the lower body; and whether a
    retry was taken.

    The check is our parsing network's person (``_network_person``), reaching well below the
    mask. The retries are the photo mirrored and padded with its edge, then with its backdrop
    outside the network's person made flat grey, also padded (MediaPipe crops its landmark
    model's input from a first detection, and these move that crop). The first (least altered)
    whose mask reaches the network's lowest rows is taken if it agrees with the network's
    person ``_RETRY_GAIN`` better than the first look, or, a copy of the photo's own pixels, no
    worse while straying no more than ``_RETRY_OWN_STRAY`` beyond it; failing that, the one
    agreeing best, if it agrees ``_RETRY_GAIN`` better. A retry whose mask strays outside the
    network's person more than the first look's (``_RETRY_STRAY_SHARE``) is passed over.
    """
    keypoints, visibility, mask = found
    person = _person_mask(mask, keypoints, visibility) > 0.5
    rows = np.flatnonzero(person.any(axis=1))
    if len(rows) == 0:
        return found, False
    network = _network_person(pixels, person)
    if network is None:
        return found, False
    net_rows = np.flatnonzero(network.any(axis=1))

    def reaches(mask: np.ndarray) -> bool:  # down to the network's lowest rows
        rows = np.flatnonzero(mask.any(axis=1))
        shortfall = net_rows[-1] - rows[-1] if len(rows) else len(mask)
        return shortfall <= _CUT_SHORT_SHARE * (net_rows[-1] + 1 - net_rows[0])

    if reaches(person):
        return found, False
    first_iou = _iou(person, network)
    best, best_iou = found, first_iou
    near = _near_person(network)

    def stray(mask: np.ndarray) -> float:
        return float(np.count_nonzero(mask & ~near)) / max(float(np.count_nonzero(mask)), 1.0)

    first_stray = stray(person)
    for flat in (False, True):
        for retry in _retries(pixels, near, flat=flat):
            kept = _person_mask(retry[2], retry[0], retry[1]) > 0.5
            strays = stray(kept)
            if strays > first_stray + _RETRY_STRAY_SHARE:
                continue
            agreement = _iou(kept, network)
            if agreement > best_iou:
                best, best_iou = retry, agreement
            if not reaches(kept):
                continue
            # the least altered copy that finds the whole person; one of the photo's own
            # pixels keeps MediaPipe's edge, so agreeing no worse is enough if it strays no
            # more (a flat copy's edge drifts to the network's coarser one)
            if agreement >= first_iou + _RETRY_GAIN or (
                not flat and agreement >= first_iou and strays <= first_stray + _RETRY_OWN_STRAY
            ):
                return retry, True
    if best_iou < first_iou + _RETRY_GAIN:
        return found, False
    return best, True


#: Least share of a second detection's landmark height inside the photo for it to count.
_SECOND_PERSON_FRAMED = 0.8
#: Most pixels a second detection's person mask may hold, as a multiple of its landmark box's
#: area, for it to count (a real person: 0.5-0.7; a backdrop region read as a figure: more).
_SECOND_PERSON_FILL = 1.2


def _check_single_person(
    pixels: np.ndarray, mask: np.ndarray, keypoints: np.ndarray, visibility: np.ndarray, label: str
) -> None:
    """Raise if a second person of comparable size shows up (segmentation or a second detection)."""
    from scipy import ndimage

    person = mask > 0.5
    rows = np.flatnonzero(person.any(axis=1))
    person_height = float(rows[-1] - rows[0] + 1) if len(rows) else 1.0
    # A second detection with the first person painted over in the background colour.
    grown = ndimage.binary_dilation(person, iterations=max(3, int(0.03 * person_height)))
    lo = np.clip(keypoints[list(_BODY)].min(axis=0), 0, None)
    hi = keypoints[list(_BODY)].max(axis=0)
    background = np.median(pixels[~grown], axis=0) if (~grown).any() else np.array([128, 128, 128])
    painted = pixels.copy()
    painted[grown] = background.astype(np.uint8)
    second = _run_pose(painted)
    if second is None:
        return
    points, seen, second_mask = second
    body_seen = seen[list(_BODY)]
    if np.mean(body_seen > _VISIBLE) < 0.7:
        return
    top_left, bottom_right = points[list(_BODY)].min(axis=0), points[list(_BODY)].max(axis=0)
    # ... or one segmented as a whole region of the backdrop: a person's mask covers about
    # half to two thirds of its landmarks' box (the head and arms reach out of it), a figure
    # read into blue hexagons was segmented as 1.4 times its box (a third of the photo)
    segmented = float(np.count_nonzero(second_mask > 0.5))
    if segmented > _SECOND_PERSON_FILL * max(float(np.prod(bottom_right - top_left)), 1.0):
        return
    # MediaPipe reads a figure into some patterned backdrops once the person is painted over:
    # one reaching far out of the frame (a side photo's blue hexagons: 44 % of it above the
    # top edge) is no second person standing in the photo
    span = max(float(bottom_right[1] - top_left[1]), 1.0)
    framed = float(np.clip(bottom_right[1], 0, pixels.shape[0]) - np.clip(top_left[1], 0, None))
    if framed < _SECOND_PERSON_FRAMED * span:
        return
    overlap = np.clip(np.minimum(hi, bottom_right) - np.maximum(lo, top_left), 0, None).prod()
    area = max(np.prod(bottom_right - top_left), 1.0)
    tall = (bottom_right[1] - top_left[1]) > 0.35 * person_height
    centre = 0.5 * (top_left + bottom_right)
    on_first = grown[
        int(np.clip(centre[1], 0, grown.shape[0] - 1)),
        int(np.clip(centre[0], 0, grown.shape[1] - 1)),
    ]
    if tall and overlap / area < 0.5 and not on_first:
        raise ValueError(f"photo {label!r} shows more than one person; crop it to one person")


class NoPersonFound(ValueError):
    """The pose detector found no person, or none clearly, in a photo (a ``ValueError``)."""


def analyze_photo(photo: Photo, *, check_single: bool = True) -> PhotoAnalysis:
    """Find one whole standing person: 33 keypoints and a segmentation mask.

    Where MediaPipe finds nobody, or a person mask that our parsing network's person reaches
    well below (its landmark crop misjudged: the pose and the mask cut at the hips), it looks
    again at mirrored, padded and plainer copies of the photo (``_whole_person``), with a note.

    Raises:
        NoPersonFound: no person, or none clearly visible.
        ValueError: more than one person, not upright, or the body cut off (the head outside the
            frame or hidden, the ankles predicted outside the frame, or the feet on the bottom
            edge while the ankles are not clearly seen). Ankles hidden by long clothes inside
            the frame are kept, with a note.
    """
    scale = min(1.0, ANALYSIS_LONG_SIDE_PX / max(photo.width, photo.height))
    pixels = _resize(photo.pixels, scale)
    found = _run_pose(pixels)
    label = photo.name
    retried = False
    if found is None:  # a mirrored or padded copy may be found (a side view was not)
        found = next(_retries(pixels, None), None)
        retried = found is not None
    if found is None:
        raise NoPersonFound(f"no person found in photo {label!r}")
    found, recovered = _whole_person(pixels, found)
    retried |= recovered
    keypoints, visibility, mask = found
    height, width = mask.shape
    seen = visibility > _VISIBLE
    clear = bool(seen[list(_TORSO)].all()) or float(np.mean(seen[list(_BODY)])) >= 0.5
    if not clear or (mask > 0.5).mean() < 0.003:
        raise NoPersonFound(f"no clearly visible person in photo {label!r}")
    margin = 0.002 * max(width, height)

    def inside(index: int) -> bool:
        u, v = keypoints[index]
        return -margin <= u <= width + margin and -margin <= v <= height + margin

    head_seen = [i for i in _HEAD if visibility[i] > _VISIBLE and inside(i)]
    if len(head_seen) < 2:
        raise ValueError(
            f"photo {label!r}: the head is cut off or hidden; the whole body must be in the frame"
        )
    # Both ankles predicted inside the frame. Loose trousers and long skirts hide the ankles
    # (low visibility) although the feet are in the frame: those photos fit, with the ankles
    # where MediaPipe places them; only feet really out of the frame are refused.
    for index in _ANKLES:
        if not inside(index):
            raise ValueError(
                f"photo {label!r}: the {LANDMARK_NAMES[index].replace('_', ' ')} is cut off; "
                "the whole body, feet included, must be in the frame"
            )
    # Standing, head up: the shoulders-to-ankles line within 45 deg of straight down. A photo
    # turned on its side or upside down (a phone's EXIF orientation stripped on the way) was
    # fitted as it lay.
    down = keypoints[list(_ANKLES)].mean(axis=0) - keypoints[[11, 12]].mean(axis=0)
    if down[1] <= abs(down[0]):
        raise ValueError(
            f"photo {label!r}: the person does not stand upright in it (head at the top); "
            "turn the photo the right way up"
        )
    person = _person_mask(mask, keypoints, visibility)
    rows = np.flatnonzero((person > 0.5).any(axis=1))
    if len(rows) and (rows[-1] >= height - 1 and visibility[list(_ANKLES)].min() < 0.8):
        raise ValueError(
            f"photo {label!r}: the feet touch the bottom edge; the whole body must be in the frame"
        )
    notes = []
    if retried:
        notes.append(
            "the pose was found on a mirrored, padded or plainer copy of the photo: the "
            "first look missed the person or lost the lower body"
        )
    hidden = [i for i in _ANKLES if visibility[i] < _VISIBLE]
    if hidden and len(rows):
        # A hidden ankle predicted below the person's lowest row is pulled up onto it (the sole).
        keypoints = keypoints.copy()
        for index in hidden:
            keypoints[index, 1] = min(float(keypoints[index, 1]), float(rows[-1]))
    if len(hidden) == len(_ANKLES):  # one hidden ankle is what a side view shows anyway
        notes.append(
            "the ankles are hidden (long trousers or skirt?); taken from the predicted "
            "landmarks and the person's lowest rows"
        )
    if len(rows) and rows[-1] - rows[0] < 64:
        raise ValueError(
            f"photo {label!r}: the person is only {rows[-1] - rows[0]} px tall; "
            "at least 64 px needed"
        )
    if check_single:
        _check_single_person(pixels, person, keypoints, visibility, label)
    return PhotoAnalysis(
        keypoints=keypoints,
        visibility=visibility,
        mask=person,
        scale=float(scale),
        photo_size=(photo.width, photo.height),
        notes=tuple(notes),
        torso_yaw_rad=_torso_yaw(found),
        stride=_stride(found),
    )
