"""The photo fit's refinement mesh and render threads (issue 19's speed path)."""

from __future__ import annotations

import numpy as np
import torch

from tryon3d import render
from tryon3d.bodyfit._anny_model import load_anny_model
from tryon3d.bodyfit._photo_fitter import _SCHEDULE, _render_threads, _silhouette_mesh


def _front_camera(px: int) -> render.Camera:
    rotation = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    world_to_camera = np.eye(4)
    world_to_camera[:3, :3] = rotation
    world_to_camera[:3, 3] = -rotation @ np.array([0.0, -4.0, 0.85])
    return render.Camera(
        fx=1.9 * px,
        fy=1.9 * px,
        cx=px / 2,
        cy=px / 2,
        width=px,
        height=px,
        world_to_camera=world_to_camera,
    )


def test_decimated_silhouette_mesh_is_closed_and_keeps_the_outline():
    model = load_anny_model()
    template = model.vertex_template.reshape(-1, 3)
    ids, faces = _silhouette_mesh(_SCHEDULE.silhouette_reduction)
    full_ids, full_faces = _silhouette_mesh(0.0)
    assert len(full_ids) == len(template) and len(full_faces) == len(model.faces)
    # about a third of the triangles, on distinct original vertices, each used
    assert 0.3 < len(faces) / len(model.faces) < 0.4
    assert np.all(np.diff(ids) > 0) and ids[0] >= 0 and ids[-1] < len(template)
    assert np.array_equal(np.unique(faces), np.arange(len(ids)))
    # closed and manifold: every edge in exactly two triangles, no triangle twice
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    _, uses = np.unique(edges, axis=0, return_counts=True)
    assert np.all(uses == 2)
    assert len(np.unique(np.sort(faces, axis=1), axis=0)) == len(faces)
    # the front silhouette at the refinement's resolution loses under 0.5 % of its area
    camera = _front_camera(192)
    with _render_threads(1):
        full = render.render_silhouette(
            torch.tensor(template, dtype=torch.float32), full_faces, camera, spp=8, seed=3
        )
        reduced = render.render_silhouette(
            torch.tensor(template[ids], dtype=torch.float32), faces, camera, spp=8, seed=3
        )
    area_full, area_reduced = float(full.sum()), float(reduced.sum())
    assert area_full > 1500.0  # the body fills a good part of the crop
    assert abs(area_reduced / area_full - 1.0) < 0.005
    assert float(torch.minimum(full, reduced).sum() / torch.maximum(full, reduced).sum()) > 0.99


def test_one_render_thread_gives_the_same_gradient_twice_and_is_restored():
    import drjit

    ids, faces = _silhouette_mesh(_SCHEDULE.silhouette_reduction)
    vertices = load_anny_model().vertex_template.reshape(-1, 3)[ids]
    camera = _front_camera(96)
    weights = torch.linspace(0.0, 1.0, 96)  # any loss whose gradient depends on where pixels are
    before = drjit.thread_count()
    gradients = []
    with _render_threads(1):
        assert drjit.thread_count() == 1
        for _ in range(2):
            points = torch.tensor(vertices, dtype=torch.float32, requires_grad=True)
            image = render.render_silhouette(points, faces, camera, spp=2, seed=5)
            (image * weights).sum().backward()
            gradients.append(points.grad.numpy().copy())
    assert drjit.thread_count() == before
    assert np.abs(gradients[0]).sum() > 0.0
    assert np.array_equal(gradients[0], gradients[1])
