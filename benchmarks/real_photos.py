"""Clothed photo fits on real photos others took (issue 16, "Real photos"): does the fitted body
lie inside the person and cover the skin that shows?

Real photos of dressed people carry no ground truth for the body, but two judgements hold without
one: the fitted body's silhouette should lie inside the person (share of its pixels inside the
person's mask: a ``<name>_mask.png`` beside the photo where one exists, else MediaPipe's own
mask as the fit saw it) and should cover the visible skin (share of the parsing's skin, 2 px in
from its edge, under the silhouette). A photo the fit refuses is counted with its one-line
reason: a standing, whole person should not be refused. MediaPipe's mask loses limbs (an arm
hanging against a top of the wall's colour) that the fit, placing limbs by the landmarks,
covers: ``inside`` against it is a lower bound; ``inside_parsed`` counts the parsing's person
too, whose GrabCut band in turn takes narrow gaps of a person's colour (between the legs) for
the person: an upper bound.

Photos come from a folder with a ``people.json`` manifest (``{"file.jpg": {"sex": "female",
"height_cm": 168}, ...}``; the height may be left out: 168 cm for women, 180 for men, since
the silhouette tests above hardly depend on it), or with ``--econ DIR`` from a checkout of
github.com/YuliangXiu/ECON (its ``examples/cloth`` and ``examples/pose`` fashion and street
photos; the standing ones listed in ``ECON_STANDING`` with their sex as seen; nothing of them
is copied into this project), or with ``--ccp DIR`` from a checkout of
github.com/bearpaw/clothing-co-parsing (Apache-2.0): street-fashion photos of standing people,
arms down, in coats, skirts, dresses and trousers, with a hand-drawn label per pixel. Its
held-out (even-numbered) photos, the first ``--count`` of them, are judged against those
labels: the person is every labelled pixel, the skin is CCP's own skin label (not the
parsing's), so both ``inside`` and ``skin_covered`` are measured against a person's
drawing. Their sex as seen: ``CCP_MEN`` are men, the rest women.

Usage: python benchmarks/real_photos.py (--photos DIR | --econ DIR | --ccp DIR [--count 40])
       [--json] [--save DIR]
       (the photo and the fit over it as PNG: green the fitted body inside the person, red
       outside it, blue the parsed skin it misses)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

#: The standing people of ECON's examples (file stem prefix -> sex as seen): street and studio
#: fashion photos, indoors and outdoors, arms down, walking, a hand to the face, long skirts,
#: coats. Its jumping and kicking photos are left out: no shopper stands so.
ECON_STANDING = {
    "0a64d9c7": "female",
    "1f7c9214": "female",
    "2095f20b": "male",
    "267cffcf": "female",
    "26d2e846": "female",
    "351f52b9": "male",
    "6c0a5def": "female",
    "7c6bb941": "female",
    "baf3c945": "female",
    "c7ca6894": "male",
    "da135ecd": "male",
    "df90cff5": "female",
    "e80b36c7": "female",
}
_HEIGHT_CM = {"female": 168.0, "male": 180.0}
_GIRTHS = ("chest", "waist", "hips")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


#: CCP's held-out photos (``--ccp``) of men, as seen among the first 60 (2-120); the others
#: are taken for women.
CCP_MEN = frozenset({4, 8, 26, 28, 46, 48, 60, 80, 114})


def _ccp_reader():
    """``scripts/train_parsing_net.py``, which reads CCP's photos and labels."""
    scripts = str(Path(__file__).resolve().parent.parent / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    import train_parsing_net

    return train_parsing_net


class RealPhoto(NamedTuple):
    """One photo to fit: its file, the person's sex and height [cm], and where the person was
    drawn by hand (CCP): that photo's number in the checkout ``ccp_root``."""

    path: Path
    sex: str
    height_cm: float
    ccp_root: Path | None = None
    ccp_number: int | None = None

    def truth(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(the person (H, W) bool, their visible skin (H, W) bool), each None where unknown:
        CCP's labels, else a ``<stem>_mask.png`` beside the photo for the person."""
        if self.ccp_root is not None and self.ccp_number is not None:
            from tryon3d.bodyfit import LABELS

            _, labels = _ccp_reader().ccp_photo(self.ccp_root, self.ccp_number)
            return labels != LABELS.index("background"), labels == LABELS.index("skin")
        from PIL import Image

        mask_path = self.path.with_name(f"{self.path.stem}_mask.png")
        if not mask_path.exists():
            return None, None
        return np.asarray(Image.open(mask_path).convert("L")) > 127, None


def _photos(args) -> list[RealPhoto]:
    """The photos to fit, in file order."""
    if args.econ:
        folder = Path(args.econ) / "examples"
        found = []
        for path in sorted(folder.rglob("*")):
            sex = next((s for k, s in ECON_STANDING.items() if path.stem.startswith(k)), None)
            if sex is not None and path.suffix.lower() in _IMAGE_SUFFIXES:
                found.append(RealPhoto(path, sex, _HEIGHT_CM[sex]))
        return found
    if args.ccp:
        root = Path(args.ccp)
        held_out = _ccp_reader().ccp_held_out(root)[: args.count]
        return [
            RealPhoto(
                root / "photos" / f"{n:04d}.jpg",
                sex := ("male" if n in CCP_MEN else "female"),
                _HEIGHT_CM[sex],
                root,
                n,
            )
            for n in held_out
        ]
    folder = Path(args.photos)
    manifest = json.loads((folder / "people.json").read_text(encoding="utf-8"))
    out = []
    for name, person in sorted(manifest.items()):
        sex = person["sex"]
        out.append(RealPhoto(folder / name, sex, float(person.get("height_cm", _HEIGHT_CM[sex]))))
    return out


def photo_scores(
    photo: np.ndarray, fit, truth_mask: np.ndarray | None, truth_skin: np.ndarray | None = None
) -> tuple[dict[str, float], np.ndarray, np.ndarray | None]:
    """(scores, the person judged against (H, W) bool, the skin judged (H, W) bool or None):
    ``inside`` (share of the fitted silhouette inside the person: ``truth_mask`` (H, W) bool
    where given, else the fit's own person mask), ``inside_parsed`` (with the parsing's person
    added) and ``skin_covered`` (share of the skin, 2 px in from its edge, under the
    silhouette: ``truth_skin`` (H, W) bool where given, else the parsing's; NaN without
    either)."""
    from PIL import Image
    from scipy import ndimage

    from tryon3d.bodyfit._parsing import BACKGROUND, SKIN

    size = photo.shape[1::-1]
    silhouette = fit.silhouettes["front"]
    if truth_mask is None:
        analysis = fit.analyses["front"]
        mask8 = Image.fromarray((analysis.mask * 255).astype(np.uint8)).resize(size)
        truth_mask = np.asarray(mask8) > 127
    scores = {"inside": float((silhouette & truth_mask).sum() / max(silhouette.sum(), 1))}
    parsing = fit.parsings.get("front")
    skin = truth_skin
    scores["inside_parsed"] = float("nan")
    if parsing is not None:
        labels = np.asarray(Image.fromarray(parsing.labels).resize(size, Image.Resampling.NEAREST))
        skin = labels == SKIN if skin is None else skin
        # MediaPipe's mask loses limbs the parsing keeps (an arm hanging against a top of its
        # colour): the fit, placing them by the landmarks, lies there and is not outside
        person = truth_mask | (labels != BACKGROUND)
        scores["inside_parsed"] = float((silhouette & person).sum() / max(silhouette.sum(), 1))
    if skin is not None:
        skin = ndimage.binary_erosion(skin, iterations=2)
    scores["skin_covered"] = (
        float((skin & silhouette).sum() / max(skin.sum(), 1)) if skin is not None else float("nan")
    )
    return scores, truth_mask, skin


def _save(folder: Path, stem: str, photo: np.ndarray, fit, person, skin) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    silhouette = fit.silhouettes["front"]
    image = (photo * 0.55).astype(np.uint8)
    image[silhouette & person] = (image[silhouette & person] * 0.5 + [0, 110, 0]).astype(np.uint8)
    image[silhouette & ~person] = (255, 0, 0)
    if skin is not None:
        image[skin & ~silhouette] = (0, 80, 255)
    Image.fromarray(np.concatenate([photo, image], axis=1)).save(folder / f"{stem}.png")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--photos", help="folder of photos with a people.json manifest")
    source.add_argument("--econ", help="a checkout of github.com/YuliangXiu/ECON")
    source.add_argument("--ccp", help="a checkout of github.com/bearpaw/clothing-co-parsing")
    parser.add_argument("--count", type=int, default=40, help="with --ccp: how many photos")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--save", help="folder for the photo-and-fit PNGs")
    args = parser.parse_args(argv)

    import cv2
    from PIL import Image

    from tryon3d.bodyfit import fit_body_to_photos

    photos = _photos(args)
    if not photos:
        print("no photos found", file=sys.stderr)
        return 2
    rows = []
    for entry in photos:
        path, sex, height_cm = entry.path, entry.sex, entry.height_cm
        photo = np.asarray(Image.open(path).convert("RGB"))
        truth, truth_skin = entry.truth()
        row: dict = {"photo": path.name, "sex": sex, "height_cm": height_cm}
        cv2.setRNGSeed(0)  # GrabCut (parsing) draws from OpenCV's global RNG
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            fit = fit_body_to_photos(photo, height_m=height_cm / 100.0, sex=sex, clothed=True)
        except ValueError as exc:
            row["refused"] = str(exc)
            rows.append(row)
            continue
        scores, person, skin = photo_scores(photo, fit, truth, truth_skin)
        row.update(
            {
                "inside": round(scores["inside"], 4),
                "inside_parsed": round(scores["inside_parsed"], 4),
                "skin_covered": round(scores["skin_covered"], 4),
                "truth_mask": truth is not None,
                "truth_skin": truth_skin is not None,
                "girths_cm": {g: round(100 * fit.body.measurements_m[g], 1) for g in _GIRTHS},
                "notes": list(fit.notes),
                "cpu_seconds": round(time.process_time() - cpu_started, 2),
                "seconds": round(time.perf_counter() - started, 2),
            }
        )
        if args.save:
            _save(Path(args.save), path.stem, photo, fit, person, skin)
        rows.append(row)
        if not args.json:
            print(f"{path.name}: inside {row['inside']:.3f}, skin {row['skin_covered']:.3f}")
    fitted = [r for r in rows if "inside" in r]
    summary = {
        "benchmark": "real_photos",
        "photos": len(rows),
        "refused": [f"{r['photo']}: {r['refused']}" for r in rows if "refused" in r],
        "inside_min": round(min((r["inside"] for r in fitted), default=float("nan")), 4),
        "inside_mean": round(float(np.mean([r["inside"] for r in fitted])), 4) if fitted else None,
        "inside_at_least_0.95": sum(r["inside"] >= 0.95 for r in fitted),
        "inside_parsed_at_least_0.95": sum(r["inside_parsed"] >= 0.95 for r in fitted),
        "skin_covered_mean": round(float(np.nanmean([r["skin_covered"] for r in fitted])), 4)
        if fitted
        else None,
        "rows": rows,
    }
    print(json.dumps(summary, indent=2) if args.json else json.dumps(summary["refused"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
