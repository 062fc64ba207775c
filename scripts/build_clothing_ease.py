"""Build ``data/clothing_ease.json``: how far our drapes stand off the body, per region.

For bodies of both sexes and several BMIs, every garment family at the chart size and two sizes
up, in two fabrics each, is draped (CPU) on the rest A-pose; the body alone and the garment
alone are projected orthographically from the front and the side (2.5 mm pixels) and, for
every outline pixel of the dressed silhouette that the cloth forms, its distance to the body
silhouette is the stand-off. Pixels are grouped by the view, the parsed garment class
(upper: tee / long sleeve; trousers; skirt; dress) and the body region that
``bodyfit._clothed.region_map`` gives from the joints projected as pose keypoints (as the photo
fit does from MediaPipe's). The table keeps the median, mean, spread and count per group.

Usage: python scripts/build_clothing_ease.py [--out data/clothing_ease.json] [--quick]
[--families trousers,skirt] (about 40 drapes, a few minutes of CPU; with --families only those
families are draped and their classes replaced in the existing ``--out`` table, the others kept).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

PX_PER_M = 400.0  # 2.5 mm pixels
CLASS_OF = {
    "tshirt": "upper",
    "longsleeve": "upper",
    "trousers": "trousers",
    "skirt": "skirt",
    "dress": "dress",
}
FABRICS = {
    "tshirt": ("cotton_jersey", "wool_knit"),
    "longsleeve": ("polyester_woven", "cotton_jersey"),
    "trousers": ("denim", "polyester_woven"),
    "skirt": ("cotton_jersey", "denim"),
    "dress": ("polyester_woven", "silk_charmeuse"),
}
#: (sex, height [m], BMI)
BODIES = (
    ("female", 1.62, 20.0),
    ("female", 1.70, 29.0),
    ("male", 1.76, 22.0),
    ("male", 1.84, 31.0),
)
#: MediaPipe landmark -> anny joint (bone head) for the keypoints of ``region_map``.
KEYPOINT_JOINTS = {
    11: "upperarm01.L",
    12: "upperarm01.R",
    13: "lowerarm01.L",
    14: "lowerarm01.R",
    15: "wrist.L",
    16: "wrist.R",
    23: "upperleg01.L",
    24: "upperleg01.R",
    25: "lowerleg01.L",
    26: "lowerleg01.R",
    27: "foot.L",
    28: "foot.R",
}


def project(points: np.ndarray, view: str, origin: np.ndarray) -> np.ndarray:
    """Orthographic image coordinates (u, v) [px] of (N, 3) points: front looks along +y
    (u = x), side along -x (u = y); v = down."""
    horizontal = points[:, 0] if view == "front" else points[:, 1]
    u = (horizontal - origin[0]) * PX_PER_M
    v = (origin[1] - points[:, 2]) * PX_PER_M
    return np.stack([u, v], axis=1)


def raster(uv: np.ndarray, faces: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Silhouette (H, W) bool of the triangles ``faces`` at pixel positions ``uv``."""
    from PIL import Image, ImageDraw

    image = Image.new("1", (shape[1], shape[0]), 0)
    draw = ImageDraw.Draw(image)
    for tri in uv[faces]:
        draw.polygon([tuple(p) for p in tri], fill=1)
    return np.asarray(image, dtype=bool)


def main() -> int:
    from tryon3d import bodyfit, garments, sim
    from tryon3d.bodyfit._clothed import (
        EASE_CLASSES,
        EASE_REGIONS,
        EASE_VIEWS,
        ClothingEase,
        ease_samples,
        region_map,
    )
    from tryon3d.sizing import chart_for, chart_size_for

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parents[1] / "data/clothing_ease.json"))
    parser.add_argument("--quick", action="store_true", help="one body per sex, one fabric")
    parser.add_argument(
        "--families",
        default=None,
        help="comma separated: drape only these and keep the other classes of --out",
    )
    args = parser.parse_args()
    only = None if args.families is None else set(args.families.split(","))
    if only is not None and not only <= set(CLASS_OF):
        raise SystemExit(f"--families must be among {sorted(CLASS_OF)}, got {args.families}")
    bodies = BODIES[::2] if args.quick else BODIES
    samples: dict = {
        v: {c: {r: [] for r in EASE_REGIONS} for c in EASE_CLASSES} for v in EASE_VIEWS
    }
    started = time.perf_counter()
    for body_index, (sex, height, bmi) in enumerate(bodies):
        body = bodyfit.body_from_measurements(height_m=height, weight_kg=bmi * height**2, sex=sex)
        families = ("tshirt", "longsleeve", "trousers") + (
            ("skirt", "dress") if sex == "female" else ()
        )
        for family in families:
            if only is not None and family not in only:
                continue
            chart = chart_for(sex, family)  # men wear the men's chart, as the fit report has it
            for loose in (False, True):
                size = chart_size_for(body, chart, family, sizes_up=2 if loose else 0)
                fabrics = FABRICS[family][:1] if args.quick else FABRICS[family]
                fabric = fabrics[(body_index + loose) % len(fabrics)]
                garment = garments.load_garment(
                    family, size=size, fabric=fabric, body=body, chart=chart, edge_length_m=0.03
                )
                drape = sim.drape(body, garment, device="cpu")
                cloth = np.asarray(drape.positions, np.float64)
                every = np.concatenate([body.vertices, cloth])
                for view in EASE_VIEWS:
                    axis = 0 if view == "front" else 1
                    origin = np.array([every[:, axis].min() - 0.05, every[:, 2].max() + 0.05])
                    extent = np.array(
                        [every[:, axis].max() + 0.05 - origin[0], origin[1] - every[:, 2].min()]
                    )
                    shape = (int(extent[1] * PX_PER_M) + 2, int(extent[0] * PX_PER_M) + 2)
                    body_mask = raster(project(body.vertices, view, origin), body.faces, shape)
                    cloth_mask = raster(project(cloth, view, origin), drape.faces, shape)
                    keypoints = np.zeros((33, 2))
                    for landmark, joint in KEYPOINT_JOINTS.items():
                        point = body.joints[body.joint_names.index(joint)][None]
                        keypoints[landmark] = project(point, view, origin)[0]
                    regions = region_map(shape, keypoints, PX_PER_M, view=view)
                    for region, values in ease_samples(
                        body_mask, cloth_mask, regions, PX_PER_M
                    ).items():
                        samples[view][CLASS_OF[family]][region].append(values)
                print(
                    f"{sex} {height} {bmi} {family} {size} {fabric}: "
                    f"{time.perf_counter() - started:.0f} s",
                    flush=True,
                )
    shape = (len(EASE_CLASSES), len(EASE_REGIONS))
    tables: dict = {key: {} for key in ("median", "mean", "std", "count")}
    for view in EASE_VIEWS:
        arrays = {key: np.full(shape, np.nan) for key in ("median", "mean", "std")}
        count = np.zeros(shape, np.int64)
        for i, garment_class in enumerate(EASE_CLASSES):
            for j, region in enumerate(EASE_REGIONS):
                parts = samples[view][garment_class][region]
                values = np.concatenate(parts) if parts else np.zeros(0)
                if len(values) < 20:  # a few stray pixels say nothing about a region
                    continue
                arrays["median"][i, j] = np.median(values)
                arrays["mean"][i, j] = values.mean()
                arrays["std"][i, j] = values.std()
                count[i, j] = len(values)
        for key, array in arrays.items():
            tables[key][view] = array
        tables["count"][view] = count
    if only is not None:  # keep the classes not redrawn from the existing table
        kept = ClothingEase.from_dict(json.loads(Path(args.out).read_text(encoding="utf-8")))
        redrawn = {CLASS_OF[family] for family in only}
        for i, garment_class in enumerate(EASE_CLASSES):
            if garment_class in redrawn:
                continue
            for key in tables:
                for view in EASE_VIEWS:
                    tables[key][view][i] = getattr(kept, key)[view][i]
    ease = ClothingEase(**tables)
    document = {
        "about": (
            "Stand-off [m] of draped cloth outlines from the body silhouette per view, parsed "
            "garment class and body region (bodyfit/_clothed.py), from "
            "scripts/build_clothing_ease.py: median, mean, std over outline pixels of our "
            "families (tee, long sleeve, trousers, skirt, dress; classes upper, trousers, skirt, "
            "dress) at the chart size and two sizes up, two fabrics each, on 4 bodies (both "
            "sexes, BMI 20-31)."
        ),
        **ease.to_dict(),
    }
    Path(args.out).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
