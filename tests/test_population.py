"""Population model (bodyfit._population): accuracy on ANSUR II hold-out, monotonicity,
validation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _population_fit import fit_population_model, read_ansur_csv, split_ansur_tables

from tryon3d.bodyfit._population import (
    LENGTH_TARGETS,
    RATIO_TARGETS,
    TARGET_NAMES,
    PopulationModel,
    load_population_model,
)

REPO = Path(__file__).resolve().parents[1]
ANTHRO = REPO.parent / "shared" / "anthro"
FILES = {"male": "ANSUR_II_MALE_train.csv", "female": "ANSUR_II_FEMALE_train.csv"}
GIRTHS = ("chest", "waist", "hips")
# Pooled (both sexes) hold-out MAE measured with seed 0: chest 2.61,
# waist 3.50, hips 2.09 cm (plain linear: 2.66, 3.52, 2.14). Bounds leave ~5 % headroom.
MAE_BOUND_CM = {"chest": 2.75, "waist": 3.65, "hips": 2.20}

needs_ansur = pytest.mark.skipif(
    not all((ANTHRO / name).is_file() for name in FILES.values()),
    reason=f"ANSUR II CSVs not found in {ANTHRO} (shared anthropometry data absent)",
)


@pytest.fixture(scope="module")
def tables() -> dict[str, dict[str, np.ndarray]]:
    return {sex: read_ansur_csv(ANTHRO / name) for sex, name in FILES.items()}


def _split(tables, *, seed: int = 0, test_fraction: float = 0.2):
    return split_ansur_tables(tables, seed=seed, test_fraction=test_fraction)


def _holdout_mae_cm(model: PopulationModel, test) -> dict[str, float]:
    errors: dict[str, list[np.ndarray]] = {name: [] for name in GIRTHS}
    for sex, table in test.items():
        predicted = model.predict_many(
            height_m=table["stature"], weight_kg=table["weightkg"], sex=sex, age_years=table["age"]
        )
        for name in GIRTHS:
            errors[name].append(np.abs(predicted[name] - table[LENGTH_TARGETS[name]]))
    return {name: float(np.concatenate(e).mean() * 100.0) for name, e in errors.items()}


@needs_ansur
def test_read_ansur_csv_converts_units(tables) -> None:
    male, female = tables["male"], tables["female"]
    assert len(male["stature"]) == 3266 and len(female["stature"]) == 1589
    # Medians in SI: stature ~1.75 / 1.63 m, weight ~85 / 67 kg, age in years.
    assert 1.70 < np.median(male["stature"]) < 1.80
    assert 1.58 < np.median(female["stature"]) < 1.68
    assert 75.0 < np.median(male["weightkg"]) < 95.0
    assert 55.0 < np.median(female["weightkg"]) < 75.0
    assert 20.0 < np.median(male["age"]) < 40.0
    assert set(male["sex"]) == {"male"} and set(female["sex"]) == {"female"}
    assert "subjectid" in male and "subjectid" in female


@needs_ansur
def test_holdout_mae_beats_linear_baseline(tables) -> None:
    train, test = _split(tables, seed=0)
    model_mae = _holdout_mae_cm(fit_population_model(train), test)
    linear_mae = _holdout_mae_cm(fit_population_model(train, feature_set="linear"), test)
    for name in GIRTHS:
        assert model_mae[name] <= linear_mae[name] + 0.05, (name, model_mae, linear_mae)
        assert model_mae[name] < MAE_BOUND_CM[name], (name, model_mae)


@needs_ansur
def test_ratios_match_ansur_landmarks(tables) -> None:
    model = load_population_model()
    for sex, table in tables.items():
        predicted = model.predict_many(
            height_m=table["stature"], weight_kg=table["weightkg"], sex=sex, age_years=table["age"]
        )
        for name, column in RATIO_TARGETS.items():
            true_ratio = table[column] / table["stature"]
            # In-sample fit: mean bias ~0; MAE (measured 0.005-0.0126) below 1.4 % of stature
            # and below the spread around the population mean ratio (0.0053-0.0130).
            mae = np.mean(np.abs(predicted[name] - true_ratio))
            assert abs(np.mean(predicted[name] - true_ratio)) < 1e-6
            assert mae < 0.014, (sex, name, mae)
            assert mae < np.mean(np.abs(true_ratio - true_ratio.mean())), (sex, name, mae)


@needs_ansur
def test_shipped_table_equals_fresh_fit(tables) -> None:
    shipped = load_population_model()
    fresh = fit_population_model(tables)
    assert shipped.feature_names == fresh.feature_names
    assert shipped.target_names == fresh.target_names
    for sex in FILES:
        assert shipped.coefficients_for(sex).sample_count == len(tables[sex]["stature"])
    cases = [(1.55, 50.0, 22.0), (1.70, 70.0, None), (1.85, 95.0, 45.0), (1.95, 130.0, 33.0)]
    for sex in FILES:
        for height, weight, age in cases:
            a = shipped.predict(height_m=height, weight_kg=weight, sex=sex, age_years=age)
            b = fresh.predict(height_m=height, weight_kg=weight, sex=sex, age_years=age)
            assert max(abs(a[k] - b[k]) for k in TARGET_NAMES) < 1e-9


def test_shipped_table_is_small_and_documented() -> None:
    path = REPO / "data" / "population_ansur2.json"
    assert path.stat().st_size <= 50_000
    data = json.loads(path.read_text(encoding="utf-8"))
    assert "ANSUR II" in data["source"] and "NATICK/TR-15/007" in data["source"]
    assert data["sexes"]["male"]["sample_count"] > 1000
    assert data["sexes"]["female"]["sample_count"] > 1000


def test_predictions_plausible_and_keys() -> None:
    model = load_population_model()
    male = model.predict(height_m=1.78, weight_kg=80.0, sex="male")
    female = model.predict(height_m=1.65, weight_kg=62.0, sex="Female", age_years=30.0)
    assert set(male) == set(TARGET_NAMES) == set(female)
    assert 0.95 < male["chest"] < 1.08 and 0.85 < female["chest"] < 0.97
    assert male["hips"] > male["waist"] and female["hips"] > female["waist"] + 0.10
    assert male["shoulder_breadth"] > female["shoulder_breadth"] + 0.03
    for person in (male, female):
        ratios = [person[k] for k in ("crotch_height_ratio", "buttock_height_ratio")]
        ratios += [person[k] for k in ("waist_height_ratio", "chest_height_ratio")]
        ratios += [person[k] for k in ("acromial_height_ratio", "neck_height_ratio")]
        assert ratios == sorted(ratios) and ratios[0] > 0.4 and ratios[-1] < 0.9
    # inseam (crotch height) and its ratio come from separate fits: they agree within 1 cm.
    assert abs(male["inseam"] - male["crotch_height_ratio"] * 1.78) < 0.01
    assert abs(female["inseam"] - female["crotch_height_ratio"] * 1.65) < 0.01
    # Missing age means the training median, not some other default.
    median_age = model.coefficients_for("male").age_median_years
    assert model.predict(height_m=1.78, weight_kg=80.0, sex="male", age_years=median_age) == male
    std = model.residual_std_m(sex="female")
    assert set(std) == set(LENGTH_TARGETS) and 0.01 < std["chest"] < 0.08


@pytest.mark.parametrize("sex", ["male", "female"])
@pytest.mark.parametrize("age", [None, 19.0, 55.0, 80.0])
def test_girths_monotone_in_weight(sex: str, age: float | None) -> None:
    model = load_population_model()
    weights = np.linspace(40.0, 180.0, 141)
    for height in (1.50, 1.70, 1.90, 2.05):
        predicted = model.predict_many(
            height_m=np.full_like(weights, height), weight_kg=weights, sex=sex, age_years=age
        )
        for name in ("chest", "waist", "hips", "neck", "thigh", "upper_arm"):
            steps = np.diff(predicted[name])
            assert np.all(steps > 0), (sex, age, height, name, steps.min())


def test_age_outside_training_range_is_clamped() -> None:
    model = load_population_model()
    oldest = model.coefficients_for("female").age_max_years
    at_max = model.predict(height_m=1.6, weight_kg=60.0, sex="female", age_years=oldest)
    at_90 = model.predict(height_m=1.6, weight_kg=60.0, sex="female", age_years=90.0)
    assert at_90 == at_max


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sex": "other"}, "sex must be one of"),
        ({"sex": None}, "sex must be one of"),
        ({"height_m": 175.0}, "height_m must lie in"),
        ({"height_m": -1.7}, "height_m must be a finite positive"),
        ({"height_m": float("nan")}, "height_m must be a finite positive"),
        ({"weight_kg": 0.0}, "weight_kg must be a finite positive"),
        ({"weight_kg": float("inf")}, "weight_kg must be a finite positive"),
        ({"weight_kg": "heavy"}, "weight_kg must be a finite positive"),
        ({"age_years": -3.0}, "age_years must be a finite positive"),
        ({"height_m": [1.7, 1.8]}, "height_m must be a single number"),
    ],
)
def test_bad_inputs_raise_value_error(kwargs: dict, message: str) -> None:
    model = load_population_model()
    arguments = {"height_m": 1.75, "weight_kg": 75.0, "sex": "male", "age_years": 30.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        model.predict(**arguments)


def test_fit_and_reader_reject_bad_tables(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rows_by_sex must hold tables"):
        fit_population_model({"male": {}})
    with pytest.raises(ValueError, match="lacks column 'stature'"):
        fit_population_model({"male": {}, "female": {}})
    with pytest.raises(ValueError, match="feature_set must be one of"):
        fit_population_model({"male": {}, "female": {}}, feature_set="cubic")
    bad = tmp_path / "bad.csv"
    bad.write_text("subjectid,stature,Gender\n1,1750,Male\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lacks column"):
        read_ansur_csv(bad)
    with pytest.raises(ValueError, match="not found"):
        read_ansur_csv(tmp_path / "missing.csv")
