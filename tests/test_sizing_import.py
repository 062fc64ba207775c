"""Fit reports of imported garments: a graded Gerber DXF across its own sizes, a one-size
GarmentCode shirt, and bad garment files refused in one line."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from tests.conftest import SHARED_DIR, cached_body
from tryon3d import garments
from tryon3d.cli import main

DXF = SHARED_DIR / "garments" / "dxf"
TEE = DXF / "MEN CLASSIC TEE.DXF"
GARMENTCODE_DIR = SHARED_DIR / "garments" / "garmentcode"
SHIRT = GARMENTCODE_DIR / "shirt_mean_specification.json"
needs_shared = pytest.mark.skipif(not TEE.is_file(), reason="../shared/garments is absent")
#: Coarse and short: a size drapes in a few seconds on a CPU.
FAST = {"edge_length_m": 0.04, "max_seconds_simulated": 1.5}


@pytest.fixture(scope="module")
def man():
    return cached_body(1.75, 75.0, "male")


@pytest.fixture(scope="module")
def tee_report(man):
    from tryon3d import fit_report

    return fit_report(man, TEE, sizes="46,50,54", **FAST)


@needs_shared
def test_graded_dxf_sizes_are_judged_by_their_own_pattern(tee_report, man):
    report = tee_report
    assert list(report.sizes) == ["46", "50", "54"] and not report.failed_sizes
    assert report.recommended_size in report.sizes
    assert report.garment_source.endswith("MEN CLASSIC TEE.DXF") and report.chart == ""
    chest = [report.sizes[s].ease_cm["chest"] for s in ("46", "50", "54")]
    pattern = [report.sizes[s].pattern_ease_cm["chest"] for s in ("46", "50", "54")]
    # the Gerber tee grades 3-4 cm of chest round per size step: 2 steps apart, 6-10 cm more ease
    assert all(6.0 < b - a < 10.0 for a, b in itertools.pairwise(chest)), chest
    assert np.allclose(chest, pattern, atol=2.0)  # the drape wears the pattern's round
    assert report.sizes["46"].verdict == "too tight"  # 94 cm round on a 100 cm chest
    assert report.sizes[report.recommended_size].governing_region == "chest"
    text = " ".join(report.reasons)
    assert "pattern's own chest round" in text and "no size chart" in text
    assert report.chart_size == "50"  # 5 cm ease is nearest the knit tee's 8 cm design ease
    assert all(report.sizes[s].gates["passed"] for s in report.sizes)


@needs_shared
def test_graded_dxf_report_json_and_html_name_the_source_file(tee_report):
    from tryon3d._pipeline import report_html
    from tryon3d.sizing import report_json

    content = json.loads(json.dumps(report_json(tee_report)))
    assert content["garment_source"].endswith("MEN CLASSIC TEE.DXF")
    assert content["sizes"]["50"]["ease_cm"]["chest"]["source"] == "drape"
    page = report_html(tee_report, [])
    assert "MEN CLASSIC TEE.DXF" in page and "own pattern measurements" in page
    assert "size chart alone" not in page


@needs_shared
def test_pattern_suggests_the_size_that_gives_the_design_ease(man):
    from tryon3d.sizing import pattern_size_for, size_jobs

    path = TEE.resolve()
    best, eases = pattern_size_for(man, path, ["42", "50", "62"])
    assert best == "50" and eases["42"] < eases["50"] < eases["62"]
    assert math.isclose(eases["50"], 1.0497 - man.measurements_m["chest"], abs_tol=1e-3)
    jobs = size_jobs(man, TEE, sizes=["54", "46"])
    assert [j.size for j in jobs] == ["46", "54"] and jobs[0].chart == ""  # the file's own order
    assert garments.garment_kind(garments.read_dxf_pattern(TEE, size="50")) == "top"


@needs_shared
def test_garmentcode_shirt_is_graded_into_sizes_each_judged_by_its_own_ease(man):
    """One GarmentCode design (drafted on its mean body, a women's L) graded by the chart's
    chest steps (S 86, M 92, L 98 cm): each size's draped chest ease grows by about that step."""
    from tryon3d import fit_report
    from tryon3d.sizing import size_jobs

    assert [j.size for j in size_jobs(man, SHIRT)] == ["L"]  # no sizes: the design as drafted
    report = fit_report(man, SHIRT, sizes="S,M,L", **FAST)
    assert list(report.sizes) == ["S", "M", "L"]
    ease = [report.sizes[s].ease_cm["chest"] for s in ("S", "M", "L")]
    assert all(report.sizes[s].ease_source["chest"] == "drape" for s in ("S", "M", "L"))
    assert ease[0] < ease[1] < ease[2], ease
    assert 3.0 < ease[1] - ease[0] < 9.0 and 3.0 < ease[2] - ease[1] < 9.0, ease
    fit = report.sizes["M"]
    assert "sleeve_end_above_elbow_cm" in fit.lengths and fit.stretch["p50"] > 90.0
    assert "holds one size" not in " ".join(report.reasons)


def test_a_garmentcode_pattern_grades_by_the_charts_steps():
    from tryon3d import garments

    spec = GARMENTCODE_DIR / "shirt_mean_specification.json"
    if not spec.is_file():
        pytest.skip("../shared/garments is absent")
    drafted = garments.read_garmentcode(spec)
    sizes, base = garments.graded_sizes(drafted)
    assert sizes == ["XS", "S", "M", "L", "XL", "XXL", "3XL", "4XL", "5XL"] and base == "L"
    chart = garments.size_chart("women")
    hem = {
        s: garments.pattern_measurements(garments.grade_pattern(drafted, s))["hem"] for s in sizes
    }
    for size in sizes:  # the hem round moves by the chart's chest step, lengths by its stature
        step = chart[size]["chest"] - chart[base]["chest"]
        assert hem[size] - hem[base] == pytest.approx(step, abs=0.005)
        graded = garments.grade_pattern(drafted, size)
        garments.validate_pattern(graded)  # seams still sew (sleeve caps eased where needed)
        ratio = graded.metadata["graded"]["length_scale"]
        assert ratio == pytest.approx(chart[size]["stature"] / chart[base]["stature"])
    assert garments.grade_pattern(drafted, base).panels[0].edges[0].points.tolist() == (
        drafted.panels[0].edges[0].points.tolist()
    )
    with pytest.raises(ValueError, match="unknown size"):
        garments.grade_pattern(drafted, "42")


def test_bad_garment_files_are_refused_before_any_drape(man, tmp_path):
    from tryon3d.sizing import size_jobs

    broken = tmp_path / "broken.dxf"
    broken.write_text("0\nSECTION\n2\nENTITIES\n0\nLINE\n", encoding="utf-8")
    with pytest.raises(ValueError) as info:
        size_jobs(man, broken)
    assert len(str(info.value).splitlines()) == 1
    with pytest.raises(ValueError, match="not found"):
        size_jobs(man, tmp_path / "missing.dxf")
    with pytest.raises(ValueError, match="unsupported garment file"):
        size_jobs(man, tmp_path / "notes.txt")
    if TEE.is_file():
        with pytest.raises(ValueError, match="unknown size"):
            size_jobs(man, TEE, sizes="M")
        with pytest.raises(ValueError, match="families only"):
            size_jobs(man, TEE, chart="men")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fit-report", "--body", "missing.json", "--garment", "missing.dxf"], "not found"),
        (
            ["fit-report", "--body", "missing.json", "--garment", "tee.step"],
            "unsupported garment file",
        ),
        (
            [
                "tryon",
                "--height",
                "175",
                "--weight",
                "75",
                "--sex",
                "male",
                "--garment",
                "missing.dxf",
                "--size",
                "50",
            ],
            "not found",
        ),
    ],
)
def test_cli_refuses_a_bad_garment_file_in_one_line(argv, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main([*argv, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not [p for p in out.rglob("*") if p.is_file()]


@needs_shared
def test_tryon_checks_a_graded_file_size_before_any_work(tmp_path, capsys):
    argv = [
        "tryon",
        "--height",
        "175",
        "--weight",
        "75",
        "--sex",
        "male",
        "--garment",
        str(TEE),
        "--size",
        "M",
        "-o",
        str(tmp_path / "out"),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown size 'M'" in err and "'50'" in err and len(err.splitlines()) == 1


@needs_shared
def test_a_saved_graded_file_report_reloads_from_its_file(tee_report, man, tmp_path):
    from tryon3d._bodies import body_json
    from tryon3d.sizing import drape_files, load_report

    for name, content in drape_files(tee_report).items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    (tmp_path / "body.json").write_text(json.dumps(body_json(man)), encoding="utf-8")
    again = load_report(tmp_path)
    assert again.garment_source == tee_report.garment_source
    assert again.recommended_size == tee_report.recommended_size
    for size, fit in tee_report.sizes.items():
        assert again.sizes[size].ease_cm["chest"] == pytest.approx(fit.ease_cm["chest"], abs=1e-6)


@needs_shared
def test_a_sleeveless_tops_chest_is_taped_below_its_armholes():
    """Known limit fixed: without sleeves the chest line ran through the deep armholes (-75 cm
    ease); now it is taped 2.5 cm under the lowest armhole point, as for sleeved garments."""
    from tryon3d import sim

    body = cached_body(1.70, 65.0, "female")
    tank = garments.load_garment(
        DXF / "WM LOOSE SHAPE TANK.DXF", size="36", body=body, edge_length_m=0.04
    )
    drape = sim.drape(body, tank, max_seconds_simulated=1.5)
    pattern = (
        garments.pattern_measurements(tank.metadata["pattern"])["chest"]
        - body.measurements_m["chest"]
    )
    assert abs(drape.ease_m["chest"] - pattern) < 0.02, (drape.ease_m["chest"], pattern)
    assert -0.15 < drape.ease_m["chest"] < 0.15


def test_a_skirt_mesh_is_a_one_size_report_sized_at_the_hips(tmp_path):
    """A mesh holds one size and no flat pattern: judged as a bottom at the hips, its ease from
    the tape round the draped cloth; the hem length is judged at the knee."""
    from tests._garment_files import cone_skirt, write_obj, z_up_m_to_y_up
    from tryon3d import fit_report

    body = cached_body(1.70, 65.0, "female")
    vertices, faces, uv = cone_skirt(waist_m=0.9, hem_m=1.3, length_m=0.5)
    path = write_obj(tmp_path / "skirt.obj", z_up_m_to_y_up(vertices, 100.0), faces, uv)
    report = fit_report(body, path, **FAST)
    fit = report.sizes["one size"]
    assert fit.governing_region == "hips" and fit.ease_source["hips"] in ("tape", "drape")
    hips_round = 0.9 + 0.4 * 0.2 / 0.5  # the cone's round 20 cm under its waist [m]
    assert -5.0 < fit.ease_cm["hips"] < 100 * (hips_round - body.measurements_m["hips"]) + 10.0
    assert "hem_above_knee_cm" in fit.lengths
    assert not any(r.startswith("Even the") for r in report.reasons)
