"""Real DXF-AAMA / ASTM pattern files (../shared/garments/dxf): our reading against another DXF
reader's raw entities (``*.expected.json``) and ksons/astm-parser's own expectations
(``peer-tests/*.test.ts``), ported."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tryon3d.garments._dxf import read_dxf_file

DXF = Path(__file__).resolve().parents[2] / "shared" / "garments" / "dxf"
if not DXF.is_dir():  # worktrees sit next to shared/
    DXF = Path("/work/shared/garments/dxf")
pytestmark = pytest.mark.skipif(not DXF.is_dir(), reason="../shared/garments/dxf not present")

_EXPECTED = sorted(DXF.glob("*.expected.json")) if DXF.is_dir() else []


def _dxf_for(expected: Path) -> Path:
    stem = expected.name[: -len(".expected.json")]
    for candidate in DXF.iterdir():
        if candidate.suffix.lower() == ".dxf" and candidate.stem.replace(" ", "_") == stem:
            return candidate
    raise FileNotFoundError(stem)


@pytest.mark.parametrize("expected", _EXPECTED, ids=lambda p: p.name.split(".")[0])
def test_outlines_match_the_other_readers_entities(expected):
    """Every block's layer-1 vertices (the other reader's, in the file's stated unit: AAMA
    ENGLISH = inch, METRIC = mm) are our piece outline's vertices within 0.1 mm, one for one."""
    raw = json.loads(expected.read_text())
    units = next(e["text"].split(":")[1].strip() for e in raw["entities"]
                 if e.get("type") == "TEXT" and e["text"].lower().startswith("units:"))
    scale = {"ENGLISH": 0.0254, "METRIC": 0.001}[units]
    read = read_dxf_file(_dxf_for(expected))
    by_block = {p.block: p for p in read.pieces}
    assert set(by_block) == set(raw["blocks"])
    checked = 0
    for name, block in raw["blocks"].items():
        vertices = [(v["x"], v["y"]) for e in block["entities"] if e["layer"] == "1" and "vertices" in e
                    for v in e["vertices"]]
        theirs = np.asarray(vertices) * scale
        ours = by_block[name].boundary
        # their list repeats each joint of consecutive polylines, and CAD exports repeat
        # vertices: walking it, a point within 0.1 mm of the last one kept is the same point
        kept = [theirs[0]]
        for point in theirs[1:]:
            if np.linalg.norm(point - kept[-1]) >= 1e-4:
                kept.append(point)
        if np.linalg.norm(kept[-1] - kept[0]) < 1e-4:
            kept.pop()
        assert len(ours) == len(kept), name
        d = np.linalg.norm(theirs[:, None] - ours[None], axis=2)
        assert d.min(axis=1).max() < 1e-4 and d.min(axis=0).max() < 1e-4, name
        checked += 1
    assert checked == len(raw["blocks"]) > 0


def test_simple_astm_parser_expectations():
    """peer-tests/parse.test.ts on simple.DXF: 4 pieces, 14 sizes, vertex counts, shapes."""
    read = read_dxf_file(DXF / "simple.DXF")
    assert read.unit == "inch" and read.sample_size == "36" and read.style == "C-S1615WWO206-10-26"
    assert read.author == "GERBER TECHNOLOGY ; ACCUMARK ; 10.0.1"
    assert sorted(read.piece_names()) == ["C-S1615WWO206-AB", "C-S1615WWO206-B", "C-S1615WWO206-F",
                                          "C-S1615WWO206-NB"]
    assert list(read.sizes) == ["26", "28", "30", "32", "34", "36", "38", "40", "42", "44", "46", "48", "50", "52"]
    first = next(p for p in read.pieces if p.name == "C-S1615WWO206-NB" and p.size == "26")
    # they count 8 boundary vertices as written (4 two-point polylines); joined, 4 corners
    assert first.raw_boundary_vertices == 8 and len(first.boundary) == 4 and len(first.corners) == 4
    front = next(p for p in read.pieces if p.name == "C-S1615WWO206-F" and p.size == "26")
    assert sum(len(line) for line in front.internal) == 64
    assert front.grain is not None and front.grain.shape == (2, 2)


def test_clo_astm_parser_expectations():
    """peer-tests/clo.test.ts on clo-pattern.dxf (CLO 4, one size M, METRIC in mm)."""
    read = read_dxf_file(DXF / "clo-pattern.dxf")
    assert read.unit == "mm" and read.sample_size == "M" and list(read.sizes) == ["M"]
    assert read.author.startswith("CLO Virtual Fashion Inc.")
    assert sorted(read.piece_names()) == ["11", "36", "37", "38", "39", "7", "Pattern2D_768516",
                                          "Pattern2D_768527", "Pattern2D_768528"]
    first = read.pieces[0]
    assert first.name == "11" and len(first.boundary) == 148  # one closed polyline of 148
    assert sum(len(line) for line in first.internal) == 22
    assert first.grain is not None
    # a bodice piece 70 cm tall: millimetres were right
    assert 0.6 < np.ptp(first.boundary[:, 1]) < 0.8


def test_mirror_drill_annotation_expectations():
    """peer-tests/mirror, drill-holes and annotation-text on the three Gerber files."""
    mirrored = read_dxf_file(DXF / "mirrored.DXF")
    assert mirrored.sample_size == "50" and mirrored.style == "GMG1016S19"
    back = next(p for p in mirrored.pieces if p.size == "52")
    assert back.name == "GMG1016S19-BK" and back.mirror is not None and back.mirror.shape == (2, 2)
    drills = read_dxf_file(DXF / "drill-holes.DXF")
    front = next(p for p in drills.pieces if p.size == "52")
    assert front.name == "SS17_M POLO REG FR" and len(front.drill_holes) == 1
    annotated = read_dxf_file(DXF / "annotation.DXF")
    back = next(p for p in annotated.pieces if p.size == "52")
    assert "Neckline Full Collar W/stand" in back.annotations
    assert annotated.unit == "mm" and annotated.sizes == drills.sizes


def test_units_text_beats_a_missing_header(tmp_path):
    """Inch files are read in inches (a tee front 70 cm long, not 1.8 cm or 18 m)."""
    read = read_dxf_file(DXF / "MEN CLASSIC TEE.DXF")
    assert read.unit == "inch" and "ENGLISH" in read.units_note
    front = next(p for p in read.pieces if p.name == "REGULAR TEEFR" and p.size == "50")
    assert 0.6 < np.ptp(front.boundary, axis=0).max() < 0.8
    # the same CLO file written in centimetres is detected from the piece's size
    text = (DXF / "clo-pattern.dxf").read_text()
    def scaled(match: re.Match) -> str:
        return f"{match.group(1)}\n{float(match.group(2)) / 10:.6f}"

    cm = re.sub(r"^(\s*[12]0)\r?\n(-?[0-9.]+)$", scaled, text, flags=re.MULTILINE)
    path = tmp_path / "clo_cm.dxf"
    path.write_text(cm)
    read_cm = read_dxf_file(path)
    assert read_cm.unit == "cm" and "centimetres" in read_cm.units_note
    assert np.ptp(read_cm.pieces[0].boundary[:, 1]) == pytest.approx(
        np.ptp(read_dxf_file(DXF / "clo-pattern.dxf").pieces[0].boundary[:, 1]), rel=1e-4)
