"""bodyfit: bodies from measurements meet their targets, and the tape measure reads true."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT, cached_body

from tryon3d import bodyfit
from tryon3d.bodyfit._fit import body_mass_kg
from tryon3d.bodyfit._tape import build_tape_topology, cross_section, mesh_volume, tape_girth

# (height m, weight kg, sex): both sexes, BMI 17 to 40, 150 to 200 cm.
BODIES = [
    (1.78, 75.0, "male"),
    (1.62, 58.0, "female"),
    (2.00, 68.0, "male"),
    (1.50, 90.0, "female"),
]


@pytest.mark.parametrize("height_m, weight_kg, sex", BODIES)
def test_body_meets_height_and_weight(height_m: float, weight_kg: float, sex: str) -> None:
    body = cached_body(height_m, weight_kg, sex)
    assert abs(body.measurements_m["stature"] - height_m) <= 0.005
    assert abs(body.weight_kg - weight_kg) <= 1.0
    # the reported weight is the mesh's own volume times the calibrated density
    assert body.weight_kg == pytest.approx(
        float(body_mass_kg(body.rest_vertices, body.faces, sex=sex)), rel=1e-9
    )
    # canonical frame: feet on the floor, facing -y (the nose is the most anterior head point)
    assert body.rest_vertices[:, 2].min() == pytest.approx(0.0, abs=1e-9)
    head = body.rest_vertices[body.region_mask("head")]
    assert head[:, 1].min() < head[:, 1].mean() - 0.05


@pytest.mark.parametrize(
    "height_m, weight_kg, sex, girths",
    [
        (1.65, 62.0, "female", {"chest_m": 0.95, "waist_m": 0.78, "hips_m": 1.02}),
        (1.80, 82.0, "male", {"chest_m": 1.02, "waist_m": 0.92, "hips_m": 1.00}),
    ],
)
def test_given_girths_are_met(height_m: float, weight_kg: float, sex: str, girths: dict) -> None:
    body = cached_body(height_m, weight_kg, sex, **girths)
    for key, value in girths.items():
        assert abs(body.measurements_m[key.removesuffix("_m")] - value) <= 0.01, key
    assert abs(body.measurements_m["stature"] - height_m) <= 0.005
    assert abs(body.weight_kg - weight_kg) <= 1.0


def test_girths_follow_population_prediction() -> None:
    body = cached_body(1.78, 75.0, "male")
    predicted = bodyfit.load_population_model().predict(height_m=1.78, weight_kg=75.0, sex="male")
    for name in ("chest", "waist", "hips"):
        assert abs(body.measurements_m[name] - predicted[name]) <= 0.005, name
    # secondary measurements land near ANSUR's definitions (soft targets or pure measurement)
    for name, tolerance in (
        ("inseam", 0.03),
        ("sleeve_outseam", 0.04),
        ("shoulder_breadth", 0.04),
        ("thigh", 0.05),
    ):
        assert abs(body.measurements_m[name] - predicted[name]) <= tolerance, name


def test_heavier_body_has_larger_girths() -> None:
    light, heavy = cached_body(1.78, 75.0, "male"), cached_body(1.78, 95.0, "male")
    for name in ("chest", "waist", "hips", "thigh"):
        assert heavy.measurements_m[name] > light.measurements_m[name] + 0.02, name


def test_tape_reads_a_cylinder_and_a_concave_section() -> None:
    import trimesh

    cylinder = trimesh.creation.cylinder(radius=0.15, height=1.0, sections=256)
    edges = np.asarray(cylinder.edges_unique)
    points = cross_section(
        np.asarray(cylinder.vertices), edges, np.zeros(3), np.array([0.0, 0.0, 1.0])
    )
    assert tape_girth(points, np.array([0, 0, 1.0])) == pytest.approx(2 * np.pi * 0.15, rel=1e-3)
    # a tape bridges concavities: the girth of a star is its convex hull's perimeter
    angles = np.linspace(0, 2 * np.pi, 10, endpoint=False)
    radii = np.where(np.arange(10) % 2 == 0, 1.0, 0.4)
    star = np.stack([radii * np.cos(angles), radii * np.sin(angles), np.zeros(10)], axis=1)
    pentagon_side = 2 * np.sin(np.pi / 5)
    assert tape_girth(star, np.array([0, 0, 1.0])) == pytest.approx(5 * pentagon_side, rel=1e-9)
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=0.5)
    assert float(
        mesh_volume(np.asarray(sphere.vertices), np.asarray(sphere.faces))
    ) == pytest.approx(sphere.volume, rel=1e-9)


def test_tape_topology_finds_the_midline(default_body) -> None:
    topology = build_tape_topology(
        default_body.faces, default_body.vertex_regions, default_body.rest_vertices
    )
    midline = default_body.rest_vertices[topology.midline_vertices]
    assert len(midline) > 20
    assert np.abs(midline[:, 0]).max() < 0.002


def test_body_record_round_trip(default_body) -> None:
    record = json.loads(json.dumps(bodyfit.body_record(default_body)))
    rebuilt = bodyfit.body_from_record(record)
    assert np.abs(rebuilt.vertices - default_body.vertices).max() < 1e-9
    for name, value in default_body.measurements_m.items():
        assert rebuilt.measurements_m[name] == pytest.approx(value, abs=1e-6), name
    assert record["skeleton_m"].keys() == default_body.skeleton_m.keys()
    for name, point in default_body.skeleton_m.items():
        assert np.abs(rebuilt.skeleton_m[name] - point).max() < 1e-9, name
    with pytest.raises(ValueError, match="not a tryon3d body record"):
        bodyfit.body_from_record({"model": "anny"})
    # A record written before the limb-length sliders were fitted rebuilds with them at 0.
    older, zeroed = json.loads(json.dumps(record)), json.loads(json.dumps(record))
    lengths = [n for n in record["shape_parameters"] if n.endswith(("length-incr", "height-incr"))]
    assert len(lengths) == 4
    for name in lengths:
        del older["shape_parameters"][name]
        zeroed["shape_parameters"][name] = 0.0
    older_body, zeroed_body = bodyfit.body_from_record(older), bodyfit.body_from_record(zeroed)
    assert np.abs(older_body.rest_vertices - zeroed_body.rest_vertices).max() < 1e-12
    assert all(older_body.shape_parameters[name] == 0.0 for name in lengths)


def _check_skeleton(body) -> None:
    """Every canonical joint, read-only, in anatomical order (z-up, the body's left on +x)."""
    s = body.skeleton_m
    assert tuple(s) == bodyfit.SKELETON_NAMES
    assert all(not p.flags.writeable and p.shape == (3,) for p in s.values())
    heights = [
        s[n][2] for n in ("ankle_left", "knee_left", "pelvis", "spine", "chest", "neck", "head")
    ]
    assert np.all(np.diff(heights) > 0.05), heights
    assert (
        abs(s["hip_left"][2] - s["pelvis"][2]) < 0.05
        and abs(s["hip_right"][2] - s["pelvis"][2]) < 0.05
    )
    for joint in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
        assert s[f"{joint}_left"][0] > 0.03 > -0.03 > s[f"{joint}_right"][0], joint
    stature = body.measurements_m["stature"]
    assert 0.45 < s["pelvis"][2] / stature < 0.62 and 0.80 < s["neck"][2] / stature < 0.92


def test_canonical_skeleton_of_anny(default_body) -> None:
    _check_skeleton(default_body)
    with pytest.raises(ValueError, match=r"unknown joint 'upperarm01\.L'"):
        dataclasses.replace(default_body, skeleton_m={"upperarm01.L": np.zeros(3)})


def test_glb_export_splits_uv_seams(default_body) -> None:
    import io

    import trimesh

    data = bodyfit.body_to_glb(default_body)
    mesh = trimesh.load(io.BytesIO(data), file_type="glb", force="mesh", process=False)
    # one vertex per (position, uv) corner pair: more than the body's vertices, UVs for each
    assert len(mesh.vertices) > default_body.vertex_count
    assert mesh.visual.uv.shape == (len(mesh.vertices), 2)
    assert len(mesh.faces) == len(default_body.faces)
    # glTF is y-up: height along +y, matching the stature
    assert np.ptp(mesh.vertices[:, 1]) == pytest.approx(
        default_body.measurements_m["stature"], abs=1e-4
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"height_m": 3.0, "weight_kg": 70, "sex": "male"}, "height must be between 50 and 250 cm"),
        ({"height_m": 1.7, "weight_kg": 500, "sex": "male"}, "weight must be between"),
        ({"height_m": 1.7, "weight_kg": 15, "sex": "male"}, "BMI"),
        ({"height_m": 1.7, "weight_kg": 70, "sex": "robot"}, "sex must be"),
        ({"height_m": float("nan"), "weight_kg": 70, "sex": "male"}, "finite"),
        ({"height_m": 1.7, "weight_kg": 70, "sex": "male", "waist_m": -1.0}, "waist"),
        (
            {"height_m": 1.7, "weight_kg": 70, "sex": "male", "model": "smplx"},
            "smpl-x.is.tue.mpg.de",
        ),
        (
            {"height_m": 1.7, "weight_kg": 70, "sex": "male", "model": "nope"},
            "model must be one of",
        ),
    ],
)
def test_bad_inputs_raise_clear_errors(
    kwargs: dict, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRYON3D_SMPLX_DIR", raising=False)
    with pytest.raises(ValueError, match=message):
        bodyfit.body_from_measurements(**kwargs)


def test_smplx_backend_with_synthetic_model(tmp_path) -> None:
    from synthetic_smplx import write_synthetic_smplx

    write_synthetic_smplx(tmp_path)
    body = bodyfit.body_from_measurements(
        height_m=1.82, weight_kg=78.0, sex="male", model="smplx", smplx_model_dir=tmp_path
    )
    assert body.model == "smplx"
    assert len(body.joint_names) == 55
    assert abs(body.measurements_m["stature"] - 1.82) <= 0.005
    # y-up SMPL-X became z-up, feet on the floor, facing -y like anny
    assert body.rest_vertices[:, 2].min() == pytest.approx(0.0, abs=1e-9)
    assert np.ptp(body.rest_vertices[:, 2]) == pytest.approx(1.82, abs=0.005)
    head = body.rest_vertices[body.region_mask("head")]
    assert head[:, 1].min() < head[:, 1].mean() - 0.05
    # beta_0 is the synthetic model's scale: a taller body needs a larger one
    assert body.shape_parameters["beta_0"] > 0
    # the same canonical skeleton names as anny's
    _check_skeleton(body)


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tryon3d", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=600,
    )


def test_cli_body_writes_glb_and_json(tmp_path) -> None:
    out = tmp_path / "body"
    result = _run_cli(
        "body",
        "--height",
        "172",
        "--weight",
        "68",
        "--sex",
        "female",
        "--waist",
        "76",
        "-o",
        str(out),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    written = json.loads((out / "body.json").read_text())
    assert printed == written
    cm = written["measurements_cm"]
    assert set(cm) == set(bodyfit.MEASUREMENT_NAMES)
    assert abs(cm["stature"] - 172) <= 0.5 and abs(cm["waist"] - 76) <= 1.0
    assert abs(written["weight_kg"] - 68) <= 1.0
    assert written["model"] == "anny" and written["version"]
    assert (out / "body.glb").stat().st_size > 100_000


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--height", "300", "--weight", "70", "--sex", "male"],
            "height must be between 50 and 250 cm",
        ),
        (
            ["--height", "170", "--weight", "1", "--sex", "male"],
            "weight must be between 10 and 400 kg",
        ),
        (["--height", "200", "--weight", "390", "--sex", "male"], "BMI"),
        (["--height", "170", "--weight", "70", "--sex", "other"], "sex must be"),
        (["--height", "nan", "--weight", "70", "--sex", "male"], "finite"),
    ],
)
def test_cli_bad_input_one_line_exit_2(tmp_path, args: list, message: str) -> None:
    out = tmp_path / "out"
    result = _run_cli("body", *args, "-o", str(out))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert message in lines[-1] and "Traceback" not in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_cli_unwritable_output(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _run_cli(
        "body", "--height", "170", "--weight", "70", "--sex", "male", "-o", str(blocker / "sub")
    )
    assert result.returncode == 2
    assert "cannot write to output folder" in result.stderr and "Traceback" not in result.stderr


def test_named_poses_turn_the_bones_they_name():
    body = cached_body(1.70, 65.0, "female")
    posed = bodyfit.pose_named(body, "arms_down")
    names = list(body.joint_names)
    turned = np.flatnonzero(np.abs(posed.pose).sum(axis=1) > 0)
    assert sorted(names[i] for i in turned) == sorted(bodyfit.NAMED_POSES["arms_down"])
    # the arms came down: the hands are lower, the legs did not move
    hands, legs = (
        body.region_mask("hand_left", "hand_right"),
        body.region_mask("leg_left", "leg_right"),
    )
    assert (posed.vertices[hands, 2].mean() - body.rest_vertices[hands, 2].mean()) < -0.03
    assert np.abs(posed.vertices[legs] - body.rest_vertices[legs]).max() < 0.02
    with pytest.raises(ValueError, match="unknown pose"):
        bodyfit.pose_named(body, "dab")


def test_closed_sets_are_the_literals_bodyfit_defines():
    """The CLI's --model choices (kept literal so that --help imports no stage) and the sex
    check follow bodyfit's BodyModelName and Sex Literals."""
    import argparse
    import typing

    from tryon3d import _cli_body

    parser = argparse.ArgumentParser()
    _cli_body.register(parser.add_subparsers())
    body_parser = next(
        action.choices["body"]
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    model_choices = next(a.choices for a in body_parser._actions if a.dest == "model")
    assert tuple(model_choices) == typing.get_args(bodyfit.BodyModelName) == bodyfit.MODELS
    assert bodyfit.SEXES == typing.get_args(bodyfit.Sex) == ("male", "female")
    assert [bodyfit.check_sex(s) for s in ("F", " Male ", "woman")] == ["female", "male", "female"]
    with pytest.raises(ValueError, match="sex must be"):
        bodyfit.check_sex("x")


# ----------------------------------------------------------------------------- body cache


@pytest.fixture
def body_cache(monkeypatch, tmp_path):
    """The body cache on, in a folder of this test's own; counts the model rebuilds."""
    from tryon3d.bodyfit import _measurements

    monkeypatch.delenv("TRYON3D_NO_BODY_CACHE", raising=False)
    monkeypatch.setenv("TRYON3D_CACHE", str(tmp_path))  # anny's folder is already fixed
    rebuilds = []
    rebuild = _measurements.rebuild_body

    def counting(**kwargs):
        rebuilds.append(kwargs["model"])
        return rebuild(**kwargs)

    monkeypatch.setattr(_measurements, "rebuild_body", counting)
    return tmp_path / "bodies", rebuilds


def _record(body) -> dict:
    return json.loads(json.dumps(bodyfit.body_record(body)))


def _assert_same_body(a, b) -> None:
    """Arrays bit-identical (values, dtype, shape), dicts and names equal."""
    for field in dataclasses.fields(a):
        left, right = getattr(a, field.name), getattr(b, field.name)
        if isinstance(left, np.ndarray):
            assert left.dtype == right.dtype and left.shape == right.shape, field.name
            assert np.array_equal(left, right), field.name
            assert not right.flags.writeable, field.name
        elif field.name in ("landmarks_m", "skeleton_m"):
            assert list(left) == list(right), field.name
            assert all(np.array_equal(left[k], right[k]) for k in left), field.name
        else:
            assert left == right, field.name


def test_body_cache_returns_the_rebuilt_body_bit_for_bit(default_body, body_cache) -> None:
    folder, rebuilds = body_cache
    record = _record(bodyfit.pose_named(default_body, "arms_down"))  # posed: both vertex sets
    rebuilt = bodyfit.body_from_record(record)  # a miss: built and stored
    assert rebuilds == ["anny"] and len(list(folder.glob("*.npz"))) == 1
    cached = bodyfit.body_from_record(record)
    assert rebuilds == ["anny"]  # a hit: no model run
    assert not np.array_equal(cached.vertices, cached.rest_vertices)
    _assert_same_body(rebuilt, cached)
    assert cached.measurements_m["chest"] == rebuilt.measurements_m["chest"] > 0.5


def test_body_cache_misses_on_a_changed_record_or_code(default_body, body_cache, monkeypatch):
    from tryon3d.bodyfit import _body_cache

    folder, rebuilds = body_cache
    record = _record(default_body)
    bodyfit.body_from_record(record)
    changed = json.loads(json.dumps(record))
    changed["shape_parameters"]["weight"] = round(record["shape_parameters"]["weight"] - 0.01, 6)
    other = bodyfit.body_from_record(changed)
    assert rebuilds == ["anny", "anny"] and len(list(folder.glob("*.npz"))) == 2
    assert np.abs(other.rest_vertices - default_body.rest_vertices).max() > 1e-5
    # the code or data that shape a body changed (another tape calibration, say): a new key
    monkeypatch.setattr(_body_cache, "code_digest", lambda: "0" * 64)
    bodyfit.body_from_record(record)
    assert len(rebuilds) == 3 and len(list(folder.glob("*.npz"))) == 3
    # off, SMPL-X (licensed model files) and non-JSON records are never cached
    assert _body_cache.body_cache_key({**record, "model": "smplx"}, model="smplx") is None
    assert _body_cache.body_cache_key({**record, "weight_kg": np.float32(60)}, model="anny") is None
    monkeypatch.setenv("TRYON3D_NO_BODY_CACHE", "1")
    assert _body_cache.body_cache_key(record, model="anny") is None
    bodyfit.body_from_record(record)
    assert len(rebuilds) == 4 and len(list(folder.glob("*.npz"))) == 3


class _Trap:
    """Unpickling this touches a file: proof that a cache entry was unpickled."""

    def __init__(self, path) -> None:
        self.path = path

    def __reduce__(self):
        return (type(self.path).touch, (self.path,))


def test_damaged_body_cache_entries_are_rebuilt_never_unpickled(
    default_body, body_cache, tmp_path
) -> None:
    folder, rebuilds = body_cache
    record = _record(default_body)
    rebuilt = bodyfit.body_from_record(record)
    (entry,) = folder.glob("*.npz")
    whole = entry.read_bytes()
    entry.write_bytes(whole[: len(whole) // 2])  # a run killed while writing, a full disk
    again = bodyfit.body_from_record(record)
    assert rebuilds == ["anny", "anny"] and entry.read_bytes() == whole  # rewritten whole
    _assert_same_body(rebuilt, again)
    # an entry holding a pickled object is refused (allow_pickle=False) and replaced
    trap = tmp_path / "unpickled"
    with entry.open("wb") as handle:
        np.savez(handle, vertices=np.array([_Trap(trap)], dtype=object))
    bodyfit.body_from_record(record)
    assert not trap.exists() and len(rebuilds) == 3 and entry.read_bytes() == whole
    assert not list(folder.glob(".partial-*"))
    _assert_same_body(rebuilt, bodyfit.body_from_record(record))
    assert len(rebuilds) == 3


def test_cached_body_loads_without_torch(default_body, body_cache, tmp_path) -> None:
    import os

    from tryon3d._bodies import body_json

    record = _record(default_body)
    bodyfit.body_from_record(record)  # stored in this test's cache
    path = tmp_path / "body.json"
    path.write_text(json.dumps({**body_json(default_body), "record": record}))
    code = (
        "import sys; from tryon3d._bodies import load_body; "
        f"b = load_body({str(path)!r}); "
        "print(b.vertex_count, round(b.measurements_m['hips'], 6), "
        "sorted(m for m in ('torch', 'anny', 'roma', 'warp') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if k != "TRYON3D_NO_BODY_CACHE"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    hips = round(default_body.measurements_m["hips"], 6)
    assert done.stdout.split("\n")[-2] == f"{default_body.vertex_count} {hips} []"


def test_body_cache_keeps_the_most_recently_used(default_body, body_cache, monkeypatch) -> None:
    import os

    from tryon3d.bodyfit import _body_cache

    folder, _ = body_cache
    monkeypatch.setattr(_body_cache, "MAX_ENTRIES", 2)
    keys = [str(n) * 64 for n in range(3)]
    for age, key in enumerate(keys[:2]):
        path = _body_cache.store_body(key, default_body)
        os.utime(path, (1e9 + age, 1e9 + age))  # written long ago, key 0 first
    assert _body_cache.load_cached_body(keys[0]) is not None  # used now: newest
    _body_cache.store_body(keys[2], default_body)
    assert sorted(p.stem for p in folder.glob("*.npz")) == [keys[0], keys[2]]
    # an entry under another key's name (copied, renamed) is refused and deleted
    (folder / f"{keys[0]}.npz").rename(folder / f"{keys[1]}.npz")
    assert _body_cache.load_cached_body(keys[1]) is None
    assert sorted(p.stem for p in folder.glob("*.npz")) == [keys[2]]
