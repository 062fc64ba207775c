"""A garment mesh modelled on another avatar's pose brought to our body's rest pose.

Meshes from CLO, Marvelous or research templates are often modelled on a T-posed avatar (arms
out) or with legs apart; our body's rest pose is an A-pose. The source pose is read from the
garment itself, the axis of each limb tube (a sleeve: from the body's shoulder joint to the
sleeve's far opening; a trouser leg: from the hip joint to the leg opening), and the tube is
unposed: each vertex turns about that joint, towards the body's own bone (shoulder to elbow,
hip to knee), by a weight that rises smoothly from the torso into the tube (a two-bone
skinning whose weights come from the vertex's position along the tube axis). Collisions are
resolved afterwards by the placement's push-out.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body

__all__ = ["unpose_limbs"]

_MIN_TURN_RAD = np.radians(8.0)  # smaller differences are the garment's cut, not a pose
_MIN_REACH_M = 0.08  # an opening this far out along its limb is a sleeve or a leg, not a hole
_BLEND_M = (-0.04, 0.06)  # weight 0 -> 1 over this span along the tube axis from the joint
_TUBE_WIDEN = 1.5  # a tube's reach from its axis: its opening's radius times this (the cap)


def _smoothstep(t: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, smooth between (no kink where a tube meets the torso)."""
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _rotate(points: np.ndarray, axis: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Rodrigues: each point (N, 3) turned by its own angle (N,) [rad] about a unit axis."""
    c, s = np.cos(angles)[:, None], np.sin(angles)[:, None]
    return points * c + np.cross(axis, points) * s + np.outer(points @ axis, axis) * (1 - c)


def _along_chain(chain: np.ndarray, reach: float) -> np.ndarray:
    """The point of the polyline ``chain`` (K, 3) [m] ``reach`` [m] from its start, measured
    along it (its end, extended straight, beyond)."""
    for a, b in itertools.pairwise(chain):
        length = float(np.linalg.norm(b - a))
        if reach <= length:
            return a + (b - a) * (reach / length)
        reach -= length
    a, b = chain[-2], chain[-1]
    return b + (b - a) / np.linalg.norm(b - a) * reach


def unpose_limbs(
    positions: np.ndarray, loops: list[np.ndarray], body: Body, kind: str
) -> tuple[np.ndarray, list[str]]:
    """Sleeves (tops, dresses) or trouser legs (bottoms) of a garment already aligned with the
    body (neck or waist on the body's) turned from the pose they were modelled in onto the
    body's rest-pose limbs.

    Args:
        positions: garment vertex positions, z-up [m], shape (N, 3), aligned with ``body``.
        loops: its openings, vertex id arrays (``mesh_kind_and_loops``).
        body: the Body; its ``skeleton_m`` joints (shoulder-elbow-wrist, hip-knee-ankle) give
            the pivots and where each limb's opening goes.
        kind: ``"top"``, ``"dress"`` or ``"bottom"``.

    Returns:
        (positions (N, 3) [m], log lines: each limb turned and by how much).
    """
    skeleton = getattr(body, "skeleton_m", None) or {}
    joints = ("hip", "knee", "ankle") if kind == "bottom" else ("shoulder", "elbow", "wrist")
    start = np.asarray(positions, dtype=np.float64)
    out = start.copy()
    middle = 0.5 * (out[:, 0].min() + out[:, 0].max())
    lowest = min((float(out[lp, 2].mean()) for lp in loops), default=0.0)
    highest = max((float(out[lp, 2].mean()) for lp in loops), default=0.0)
    log = []
    for side, sign in (("left", 1.0), ("right", -1.0)):
        chain = [skeleton.get(f"{joint}_{side}") for joint in joints]
        if any(point is None for point in chain):
            continue
        pivot = np.asarray(chain[0], np.float64)
        # the limb's far opening on this side: not the neck or the hem (tops), not the waist
        # (bottoms), the one farthest from the joint
        candidates = [
            lp
            for lp in loops
            if sign * (float(start[lp, 0].mean()) - middle) > 0.04
            and (
                float(start[lp, 2].mean()) > lowest + 0.02
                if kind != "bottom"
                else float(start[lp, 2].mean()) < highest - 0.02
            )
        ]
        if not candidates:
            continue
        far = max(candidates, key=lambda lp: float(np.linalg.norm(start[lp].mean(axis=0) - pivot)))
        opening = start[far].mean(axis=0)
        source = opening - pivot
        reach = float(np.linalg.norm(source))
        if reach < _MIN_REACH_M:
            continue
        source /= reach
        # where the body's limb is as far from the joint as the opening: along the bone chain
        # (a short sleeve ends by the elbow, a long one at the wrist, a trouser leg at the ankle)
        target = _along_chain(np.asarray(chain, np.float64), reach) - pivot
        target /= np.linalg.norm(target)
        turn = float(np.arccos(np.clip(source @ target, -1.0, 1.0)))
        if turn < _MIN_TURN_RAD:
            continue
        axis = np.cross(source, target)
        axis /= np.linalg.norm(axis)
        relative = start - pivot
        along = relative @ source
        # the tube: points along its axis past the joint and within its radius of the axis
        # (the opening's, widened towards the cap), not the torso below or beside it
        radial = np.linalg.norm(relative - np.outer(along, source), axis=1)
        radius = _TUBE_WIDEN * float(np.linalg.norm(start[far] - opening, axis=1).mean())
        weight = _smoothstep((along - _BLEND_M[0]) / (_BLEND_M[1] - _BLEND_M[0]))
        weight *= _smoothstep((radius + _BLEND_M[1] - radial) / _BLEND_M[1])
        weight[sign * (out[:, 0] - middle) <= 0] = 0.0  # the other side stays
        moving = weight > 0
        out[moving] = pivot + _rotate(relative[moving], axis, weight[moving] * turn)
        limb = "leg" if kind == "bottom" else "sleeve"
        log.append(
            f"unposed its {side} {limb}: modelled {np.degrees(turn):.0f} degrees off the body's "
            f"{joints[0]}-{joints[1]}-{joints[2]} line (another avatar's pose), turned onto it"
        )
    return out, log
