"""Try-on composite on rendered ground truth: does the new garment replace the old one?

Each pair is one anny body under the default studio light and a fixed front camera, rendered
over a real photo background (Debian's gnome-backgrounds, as in ``benchmarks/parsing.py``)
wearing garment A: that image is the "photo". Garment B, draped on the same body, is then
composited onto the photo by ``render.render_on_photo`` with the known body and camera (so this
measures the composite, not the photo fit; the light fit is told the true skin albedo, which a
photo alone cannot separate from the light's colour), once as today's paint-over and once
replacing the old garment (``parsing=bodyfit.parse_person(photo)``), with the uncovered
background filled by patches of the background ring around it (``new``, the default) and by
OpenCV's Telea inpainting (``telea``, the fill before). The truth is the same body rendered
wearing B with the same camera, light and background; the last pair's dress over a wood-grain
backdrop leaves the most background to fill.

Reported per pair and on average, for both composites side by side:
- ``ssim`` and ``psnr_db`` over the person region (either person's pixels, grown by 3 px);
  SSIM on luma box-averaged to half size (the renders' sampling grain) with a Gaussian window
  (sigma 1.5 px), PSNR on 8-bit RGB at full size;
- ``old_showing``: of the old-garment pixels (A shows in the photo, B does not in the truth, and
  photo and truth differ by more than 20/255 in mean RGB), the share whose composite is nearer
  the photo (still A) than the truth;
- ``background``: over the old-garment pixels where the truth shows background (the fill's
  pixels): ``mae`` (mean absolute 8-bit RGB error), ``ssim`` (luma, full size) and
  ``detail`` (mean absolute horizontal luma step over the truth's: 1 keeps the texture, a
  smear goes towards 0);
- ``cpu_s``: CPU seconds of the composite (process time).

Usage: python benchmarks/tryon_composite.py [--json] [--pairs 5] [--png-dir DIR] [--only old]
Needs ``apt-get install gnome-backgrounds`` (images are read from /usr/share/backgrounds).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parsing import background, photo_over  # the parsing benchmark's scene

#: (A family, A linear RGB, B family, B linear RGB, sex, height [m], mass [kg], linear RGB skin,
#: background file). B covering less than A is the hard case: skin and background must appear.
PAIRS = (
    (
        "longsleeve",
        (0.50, 0.10, 0.10),
        "tshirt",
        (0.05, 0.12, 0.45),
        "female",
        1.68,
        60.0,
        (0.62, 0.40, 0.30),
        "wood-l.webp",
    ),
    (
        "dress",
        (0.10, 0.30, 0.12),
        "tshirt",
        (0.45, 0.45, 0.42),
        "female",
        1.72,
        65.0,
        (0.30, 0.17, 0.10),
        "adwaita-l.webp",
    ),
    (
        "trousers",
        (0.08, 0.12, 0.30),
        "skirt",
        (0.60, 0.50, 0.30),
        "female",
        1.64,
        58.0,
        (0.80, 0.58, 0.46),
        "pixels-l.webp",
    ),
    (
        "longsleeve",
        (0.40, 0.40, 0.36),
        "tshirt",
        (0.55, 0.08, 0.06),
        "male",
        1.80,
        78.0,
        (0.45, 0.28, 0.19),
        "grid-l.webp",
    ),
    (
        "dress",
        (0.45, 0.10, 0.30),
        "tshirt",
        (0.10, 0.35, 0.45),
        "female",
        1.66,
        62.0,
        (0.55, 0.36, 0.26),
        "wood-l.webp",
    ),
)
HEIGHT_PX = 512
#: Composites compared: today's paint-over, replacing with Telea's background fill (before),
#: replacing with the patch fill (now the default).
MODES = ("old", "telea", "new")
DIFFERENT = 20.0 / 255.0  # mean RGB gap above which photo and truth are told apart


def _gaussian_ssim(a: np.ndarray, b: np.ndarray, *, sigma_px: float = 1.5) -> np.ndarray:
    """Per-pixel SSIM (Wang et al. 2004) of two (H, W) images in [0, 1], Gaussian window."""
    from scipy import ndimage

    c1, c2 = 0.01**2, 0.03**2

    def blur(x):
        return ndimage.gaussian_filter(x, sigma_px, truncate=3.5)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    return ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    )


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114]) / 255.0


def _half(image: np.ndarray) -> np.ndarray:
    """(H, W) image box-averaged over 2x2 blocks."""
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    return image[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))


def scores(
    composite: np.ndarray, photo: np.ndarray, truth: np.ndarray, region: np.ndarray, old: np.ndarray
) -> dict[str, float]:
    """SSIM, PSNR [dB] over ``region`` and the share of ``old`` pixels still showing the photo."""
    # at half size: the renders' Monte Carlo grain would otherwise dominate the structure term
    halves = [_half(_luma(x)) for x in (composite, truth)]
    ssim = float(_gaussian_ssim(*halves)[_half(region.astype(np.float64)) > 0.5].mean())
    error = (composite[region].astype(np.float64) - truth[region]) ** 2
    psnr = float(10 * np.log10(255.0**2 / max(error.mean(), 1e-12)))
    c, p, t = (x[old].astype(np.float64) / 255.0 for x in (composite, photo, truth))
    told = np.abs(p - t).mean(axis=1) > DIFFERENT
    nearer_photo = np.linalg.norm(c - p, axis=1) < np.linalg.norm(c - t, axis=1)
    showing = float(nearer_photo[told].mean()) if told.any() else 0.0
    return {"ssim": ssim, "psnr_db": psnr, "old_showing": showing, "old_px": int(told.sum())}


def background_scores(composite: np.ndarray, truth: np.ndarray, behind: np.ndarray) -> dict:
    """The fill where the old garment hid background: 8-bit MAE, luma SSIM (full size) and
    the detail ratio (mean absolute horizontal luma step, composite over truth) on ``behind``."""
    if not behind.any():
        return {"px": 0}
    error = np.abs(composite[behind].astype(np.float64) - truth[behind]).mean()
    a, b = _luma(composite), _luma(truth)
    ssim = float(_gaussian_ssim(a, b)[behind].mean())
    step = behind[:, 1:] & behind[:, :-1]
    detail = np.abs(np.diff(a, axis=1))[step].mean() / max(
        np.abs(np.diff(b, axis=1))[step].mean(), 1e-9
    )
    return {"px": int(behind.sum()), "mae": float(error), "ssim": ssim, "detail": float(detail)}


def make_pair(index: int, *, edge_length_m: float = 0.04):
    """(body, drape B, colour B, camera, photo A, truth B, person region, old-garment pixels,
    old-garment pixels where the truth shows background)."""
    from scipy import ndimage

    from tryon3d import bodyfit, garments, render, sim
    from tryon3d.render._scene import _layers_from_drape

    a, colour_a, b, colour_b, sex, height_m, mass_kg, skin, backdrop = PAIRS[index % len(PAIRS)]
    body = bodyfit.body_from_measurements(height_m=height_m, weight_kg=mass_kg, sex=sex)
    drapes = {
        family: sim.drape(
            body,
            garments.load_garment(family, size="M", body=body, edge_length_m=edge_length_m),
            device="cpu",
        )
        for family in (a, b)
    }
    width = HEIGHT_PX * 3 // 4
    renders = {}
    camera = None
    for family, colour in ((a, colour_a), (b, colour_b)):
        renders[family] = render.render_body(
            body,
            garments=_layers_from_drape(drapes[family], color=colour),
            camera="front" if camera is None else camera,
            width=width,
            height=HEIGHT_PX,
            spp=16,
            seed=index,
            skin_color=skin,
        )
        camera = renders[family].camera
    back = background(backdrop, width, HEIGHT_PX)
    photo, truth = photo_over(renders[a], back), photo_over(renders[b], back)
    person = ndimage.binary_dilation(
        (renders[a].mask > 0.5) | (renders[b].mask > 0.5), iterations=3
    )
    old = renders[a].garment_mask & (renders[a].mask > 0.5) & ~renders[b].garment_mask
    behind = old & (renders[b].mask < 0.02)
    return body, drapes[b], colour_b, camera, photo, truth, person, old, behind


def main() -> None:
    from tryon3d import bodyfit, render

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--pairs", type=int, default=len(PAIRS))
    parser.add_argument("--png-dir", help="write photo | truth | composites side by side here")
    parser.add_argument("--only", choices=MODES, help="run one composite only")
    args = parser.parse_args()
    modes = [args.only] if args.only else list(MODES)
    from tryon3d.sim import DrapeDivergedError

    rows = []
    failed = []
    for index in range(args.pairs):
        try:
            body, drape, colour, camera, photo, truth, person, old, behind = make_pair(index)
        except DrapeDivergedError as exc:  # reported, not averaged: a scene we cannot build
            failed.append({"pair": index, "error": str(exc)})
            continue
        skin = PAIRS[index % len(PAIRS)][7]
        parsing = bodyfit.parse_person(photo)
        row: dict = {"pair": index, "a_to_b": "->".join(PAIRS[index % len(PAIRS)][0:3:2])}
        images = [photo, truth]
        for mode in modes:
            extra = {} if mode == "old" else {"parsing": parsing}
            if mode == "telea":
                extra["background_fill"] = "telea"
            start = time.process_time()
            composite, _ = render.render_on_photo(
                body,
                drape,
                photo,
                camera,
                parsing.mask("person"),
                garment_color=colour,
                skin_color=skin,
                **extra,
            )
            row[mode] = {"cpu_s": time.process_time() - start}
            row[mode].update(scores(composite, photo, truth, person, old))
            row[mode]["background"] = background_scores(composite, truth, behind)
            images.append(composite)
        rows.append(row)
        if args.png_dir:
            from PIL import Image

            Path(args.png_dir).mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.concatenate(images, axis=1)).save(
                Path(args.png_dir) / f"pair_{index}.png"
            )
        if not args.json:
            print(json.dumps(row))
    mean = {
        mode: {
            key: float(np.mean([row[mode][key] for row in rows]))
            for key in ("ssim", "psnr_db", "old_showing", "cpu_s")
        }
        for mode in modes
    }
    for mode in modes:  # the fill, weighted by each pair's filled pixels
        filled = [row[mode]["background"] for row in rows if row[mode]["background"]["px"]]
        weights = [b["px"] for b in filled]
        if weights:
            mean[mode]["background"] = {
                key: float(np.average([b[key] for b in filled], weights=weights))
                for key in ("mae", "ssim", "detail")
            }
            mean[mode]["background"]["px"] = int(sum(weights))
    if args.json:
        print(json.dumps({"pairs": rows, "failed_pairs": failed, "mean": mean}, indent=1))
    else:
        print("mean", json.dumps(mean), "failed pairs", json.dumps(failed))


if __name__ == "__main__":
    main()
