"""Garments made elsewhere: GarmentCode pattern specifications and garment meshes (OBJ, Draco
GLB, the shared simulator dress), loaded, placed on a body, draped and gated."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest

from tests._garment_files import cone_skirt, write_draco_glb, write_obj, z_up_m_to_y_up
from tests.conftest import SHARED_DIR

GARMENTCODE_DIR = SHARED_DIR / "garments" / "garmentcode"
MESH_DIR = SHARED_DIR / "garments" / "meshes"
DXF_FOLDER = SHARED_DIR / "garments" / "dxf"
needs_shared = pytest.mark.skipif(
    not GARMENTCODE_DIR.is_dir(), reason="../shared/garments is absent"
)


@pytest.fixture(scope="module")
def body(default_body):
    return default_body


@pytest.fixture(scope="module")
def skirt_files(tmp_path_factory):
    """Our A-line skirt as a y-up centimetre OBJ and a y-up metre Draco GLB, split along a UV
    seam."""
    folder = tmp_path_factory.mktemp("meshes")
    v, f, uv = cone_skirt()
    obj = write_obj(folder / "skirt_cm_yup.obj", z_up_m_to_y_up(v, 100.0), f, uv)
    glb = write_draco_glb(
        folder / "skirt_draco.glb",
        z_up_m_to_y_up(v, 1.0),
        f,
        uv,
        texture_transform={"offset": [0.5, 0.0], "scale": [2.0, 2.0]},
    )
    return {"obj": obj, "glb": glb, "vertices": v, "uv": uv}


# --- GarmentCode ---------------------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize("stem", ["shirt_mean", "dress_pencil"])
def test_shared_garmentcode_files_load_with_their_stitches(stem):
    from tryon3d import garments

    path = GARMENTCODE_DIR / f"{stem}_specification.json"
    spec = json.loads(path.read_text())
    pattern = garments.read_garmentcode(path)
    garments.validate_pattern(pattern)
    assert [p.name for p in pattern.panels] == list(spec["pattern"]["panels"])
    assert len(pattern.seams) == len(spec["pattern"]["stitches"])
    assert all(p.area > 0 for p in pattern.panels)  # counter-clockwise seen from outside
    # the outlines keep GarmentCode's lengths, in metres (units_in_meter = 100)
    first = next(iter(spec["pattern"]["panels"].values()))
    v = np.asarray(first["vertices"]) / 100.0
    e0 = first["edges"][0]["endpoints"]
    edge = pattern.panels[0].edges[0]
    assert np.linalg.norm(edge.end - edge.start) == pytest.approx(
        np.linalg.norm(v[e0[1]] - v[e0[0]]), abs=1e-9
    )
    parts = {p.name: p.placement.part for p in pattern.panels}
    if stem == "shirt_mean":
        assert {parts[n] for n in ("left_sleeve_f", "left_sleeve_b")} == {"arm_left"}
        assert {parts[n] for n in ("right_sleeve_f", "right_sleeve_b")} == {"arm_right"}
        assert {parts[n] for n in ("left_ftorso", "right_btorso")} == {"torso"}
        # front panels face front, back panels back; their centre lines on the body's midline
        assert pattern.panel("left_ftorso").placement.side == "front"
        assert pattern.panel("left_btorso").placement.side == "back"
        assert pattern.panel("left_ftorso").placement.center_x == pytest.approx(0.0, abs=1e-9)
        # the shirt's finished chest: four torso panels of 26-29 cm
        assert pattern.girths_m["chest"][0] == pytest.approx(
            2 * (0.2869053 + 0.26221855), abs=0.002
        )
    else:
        assert parts["skirt_front"] == parts["skirt_back"] == "skirt"
        assert pattern.metadata["gathered_seams"]  # the bodice is gathered into the skirt


@pytest.mark.parametrize("family", ["tshirt", "longsleeve", "dress", "skirt", "trousers"])
def test_our_families_round_trip_through_garmentcode(family):
    from tryon3d import garments

    for size in ("XS", "XL"):
        pattern = garments.draft(family, size)
        spec = json.loads(json.dumps(garments.pattern_to_garmentcode(pattern)))
        assert spec["properties"]["units_in_meter"] == 100
        back = garments.read_garmentcode(spec, name=pattern.name)
        assert back.seams == pattern.seams
        for ours, theirs in zip(pattern.panels, back.panels, strict=True):
            assert theirs.name == ours.name
            gap = np.abs(
                garments.panel_outline(ours, 16) - garments.panel_outline(theirs, 16)
            ).max()
            assert gap < 1e-4, f"{family} {size} {ours.name}: outline moved {gap * 1000:.3f} mm"
            assert theirs.placement.part in (
                ours.placement.part,
                "skirt",
            )  # legs read back as legs or skirt
            assert theirs.placement.side == ours.placement.side


def test_garmentcode_bad_input_is_one_line(tmp_path):
    from tryon3d import garments

    with pytest.raises(ValueError, match="not a GarmentCode specification"):
        garments.read_garmentcode({"pattern": {}})
    square = {
        "vertices": [[0, 0], [10, 0], [10, 10], [0, 10]],
        "edges": [{"endpoints": [i, (i + 1) % 4]} for i in range(4)],
    }
    with pytest.raises(ValueError, match="over the limit"):
        garments.read_garmentcode({"pattern": {"panels": {f"p{i}": square for i in range(300)}}})
    with pytest.raises(ValueError, match="has no edge 9"):
        garments.read_garmentcode(
            {
                "pattern": {
                    "panels": {"a": square, "b": square},
                    "stitches": [[{"panel": "a", "edge": 9}, {"panel": "b", "edge": 0}]],
                }
            }
        )
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="cannot read GarmentCode"):
        garments.load_garment(bad)


def test_unknown_family_or_suffix_is_one_line(tmp_path):
    from tryon3d import garments

    with pytest.raises(ValueError, match="unknown garment family"):
        garments.load_garment("tuxedo")
    with pytest.raises(ValueError, match="unsupported garment file"):
        garments.load_garment(tmp_path / "shirt.xyz")


@needs_shared
def test_garmentcode_shirt_drapes_on_our_body_with_gates_passed(body):
    from tryon3d import garments, sim

    garment = garments.load_garment(
        GARMENTCODE_DIR / "shirt_mean_specification.json", body=body, edge_length_m=0.04
    )
    drape = sim.drape(body, garment, max_seconds_simulated=3.0)
    assert drape.gates.passed, drape.gates.reasons()
    # worn: it covers the chest all round, hangs from the shoulders, and has ease at the chest
    z_chest = float(body.landmarks_m["chest"][2])
    z_shoulder = float(body.landmarks_m["acromion_left"][2])
    top = float(drape.rest_pose_positions[:, 2].max())
    assert z_shoulder - 0.02 < top < z_shoulder + 0.12
    assert float(drape.rest_pose_positions[:, 2].min()) < z_chest - 0.15
    assert 0.05 < drape.ease_m["chest"] < 0.35  # a loose shirt: 110 cm on a 91 cm chest


# --- meshes --------------------------------------------------------------------------------


def test_a_cm_y_up_obj_is_detected_welded_and_placed(body, skirt_files):
    from tryon3d import garments

    garment = garments.load_garment(skirt_files["obj"], body=body)
    log = " | ".join(garment.metadata["import_log"])
    assert "units cm" in log and "up axis +y" in log and garment.metadata["kind"] == "bottom"
    # the split column (15 rows) sewn to its twin, each keeping its own UV
    assert len(garment.seam_pairs) == 15
    pairs = garment.seam_pairs
    assert np.allclose(garment.uv[pairs[:, 0], 0], 0.0) and np.allclose(
        garment.uv[pairs[:, 1], 0], 1.0
    )
    rest = garment.metadata["rest_positions"]
    assert np.ptp(rest[:, 2]) == pytest.approx(0.5, abs=1e-3)  # 50 cm long, now z-up in metres
    # its waist opening on the body's waist
    top = garment.positions[garment.positions[:, 2] > garment.positions[:, 2].max() - 0.01]
    assert float(garment.positions[:, 2].max()) == pytest.approx(
        float(body.landmarks_m["waist"][2]), abs=0.03
    )
    assert np.linalg.norm(top[:, :2].mean(axis=0) - body.landmarks_m["waist"][:2]) < 0.06


def test_a_draco_glb_loads_with_its_texture_transform(body, skirt_files):
    from tryon3d import garments

    garment = garments.load_garment(skirt_files["glb"])
    log = " | ".join(garment.metadata["import_log"])
    assert "Draco" in log and "up axis +y (glTF)" in log and "KHR_texture_transform" in log
    assert garment.vertex_count == len(skirt_files["vertices"]) and len(garment.seam_pairs) == 15
    # same geometry as the OBJ (to Draco's 16-bit quantization), UVs scaled 2x and offset 0.5
    obj = garments.load_garment(skirt_files["obj"])
    assert np.abs(garment.positions - obj.positions).max() < 1e-4
    assert np.allclose(garment.uv[:, 0], 2.0 * obj.uv[:, 0] + 0.5, atol=1e-3)


def test_a_generated_mesh_drapes_with_gates_passed(body, skirt_files):
    from tryon3d import garments, sim

    garment = garments.load_garment(skirt_files["obj"], body=body)
    drape = sim.drape(body, garment, max_seconds_simulated=3.0)
    assert drape.gates.passed, drape.gates.reasons()
    assert drape.gates.max_seam_gap_mm == 0.0  # the UV seam stayed sewn
    assert np.isfinite(drape.tape_ease_m["hips"]) and drape.tape_ease_m["hips"] > 0.0


def _gates(body, garment, positions):
    from tryon3d.sim._import_gates import import_gate_failures

    return import_gate_failures(body, garment, positions)


def test_import_gates_catch_torn_off_body_and_wrong_scale(body, skirt_files, tmp_path):
    from tryon3d import garments

    garment = garments.load_garment(skirt_files["obj"], body=body)
    assert _gates(body, garment, garment.positions) == ()
    # torn: the seam column opened by 1.5 mm, so nothing is welded
    v, f, uv = cone_skirt()
    columns = 41
    v[np.arange(15) * columns + 40, 0] += 0.0015
    torn = garments.load_garment(
        write_obj(tmp_path / "torn.obj", z_up_m_to_y_up(v, 100.0), f, uv), body=body
    )
    assert len(torn.seam_pairs) == 0
    assert any(line.startswith("torn:") for line in _gates(body, torn, torn.positions))
    # beside the body instead of around it
    beside = garment.positions + np.array([0.8, 0.0, 0.0])
    assert any(line.startswith("not on the body") for line in _gates(body, garment, beside))
    # three times too wide
    center = garment.positions.mean(axis=0)
    wide = center + (garment.positions - center) * np.array([3.0, 3.0, 1.0])
    assert any(line.startswith("wrong scale") for line in _gates(body, garment, wide))


@needs_shared
def test_the_shared_simulator_dress_loads_decimated_and_placed_within_10_s(body):
    from tryon3d import garments

    started = time.process_time()  # CPU seconds: the shared test machine's wall time is noisy
    garment = garments.load_garment(MESH_DIR / "codim_ipc_dress_knife.obj", body=body)
    seconds = time.process_time() - started
    log = " | ".join(garment.metadata["import_log"])
    assert seconds <= 10.0, f"28k-vertex load + place took {seconds:.1f} CPU s"
    assert "units m" in log and "up axis +y" in log
    # the file's T-posed avatar, hair and eyes are not cloth; its 14 panels touch, unsewn
    assert "left out 8 closed part(s)" in log and "where pieces touch" in log
    decimated = re.search(r"decimated (\d+) ->", log)
    assert decimated and 12000 < int(decimated[1]) < 17000  # the dress alone: 15k of 28k
    assert 1000 < garment.vertex_count < 9000
    # a mini dress for a 1.5 m avatar (0.68 m long, graded in girth only): a top by its length
    assert garment.metadata["kind"] in ("top", "dress")
    z = garment.positions[:, 2]
    assert float(z.max()) == pytest.approx(
        float(body.landmarks_m["acromion_left"][2]) + 0.06, abs=0.03
    )
    assert _gates(body, garment, garment.positions) == ()


def _two_piece_skirt(gap_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cone skirt cut into a front and a back piece (separate vertices, as panel-wise
    exports and simulator inputs write them), the back's side edges ``gap_m`` from the
    front's."""
    v, f, uv = cone_skirt()
    columns = 41
    column = np.arange(len(v)) % columns
    back = (column > 20) | (column == 0)
    v, uv = np.concatenate([v, v[column == 20]]), np.concatenate([uv, uv[column == 20]])
    twin = np.full(columns * 15, -1)
    twin[np.flatnonzero(column == 20)] = np.arange(len(back), len(v))
    faces = f.copy()
    on_back = back[f].all(axis=1) | ((column[f] >= 20).all(axis=1) & (column[f] > 20).any(axis=1))
    faces[on_back] = np.where(twin[f[on_back]] >= 0, twin[f[on_back]], f[on_back])
    moved = np.r_[np.flatnonzero(back), np.arange(len(back), len(v))]
    v[moved, :2] *= 1.0 + gap_m / 0.15  # radius ~0.15 m: the back's edges gap_m out
    return v, faces, uv


def test_pieces_touching_are_sewn_and_a_cut_in_one_piece_stays_torn(body, tmp_path):
    from tryon3d import garments

    v, f, uv = _two_piece_skirt(0.002)
    path = write_obj(tmp_path / "two_pieces.obj", z_up_m_to_y_up(v, 100.0), f, uv)
    garment = garments.load_garment(path, body=body)
    log = " | ".join(garment.metadata["import_log"])
    assert "where pieces touch" in log, log
    assert _gates(body, garment, garment.positions) == ()
    # the same gap inside one piece is a cut (or a UV seam left open): never sewn, still torn
    v, f, uv = cone_skirt()
    v[np.arange(15) * 41 + 40, :2] *= 1.0 + 0.002 / 0.15
    cut = garments.load_garment(write_obj(tmp_path / "cut.obj", v * 100.0, f, uv), body=body)
    assert "where pieces touch" not in " | ".join(cut.metadata["import_log"])
    assert any(line.startswith("torn:") for line in _gates(body, cut, cut.positions))


def test_an_avatar_in_the_file_is_left_out(body, tmp_path):
    from tryon3d import garments

    v, f, uv = cone_skirt()
    # a closed box "avatar" inside the skirt, as simulator inputs and CLO scenes carry
    box = np.array([[x, y, z] for x in (-0.1, 0.1) for y in (-0.1, 0.1) for z in (-0.6, 0.1)])
    hull = np.array(
        [[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1], [2, 3, 7], [2, 7, 6]]
    )
    hull = np.concatenate([hull, [[0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]]])
    both_v = np.concatenate([v, box])
    both_f = np.concatenate([f, hull + len(v)])
    both_uv = np.concatenate([uv, np.zeros((8, 2))])
    path = write_obj(tmp_path / "with_avatar.obj", z_up_m_to_y_up(both_v, 100.0), both_f, both_uv)
    garment = garments.load_garment(path, body=body)
    assert "left out 1 closed part(s)" in " | ".join(garment.metadata["import_log"])
    assert garment.vertex_count == len(v)


def test_mesh_units_that_fit_nothing_are_refused(tmp_path):
    from tryon3d import garments

    v, f, uv = cone_skirt()
    path = write_obj(tmp_path / "huge.obj", v * 100000.0, f, uv)  # a 50 km skirt
    with pytest.raises(ValueError, match="fits no unit"):
        garments.load_garment(path)


def test_uvs_in_pattern_units_become_the_rest_shape_and_a_texture_atlas_does_not(tmp_path):
    from tryon3d import garments

    v, f, _ = cone_skirt(waist_m=1.0, hem_m=1.0)  # a tube: unrolled, an isometric pattern
    radius = np.linalg.norm(v[:, :2], axis=1)
    angle = np.mod(np.arctan2(v[:, 1], v[:, 0]), 2 * np.pi)
    angle[np.arange(15) * 41 + 40] = 2 * np.pi  # the split column's twin at the far end
    slant = 0.5
    flat = np.c_[radius * angle, -v[:, 2]] * 1000.0  # in millimetres, as CLO writes them
    garment = garments.load_garment(
        write_obj(tmp_path / "clo.obj", z_up_m_to_y_up(v, 100.0), f, flat)
    )
    assert garment.pattern_positions is not None
    assert "rest shape: the UV layout" in " | ".join(garment.metadata["import_log"])
    assert np.ptp(garment.pattern_positions[:, 1]) == pytest.approx(
        slant, rel=0.02
    )  # back in metres
    _, _, atlas = cone_skirt(waist_m=1.0, hem_m=1.0)
    plain = garments.load_garment(
        write_obj(tmp_path / "atlas.obj", z_up_m_to_y_up(v, 100.0), f, atlas)
    )
    assert plain.pattern_positions is None


def test_cli_drape_of_a_file_exits_3_when_its_gates_fail(
    monkeypatch, tmp_path, capsys, body, skirt_files
):
    import dataclasses

    from tests._render_scenes import tube_drape
    from tryon3d import _bodies, sim
    from tryon3d.cli import main

    failed = dataclasses.replace(
        tube_drape(),
        gates=sim.DrapeGates(
            0,
            0,
            0.0,
            100.0,
            True,
            failures=("not on the body: it goes 30% of the way round the hips, not around it",),
        ),
    )
    seen = {}

    def fake_drape(drape_body, garment, **options):
        seen["garment"] = garment
        return failed

    monkeypatch.setattr(_bodies, "load_body", lambda path: body)
    monkeypatch.setattr(sim, "drape", fake_drape)
    out = tmp_path / "out"
    code = main(
        ["drape", "--body", "body.json", "--garment", str(skirt_files["obj"]), "-o", str(out)]
    )
    assert code == 3
    assert "the drape failed its gates: not on the body: it goes 30%" in capsys.readouterr().err
    assert seen["garment"].metadata["kind"] == "bottom"  # the file went through the mesh importer
    summary = json.loads((out / "drape.json").read_text())
    assert summary["gates"]["passed"] is False and summary["gates"]["failures"]


@needs_shared
def test_sleeveless_top_is_judged_round_the_chest_under_its_armholes(body):
    """A tank's deep armholes leave its sides open at the bust line: the not-on-the-body gate
    takes its chest 2.5 cm under the armholes (as the ease tape does), so the tank as placed
    round the body passes and the same tank beside the body still fails."""
    from tryon3d import garments

    tank = DXF_FOLDER / "WM LOOSE SHAPE TANK.DXF"
    garment = garments.load_garment(tank, body=body, edge_length_m=0.03)
    assert not [g for g in _gates(body, garment, garment.positions) if "not on the body" in g]
    beside = garment.positions + np.array([0.8, 0.0, 0.0])
    assert any(line.startswith("not on the body") for line in _gates(body, garment, beside))


def _to_bone_m(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Distance [m] of each point (N, 3) from the segment start-end."""
    d = end - start
    s = np.clip((points - start) @ d / (d @ d), 0.0, 1.0)
    return np.linalg.norm(points - (start + s[:, None] * d), axis=1)


def test_a_tee_modelled_on_a_t_posed_avatar_is_worn_with_its_sleeves_on_the_arms(body, tmp_path):
    """Our tee, sewn shut and carried onto a T-posed anny (arms raised 45 degrees), exported
    y-up in cm: the importer reads the pose from its sleeves and turns them onto the A-posed
    body's upper arms before the drape."""
    from tests._garment_files import t_posed_garment
    from tryon3d import garments, sim
    from tryon3d.sim._start_shape import merge_seams

    tee = garments.load_garment("tshirt", size="M", body=body, edge_length_m=0.03)
    particle, count = merge_seams(tee.vertex_count, tee.seam_pairs)
    sewn = np.zeros((count, 3))
    np.add.at(sewn, particle, tee.positions)
    sewn = (sewn / np.bincount(particle)[:, None])[particle]  # seams closed, as a drape leaves
    t_posed, _ = t_posed_garment(body, sewn, arm_raise_deg=45.0)
    uv = (tee.uv - tee.uv.min(axis=0)) / np.ptp(tee.uv, axis=0)
    path = write_obj(tmp_path / "tee_tpose.obj", z_up_m_to_y_up(t_posed, 100.0), tee.faces, uv)

    garment = garments.load_garment(path, body=body, edge_length_m=0.03)
    log = " | ".join(garment.metadata["import_log"])
    assert "unposed its left sleeve" in log and "unposed its right sleeve" in log, log
    assert garment.vertex_count == tee.vertex_count  # same vertex order: panels still apply
    skeleton = body.skeleton_m
    for side, panel in (("left", "sleeve_l"), ("right", "sleeve_r")):
        sleeve = tee.vertex_panels == tee.panel_names.index(panel)
        bone = skeleton[f"shoulder_{side}"], skeleton[f"elbow_{side}"]
        raw = _to_bone_m(
            t_posed[sleeve] - sewn.mean(axis=0) + garment.positions.mean(axis=0), *bone
        )
        worn = _to_bone_m(garment.positions[sleeve], *bone)
        assert 100 * raw.max() > 15.0  # as modelled, the sleeve stands out from the arm
        assert 100 * worn.max() < 11.0 and 100 * worn.mean() < 8.0, (side, worn.max())
    drape = sim.drape(body, garment, max_seconds_simulated=3.0)
    assert drape.gates.passed, drape.gates.reasons()
    for side, panel in (("left", "sleeve_l"), ("right", "sleeve_r")):
        sleeve = tee.vertex_panels == tee.panel_names.index(panel)
        bone = skeleton[f"shoulder_{side}"], skeleton[f"elbow_{side}"]
        assert 100 * _to_bone_m(drape.rest_pose_positions[sleeve], *bone).max() < 11.0


def test_a_mesh_over_the_vertex_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from tryon3d import garments
    from tryon3d.garments import _mesh_import

    v, f, uv = cone_skirt()
    obj = write_obj(tmp_path / "skirt.obj", v * 100.0, f, uv)
    glb = write_draco_glb(tmp_path / "skirt.glb", v, f, uv)

    def not_read(path):
        raise AssertionError("the geometry was read before the limit was checked")

    monkeypatch.setattr(_mesh_import, "_read_raw", not_read)
    for path in (obj, glb):
        with pytest.raises(ValueError, match=r"declares 615 vertices.*max_vertices=") as error:
            garments.load_garment(path, max_vertices=600)
        assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match="max_vertices must be a positive integer"):
        garments.load_garment(obj, max_vertices=0)
    monkeypatch.undo()
    assert garments.load_garment(obj, max_vertices=615).vertex_count == 615


def _hem_to_cm(points: np.ndarray, sign: float, joint: np.ndarray) -> float:
    """Distance [cm] from ``joint`` to the centre of the lowest 3 cm of one side (x sign)."""
    hem = (points[:, 2] < points[:, 2].min() + 0.03) & (sign * points[:, 0] > 0)
    return 100 * float(np.linalg.norm(points[hem].mean(axis=0) - joint))


def test_trousers_modelled_with_legs_apart_are_worn_down_the_legs(body, tmp_path):
    """Our trousers carried onto an anny with legs spread 20 degrees each (as templates on a
    wide stance come): the importer turns each leg tube about the hip onto the body's legs."""
    from tests._garment_files import t_posed_garment
    from tryon3d import garments
    from tryon3d.sim._start_shape import merge_seams

    trousers = garments.load_garment("trousers", size="M", body=body, edge_length_m=0.03)
    particle, count = merge_seams(trousers.vertex_count, trousers.seam_pairs)
    sewn = np.zeros((count, 3))
    np.add.at(sewn, particle, trousers.positions)
    sewn = (sewn / np.bincount(particle)[:, None])[particle]
    apart, _ = t_posed_garment(body, sewn, arm_raise_deg=0.0, leg_spread_deg=20.0)
    uv = (trousers.uv - trousers.uv.min(axis=0)) / np.ptp(trousers.uv, axis=0)
    path = write_obj(tmp_path / "apart.obj", z_up_m_to_y_up(apart, 100.0), trousers.faces, uv)
    garment = garments.load_garment(path, body=body, edge_length_m=0.03)
    log = " | ".join(garment.metadata["import_log"])
    assert "unposed its left leg" in log and "unposed its right leg" in log, log
    for sign, side in ((1.0, "left"), (-1.0, "right")):
        ankle = body.skeleton_m[f"ankle_{side}"]
        # as modelled, the leg's hem stands off the ankle; worn, it hangs by it
        assert _hem_to_cm(apart, sign, ankle) > 18.0
        assert _hem_to_cm(garment.positions, sign, ankle) < 10.0
    assert _gates(body, garment, garment.positions) == ()
