"""tryon3d.core: each shared kernel against a geometric truth, seeded."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from tryon3d import core


def _sphere(radius: float = 1.0, subdivisions: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """An icosphere at the origin, faces counter-clockwise seen from outside."""
    g = (1.0 + 5.0**0.5) / 2.0
    vertices = [
        (-1, g, 0),
        (1, g, 0),
        (-1, -g, 0),
        (1, -g, 0),
        (0, -1, g),
        (0, 1, g),
        (0, -1, -g),
        (0, 1, -g),
        (g, 0, -1),
        (g, 0, 1),
        (-g, 0, -1),
        (-g, 0, 1),
    ]
    faces = [
        (0, 11, 5),
        (0, 5, 1),
        (0, 1, 7),
        (0, 7, 10),
        (0, 10, 11),
        (1, 5, 9),
        (5, 11, 4),
        (11, 10, 2),
        (10, 7, 6),
        (7, 1, 8),
        (3, 9, 4),
        (3, 4, 2),
        (3, 2, 6),
        (3, 6, 8),
        (3, 8, 9),
        (4, 9, 5),
        (2, 4, 11),
        (6, 2, 10),
        (8, 6, 7),
        (9, 8, 1),
    ]
    points = [np.array(v, dtype=np.float64) / np.linalg.norm(v) for v in vertices]
    for _ in range(subdivisions):
        middle: dict[tuple[int, int], int] = {}

        def mid(i: int, j: int, middle: dict[tuple[int, int], int] = middle) -> int:
            key = (min(i, j), max(i, j))
            if key not in middle:
                m = points[i] + points[j]
                points.append(m / np.linalg.norm(m))
                middle[key] = len(points) - 1
            return middle[key]

        refined = []
        for a, b, c in faces:
            ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
            refined += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
        faces = refined
    return radius * np.array(points), np.array(faces, dtype=np.int64)


def _cylinder(radius: float, height: float, segments: int = 256, rows: int = 8):
    """An open cylinder round the z axis, z in [0, height]; faces (F, 3) and edges (E, 2)."""
    phi = np.linspace(0.0, 2.0 * np.pi, segments, endpoint=False)
    z = np.linspace(0.0, height, rows + 1)
    vertices = np.array([(radius * math.cos(a), radius * math.sin(a), h) for h in z for a in phi])
    faces = []
    for i in range(rows):
        for j in range(segments):
            a, b = i * segments + j, i * segments + (j + 1) % segments
            faces += [(a, b, b + segments), (a, b + segments, a + segments)]
    faces = np.array(faces, dtype=np.int64)
    edges = np.unique(
        np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1),
        axis=0,
    )
    return vertices, faces, edges


def test_vertex_normals_of_a_sphere_point_outward():
    vertices, faces = _sphere()
    normals = core.vertex_normals(vertices, faces)
    assert normals.shape == vertices.shape and normals.dtype == np.float64
    radial = vertices / np.linalg.norm(vertices, axis=1, keepdims=True)
    angle = np.arccos(np.clip((normals * radial).sum(axis=1), -1.0, 1.0))  # [rad]
    assert np.allclose(np.linalg.norm(normals, axis=1), 1.0)
    assert angle.max() < 0.01 and angle.mean() < 3e-3  # area weighting, uneven icosphere triangles
    # an isolated vertex has no normal
    assert not core.vertex_normals(np.vstack([vertices, [5.0, 5.0, 5.0]]), faces)[-1].any()


def test_plane_section_of_a_cylinder_has_its_circumference():
    radius = 0.15
    vertices, _, edges = _cylinder(radius, 0.4)
    rng = np.random.default_rng(3)
    for z in rng.uniform(0.01, 0.39, 5):
        heights = vertices[:, 2] - z
        crossing, points = core.edge_plane_crossings(vertices, edges, heights)
        assert len(points) == crossing.sum() > 0
        assert np.allclose(points[:, 2], z)
        girth = core.tape_girth(points, np.array([0.0, 0.0, 2.0]))
        assert girth == pytest.approx(2.0 * math.pi * radius, rel=0.005)
        # the same section a tilted normal's way: an ellipse, longer than the circle
        tilted = np.array([0.0, 0.3, 1.0])
        heights = (vertices - [0.0, 0.0, z]) @ (tilted / np.linalg.norm(tilted))
        _, points = core.edge_plane_crossings(vertices, edges, heights)
        assert core.tape_girth(points, tilted) > 2.0 * math.pi * radius


def test_triangle_plane_crossings_cut_each_triangle_twice():
    vertices, faces, _ = _cylinder(0.1, 0.2, segments=64, rows=2)
    corners = vertices[faces]
    heights = corners[..., 2] - 0.0731
    ends, crossing = core.triangle_plane_crossings(corners, heights)
    cut = crossing.any(axis=1)
    assert cut.sum() == 2 * 64  # one ring of triangles straddles z = 0.0731
    assert np.all(crossing[cut].sum(axis=1) == 2)
    assert np.allclose(ends[crossing][:, 2], 0.0731)
    # a corner exactly on the plane counts as below: a triangle touching it from below is not cut
    touching = np.array([[[0.0, 0, 0], [1.0, 0, -1.0], [0.0, 1, -1.0]]])
    assert not core.triangle_plane_crossings(touching, touching[..., 2])[1].any()


def test_hull_girth_of_a_square_is_its_perimeter():
    rng = np.random.default_rng(0)
    inside = rng.uniform(0.0, 0.3, (200, 2))
    square = np.array([[0.0, 0.0], [0.3, 0.0], [0.3, 0.3], [0.0, 0.3]])
    assert core.hull_perimeter(np.vstack([square, inside])) == pytest.approx(1.2, abs=1e-12)
    assert math.isnan(core.hull_perimeter(square[:2]))
    assert math.isnan(core.hull_perimeter(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])))
    # in 3D, on a slanted plane
    normal = np.array([1.0, 2.0, 2.0]) / 3.0
    u, v = core.plane_basis(normal)
    assert (
        abs(u @ normal) < 1e-12 and abs(v @ normal) < 1e-12 and np.allclose(np.cross(u, v), normal)
    )
    points = square[:, :1] * u + square[:, 1:] * v + np.array([0.2, -0.1, 0.5])
    assert core.tape_girth(points, normal) == pytest.approx(1.2, abs=1e-9)


def _plain_signed_distance(points, vertices, faces):
    """Distance to every triangle (no tree), sign by the closest triangle's normal."""
    triangles = vertices[faces]
    best = np.full(len(points), np.inf)
    sign = np.ones(len(points))
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    for i, p in enumerate(points):
        closest = core.closest_on_triangles(np.broadcast_to(p, (len(triangles), 3)), triangles)
        d = np.linalg.norm(closest - p, axis=1)
        k = int(np.argmin(d))
        best[i] = d[k]
        sign[i] = -1.0 if (p - closest[k]) @ normals[k] < 0 else 1.0
    return sign * best


def test_signed_distance_matches_the_plain_one_and_the_sphere():
    vertices, faces = _sphere(0.2, subdivisions=3)
    rng = np.random.default_rng(7)
    directions = rng.normal(size=(300, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    radii = rng.uniform(0.05, 0.35, 300)
    points = directions * radii[:, None]
    fast = core.signed_distance(points, vertices, faces)
    plain = _plain_signed_distance(points, vertices, faces)
    assert np.abs(fast - plain).max() < 1e-9
    # and a polygonal sphere is within its sagitta of the true one
    assert np.abs(fast - (radii - 0.2)).max() < 0.003
    assert np.all(((fast < 0) == (radii < 0.2)) | (np.abs(radii - 0.2) < 0.003))


def test_push_out_moves_points_to_the_clearance():
    vertices, faces = _sphere(0.2)
    surface = core.TriangleSurface(vertices, faces)
    rng = np.random.default_rng(1)
    points = rng.normal(size=(100, 3))
    points = 0.18 * points / np.linalg.norm(points, axis=1, keepdims=True)  # 2 cm inside

    def distance(p):
        d, closest, _ = surface.query(p)
        out = p - closest
        return d, out / np.linalg.norm(out, axis=1, keepdims=True) * np.sign(d)[:, None]

    moved = core.push_out(points, distance, clearance=0.01, passes=3)
    assert np.abs(points).max() == pytest.approx(np.abs(points).max())  # input untouched
    assert np.allclose(surface.query(moved)[0], 0.01, atol=1e-3)


def test_readonly_array_checks_shape_and_freezes():
    array = core.readonly_array([[1, 2, 3]], np.float64, (None, 3), "Thing.points")
    assert array.dtype == np.float64 and not array.flags.writeable
    with pytest.raises(ValueError, match=r"Thing.points must have shape \(N, 3\), got \(1, 2\)"):
        core.readonly_array([[1, 2]], np.float64, (None, 3), "Thing.points")
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        core.readonly_array([1, 2, 3], np.float64, (4,), "Thing.x")


def test_cache_root_and_data_files(monkeypatch, tmp_path):
    monkeypatch.setenv("TRYON3D_CACHE", str(tmp_path))
    assert core.cache_root() == tmp_path
    monkeypatch.delenv("TRYON3D_CACHE")
    assert str(core.cache_root()).endswith(".cache/tryon3d")
    assert '"charts"' in core.data_file("size_charts.json").read_text(encoding="utf-8")
    assert core.data_file("viewer").is_dir()


def test_camera_projects_through_its_principal_point():
    camera = core.Camera(
        fx=500.0, fy=500.0, cx=320.0, cy=240.0, width=640, height=480, world_to_camera=np.eye(4)
    )
    assert np.allclose(camera.position, 0.0)
    assert core.Camera.from_dict(camera.to_dict()).intrinsic_matrix[0, 2] == 320.0
    with pytest.raises(ValueError, match="focal"):
        core.Camera(fx=-1.0, fy=1.0, cx=0.0, cy=0.0, width=1, height=1, world_to_camera=np.eye(4))


def test_core_imports_numpy_only():
    code = (
        "import sys, tryon3d.core; "
        "heavy = {'torch', 'warp', 'mitsuba', 'newton', 'trimesh', 'scipy'}; "
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_warp_signed_distance_agrees_with_the_numpy_one():
    """sim's Warp query (float32, on the drape's device) against core's numpy one."""
    from tryon3d.sim._measure import body_mesh
    from tryon3d.sim._measure import signed_distance as warp_signed_distance

    vertices, faces = _sphere(0.2, subdivisions=3)
    rng = np.random.default_rng(11)
    points = rng.uniform(-0.3, 0.3, (500, 3))
    expected = core.signed_distance(points, vertices, faces)
    distance, normals = warp_signed_distance(body_mesh(vertices, faces, "cpu"), points, "cpu")
    assert np.abs(distance - expected).max() < 1e-5
    assert np.allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-4)


def test_pieces_touching_against_a_naive_flood_fill():
    """``pieces_touching`` keeps the 4-connected pieces of the candidates within ``reach_px``
    (city-block) of the anchor: checked against a flood fill from every candidate pixel."""
    from collections import deque

    from tryon3d.core import pieces_touching

    rng = np.random.default_rng(11)
    candidates = rng.random((40, 50)) < 0.45
    anchor = rng.random((40, 50)) < 0.01
    for reach in (0, 1, 2):
        got = pieces_touching(candidates, anchor, reach_px=reach)
        anchor_rc = np.argwhere(anchor)
        expected = np.zeros_like(candidates)
        seen = np.zeros_like(candidates)
        for start in map(tuple, np.argwhere(candidates)):
            if seen[start]:
                continue
            piece, queue = [], deque([start])
            seen[start] = True
            while queue:
                r, c = queue.popleft()
                piece.append((r, c))
                for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                    q = (r + dr, c + dc)
                    inside = 0 <= q[0] < 40 and 0 <= q[1] < 50
                    if inside and candidates[q] and not seen[q]:
                        seen[q] = True
                        queue.append(q)
            cells = np.array(piece)
            gaps = np.abs(cells[:, None, :] - anchor_rc[None]).sum(axis=2)
            if len(anchor_rc) and (gaps <= reach).any():
                expected[tuple(cells.T)] = True
        assert np.array_equal(got, expected), reach
    assert not pieces_touching(np.zeros((4, 4), bool), np.ones((4, 4), bool)).any()
