"""Train ``bodyfit._parsing_net`` on the Clothing Co-Parsing dataset and write its weights.

CCP (github.com/bearpaw/clothing-co-parsing, Apache-2.0): 1004 street photos of dressed people
with a label per pixel among 59 tags. Its tags are grouped into ``_parsing.LABELS`` (accessories,
bags, belts, hats, scarves, socks and the like are left out of the loss); the odd-numbered
photos train, the even-numbered ones are held out for ``benchmarks/parsing.py --ccp``.

Augmentation: the person's box with random margins and shift, mirroring, exposure, gamma,
white balance and saturation (the photos are mostly of light-skinned people; exposure and
gamma widen the skin tones seen). AdamW with a one-cycle schedule, seeded; about 50 s an epoch
on two CPU cores.

Usage: python scripts/train_parsing_net.py CCP_DIR [--epochs 25] [--out data/parsing_net.npz]
"""

from __future__ import annotations

import argparse
import functools
import time
from pathlib import Path

import numpy as np

from tryon3d.bodyfit._parsing_net import (
    INPUT_HW,
    MARGIN,
    NET_LABELS,
    box_transform,
    build_net,
    normalise,
    person_box,
)

#: CCP tag -> ``NET_LABELS`` name; tags not named here are left out of the loss.
CCP_GROUPS = {
    "null": "background",
    "skin": "skin",
    "hair": "hair",
    **dict.fromkeys(
        [
            "blazer",
            "blouse",
            "bodysuit",
            "bra",
            "cape",
            "cardigan",
            "coat",
            "hoodie",
            "jacket",
            "jumper",
            "shirt",
            "sweater",
            "sweatshirt",
            "t-shirt",
            "top",
            "vest",
            "suit",
        ],
        "upper_clothes",
    ),
    **dict.fromkeys(
        ["jeans", "leggings", "pants", "shorts", "skirt", "tights", "stockings", "panties"],
        "lower_clothes",
    ),
    **dict.fromkeys(("dress", "romper"), "dress"),
    **dict.fromkeys(
        [
            "boots",
            "clogs",
            "flats",
            "heels",
            "loafers",
            "pumps",
            "sandals",
            "shoes",
            "sneakers",
            "wedges",
        ],
        "shoes",
    ),
}
IGNORE = 255
#: The photos are kept at this size (columns, rows) [px] for training: about half of CCP's.
STORED_WH = (276, 416)
#: Loss weight per class: skin, hair and shoes are small and matter most for the fit.
CLASS_WEIGHTS = (1.0, 2.0, 1.5, 1.0, 1.0, 1.0, 1.5)


def ccp_numbers(root: Path) -> list[int]:
    """The numbers of CCP's photos labelled per pixel, ascending."""
    return sorted(int(path.stem) for path in (root / "annotations" / "pixel-level").glob("*.mat"))


def ccp_held_out(root: Path) -> list[int]:
    """The numbers of CCP's labelled photos the network does not train on (the even ones),
    ascending: what the benchmarks judge it and the fit by."""
    return [n for n in ccp_numbers(root) if n % 2 == 0]


@functools.cache
def _tag_lookup(root: Path) -> np.ndarray:
    from scipy import io

    tags = [
        str(t[0]) if len(t) else "" for t in io.loadmat(root / "label_list.mat")["label_list"][0]
    ]
    lookup = np.full(len(tags), IGNORE, np.uint8)
    for i, tag in enumerate(tags):
        if tag in CCP_GROUPS:
            lookup[i] = NET_LABELS.index(CCP_GROUPS[tag])
    return lookup


def ccp_photo(root: Path, number: int) -> tuple[Path, np.ndarray]:
    """CCP photo ``number``'s path and its labels at full size ((H, W) uint8: ``NET_LABELS``
    indices, ``IGNORE`` for tags outside ``CCP_GROUPS``)."""
    from scipy import io

    truth = io.loadmat(root / "annotations" / "pixel-level" / f"{number:04d}.mat")["groundtruth"]
    return root / "photos" / f"{number:04d}.jpg", _tag_lookup(root)[truth]


def load_ccp(root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(photos (N, 416, 276, 3) uint8, labels (N, 416, 276) uint8, photo numbers (N,))."""
    import cv2

    photos, labels, numbers = [], [], []
    for number in ccp_numbers(root):
        path, truth = ccp_photo(root, number)
        if not (truth != NET_LABELS.index("background")).any():
            continue  # one photo (0536) has no labels at all
        image = cv2.imread(str(path))[..., ::-1]
        photos.append(cv2.resize(image, STORED_WH, interpolation=cv2.INTER_AREA))
        labels.append(cv2.resize(truth, STORED_WH, interpolation=cv2.INTER_NEAREST))
        numbers.append(number)
    return np.array(photos), np.array(labels), np.array(numbers)


#: gnome backgrounds for the training renders: none of ``benchmarks/parsing.py``'s own cases.
RENDER_BACKDROPS = (
    "adwaita-d.webp",
    "grid-d.webp",
    "licorice-d.webp",
    "licorice-l.webp",
    "pixels-d.webp",
    "symbolic-d.webp",
    "symbolic-l.webp",
    "truchet-d.webp",
    "vnc-d.webp",
    "wood-d.webp",
)
OUTFITS = (
    ("tshirt", "trousers"),
    ("longsleeve", "trousers"),
    ("tshirt", "skirt"),
    ("longsleeve", "skirt"),
    ("dress",),
)
#: Renders from this index on wear a top alone or nothing: bare legs and a bare torso as our
#: renderer draws them are skin (the unclothed photo benchmark), which photos of dressed
#: people never show the network.
BARE_FROM = 200
BARE_OUTFITS: tuple[tuple[str, ...], ...] = (("tshirt",), ("longsleeve",), ())
#: Linear RGB skin from the lightest to the darkest the renders draw between.
SKIN_RANGE = ((0.80, 0.58, 0.46), (0.22, 0.12, 0.08))


def rendered_photo(index: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training render ``index``: a random body in a random outfit (a third of the garments
    of a skin-like colour: the network must learn the garment, not its colour) over one of
    ``RENDER_BACKDROPS``, from the front (every fifth from the side: the fit parses side
    photos too); (photo, labels) cropped to ``STORED_WH`` about the centre."""
    import sys

    from tryon3d import bodyfit

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from parsing import render_dressed

    rng = np.random.default_rng([seed, index])
    sex = ("female", "male")[int(rng.integers(2))]
    height = float(rng.uniform(1.55, 1.78) if sex == "female" else rng.uniform(1.65, 1.92))
    body = bodyfit.body_from_measurements(
        height_m=height, weight_kg=float(rng.uniform(18.5, 33.0)) * height**2, sex=sex
    )
    outfits = BARE_OUTFITS if index >= BARE_FROM else OUTFITS
    families = outfits[int(rng.integers(len(outfits)))]
    light, dark = (np.array(c) for c in SKIN_RANGE)
    skin = tuple(light + (dark - light) * rng.uniform() ** 1.5 * rng.uniform(0.95, 1.05, 3))
    colours = [
        tuple(np.clip(np.array(skin) * rng.uniform(0.7, 1.2, 3), 0, 1))
        if rng.uniform() < 0.33
        else tuple(rng.uniform(0.02, 0.8, 3) ** 1.5)
        for _ in families
    ]
    sizes = [str(rng.choice(["S", "M", "L", "XL"])) for _ in families]
    backdrop = RENDER_BACKDROPS[int(rng.integers(len(RENDER_BACKDROPS)))]
    photo, truth = render_dressed(
        body,
        families,
        skin,
        colours,
        backdrop,
        size=STORED_WH[1],
        seed=index,
        sizes=sizes,
        view="side" if index % 5 == 4 else "front",
    )
    left = (photo.shape[1] - STORED_WH[0]) // 2
    return photo[:, left : left + STORED_WH[0]], truth[:, left : left + STORED_WH[0]]


def load_renders(count: int, cache: Path, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` training renders (``rendered_photo``), each kept in ``cache`` once made."""
    photos, labels = [], []
    cache.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        path = cache / f"render_{seed}_{index}.npz"
        if path.exists():
            with np.load(path, allow_pickle=False) as kept:
                photo, truth = kept["photo"], kept["truth"]
        else:
            photo, truth = rendered_photo(index, seed)
            np.savez_compressed(path, photo=photo, truth=truth)
        photos.append(photo)
        labels.append(truth)
    return np.array(photos), np.array(labels)


def crop(photo, truth, rng: np.random.Generator | None):
    """The network's input (H, W, 3) float32 and labels (H, W) for one photo: the box of
    ``person_box`` about the labelled person; ``rng``: augmented."""
    import cv2

    person = truth != NET_LABELS.index("background")
    rows, cols = np.flatnonzero(person.any(axis=1)), np.flatnonzero(person.any(axis=0))
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    box = person_box((top, bottom), (int(cols[0]), int(cols[-1]) + 1))
    if rng is not None:  # other margins than MARGIN, and a shift sideways
        tall = bottom - top
        above, below = rng.uniform(0.02, 0.12, 2) - MARGIN
        box = person_box(
            (round(top - above * tall), round(bottom + below * tall)),
            (int(cols[0]), int(cols[-1]) + 1),
        )
        shift = rng.uniform(-0.05, 0.05) * (box[3] - box[2])
        box = (box[0], box[1], box[2] + shift, box[3] + shift)
    forward = box_transform(box)
    size = INPUT_HW[::-1]
    image = cv2.warpAffine(
        photo, forward, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    labels = cv2.warpAffine(
        truth, forward, size, flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    image = image.astype(np.float32)
    if rng is not None:
        if rng.random() < 0.5:
            image, labels = image[:, ::-1], labels[:, ::-1]
        image = image * rng.uniform(0.6, 1.3) + rng.uniform(-20, 20)  # exposure
        image = image * rng.uniform(0.9, 1.1, 3)  # white balance
        image = 255.0 * (np.clip(image, 0, 255) / 255.0) ** rng.uniform(0.7, 1.4)
        grey = image.mean(axis=2, keepdims=True)
        image = grey + (image - grey) * rng.uniform(0.6, 1.3)  # saturation
    return np.clip(image, 0, 255), np.ascontiguousarray(labels)


def batch(photos, labels, indices, rng):
    """Torch input (N, 3, H, W) and labels (N, H, W) of ``indices``."""
    import torch

    images, truths = zip(*(crop(photos[i], labels[i], rng) for i in indices), strict=True)
    return (
        torch.from_numpy(normalise(np.stack(images))),
        torch.from_numpy(np.stack(truths).astype(np.int64)),
    )


def held_out_iou(net, photos, labels, indices) -> dict[str, float]:
    """IoU per class on ``indices`` (un-augmented boxes, ignored pixels left out)."""
    import torch

    classes = len(NET_LABELS)
    confusion = np.zeros((classes, classes), np.int64)
    net.eval()
    with torch.no_grad():
        for start in range(0, len(indices), 16):
            x, y = batch(photos, labels, indices[start : start + 16], None)
            predicted, truth = net(x).argmax(1).numpy(), y.numpy()
            keep = truth != IGNORE
            pairs = classes * truth[keep] + predicted[keep]
            confusion += np.bincount(pairs, minlength=classes**2).reshape(classes, classes)
    net.train()
    hit = np.diag(confusion)
    iou = hit / np.maximum(confusion.sum(0) + confusion.sum(1) - hit, 1)
    return {name: round(float(v), 3) for name, v in zip(NET_LABELS, iou, strict=True)}


def main() -> None:
    import torch
    from torch.nn import functional

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ccp", type=Path, help="a checkout of bearpaw/clothing-co-parsing")
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("data/parsing_net.npz"))
    parser.add_argument("--eval-every", type=int, default=0, help="epochs between held-out IoUs")
    parser.add_argument(
        "--renders", type=int, default=260, help="training renders of our own bodies and drapes"
    )
    parser.add_argument("--render-cache", type=Path, default=Path("out/parsing_renders"))
    args = parser.parse_args()
    torch.manual_seed(0)
    photos, labels, numbers = load_ccp(args.ccp)
    train, held_out = np.flatnonzero(numbers % 2 == 1), np.flatnonzero(numbers % 2 == 0)
    if args.renders:  # our renders too: bare skin as our renderer draws it is skin
        rendered, rendered_labels = load_renders(args.renders, args.render_cache)
        train = np.concatenate([train, len(photos) + np.arange(len(rendered))])
        photos = np.concatenate([photos, rendered])
        labels = np.concatenate([labels, rendered_labels])
    net = build_net()
    steps_per_epoch = len(train) // args.batch
    optimiser = torch.optim.AdamW(net.parameters(), 3e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, 3e-3, total_steps=args.epochs * steps_per_epoch
    )
    weights = torch.tensor(CLASS_WEIGHTS)
    rng = np.random.default_rng(1)
    started = time.perf_counter()
    for epoch in range(args.epochs):
        order = rng.permutation(train)
        total = 0.0
        for step in range(steps_per_epoch):
            x, y = batch(photos, labels, order[step * args.batch : (step + 1) * args.batch], rng)
            loss = functional.cross_entropy(net(x), y, weight=weights, ignore_index=IGNORE)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item()
        print(
            f"epoch {epoch}: loss {total / steps_per_epoch:.3f}, "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        if args.eval_every and (epoch + 1) % args.eval_every == 0:
            print("  held-out IoU:", held_out_iou(net, photos, labels, held_out), flush=True)
    print("held-out IoU:", held_out_iou(net, photos, labels, held_out), flush=True)
    state = {name: value.numpy().astype(np.float16) for name, value in net.state_dict().items()}
    np.savez_compressed(args.out, **state)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
