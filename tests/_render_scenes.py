"""Synthetic bodies, drapes and photos for the render tests (no body model, no simulation)."""

from __future__ import annotations

import numpy as np
import trimesh


class StandInBody:
    """The two fields render reads from a bodyfit.Body."""

    def __init__(self, mesh):
        self.vertices = np.asarray(mesh.vertices, dtype=np.float64)
        self.faces = np.asarray(mesh.faces, dtype=np.int64)


def stand_in_body(*, hand: bool = True) -> StandInBody:
    """Capsule torso, head, legs and a 'hand' (sphere) held in front of the chest."""
    parts = [
        trimesh.creation.capsule(height=0.6, radius=0.16, count=[24, 24]).apply_translation(
            [0, 0, 1.15]
        ),
        trimesh.creation.icosphere(subdivisions=2, radius=0.11).apply_translation([0, 0, 1.62]),
        trimesh.creation.capsule(height=0.7, radius=0.07).apply_translation([-0.09, 0, 0.45]),
        trimesh.creation.capsule(height=0.7, radius=0.07).apply_translation([0.09, 0, 0.45]),
    ]
    if hand:
        parts.append(
            trimesh.creation.icosphere(subdivisions=2, radius=0.05).apply_translation(
                [0.06, -0.26, 1.2]
            )
        )
    return StandInBody(trimesh.util.concatenate(parts))


def tube_drape(*, radius: float = 0.19, height: float = 0.4, sections: int = 40, stretch=None):
    """A ``sim.Drape`` of an open tube around the torso, with per-vertex UVs (8 tiles round) and
    per-face stretch ``stretch(face_centres) -> %`` (default: 100 %)."""
    from tryon3d.sim import Drape, DrapeGates

    tube = trimesh.creation.cylinder(radius=radius, height=height, sections=sections)
    tube = tube.subdivide()
    keep = np.abs(tube.face_normals[:, 2]) < 0.5  # drop the caps
    tube = trimesh.Trimesh(tube.vertices, tube.faces[keep], process=False)
    tube.remove_unreferenced_vertices()
    tube.apply_translation([0, 0, 1.2])
    vertices = np.asarray(tube.vertices)
    faces = np.asarray(tube.faces)
    uv = np.stack(
        [np.arctan2(vertices[:, 1], vertices[:, 0]) / (2 * np.pi) * 8, vertices[:, 2] * 8], axis=1
    )
    centres = vertices[faces].mean(axis=1)
    stretch_pct = (
        np.full(len(faces), 100.0) if stretch is None else np.asarray(stretch(centres), float)
    )
    distance = np.full(len(vertices), radius - 0.16)
    return Drape(
        positions=vertices,
        rest_pose_positions=vertices,
        faces=faces,
        uv=uv,
        stretch_pct=stretch_pct,
        stretch_min_pct=stretch_pct,
        stretch_warp_pct=stretch_pct,
        stretch_weft_pct=stretch_pct,
        body_distance_m=distance,
        contact_pressure_pa=np.where(vertices[:, 2] > 1.3, 800.0, 0.0),
        ease_m={"chest": 0.19},
        gates=DrapeGates(0, 0, 0.0, float(stretch_pct.max()), True),
        timings_s={"total": 0.0},
        device="cpu",
        frames=0,
        garment_name="tube",
        garment_size="M",
        fabric_name="cotton_jersey",
    )


def checker_texture(size: int = 32) -> np.ndarray:
    texture = np.full((size, size, 3), 235, np.uint8)
    half = size // 2
    texture[:half, :half] = texture[half:, half:] = (200, 20, 20)
    return texture


def synthetic_photo(body, camera, *, seed: int = 0, light_rgb=(1.0, 1.0, 1.0), spp: int = 16):
    """A 'photo' of the body: rendered (no garment) under tinted studio light over a noisy
    background. Returns (photo (H, W, 3) uint8, person mask (H, W) bool)."""
    from tryon3d import render
    from tryon3d.render._lights import studio_environment
    from tryon3d.render._scene import StudioScene

    environment = studio_environment(camera, rgb_scale=light_rgb)
    scene = StudioScene(body.vertices, body.faces, [], camera, spp=spp, environment=environment)
    rendering = scene.render(seed=seed)
    rng = np.random.default_rng(seed)
    background = (rng.uniform(0.3, 0.7, (camera.height, camera.width, 3))).astype(np.float32)
    background[:, :, 2] *= np.linspace(0.6, 1.0, camera.width)[None, :]
    alpha = rendering.rgba[..., 3:4]
    photo = rendering.rgba[..., :3] * alpha + background * (1 - alpha)
    del render
    return np.round(photo * 255).astype(np.uint8), rendering.mask > 0.5


def over_gradient(rgba: np.ndarray, *, base=(0.75, 0.72, 0.6)) -> np.ndarray:
    """A render (H, W, 4 linear-ish RGBA in [0, 1]) over a smooth two-way gradient backdrop of
    ``base`` RGB (darker down, greener right), as an (H, W, 3) uint8 'photo'."""
    height, width = rgba.shape[:2]
    v, u = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
    backdrop = np.stack([base[0] - 0.2 * v, base[1] + 0.1 * u, base[2] + 0.0 * u], axis=-1)
    alpha = rgba[..., 3:4]
    return ((rgba[..., :3] * alpha + backdrop * (1 - alpha)) * 255 + 0.5).astype(np.uint8)


def posed_body(body, rotations: dict):
    """``body`` (a ``bodyfit.Body``) posed by ``rotations`` (bone name -> axis-angle [rad])."""
    from tryon3d.bodyfit._anny_model import load_anny_model
    from tryon3d.bodyfit._anny_pose import pose_anny_vertices

    pose = np.zeros((len(body.joint_names), 3))
    for bone, rotation in rotations.items():
        pose[body.joint_names.index(bone)] = rotation
    vertices, joints = pose_anny_vertices(
        load_anny_model(), body.rest_vertices, body.rest_joints, pose
    )
    return body.with_pose(vertices, joints, pose)


def tee_shot(
    body,
    *,
    size: int = 384,
    spp: int = 8,
    seed: int = 3,
    edge_length_m: float = 0.05,
    eye=(0.2, -4.2, 1.0),
    tee_size: str = "M",
):
    """``body`` in a navy tee (women's chart size ``tee_size``) draped by the simulator,
    rendered from ``eye`` (30 deg field of view, aimed at 0.85 m) at ``size`` px: the
    ``render.Rendering``."""
    from tryon3d import garments, render, sim
    from tryon3d.render._scene import _layers_from_drape

    tee = garments.load_garment("tshirt", size=tee_size, body=body, edge_length_m=edge_length_m)
    layers = _layers_from_drape(sim.drape(body, tee, device="cpu"), color=(0.05, 0.12, 0.45))
    camera = render.look_at_camera(eye, (0.0, 0.0, 0.85), fov_y_deg=30.0, width=size, height=size)
    return render.render_body(
        body, garments=layers, camera=camera, spp=spp, seed=seed, skin_color=(0.62, 0.40, 0.30)
    )
