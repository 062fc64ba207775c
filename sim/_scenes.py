"""Small analytic scenes: a revolved torso body and tube/skirt/sheet garments.

They stand in for real bodies and garments in tests, in :func:`sim.warm_up_kernels` and in
examples, and are cheap (a few hundred to a few thousand vertices).
"""

from __future__ import annotations

import itertools

import numpy as np

from tryon3d.bodyfit import MEASUREMENT_NAMES, REGION_NAMES, Body
from tryon3d.garments import Fabric, Garment

__all__ = ["revolved_body", "skirt_garment", "test_fabric"]

# (radius [m], height [m]) of the torso profile, bottom to top; a closed solid of revolution.
_PROFILE = (
    (0.0, 0.55),
    (0.13, 0.56),
    (0.150, 0.70),
    (0.158, 0.88),  # hips
    (0.140, 0.98),
    (0.128, 1.05),  # waist
    (0.140, 1.15),
    (0.150, 1.25),  # chest
    (0.140, 1.38),
    (0.070, 1.45),
    (0.060, 1.52),  # neck
    (0.040, 1.56),
    (0.0, 1.57),
)


def _revolve(profile: np.ndarray, sections: int) -> tuple[np.ndarray, np.ndarray]:
    """Closed surface of revolution around z; profile rows (radius, z), first and last radius 0."""
    rings = profile[1:-1]
    angles = np.linspace(0.0, 2.0 * np.pi, sections, endpoint=False)
    ring_vertices = np.stack(
        [
            np.outer(rings[:, 0], np.cos(angles)),
            np.outer(rings[:, 0], np.sin(angles)),
            np.repeat(rings[:, 1:2], sections, axis=1),
        ],
        axis=-1,
    ).reshape(-1, 3)
    bottom = np.array([[0.0, 0.0, profile[0, 1]]])
    top = np.array([[0.0, 0.0, profile[-1, 1]]])
    vertices = np.concatenate([ring_vertices, bottom, top])
    b, t = len(ring_vertices), len(ring_vertices) + 1
    faces = []
    j = np.arange(sections)
    jn = (j + 1) % sections
    for r in range(len(rings) - 1):
        a0, a1 = r * sections + j, r * sections + jn
        c0, c1 = (r + 1) * sections + j, (r + 1) * sections + jn
        faces.append(np.stack([a0, a1, c1], axis=1))
        faces.append(np.stack([a0, c1, c0], axis=1))
    faces.append(np.stack([np.full(sections, b), jn, j], axis=1))
    last = (len(rings) - 1) * sections
    faces.append(np.stack([np.full(sections, t), last + j, last + jn], axis=1))
    return vertices, np.concatenate(faces).astype(np.int64)


def _refine_profile(profile: np.ndarray, spacing: float) -> np.ndarray:
    out = [profile[0]]
    for p, q in itertools.pairwise(profile):
        steps = max(1, int(np.ceil(np.linalg.norm(q - p) / spacing)))
        for s in range(1, steps + 1):
            out.append(p + (q - p) * s / steps)
    return np.array(out)


def revolved_body(*, sections: int = 48, spacing_m: float = 0.025) -> Body:
    """A torso-like closed solid of revolution (hips 0.99 m, waist 0.80 m, chest 0.94 m girth).

    Only the fields sim/ reads are meaningful; joints are a single root, every vertex is
    ``torso``. The target pose equals the rest pose.

    Args:
        sections: vertices per horizontal ring.
        spacing_m: largest distance between profile samples [m].
    """
    profile = _refine_profile(np.array(_PROFILE, dtype=np.float64), spacing_m)
    vertices, faces = _revolve(profile, sections)
    radius_at = {
        name: dict(hips=0.158, waist=0.128, chest=0.150)[name]
        for name in ("hips", "waist", "chest")
    }
    measurements = {name: 0.0 for name in MEASUREMENT_NAMES}
    measurements.update({name: 2.0 * np.pi * r for name, r in radius_at.items()})
    measurements["stature"] = 1.57
    landmarks = {
        "hips": (0.0, 0.0, 0.88),
        "waist": (0.0, 0.0, 1.05),
        "chest": (0.0, 0.0, 1.25),
        "neck": (0.0, 0.0, 1.52),
        "crotch": (0.0, 0.0, 0.56),
    }
    joints = np.array([[0.0, 0.0, 1.0]])
    return Body(
        vertices=vertices,
        faces=faces,
        uv=np.zeros((1, 2)),
        uv_faces=np.zeros_like(faces),
        rest_vertices=vertices,
        joints=joints,
        rest_joints=joints,
        joint_names=("root",),
        joint_parents=np.array([-1]),
        vertex_regions=np.full(len(vertices), REGION_NAMES.index("torso")),
        pose=np.zeros((1, 3)),
        shape_parameters={},
        measurements_m=measurements,
        landmarks_m={name: np.array(xyz) for name, xyz in landmarks.items()},
        weight_kg=30.0,
        # an analytic stand-in, built by no body model: the one Body outside the closed set
        model="revolved",  # type: ignore[arg-type]
    )


def test_fabric() -> Fabric:
    """A jersey-like fabric for tests (stiffnesses in the range Style3D's examples use)."""
    return Fabric(
        name="test_jersey",
        areal_density_kg_m2=0.18,
        stretch_warp_n_m=300.0,
        stretch_weft_n_m=150.0,
        shear_n_m=30.0,
        bending_n_m=2.0e-5,
        friction=0.4,
        stretch_limit_pct=130.0,
        thickness_m=0.001,
    )


test_fabric.__dict__["__test__"] = False  # not a pytest test


def _grid_faces(nx: int, ny: int) -> np.ndarray:
    i, j = np.meshgrid(np.arange(nx - 1), np.arange(ny - 1), indexing="ij")
    a = (j * nx + i).ravel()
    b, c, d = a + 1, a + nx + 1, a + nx
    return np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)]).astype(np.int64)


def skirt_garment(
    *,
    top_girth_m: float = 0.84,
    bottom_girth_m: float = 1.30,
    length_m: float = 0.40,
    top_z_m: float = 1.08,
    edge_m: float = 0.02,
    fabric: Fabric | None = None,
    size: str = "M",
) -> Garment:
    """A one-panel flared skirt: an annular-sector pattern closed by a back seam, placed as a cone.

    The pattern lies in the panel's (x, y) frame with the grain (warp) along +y (down the
    centre front). The cone unrolls exactly to the pattern, so the placed shape is unstretched.

    Args:
        top_girth_m / bottom_girth_m: waist and hem girth [m].
        length_m: skirt length [m]; top_z_m: height of the waist band [m].
        edge_m: target triangle edge length [m] (about 1.5k vertices at 2 cm).
    """
    fabric = fabric or test_fabric()
    ny = max(3, round(length_m / edge_m) + 1)
    nx = max(8, round(bottom_girth_m / edge_m) + 1)
    s = np.linspace(0.0, 1.0, nx)  # around (0 at the seam, 1 at the seam again)
    t = np.linspace(0.0, 1.0, ny)  # 0 at the waist, 1 at the hem
    # pattern: the hem is wider; rows are centred on x = 0, the waist at y = length.
    ss, tt = np.meshgrid(s, t, indexing="xy")
    r0, r1 = top_girth_m / (2.0 * np.pi), bottom_girth_m / (2.0 * np.pi)
    if not 0.0 < r1 - r0 < length_m:
        raise ValueError(
            "skirt needs top_girth_m < bottom_girth_m < top_girth_m + 2*pi*length_m, got "
            f"{top_girth_m}, {bottom_girth_m}"
        )
    # developable: the cone unrolls to an annular sector (apex distance rho, sector angle phi)
    rho0 = r0 * length_m / (r1 - r0)
    phi = 2.0 * np.pi * r0 / rho0
    rho = rho0 + length_m * tt
    theta = phi * (ss - 0.5)
    pattern = np.stack(
        [rho * np.sin(theta), rho0 + length_m - rho * np.cos(theta)], axis=-1
    ).reshape(-1, 2)
    radius = r0 + (r1 - r0) * tt
    angle = -np.pi / 2.0 + 2.0 * np.pi * ss  # seam at the back (+y), front faces -y
    drop = np.sqrt(length_m**2 - (r1 - r0) ** 2) * tt
    positions = np.stack(
        [radius * np.cos(angle + np.pi), radius * np.sin(angle + np.pi), top_z_m - drop], axis=-1
    ).reshape(-1, 3)
    faces = _grid_faces(nx, ny)
    # orient outward: normal of the first face must point away from the z axis
    tri = positions[faces[0]]
    normal = np.cross(tri[1] - tri[0], tri[2] - tri[0])
    centre = tri.mean(axis=0)
    if np.dot(normal[:2], centre[:2]) < 0.0:
        faces = faces[:, [0, 2, 1]]
        pattern = pattern * np.array([-1.0, 1.0])
    rows = np.arange(ny)
    seam = np.stack([rows * nx, rows * nx + nx - 1], axis=1)
    return Garment(
        name="skirt",
        size=size,
        fabric=fabric,
        positions=positions,
        faces=faces,
        uv=(pattern / 0.1).astype(np.float32),
        vertex_panels=np.zeros(len(positions), dtype=np.int32),
        panel_names=("skirt",),
        seam_pairs=seam,
        grain_directions=np.array([[0.0, 1.0]]),
        pattern_positions=pattern,
    )
