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
    units = next(
        e["text"].split(":")[1].strip()
        for e in raw["entities"]
        if e.get("type") == "TEXT" and e["text"].lower().startswith("units:")
    )
    scale = {"ENGLISH": 0.0254, "METRIC": 0.001}[units]
    read = read_dxf_file(_dxf_for(expected))
    by_block = {p.block: p for p in read.pieces}
    assert set(by_block) == set(raw["blocks"])
    checked = 0
    for name, block in raw["blocks"].items():
        vertices = [
            (v["x"], v["y"])
            for e in block["entities"]
            if e["layer"] == "1" and "vertices" in e
            for v in e["vertices"]
        ]
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
    assert sorted(read.piece_names()) == [
        "C-S1615WWO206-AB",
        "C-S1615WWO206-B",
        "C-S1615WWO206-F",
        "C-S1615WWO206-NB",
    ]
    assert list(read.sizes) == [
        "26",
        "28",
        "30",
        "32",
        "34",
        "36",
        "38",
        "40",
        "42",
        "44",
        "46",
        "48",
        "50",
        "52",
    ]
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
    assert sorted(read.piece_names()) == [
        "11",
        "36",
        "37",
        "38",
        "39",
        "7",
        "Pattern2D_768516",
        "Pattern2D_768527",
        "Pattern2D_768528",
    ]
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


def test_sizes_from_block_names_when_texts_are_missing(tmp_path):
    """Without Size:/Piece Name: texts, ``RELAXED TANK FR V2_30`` is piece ``RELAXED TANK FR V2``
    in size 30."""
    import ezdxf

    doc = ezdxf.readfile(DXF / "WM LOOSE SHAPE TANK.DXF")
    for block in doc.blocks:
        for entity in list(block):
            if entity.dxftype() == "TEXT" and entity.dxf.text.upper().startswith(
                ("SIZE:", "PIECE NAME")
            ):
                block.delete_entity(entity)
    doc.saveas(tmp_path / "bare.dxf")
    read = read_dxf_file(tmp_path / "bare.dxf")
    assert (
        read.sizes == read_dxf_file(DXF / "WM LOOSE SHAPE TANK.DXF").sizes and len(read.sizes) == 14
    )
    assert read.piece_names() == ["RELAXED TANK FR V2", "RELAXED TANK BK V2"]


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
        np.ptp(read_dxf_file(DXF / "clo-pattern.dxf").pieces[0].boundary[:, 1]), rel=1e-4
    )


# --- which piece goes where -------------------------------------------------------------------


def _panel_half_width_check(pattern, piece) -> float:
    """Width [m] of an unfolded panel minus twice its half piece's width across the grain."""
    grain = piece.grain[1] - piece.grain[0]
    across = np.array([grain[1], -grain[0]]) / np.linalg.norm(grain)
    half = float(np.ptp(piece.boundary @ across))
    full = float(np.ptp(np.concatenate([e.points for e in pattern.panel("front").edges])[:, 0]))
    return full - 2.0 * half


def test_tee_roles_seams_and_unfolding():
    """A Gerber tee (inches, halves on a fold, every size a block): front, back and a sleeve
    found by name, unfolded, turned upright, sewn at sides, shoulders, caps and underarms."""
    from tryon3d import garments

    path = DXF / "MEN CLASSIC TEE.DXF"
    pattern = garments.read_dxf_pattern(path)  # the file's sample size
    assert pattern.size == "50" and len(pattern.metadata["sizes"]) == 15
    assert [p.name for p in pattern.panels] == ["front", "back", "sleeve_l", "sleeve_r"]
    assert pattern.metadata["pieces"] == {
        "front": "REGULAR TEEFR",
        "back": "REGULAR TEEBK",
        "sleeve": "REGULAR TEESL1",
    }
    assert {"REGULAR TEECO", "REGULAR TEESFCO"} <= set(pattern.metadata["not_draped"])
    assert len(pattern.seams) == 10
    for seam in pattern.seams:
        la = pattern.panel(seam.panel_a).edge(seam.edge_a).length
        lb = pattern.panel(seam.panel_b).edge(seam.edge_b).length
        assert abs(la - lb) < 0.01, seam.label  # within 1 cm (knit: no cap ease)
    front = pattern.panel("front")
    # upright: the neck above the hem, the shoulder anchor between them
    assert front.edge("neck").points[:, 1].mean() > front.edge("hem").points[:, 1].mean() + 0.5
    # unfolded: twice the half piece's width, and symmetric about its centre line
    piece = next(
        p for p in read_dxf_file(path).pieces if p.name == "REGULAR TEEFR" and p.size == "50"
    )
    assert abs(_panel_half_width_check(pattern, piece)) < 1e-4
    assert front.edge("side_l").length == pytest.approx(front.edge("side_r").length, abs=1e-4)
    # the seams found by length and position carry the same notches at the same places (1 cm)
    checks = pattern.metadata["notches"]
    assert [
        checks[k]
        for k in (
            "front.side_l-back.side_l",
            "front.armhole_l-sleeve_l.cap_f",
            "back.armhole_l-sleeve_l.cap_b",
        )
    ] == ["agree"] * 3
    assert front.placement.part == "torso" and front.placement.side == "front"
    assert pattern.panel("back").placement.side == "back"


def test_notches_turn_the_sleeve_front_to_front():
    """A sleeve says which half is its back only by notches (one at the front armhole, two at
    the back): drawn the other way round in GMH1006F18, it is mirrored so the caps' notches
    meet the armholes'."""
    from tryon3d import garments

    checks = garments.read_dxf_pattern(DXF / "GMH1006F18_AAMA.DXF").metadata["notches"]
    assert checks["front.armhole_l-sleeve_l.cap_f"] == "agree"
    assert checks["front.side_l-back.side_l"] == checks["front.side_r-back.side_r"] == "agree"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("clo-box.dxf", r"not a garment: its one piece .* plain 300 x 200 cm rectangle"),
    ],
)
def test_what_cannot_be_placed_says_why_in_one_line(name, message):
    from tryon3d import garments

    with pytest.raises(ValueError, match=message) as info:
        garments.read_dxf_pattern(DXF / name)
    assert "\n" not in str(info.value)


def test_clo_halves_and_numbered_pieces_placed_by_shape():
    """CLO names pieces by number and exports left and right halves as two pieces: the halves
    (mirror images of each other) are joined on their straight centre edge, the bodice with the
    deeper neck is the front, the symmetric piece the sleeve; all ten seams agree in length."""
    from tryon3d import garments

    pattern = garments.read_dxf_pattern(DXF / "clo-pattern.dxf")
    assert pattern.size == "M" and pattern.metadata["pieces"] == {
        "front": "11",
        "back": "7",
        "sleeve": "36",
    }
    assert {pattern.metadata["roles"][n] for n in ("37", "38", "39")} == {
        "skip"
    }  # the mirror images
    assert len(pattern.seams) == 10
    front, back = pattern.panel("front"), pattern.panel("back")
    half = read_dxf_file(DXF / "clo-pattern.dxf").pieces[0]
    assert half.name == "11"
    width = np.ptp(np.concatenate([e.points for e in front.edges])[:, 0])
    assert width == pytest.approx(2 * np.ptp(half.boundary[:, 0]), abs=1e-4)
    depth = [np.ptp(p.edge("neck").points[:, 1]) for p in (front, back)]
    assert depth[0] > depth[1] + 0.03  # the front neck is the deeper one
    chest = garments.pattern_measurements(pattern)["chest"]
    assert 0.9 < chest < 1.15


def test_halves_cut_twice_are_joined_without_a_mirror_line(tmp_path):
    """A half front and back cut twice (Quantity: 2) but with no mirror line, as shirts'
    fronts are: joined at their straight centre edge into the same panels the fold gives."""
    import ezdxf

    from tryon3d import garments

    doc = ezdxf.readfile(DXF / "MEN CLASSIC TEE.DXF")
    for block in doc.blocks:
        if block.name.startswith(("REGULAR TEEFR_", "REGULAR TEEBK_")):
            for entity in list(block):
                if entity.dxf.layer == "6":
                    block.delete_entity(entity)
                elif entity.dxftype() == "TEXT" and entity.dxf.text.startswith("Quantity"):
                    entity.dxf.text = "Quantity: 2"
    doc.saveas(tmp_path / "halves.dxf")
    joined = garments.read_dxf_pattern(tmp_path / "halves.dxf", size="50")
    folded = garments.read_dxf_pattern(DXF / "MEN CLASSIC TEE.DXF", size="50")
    assert len(joined.seams) == 10 and any("halves joined" in n for n in joined.metadata["notes"])
    for name in ("front", "back"):
        assert joined.panel(name).area == pytest.approx(folded.panel(name).area, rel=1e-6)


def test_sidecar_overrides_roles_and_seams(tmp_path):
    from tryon3d import garments

    path = tmp_path / "tank.dxf"
    path.write_bytes((DXF / "WM LOOSE SHAPE TANK.DXF").read_bytes())
    inferred = garments.read_dxf_pattern(path, size="30")
    assert inferred.metadata["pieces"] == {
        "front": "RELAXED TANK FR V2",
        "back": "RELAXED TANK BK V2",
    }
    sidecar = path.with_name("tank.dxf.tryon3d.json")
    sidecar.write_text(
        json.dumps(
            {
                "pieces": {"RELAXED TANK FR V2": "back", "RELAXED TANK BK V2": "front"},
                "seams": [["front", 1, "back", "side_l"], ["front", "side_r", "back", 1]],
            }
        )
    )
    swapped = garments.read_dxf_pattern(path, size="30")
    assert swapped.metadata["pieces"] == {
        "front": "RELAXED TANK BK V2",
        "back": "RELAXED TANK FR V2",
    }
    assert [s.label for s in swapped.seams] == [
        "front.side_l-back.side_l",
        "front.side_r-back.side_r",
    ]
    sidecar.write_text(json.dumps({"pieces": {"RELAXED TANK FR V2": "collar"}}))
    with pytest.raises(ValueError, match="roles must be one of"):
        garments.read_dxf_pattern(path, size="30")
    sidecar.write_text(json.dumps({"seams": [["front", 99, "back", "side_l"]]}))
    with pytest.raises(ValueError, match="panel 'front' has no edge 99"):
        garments.read_dxf_pattern(path, size="30")


def test_pattern_measurements_from_the_pattern():
    """The families' chest/waist/hem girths come back from the pattern alone; a graded Gerber
    tee grows with its sizes (its chest 2 x (front + back) half widths at the chest line)."""
    from tryon3d import garments

    for size in ("XS", "XXL"):
        pattern = garments.draft("tshirt", size)
        got = garments.pattern_measurements(pattern)
        for level, key in (("chest", "chest"), ("waist", "waist"), ("hips", "hem")):
            assert got[key] == pytest.approx(pattern.girths_m[level][0], abs=0.005), (size, level)
    chests = [
        garments.pattern_measurements(
            garments.read_dxf_pattern(DXF / "MEN CLASSIC TEE.DXF", size=s)
        )
        for s in ("42", "50", "62")
    ]
    assert chests[0]["chest"] < chests[1]["chest"] < chests[2]["chest"]
    assert 0.95 < chests[1]["chest"] < 1.15 and 0.65 < chests[1]["length"] < 0.85
    with pytest.raises(TypeError, match="expects a Pattern"):
        garments.pattern_measurements("tshirt")


def test_family_through_a_cad_reading_round_trip(tmp_path):
    """Our tshirt written as DXF without our annotations (as another CAD system would see it):
    roles, seams and placement inferred again; every read point within 0.1 mm of the original
    outline, seams identical."""
    from tryon3d import garments

    originals = {s: garments.draft("tshirt", s) for s in ("S", "XL")}
    text = garments.pattern_to_dxf(list(originals.values()))
    path = tmp_path / "tee.dxf"
    path.write_text(re.sub(r"Annotation: [^\n]*", "NOTE", text))
    for size, original in originals.items():
        read = garments.read_dxf_pattern(path, size=size)
        assert sorted(s.label for s in read.seams) == sorted(s.label for s in original.seams)
        for panel in read.panels:
            source = original.panel(panel.name)
            dense = np.concatenate([garments.panel_outline(source, 512)])
            ours = np.concatenate([e.points for e in panel.edges])
            shift = dense.min(axis=0) - ours.min(axis=0)  # pieces are re-origined at their corner
            a, b = dense, np.roll(dense, -1, axis=0)
            p = (ours + shift)[:, None]
            t = np.clip(
                ((p - a) * (b - a)).sum(-1) / np.maximum(((b - a) ** 2).sum(-1), 1e-30), 0, 1
            )
            gap = np.linalg.norm(p - (a + t[..., None] * (b - a)), axis=-1).min(axis=1).max()
            assert gap < 1e-4, (size, panel.name, gap)


def test_skirt_through_a_cad_reading(tmp_path):
    """A skirt's front is told from a bodice's by its top (one waist line, no neck): sides sewn,
    hung from the waist; its waist and hips come back from the pattern within 2.5 cm."""
    from tryon3d import garments

    original = garments.draft("skirt", "M")
    path = tmp_path / "skirt.dxf"
    path.write_text(re.sub(r"Annotation: [^\n]*", "NOTE", garments.pattern_to_dxf(original)))
    read = garments.read_dxf_pattern(path)
    assert [p.placement.part for p in read.panels] == ["skirt", "skirt"]
    assert [p.placement.anchor for p in read.panels] == ["waist", "waist"]
    assert sorted(s.label for s in read.seams) == sorted(s.label for s in original.seams)
    got = garments.pattern_measurements(read)
    assert got["waist"] == pytest.approx(original.girths_m["waist"][0], abs=0.005)
    assert got["hips"] == pytest.approx(original.girths_m["hips"][0], abs=0.025)


def test_inspect_cli_writes_svg_and_sidecar(tmp_path):
    from tryon3d.cli import main

    out = tmp_path / "out"
    assert (
        main(
            [
                "garments",
                "inspect",
                str(DXF / "WM LOOSE SHAPE TANK.DXF"),
                "--size",
                "30",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    svg = (out / "pieces.svg").read_text()
    assert svg.startswith("<svg") and "seam 4" in svg and "0:hem" in svg
    template = json.loads((out / "sidecar.template.json").read_text())
    assert template["pieces"] == {"RELAXED TANK FR V2": "front", "RELAXED TANK BK V2": "back"}
    assert len(template["seams"]) == 4
    # a file that cannot be placed still gets its pieces drawn and a template to fill
    assert main(["garments", "inspect", str(DXF / "clo-box.dxf"), "-o", str(tmp_path / "clo")]) == 0
    template = json.loads((tmp_path / "clo" / "sidecar.template.json").read_text())
    assert list(template["pieces"]) == ["Pattern2D_4937"] and template["seams"] == []
    assert (
        main(
            [
                "garments",
                "inspect",
                str(DXF / "clo-pattern.dxf"),
                "--size",
                "XL",
                "-o",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )


def test_gerber_tee_drapes_with_gates_passed():
    """The whole way: a real Gerber DXF, size 50, placed, sewn and draped on a default man."""
    from tryon3d import bodyfit, garments, sim

    body = bodyfit.body_from_measurements(height_m=1.75, weight_kg=75, sex="male")
    garment = garments.load_garment(
        DXF / "MEN CLASSIC TEE.DXF", size="50", body=body, edge_length_m=0.03
    )
    drape = sim.drape(body, garment)
    assert drape.gates.passed, drape.gates
    assert 0.0 < drape.ease_m["chest"] < 0.2  # worn round the chest with some ease
