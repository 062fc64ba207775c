"""Differentiable silhouettes (Mitsuba direct_projective): areas, gradients, camera conventions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import trimesh

from tryon3d import render


def _sphere(radius: float, centre, subdivisions: int = 3):
    mesh = trimesh.creation.icosphere(subdivisions=subdivisions, radius=radius)
    return torch.tensor(
        np.asarray(mesh.vertices) + np.asarray(centre), dtype=torch.float32
    ), np.asarray(mesh.faces)


def test_project_and_camera_validation():
    camera = render.look_at_camera(
        (0.0, -3.0, 1.0), (0.0, 0.0, 1.0), fov_y_deg=40.0, width=160, height=120
    )
    uv = render.project(camera, np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 2.0], [0.0, -5.0, 1.0]]))
    assert np.allclose(uv[0], (80.0, 60.0))
    assert uv[1, 1] < 60.0  # higher point appears higher in the image (v grows downwards)
    assert np.all(np.isnan(uv[2]))  # behind the camera
    with pytest.raises(ValueError, match="focal"):
        render.Camera(fx=-1, fy=1, cx=0, cy=0, width=2, height=2, world_to_camera=np.eye(4))
    with pytest.raises(ValueError, match="rigid"):
        render.Camera(
            fx=1, fy=1, cx=0, cy=0, width=2, height=2, world_to_camera=np.diag([2.0, 1, 1, 1])
        )
    assert render.Camera.from_dict(camera.to_dict()).fx == pytest.approx(camera.fx)


def test_rendered_centroid_matches_projection_with_offset_principal_point():
    vertices, faces = _sphere(0.05, (0.3, 0.2, 1.2), subdivisions=2)
    base = render.look_at_camera(
        (0.5, -3.0, 1.0), (0.0, 0.0, 1.0), fov_y_deg=40.0, width=160, height=120
    )
    camera = render.Camera(
        fx=base.fx,
        fy=base.fy,
        cx=60.0,
        cy=75.0,
        width=160,
        height=120,
        world_to_camera=base.world_to_camera,
    )
    for cam in (base, camera):
        image = render.render_silhouette(vertices, faces, cam, spp=16).numpy()
        v, u = np.mgrid[0 : cam.height, 0 : cam.width] + 0.5
        centroid = np.array([(image * u).sum(), (image * v).sum()]) / image.sum()
        expected = render.project(cam, np.array([[0.3, 0.2, 1.2]]))[0]
        assert np.abs(centroid - expected).max() < 0.3


def test_sphere_area_matches_analytic():
    radius, distance, size = 0.5, 4.0, 128
    vertices, faces = _sphere(radius, (0.0, 0.0, 0.0), subdivisions=4)
    camera = render.look_at_camera(
        (0.0, -distance, 0.0), (0.0, 0.0, 0.0), fov_y_deg=30.0, width=size, height=size
    )
    image = render.render_silhouette(vertices, faces, camera, spp=16).numpy()
    assert image.shape == (size, size) and image.min() >= 0.0 and image.max() <= 1.0
    assert ((image > 0.02) & (image < 0.98)).sum() > 50  # antialiased edge
    disc = radius / math.sqrt(distance**2 - radius**2) * camera.fx
    assert image.sum() == pytest.approx(math.pi * disc**2, rel=0.03)


def test_gradient_matches_finite_differences():
    size = 96
    vertices, faces = _sphere(0.4, (0.05, 0.0, -0.03), subdivisions=2)
    vertices = vertices * torch.tensor([1.0, 0.8, 1.2])
    camera = render.look_at_camera(
        (0.3, -3.0, 0.4), (0.0, 0.0, 0.0), fov_y_deg=35.0, width=size, height=size
    )
    generator = torch.Generator().manual_seed(0)
    weights = torch.linspace(0, 1, size)[None, :] + torch.linspace(0, 1, size)[:, None] ** 2
    renderer = render.SilhouetteRenderer(faces, len(vertices), camera, spp=64)
    for direction in (
        torch.randn(vertices.shape, generator=generator),
        torch.tensor([[1.0, 0.0, 0.5]]).expand_as(vertices).contiguous(),
    ):
        x = vertices.clone().requires_grad_(True)
        (renderer(x, seed=1) * weights).sum().backward()
        analytic = float((x.grad * direction).sum())
        eps = 4e-3
        with torch.no_grad():
            plus = float((renderer(vertices + eps * direction, seed=2, spp=256) * weights).sum())
            minus = float((renderer(vertices - eps * direction, seed=2, spp=256) * weights).sum())
        numeric = (plus - minus) / (2 * eps)
        assert abs(analytic - numeric) <= 0.2 * abs(numeric), (analytic, numeric)


def test_skipped_continuous_pass_leaves_the_gradient_unchanged():
    # The renderer skips Mitsuba's continuous-derivative pass (sppc = 0): for a black mesh in a
    # constant environment that pass contributes exactly zero, so the gradient is the same.
    size = 64
    vertices, faces = _sphere(0.4, (0.05, 0.0, -0.03), subdivisions=2)
    camera = render.look_at_camera(
        (0.3, -3.0, 0.4), (0.0, 0.0, 0.0), fov_y_deg=35.0, width=size, height=size
    )
    weights = torch.linspace(0, 1, size)[None, :] + torch.linspace(0, 1, size)[:, None] ** 2
    renderer = render.SilhouetteRenderer(faces, len(vertices), camera, spp=4)
    gradients = []
    for sppc in (0, None):  # ours, then Mitsuba's default (the continuous pass at the run's spp)
        renderer._scene.integrator().sppc = sppc
        x = vertices.clone().requires_grad_(True)
        (renderer(x, seed=3) * weights).sum().backward()
        gradients.append(x.grad)
    assert float(gradients[0].abs().sum()) > 1.0  # silhouette edges do move the image
    difference = float((gradients[0] - gradients[1]).abs().max())
    assert difference <= 1e-5 * float(gradients[1].abs().max()), difference


def test_silhouette_rejects_bad_input():
    vertices, faces = _sphere(0.5, (0, 0, 0), subdivisions=1)
    camera = render.look_at_camera((0, -3, 0), (0, 0, 0), fov_y_deg=30.0, width=32, height=32)
    with pytest.raises(ValueError, match="faces"):
        render.render_silhouette(vertices, faces + 1000, camera)
    with pytest.raises(TypeError):
        render.render_silhouette(vertices.numpy(), faces, camera)
    squashed = render.Camera(
        fx=30, fy=40, cx=16, cy=16, width=32, height=32, world_to_camera=camera.world_to_camera
    )
    with pytest.raises(ValueError, match="square pixels"):
        render.render_silhouette(vertices, faces, squashed)
