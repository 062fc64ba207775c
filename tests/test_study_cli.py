"""``tryon3d study`` inputs: the customers CSV, one-line errors, and the message without Ray.

None of these start Ray or build a body.
"""

from __future__ import annotations

import sys

import pytest

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
