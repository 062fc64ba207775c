"""The body as a cloth collider: contact distances, armpits kept open."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tryon3d.sim import _cache  # noqa: F401  (sets WARP_CACHE_PATH before warp loads)

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body

#: Collision distance between cloth and body [m] on top of the fabric thickness.
BODY_GAP_M = 0.002
#: Smallest cloth-cloth collision distance [m].
SELF_COLLISION_MIN_M = 0.002
#: Cloth-cloth collision distance per metre of mesh edge: coarse triangles stand for the cloth
#: surface less closely, so they keep further apart (3-4 cm triangles folded at an armpit slip
#: through each other at 2 mm; a 1 cm mesh needs no more than the minimum, and costs 1.6x per
#: frame at 3 mm).
SELF_COLLISION_PER_EDGE = 0.1


def self_collision_distance(thickness_m: float, edge_m: float) -> float:
    """Cloth-cloth collision distance [m] for a fabric ``thickness_m`` [m] thick, meshed with
    edges of about ``edge_m`` [m]."""
    return max(2.0 * thickness_m, SELF_COLLISION_MIN_M, SELF_COLLISION_PER_EDGE * edge_m)


def collider_vertices(
    body: Body, vertices: np.ndarray, thickness_m: float = 0.0, edge_m: float = 0.0
) -> np.ndarray:
    """The collider's vertices [m], (V, 3): ``vertices`` of ``body`` with overlapping thighs
    pressed flat against the body's midline, and upper arms pressed out of the trunk's side,
    leaving room for two layers of cloth of ``thickness_m`` [m] between them (meshed at
    ``edge_m`` [m], see ``self_collision_distance``).

    Skinning and blend shapes do not collide, so a heavy body's thighs interpenetrate, and a
    posed arm (arms down, swinging) sinks up to 2 cm into the trunk below the armpit. Cloth has
    no place there: the penalty contacts push a trouser inseam back and forth through one
    thigh into the other, and pinch a sleeve and the bodice side into each other (crossing
    triangles, a cloth that never comes to rest). Real thighs flatten against each other, and an
    arm's soft side against the chest: leg vertices closer to the midline plane (the crotch's x)
    than half a slit move back to it; arm vertices below the armpit (8 cm under the acromion)
    closer to the trunk's side than a slit move out to it along x. The trunk's side at an arm
    vertex is the outermost trunk vertex within 1.5 cm in (y, z). A slit holds two layers at
    their contact distance (each ``thickness_m`` + ``BODY_GAP_M`` from its body part) plus the
    cloth-cloth distance between them, so the seams neither touch the skin nor cross each other.
    Bodies without these regions or landmarks are returned unchanged, and legs crossed
    (a lower leg past the midline, ``_leg_crosses``) keep their thighs as posed.
    """
    half_gap = (
        float(thickness_m)
        + BODY_GAP_M
        + 0.5 * self_collision_distance(float(thickness_m), float(edge_m))
    )
    out = np.array(vertices, dtype=np.float64)
    landmarks = getattr(body, "landmarks_m", {})
    if not hasattr(body, "region_mask"):
        return out
    crotch = landmarks.get("crotch")
    left, right = body.region_mask("leg_left"), body.region_mask("leg_right")
    if crotch is not None and left.any() and right.any():
        mid = float(crotch[0])
        rest = np.asarray(body.rest_vertices)
        side = (
            1.0 if rest[left, 0].mean() > rest[right, 0].mean() else -1.0
        )  # +x is the left leg's side
        pairs = ((left, side), (right, -side))
        # Crossed legs pass each other at different depths: a midline slit would flatten the
        # crossing leg's whole shin onto it (up to 10 cm: the trousers over it tunnel in).
        if not any(_leg_crosses(out, mask, mid, sign) for mask, sign in pairs):
            for mask, sign in pairs:
                crossing = mask & (sign * (out[:, 0] - mid) < half_gap)
                out[crossing, 0] = mid + sign * half_gap
    _open_armpits(body, out, 2.0 * half_gap)
    return out


#: The lower share of a leg's height whose mean x tells which side of the midline it stands on.
LEG_FOOT_SHARE = 0.25


def _leg_crosses(vertices: np.ndarray, leg: np.ndarray, mid_x: float, sign: float) -> bool:
    """Whether the leg (``leg``: vertex mask) stands with its lowest ``LEG_FOOT_SHARE`` (the
    lower shin and foot) past the midline ``mid_x`` [m], on the side ``-sign`` (crossed)."""
    points = vertices[leg]
    z = points[:, 2]
    low = z <= z.min() + LEG_FOOT_SHARE * (z.max() - z.min())
    return bool(sign * (points[low, 0].mean() - mid_x) < 0.0)


#: Arm vertices this far [m] under the acromion and lower are kept out of the trunk's side.
ARMPIT_BELOW_ACROMION_M = 0.08
#: The trunk's side at an arm vertex: the outermost trunk vertex within this (y, z) distance [m].
ARMPIT_PROBE_M = 0.015


def _open_armpits(body: Body, vertices: np.ndarray, gap_m: float) -> None:
    """Move arm vertices below the armpit out along x until they are ``gap_m`` [m] outside the
    trunk's side (in place; see ``collider_vertices``)."""
    from scipy.spatial import cKDTree

    trunk = body.region_mask("torso")
    for side in ("left", "right"):
        acromion = body.landmarks_m.get(f"acromion_{side}")
        arm = body.region_mask(f"arm_{side}")
        if acromion is None or not (arm.any() and trunk.any()):
            continue
        sign = 1.0 if acromion[0] > 0 else -1.0
        own_trunk = vertices[trunk & (sign * vertices[:, 0] > 0)]
        candidates = np.flatnonzero(
            arm & (vertices[:, 2] < float(acromion[2]) - ARMPIT_BELOW_ACROMION_M)
        )
        if len(own_trunk) == 0 or len(candidates) == 0:
            continue
        near = cKDTree(own_trunk[:, 1:]).query_ball_point(vertices[candidates, 1:], ARMPIT_PROBE_M)
        for index, found in zip(candidates, near, strict=True):
            if found:
                wall = float((sign * own_trunk[found, 0]).max()) + gap_m
                if sign * vertices[index, 0] < wall:
                    vertices[index, 0] = sign * wall
