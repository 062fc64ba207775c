"""Human parsing on rendered ground truth: bodies of several skin tones wearing draped garments,
rendered by our own pipeline over real photo backgrounds (Debian's gnome-backgrounds), with the
labels known from the renderer's body / garment masks; parsed by ``bodyfit.parse_person``, which
was not tuned on them.

Reports pixel accuracy over the person's bounding box and IoU per class present (person, skin,
the garment's class), per image and on average.

``--ccp DIR``: real photos instead. The held-out (even-numbered) street photos of the Clothing
Co-Parsing dataset (a checkout of github.com/bearpaw/clothing-co-parsing, Apache-2.0; the odd
ones trained ``bodyfit._parsing_net``), parsed with the network and, side by side in the same
process, by colour alone (``parse_person(net=False)``, the parser before it); pooled over the
photos: IoU, precision and recall of person, skin, hair, shoes and clothes, and where the skin
that is not skin lies.

Usage: python benchmarks/parsing.py [--json] [--images 3] [--ccp DIR [--every 1]]
Needs ``apt-get install gnome-backgrounds`` (images are read from /usr/share/backgrounds).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

BACKGROUNDS = Path("/usr/share/backgrounds/gnome")
#: (garment families, linear RGB skin, linear RGB colour per garment, background file)
CASES = (
    (("tshirt",), (0.62, 0.40, 0.30), ((0.05, 0.12, 0.45),), "wood-l.webp"),
    (("dress",), (0.30, 0.17, 0.10), ((0.55, 0.08, 0.06),), "adwaita-l.webp"),
    (("tshirt",), (0.80, 0.58, 0.46), ((0.45, 0.45, 0.42),), "pixels-l.webp"),
    (("dress",), (0.70, 0.48, 0.36), ((0.10, 0.30, 0.12),), "truchet-l.webp"),
    (
        ("tshirt", "trousers"),
        (0.45, 0.28, 0.19),
        ((0.60, 0.55, 0.45), (0.03, 0.03, 0.05)),
        "grid-l.webp",
    ),
    (
        ("longsleeve", "trousers"),
        (0.75, 0.52, 0.40),
        ((0.50, 0.10, 0.10), (0.08, 0.12, 0.30)),
        "vnc-l.webp",
    ),
)
LABEL_OF = {
    "tshirt": "upper_clothes",
    "longsleeve": "upper_clothes",
    "dress": "dress",
    "trousers": "lower_clothes",
    "skirt": "lower_clothes",
}


def background(name: str, width: int, height: int) -> np.ndarray:
    """The gnome background ``name`` scaled to cover (width, height) and cropped: (H, W, 3)
    float32 sRGB in [0, 1]."""
    from PIL import Image

    back = Image.open(BACKGROUNDS / name).convert("RGB")
    scale = max(width / back.width, height / back.height)
    back = back.resize((int(np.ceil(back.width * scale)), int(np.ceil(back.height * scale))))
    return np.asarray(back, np.float32)[:height, :width] / 255.0


def photo_over(rendering, back: np.ndarray) -> np.ndarray:
    """A rendering (its antialiased alpha) over a background from :func:`background`: the
    "photo", (H, W, 3) uint8 sRGB."""
    return _over(rendering.rgba, back)


def over_background(rgba: np.ndarray, backdrop: str) -> np.ndarray:
    """A render's (H, W, 4) linear-alpha RGBA over the gnome background ``backdrop`` (scaled to
    cover, top-left crop): (H, W, 3) uint8."""
    return _over(rgba, background(backdrop, rgba.shape[1], rgba.shape[0]))


def _over(rgba: np.ndarray, back: np.ndarray) -> np.ndarray:
    """(H, W, 4) RGBA over (H, W, 3) ``back`` (both in [0, 1]) by its alpha: (H, W, 3) uint8."""
    alpha = rgba[..., 3:4]
    return np.round((rgba[..., :3] * alpha + back * (1 - alpha)) * 255).astype(np.uint8)


def dressed_layers(
    body,
    families,
    colours,
    *,
    sizes=None,
    fabrics=None,
    textures=None,
    designs=None,
    charts=None,
    edge_length_m: float = 0.04,
):
    """Render layers of ``families`` draped (alone each, CPU) on ``body``'s rest pose: one list
    of ``render`` garment layers per family; ``sizes``/``fabrics``/``textures``/``designs``
    (design parameter dicts)/``charts`` (size chart names) per family (None: M, the family's
    fabric, plain ``colours``, the family's design, the family's chart)."""
    from tryon3d import garments, sim
    from tryon3d.render._scene import _layers_from_drape

    count = len(families)
    sizes, fabrics, textures, designs, charts = (
        sizes or ("M",) * count,
        fabrics or (None,) * count,
        textures or (None,) * count,
        designs or ({},) * count,
        charts or (None,) * count,
    )
    out = []
    for family, colour, size, fabric, texture, design, chart in zip(
        families, colours, sizes, fabrics, textures, designs, charts, strict=True
    ):
        garment = garments.load_garment(
            family,
            size=size,
            fabric=fabric,
            body=body,
            chart=chart,
            edge_length_m=edge_length_m,
            **design,
        )
        drape = sim.drape(body, garment, device="cpu")
        out.append(_layers_from_drape(drape, color=colour, texture=texture))
    return out


def render_case(index: int, *, size: int = 512, edge_length_m: float = 0.04):
    """One rendered photo and its truth: ((H, W, 3) uint8 sRGB, (H, W) uint8 labels)."""
    from tryon3d import bodyfit

    families, skin, colours, backdrop = CASES[index % len(CASES)]
    body = bodyfit.body_from_measurements(
        height_m=1.68 + 0.04 * (index % 4),
        weight_kg=60 + 5 * (index % 4),
        sex="female" if "dress" in families or index % 2 else "male",
    )
    return render_dressed(
        body, families, skin, colours, backdrop, size=size, seed=index, edge_length_m=edge_length_m
    )


def render_dressed(
    body,
    families,
    skin,
    colours,
    backdrop: str,
    *,
    size: int = 512,
    seed: int = 0,
    edge_length_m: float = 0.04,
    sizes=None,
    textures=None,
    view: str = "front",
):
    """``body`` wearing ``families`` (draped, ``colours`` linear RGB, ``sizes``/``textures`` per
    family), ``skin`` linear RGB, rendered from ``view`` (a ``render`` view name) over the
    gnome background ``backdrop``: ((H, W, 3) uint8 sRGB photo, (H, W) uint8 ``LABELS``
    truth)."""
    from tryon3d import render
    from tryon3d.bodyfit import LABELS

    per_family = dressed_layers(
        body, families, colours, sizes=sizes, textures=textures, edge_length_m=edge_length_m
    )
    layers = [layer for group in per_family for layer in group]
    family_of = [k for k, group in enumerate(per_family) for _ in group]
    camera_width = size * 3 // 4
    rendering = render.render_body(
        body,
        garments=layers,
        camera=view,
        width=camera_width,
        height=size,
        spp=16,
        seed=seed,
        skin_color=skin,
    )
    # Which garment each pixel shows: the one whose own render has the same depth there.
    owner = np.full(rendering.mask.shape, -1)
    for k, layer in enumerate(layers):
        alone = render.render_body(
            body, garments=[layer], camera=rendering.camera, spp=1, seed=seed
        )
        gap = np.abs(
            np.where(alone.garment_mask, alone.depth, 0.0)
            - np.nan_to_num(rendering.depth, posinf=1e3)
        )
        owner[alone.garment_mask & (gap < 0.004) & (owner < 0)] = family_of[k]
    photo = photo_over(rendering, background(backdrop, camera_width, size))
    truth = np.zeros((size, camera_width), np.uint8)
    person = rendering.mask > 0.5
    truth[person] = LABELS.index("skin")
    for k, family in enumerate(families):
        truth[person & rendering.garment_mask & (owner == k)] = LABELS.index(LABEL_OF[family])
    return photo, truth


def scores(labels: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Pixel accuracy (person's box) and IoU of person, skin and each clothes class present."""
    from tryon3d.bodyfit import LABELS

    rows, cols = np.flatnonzero((truth > 0).any(axis=1)), np.flatnonzero((truth > 0).any(axis=0))
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    out = {"pixel_accuracy": float((labels[box] == truth[box]).mean())}
    pairs = {"person": (labels > 0, truth > 0)}
    for name in ("skin", "upper_clothes", "lower_clothes", "dress"):
        index = LABELS.index(name)
        if (truth == index).any():
            pairs[name] = (labels == index, truth == index)
    clothes = [LABELS.index(n) for n in ("upper_clothes", "lower_clothes", "dress")]
    pairs["clothes"] = (np.isin(labels, clothes), np.isin(truth, clothes))
    for name, (a, b) in pairs.items():
        out[f"iou_{name}"] = float((a & b).sum() / max((a | b).sum(), 1))
    return out


#: Classes scored on CCP: one label, or a group of labels (the clothes together).
CCP_CLASSES = {
    "person": ("skin", "hair", "upper_clothes", "lower_clothes", "dress", "shoes"),
    "skin": ("skin",),
    "hair": ("hair",),
    "clothes": ("upper_clothes", "lower_clothes", "dress"),
    "upper_clothes": ("upper_clothes",),
    "lower_clothes": ("lower_clothes",),
    "dress": ("dress",),
    "shoes": ("shoes",),
}


def run_ccp(root: Path, every: int) -> dict:
    """Parse CCP's held-out photos with and without the network; pooled scores per method."""
    import sys

    from tryon3d import bodyfit
    from tryon3d.bodyfit import LABELS

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from train_parsing_net import IGNORE, ccp_held_out, ccp_photo

    numbers = ccp_held_out(root)[::every]
    methods = {"net": True, "colour_only": False}
    counts = {m: {c: np.zeros(3, np.int64) for c in CCP_CLASSES} for m in methods}
    false_skin = {m: np.zeros(len(LABELS), np.int64) for m in methods}
    seconds = {m: 0.0 for m in methods}
    refused = []
    for number in numbers:
        path, truth = ccp_photo(root, number)
        photo = bodyfit.load_photo(str(path))
        try:
            analysis = bodyfit.analyze_photo(photo, check_single=False)
        except ValueError:
            refused.append(number)
            continue
        known = truth != IGNORE
        for method, net in methods.items():
            started = time.process_time()
            labels = bodyfit.parse_person(photo, analysis=analysis, net=net).labels
            seconds[method] += time.process_time() - started
            for name, group in CCP_CLASSES.items():
                ours = np.isin(labels, [LABELS.index(g) for g in group]) & known
                theirs = np.isin(truth, [LABELS.index(g) for g in group]) & known
                counts[method][name] += [
                    (ours & theirs).sum(),
                    (ours & ~theirs).sum(),
                    (~ours & theirs).sum(),
                ]
            wrong_skin = (labels == LABELS.index("skin")) & known & (truth != LABELS.index("skin"))
            false_skin[method] += np.bincount(truth[wrong_skin], minlength=len(LABELS))[
                : len(LABELS)
            ]
    parsed = len(numbers) - len(refused)
    out: dict = {"photos": parsed, "refused": refused}
    for method in methods:
        scores_ = {}
        for name, (hit, extra, missed) in counts[method].items():
            scores_[name] = {
                "iou": round(float(hit / max(hit + extra + missed, 1)), 3),
                "precision": round(float(hit / max(hit + extra, 1)), 3),
                "recall": round(float(hit / max(hit + missed, 1)), 3),
            }
        total = max(int(false_skin[method].sum()), 1)
        scores_["false_skin_share_on"] = {
            LABELS[i]: round(float(v) / total, 3) for i, v in enumerate(false_skin[method]) if v
        }
        scores_["cpu_seconds_per_photo"] = round(seconds[method] / max(parsed, 1), 2)
        out[method] = scores_
    return out


def main() -> None:
    from tryon3d import bodyfit

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--images", type=int, default=len(CASES))
    parser.add_argument("--ccp", type=Path, help="a Clothing Co-Parsing checkout: real photos")
    parser.add_argument("--every", type=int, default=1, help="with --ccp: every n-th photo")
    args = parser.parse_args()
    if args.ccp is not None:
        print(json.dumps({"benchmark": "parsing_ccp", **run_ccp(args.ccp, args.every)}, indent=1))
        return
    rows = []
    for index in range(args.images):
        photo, truth = render_case(index)
        start = time.perf_counter()
        parsing = bodyfit.parse_person(photo)
        row = {
            "case": index,
            "garments": "+".join(CASES[index % len(CASES)][0]),
            "parse_s": time.perf_counter() - start,
        }
        row.update(scores(parsing.labels, truth))
        # the parser before the network, side by side
        colour_only = scores(bodyfit.parse_person(photo, net=False).labels, truth)
        row.update({f"colour_only_{k}": v for k, v in colour_only.items()})
        rows.append(row)
        if not args.json:
            print(
                " ".join(
                    f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()
                )
            )
    keys = sorted(
        {k for row in rows for k in row if k.startswith(("iou_", "pixel", "parse", "colour_"))}
    )
    mean = {k: float(np.mean([row[k] for row in rows if k in row])) for k in keys}
    if args.json:
        print(json.dumps({"images": rows, "mean": mean}, indent=1))
    else:
        print("mean", " ".join(f"{k}={v:.3f}" for k, v in mean.items()))


if __name__ == "__main__":
    main()
