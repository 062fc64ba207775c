"""Size judgement and recommendation on synthetic drapes (no simulation): fast and exact."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from tryon3d import garments
from tryon3d.cli import main
from tryon3d.sizing import (
    COMFORT_MIN_EASE_M,
    FitReport,
    evaluate_size,
    fabric_class,
    recommend,
    report_json,
)

CHART = garments.size_chart("women")
SIZES = list(CHART)


def _body(chest=0.92, waist=0.75, hips=1.00, upper_arm=0.29):
    """A stand-in Body: tape measurements, a few landmarks and anny-named joints (rest pose)."""
    names = (
        "upperarm01.L",
        "lowerarm01.L",
        "wrist.L",
        "upperarm01.R",
        "lowerarm01.R",
        "wrist.R",
        "lowerleg01.L",
        "foot.L",
    )
    joints = np.array(
        [
            [0.18, 0, 1.40],
            [0.35, 0, 1.15],
            [0.50, 0, 0.92],
            [-0.18, 0, 1.40],
            [-0.35, 0, 1.15],
            [-0.50, 0, 0.92],
            [0.1, 0, 0.48],
            [0.1, 0, 0.08],
        ]
    )
    return SimpleNamespace(
        measurements_m={
            "chest": chest,
            "waist": waist,
            "hips": hips,
            "upper_arm": upper_arm,
            "stature": 1.66,
        },
        landmarks_m={
            "chest": np.array([0, 0, 1.25]),
            "waist": np.array([0, 0, 1.05]),
            "hips": np.array([0, 0, 0.88]),
            "crotch": np.array([0, 0, 0.78]),
        },
        joint_names=names,
        rest_joints=joints,
        inputs={"sex": "female"},
        skeleton_m=dict(
            zip(
                (
                    "shoulder_left",
                    "elbow_left",
                    "wrist_left",
                    "shoulder_right",
                    "elbow_right",
                    "wrist_right",
                    "knee_left",
                    "ankle_left",
                ),
                joints,
                strict=True,
            )
        ),
    )


def _drape(
    garment, *, ease_m=None, tape_ease_m=None, stretch=101.0, peak=None, penetrating=0, crossing=0
):
    """A stand-in Drape: positions from a hem height and a sleeve end, stretch per face."""
    panels = np.asarray(garment.vertex_panels)
    positions = np.zeros((len(panels), 3))
    sleeves = [i for i, n in enumerate(garment.panel_names) if "sleeve" in n]
    for i, name in enumerate(garment.panel_names):
        sel = panels == i
        if i in sleeves:  # a sleeve from the shoulder 45 % of the way to the elbow
            side = 1.0 if name.endswith("_l") else -1.0
            t = np.linspace(0.0, 0.45, sel.sum())
            positions[sel] = np.array([0.18 * side, 0, 1.40]) + t[:, None] * np.array(
                [0.17 * side, 0, -0.25]
            )
        else:  # torso panels from the neck down to 5 cm below the hips
            positions[sel, 2] = np.clip(np.linspace(1.50, 0.70, sel.sum()), 0.83, None)
    values = np.full(len(garment.faces), float(stretch))
    if peak is not None:
        values[: max(1, int(peak[1] * len(values)))] = peak[0]
    return SimpleNamespace(
        ease_m=ease_m or {},
        tape_ease_m=tape_ease_m or {},
        stretch_pct=values,
        rest_pose_positions=positions,
        timings_s={"total": 1.0},
        gates=SimpleNamespace(
            penetrating_vertices=penetrating,
            self_intersecting_pairs=crossing,
            max_seam_gap_mm=0.0,
            max_stretch_pct=float(values.max()),
            converged=True,
            passed=penetrating == 0 and crossing == 0,
        ),
    )


@pytest.fixture(scope="module")
def tshirts():
    return {s: garments.load_garment("tshirt", size=s, edge_length_m=0.08) for s in SIZES}


def test_fabric_classes():
    assert fabric_class(garments.fabric_preset("denim")) == "woven"
    assert fabric_class(garments.fabric_preset("cotton_jersey")) == "knit"
    assert fabric_class(garments.fabric_preset("spandex_blend")) == "stretch"
    # a woven needs more ease than a knit, a stretch knit least
    for region in ("chest", "hips"):
        assert COMFORT_MIN_EASE_M["woven"][region] > COMFORT_MIN_EASE_M["knit"][region]
        assert COMFORT_MIN_EASE_M["knit"][region] > COMFORT_MIN_EASE_M["stretch"][region]


def test_chart_body_in_its_own_size_is_good(tshirts):
    row = CHART["M"]
    body = _body(row["chest"], row["waist"], row["hips"], row["upper_arm"])
    fit = evaluate_size(body, tshirts["M"], _drape(tshirts["M"]), family="tshirt")
    # a body with the chart's M measurements gets exactly the design ease in M
    assert fit.ease_cm["chest"] == pytest.approx(10.0, abs=1e-6)
    assert fit.ease_cm["hips"] == pytest.approx(6.0, abs=1e-6)
    assert fit.score == pytest.approx(0.0, abs=1e-9)
    assert fit.verdict == "good" and set(fit.region_verdicts.values()) == {"good"}
    assert fit.lengths["hem_below_hips_cm"]["value_cm"] == pytest.approx(5.0, abs=0.1)
    assert fit.lengths["sleeve_end_above_elbow_cm"]["ok"]
    assert fit.lengths["sleeve_end_above_elbow_cm"]["value_cm"] == pytest.approx(
        0.55 * 30.23, abs=0.3
    )


def test_recommendation_follows_the_chest_and_neighbours_are_worse(tshirts):
    row = CHART["L"]
    body = _body(row["chest"], row["waist"], row["hips"], row["upper_arm"])
    fits = {s: evaluate_size(body, tshirts[s], _drape(tshirts[s]), family="tshirt") for s in SIZES}
    best, confidence, reasons = recommend(fits, SIZES)
    assert best == "L"
    scores = [fits[s].score for s in SIZES]
    assert all(scores[i] > scores[i + 1] for i in range(3))  # falls down to L ...
    assert all(scores[i] < scores[i + 1] for i in range(3, 5))  # ... and rises after
    assert fits["XS"].verdict == "too tight" and fits["XXL"].verdict in ("loose", "too loose")
    assert 0.3 < confidence < 0.99
    assert reasons[0].startswith("L fits best") and any(
        r.startswith("XS would be too tight") for r in reasons
    )


def test_a_knit_hem_clings_to_wide_hips_a_woven_one_is_too_tight(tshirts):
    """Hips 10 cm wider than the chart's M: the jersey T-shirt's hem sits 4 cm under them and
    stretches (the stretch check judges that), so the chest still decides; the same garment in a
    woven cannot stretch and is too tight."""
    row = CHART["M"]
    body = _body(row["chest"], row["waist"], row["hips"] + 0.10, row["upper_arm"])
    knit = evaluate_size(body, tshirts["M"], _drape(tshirts["M"]), family="tshirt")
    assert knit.ease_cm["hips"] == pytest.approx(-4.0, abs=1e-6)
    assert knit.region_verdicts["hips"] == "snug" and knit.score == pytest.approx(0.0, abs=1e-9)
    assert any(r.startswith("clings at the hips") for r in knit.reasons)
    woven = garments.load_garment("tshirt", size="M", fabric="denim", edge_length_m=0.08)
    stiff = evaluate_size(body, woven, _drape(woven), family="tshirt")
    assert stiff.region_verdicts["hips"] == "too tight" and stiff.score >= 3.0


def test_overstretch_makes_a_size_too_tight(tshirts):
    row = CHART["M"]
    body = _body(row["chest"], row["waist"], row["hips"], row["upper_arm"])
    ok = evaluate_size(body, tshirts["M"], _drape(tshirts["M"]), family="tshirt")
    tight = evaluate_size(
        body, tshirts["M"], _drape(tshirts["M"], peak=(140.0, 0.20)), family="tshirt"
    )
    local = evaluate_size(
        body, tshirts["M"], _drape(tshirts["M"], peak=(140.0, 0.05)), family="tshirt"
    )
    peak_only = evaluate_size(
        body, tshirts["M"], _drape(tshirts["M"], peak=(140.0, 0.001)), family="tshirt"
    )
    # a fifth of the garment past cotton jersey's 130 %: not wearable, whatever the ease says
    assert tight.verdict == "too tight" and tight.score >= ok.score + 3.0
    assert tight.stretch["over_limit_fraction"] == pytest.approx(0.20, abs=0.01)
    assert any("stretched past" in r for r in tight.reasons)
    # a pull at a seam or an armhole is worth a warning, not a verdict
    assert local.verdict == "good" and local.score == pytest.approx(ok.score)
    assert any(r.startswith("pulls locally") for r in local.reasons)
    assert peak_only.verdict == "good" and peak_only.score == pytest.approx(ok.score)


def test_draped_ease_is_used_when_plausible_and_pattern_ease_otherwise(tshirts):
    row = CHART["M"]
    body = _body(row["chest"], row["waist"], row["hips"], row["upper_arm"])
    drape = _drape(
        tshirts["M"],
        ease_m={"chest": 0.085, "waist": -0.30, "hips": math.nan},
        tape_ease_m={"chest": 0.071},
    )
    fit = evaluate_size(body, tshirts["M"], drape, family="tshirt")
    assert fit.ease_source["chest"] == "drape" and fit.ease_cm["chest"] == pytest.approx(8.5)
    assert fit.tape_ease_cm["chest"] == pytest.approx(7.1)  # shown, not judged
    assert fit.ease_source["waist"] == "pattern" and fit.ease_cm["waist"] == pytest.approx(20.0)
    assert fit.ease_source["hips"] == "pattern" and math.isnan(fit.tape_ease_cm["hips"])


def test_chart_breaks_a_tie_the_drape_cannot_resolve(tshirts):
    """A chest between M and L: the size nearer the design ease wins when the drape tells them
    apart; within the measurement's resolution the size chart's answer does, and says so."""
    chest = (CHART["M"]["chest"] + CHART["L"]["chest"]) / 2 - 0.002  # the chart says M, by 2 mm
    body = _body(chest, CHART["M"]["waist"], CHART["M"]["hips"], CHART["M"]["upper_arm"])

    def pick(readings_cm):
        fits = {
            s: evaluate_size(
                body, tshirts[s], _drape(tshirts[s], ease_m={"chest": e / 100}), family="tshirt"
            )
            for s, e in readings_cm.items()
        }
        return recommend(fits, SIZES, "M")

    best, _, reasons = pick({"M": 6.5, "L": 12.8})  # 3.5 vs 2.8 cm from the design's 10: a tie
    assert best == "M" and any("breaks the tie" in r for r in reasons)
    best, _, reasons = pick({"M": 5.0, "L": 11.0})  # 5.0 vs 1.0 cm: L, clearly
    assert best == "L" and not any("breaks the tie" in r for r in reasons)
    # a tie never overrules a problem: an over-stretched M loses to L
    fits = {
        "M": evaluate_size(
            body,
            tshirts["M"],
            _drape(tshirts["M"], ease_m={"chest": 0.065}, stretch=140.0),
            family="tshirt",
        ),
        "L": evaluate_size(
            body, tshirts["L"], _drape(tshirts["L"], ease_m={"chest": 0.128}), family="tshirt"
        ),
    }
    assert recommend(fits, SIZES, "M")[0] == "L"


def test_too_small_size_is_rejected_and_the_size_follows_the_body(tshirts):
    """Draped readings at the pattern's ease: the pick moves up with the chest, a size with
    negative chest ease is too tight, and the readings (not the pattern) decide."""
    picks = []
    for size in ("S", "M", "L", "XL"):
        row = CHART[size]
        body = _body(row["chest"], row["waist"], row["hips"], row["upper_arm"])
        fits, pattern = {}, {}
        for s in SIZES:
            pattern[s] = 100 * (CHART[s]["chest"] + 0.10 - row["chest"])
            fits[s] = evaluate_size(
                body,
                tshirts[s],
                _drape(tshirts[s], ease_m={"chest": pattern[s] / 100}),
                family="tshirt",
            )
        best, _, reasons = recommend(fits, SIZES)
        picks.append(best)
        for s in SIZES:
            if pattern[s] < 0.0:  # smaller than the body: a cotton knit T-shirt wants >= 0 cm
                assert fits[s].verdict == "too tight" and any(
                    r.startswith(f"{s} would be too tight") for r in reasons
                )
            if pattern[s] < -5.0:  # beyond the measurement's doubt: a hard failure
                assert fits[s].score > fits[best].score + 3.0
    assert picks == ["S", "M", "L", "XL"]
    # a chest halfway between M and L: whichever size the drape reads nearer its design ease wins
    row = CHART["M"]
    body = _body(
        (CHART["M"]["chest"] + CHART["L"]["chest"]) / 2, row["waist"], row["hips"], row["upper_arm"]
    )
    for readings, expected in (({"M": 9.5, "L": 15.0}, "M"), ({"M": 5.0, "L": 10.5}, "L")):
        fits = {
            s: evaluate_size(
                body, tshirts[s], _drape(tshirts[s], ease_m={"chest": e / 100}), family="tshirt"
            )
            for s, e in readings.items()
        }
        assert all(f.ease_source["chest"] == "drape" for f in fits.values())
        assert recommend(fits, SIZES)[0] == expected


def test_gates_warn_unless_the_drape_is_grossly_broken(tshirts):
    row = CHART["M"]
    body = _body(row["chest"], row["waist"], row["hips"], row["upper_arm"])
    good = {
        s: evaluate_size(body, tshirts[s], _drape(tshirts[s]), family="tshirt")
        for s in ("S", "M", "L")
    }
    _, c_good, _ = recommend(good, SIZES)
    # a couple of crossing triangles at an armpit fold: a simulation warning, the fit verdict stands
    minor = dict(good)
    minor["M"] = evaluate_size(
        body, tshirts["M"], _drape(tshirts["M"], crossing=2), family="tshirt"
    )
    best, c_minor, _ = recommend(minor, SIZES)
    assert best == "M" and minor["M"].score == pytest.approx(good["M"].score) and c_minor < c_good
    assert not minor["M"].gates["gross"] and any("quality warning" in r for r in minor["M"].reasons)
    # a tenth of the garment inside the body: the drape is not trusted and the size loses its lead
    gross = dict(good)
    count = len(tshirts["M"].positions)
    gross["M"] = evaluate_size(
        body, tshirts["M"], _drape(tshirts["M"], penetrating=count // 10), family="tshirt"
    )
    assert gross["M"].gates["gross"] and gross["M"].score >= good["M"].score + 1.0
    assert any("unreliable" in r for r in gross["M"].reasons)
    assert recommend(gross, SIZES)[0] != "M"


def test_a_skirt_that_slid_down_is_too_loose_whatever_its_ease():
    row = CHART["XS"]
    body = _body(row["chest"], row["waist"], row["hips"], row["upper_arm"])
    skirts = {s: garments.load_garment("skirt", size=s, edge_length_m=0.08) for s in ("XS", "S")}

    def worn(garment, top_z):
        drape = _drape(garment, ease_m={"waist": 0.0, "hips": 0.05})
        z = np.linspace(top_z, top_z - 0.55, len(drape.rest_pose_positions))
        drape.rest_pose_positions[:, 2] = z
        return drape

    on_hips = evaluate_size(body, skirts["S"], worn(skirts["S"], 1.05), family="skirt")
    fallen = evaluate_size(
        body, skirts["S"], worn(skirts["S"], 0.60), family="skirt"
    )  # hips at 0.88 m
    assert not any("stay up" in r for r in on_hips.reasons)
    assert fallen.verdict == "too loose" and fallen.score >= on_hips.score + 3.0
    assert "slides down past the hips (its top rests 28 cm below them)" in fallen.reasons[0]
    snug = evaluate_size(body, skirts["XS"], worn(skirts["XS"], 1.05), family="skirt")
    assert recommend({"XS": snug, "S": fallen}, SIZES)[0] == "XS"


def test_woven_dress_needs_more_ease_than_knit():
    row = CHART["M"]
    body = _body(
        row["chest"] + 0.05, row["waist"], row["hips"], row["upper_arm"]
    )  # 5 cm over the chart's M
    knit = garments.load_garment("dress", size="M", fabric="cotton_jersey", edge_length_m=0.08)
    woven = garments.load_garment("dress", size="M", fabric="denim", edge_length_m=0.08)
    fit_knit = evaluate_size(body, knit, _drape(knit), family="dress")
    fit_woven = evaluate_size(body, woven, _drape(woven), family="dress")
    assert fit_knit.ease_cm["chest"] == pytest.approx(3.0) == fit_woven.ease_cm["chest"]
    assert fit_woven.region_verdicts["chest"] == "too tight"  # woven wants >= 5 cm
    assert fit_knit.region_verdicts["chest"] in ("snug", "good")


def test_report_json_is_plain_json(tshirts):
    row = CHART["S"]
    body = _body(row["chest"], row["waist"], row["hips"], row["upper_arm"])
    fits = {
        s: evaluate_size(body, tshirts[s], _drape(tshirts[s]), family="tshirt")
        for s in ("XS", "S", "M")
    }
    best, confidence, reasons = recommend(fits, SIZES)
    report = FitReport(
        family="tshirt",
        chart="women",
        fabric="cotton_jersey",
        fabric_class="knit",
        recommended_size=best,
        confidence=confidence,
        confidence_label="medium",
        chart_size="S",
        reasons=tuple(reasons),
        sizes=fits,
        body_cm={"chest": 86.0},
    )
    content = json.loads(json.dumps(report_json(report)))
    assert content["recommended_size"] == "S"
    assert set(content["sizes"]) == {"XS", "S", "M"}
    chest = content["sizes"]["S"]["ease_cm"]["chest"]
    assert (
        chest["ease"] == pytest.approx(10.0)
        and chest["comfort_min"] == 0.0
        and chest["design"] == 10.0
    )
    assert content["sizes"]["S"]["gates"]["passed"] is True


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["tryon", "--height", "170", "--weight", "60", "--sex", "female", "--garment", "hat"],
            "unknown garment",
        ),
        (
            [
                "tryon",
                "--height",
                "170",
                "--weight",
                "60",
                "--sex",
                "female",
                "--garment",
                "tshirt",
                "--size",
                "Q",
            ],
            "unknown size",
        ),
        (
            ["tryon", "--height", "170", "--sex", "female", "--garment", "tshirt"],
            "weight is required",
        ),
        (
            ["tryon", "--height", "170", "--weight", "60", "--sex", "x", "--garment", "tshirt"],
            "sex must be",
        ),
        (
            [
                "tryon",
                "--height",
                "170",
                "--weight",
                "60",
                "--sex",
                "female",
                "--garment",
                "tshirt",
                "--photo",
                "missing.jpg",
            ],
            "does not exist",
        ),
        (["fit-report", "--body", "missing.json", "--garment", "tshirt"], "does not exist"),
        (
            ["fit-report", "--body", "missing.json", "--garment", "tshirt", "--device", "tpu"],
            "--device",
        ),
    ],
)
def test_cli_rejects_bad_input_with_one_line(argv, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main([*argv, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not [p for p in out.rglob("*") if p.is_file()]  # nothing half-written


def test_fit_report_skips_a_diverged_size(monkeypatch, tshirts):
    """A size whose drape diverges (also on the finer retry) is reported, not judged; others still
    are."""
    from tryon3d import fit_report, sim

    row = CHART["M"]
    body = _body(row["chest"], row["waist"], row["hips"], row["upper_arm"])
    calls = []

    def fake_load(name, *, size, edge_length_m, **_):
        calls.append((size, edge_length_m))
        return tshirts[size]

    def fake_drape(body, garment, **_):
        if garment.size == "S":
            raise sim.DrapeDivergedError("particles tunnelled")
        return _drape(garment)

    monkeypatch.setattr(garments, "load_garment", fake_load)
    monkeypatch.setattr(sim, "drape", fake_drape)
    # workers=1: the calls are counted in this process (forked workers would count their own)
    report = fit_report(body, "tshirt", sizes="auto", edge_length_m=0.04, workers=1)
    assert report.chart_size == "M" and list(report.sizes) == ["M", "L"]
    assert list(report.failed_sizes) == ["S"]
    assert [c for c in calls if c[0] == "S"] == [("S", 0.04), ("S", 0.025)]  # retried finer once
    assert report.recommended_size == "M"
    assert any("S could not be draped" in r for r in report.reasons)
    assert report_json(report)["failed_sizes"] == {"S": "particles tunnelled"}


# ------------------------------------------------------------------- map/reduce job records


def _fake_stages(monkeypatch, tshirts, *, diverge=(), broken=()):
    """garments.load_garment -> the prepared T-shirts, sim.drape -> a stand-in drape; sizes in
    ``diverge`` diverge, sizes in ``broken`` fail to build. Returns the (size, edge) calls."""
    from tryon3d import sim

    calls = []

    def fake_load(name, *, size, edge_length_m, **_):
        calls.append((size, edge_length_m))
        if size in broken:
            raise RuntimeError("pattern would not mesh\nsecond line")
        return tshirts[size]

    def fake_drape(body, garment, **_):
        if garment.size in diverge:
            raise sim.DrapeDivergedError("particles tunnelled")
        return _drape(garment)

    monkeypatch.setattr(garments, "load_garment", fake_load)
    monkeypatch.setattr(sim, "drape", fake_drape)
    return calls


def test_size_jobs_resolve_sizes_and_chart_and_check_inputs_first():
    from tryon3d.sizing import DrapeJob, size_jobs

    row = CHART["M"]
    body = _body(row["chest"], row["waist"], row["hips"], row["upper_arm"])
    jobs = size_jobs(body, "tshirt", sizes="auto", edge_length_m=0.04)
    assert [j.size for j in jobs] == ["S", "M", "L"] and {j.chart for j in jobs} == {"women"}
    assert all(isinstance(j, DrapeJob) and j.edge_length_m == 0.04 and j.body is body for j in jobs)
    assert [j.size for j in size_jobs(body, "tshirt", sizes="L,XS")] == ["XS", "L"]
    body.inputs["sex"] = "male"
    assert size_jobs(body, "tshirt", sizes="M")[0].chart == "men"
    for kwargs, message in (
        ({"sizes": "Q"}, "unknown size"),
        ({"device": "tpu"}, "device"),
        ({"fabric": 3}, "fabric must be"),
    ):
        with pytest.raises((ValueError, TypeError), match=message):
            size_jobs(body, "tshirt", **kwargs)
    with pytest.raises(ValueError, match="unknown garment family"):
        size_jobs(body, "hat")


def test_a_plus_size_body_is_sized_on_the_plus_sizes_of_its_own_chart():
    from tryon3d.sizing import chart_for, chart_size_for, size_jobs

    # a woman of chest 130 cm: the women's chart runs past XXL (113 cm) to 4XL (129 cm)
    body = _body(chest=1.30, waist=1.16, hips=1.38, upper_arm=0.44)
    assert chart_size_for(body, "women", "tshirt") == "4XL"
    assert chart_size_for(body, "women", "tshirt", sizes_up=2) == "5XL"  # the largest at most
    assert [j.size for j in size_jobs(body, "tshirt", sizes="auto")] == ["3XL", "4XL", "5XL"]
    # a man wears the men's chart (chest 140 cm at 4XL), whatever the family's own chart
    assert chart_for("male", "tshirt") == "men" and chart_for("female", "tshirt") == "women"
    assert chart_for("male", "tshirt", "women") == "women"
    body.measurements_m["chest"] = 1.40
    body.inputs["sex"] = "male"
    jobs = size_jobs(body, "tshirt", sizes="auto")
    assert [j.size for j in jobs] == ["3XL", "4XL", "5XL"] and {j.chart for j in jobs} == {"men"}


def test_a_bmi_40_woman_drapes_in_her_plus_size_and_xxl_is_not_good():
    """Before the plus sizes her best was an XXL pulled tight at the waist and hips."""
    from conftest import cached_body

    import tryon3d

    body = cached_body(1.65, 109.0, "female")  # chest 121, waist 120, hips 128 cm
    report = tryon3d.fit_report(body, "tshirt", sizes="auto", edge_length_m=0.04)
    assert list(report.sizes) == ["XXL", "3XL", "4XL"]
    assert report.recommended_size == "3XL"
    best, xxl = report.sizes["3XL"], report.sizes["XXL"]
    assert best.gates["passed"] and 5.0 <= best.ease_cm["chest"] <= 14.0
    assert xxl.verdict != "good" and xxl.ease_cm["hips"] < 0.0 < best.ease_cm["hips"]


def test_run_drape_job_reports_a_failed_drape_instead_of_raising(monkeypatch, tshirts):
    from tryon3d.sizing import DrapeJob, run_drape_job

    calls = _fake_stages(monkeypatch, tshirts, diverge={"S"}, broken={"L"})
    body = _body()
    job = DrapeJob(body=body, family="tshirt", size="S", chart="women", edge_length_m=0.04)
    diverged = run_drape_job(job)
    assert diverged.garment is None and diverged.drape is None
    assert diverged.error == "particles tunnelled"
    assert calls == [("S", 0.04), ("S", 0.025)]  # retried once with a finer mesh
    broken = run_drape_job(DrapeJob(body=body, family="tshirt", size="L", chart="women"))
    assert broken.drape is None and broken.error == "RuntimeError: pattern would not mesh"
    assert calls[-1] == ("L", 0.03)  # a failure that is no divergence is not retried
    good = run_drape_job(DrapeJob(body=body, family="tshirt", size="M", chart="women"))
    assert good.error is None and good.garment is tshirts["M"] and good.drape is not None
    assert set(good.seconds) == {"place", "drape", "total"}
    assert good.seconds["total"] >= good.seconds["drape"] >= 0


def test_fit_report_with_an_injected_mapper_equals_the_serial_one(monkeypatch, tshirts):
    from tryon3d.sizing import fit_report, judge_drapes, run_drape_job, size_jobs

    _fake_stages(monkeypatch, tshirts, diverge={"L"})
    row = CHART["S"]
    body = _body(row["chest"], row["waist"], row["hips"], row["upper_arm"])
    seen = []

    def mapper(fn, jobs):
        seen.extend(job.size for job in jobs)
        return [fn(job) for job in reversed(jobs)][::-1]

    serial = fit_report(body, "tshirt", sizes="XS,S,M,L")
    mapped = fit_report(body, "tshirt", sizes="XS,S,M,L", map_jobs=mapper)
    assert seen == ["XS", "S", "M", "L"]
    assert report_json(serial) == report_json(mapped)
    assert serial.recommended_size == "S" and serial.failed_sizes == {"L": "particles tunnelled"}
    # the reduce step alone, on results in any order, gives the same report
    results = [run_drape_job(job) for job in size_jobs(body, "tshirt", sizes="XS,S,M,L")]
    again = judge_drapes(body, "tshirt", results[::-1], chart="women")
    assert report_json(again) == report_json(serial)
    with pytest.raises(ValueError, match="one result per size"):
        judge_drapes(body, "tshirt", results + results[:1], chart="women")
    with pytest.raises(ValueError, match="could be draped"):
        judge_drapes(body, "tshirt", [r for r in results if r.error], chart="women")


def test_report_html_fills_every_template_field(tshirts):
    from tryon3d._pipeline import report_html

    row = CHART["S"]
    body = _body(row["chest"], row["waist"], row["hips"], row["upper_arm"])
    fits = {
        s: evaluate_size(body, tshirts[s], _drape(tshirts[s]), family="tshirt")
        for s in ("XS", "S", "M")
    }
    best, confidence, reasons = recommend(fits, SIZES)
    report = FitReport(
        family="tshirt",
        chart="women",
        fabric="cotton_jersey",
        fabric_class="knit",
        recommended_size=best,
        confidence=confidence,
        confidence_label="medium",
        chart_size="S",
        reasons=(*reasons, "<b>escaped</b>"),
        sizes=fits,
        body_cm={"chest": 86.0},
    )
    page = report_html(report, ["fitmap_S.png", "turntable.gif", "draped_M.glb"], glb=b"glTF")
    assert "$" not in page
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count('<tr class="best">') == 1 and "S &#9733;" in page
    assert page.count("<tr>") == 1 + 2  # the head row and the two other sizes
    assert 'src="fitmap_S.png"' in page and 'src="fitmap_M.png"' not in page
    assert "data:model/gltf-binary;base64,Z2xURg==" in page and "viewer/model-viewer.min.js" in page
    assert "&lt;b&gt;escaped&lt;/b&gt;" in page and "<b>escaped" not in page
    assert f"confidence {round(100 * confidence)} %" in page
    plain = report_html(report, [])
    assert "<model-viewer" not in plain and "model-viewer.min.js" not in plain
    assert 'id="fitmaps"' not in plain


def test_a_new_family_is_judged_from_its_family_fields_alone(monkeypatch, tshirts):
    """Sizing reads the family's governing region, ease parameters, hem reference and kind from
    ``garments.Family``: a family added in garments/ only is judged without touching sizing/."""
    import dataclasses

    from tryon3d.sizing import chart_size_for, governing_region

    crop = dataclasses.replace(
        garments.FAMILIES["tshirt"],
        name="croptop",
        governing_region="waist",
        hem_reference=None,
        ease_keys={"chest": "chest_ease", "waist": "waist_ease"},
    )
    monkeypatch.setitem(garments.FAMILIES, "croptop", crop)
    row = CHART["M"]
    # a waist one size down
    body = _body(row["chest"], row["waist"] - 0.05, row["hips"], row["upper_arm"])
    assert governing_region("croptop") == "waist" and governing_region("skirt") == "hips"
    assert chart_size_for(body, "women", "croptop") == "S"
    assert chart_size_for(body, "women", "tshirt") == "M"
    fit = evaluate_size(body, tshirts["M"], _drape(tshirts["M"]), family="croptop")
    tee = evaluate_size(body, tshirts["M"], _drape(tshirts["M"]), family="tshirt")
    assert fit.governing_region == "waist" and set(fit.ease_cm) == {"chest", "waist"}
    assert set(tee.ease_cm) == {"chest", "waist", "hips", "upper_arm"}
    assert "hem_below_hips_cm" in tee.lengths and "hem_below_hips_cm" not in fit.lengths

    # the score follows the governing region: the waist's deviation counts, the chest's does not
    def z(f, region):
        tight, ideal, loose = f.comfort_cm[region]
        value = f.ease_cm[region]
        return (value - ideal) / ((ideal - tight) if value < ideal else (loose - ideal))

    hem_penalty = 0.0 if tee.lengths["hem_below_hips_cm"]["ok"] else 0.5
    assert z(fit, "waist") ** 2 > 0.01
    expected = tee.score - z(tee, "chest") ** 2 - hem_penalty
    assert fit.score - z(fit, "waist") ** 2 == pytest.approx(expected)
    with pytest.raises(ValueError, match="unknown garment family"):
        governing_region("hat")
