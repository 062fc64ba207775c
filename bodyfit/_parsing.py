"""Human parsing of a photo: a per-pixel label map from what ships (no downloaded model).

Person vs background from MediaPipe's segmentation, refined by GrabCut near its boundary; skin
from a chroma (YCrCb Cr/Cb) Gaussian learnt per photo on the face below the eyes and above the
mouth, accepted by a Mahalanobis threshold (looser for shaded pixels joined to strict ones) only
where the pose puts a head, neck or limb, and then checked by our parsing network
(``_parsing_net``, trained on real street photos and our renders), which sees the garment a
pixel belongs to: colour finds the skin, the network takes back what it sees as hair, a
garment or shoes (clothes merely of the skin's colour) and adds skin it is sure of where colour
missed it (hands are kept: they are small in its input); hair is the non-skin part of the
head, long hair by colour, and what the network calls hair; clothes are the rest, each pixel
the network's upper / lower / dress where it is sure, else split into upper / lower by the row
that best separates the dominant Lab k-means colour of the torso from that of the thighs (the
hip line when both are the same colour), a dress where one colour runs from chest to below the
hips and fills the gap between the knees; shoes below the ankles. ``net=False`` parses by
colour and pose alone (the parser before the network).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from tryon3d.bodyfit._photo import Photo, PhotoAnalysis, analyze_photo, load_photo
from tryon3d.core import pieces_touching

__all__ = ["LABELS", "PersonParsing", "parse_person"]

#: Label values of ``PersonParsing.labels`` are indices into this tuple.
LABELS: tuple[str, ...] = (
    "background",
    "skin",
    "hair",
    "upper_clothes",
    "lower_clothes",
    "dress",
    "shoes",
)
BACKGROUND, SKIN, HAIR, UPPER, LOWER, DRESS, SHOES = range(7)
CLOTHES = (UPPER, LOWER, DRESS)  # the garment labels
# How the network's probabilities join colour's parsing, chosen on held-out CCP photos
# (``benchmarks/parsing.py --ccp``): skin colour finds is dropped where the network gives
# hair, a garment or shoes (_NET_NOT_SKIN) together at least _NET_SKIN_VETO, skin is added in
# the pose's limb zone where it gives skin more than _NET_SKIN_SURE (elsewhere, a bare torso,
# where colour agrees too), and never dropped within
# _NET_KEEP_HANDS shoulder widths of a hand's landmarks (hands are a few of its input pixels);
# what it calls hair joins the hair. The veto asks for a part of the person, not merely "not
# skin": where the network is lost (bare legs before a backdrop of their own colour are all
# background to it) colour decides (a "skin < 0.3" veto: CCP skin IoU 0.759 against 0.753, but
# it dropped all of the bare legs in such a photo, and her fit left the person).
_NET_NOT_SKIN = (HAIR, UPPER, LOWER, DRESS, SHOES)
_NET_SKIN_VETO = 0.5
_NET_SKIN_SURE = 0.8
_NET_KEEP_HANDS = 0.2
# Clothes are the network's upper / lower / dress where one has at least this share of the
# three, colour's split row where it is unsure, and a dress only where colour found one (every
# 4th held-out CCP photo: IoU upper 0.45 -> 0.71, lower 0.43 -> 0.60, dress 0.28 -> 0.33 against
# colour's split alone; 0.6 beat 0.0 and 0.8; the network's dresses anywhere: lower 0.55).
_NET_GARMENT_SHARE = 0.6
_SKIN_CHI2 = 9.21  # chi-square, 2 dof, 99 %: Mahalanobis^2 bound in (Cr, Cb)
_SKIN_WEAK = 2.0  # the looser bound for skin in shade, as a multiple of _SKIN_CHI2
_MIN_COV = 4.0  # floor on the chroma variance [(8-bit units)^2]: flat-lit faces are not that pure
_GRABCUT_PERSON_PX = 320  # GrabCut learns its colours where the person is at most this tall [px]
_SAME_FABRIC = 10.0  # Lab distance (L* halved) below which two clusters are one fabric
#: Rows where the top's colour is sampled, as shares of the shoulder-to-hip-line drop below the
#: shoulders, in a view from the front: the chest, which a top covers, and not the waist, which
#: a high-waisted skirt or trousers cover too (sampled down to the hips, a real photo's navy
#: skirt was the top's colour and the split fell at mid-thigh). In a view from the side
#: (shoulders less than ``_FRONT_SHOULDERS`` drops apart) the arm hangs over the chest's
#: middle, and the top is sampled lower, ``_TOP_SAMPLE_SIDE``.
_TOP_SAMPLE = (0.2, 0.55)
_TOP_SAMPLE_SIDE = (0.35, 0.95)
_FRONT_SHOULDERS = 0.35
_NOSE, _EYES, _EARS, _MOUTH = 0, (2, 5), (7, 8), (9, 10)
_SHOULDERS, _ELBOWS, _WRISTS = (11, 12), (13, 14), (15, 16)
_HIPS, _KNEES, _ANKLES = (23, 24), (25, 26), (27, 28)
_FEET = (29, 30, 31, 32)
_HANDS = ((15, 17, 19, 21), (16, 18, 20, 22))


@dataclass(frozen=True, eq=False)
class PersonParsing:
    """A per-pixel label map of one person in a photo.

    Attributes:
        labels: index into :data:`LABELS` per pixel, shape (H, W), uint8, at the photo's size
            (worked out at the analysis scale, at most 1024 px long, and enlarged nearest).
        skin_rgb: median sRGB colour of the face skin sample, shape (3,), float64 in [0, 255].
        skin_chroma_mean: mean (Cr, Cb) of the skin model, shape (2,), float64 (8-bit units).
        skin_chroma_cov: its covariance, shape (2, 2), float64.
    """

    labels: np.ndarray
    skin_rgb: np.ndarray
    skin_chroma_mean: np.ndarray
    skin_chroma_cov: np.ndarray

    def mask(self, label: str) -> np.ndarray:
        """Pixels of ``label`` (a :data:`LABELS` name, ``"person"``, ``"clothes"``): (H, W) bool."""
        if label == "person":
            return self.labels != BACKGROUND
        if label == "clothes":
            return np.isin(self.labels, CLOTHES)
        if label not in LABELS:
            raise ValueError(
                f"label must be one of {(*LABELS, 'person', 'clothes')}, got {label!r}"
            )
        return self.labels == LABELS.index(label)

    def skin_coloured(self, rgb) -> bool:
        """Whether an sRGB colour ((3,) in [0, 255]) has the person's skin chroma, within the
        skin model's loose bound (skin in shade)."""
        import cv2

        pixel = np.clip(np.round(np.asarray(rgb, np.float64)), 0, 255).astype(np.uint8)
        ycc = cv2.cvtColor(pixel.reshape(1, 1, 3), cv2.COLOR_RGB2YCrCb)[0, 0, 1:]
        distance = _skin_chroma_distance2(
            ycc.astype(np.float64), self.skin_chroma_mean, self.skin_chroma_cov
        )
        return bool(distance < _SKIN_WEAK * _SKIN_CHI2)

    def fractions(self) -> dict[str, float]:
        """Share of the person's pixels per label (background excluded)."""
        person = max(int((self.labels != BACKGROUND).sum()), 1)
        return {
            name: float((self.labels == i).sum()) / person for i, name in enumerate(LABELS) if i
        }


def _refine_person(pixels: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """MediaPipe's mask, with GrabCut deciding only a band around its boundary."""
    import cv2
    from scipy import ndimage

    core = prob > 0.5
    rows, cols = np.flatnonzero(core.any(axis=1)), np.flatnonzero(core.any(axis=0))
    if len(rows) == 0:
        return core
    tall = rows[-1] - rows[0] + 1
    band = max(2, round(0.015 * tall))
    pad = 4 * band
    r0, r1 = max(0, rows[0] - pad), min(prob.shape[0], rows[-1] + pad + 1)
    c0, c1 = max(0, cols[0] - pad), min(prob.shape[1], cols[-1] + pad + 1)
    crop, sure = core[r0:r1, c0:c1], prob[r0:r1, c0:c1]
    inner = ndimage.binary_erosion(crop, iterations=band)
    outer = ndimage.binary_dilation(crop, iterations=band)
    gc = np.full(crop.shape, cv2.GC_BGD, np.uint8)
    gc[outer] = cv2.GC_PR_BGD
    gc[crop] = cv2.GC_PR_FGD
    gc[inner | (sure > 0.95)] = cv2.GC_FGD
    gc[~outer] = cv2.GC_BGD
    if not (gc == cv2.GC_BGD).any() or not (gc == cv2.GC_FGD).any():
        return core
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    image = np.ascontiguousarray(pixels[r0:r1, c0:c1, ::-1])  # OpenCV wants BGR
    # GrabCut's cost grows with the crop's pixels: a tall person's colour models are learnt
    # shrunk (three rounds), then one cut at full size with them frozen keeps the edge's pixels.
    shrink = min(1.0, _GRABCUT_PERSON_PX / float(tall))
    crop_h, crop_w = int(crop.shape[0]), int(crop.shape[1])
    size = (max(2, round(crop_w * shrink)), max(2, round(crop_h * shrink)))
    small = cv2.resize(gc, size, interpolation=cv2.INTER_NEAREST) if shrink < 1.0 else gc
    cv2.setRNGSeed(0)  # its GMMs start from k-means: the same photo parses the same every time
    if small is not gc and (small == cv2.GC_BGD).any() and (small == cv2.GC_FGD).any():
        shrunk = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        cv2.grabCut(shrunk, small, None, bgd, fgd, 3, cv2.GC_INIT_WITH_MASK)
        cv2.grabCut(image, gc, None, bgd, fgd, 1, cv2.GC_EVAL_FREEZE_MODEL)
    else:
        cv2.grabCut(image, gc, None, bgd, fgd, 3, cv2.GC_INIT_WITH_MASK)
    person = np.zeros_like(core)
    person[r0:r1, c0:c1] = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
    # GrabCut may lose a limb over a background of the same colour: fall back when it strays.
    if abs(int(person.sum()) - int(core.sum())) > 0.15 * core.sum():
        return core
    labels, count = ndimage.label(person)
    if count > 1:
        sizes = ndimage.sum(person, labels, range(1, count + 1))
        person = labels == (int(np.argmax(sizes)) + 1)
    return ndimage.binary_fill_holes(person)


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance [px] from each of ``points`` (..., 2) to the segment a-b."""
    ab = b - a
    t = np.clip(((points - a) @ ab) / max(float(ab @ ab), 1e-9), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[..., None] * ab), axis=-1)


def _capsule(shape: tuple[int, int], a, b, radius: float) -> np.ndarray:
    """Pixels (centres at +0.5) nearer than ``radius`` [px] to the segment a-b (a point when
    a == b), shape (H, W) bool; distances are worked out in the capsule's bounding box only
    (a few % of a full-frame grid per limb)."""
    height, width = shape
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    low = np.floor(np.minimum(a, b) - radius).astype(int)
    high = np.ceil(np.maximum(a, b) + radius).astype(int) + 1
    u0, v0 = max(low[0], 0), max(low[1], 0)
    u1, v1 = min(high[0], width), min(high[1], height)
    out = np.zeros(shape, bool)
    if u0 >= u1 or v0 >= v1:
        return out
    grid = np.stack(np.meshgrid(np.arange(u0, u1) + 0.5, np.arange(v0, v1) + 0.5), axis=-1)
    out[v0:v1, u0:u1] = _segment_distance(grid, a, b) < radius
    return out


#: MediaPipe visibility above which a limb landmark is believed (``_seen_limbs``).
LIMB_SEEN = 0.3
#: MediaPipe wrist visibility below which the forearm may be lost (``lost_forearm_pixels``).
_SEEN_WRIST = 0.5


def _seen_limbs(
    shape: tuple[int, int],
    keypoints: np.ndarray,
    visibility: np.ndarray,
    segments,
    radius: float,
) -> np.ndarray:
    """The union of the capsules of ``radius`` [px] round the landmark ``segments`` (index
    pairs) whose both ends are seen (visibility above ``LIMB_SEEN``), shape (H, W) bool."""
    out = np.zeros(shape, bool)
    seen = visibility > LIMB_SEEN
    for a, b in segments:
        if seen[a] and seen[b]:
            out |= _capsule(shape, keypoints[a, :2], keypoints[b, :2], radius)
    return out


#: How far a forearm and hand reach from the elbow, as a share of the person's height (anny:
#: forearm 0.15, hand 0.11 of the stature), searched for a forearm the person mask lost.
_FOREARM_REACH = 0.28
#: Reach round the wrist-to-fingers line, as a share of the person's height, searched for
#: fingers a mask trimmed off a seen wrist (anny's hand: 0.11 of the stature long).
_HAND_REACH = 0.06
#: Half-breadth [m] above which a recovered piece is a blob of background (a wall seen through
#: an arm's loop), not a forearm or hand.
_FOREARM_HALF_M = 0.05


def lost_forearm_pixels(
    pixels: np.ndarray,
    person: np.ndarray,
    skin: np.ndarray,
    keypoints: np.ndarray,
    visibility: np.ndarray,
    px_per_m: float,
    *,
    seen_wrists: bool = False,
) -> np.ndarray:
    """Pixels of forearms and hands that the person mask lost, shape (H, W) bool.

    MediaPipe drops a forearm before a wall of skin colour, and its wrist landmark with it
    (unseen, or drawn up the arm). Near the elbow of each arm whose wrist is unseen (below
    ``_SEEN_WRIST``), GrabCut decides, with colour models learnt in that neighbourhood (the
    person's pixels there for the foreground), which pixels outside the mask within
    ``_FOREARM_REACH`` of the person's height of the elbow are the person's; pieces that do not
    touch the mask, holes the person encloses (a wall seen through an arm's loop) and anything
    wider than a forearm (``_FOREARM_HALF_M``) are left out.

    Args:
        pixels: the photo at the analysis size, shape (H, W, 3) uint8 sRGB.
        person: the person mask, shape (H, W) bool.
        skin: the person's skin as parsed, shape (H, W) bool.
        keypoints: (33, 2) pose landmarks [px], MediaPipe's order.
        visibility: (33,) their visibility in [0, 1].
        px_per_m: pixels per metre at the body.
        seen_wrists: also search round the hands of seen wrists, within ``_HAND_REACH`` of
            the wrist-to-fingers line (fingers a mask trimmed).
    """
    import cv2
    from scipy import ndimage

    out = np.zeros(person.shape, bool)
    rows = np.flatnonzero(person.any(axis=1))
    if len(rows) == 0:
        return out
    tall = float(rows[-1] - rows[0] + 1)
    search = np.zeros_like(person)
    for elbow, wrist, hand in zip(_ELBOWS, _WRISTS, _HANDS, strict=True):
        if visibility[elbow] <= LIMB_SEEN:
            continue
        if visibility[wrist] < _SEEN_WRIST:
            search |= _capsule(
                person.shape, keypoints[elbow], keypoints[elbow], _FOREARM_REACH * tall
            )
        elif seen_wrists:
            # A seen wrist puts the forearm where the mask has it: only the hand beyond may
            # be trimmed. Round the elbow, GrabCut takes strips of a door or wall beside a
            # hanging arm for the person (a real photo: 6500 px, the arm pushed out of him).
            tip = keypoints[list(hand[1:])].mean(axis=0)
            search |= _capsule(person.shape, keypoints[wrist], tip, _HAND_REACH * tall)
    search &= ~ndimage.binary_fill_holes(person)
    if not search.any():
        return out
    # GrabCut learns the person's colours from all of the person (the arm near the elbow may
    # be all sleeve) and the background's from round the search.
    v, u = np.nonzero(search | person)
    pad = round(0.05 * tall)
    height, width = person.shape
    r0, r1 = max(v.min() - pad, 0), min(v.max() + 1 + pad, height)
    c0, c1 = max(u.min() - pad, 0), min(u.max() + 1 + pad, width)
    crop = person[r0:r1, c0:c1]
    gc = np.full(crop.shape, cv2.GC_BGD, np.uint8)
    gc[search[r0:r1, c0:c1]] = cv2.GC_PR_BGD
    gc[crop] = cv2.GC_PR_FGD
    gc[ndimage.binary_erosion(crop, iterations=2) | (skin & person)[r0:r1, c0:c1]] = cv2.GC_FGD
    if not (gc == cv2.GC_BGD).any() or not (gc == cv2.GC_FGD).any():
        return out
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # its GMMs start from k-means: the same photo, the same pixels
    image = np.ascontiguousarray(pixels[r0:r1, c0:c1, ::-1])  # OpenCV wants BGR
    cv2.grabCut(image, gc, None, bgd, fgd, 4, cv2.GC_INIT_WITH_MASK)
    found = ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)) & search[r0:r1, c0:c1]
    # wider than a forearm: background that matched the person's colours
    blob = ndimage.binary_opening(found, iterations=max(1, round(_FOREARM_HALF_M * px_per_m)))
    found &= ~ndimage.binary_dilation(blob, iterations=2)
    out[r0:r1, c0:c1] = pieces_touching(found, crop, reach_px=2)
    return out


def _skin_chroma_distance2(chroma: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Squared Mahalanobis distance of (..., 2) (Cr, Cb) pixels to the skin model (``mean``
    (2,), ``cov`` (2, 2)); compare with ``_SKIN_CHI2`` (and ``_SKIN_WEAK`` times it)."""
    delta = chroma - mean
    return np.einsum("...i,ij,...j->...", delta, np.linalg.inv(cov), delta)


def _face_sample(ycc: np.ndarray, person: np.ndarray, kp: np.ndarray) -> np.ndarray:
    """(Y, Cr, Cb) pixels of nose and cheeks.

    Below the eyes, above the mouth, between the eyes' outer corners.
    """
    eyes = kp[list(_EYES)]
    mouth = kp[list(_MOUTH)].mean(axis=0)
    eye_line = eyes.mean(axis=0)
    drop = max(mouth[1] - eye_line[1], 2.0)
    half_width = max(0.5 * abs(kp[3, 0] - kp[6, 0]), 0.6 * np.linalg.norm(eyes[0] - eyes[1]), 2.0)
    top, bottom = eye_line[1] + 0.25 * drop, mouth[1] - 0.15 * drop
    centre = 0.5 * (eye_line[0] + mouth[0])
    height, width = person.shape
    v0, v1 = int(np.clip(np.floor(top), 0, height - 1)), int(np.clip(np.ceil(bottom), 1, height))
    u0, u1 = (
        int(np.clip(np.floor(centre - half_width), 0, width - 1)),
        int(np.clip(np.ceil(centre + half_width), 1, width)),
    )
    box = np.zeros_like(person)
    box[v0 : max(v1, v0 + 1), u0 : max(u1, u0 + 1)] = True
    return ycc[box & person]


def _skin_model(sample: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Robust (Cr, Cb) mean and covariance, and the median luma, of a face sample (N, 3)."""
    if len(sample) < 8:
        raise ValueError(f"the face is too small to learn a skin colour ({len(sample)} px)")
    chroma = sample[:, 1:]
    median = np.median(chroma, axis=0)
    spread = 1.4826 * np.median(np.abs(chroma - median), axis=0) + 1.0
    keep = np.all(np.abs(chroma - median) < 3.0 * spread, axis=1)
    keep &= sample[:, 0] > 0.5 * np.median(sample[:, 0])  # nostrils, shadows
    chroma = chroma[keep] if keep.sum() >= 8 else chroma
    mean = chroma.mean(axis=0)
    cov = np.cov(chroma.T) + _MIN_COV * np.eye(2)
    return mean, cov, float(np.median(sample[keep, 0] if keep.sum() >= 8 else sample[:, 0]))


def _limb_zone(shape: tuple[int, int], kp: np.ndarray, scale_px: float) -> np.ndarray:
    """Where skin may be: head, neck, arms, hands, legs and feet by the pose, (H, W) bool."""
    zone = np.zeros(shape, bool)
    head = kp[[0, 2, 5, 7, 8]].mean(axis=0)
    head_radius = max(0.9 * float(np.linalg.norm(kp[7] - kp[8])), 0.35 * scale_px)
    zone |= _capsule(shape, head, head, head_radius)
    neck = kp[list(_SHOULDERS)].mean(axis=0)
    zone |= _capsule(shape, head, neck, 0.3 * scale_px)
    segments = [
        (11, 13),
        (13, 15),
        (12, 14),
        (14, 16),
        (23, 25),
        (25, 27),
        (24, 26),
        (26, 28),
        (27, 29),
        (27, 31),
        (28, 30),
        (28, 32),
    ]
    for a, b in segments:
        radius = (0.34 if a in (23, 24) else 0.22 if a in (25, 26) else 0.2) * scale_px
        zone |= _capsule(shape, kp[a], kp[b], radius)
    for hand, elbow in zip(_HANDS, _ELBOWS, strict=True):
        centre = kp[list(hand)].mean(axis=0)
        zone |= _capsule(shape, centre, centre, 0.35 * scale_px)  # fingers reach past the marks
        # A hanging hand carries on along the forearm, whatever the finger marks say.
        wrist = kp[hand[0]]
        zone |= _capsule(shape, wrist, wrist + 0.6 * (wrist - kp[elbow]), 0.2 * scale_px)
    return zone


def _clothes_split(
    lab: np.ndarray, clothes: np.ndarray, kp: np.ndarray, rng: np.random.Generator, scale_px: float
) -> tuple[float, bool, np.ndarray | None]:
    """Boundary row [px] between upper and lower clothes, whether it is a dress, and where
    the clothes have the top's colour rather than the bottom's ((H, W) bool; None when one
    colour runs from chest to thighs)."""
    import cv2

    height = clothes.shape[0]
    hip_v = float(kp[list(_HIPS), 1].mean())
    shoulder_v = float(kp[list(_SHOULDERS), 1].mean())
    knee_v = float(kp[list(_KNEES), 1].mean())
    values = lab[clothes].astype(np.float32)
    if len(values) < 50:
        return hip_v, False, None
    sample = values[rng.choice(len(values), size=min(len(values), 20000), replace=False)]
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.5)
    cv2.setRNGSeed(int(rng.integers(1 << 30)))
    _, _, centres = cv2.kmeans(sample, 4, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    cluster = np.full(clothes.shape, -1, np.int32)
    distance = np.linalg.norm(values[:, None, :] - centres[None], axis=-1)
    cluster[clothes] = np.argmin(distance, axis=1)
    rows = np.arange(height)[:, None]
    drop = hip_v - shoulder_v
    front = float(np.linalg.norm(kp[11] - kp[12])) >= _FRONT_SHOULDERS * abs(drop)
    top_from, top_to = _TOP_SAMPLE if front else _TOP_SAMPLE_SIDE
    torso = clothes & (rows > shoulder_v + top_from * drop) & (rows < shoulder_v + top_to * drop)
    thighs = clothes & (rows > hip_v + 0.25 * (knee_v - hip_v)) & (rows < knee_v)
    hips_u = kp[list(_HIPS), 0]
    lo, hi = int(max(0, hips_u.min() - 0.1 * scale_px)), int(hips_u.max() + 0.1 * scale_px)
    torso[:, :lo] = torso[:, hi:] = False  # arms beside the torso are sleeves, not the shirt body
    if not torso.any() or not thighs.any():
        return hip_v, False, None
    upper = np.bincount(cluster[torso], minlength=4).argmax()
    lower = np.bincount(cluster[thighs], minlength=4).argmax()
    # Light and shade split one fabric into clusters: compare colours with lightness damped.
    step = (centres[upper] - centres[lower]) * np.array([100.0 / 255.0 / 2.0, 1.0, 1.0])
    if upper == lower or float(np.linalg.norm(step)) < _SAME_FABRIC:
        # One colour from chest to thighs: a dress when it also fills the gap between the legs.
        knees = kp[list(_KNEES)]
        v = int(np.clip(hip_v + 0.5 * (knee_v - hip_v), 0, height - 1))
        u0, u1 = sorted(knees[:, 0].astype(int))
        gap = clothes[v, u0 : u1 + 1]
        return hip_v, bool(gap.size and gap.mean() > 0.9), None
    # The row that best separates the two colours (torso colour above, leg colour below).
    band = slice(int(max(0, shoulder_v)), int(min(height, knee_v)))
    is_upper = (cluster == upper)[band].sum(axis=1)
    is_lower = (cluster == lower)[band].sum(axis=1)
    cost = np.cumsum(is_lower) + (is_upper.sum() - np.cumsum(is_upper))
    damp = np.array([100.0 / 255.0 / 2.0, 1.0, 1.0])
    nearer_upper = np.zeros(clothes.shape, bool)
    nearer_upper[clothes] = np.linalg.norm((values - centres[upper]) * damp, axis=1) < (
        np.linalg.norm((values - centres[lower]) * damp, axis=1)
    )
    return float(band.start + int(np.argmin(cost)) + 1), False, nearer_upper


#: Long hair falls over the shoulders and chest down to this share of the shoulder-to-hip-line
#: drop below the shoulder line, within ``_LONG_HAIR_SPAN`` shoulder widths of the head.
_LONG_HAIR_REACH = 0.9
_LONG_HAIR_SPAN = 1.2
#: Lab distance (8-bit units, lightness halved) within which a pixel has the hair's colour, and
#: by which it must be nearer the hair's colour than the top's.
_HAIR_LAB = 30.0
_HAIR_MARGIN = 8.0


def _long_hair(
    lab: np.ndarray,
    hair: np.ndarray,
    candidates: np.ndarray,
    kp: np.ndarray,
    grid_v: np.ndarray,
    scale_px: float,
) -> np.ndarray:
    """Hair below the neck line: ``candidates`` (person pixels neither skin nor head hair) of
    the head hair's colour, nearer it than the top's, joined to the head hair (H, W) bool. A
    woman's hair over her shoulders had been parsed as her top, and a try-on painted it away."""
    from scipy import ndimage

    out = np.zeros(hair.shape, bool)
    if hair.sum() < 30:
        return out
    damp = np.array([0.5, 1.0, 1.0], np.float32)
    colour = lab.astype(np.float32)
    shoulder_v = float(kp[list(_SHOULDERS), 1].mean())
    drop = max(float(kp[list(_HIPS), 1].mean()) - shoulder_v, 1.0)
    head_u = float(kp[[0, 7, 8], 0].mean())
    columns = np.abs(np.arange(hair.shape[1])[None, :] + 0.5 - head_u) < _LONG_HAIR_SPAN * scale_px
    zone = candidates & columns & (grid_v < shoulder_v + _LONG_HAIR_REACH * drop)
    torso = candidates & (grid_v > shoulder_v + 0.5 * drop) & (grid_v < shoulder_v + drop)
    if not zone.any() or torso.sum() < 30:
        return out
    to_hair = np.linalg.norm((colour - np.median(colour[hair], axis=0)) * damp, axis=2)
    to_top = np.linalg.norm((colour - np.median(colour[torso], axis=0)) * damp, axis=2)
    like = zone & (to_hair < _HAIR_LAB) & (to_hair + _HAIR_MARGIN < to_top)
    # (the head's hair votes too: the filter must not cut a strand off where it leaves the head)
    like = ndimage.median_filter((like | hair).astype(np.uint8), size=5).astype(bool) & zone
    return pieces_touching(like, hair, reach_px=2)


#: Half-height of the band round the split row where the top's hem is followed by colour, as
#: a share of the shoulder-to-hip drop: a draped hem dips and rises a few centimetres.
_HEM_BAND = 0.15


def _hem_by_colour(
    upper: np.ndarray,
    clothes: np.ndarray,
    top_colour: np.ndarray,
    grid_v: np.ndarray,
    split_v: float,
    kp: np.ndarray,
) -> np.ndarray:
    """``upper`` (the clothes above the split row) with the hem followed by colour near that
    row: clothes of the top's colour below it joined to the top are the top, clothes of the
    bottom's colour above it joined to the bottom are the bottom (a straight split left a band
    of a shopper's own T-shirt under the try-on's hem, kept as if it were his shorts)."""
    from scipy import ndimage

    drop = float(kp[list(_HIPS), 1].mean() - kp[list(_SHOULDERS), 1].mean())
    near = clothes & (np.abs(grid_v - split_v) < _HEM_BAND * max(drop, 1.0))
    if not near.any():
        return upper
    # a fold's shade or a print's fleck is not a hem: the colour vote is taken over 5x5 px
    colour = ndimage.median_filter(top_colour.astype(np.uint8), size=5).astype(bool)
    lower = clothes & ~upper
    gained = pieces_touching(near & lower & colour, upper, reach_px=1)
    lost = pieces_touching(near & upper & ~colour, lower, reach_px=1)
    return (upper & ~lost) | gained


#: How far out of the arm's capsule (0.14 shoulder widths round elbow-to-past-the-hand) a cuff
#: may flare, in shoulder widths from that line.
_CUFF_REACH = 0.3


def _cuffs(
    labels: np.ndarray,
    clothes: np.ndarray,
    top_colour: np.ndarray,
    arms: np.ndarray,
    reach: np.ndarray,
) -> np.ndarray:
    """Clothes labelled the bottom that are a hanging sleeve's cuff ((H, W) bool): pieces of
    the top's colour (``top_colour``, voted over 5 x 5 px: a fleck is no cuff) within
    ``reach`` of the arms that touch the arms' capsules ``arms``, also where a cuff flares
    out of them (a real photo's white cuff over a black skirt was the skirt's, and a try-on's
    new sleeve left it showing). Only within reach: a skirt near the top's colour joins the
    arms over its whole breadth."""
    from scipy import ndimage

    colour = ndimage.median_filter(top_colour.astype(np.uint8), size=5).astype(bool)
    return pieces_touching(clothes & colour & reach & (labels == LOWER), arms, reach_px=1)


def parse_person(
    photo_or_array: Photo | np.ndarray | str | os.PathLike | bytes,
    *,
    analysis: PhotoAnalysis | None = None,
    seed: int = 0,
    net: bool = True,
) -> PersonParsing:
    """Label every pixel of a one-person photo with :data:`LABELS`.

    Args:
        photo_or_array: a ``Photo``, a path, bytes, or an (H, W, 3) uint8 sRGB array.
        analysis: the photo's :func:`analyze_photo` result (computed when omitted).
        seed: seed of the colour clustering.
        net: whether the shipped parsing network (``_parsing_net``) checks the skin and
            hair that colour and the pose find and splits the clothes (``benchmarks/
            parsing.py --ccp``: on 245 real photos of dressed people skin IoU 0.55 -> 0.76,
            upper clothes 0.42 -> 0.70); False: colour and pose alone.

    Returns:
        A :class:`PersonParsing` at the photo's full size.

    Raises:
        ValueError: an unreadable photo, no person, or a face too small to learn skin colour from.
    """
    import cv2
    from scipy import ndimage

    from tryon3d.bodyfit._parsing_net import class_probabilities
    from tryon3d.bodyfit._photo import _resize

    photo = photo_or_array if isinstance(photo_or_array, Photo) else load_photo(photo_or_array)
    if analysis is None:
        analysis = analyze_photo(photo, check_single=False)
    elif not isinstance(analysis, PhotoAnalysis):
        raise TypeError(f"analysis must be a bodyfit.PhotoAnalysis, got {type(analysis).__name__}")
    elif analysis.photo_size != (photo.width, photo.height):
        raise ValueError(
            f"analysis is of a {analysis.photo_size} photo, "
            f"this one is {(photo.width, photo.height)}"
        )
    pixels = _resize(photo.pixels, analysis.scale)
    if pixels.shape[:2] != analysis.mask.shape:
        pixels = cv2.resize(pixels, analysis.size, interpolation=cv2.INTER_AREA)
    kp = analysis.keypoints
    person = _refine_person(pixels, analysis.mask)
    rows = np.flatnonzero(person.any(axis=1))
    tall = float(rows[-1] - rows[0] + 1) if len(rows) else float(person.shape[0])
    scale_px = max(float(np.linalg.norm(kp[11] - kp[12])), 0.12 * tall)  # shoulder width

    ycc = cv2.cvtColor(pixels, cv2.COLOR_RGB2YCrCb).astype(np.float64)
    sample = _face_sample(ycc, person, kp)
    mean, cov, luma = _skin_model(sample)
    d2 = _skin_chroma_distance2(ycc[..., 1:], mean, cov)
    zone = person & _limb_zone(person.shape, kp, scale_px) & (ycc[..., 0] > 0.25 * luma)
    # Hysteresis: shaded skin (inner arms, under the chin) drifts in chroma; accept a looser
    # match where it joins a strict one.
    strong = zone & (d2 < _SKIN_CHI2) & (ycc[..., 0] > 0.3 * luma)
    weak = strong | (zone & (d2 < _SKIN_WEAK * _SKIN_CHI2) & (ycc[..., 0] < 0.9 * luma))
    skin = pieces_touching(weak, strong)
    probs = class_probabilities(pixels, person) if net else None
    if probs is not None:
        # colour finds the skin, the network (which sees the garment round a pixel) takes
        # back clothes of the skin's colour: beige coats, brown trousers, leopard prints
        kept = probs[..., list(_NET_NOT_SKIN)].sum(axis=2) < _NET_SKIN_VETO
        for hand in _HANDS:
            centre = kp[list(hand)].mean(axis=0)
            kept |= _capsule(person.shape, centre, centre, _NET_KEEP_HANDS * scale_px)
        skin &= kept
        sure = probs[..., SKIN] >= _NET_SKIN_SURE
        skin |= zone & sure
        # a bare torso (the pose's zone leaves it out: a beige top there is common): skin
        # where the network is sure of it and colour agrees (CCP skin IoU 0.755 -> 0.757; a
        # naked render's torso was a top, 0.82 -> 0.97 of the person skin)
        skin |= person & sure & (d2 < _SKIN_WEAK * _SKIN_CHI2) & (ycc[..., 0] > 0.25 * luma)
    radius = max(1, round(0.004 * tall))  # hands are ~4 % of the height wide: keep them
    skin = ndimage.binary_opening(skin, iterations=radius)
    skin = ndimage.binary_closing(skin, iterations=2 * radius) & person
    labels_, count = ndimage.label(skin)
    if count:
        sizes = ndimage.sum(skin, labels_, range(1, count + 1))
        skin = np.isin(labels_, 1 + np.flatnonzero(sizes >= (0.004 * tall) ** 2 * 4))

    shape = person.shape
    grid_v = np.arange(shape[0])[:, None] + 0.5  # pixel-centre rows, broadcast over columns
    head = kp[[0, 2, 5, 7, 8]].mean(axis=0)
    head_radius = max(1.1 * float(np.linalg.norm(kp[7] - kp[8])), 0.4 * scale_px)
    shoulder_v = float(kp[list(_SHOULDERS), 1].mean())
    in_head = _capsule(shape, head, head, head_radius)
    neck_v = shoulder_v - 0.15 * (shoulder_v - head[1])
    # Eyes, brows and mouth are enclosed by face skin: skin, not hair.
    skin |= ndimage.binary_fill_holes(skin & in_head) & person
    hair = person & ~skin & ((in_head & (grid_v < neck_v)) | (grid_v < head[1] - 0.5 * head_radius))
    lab = cv2.cvtColor(pixels, cv2.COLOR_RGB2Lab)
    hair |= _long_hair(lab, hair, person & ~skin & ~hair, kp, grid_v, scale_px)
    if probs is not None:
        hair |= person & ~skin & (probs.argmax(axis=2) == HAIR)

    ankle_v = float(kp[list(_ANKLES), 1].min())
    knee_v = float(kp[list(_KNEES), 1].mean())
    feet = kp[list(_ANKLES + _FEET)]
    near_feet = np.zeros_like(person)
    for point in feet:
        near_feet |= _capsule(shape, point, point, 0.3 * scale_px)
    shoes = person & ~skin & ~hair & near_feet & (grid_v > ankle_v - 0.05 * (ankle_v - knee_v))

    clothes = person & ~skin & ~hair & ~shoes
    split_v, dress, top_colour = _clothes_split(
        lab, clothes, kp, np.random.default_rng(seed), scale_px
    )
    labels = np.zeros(shape, np.uint8)
    # the hanging arms' sleeves: elbow to past the hand (cuffs and fingers too)
    forearms = [(kp[a], kp[b] + 0.6 * (kp[b] - kp[a])) for a, b in ((13, 15), (14, 16))]
    arms = np.zeros_like(person)
    for elbow, end in forearms:
        arms |= _capsule(shape, elbow, end, 0.14 * scale_px)
    if dress:
        labels[clothes] = DRESS
    else:
        labels[clothes] = LOWER
        upper = clothes & (grid_v < split_v)
        if top_colour is not None:
            upper = _hem_by_colour(upper, clothes, top_colour, grid_v, split_v, kp)
        labels[upper] = UPPER
        # Long sleeves of hanging arms reach below the waist: still the top.
        labels[clothes & arms] = UPPER
    if probs is not None:
        garment = probs[clothes][:, list(CLOTHES)]
        share = garment / np.maximum(garment.sum(axis=1, keepdims=True), 1e-6)
        sure = share.max(axis=1) >= _NET_GARMENT_SHARE
        picked = np.array(CLOTHES, np.uint8)[share.argmax(axis=1)]
        if not dress:  # a dress only where colour found one: to the fit it frees the legs,
            sure &= picked != DRESS  # and a lost network called a tee's hem a dress
        labels[clothes] = np.where(sure, picked, labels[clothes])
    if not dress and top_colour is not None:
        reach = np.zeros_like(person)  # as far as a cuff flares
        for elbow, end in forearms:
            reach |= _capsule(shape, elbow, end, _CUFF_REACH * scale_px)
        labels[_cuffs(labels, clothes, top_colour, arms, reach)] = UPPER
    labels[skin] = SKIN
    labels[hair] = HAIR
    labels[shoes] = SHOES
    if labels.shape != (photo.height, photo.width):
        labels = cv2.resize(labels, (photo.width, photo.height), interpolation=cv2.INTER_NEAREST)
    ycc_face = np.array([[sample[:, 0].mean(), mean[0], mean[1]]], np.float64)
    rgb = cv2.cvtColor(np.clip(ycc_face, 0, 255).astype(np.uint8)[None], cv2.COLOR_YCrCb2RGB)[0, 0]
    return PersonParsing(
        labels=labels, skin_rgb=rgb.astype(np.float64), skin_chroma_mean=mean, skin_chroma_cov=cov
    )
