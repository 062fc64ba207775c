"""AAMA grade rules (``garments._grading``): a base-size DXF and the ``.rul`` table beside it
give every size's outline; checked on a hand-made file whose graded corners are known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

RUL = """version ANSI/AAMA-292-B
AUTHOR: tryon3d test
UNITS: METRIC
GRADE RULE TABLE: BOX
SAMPLE SIZE: M
NUMBER OF SIZES: 3
SIZE LIST: S M L
RULE: DELTA 1  0.00, 0.00  0.00, 0.00  0.00, 0.00
RULE: DELTA 2  -10.00, -20.00  0.00, 0.00
  12.50, 25.00
END
"""


def _write_base(tmp_path: Path, *, rul: str | None = RUL, rule_at_c: str = "# 2") -> Path:
    """A 400 x 600 mm piece drafted in size M: corners A (0, 0) and D (0, 600) on rule 1,
    B (400, 0) and C (400, 600) on rule 2; E (200, 600), halfway along the top, has no rule;
    a notch at (400, 300) on the right side."""
    import ezdxf

    doc = ezdxf.new("R12")
    block = doc.blocks.new("FRONT_M")
    ring = [(0, 0), (400, 0), (400, 600), (200, 600), (0, 600)]
    block.add_polyline2d(ring, close=True, dxfattribs={"layer": "1"})
    for x, y in ring:
        if (x, y) != (200, 600):
            block.add_point((x, y), dxfattribs={"layer": "2"})
    for (x, y), rule in zip(
        [(0, 0), (400, 0), (400, 600), (0, 600)], ["# 1", "# 2", rule_at_c, "# 1"], strict=True
    ):
        block.add_text(rule, dxfattribs={"layer": "1", "insert": (x, y)})
    block.add_point((400, 300), dxfattribs={"layer": "4"})
    block.add_line((200, 100), (200, 500), dxfattribs={"layer": "7"})
    for k, text in enumerate(["Piece Name: FRONT", "Size: M", "Quantity: 1"]):
        block.add_text(text, dxfattribs={"layer": "1", "insert": (100, 200 + 20 * k)})
    msp = doc.modelspace()
    msp.add_blockref("FRONT_M", (0, 0))
    for text in ("Style Name: BOX", "Units: METRIC", "Sample Size: M"):
        msp.add_text(text)
    path = tmp_path / "BOX_AAMA.DXF"
    doc.saveas(path)
    if rul is not None:
        (tmp_path / "BOX_AAMA.RUL").write_text(rul)
    return path


def test_rule_table_grades_every_size(tmp_path):
    """Rule 1 holds A and D still; rule 2 moves B and C by (-10, -20) mm in S and (12.5, 25) mm
    in L; E, without a rule, moves half as far as C (halfway between C and D along the
    outline), the notch on the side B-C and the grain line's ends as far as their nearest
    outline points."""
    from tryon3d.garments._dxf import read_dxf_file

    read = read_dxf_file(_write_base(tmp_path))
    assert read.sizes == ("S", "M", "L") and read.sample_size == "M"
    assert "graded by BOX_AAMA.RUL" in read.units_note
    outline = {p.size: p.boundary * 1000.0 for p in read.pieces}  # mm
    expected = {
        "S": [(0, 0), (390, -20), (390, 580), (195, 590), (0, 600)],
        "M": [(0, 0), (400, 0), (400, 600), (200, 600), (0, 600)],
        "L": [(0, 0), (412.5, 25), (412.5, 625), (206.25, 612.5), (0, 600)],
    }
    for size, corners in expected.items():
        got = outline[size]
        for point in corners:  # the file's vertex order is the reader's
            assert np.linalg.norm(got - point, axis=1).min() < 1e-6, (size, point)
        assert len(got) == 5
    large = next(p for p in read.pieces if p.size == "L")
    assert np.allclose(large.notches * 1000.0, [(412.5, 325)])
    # the grain line's ends move with their nearest outline points: A (still) and E
    assert np.allclose(large.grain * 1000.0, [(200, 100), (206.25, 512.5)])


def test_without_a_rule_table_the_file_keeps_its_one_size(tmp_path):
    from tryon3d.garments._dxf import read_dxf_file

    read = read_dxf_file(_write_base(tmp_path, rul=None))
    assert read.sizes == ("M",) and len(read.pieces) == 1
    assert sorted(read.pieces[0].grade_rules.tolist()) == [-1, 1, 1, 2, 2]


@pytest.mark.parametrize(
    ("rul", "rule_at_c", "message"),
    [
        (RUL.replace("  12.50, 25.00\n", ""), "# 2", "rule 2 has 2 dx, dy pairs for 3 sizes"),
        (RUL, "# 7", r"uses grade rules \[7\]"),
        (RUL.replace("SIZE LIST: S M L", "SIZES: S M L"), "# 2", "has no SIZE LIST"),
    ],
)
def test_bad_rule_tables_are_refused_in_one_line(tmp_path, rul, rule_at_c, message):
    from tryon3d.garments._dxf import read_dxf_file

    with pytest.raises(ValueError, match=message) as info:
        read_dxf_file(_write_base(tmp_path, rul=rul, rule_at_c=rule_at_c))
    assert "\n" not in str(info.value)
