"""``tryon3d study`` inputs: the customers CSV, garment files, one-line errors, and the message
without Ray.

None of these start Ray or build a body.
"""

from __future__ import annotations

import json
import sys

import pytest

from tests.conftest import SHARED_DIR
from tryon3d import cli
from tryon3d._study import read_customers


def _write(tmp_path, text):
    path = tmp_path / "customers.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_customers_csv_becomes_si_study_bodies(tmp_path):
    path = _write(
        tmp_path,
        "id,height_cm,weight_kg,sex,age,chest_cm,waist_cm,hips_cm\n"
        "c1,168,62,female,31,90,74,\n"
        "c2,181.5,84,Male,,,,\n",
    )
    bodies = read_customers(path)
    assert [b.body_id for b in bodies] == ["c1", "c2"]
    assert bodies[0].measurements == pytest.approx(
        {"height_m": 1.68, "weight_kg": 62.0, "age_years": 31.0, "chest_m": 0.90, "waist_m": 0.74}
    )
    assert bodies[1].sex == "male" and set(bodies[1].measurements) == {"height_m", "weight_kg"}
    # the job key is the body's content: same numbers, same key spec; another height, another
    assert bodies[0].key_spec() == read_customers(path)[0].key_spec() != bodies[1].key_spec()


@pytest.mark.parametrize(
    "text, message",
    [
        ("height_cm,sex\n170,female\n", "missing column(s) ['weight_kg']"),
        ("height_cm,weight_kg,sex\n170,abc,female\n", "line 2: weight_kg must be a number"),
        (
            "height_cm,weight_kg,sex\n170,60,female\n400,60,male\n",
            "line 3: height_cm must be within",
        ),
        ("height_cm,weight_kg,sex\n170,60,robot\n", "sex must be female or male"),
        ("height_cm,weight_kg,sex\n150,210,female\n", "BMI 93.3"),
        ("id,height_cm,weight_kg,sex\na,170,60,female\na,171,61,female\n", "id 'a' given twice"),
    ],
)
def test_bad_customers_csv_is_one_line_exit_2(tmp_path, capsys, text, message):
    path = _write(tmp_path, text)
    code = cli.main(
        ["study", "--garment", "tshirt", "--customers", str(path), "-o", str(tmp_path / "out")]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / "out" / "results").exists()  # nothing started


def test_study_without_ray_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    path = _write(tmp_path, "height_cm,weight_kg,sex\n170,60,female\n")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as if not installed
    code = cli.main(
        ["study", "--garment", "skirt", "--customers", str(path), "-o", str(tmp_path / "out")]
    )
    err = capsys.readouterr().err.strip()
    assert (
        code == 2
        and err == "tryon3d: error: fit studies need Ray and pyarrow: pip install 'tryon3d[study]'"
    )


def test_population_needs_count(tmp_path, capsys):
    code = cli.main(["study", "--garment", "skirt", "--population", "ansur", "-o", str(tmp_path)])
    assert code == 2 and "--population needs --count" in capsys.readouterr().err


DXF = SHARED_DIR / "garments" / "dxf"
SHIRT = SHARED_DIR / "garments" / "garmentcode" / "shirt_mean_specification.json"


def _bad_garment(tmp_path, kind):
    """(the --garment argument, what the one-line error says) for each kind of bad file."""
    if kind == "missing":
        return str(tmp_path / "missing.dxf"), "not found"
    if kind == "unsupported":
        (tmp_path / "notes.txt").write_text("a tee", encoding="utf-8")
        return str(tmp_path / "notes.txt"), "unsupported garment file"
    if kind == "unreadable":
        broken = tmp_path / "broken.dxf"
        broken.write_text("0\nSECTION\n2\nENTITIES\n0\nLINE\n", encoding="utf-8")
        return str(broken), "broken.dxf"
    if kind == "cannot be worn":  # loads, but its one piece is a plain rectangle
        box = tmp_path / "box.dxf"
        box.write_bytes((DXF / "clo-box.dxf").read_bytes())
        return str(box), "not a garment"
    return str(DXF / "MEN CLASSIC TEE.DXF"), "holds none of the sizes ['M']; its sizes are ['42'"


@pytest.mark.parametrize(
    "kind", ["missing", "unsupported", "unreadable", "cannot be worn", "size not in the file"]
)
def test_a_bad_garment_file_is_one_line_exit_2_before_any_work(tmp_path, capsys, kind):
    if kind in ("cannot be worn", "size not in the file") and not DXF.is_dir():
        pytest.skip("../shared/garments is absent")
    garment, message = _bad_garment(tmp_path, kind)
    path = _write(tmp_path, "height_cm,weight_kg,sex\n170,60,female\n")
    out = tmp_path / "out"
    argv = ["study", "--garment", "tshirt", "--garment", garment, "--sizes", "M"]
    code = cli.main([*argv, "--customers", str(path), "-o", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err
    assert not [p for p in out.rglob("*") if p.is_file()]  # nothing written


@pytest.mark.skipif(not SHIRT.is_file(), reason="../shared/garments is absent")
def test_a_garment_files_key_is_its_content_not_its_name(tmp_path):
    from tryon3d.sizing import ONE_SIZE, study_garments

    spec = json.loads(SHIRT.read_text(encoding="utf-8"))
    first = tmp_path / "shirt.json"
    first.write_text(json.dumps(spec), encoding="utf-8")
    renamed = tmp_path / "elsewhere" / "other name.json"
    renamed.parent.mkdir()
    renamed.write_bytes(first.read_bytes())
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(spec, indent=1), encoding="utf-8")  # same shirt, other bytes
    a = study_garments([first, "tshirt"], sizes=["S"])
    b = study_garments([renamed], edge_length_m=0.05)
    c = study_garments([edited], edge_length_m=0.05)
    # a GarmentCode design is graded into the chart's sizes; --sizes picks among them
    assert "S" in a[0].sizes and ONE_SIZE not in a[0].sizes and a[1].family == "tshirt"
    assert a[0].key_spec() == b[0].key_spec() != c[0].key_spec()
    assert b[0].label == "other name.json" and b[0].content == first.read_bytes()
    with pytest.raises(ValueError, match="hold the same content"):
        study_garments([first, renamed])
