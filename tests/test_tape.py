"""bodyfit tape: readings independent of where the body stands, and plausible on real bodies."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import cached_body

from tryon3d import bodyfit
from tryon3d.bodyfit._anny_model import load_anny_model
from tryon3d.bodyfit._tape import measure


def _tape(body, vertices, skeleton):
    model = load_anny_model()
    ratios = body.inputs.get("height_ratios", {})
    return measure(
        vertices, body.vertex_regions, skeleton, model.tape_topology, height_ratios=ratios
    )


def _moved(body, rotation: np.ndarray, shift: np.ndarray):
    vertices = body.rest_vertices @ rotation.T + shift
    skeleton = {name: point @ rotation.T + shift for name, point in body.skeleton_m.items()}
    return vertices, skeleton


def test_tape_reads_the_same_body_anywhere(default_body) -> None:
    body = default_body
    base, landmarks = _tape(body, body.rest_vertices, dict(body.skeleton_m))
    assert set(base) == set(bodyfit.MEASUREMENT_NAMES)
    angle = np.radians(127.0)
    turn = np.array(
        [[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]]
    )
    mirror = np.diag([-1.0, 1.0, 1.0])
    cases = {
        "translated": (np.eye(3), np.array([1.3, -0.7, 0.25])),
        "turned": (turn, np.zeros(3)),
        "mirrored": (mirror, np.zeros(3)),
        "mirrored, turned, moved": (turn @ mirror, np.array([-2.0, 0.4, -0.1])),
    }
    for label, (rotation, shift) in cases.items():
        moved, moved_landmarks = _tape(body, *_moved(body, rotation, shift))
        worst = max(abs(moved[name] - base[name]) for name in base)
        assert worst < 1e-3, f"{label}: a reading moved by {worst * 1000:.2f} mm"
        # Landmarks come back in the input frame: they move with the body.
        expected = landmarks["hips"] @ rotation.T + shift
        assert np.linalg.norm(moved_landmarks["hips"] - expected) < 1e-3, label


@pytest.mark.parametrize("height_m, weight_kg, sex", [(1.78, 75.0, "male"), (1.62, 58.0, "female")])
def test_tape_reads_plausible_girths(height_m: float, weight_kg: float, sex: str) -> None:
    m = {
        name: value * 100
        for name, value in cached_body(height_m, weight_kg, sex).measurements_m.items()
    }
    # Girths nest as on a person: hips over thigh, thigh over lower thigh and calf, calf over
    # ankle, biceps over forearm over wrist, neck base over neck.
    assert m["hips"] > m["thigh_max"] >= m["thigh"] > m["lower_thigh"] > m["ankle"]
    assert m["calf"] > m["ankle"] and m["knee"] > m["ankle"]
    assert m["biceps"] > m["wrist"] and m["forearm"] > m["wrist"]
    assert m["neck_base"] > m["neck"]
    # Ranges of ANSUR II (1st-99th percentile, widened by 10 %) for these sizes.
    ranges = {
        "ankle": (17, 30),
        "wrist": (12, 21),
        "calf": (28, 48),
        "knee": (30, 48),
        "across_back": (30, 55),
        "crotch_length": (50, 90),
        "waist_to_hip_height": (8, 30),
        "iso_waist": (55, 110),
    }
    for name, (low, high) in ranges.items():
        assert low <= m[name] <= high, f"{name} {m[name]:.1f} cm outside {low}-{high}"
    # Lengths against stature, ANSUR II's 1st-99th percentiles (both sexes): the mid-patella, not
    # anny's knee joint (which sits at 0.32 of stature), and the crotch tape's top closed at the
    # waist level (a ragged top read up to 25 cm over).
    for name, (low, high) in {
        "knee_height": (0.254, 0.301),
        "crotch_length": (0.302, 0.441),
    }.items():
        ratio = m[name] / m["stature"]
        assert low <= ratio <= high, f"{name} {ratio:.3f} x stature outside {low}-{high}"
    # Lengths add up: the arm from the shoulder point is upper arm plus forearm, less the 1.6 %
    # by which ANSUR's taped sleeve outseam falls short of its two caliper lengths.
    parts = m["acromion_radiale"] + m["radiale_stylion"]
    assert m["sleeve_outseam"] == pytest.approx(0.984 * parts)
    assert m["waist_to_knee_height"] > m["waist_to_hip_height"] > 0


# Both sexes, BMI 17-40, 150-200 cm (four of them shared with test_body's cached bodies).
PROFILE_BODIES = [
    (1.50, 90.0, "female"),
    (1.62, 58.0, "female"),
    (1.70, 49.0, "female"),
    (1.65, 80.0, "female"),
    (1.78, 75.0, "male"),
    (2.00, 68.0, "male"),
    (1.85, 120.0, "male"),
    (1.95, 70.0, "male"),
]
_BULGE_CM = 1.0  # a bump of a limb profile the population does not have
_THIGH_BULGE_CM = 1.5  # the thigh's largest girth over its girth near the crotch (worst: 1.4)


def _peaks(profile: np.ndarray, prominence: float) -> int:
    """Local maxima standing at least ``prominence`` over the lowest point on each side."""
    count = 0
    for i in range(1, len(profile) - 1):
        if (
            profile[i] >= profile[i - 1]
            and profile[i] > profile[i + 1]
            and (
                profile[i] - profile[: i + 1].min() >= prominence
                and profile[i] - profile[i:].min() >= prominence
            )
        ):
            count += 1
    return count


def _leg_profile(body, top_z: float, bottom_z: float, step: float = 0.01) -> np.ndarray:
    from tryon3d.bodyfit._tape import _REGION_SETS, _side_girth

    edges = load_anny_model().tape_topology.edges_by_regions[_REGION_SETS["hips"]]
    levels = np.arange(top_z, bottom_z, -step)
    return (
        np.array(
            [
                _side_girth(
                    body.rest_vertices, edges, np.array([0, 0, z]), np.array([0, 0, 1.0]), 1.0
                )
                for z in levels
            ]
        )
        * 100
    )


@pytest.mark.parametrize("height_m, weight_kg, sex", PROFILE_BODIES)
def test_body_profiles_are_plausible(height_m: float, weight_kg: float, sex: str) -> None:
    from tryon3d.bodyfit._shape_prior import load_measurement_prior

    body = cached_body(height_m, weight_kg, sex)
    m = body.measurements_m
    skeleton = body.skeleton_m
    crotch_z = float(body.landmarks_m["crotch"][2])
    knee_z, ankle_z = float(skeleton["knee_left"][2]), float(skeleton["ankle_left"][2])
    thigh = _leg_profile(body, crotch_z - 0.005, knee_z)
    # The leg is largest at the top: within 3 cm below the crotch it reaches its largest girth
    # (to 1.5 cm) between the crotch and the knee.
    near_crotch = thigh[:6].max()
    assert thigh.max() - near_crotch <= _THIGH_BULGE_CM, (
        f"thigh bulges {thigh.max() - near_crotch:.1f} cm below the crotch"
    )
    # Below the knee: one calf, then down to the ankle.
    shin = _leg_profile(body, knee_z, ankle_z + 0.03)
    assert _peaks(shin, _BULGE_CM) <= 1, "shin profile has more than one calf"
    # The neck lies within the population's range for the body's size (3 standard deviations).
    predicted = load_measurement_prior().predict(height_m=height_m, weight_kg=weight_kg, sex=sex)
    mean, std = predicted["neck"]
    assert abs(m["neck"] - mean) <= 3 * std, (
        f"neck {m['neck'] * 100:.1f} cm vs {mean * 100:.1f} +- {std * 100:.1f}"
    )
    # The neck does not narrow below its ANSUR girth: the base is the wider end.
    assert m["neck_base"] > m["neck"]


def test_measure_cli_reads_body_json_and_an_anny_glb(tmp_path, default_body) -> None:
    import json
    import subprocess
    import sys

    from conftest import REPO_ROOT

    from tryon3d._bodies import save_body

    save_body(default_body, tmp_path / "body")
    runs = {
        "json": ["measure", str(tmp_path / "body" / "body.json"), "-o", str(tmp_path / "m1")],
        # Our GLB is y-up with its UV seams split: the tape maps it back to anny's vertices.
        "glb": [
            "measure",
            str(tmp_path / "body" / "body.glb"),
            "--definitions",
            "iso8559",
            "-o",
            str(tmp_path / "m2"),
        ],
    }
    for label, args in runs.items():
        result = subprocess.run(
            [sys.executable, "-m", "tryon3d", *args], capture_output=True, text=True, cwd=REPO_ROOT
        )
        assert result.returncode == 0, f"{label}: {result.stderr}"
    first = json.loads((tmp_path / "m1" / "measurements.json").read_text())
    second = json.loads((tmp_path / "m2" / "measurements.json").read_text())
    assert set(first["measurements_cm"]) == set(bodyfit.MEASUREMENT_NAMES)
    assert first["labels"]["hips"] == "ANSUR II buttockcircumference"
    assert second["labels"]["waist"].startswith("ISO 8559-1")
    assert second["measurements_cm"]["waist"] == second["measurements_cm"]["iso_waist"]
    assert second["labels"]["iso_shoulder_width"].startswith("ISO 8559-1 shoulder width")
    # The mesh carries no skeleton: the joints solved from it give the same limb readings.
    for name in (
        "thigh",
        "calf",
        "ankle",
        "wrist",
        "biceps",
        "sleeve_outseam",
        "inseam",
        "stature",
    ):
        assert abs(first["measurements_cm"][name] - second["measurements_cm"][name]) < 0.1, name
    svg = (tmp_path / "m1" / "tape.svg").read_text()
    assert svg.startswith("<svg") and svg.count("<line") >= 10 and "hips" in svg
    bad = subprocess.run([sys.executable, "-m", "tryon3d", "measure",
                          str(tmp_path / "nothing.obj"), "-o", str(tmp_path / "m3")],
                         capture_output=True, text=True, cwd=REPO_ROOT)  # fmt: skip
    assert (
        bad.returncode == 2
        and len(bad.stderr.strip().splitlines()) == 1
        and "not found" in bad.stderr
    )


def test_crotch_tape_spans_front_crotch_and_back_below_the_waist() -> None:
    from tryon3d.bodyfit._tape import _crotch_length

    # Side view of a box-like trunk, 20 cm deep, waist 25 cm over the crotch, its top ragged
    # (vertices stop 1-15 mm under the waist): front, crotch and back add up to 70 cm.
    rng = np.random.default_rng(3)
    y, z = np.meshgrid(np.linspace(-0.1, 0.1, 21), np.linspace(0.8, 1.05, 26))
    points = np.column_stack([np.zeros(y.size), y.ravel(), z.ravel()])
    points = points[points[:, 2] < 1.05 - rng.uniform(0.001, 0.015, len(points))]
    waist_section = np.array([[0.0, -0.1, 1.05], [0.0, 0.1, 1.05], [0.3, 0.0, 1.05]])
    length = _crotch_length(points, waist_section, 0.8, 1.05)
    assert length == pytest.approx(0.70, abs=1e-6)


def test_iso_shoulder_arc_follows_the_surface_over_the_cervicale() -> None:
    from tryon3d.bodyfit._tape import _shoulder_arc

    # A cylinder lying front to back (radius 20 cm, 64 sides): from one side over the top to the
    # other the tape is half its circumference; the acromions' chord and the cylinder's lower
    # half are not tape.
    sides, radius = 64, 0.2
    angles = 2 * np.pi * np.arange(sides) / sides
    ring = np.column_stack(
        [radius * np.cos(angles), np.zeros(sides), 1.3 + radius * np.sin(angles)]
    )
    vertices = np.concatenate([ring - np.array([0.0, 0.3, 0.0]), ring + np.array([0.0, 0.3, 0.0])])
    i, j = np.arange(sides), (np.arange(sides) + 1) % sides
    edges = np.concatenate(
        [
            np.column_stack(pair)
            for pair in ((i, i + sides), (i, j), (i + sides, j + sides), (i, j + sides))
        ]
    )
    left, right, top = (np.array(p) for p in ([0.2, 0, 1.3], [-0.2, 0, 1.3], [0, 0, 1.5]))
    assert _shoulder_arc(vertices, edges, left, right, top) == pytest.approx(
        np.pi * radius, rel=1e-3
    )
    # A dent in the top (a hollow between neck and shoulder) is bridged, as by a taut tape.
    dented = vertices.copy()
    dented[np.isin(np.arange(len(vertices)) % sides, [20, 21]), 2] -= 0.03
    assert _shoulder_arc(dented, edges, left, right, top) == pytest.approx(np.pi * radius, rel=1e-2)


def test_iso_shoulder_width_runs_over_the_back(default_body) -> None:
    m = default_body.measurements_m
    # Over the back and up to the cervicale, the tape is longer than the acromions' straight
    # breadth, by less than a fifth of it.
    assert m["shoulder_breadth"] < m["iso_shoulder_width"] < 1.2 * m["shoulder_breadth"]
    assert bodyfit.tape_definitions("iso8559")["iso_shoulder_width"].startswith("ISO 8559-1")


def test_given_limb_lengths_are_met() -> None:
    # The fit reaches arm and leg lengths the population would not predict (3-4 cm off it).
    base = cached_body(1.70, 65.0, "female").measurements_m
    tape = {
        "sleeve_outseam": base["sleeve_outseam"] + 0.03,
        "knee_height": base["knee_height"] - 0.03,
    }
    body = bodyfit.body_from_measurements(height_m=1.70, weight_kg=65.0, sex="female", tape_m=tape)
    for name, value in tape.items():
        assert abs(body.measurements_m[name] - value) < 0.005, (
            f"{name} {body.measurements_m[name] * 100:.1f} cm, asked {value * 100:.1f} cm"
        )
    assert abs(body.measurements_m["stature"] - 1.70) < 0.005


def test_tape_on_an_anny_mesh_facing_any_way(default_body) -> None:
    """An anny mesh file as an exporter may turn it: y-up, facing +z, -z or +x, or mirrored.
    (The joints solved from the mesh once assumed anny's facing: turned 10 degrees the wrist
    read 8 cm over, turned 90 the largest thigh 70 cm under.)"""
    y_up = default_body.rest_vertices @ np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]]).T
    faces = default_body.faces
    base = bodyfit.measure_mesh(y_up, faces).measurements_m
    for name in ("stature", "thigh", "wrist"):  # (the body's landmark heights are its sex's)
        assert abs(base[name] - default_body.measurements_m[name]) < 0.002, name
    for label, degrees, mirror in (
        ("10", 10.0, 1.0),
        ("90", 90.0, 1.0),
        ("mirrored 180", 180.0, -1.0),
    ):
        a = np.radians(degrees)
        turn = np.array(
            [[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0, np.cos(a)]]
        )
        moved = (y_up * [mirror, 1.0, 1.0]) @ turn.T + np.array([0.4, 0.1, -1.0])
        tape = bodyfit.measure_mesh(moved, faces).measurements_m
        worst = max(base, key=lambda name: abs(tape[name] - base[name]))
        assert abs(tape[worst] - base[worst]) < 1e-3, f"{label}: {worst} moved"


def test_tape_on_an_smplx_mesh_in_its_own_frame(tmp_path) -> None:
    from synthetic_smplx import write_synthetic_smplx

    from tryon3d.bodyfit._smplx_model import SMPLX_TO_ENGINE, load_smplx_model

    write_synthetic_smplx(tmp_path)
    model = load_smplx_model(tmp_path)
    vertices, joints = model.rest_geometry(np.full((1, 10), 0.3), sex="female", age_years=30.0)
    expected, _ = measure(
        vertices[0], model.vertex_regions, model.skeleton(joints[0]), model.tape_topology
    )
    # The same body as a user's file holds it: SMPL-X's frame (y-up, facing +z), placed anywhere.
    own_frame = vertices[0] @ SMPLX_TO_ENGINE + np.array([0.3, 1.1, -0.2])
    tape = bodyfit.measure_mesh(own_frame, model.faces, smplx_model_dir=tmp_path, model="smplx")
    assert tape.source == "SMPL-X mesh"
    worst = max(abs(tape.measurements_m[name] - expected[name]) for name in expected)
    assert worst < 1e-6, f"a reading moved by {worst * 1000:.3f} mm"
    # Girths are read on the right heights: z-up, feet on the floor, the waist at ANSUR's ratio.
    stature = tape.measurements_m["stature"]
    assert tape.vertices[:, 2].min() == pytest.approx(0.0, abs=1e-9)
    assert tape.landmarks_m["waist"][2] == pytest.approx(0.600 * stature, abs=1e-6)
    assert 0.45 * stature < tape.landmarks_m["hips"][2] < tape.landmarks_m["waist"][2]
    assert tape.landmarks_m["waist"][2] < tape.landmarks_m["chest"][2] < 0.8 * stature
    with pytest.raises(ValueError, match="not SMPL-X's"):
        bodyfit.measure_mesh(own_frame[:-1], model.faces, smplx_model_dir=tmp_path, model="smplx")
