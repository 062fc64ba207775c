"""GarmentCode pattern specifications (JSON) read into our ``Pattern`` and written from it.

GarmentCode's format (learnt from its files): ``pattern.panels`` maps a panel name to its 2D
``vertices``, its ``edges`` (``endpoints`` = two vertex indices, optional ``curvature``:
``quadratic``/``cubic`` control points relative to the edge, x along it and y along its left
normal, both as fractions of its length; ``circle`` = radius, large-arc and right flags), and
its placement around GarmentCode's mean body: ``rotation`` (Euler XYZ, intrinsic, degrees) and
``translation`` of the panel frame in a y-up, z-forward world (person's left = +x).
``pattern.stitches`` pairs panel edges; ``properties.units_in_meter`` gives the unit.

Their placement is mapped onto *our* body by landmark, not by one global factor: each panel is
classified by where it hangs on GarmentCode's body (a sleeve beyond the shoulder, a torso panel
reaching the bust line, a skirt below the waist, a trouser leg on one side) and gets our
``Placement``: hung from the shoulder (tops, and the skirt of a dress with them), from the
waist (skirts and trousers alone) or from the acromion along the arm axis (sleeves), centred
where GarmentCode's body axis (or its arm's top line) meets the panel. Our placement then wraps
it around the user's body, so the garment keeps its own size and lengths.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from tryon3d.garments._pattern import (
    Edge,
    Panel,
    Pattern,
    Placement,
    Seam,
    panel_widths,
    sample_edge,
)

__all__ = ["GARMENTCODE_MEAN_BODY_CM", "pattern_to_garmentcode", "read_garmentcode"]

#: GarmentCode's mean body (``mean_all`` body), the measurements its templates are laid
#: around [cm, degrees]; a ``*body*.yaml`` next to the file, or ``source_body=``, overrides it.
GARMENTCODE_MEAN_BODY_CM: dict[str, float] = {
    "height": 171.99,
    "head_l": 26.33,
    "shoulder_w": 36.46,
    "neck_w": 18.93,
    "shoulder_incl": 21.68,
    "bust_line": 25.69,
    "waist_line": 36.89,
    "hips_line": 23.48,
    "bust": 99.84,
    "waist": 84.33,
    "hips": 103.48,
    "arm_length": 53.97,
    "arm_pose_angle": 45.48,
    "crotch_hip_diff": 8.81,
}

#: Refused before parsing: files, panels and edges beyond these (raise with ``limits=``).
_LIMITS = {"file_bytes": 16_000_000, "panels": 256, "edges_per_panel": 2000}
_ARM_MARGIN_CM = 5.0  # a panel whose centre lies this far beyond the shoulder point is a sleeve
_LEG_OFFSET_CM = 4.0  # a long panel below the torso centred this far off the midline is a leg
_SNAP_DEG = 20.0  # a panel's up direction snaps to its own frame axis within this angle
_ARM_OFFSET_CM = 10.0  # written sleeves float this far above the arm axis (GarmentCode layout)
_FRONT_Z_CM, _BACK_Z_CM = 25.0, -20.0  # written front/back panels' planes (GarmentCode layout)


def _rotation(angles_deg: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_euler("XYZ", angles_deg, degrees=True).as_matrix()


def _angles(matrix: np.ndarray) -> list[float]:
    import warnings

    from scipy.spatial.transform import Rotation

    with warnings.catch_warnings():  # gimbal lock (a back panel's 180 degrees) is harmless here
        warnings.simplefilter("ignore")
        angles = Rotation.from_matrix(matrix).as_euler("XYZ", degrees=True)
    return [float(a) + 0.0 for a in np.round(angles, 12)]


def _read_body(
    source_body: dict | str | os.PathLike | None, folder: Path | None
) -> dict[str, float]:
    """GarmentCode body measurements [cm]: a dict, a YAML file, ``*body*.yaml`` beside the
    pattern, or the built-in mean body."""
    body = dict(GARMENTCODE_MEAN_BODY_CM)
    data = source_body
    if data is None and folder is not None:
        found = sorted(folder.glob("*body*.yaml"))
        data = found[0] if found else None
    if isinstance(data, (str, os.PathLike)):
        import yaml

        loaded = yaml.safe_load(Path(data).read_text(encoding="utf-8"))  # safe: plain data only
        data = loaded.get("body", loaded) if isinstance(loaded, dict) else None
        if not isinstance(data, dict):
            raise ValueError(f"GarmentCode body file {str(source_body)!r} holds no measurements")
    if isinstance(data, dict):
        for key, value in data.items():
            if key in body and isinstance(value, (int, float)) and math.isfinite(value):
                body[key] = float(value)
    return body


def _levels(body: dict[str, float], neck: float | None = None) -> dict[str, float]:
    """Heights [GarmentCode cm] of the body's levels; ``neck`` overrides the base of the neck
    (the top of the torso panels, where GarmentCode hangs them)."""
    neck = body["height"] - body["head_l"] if neck is None else neck
    drop = math.tan(math.radians(body["shoulder_incl"])) * (body["shoulder_w"] - body["neck_w"]) / 2
    waist = neck - body["waist_line"]
    return {
        "neck": neck,
        "shoulder": neck - drop,
        "bust": neck - body["bust_line"],
        "waist": waist,
        "hips": waist - body["hips_line"],
        "crotch": waist - body["hips_line"] - body["crotch_hip_diff"],
    }


def _arm_axis(body: dict[str, float], sign: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shoulder point (3,), unit direction down the arm (3,) and the arm's top direction (3,)
    of GarmentCode's body, left arm ``sign = 1``, right ``-1`` [GarmentCode cm]."""
    theta = math.radians(body["arm_pose_angle"])
    level = _levels(body)["shoulder"]
    shoulder = np.array([sign * body["shoulder_w"] / 2, level, 0.0])
    down = np.array([sign * math.cos(theta), -math.sin(theta), 0.0])
    top = np.array([sign * math.sin(theta), math.cos(theta), 0.0])
    return shoulder, down, top


def _abs_controls(
    start: np.ndarray, end: np.ndarray, curvature: dict, relative: bool
) -> tuple[np.ndarray, bool]:
    """An edge's points (K, 2) from its ``curvature`` and whether they are Bezier controls."""
    kind = curvature.get("type")
    params = np.asarray(curvature.get("params", []), dtype=np.float64)
    if kind in ("quadratic", "cubic"):
        want = 1 if kind == "quadratic" else 2
        if params.shape != (want, 2) or not np.isfinite(params).all():
            raise ValueError(
                f"a {kind} edge needs {want} control point(s) (x, y), got {params.tolist()}"
            )
        if relative:
            vec = end - start
            perp = np.array([-vec[1], vec[0]])  # the edge's left normal
            params = start + params[:, :1] * vec + params[:, 1:] * perp
        return np.vstack([start, params, end]), True
    if kind == "circle":
        radius, large_arc, right = (float(v) for v in params.reshape(-1)[:3])
        return _arc(start, end, radius, bool(large_arc), bool(right)), False
    raise ValueError(f"unknown edge curvature type {kind!r}; expected quadratic, cubic or circle")


def _arc(
    start: np.ndarray, end: np.ndarray, radius: float, large: bool, right: bool, count: int = 16
) -> np.ndarray:
    """A circular arc from ``start`` to ``end`` as a polyline (count+1, 2); ``right``: it bulges
    to the right of start->end."""
    chord = end - start
    half = float(np.linalg.norm(chord)) / 2
    if not math.isfinite(radius) or radius < half - 1e-9 or half == 0:
        raise ValueError(f"a circle edge of radius {radius} cannot span a chord of {2 * half}")
    mid = (start + end) / 2
    left = np.array([-chord[1], chord[0]]) / (2 * half)
    depth = math.sqrt(max(radius**2 - half**2, 0.0))
    bulge = -left if right else left  # the arc's side
    center = mid - bulge * depth if not large else mid + bulge * depth
    a0 = math.atan2(*(start - center)[::-1])
    a1 = math.atan2(*(end - center)[::-1])
    sweep = (a1 - a0) % (2 * math.pi)
    mid_dir = np.array([math.cos(a0 + sweep / 2), math.sin(a0 + sweep / 2)])
    if mid_dir @ bulge < 0:  # go round the other way
        sweep -= 2 * math.pi
    angles = a0 + sweep * np.linspace(0.0, 1.0, count + 1)
    points = center + radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    points[0], points[-1] = start, end
    return points


def _snap(direction: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """``direction`` (unit, in the panel plane) snapped to the nearest of the panel frame's
    in-plane axes when within ``_SNAP_DEG`` (GarmentCode drafts along its axes)."""
    axes = [s * rotation[:, k] for k in (0, 1) for s in (1.0, -1.0)]
    best = max(axes, key=lambda a: float(a @ direction))
    return best if float(best @ direction) >= math.cos(math.radians(_SNAP_DEG)) else direction


def _frame(
    rotation: np.ndarray, normal: np.ndarray, up: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Our panel frame (x', y') in 3D: y' = ``up`` in the panel plane, x' = y' x normal (to the
    right seen from outside); None when ``up`` is perpendicular to the panel."""
    inplane = up - (up @ normal) * normal
    if np.linalg.norm(inplane) < 1e-6:
        return None
    y_axis = _snap(inplane / np.linalg.norm(inplane), rotation)
    return np.cross(y_axis, normal), y_axis


def _check_limits(text_bytes: int, spec: dict, name: str) -> None:
    if text_bytes > _LIMITS["file_bytes"]:
        raise ValueError(
            f"GarmentCode file {name!r} is {text_bytes} bytes, over the limit of "
            f"{_LIMITS['file_bytes']} (garments._garmentcode._LIMITS['file_bytes'])"
        )
    pattern = spec.get("pattern") if isinstance(spec, dict) else None
    if (
        not isinstance(pattern, dict)
        or not isinstance(pattern.get("panels"), dict)
        or not pattern["panels"]
    ):
        raise ValueError(f"{name!r} is not a GarmentCode specification: no pattern.panels")
    if len(pattern["panels"]) > _LIMITS["panels"]:
        raise ValueError(
            f"GarmentCode file {name!r} has {len(pattern['panels'])} panels, over the limit "
            f"of {_LIMITS['panels']} (garments._garmentcode._LIMITS['panels'])"
        )
    for panel_name, panel in pattern["panels"].items():
        if (
            not isinstance(panel, dict)
            or not isinstance(panel.get("edges"), list)
            or not isinstance(panel.get("vertices"), list)
        ):
            raise ValueError(f"GarmentCode panel {panel_name!r} needs 'vertices' and 'edges' lists")
        if len(panel["edges"]) > _LIMITS["edges_per_panel"]:
            raise ValueError(
                f"GarmentCode panel {panel_name!r} has {len(panel['edges'])} edges, over the "
                f"limit of {_LIMITS['edges_per_panel']}"
            )


def read_garmentcode(
    source: str | os.PathLike | dict,
    *,
    source_body: dict | str | os.PathLike | None = None,
    name: str | None = None,
) -> Pattern:
    """A GarmentCode pattern specification as our ``Pattern``, placed for our body.

    Args:
        source: the ``*_specification.json`` file, or its parsed dict.
        source_body: GarmentCode's body measurements [cm] the pattern was laid around: a dict or
            a YAML file (``body:`` mapping); None: a ``*body*.yaml`` in the file's folder, else
            ``GARMENTCODE_MEAN_BODY_CM``.
        name: pattern name (None: the file name without ``_specification``).

    Returns:
        The pattern in metres: panels in our frame (counter-clockwise seen from outside, y up
        or, for sleeves, towards the shoulder), edges named by their ``label`` or ``e<index>``,
        seams from the stitches, a ``Placement`` per panel, ``girths_m`` at GarmentCode's bust,
        waist and hip levels (of the torso or skirt panels that cross them), and
        ``metadata["garmentcode"]`` (units, source body, panel classes).

    Raises:
        ValueError: not a GarmentCode specification, over the limits, bad edges or stitches.
    """
    folder = None
    if isinstance(source, dict):
        spec, label, size = source, name or "garmentcode", 0
    else:
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"GarmentCode file {str(path)!r} not found")
        size = path.stat().st_size
        _check_limits(
            size, {"pattern": {"panels": {"_": {"edges": [], "vertices": []}}}}, path.name
        )
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read GarmentCode file {path.name!r}: {exc}") from None
        label = name or path.stem.removesuffix("_specification")
        folder = path.parent
    _check_limits(size, spec, label)
    props = spec.get("properties", {}) or {}
    units = float(props.get("units_in_meter", 100))
    if not math.isfinite(units) or units <= 0:
        raise ValueError(
            f"GarmentCode units_in_meter must be positive, got {props.get('units_in_meter')}"
        )
    relative = props.get("curvature_coords", "relative") == "relative"
    body = _read_body(source_body, folder)
    raw = _raw_panels(spec["pattern"]["panels"], relative)
    classes = _classify(raw, body)
    panels, placements = [], {}
    for pname, item in raw.items():
        placements[pname] = _placement(item, classes, body, pname)
        panels.append(_to_panel(pname, item, placements[pname], units, body))
    seams = _seams(spec["pattern"].get("stitches", []), raw)
    girths = _girths(panels, raw, classes, body, units)
    by_name = {p.name: p for p in panels}
    # GarmentCode sews edges of different lengths on purpose (a bodice gathered into a skirt)
    gathered = [
        s.label
        for s in seams
        if abs(by_name[s.panel_a].edge(s.edge_a).length - by_name[s.panel_b].edge(s.edge_b).length)
        > 0.05
        * max(by_name[s.panel_a].edge(s.edge_a).length, by_name[s.panel_b].edge(s.edge_b).length)
    ]
    meta = {
        "gathered_seams": gathered,
        "source": None if isinstance(source, dict) else str(source),
        "format": "garmentcode",
        "garmentcode": {
            "units_in_meter": units,
            "body_cm": body,
            "classes": {k: v for k, v in classes.items() if k in raw},
        },
    }
    return Pattern(label, "", tuple(panels), tuple(seams), girths, meta)


def _raw_panels(panels: dict, relative: bool) -> dict[str, dict]:
    """Per panel: its edges' points (GarmentCode 2D units), curve flags, labels, rotation
    matrix, translation and outward normal."""
    out = {}
    for pname, panel in panels.items():
        verts = np.asarray(panel["vertices"], dtype=np.float64)
        if verts.ndim != 2 or verts.shape[1] != 2 or len(verts) < 3 or not np.isfinite(verts).all():
            raise ValueError(
                f"GarmentCode panel {pname!r}: vertices must be finite (N>=3, 2), got {verts.shape}"
            )
        edges = []
        for k, edge in enumerate(panel["edges"]):
            ends = edge.get("endpoints") if isinstance(edge, dict) else None
            if (
                not isinstance(ends, list)
                or len(ends) != 2
                or not all(isinstance(i, int) and 0 <= i < len(verts) for i in ends)
            ):
                raise ValueError(
                    f"GarmentCode panel {pname!r} edge {k}: endpoints must be two vertex indices"
                )
            start, end = verts[ends[0]], verts[ends[1]]
            if edge.get("curvature"):
                try:
                    points, curve = _abs_controls(start, end, edge["curvature"], relative)
                except ValueError as exc:
                    raise ValueError(f"GarmentCode panel {pname!r} edge {k}: {exc}") from None
            else:
                points, curve = np.vstack([start, end]), False
            edges.append((points, curve, str(edge.get("label") or f"e{k}")))
        edges, merged = _merge_pieces(edges)
        labels = [e[2] for e in edges]
        if len(set(labels)) != len(labels):  # labels not unique: fall back to indices
            edges = [(p, c, f"e{k}") for k, (p, c, _) in enumerate(edges)]
        for k in range(len(edges)):
            if np.linalg.norm(edges[k][0][-1] - edges[(k + 1) % len(edges)][0][0]) > 1e-6 * max(
                1.0, np.abs(verts).max()
            ):
                raise ValueError(
                    f"GarmentCode panel {pname!r}: edge {k} does not end where edge "
                    f"{(k + 1) % len(edges)} starts (edges must form one loop)"
                )
        outline = np.concatenate(
            [sample_edge(Edge(p, "_", c), 16 if c else len(p) - 1)[:-1] for p, c, _ in edges]
        )
        area = 0.5 * float(
            np.dot(outline[:, 0], np.roll(outline[:, 1], -1))
            - np.dot(outline[:, 1], np.roll(outline[:, 0], -1))
        )
        rotation = _rotation(np.asarray(panel.get("rotation", [0, 0, 0]), dtype=np.float64))
        translation = np.asarray(panel.get("translation", [0, 0, 0]), dtype=np.float64)
        if translation.shape != (3,) or not np.isfinite(translation).all():
            raise ValueError(f"GarmentCode panel {pname!r}: translation must be 3 finite numbers")
        normal = rotation[:, 2] * (1.0 if area > 0 else -1.0)  # the outline's normal faces outwards
        world = np.c_[outline, np.zeros(len(outline))] @ rotation.T + translation
        cross = (
            outline[:, 0] * np.roll(outline[:, 1], -1) - np.roll(outline[:, 0], -1) * outline[:, 1]
        )
        centroid = ((outline + np.roll(outline, -1, axis=0)) * cross[:, None]).sum(axis=0) / (
            6 * area
        )
        out[pname] = {
            "edges": edges,
            "merged": merged,
            "rotation": rotation,
            "translation": translation,
            "normal": normal,
            "world": world,
            "center": rotation @ np.r_[centroid, 0.0] + translation,
        }
    return out


def _merge_pieces(edges: list) -> tuple[list, list[int]]:
    """Straight edges labelled ``name#0``, ``name#1``... (as ``pattern_to_garmentcode`` writes a
    polyline) joined back into one polyline edge; also each input edge's merged index."""
    import re

    out: list = []
    index: list[int] = []
    for points, curve, label in edges:
        match = re.fullmatch(r"(.+)#(\d+)", label)
        if (
            match
            and not curve
            and out
            and int(match.group(2)) > 0
            and out[-1][2] == match.group(1)
            and not out[-1][1]
        ):
            out[-1] = (np.vstack([out[-1][0], points[1:]]), False, match.group(1))
        else:
            out.append(
                (
                    points,
                    curve,
                    match.group(1) if match and not curve and match.group(2) == "0" else label,
                )
            )
        index.append(len(out) - 1)
    return out, index


def _classify(raw: dict[str, dict], body: dict[str, float]) -> dict:
    """Panel name -> ``torso``/``skirt``/``arm_left``/``arm_right``/``leg_left``/``leg_right``,
    plus ``"_neck"``: the level [GarmentCode cm] the torso panels hang from (their top)."""
    base = _levels(body)
    classes: dict = {}
    for pname, item in raw.items():
        world = item["world"]
        center = item["center"]
        lowered = pname.lower()
        if (
            abs(center[0]) > body["shoulder_w"] / 2 + _ARM_MARGIN_CM
            and center[1] > base["waist"]
            and world[:, 1].min() > base["hips"]
        ):
            classes[pname] = "arm_left" if center[0] > 0 else "arm_right"
        elif world[:, 1].max() > base["bust"] or "torso" in lowered or "bodice" in lowered:
            classes[pname] = "torso"
        elif (
            (
                "skirt" not in lowered
                and abs(center[0]) > _LEG_OFFSET_CM
                and world[:, 1].min() < base["crotch"] - 20.0
            )
            or "pant" in lowered
            or "leg" in lowered
        ):
            classes[pname] = "leg_left" if center[0] > 0 else "leg_right"
        else:
            classes[pname] = "skirt"
    tops = [raw[p]["world"][:, 1].max() for p, c in classes.items() if c == "torso"]
    classes["_neck"] = max(tops) if tops else None
    return classes


def _placement(item: dict, classes: dict, body: dict[str, float], pname: str) -> Placement:
    part = classes[pname]
    normal, translation = item["normal"], item["translation"]
    levels = _levels(body, classes["_neck"])
    x_axis, y_axis = _panel_frame(item, part, body)
    if part.startswith("arm"):
        shoulder, _down, top = _arm_axis(body, 1.0 if part == "arm_left" else -1.0)
        ours = (item["world"] - translation) @ np.stack([x_axis, y_axis], axis=1)
        if normal @ top > 0.7:
            center_x = float((shoulder - translation) @ x_axis)
        else:
            center_x = float(ours[:, 0].max() if x_axis @ top > 0 else ours[:, 0].min())
        return Placement(part, center_x, "outer", "arm_top", float(ours[:, 1].max()))
    axis_x = (
        0.0
        if not part.startswith("leg")
        else (1.0 if part == "leg_left" else -1.0) * body["hips"] / 10.0
    )
    center = item["center"]
    center_x = float((np.array([axis_x, center[1], 0.0]) - translation) @ x_axis)
    side = "front" if normal[2] >= 0 else "back"
    if classes["_neck"] is not None:  # tops, and skirts sewn to them, keep GarmentCode's heights
        level, anchor = levels["shoulder"], "shoulder"
    else:  # skirts and trousers alone: their top at the waist
        level, anchor = float(item["world"][:, 1].max()), "waist"
    anchor_y = (
        float((np.array([0.0, level, 0.0]) - translation) @ y_axis / max(y_axis[1], 1e-6))
        if abs(y_axis[1]) > 1e-6
        else 0.0
    )
    return Placement(part, center_x, side, anchor, anchor_y)


def _panel_frame(item: dict, part: str, body: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Our panel frame (x', y') in GarmentCode's world: y' up (sleeves: up the arm, towards
    the shoulder); a panel lying flat across that direction keeps the next best one."""
    rotation, normal = item["rotation"], item["normal"]
    if part.startswith("arm"):
        _, down, top = _arm_axis(body, 1.0 if part == "arm_left" else -1.0)
        tries = (-down, top)
    else:
        tries = (np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0]))
    frame = _frame(rotation, normal, tries[0])
    if frame is None:  # the two tries are orthogonal: the normal is parallel to one at most
        frame = _frame(rotation, normal, tries[1])
    if frame is None:
        raise ValueError(f"GarmentCode panel for {part!r}: degenerate rotation or normal")
    return frame


def _to_panel(
    pname: str, item: dict, placement: Placement, units: float, body: dict[str, float]
) -> Panel:
    """Our panel: GarmentCode's 2D frame turned (and mirrored where its outline runs clockwise)
    into ours, scaled to metres; the placement's x and y scaled alike."""
    x_axis, y_axis = _panel_frame(item, placement.part, body)
    rotation = item["rotation"]
    turn = (
        np.array(
            [
                [rotation[:, 0] @ x_axis, rotation[:, 1] @ x_axis],
                [rotation[:, 0] @ y_axis, rotation[:, 1] @ y_axis],
            ]
        )
        / units
    )
    edges = [Edge(points @ turn.T, label, curve) for points, curve, label in item["edges"]]
    scaled = Placement(
        placement.part,
        placement.center_x / units,
        placement.side,
        placement.anchor,
        placement.anchor_y / units,
    )
    return Panel(pname, tuple(edges), placement=scaled)


def _seams(stitches: list, raw: dict[str, dict]) -> list[Seam]:
    """Seams from GarmentCode stitches; ``reverse`` from where the two edges lie in 3D (edges
    sewn start to end lie head to tail in the layout)."""
    seams = []
    for k, stitch in enumerate(stitches):
        sides = (
            stitch
            if isinstance(stitch, list)
            else stitch.get("sides", [])
            if isinstance(stitch, dict)
            else []
        )
        if len(sides) != 2 or not all(isinstance(s, dict) and s.get("panel") in raw for s in sides):
            raise ValueError(
                f"GarmentCode stitch {k}: expected two {{panel, edge}} sides of known panels, got "
                f"{stitch}"
            )
        ends = []
        for side in sides:
            item, index = raw[side["panel"]], side.get("edge")
            if not isinstance(index, int) or not 0 <= index < len(item["merged"]):
                raise ValueError(
                    f"GarmentCode stitch {k}: panel {side['panel']!r} has no edge {index}"
                )
            index = item["merged"][index]
            points = item["edges"][index][0]
            world = np.c_[points[[0, -1]], np.zeros(2)] @ item["rotation"].T + item["translation"]
            ends.append((world, item["edges"][index][2]))
        (a, name_a), (b, name_b) = ends
        straight = np.linalg.norm(a[0] - b[0]) + np.linalg.norm(a[1] - b[1])
        crossed = np.linalg.norm(a[0] - b[1]) + np.linalg.norm(a[1] - b[0])
        seam = Seam(sides[0]["panel"], name_a, sides[1]["panel"], name_b, bool(crossed <= straight))
        if seam not in seams:  # the pieces of a split polyline give one seam
            seams.append(seam)
    return seams


def _girths(
    panels: list[Panel], raw: dict, classes: dict, body: dict[str, float], units: float
) -> dict:
    """Finished girths [m] at GarmentCode's chest, waist and hip levels: the summed widths of
    the torso (or, below the torso, skirt and leg) panels crossing each level; the y stored is
    the level in the first such panel's frame [m]."""
    levels = _levels(body, classes["_neck"])
    out = {}
    for key, level in (
        ("chest", levels["bust"]),
        ("waist", levels["waist"]),
        ("hips", levels["hips"]),
    ):
        total, first_y = 0.0, None
        for panel in panels:
            if panel.placement is None or panel.placement.part.startswith("arm"):
                continue
            item = raw[panel.name]
            _, y_axis = _panel_frame(item, panel.placement.part, body)
            if abs(y_axis[1]) < 0.9:  # only upright panels cut a horizontal level
                continue
            y = float((level - item["translation"][1]) / y_axis[1]) / units
            width = float(panel_widths(panel, np.array([y]))[0])
            if width > 0:
                total += width
                first_y = y if first_y is None else first_y
        if total > 0 and first_y is not None:
            out[key] = (total, first_y)
    return out


def _fractions(edge: Edge) -> np.ndarray:
    """Arc-length fractions [0, 1] of a polyline edge's points."""
    seg = np.linalg.norm(np.diff(edge.points, axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(seg)]) / seg.sum()


def _split_fractions(pattern: Pattern) -> dict[tuple[str, str], np.ndarray]:
    """Where to cut each polyline edge (arc-length fractions): at its own points and at its
    seam partner's, so the pieces of two sewn edges pair one to one (GarmentCode stitches join
    single edges)."""
    out: dict[tuple[str, str], np.ndarray] = {}
    for panel in pattern.panels:
        for edge in panel.edges:
            if not edge.curve and len(edge.points) > 2:
                out[(panel.name, edge.name)] = _fractions(edge)
    for seam in pattern.seams:
        a, b = (seam.panel_a, seam.edge_a), (seam.panel_b, seam.edge_b)
        if a not in out and b not in out:
            continue
        edge_a, edge_b = pattern.panel(a[0]).edge(a[1]), pattern.panel(b[0]).edge(b[1])
        if edge_a.curve or edge_b.curve:
            raise ValueError(
                f"seam {seam.label} sews a polyline to a curve; GarmentCode stitches join "
                f"single edges"
            )
        fa = out.get(a, np.array([0.0, 1.0]))
        fb = out.get(b, np.array([0.0, 1.0]))
        fb_in_a = 1.0 - fb[::-1] if seam.reverse else fb
        union = np.unique(np.round(np.concatenate([fa, fb_in_a]), 12))
        out[a] = union
        out[b] = 1.0 - union[::-1] if seam.reverse else union
    return out


def _pieces(edge: Edge, fractions: np.ndarray | None) -> list[tuple[np.ndarray, bool]]:
    """An edge as GarmentCode edges: itself (a line or a Bezier), or a polyline cut at
    ``fractions`` of its arc length into straight pieces."""
    if fractions is None:
        return [(edge.points, edge.curve)]
    own = _fractions(edge)
    points = np.stack([np.interp(fractions, own, edge.points[:, k]) for k in (0, 1)], axis=1)
    points[0], points[-1] = edge.points[0], edge.points[-1]
    return [(points[k : k + 2], False) for k in range(len(points) - 1)]


def pattern_to_garmentcode(pattern: Pattern, *, source_body: dict | None = None) -> dict:
    """Our pattern as a GarmentCode specification dict (``json.dump`` it to a file).

    Panels keep their 2D outlines (cm, counter-clockwise, our frame) and edge names (as edge
    ``label``); each panel's ``rotation``/``translation`` lay it around GarmentCode's body where
    its ``Placement`` says (front/back planes for torso, skirt and legs, above the arm for
    sleeves); seams become stitches. A polyline edge becomes straight edges labelled
    ``name#k``, cut where its seam partner is cut too so the stitches pair them one to one;
    ``read_garmentcode`` joins them back.

    Raises:
        TypeError: not a Pattern.
        ValueError: a panel without a placement; a polyline sewn to a curve.
    """
    if not isinstance(pattern, Pattern):
        raise TypeError(f"pattern_to_garmentcode expects a Pattern, got {type(pattern).__name__}")
    body = dict(GARMENTCODE_MEAN_BODY_CM, **(source_body or {}))
    levels = _levels(body)
    units = 100.0
    panels: dict = {}
    splits = _split_fractions(pattern)
    counts: dict[str, dict[str, int]] = {}
    index: dict[str, dict[str, int]] = {}
    for panel in pattern.panels:
        pl = panel.placement
        if pl is None:
            raise ValueError(
                f"panel {panel.name!r} has no placement; GarmentCode needs each panel's 3D place"
            )
        if pl.part.startswith("arm"):
            shoulder, down, top = _arm_axis(body, 1.0 if pl.part == "arm_left" else -1.0)
            y_axis, normal = -down, top
            target = shoulder + _ARM_OFFSET_CM * top
        else:
            front = pl.side != "back"
            normal = np.array([0.0, 0.0, 1.0 if front else -1.0])
            y_axis = np.array([0.0, 1.0, 0.0])
            x0 = (
                0.0
                if not pl.part.startswith("leg")
                else (1.0 if pl.part == "leg_left" else -1.0) * body["hips"] / 10.0
            )
            level = {"shoulder": levels["shoulder"], "waist": levels["waist"]}.get(
                pl.anchor, levels["shoulder"]
            )
            target = np.array([x0, level, _FRONT_Z_CM if front else _BACK_Z_CM])
        x_axis = np.cross(y_axis, normal)
        rotation = np.stack([x_axis, y_axis, normal], axis=1)
        anchor = np.array([pl.center_x, pl.anchor_y]) * units
        translation = target - rotation[:, :2] @ anchor
        vertices: list[list[float]] = []
        edges: list[dict] = []
        firsts: dict[str, int] = {}
        for edge in panel.edges:
            pieces = _pieces(edge, splits.get((panel.name, edge.name)))
            firsts[edge.name] = len(edges)
            for k, (points, curve) in enumerate(pieces):
                vertices.append((points[0] * units).tolist())
                entry: dict = {
                    "endpoints": [len(edges), -1],
                    "label": edge.name if len(pieces) == 1 else f"{edge.name}#{k}",
                }
                if curve:
                    start, end = points[0], points[-1]
                    vec = end - start
                    perp = np.array([-vec[1], vec[0]])
                    norm2 = float(vec @ vec)
                    rel = [
                        [float((c - start) @ vec / norm2), float((c - start) @ perp / norm2)]
                        for c in points[1:-1]
                    ]
                    entry["curvature"] = {
                        "type": "quadratic" if len(rel) == 1 else "cubic",
                        "params": rel,
                    }
                edges.append(entry)
        for k, entry in enumerate(edges):
            entry["endpoints"][1] = (k + 1) % len(edges)
        counts[panel.name] = {
            e.name: len(_pieces(e, splits.get((panel.name, e.name)))) for e in panel.edges
        }
        index[panel.name] = firsts
        panels[panel.name] = {
            "translation": [float(v) for v in translation],
            "rotation": _angles(rotation),
            "vertices": vertices,
            "edges": edges,
        }
    stitches = []
    for seam in pattern.seams:  # split edges are sewn piece by piece
        n = counts[seam.panel_a][seam.edge_a]
        for k in range(n):
            other = n - 1 - k if seam.reverse else k
            stitches.append(
                [
                    {"panel": seam.panel_a, "edge": index[seam.panel_a][seam.edge_a] + k},
                    {"panel": seam.panel_b, "edge": index[seam.panel_b][seam.edge_b] + other},
                ]
            )
    return {
        "pattern": {
            "panels": panels,
            "stitches": stitches,
            "panel_order": [p.name for p in pattern.panels],
        },
        "parameters": {},
        "parameter_order": [],
        "properties": {
            "curvature_coords": "relative",
            "normalize_panel_translation": False,
            "normalized_edge_loops": True,
            "units_in_meter": units,
        },
    }
