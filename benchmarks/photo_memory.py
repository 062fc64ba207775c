"""Peak memory of compositing a drape into a phone photo (``render.render_on_photo``).

Each measurement runs in its own child process (peak RSS from ``getrusage``, so runs do not
inherit each other's peak): the synthetic photo (noise, 4:3) at 12 MP and 48 MP, the old way
(``work_max_side_px=None``: render, light fit and blend at full resolution, float arrays) and the
new way (work at ``render.WORK_MAX_SIDE_PX``, composite the full resolution in 8-bit strips).
The old way at 48 MP needs over 10 GB and is skipped unless ``--old-48``.

``--whole-run``: the peak of a whole ``tryon3d tryon --photo`` run instead (body fit, drape,
composite, turntable, report), the CLI in a child process of a child (its peak RSS from
``getrusage(RUSAGE_CHILDREN)``, forked drape workers included) on the shared front photo upscaled
to each size (bicubic, saved as JPEG without EXIF).

Usage: python benchmarks/photo_memory.py [--json] [--sizes 12,48] [--old-48] [--spp 4]
       python benchmarks/photo_memory.py --whole-run [--json] [--sizes 12,48] [-- extra tryon args]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1] / "tests"
_PHOTO = Path(__file__).resolve().parents[2] / "shared" / "photos" / "ryota_front.png"
_TRYON = ["--height", "170", "--sex", "male", "--garment", "tshirt", "--size", "M"]


def _whole_child(megapixels: float, photo: Path, extra: list[str]) -> dict:
    """One ``tryon3d tryon --photo`` run on ``photo`` upscaled to ``megapixels``: its peak RSS."""
    import tempfile

    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="tryon3d-photo-memory-") as folder:
        with Image.open(photo) as image:
            image = image.convert("RGB")
            scale = (megapixels * 1e6 / (image.width * image.height)) ** 0.5
            big = image.resize(
                (round(image.width * scale), round(image.height * scale)), Image.Resampling.BICUBIC
            )
        path = Path(folder) / "photo.jpg"
        big.save(path, quality=90)  # no exif= argument: nothing but pixels
        size = big.size
        del big, image
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tryon3d",
                "-q",
                "tryon",
                "--photo",
                str(path),
                *_TRYON,
                *extra,
                "-o",
                str(Path(folder) / "out"),
            ],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    row = {
        "megapixels": round(size[0] * size[1] / 1e6, 1),
        "width": size[0],
        "height": size[1],
        "mode": "whole-run",
        "exit_code": done.returncode,
        "peak_rss_mb": round(peak),
        "seconds": round(seconds, 1),
        "args": [*_TRYON, *extra],
    }
    if done.returncode not in (0, 3):  # 3: a drape failed its gates, the run itself finished
        row["error"] = done.stderr.strip().splitlines()[-1:]
    return row


def _child(megapixels: float, mode: str, spp: int) -> dict:
    sys.path.insert(
        0, str(_TESTS)
    )  # the synthetic stand-in body and tube drape of the render tests
    import numpy as np
    from _render_scenes import stand_in_body, tube_drape

    from tryon3d import render

    width = round((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = round(width * 3 / 4)
    body, drape = stand_in_body(hand=True), tube_drape()
    camera = render.look_at_camera(
        (0.3, -3.0, 1.3), (0, 0, 1.1), fov_y_deg=25, width=width, height=height
    )
    photo = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    work = None if mode == "old" else render.WORK_MAX_SIDE_PX
    _composite, mask = render.render_on_photo(
        body, drape, photo, camera, None, light_steps=5, spp=spp, work_max_side_px=work
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "megapixels": round(width * height / 1e6, 1),
        "width": width,
        "height": height,
        "mode": mode,
        "peak_rss_mb": round(peak),
        "rss_before_mb": round(before),
        "seconds": round(seconds, 1),
        "garment_pixels": int(mask.sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--sizes", default="12,48", help="megapixels to try, comma-separated")
    parser.add_argument(
        "--old-48", action="store_true", help="also run the old way at 48 MP (over 10 GB)"
    )
    parser.add_argument("--spp", type=int, default=4, help="samples per pixel of the renders")
    parser.add_argument(
        "--whole-run",
        action="store_true",
        help="peak of a whole `tryon3d tryon --photo` run (arguments after -- go to tryon)",
    )
    parser.add_argument(
        "--photo", type=Path, default=_PHOTO, help="front photo to upscale (--whole-run)"
    )
    parser.add_argument("--child", nargs=2, metavar=("MP", "MODE"), help=argparse.SUPPRESS)
    parser.add_argument("extra", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child[1] == "whole-run":
            print(json.dumps(_whole_child(float(args.child[0]), args.photo, args.extra)))
        else:
            print(json.dumps(_child(float(args.child[0]), args.child[1], args.spp)))
        return
    rows = []
    for megapixels in (float(x) for x in args.sizes.split(",")):
        for mode in ("whole-run",) if args.whole_run else ("old", "new"):
            if mode == "old" and megapixels > 40 and not args.old_48:
                rows.append(
                    {
                        "megapixels": megapixels,
                        "mode": mode,
                        "skipped": "needs over 10 GB (--old-48)",
                    }
                )
                continue
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    str(megapixels),
                    mode,
                    "--spp",
                    str(args.spp),
                    "--photo",
                    str(args.photo),
                    "--",
                    *args.extra,
                ],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                rows.append(
                    {
                        "megapixels": megapixels,
                        "mode": mode,
                        "error": done.stderr.strip().splitlines()[-1:],
                    }
                )
            else:
                rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps({"benchmark": "photo_memory", "results": rows}, indent=2))
        return
    for row in rows:
        if "peak_rss_mb" in row:
            before = (
                f"before the call {row['rss_before_mb']} MB"
                if "rss_before_mb" in row
                else f"exit code {row['exit_code']}"
            )
            print(
                f"{row['megapixels']:5.1f} MP {row['mode']:3s}: peak {row['peak_rss_mb']:6d} MB "
                f"({before}), {row['seconds']:.1f} s"
            )
        else:
            print(
                f"{row['megapixels']:5.1f} MP {row['mode']:3s}: "
                f"{row.get('skipped') or row.get('error')}"
            )


if __name__ == "__main__":
    main()
