"""The try-on composite that replaces the old garment: a stand-in body wearing a long red tube
(the old top, wider and longer than the new one) over a smooth background, parsed by its
render masks; a shorter, narrower blue tube is composited with the parsing. The old top's
uncovered pixels must turn to skin on the body and to background beside it, and the new
garment's edge must stay sharp."""

from __future__ import annotations

import numpy as np
import pytest
from _render_scenes import stand_in_body, tube_drape
from scipy import ndimage

from tryon3d import bodyfit, render
from tryon3d.render._scene import StudioScene, _layers_from_drape

OLD_RGB = (0.50, 0.06, 0.06)  # linear RGB of the old top
NEW_RGB = (0.05, 0.15, 0.50)
CLOSE_TO_OLD = 60.0  # 8-bit RGB distance to the old top's median colour: "still shows it"


def _background(height: int, width: int) -> np.ndarray:
    """A smooth two-way ramp, (H, W, 3) float sRGB."""
    rows = np.linspace(0.0, 1.0, height)[:, None]
    cols = np.linspace(0.0, 1.0, width)[None, :]
    return np.stack(
        [0.35 + 0.2 * cols + 0 * rows, 0.55 + 0.15 * rows + 0 * cols, 0.45 + 0.2 * cols * rows],
        axis=-1,
    )


def _scene(width: int, height: int):
    body = stand_in_body(hand=False)
    camera = render.look_at_camera(
        (0.0, -3.0, 1.2), (0, 0, 1.15), fov_y_deg=25, width=width, height=height
    )
    old_layers = _layers_from_drape(tube_drape(radius=0.22, height=0.72), color=OLD_RGB)
    dressed = StudioScene(body.vertices, body.faces, old_layers, camera, spp=16).render(seed=1)
    back = _background(height, width)
    alpha = dressed.rgba[..., 3:4]
    photo = np.round((dressed.rgba[..., :3] * alpha + back * (1 - alpha)) * 255).astype(np.uint8)
    person = dressed.mask > 0.5
    old = person & dressed.garment_mask
    labels = np.zeros((height, width), np.uint8)
    labels[person] = bodyfit.LABELS.index("skin")
    labels[old] = bodyfit.LABELS.index("upper_clothes")
    skin = labels == bodyfit.LABELS.index("skin")
    parsing = bodyfit.PersonParsing(
        labels=labels,
        skin_rgb=np.median(photo[skin], axis=0).astype(np.float64),
        skin_chroma_mean=np.zeros(2),
        skin_chroma_cov=np.eye(2),
    )
    bare = StudioScene(body.vertices, body.faces, [], camera, spp=4).render(seed=1)
    return body, camera, photo, back, parsing, old, bare.mask > 0.5


@pytest.fixture(scope="module")
def scene():
    body, camera, photo, back, parsing, old, body_mask = _scene(96, 128)
    drape = tube_drape(radius=0.19, height=0.4)
    kwargs = dict(garment_color=NEW_RGB, light_steps=8, spp=4, seed=3)
    replaced, mask = render.render_on_photo(
        body, drape, photo, camera, parsing.mask("person"), parsing=parsing, **kwargs
    )
    painted, painted_mask = render.render_on_photo(
        body, drape, photo, camera, parsing.mask("person"), **kwargs
    )
    return locals()


def _ycc(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(rgb.reshape(-1, 1, 3)), cv2.COLOR_RGB2YCrCb)[:, 0]


def test_old_garment_becomes_skin_or_background(scene):
    photo, old, mask = scene["photo"], scene["old"], scene["mask"]
    uncovered = old & ~ndimage.binary_dilation(mask | scene["painted_mask"], iterations=1)
    assert uncovered.sum() > 300  # the old top shows above, below and beside the new one
    old_colour = np.median(photo[old].astype(float), axis=0)

    def showing(image):
        return float(
            (
                np.linalg.norm(image[uncovered].astype(float) - old_colour, axis=1) < CLOSE_TO_OLD
            ).mean()
        )

    assert showing(scene["painted"]) > 0.8  # today's paint-over leaves it
    assert showing(scene["replaced"]) < 0.05
    composite, body_mask = scene["replaced"], scene["body_mask"]
    on_body = uncovered & ndimage.binary_erosion(body_mask, iterations=2)
    off_body = uncovered & ~ndimage.binary_dilation(body_mask, iterations=2)
    assert on_body.sum() > 100 and off_body.sum() > 50
    # skin: chroma (Cr, Cb) near the parsing's skin sample
    skin_chroma = _ycc(scene["parsing"].skin_rgb.round().astype(np.uint8)[None])[0, 1:]
    chroma = _ycc(composite[on_body])[:, 1:].astype(float)
    assert np.percentile(np.linalg.norm(chroma - skin_chroma, axis=1), 90) < 10.0
    # background: near the true background behind the old top
    truth = np.round(scene["back"][off_body] * 255)
    assert np.percentile(np.abs(composite[off_body] - truth).mean(axis=1), 90) < 10.0
    # and the rest of the photo is untouched (the parsed outline grown 2 px, a 3 px blend band)
    far = ~ndimage.binary_dilation(old | mask, iterations=6)
    assert np.array_equal(composite[far], photo[far])


def test_new_garment_edge_stays_sharp(scene):
    """Across the new garment's top and bottom edges (middle columns), the largest one-pixel
    step carries most of the colour change; the paint-over's Poisson band spreads it."""
    mask = scene["mask"]
    cols = np.flatnonzero(mask.any(axis=0))
    middle = cols[len(cols) // 3 : 2 * len(cols) // 3]

    def sharpness(image):
        shares = []
        for col in middle:
            rows = np.flatnonzero(mask[:, col])
            for edge, step in ((rows[0], -1), (rows[-1], 1)):
                inside, outside = edge - 3 * step, edge + 4 * step
                span = image[min(inside, outside) : max(inside, outside) + 1, col].astype(float)
                total = np.linalg.norm(span[0] - span[-1])
                jump = np.linalg.norm(np.diff(span, axis=0), axis=1).max()
                shares.append(jump / max(total, 1.0))
        return float(np.median(shares))

    assert sharpness(scene["replaced"]) > 0.5
    assert sharpness(scene["replaced"]) > sharpness(scene["painted"]) + 0.15


def _relabelled(scene, where: np.ndarray, label: str, rgb) -> tuple[np.ndarray, tuple]:
    """The scene's photo with ``where`` painted ``rgb`` and parsed as ``label``, composited with
    the new top: (that photo, (composite, garment mask))."""
    import dataclasses

    photo, parsing = scene["photo"].copy(), scene["parsing"]
    photo[where] = rgb
    labels = parsing.labels.copy()
    labels[where] = bodyfit.LABELS.index(label)
    result = render.render_on_photo(
        scene["body"],
        scene["drape"],
        photo,
        scene["camera"],
        parsing.mask("person"),
        parsing=dataclasses.replace(parsing, labels=labels),
        garment_color=NEW_RGB,
        light_steps=8,
        spp=4,
        seed=3,
    )
    return photo, result


def test_shoes_of_the_top_s_colour_stay_under_a_new_top(scene):
    """Shoes the colour of the old top (a man's light sneakers under a light T-shirt): a top's
    try-on leaves them as they are; only cuffs of old trousers, joined to them, go with them."""
    photo, parsing = scene["photo"], scene["parsing"]
    rows = np.flatnonzero(parsing.mask("person").any(axis=1))
    shoes = parsing.mask("skin") & (np.arange(photo.shape[0])[:, None] > rows[-1] - 8)
    assert shoes.sum() > 40
    old_top = np.median(photo[scene["old"]], axis=0).astype(np.uint8)
    shod, (composite, _) = _relabelled(scene, shoes, "shoes", old_top)
    assert np.array_equal(composite[shoes], shod[shoes])


def test_hair_over_the_top_stays_in_front_of_the_new_one(scene):
    """A strand of long hair parsed over the old top, where the new top goes: it stays as it
    is (it had been painted over)."""
    cols = np.flatnonzero(scene["mask"].any(axis=0))
    width = scene["photo"].shape[1]
    strand = scene["mask"] & (np.abs(np.arange(width) - cols.mean()) < 3)[None, :]
    assert strand.sum() > 60
    hairy, (composite, mask) = _relabelled(scene, strand, "hair", (60, 40, 25))
    assert np.array_equal(composite[strand], hairy[strand])
    assert mask[scene["mask"] & ~strand].mean() > 0.95  # the garment is there beside it


def test_large_photo_keeps_full_resolution():
    """A photo twice the working size, its parsing at full size: the composite comes back at the
    photo's size, with the old top replaced there too."""
    body, camera, photo, _, parsing, old, _ = _scene(192, 256)
    composite, mask = render.render_on_photo(
        body,
        tube_drape(radius=0.19, height=0.4),
        photo,
        camera,
        parsing.mask("person"),
        parsing=parsing,
        garment_color=NEW_RGB,
        fit_light=False,
        spp=4,
        work_max_side_px=128,
    )
    assert composite.shape == photo.shape and mask.shape == photo.shape[:2]
    uncovered = old & ~ndimage.binary_dilation(mask, iterations=3)
    old_colour = np.median(photo[old].astype(float), axis=0)
    distance = np.linalg.norm(composite[uncovered].astype(float) - old_colour, axis=1)
    assert uncovered.sum() > 1000 and (distance < CLOSE_TO_OLD).mean() < 0.05


def test_bad_parsing(scene):
    body, drape, camera, photo = scene["body"], scene["drape"], scene["camera"], scene["photo"]
    with pytest.raises(TypeError, match="PersonParsing"):
        render.render_on_photo(body, drape, photo, camera, parsing=np.zeros(photo.shape[:2]))
    import dataclasses

    wrong = dataclasses.replace(scene["parsing"], labels=np.zeros((128, 128), np.uint8))
    with pytest.raises(ValueError, match=r"parsing\.labels"):
        render.render_on_photo(body, drape, photo, camera, parsing=wrong)
    with pytest.raises(ValueError, match="replace_labels"):
        render.render_on_photo(
            body, drape, photo, camera, parsing=scene["parsing"], replace_labels=("hat",)
        )
    with pytest.raises(ValueError, match="background_fill"):
        render.render_on_photo(
            body, drape, photo, camera, parsing=scene["parsing"], background_fill="blur"
        )


def _detail(image: np.ndarray, where: np.ndarray) -> float:
    """Mean absolute horizontal step of the grey image over ``where``."""
    steps = np.abs(np.diff(image.mean(axis=-1), axis=1))
    return float(steps[where[:, 1:]].mean())


def test_patch_fill_carries_a_texture_on():
    """Background walled in by a person outline (a 3 px band the fill may cross): patches of
    the ring carry vertical stripes on through the hole, where Telea smears them flat."""
    from tryon3d.render._background_fill import _telea, patch_fill

    rng = np.random.default_rng(5)
    cols = np.arange(160)
    stripes = 0.5 + 0.3 * (np.sin(2 * np.pi * cols / 7.0) > 0)  # 7 px period
    truth = np.repeat(stripes[None, :, None], 160, axis=0) * np.array([1.0, 0.8, 0.6])
    truth = np.clip(truth + rng.normal(0.0, 0.02, truth.shape), 0, 1).astype(np.float32)
    target = np.zeros((160, 160), bool)
    target[60:110, 55:105] = True
    wall = ndimage.binary_dilation(target, iterations=3) & ~target
    known = ~(target | wall)
    photo = truth.copy()
    photo[target | wall] = (0.9, 0.1, 0.1)  # the old garment
    filled = patch_fill(photo, known, target, patch_px=9, ring_px=30, passable=wall)
    smooth = _telea(photo, known, target | wall)
    assert np.array_equal(filled[known], photo[known])  # the ring is left as it was
    assert np.abs(filled[target] - (0.9, 0.1, 0.1)).max(axis=1).min() > 0.1  # none of the old
    # measured: 1.00 of the truth's detail (Telea 0.06), mean error 0.033 (Telea 0.124)
    assert 0.7 < _detail(filled, target) / _detail(truth, target) < 1.3
    assert _detail(smooth, target) / _detail(truth, target) < 0.4
    error = float(np.abs(filled - truth)[target].mean())
    assert error < 0.6 * float(np.abs(smooth - truth)[target].mean())
    again = patch_fill(photo, known, target, patch_px=9, ring_px=30, passable=wall)
    assert np.array_equal(again, filled)  # seeded
    with pytest.raises(ValueError, match="patch_px"):
        patch_fill(photo, known, target, patch_px=8)


def test_a_bottom_parsed_as_the_top_below_the_new_hem_stays(scene):
    """A high-waisted skirt whose top the parsing calls the shirt (a real photo: the new
    T-shirt's try-on painted bare hips there): old-top pixels below the new garment's hem, of
    the kept bottom's colour and joined to it, stay as they are; the old top's pixels of its
    own colour still become skin."""
    import dataclasses

    photo, parsing, mask, old = scene["photo"].copy(), scene["parsing"], scene["mask"], scene["old"]
    rows = np.arange(photo.shape[0])[:, None]
    hem = np.flatnonzero(mask.any(axis=1))[-1]
    person = parsing.mask("person")
    low = np.flatnonzero(old.any(axis=1))[-1]
    waist = old & (rows > hem + 2)  # the skirt's top, parsed as the old top
    skirt = person & ~old & (rows > low) & (rows <= low + 12)  # the skirt, parsed as the bottom
    assert waist.sum() > 60 and skirt.sum() > 60
    navy = (20, 30, 70)
    photo[waist | skirt] = navy
    labels = parsing.labels.copy()
    labels[skirt] = bodyfit.LABELS.index("lower_clothes")
    composite, _ = render.render_on_photo(
        scene["body"],
        scene["drape"],
        photo,
        scene["camera"],
        person,
        parsing=dataclasses.replace(parsing, labels=labels),
        garment_color=NEW_RGB,
        light_steps=8,
        spp=4,
        seed=3,
    )
    core = ndimage.binary_erosion(waist, iterations=3)
    assert (np.abs(composite[core].astype(int) - navy).max(axis=1) < 12).mean() > 0.95
    above = old & ~mask & (rows < np.flatnonzero(mask.any(axis=1))[0])  # the old top's shoulders
    on_body = above & ndimage.binary_erosion(scene["body_mask"], iterations=2)
    assert on_body.sum() > 30
    skin_chroma = _ycc(parsing.skin_rgb.round().astype(np.uint8)[None])[0, 1:]
    chroma = _ycc(composite[on_body])[:, 1:].astype(float)
    assert np.percentile(np.linalg.norm(chroma - skin_chroma, axis=1), 90) < 12.0
