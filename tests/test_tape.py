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
    return measure(vertices, body.vertex_regions, skeleton, model.tape_topology, height_ratios=ratios)


def _moved(body, rotation: np.ndarray, shift: np.ndarray):
    vertices = body.rest_vertices @ rotation.T + shift
    skeleton = {name: point @ rotation.T + shift for name, point in body.skeleton_m.items()}
    return vertices, skeleton


def test_tape_reads_the_same_body_anywhere(default_body) -> None:
    body = default_body
    base, landmarks = _tape(body, body.rest_vertices, dict(body.skeleton_m))
    assert set(base) == set(bodyfit.MEASUREMENT_NAMES)
    angle = np.radians(127.0)
    turn = np.array([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]])
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
    m = {name: value * 100 for name, value in cached_body(height_m, weight_kg, sex).measurements_m.items()}
    # Girths nest as on a person: hips over thigh, thigh over lower thigh and calf, calf over
    # ankle, biceps over forearm over wrist, neck base over neck.
    assert m["hips"] > m["thigh_max"] >= m["thigh"] > m["lower_thigh"] > m["ankle"]
    assert m["calf"] > m["ankle"] and m["knee"] > m["ankle"]
    assert m["biceps"] > m["wrist"] and m["forearm"] > m["wrist"]
    assert m["neck_base"] > m["neck"]
    # Ranges of ANSUR II (1st-99th percentile, widened by 10 %) for these sizes.
    ranges = {"ankle": (17, 30), "wrist": (12, 21), "calf": (28, 48), "knee": (30, 48), "across_back": (30, 55),
              "crotch_length": (50, 90), "waist_to_hip_height": (8, 30), "iso_waist": (55, 110)}
    for name, (low, high) in ranges.items():
        assert low <= m[name] <= high, f"{name} {m[name]:.1f} cm outside {low}-{high}"
    # Lengths add up: the arm from the shoulder point is upper arm plus forearm.
    assert m["sleeve_outseam"] == pytest.approx(m["acromion_radiale"] + m["radiale_stylion"])
    assert m["waist_to_knee_height"] > m["waist_to_hip_height"] > 0
