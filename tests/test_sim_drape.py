"""sim/: drape gates on small analytic scenes (revolved torso + one-seam skirt), CPU."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pytest

import sim

GRAVITY = 9.81


@pytest.fixture(scope="module")
def body():
    return sim.revolved_body()


@pytest.fixture(scope="module")
def skirt():
    return sim.skirt_garment(edge_m=0.02)


@pytest.fixture(scope="module")
def draped(body, skirt):
    return sim.drape(body, skirt)


def _leaned(body, degrees: float):
    angle = np.radians(degrees)
    rot = np.array([[1, 0, 0], [0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)]])
    pivot = np.array([0.0, 0.0, 0.55])
    return body.with_pose((body.rest_vertices - pivot) @ rot.T + pivot, body.joints, body.pose)


def test_skirt_drape_passes_gates(draped, skirt):
    gates = draped.gates
    assert gates.penetrating_vertices == 0
    assert gates.self_intersecting_pairs == 0
    assert gates.max_seam_gap_mm <= 2.0
    assert gates.converged
    assert gates.passed
    assert np.isfinite(draped.positions).all()
    assert draped.positions.shape == skirt.positions.shape
    # a loose flared skirt hanging on the hips is barely stretched
    assert 99.0 < np.percentile(draped.stretch_pct, 50) < 102.0
    assert 100.0 <= gates.max_stretch_pct < skirt.fabric.stretch_limit_pct
    assert (draped.stretch_min_pct <= draped.stretch_pct + 1e-9).all()
    # converged well inside the 4 s budget: equilibrium, not a long fall
    assert draped.frames < 0.5 * 4.0 * 60


def test_skirt_rests_on_the_hips(draped, skirt, body):
    # the waist band (radius 13.4 cm) slides down to where the body is as wide: z ~ 1.01 m
    top = draped.positions[:, 2].max()
    assert 0.98 < top < 1.05
    assert skirt.positions[:, 2].max() - top > 0.03  # it did fall from the placement
    # distances: nothing inside, some vertices in contact (within the contact radius)
    assert draped.body_distance_m.min() > -0.001
    touching = draped.body_distance_m < 0.004
    assert touching.sum() > 20
    assert (draped.contact_pressure_pa[touching] >= 0).all() and draped.contact_pressure_pa.max() > 0
    assert (draped.contact_pressure_pa[draped.body_distance_m > 0.01] == 0).all()
    # hips: garment girth > body girth (0.99 m) by a small positive ease; no chest coverage
    assert 0.0 < draped.ease_m["hips"] < 0.08
    assert np.isnan(draped.ease_m["chest"])


def test_outputs_json_and_glb(draped, body, skirt):
    summary = sim.drape_to_json(draped)
    text = json.dumps(summary)  # serialisable (NaN ease -> null)
    assert "NaN" not in text
    assert set(summary["gates"]) >= {"penetrating_vertices", "self_intersecting_pairs", "max_seam_gap_mm",
                                     "max_stretch_pct", "converged"}
    assert set(summary["ease_cm"]) == set(sim.EASE_REGIONS)
    assert summary["ease_cm"]["hips"] == pytest.approx(draped.ease_m["hips"] * 100, abs=0.01)
    assert summary["timings_s"]["total"] >= summary["timings_s"]["settle"] > 0
    assert summary["device"] == "cpu"
    import trimesh

    scene = trimesh.load(io.BytesIO(sim.drape_to_glb(body, draped)), file_type="glb")
    garment = scene.geometry["garment"]
    assert len(garment.vertices) == skirt.vertex_count
    assert garment.visual.uv.shape == (skirt.vertex_count, 2)
    assert scene.geometry["body"].faces.shape == body.faces.shape


def test_posed_transition_follows_the_body(body, skirt):
    posed = _leaned(body, 15.0)
    result = sim.drape(posed, skirt)
    assert result.metadata["posed"] and result.metadata["transition_frames"] > 0
    assert result.gates.penetrating_vertices == 0
    assert result.gates.self_intersecting_pairs == 0
    assert result.gates.converged
    # the hips moved by ~ (0.88-0.55) * sin(15 deg) = 8.5 cm towards +y... the skirt with them
    shift = result.positions.mean(axis=0) - result.rest_pose_positions.mean(axis=0)
    hips_shift = np.sin(np.radians(15.0)) * (result.rest_pose_positions[:, 2].mean() - 0.55)
    assert abs(shift[1]) == pytest.approx(hips_shift, rel=0.3)
    assert np.isfinite(result.positions).all()


def test_free_fall_matches_half_g_t_squared(body):
    sheet = sim.sheet_garment(width_m=0.3, edge_m=0.05, centre_m=(0.0, 0.0, 2.2))
    frames, dt = 15, 1.0 / 60.0
    result = sim.drape(body, sheet, velocity_damping=0.0, stop_on_convergence=False,
                       max_seconds_simulated=frames * dt, dt=dt)
    assert result.frames == frames
    drop = sheet.positions[:, 2] - result.positions[:, 2]
    t = frames * dt
    # exact: g t^2 / 2; implicit Euler overshoots it by at most a factor (n + 1) / n
    exact = 0.5 * GRAVITY * t * t
    implicit_euler = GRAVITY * dt * dt * frames * (frames + 1) / 2.0
    assert exact * 0.99 < drop.mean() < implicit_euler * 1.005
    assert drop.mean() == pytest.approx(exact, rel=0.07)
    assert np.ptp(drop) < 0.01 * drop.mean()  # a rigid translation: nothing pulls the sheet out of shape
    assert not result.gates.converged


def test_divergence_raises(body, skirt):
    # placed 5x too wide, the skirt snaps inward faster than any cloth should move
    wide = skirt.positions * np.array([5.0, 5.0, 1.0])
    with pytest.raises(sim.DrapeDivergedError, match="2 attempts.*runaway speed"):
        sim.drape(body, dataclasses.replace(skirt, positions=wide), retries=1)


def test_huge_step_is_not_called_converged(body, skirt):
    # Style3D is implicit, so a 2 s step does not explode; it under-resolves the fall and the
    # cloth only looks still. The at-rest probe must not accept that as converged.
    result = sim.drape(body, skirt, dt=2.0, retries=0, max_seconds_simulated=10.0)
    assert not result.gates.converged
    assert result.metadata["probe_acceleration_m_s2"] > 5.0


@pytest.mark.parametrize("kwargs", [{"device": "tpu"}, {"dt": -1.0}, {"iterations": 0}, {"retries": -1}])
def test_bad_arguments(body, skirt, kwargs):
    with pytest.raises(ValueError):
        sim.drape(body, skirt, **kwargs)
