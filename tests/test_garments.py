"""garments/: pattern drafting, meshing, fabrics, import/export and placement on bodies."""

from __future__ import annotations

import itertools
import json
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from tryon3d import garments
from tryon3d.garments import Edge, Panel, Pattern, Seam
from tryon3d.garments._families import _build_top

FAMILY_NAMES = ("tshirt", "longsleeve", "dress", "skirt", "trousers")


@pytest.fixture(scope="module")
def meshes():
    return {name: garments.load_garment(name, size="M") for name in FAMILY_NAMES}


def _tri_area(points: np.ndarray, faces: np.ndarray) -> np.ndarray:
    p = points[faces]
    u, v = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
    return 0.5 * (u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0])


def test_families_mesh_well_shaped_triangles(meshes):
    for name, garment in meshes.items():
        angles = garments.triangle_min_angles_deg(garment.pattern_positions, garment.faces)
        assert angles.min() >= 20.0, (name, angles.min())
        assert 1500 <= garment.vertex_count <= 4000, (name, garment.vertex_count)
        assert (
            _tri_area(garment.pattern_positions, garment.faces) > 0
        ).all()  # CCW, outward normals
        # every outline segment is a mesh edge used by exactly one triangle (boundary preserved)
        faces = garment.faces
        edges = np.sort(
            np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1
        )
        unique, counts = np.unique(edges, axis=0, return_counts=True)
        boundary = {tuple(e) for e in unique[counts == 1]}
        assert counts.max() == 2
        for (panel, edge), idx in garment.metadata["edge_vertices"].items():
            for a, b in itertools.pairwise(idx):
                assert tuple(sorted((int(a), int(b)))) in boundary, (name, panel, edge)


def test_smaller_edge_length_gives_benchmark_size_meshes():
    garment = garments.load_garment("tshirt", size="M", edge_length_m=0.01)
    assert 7000 <= garment.vertex_count <= 12000
    assert garments.triangle_min_angles_deg(garment.pattern_positions, garment.faces).min() >= 20.0


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_girths_equal_chart_plus_ease(family):
    fam = garments.FAMILIES[family]
    for size in ("XS", "M", "XXL"):
        pattern = garments.draft(family, size)
        row = garments.size_chart(family)[size]
        design = pattern.metadata["design"]
        levels = {"chest": "chest_ease", "waist": "waist_ease", "hips": "hip_ease"}
        assert set(pattern.girths_m) >= {"waist"}
        for level, (girth, y) in pattern.girths_m.items():
            expected = row[level] + design[levels[level]]
            assert girth == pytest.approx(expected, rel=1e-9)
            measured = garments.pattern_girth(pattern, y)
            assert measured == pytest.approx(expected, rel=0.01), (family, size, level)
    assert fam.chart in ("women", "men")


def test_size_chart_is_graded():
    for chart in ("women", "men"):
        table = garments.size_chart(chart)
        assert list(table) == ["XS", "S", "M", "L", "XL", "XXL", "3XL", "4XL", "5XL"]
        for key in ("chest", "waist", "hips"):
            values = [table[s][key] for s in table]
            assert all(0.03 <= b - a <= 0.10 for a, b in itertools.pairwise(values)), (chart, key)


def _armhole_depth_m(pattern) -> float:
    """Shoulder point to underarm [m], read off the front armhole."""
    armhole = next(p for p in pattern.panels if p.name == "front").edge("armhole_l")
    return float(armhole.points[-1][1] - armhole.points[0][1])


@pytest.mark.parametrize("family", ("tshirt", "longsleeve", "dress"))
def test_armhole_depth_graded_with_chest(family):
    design = garments.FAMILIES[family].defaults["armhole_depth"]
    for chart in ("women", "men"):
        table = garments.size_chart(chart)
        depths = [_armhole_depth_m(garments.draft(family, size, chart=chart)) for size in table]
        chests = [row["chest"] for row in table.values()]
        assert depths[list(table).index("M")] == pytest.approx(
            design, abs=1e-12
        )  # the design value is M's
        assert all(b > a for a, b in itertools.pairwise(depths)), (chart, depths)
        # 1/10 of the chest difference: 0.6-0.8 cm per size on 6-8 cm chest steps
        for depth, chest in zip(depths, chests, strict=True):
            assert depth == pytest.approx(design + 0.1 * (chest - table["M"]["chest"]), abs=1e-9), (
                chart,
                depth,
            )
    shallow = garments.draft(family, "XS", chart="men", armhole_depth=0.14, sleeve_length=0.0)
    assert _armhole_depth_m(shallow) == pytest.approx(0.14, abs=1e-12)  # never below the bound
    with pytest.raises(
        ValueError, match=r"armhole_depth must be within \[0.14, 0.28\] m for size M"
    ):
        garments.draft(family, "L", armhole_depth=0.30)


@pytest.mark.parametrize("family", ("tshirt", "longsleeve"))
def test_sleeves_keep_upper_arm_plus_ease_in_every_size(family):
    for chart in ("women", "men"):
        for size, row in garments.size_chart(chart).items():
            for design in ({}, {"sleeve_ease": 0.15, "armhole_depth": 0.14}):
                pattern = garments.draft(family, size, chart=chart, **design)
                garments.validate_pattern(pattern)  # cap and armhole seams still match in length
                sleeve = next(p for p in pattern.panels if p.name == "sleeve_l")
                width = 2.0 * float(sleeve.edge("cap_b").points[0][0])
                wanted = row["upper_arm"] + pattern.metadata["design"]["sleeve_ease"]
                assert width == pytest.approx(wanted, abs=1e-9), (
                    chart,
                    size,
                    design,
                    width,
                    wanted,
                )
    # a sleeve that no armhole of the bodice can take is an error, not a narrower sleeve (no chart
    # size within the design bounds gets there: an upper arm of 80 cm does)
    row = dict(garments.size_chart("women")["XXL"], upper_arm=0.80)
    with pytest.raises(
        ValueError,
        match=r"sleeve 8[78].0 cm wide .* too wide for this size's armhole .* at most 7[0-9.]+ cm",
    ):
        _build_top(row, dict(garments.FAMILIES[family].defaults))


def test_seam_pairs_match_in_count_and_length(meshes):
    for name, garment in meshes.items():
        pattern = garment.metadata["pattern"]
        ev = garment.metadata["edge_vertices"]
        assert len(garment.seam_pairs) > 0
        for seam in pattern.seams:
            a = ev[(seam.panel_a, seam.edge_a)]
            b = ev[(seam.panel_b, seam.edge_b)]
            assert len(a) == len(b), (name, seam.label)
            la = np.linalg.norm(np.diff(garment.pattern_positions[a], axis=0), axis=1).sum()
            lb = np.linalg.norm(np.diff(garment.pattern_positions[b], axis=0), axis=1).sum()
            assert abs(la - lb) <= 0.05 * max(la, lb), (name, seam.label, la, lb)
        pairs = garment.seam_pairs
        assert (garment.vertex_panels[pairs[:, 0]] >= 0).all()
        assert len(np.unique(np.sort(pairs, axis=1), axis=0)) == len(pairs)


def test_uv_area_proportional_to_panel_area():
    garment = garments.load_garment("skirt", size="S", texture_repeat_m=(0.2, 0.05))
    pattern = garment.metadata["pattern"]
    for index, panel in enumerate(pattern.panels):
        faces = garment.faces[garment.vertex_panels[garment.faces[:, 0]] == index]
        area = _tri_area(garment.pattern_positions, faces).sum()
        uv_area = np.abs(_tri_area(garment.uv.astype(np.float64), faces)).sum()
        assert uv_area == pytest.approx(area / (0.2 * 0.05), rel=1e-4)
        assert area == pytest.approx(panel.area, rel=0.01)


def test_fabric_presets_and_descriptions():
    fabrics = garments.list_fabrics()
    assert {
        "cotton_jersey",
        "denim",
        "silk_charmeuse",
        "polyester_woven",
        "wool_knit",
        "spandex_blend",
    } <= set(fabrics)
    for fabric in fabrics.values():
        assert 0.03 <= fabric.areal_density_kg_m2 <= 0.6
        assert 1e-8 <= fabric.bending_n_m <= 1e-3
        assert 0.1 <= fabric.friction <= 1.0
        assert 100.0 < fabric.stretch_limit_pct <= 200.0
    assert fabrics["denim"].stretch_warp_n_m > 50 * fabrics["cotton_jersey"].stretch_warp_n_m
    assert (
        fabrics["silk_charmeuse"].areal_density_kg_m2
        < fabrics["polyester_woven"].areal_density_kg_m2
    )
    cases = {
        "95% cotton 5% elastane jersey": "cotton_jersey",
        "100% cotton denim": "denim",
        "80% nylon 20% spandex": "spandex_blend",
        "silk satin": "silk_charmeuse",
        "merino wool sweater knit": "wool_knit",
        "100% polyester poplin": "polyester_woven",
    }
    for text, expected in cases.items():
        fabric, reason = garments.fabric_from_description(text)
        assert fabric.name == expected, (text, reason)
        assert expected in reason
    with pytest.raises(ValueError, match="cannot map"):
        garments.fabric_from_description("something shiny")
    garment = garments.load_garment(
        "tshirt", fabric="70% wool 30% polyester knit", edge_length_m=0.04
    )
    assert garment.fabric.name == "wool_knit"


def test_dxf_round_trip(tmp_path):
    pattern = garments.draft("tshirt", "L")
    path = tmp_path / "tshirt.dxf"
    path.write_text(garments.pattern_to_dxf(pattern), encoding="utf-8")
    back = garments.read_dxf_pattern(path)
    assert [p.name for p in back.panels] == [p.name for p in pattern.panels]
    assert back.size == "L" and len(back.seams) == len(pattern.seams)
    for original, read in zip(pattern.panels, back.panels, strict=True):
        assert [e.name for e in read.edges] == [e.name for e in original.edges]
        assert read.area == pytest.approx(original.area, rel=0.01)
        assert np.allclose(read.grain, original.grain, atol=1e-6)
        assert read.placement == original.placement
    garment = garments.load_garment(path, edge_length_m=0.03)
    assert (
        garment.panel_names == tuple(p.name for p in pattern.panels) and len(garment.seam_pairs) > 0
    )


def _outline_gap(read: Panel, original: Panel) -> float:
    """Largest distance [m] from a read outline's points to the original outline (its straight
    edges as they are, its curves densely sampled)."""
    u = np.linspace(0.0, 1.0, 2049)
    bezier = [
        np.array(
            [
                math.comb(len(e.points) - 1, k) * u**k * (1 - u) ** (len(e.points) - 1 - k)
                for k in range(len(e.points))
            ]
        ).T
        @ e.points
        for e in original.edges
    ]
    dense = np.concatenate(
        [b if e.curve else e.points for b, e in zip(bezier, original.edges, strict=True)]
    )
    a, b = dense[:-1], dense[1:]
    points = np.concatenate([e.points for e in read.edges])
    ab = b - a
    t = np.clip(
        ((points[:, None] - a[None]) * ab[None]).sum(-1) / np.maximum((ab**2).sum(-1), 1e-30)[None],
        0.0,
        1.0,
    )
    return float(
        np.linalg.norm(points[:, None] - (a[None] + t[..., None] * ab[None]), axis=-1)
        .min(axis=1)
        .max()
    )


def test_graded_dxf_round_trip(tmp_path):
    sizes = ("XS", "M", "XXL")
    patterns = {size: garments.draft("tshirt", size) for size in sizes}
    path = tmp_path / "tshirt_graded.dxf"
    text = garments.pattern_to_dxf(list(patterns.values()))
    assert all(f"SIZE: {size}" in text for size in sizes) and "PIECE NAME: sleeve_l" in text
    path.write_text(text, encoding="utf-8")
    areas = {}
    for size, original in patterns.items():
        back = garments.read_dxf_pattern(path, size=size)
        assert back.size == size and back.metadata["sizes"] == list(sizes)
        assert [p.name for p in back.panels] == [p.name for p in original.panels]
        assert len(back.seams) == len(original.seams)
        for read, panel in zip(back.panels, original.panels, strict=True):
            assert [e.name for e in read.edges] == [e.name for e in panel.edges]
            assert _outline_gap(read, panel) < 1e-4, (size, panel.name)  # within 0.1 mm
            # every corner of the original is a corner of the read piece
            for edge, read_edge in zip(panel.edges, read.edges, strict=True):
                assert np.linalg.norm(read_edge.start - edge.start) < 1e-4
        areas[size] = [p.area for p in back.panels]
    assert all(
        xs < m < xxl for xs, m, xxl in zip(areas["XS"], areas["M"], areas["XXL"], strict=True)
    )
    # sleeves grow least (~20 %): the deeper armhole of a big size takes a taller cap out of the
    # same length
    assert min(a / b for a, b in zip(areas["XXL"], areas["XS"], strict=True)) > 1.15
    garment = garments.load_garment(path, size="XXL", edge_length_m=0.04)
    assert garment.size == "XXL" and garment.panel_names == tuple(
        p.name for p in patterns["XXL"].panels
    )


def test_graded_dxf_size_errors(tmp_path):
    path = tmp_path / "tshirt_graded.dxf"
    path.write_text(
        garments.pattern_to_dxf([garments.draft("tshirt", s) for s in ("XS", "M", "XXL")])
    )
    with pytest.raises(ValueError, match=r"no size 'L'; its sizes are \['XS', 'M', 'XXL'\]"):
        garments.read_dxf_pattern(path, size="L")
    with pytest.raises(
        ValueError, match=r"graded in sizes \['XS', 'M', 'XXL'\]; choose one with size="
    ):
        garments.load_garment(path)
    single = tmp_path / "tshirt_s.dxf"
    single.write_text(garments.pattern_to_dxf(garments.draft("tshirt", "S")))
    assert garments.read_dxf_pattern(single).size == "S"
    with pytest.raises(ValueError, match=r"no size 'M'; its sizes are \['S'\]"):
        garments.read_dxf_pattern(single, size="M")
    with pytest.raises(ValueError, match="distinct, non-empty sizes"):
        garments.pattern_to_dxf([garments.draft("tshirt", "M"), garments.draft("tshirt", "M")])
    with pytest.raises(ValueError, match="must be one garment"):
        garments.pattern_to_dxf([garments.draft("tshirt", "M"), garments.draft("skirt", "L")])
    with pytest.raises(TypeError, match="Pattern"):
        garments.pattern_to_dxf("tshirt")


def _write_obj(folder, faces, *, texture: str | None = None):
    lines = []
    if texture is not None:
        (folder / "m.mtl").write_text(f"newmtl cloth\nmap_Kd {texture}\n")
        lines += ["mtllib m.mtl", "usemtl cloth"]
    v = [(0, 0, 1), (1, 0, 1), (1, 0, 2), (0, 0, 2), (0.5, 1, 1.5)]
    lines += [f"v {x} {y} {z}" for x, y, z in v] + [f"vt {x} {z - 1}" for x, _, z in v]
    lines += [f"f {a + 1}/{a + 1} {b + 1}/{b + 1} {c + 1}/{c + 1}" for a, b, c in faces]
    path = folder / "cloth.obj"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_mesh_import_and_glb_export(tmp_path):
    from PIL import Image

    Image.new("RGB", (8, 8), (200, 40, 40)).save(tmp_path / "print.png")
    path = _write_obj(tmp_path, [(0, 1, 2), (0, 2, 3)], texture="print.png")
    garment = garments.load_garment(path, fabric="denim")
    assert garment.vertex_count >= 4 and garment.texture_path.endswith("print.png")
    assert garment.pattern_positions is None and np.ptp(garment.uv[:, 0]) > 0.9
    data = garments.garment_to_glb(garment)
    assert data[:4] == b"glTF"


def test_bad_inputs_raise_clear_errors(tmp_path, caplog):
    bow = Panel(
        "bow",
        [
            Edge([(0, 0), (1, 1)], "a"),
            Edge([(1, 1), (1, 0)], "b"),
            Edge([(1, 0), (0, 1)], "c"),
            Edge([(0, 1), (0, 0)], "d"),
        ],
    )
    with pytest.raises(ValueError, match=r"bow.*intersects itself"):
        garments.mesh_pattern(Pattern("x", "", (bow,)), edge_length_m=0.1)

    def square(name, w):
        p = [(0, 0), (w, 0), (w, 1), (0, 1)]
        return Panel(name, [Edge([p[i], p[(i + 1) % 4]], f"e{i}") for i in range(4)])

    bad = Pattern("x", "", (square("a", 1.0), square("b", 0.9)), (Seam("a", "e0", "b", "e0"),))
    with pytest.raises(ValueError, match=r"seam a\.e0-b\.e0: edge lengths differ"):
        garments.validate_pattern(bad)
    with pytest.raises(ValueError, match="unknown garment family"):
        garments.load_garment("poncho")
    with pytest.raises(ValueError, match="unknown size 'XXXL'"):
        garments.load_garment("tshirt", size="XXXL")
    with pytest.raises(ValueError, match="unknown fabric"):
        garments.fabric_preset("kevlar")
    with pytest.raises(ValueError, match="unknown design parameter 'collar'"):
        garments.load_garment("tshirt", collar=0.1)
    with pytest.raises(ValueError, match="within"):
        garments.load_garment("skirt", length=5.0)
    with pytest.raises(ValueError, match="texture file"):
        garments.load_garment("skirt", texture=tmp_path / "nope.png")
    # a missing texture is a warning (issue 17): the geometry still loads, untextured
    with caplog.at_level("WARNING", logger="tryon3d"):
        untextured = garments.load_garment(_write_obj(tmp_path, [(0, 1, 2)], texture="gone.png"))
    assert untextured.texture_path is None and untextured.vertex_count == 3
    assert any("'gone.png' is missing" in record.message for record in caplog.records)
    (tmp_path / "m.mtl").unlink()
    empty = tmp_path / "empty.obj"
    empty.write_text("v 0 0 0\n")
    with pytest.raises(ValueError, match="empty"):
        garments.load_garment(empty)
    fan = _write_obj(tmp_path, [(0, 1, 2), (0, 1, 3), (0, 1, 4)])
    with pytest.raises(ValueError, match="non-manifold"):
        garments.load_garment(fan)
    gltf = tmp_path / "g.gltf"
    gltf.write_text(
        json.dumps(
            {"asset": {"version": "2.0"}, "buffers": [{"uri": "../../etc/passwd", "byteLength": 4}]}
        )
    )
    with pytest.raises(ValueError, match="outside the file's folder"):
        garments.load_garment(gltf)
    with pytest.raises(ValueError, match="unsupported garment file"):
        garments.load_garment(tmp_path / "x.stl")


def test_pattern_svg_has_panels_seams_and_grain():
    pattern = garments.draft("trousers", "S")
    svg = garments.pattern_svg(pattern)
    root = ET.fromstring(svg)
    assert root.get("width").endswith("cm")
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for panel in pattern.panels:
        assert any(t.startswith(panel.name) for t in texts)
    for i in range(1, len(pattern.seams) + 1):
        assert sum(f"S{i}" in t.split("/") for t in texts) == 2
    assert len(list(root.iter("{http://www.w3.org/2000/svg}line"))) == len(pattern.panels)
    # true size: the viewBox width (cm) covers the panels' summed widths
    widths = sum(np.ptp(garments.panel_outline(p)[:, 0]) * 100 for p in pattern.panels)
    assert float(root.get("viewBox").split()[2]) >= widths
