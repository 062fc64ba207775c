"""Every script in ``examples/`` runs headless with ``--quick`` and writes what it promises.

Each example runs once, in a subprocess (as a user runs it), into a temporary folder; later
examples reuse earlier outputs (``--body``, ``--drape``) so the whole file stays near a minute.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = REPO_ROOT / "examples"
SAMPLE_PHOTO = REPO_ROOT.parent / "shared" / "photos" / "ryota_front.png"
TESTED = {
    "body_from_measurements",
    "body_from_photos",
    "drape_and_fit_maps",
    "fit_report",
    "tryon_on_photo",
    "turntable",
}
HEIGHT_CM, CHEST_CM = 181.0, 102.0


def run_example(
    name: str, out: Path, *args: str, expect_rc: int = 0
) -> subprocess.CompletedProcess:
    """``python examples/NAME.py --quick -o OUT ARGS`` from the repository root."""
    command = [sys.executable, str(EXAMPLES_DIR / f"{name}.py"), "--quick", "-o", str(out), *args]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == expect_rc, f"{name}: exit {done.returncode}\n{done.stderr[-3000:]}"
    return done


def rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(np.int32)


def foreground_fraction(image: np.ndarray) -> float:
    """Share of pixels that differ from the top-left (background) pixel."""
    return float((np.abs(image - image[0, 0]).sum(-1) > 30).mean())


@pytest.fixture(scope="module")
def body_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("body")
    run_example(
        "body_from_measurements",
        out,
        "--height",
        str(HEIGHT_CM),
        "--weight",
        "80",
        "--sex",
        "male",
        "--chest",
        str(CHEST_CM),
    )
    return out


@pytest.fixture(scope="module")
def drape_dir(tmp_path_factory, body_dir) -> Path:
    out = tmp_path_factory.mktemp("drape")
    run_example("drape_and_fit_maps", out, "--body", str(body_dir))
    return out


@pytest.fixture(scope="module")
def photo_body_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("photo_body")
    run_example("body_from_photos", out)
    return out


def test_every_example_is_tested():
    assert {p.stem for p in EXAMPLES_DIR.glob("*.py")} == TESTED
    for path in EXAMPLES_DIR.glob("*.py"):
        text = path.read_text()
        assert text.startswith('"""') and "def main(argv" in text and "--quick" in text, path.name


def test_body_from_measurements(body_dir):
    content = json.loads((body_dir / "body.json").read_text())
    measured = content["measurements_cm"]
    assert abs(measured["stature"] - HEIGHT_CM) < 1.0
    assert abs(measured["chest"] - CHEST_CM) < 1.0
    assert abs(content["weight_kg"] - 80.0) < 1.5
    assert (body_dir / "body.glb").read_bytes()[:4] == b"glTF"
    front = rgb(body_dir / "front.png")
    assert front.shape == (160, 120, 3)
    assert 0.08 < foreground_fraction(front) < 0.4  # a standing body, not an empty frame


def test_bad_input_exits_2_with_one_line(tmp_path):
    done = run_example("body_from_measurements", tmp_path / "bad", "--height", "500", expect_rc=2)
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "height" in errors[0]
    assert not (tmp_path / "bad").exists()  # nothing written


def test_drape_and_fit_maps(drape_dir):
    summary = json.loads((drape_dir / "drape.json").read_text())
    assert summary["gates"]["penetrating_vertices"] <= 5
    # a T-shirt M on a 102 cm chest sits close: neither gaping nor crushed
    assert -8.0 < summary["ease_cm"]["chest"] < 8.0
    maps = {}
    for field in ("stretch", "pressure", "ease"):
        image = rgb(drape_dir / f"fitmap_{field}.png")
        assert image.shape[0] == 160
        views = image[:, : 2 * 120]  # front and back, 3/4 as wide as high; the legend follows
        coloured = (views.max(-1) - views.min(-1)) > 80  # the map's colours; skin is pale
        assert 0.03 < coloured.mean() < 0.45, (field, coloured.mean())
        maps[field] = views
    assert np.abs(maps["stretch"] - maps["ease"]).mean() > 1.0  # different fields, different maps
    assert (drape_dir / "draped.glb").read_bytes()[:4] == b"glTF"
    assert (drape_dir / "drape.npz").stat().st_size > 1000


def test_fit_report(body_dir, tmp_path):
    run_example("fit_report", tmp_path, "--body", str(body_dir))
    report = json.loads((tmp_path / "report.json").read_text())
    sizes = list(report["sizes"])
    assert len(sizes) == 3 and report["recommended_size"] in sizes  # the chart's answer +- one
    assert 0.0 < report["confidence"] <= 1.0
    chest_ease = [report["sizes"][size]["ease_cm"]["chest"]["ease"] for size in sizes]
    assert chest_ease == sorted(chest_ease) and chest_ease[-1] - chest_ease[0] > 4.0  # graded
    page = (tmp_path / "report.html").read_text()
    assert f'<div class="big">{report["recommended_size"]}</div>' in page
    for size in sizes:
        assert Image.open(tmp_path / f"fitmap_{size}.png").size[1] == 128
    assert Image.open(tmp_path / "turntable.gif").n_frames == 4
    assert (tmp_path / "viewer" / "model-viewer.min.js").is_file()


def test_turntable_of_a_saved_drape(body_dir, drape_dir, tmp_path):
    run_example("turntable", tmp_path, "--body", str(body_dir), "--drape", str(drape_dir))
    gif = Image.open(tmp_path / "turntable.gif")
    assert gif.n_frames == 6 and gif.size == (128, 128)
    frames = []
    for index in range(gif.n_frames):
        gif.seek(index)
        frames.append(np.asarray(gif.convert("RGB")).astype(np.int32))
    for frame in frames:
        assert 0.05 < foreground_fraction(frame) < 0.4
    first = rgb(tmp_path / "frame_000.png")
    garment = (first[..., 0] - first[..., 1] > 90) & (first[..., 0] - first[..., 2] > 80)
    assert 0.02 < garment.mean() < 0.3, garment.mean()  # the dark red T-shirt
    assert np.abs(frames[0] - frames[2]).mean() > 2.0  # it turns


def test_body_from_photos(photo_body_dir):
    content = json.loads((photo_body_dir / "body.json").read_text())
    synthetic = (photo_body_dir / "photo.png").is_file()
    assert synthetic != SAMPLE_PHOTO.is_file()
    assert abs(content["measurements_cm"]["stature"] - (168.0 if synthetic else 172.0)) < 1.0
    camera = json.loads((photo_body_dir / "camera.json").read_text())
    assert camera["width"] == camera["height"] == (384 if synthetic else 512)
    fitted = np.asarray(Image.open(photo_body_dir / "silhouette_front.png")) > 127
    if synthetic:  # the render's own silhouette: a bare body, so the fit should fill it
        truth = np.asarray(Image.open(photo_body_dir / "true_silhouette.png")) > 127
        assert (fitted & truth).sum() / (fitted | truth).sum() > 0.88  # measured 0.928
    else:  # the sample photo comes with its true silhouette
        truth = (
            np.asarray(Image.open(SAMPLE_PHOTO.with_name("ryota_front_mask.png")).convert("L"))
            > 127
        )
        # the body under his hoodie: inside his outline, not filling it (as test_photo_fit)
        assert (fitted & truth).sum() / fitted.sum() >= 0.95
        assert (fitted & truth).sum() / (fitted | truth).sum() > 0.75  # measured 0.797


def test_tryon_on_photo(photo_body_dir, tmp_path):
    run_example("tryon_on_photo", tmp_path, "--body", str(photo_body_dir))
    synthetic = photo_body_dir / "photo.png"
    photo = rgb(synthetic if synthetic.is_file() else SAMPLE_PHOTO)
    composite = rgb(tmp_path / "tryon.png")
    garment = np.asarray(Image.open(tmp_path / "garment_mask.png")) > 127
    person = np.asarray(Image.open(photo_body_dir / "silhouette_front.png")) > 127
    assert composite.shape == photo.shape and garment.shape == photo.shape[:2]
    assert 0.02 < garment.mean() < 0.3
    assert (garment & person).sum() > 0.8 * garment.sum()  # the shirt sits on the person
    assert np.abs(composite - photo)[garment].mean() > 10.0  # and is drawn
    far = ~np.asarray(Image.fromarray(person).filter(ImageFilter.MaxFilter(15)))
    assert np.abs(composite - photo)[far].mean() < 1.0  # the background is untouched
