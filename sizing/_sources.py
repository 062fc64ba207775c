"""Garment files as sizing sources: their sizes, and which size the pattern itself suggests.

A graded DXF holds its own sizes (``garments.read_dxf_file(path).sizes``, in the file's order);
a GarmentCode specification is one design whose sizes are graded from it by the women's chart's
steps (``garments.grade_pattern``); a mesh holds one (``ONE_SIZE``). No size chart is involved: the
size a pattern suggests for a body is the one whose pattern girth at the sizing region gives
the body the sensible design ease of ``sizing._profile.IMPORTED_DESIGN_EASE_M``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING

from tryon3d.sizing._profile import IMPORTED_DESIGN_EASE_M

if TYPE_CHECKING:
    from tryon3d.bodyfit import Body
    from tryon3d.garments import Fabric, Garment

#: The size label of a garment file that holds one size (a GarmentCode pattern, a mesh).
ONE_SIZE = "one size"
_PATTERN_SUFFIXES = (".dxf", ".json")


def garment_file(source: str | os.PathLike) -> Path:
    """The garment file ``source`` names, checked: it exists and its format is one we read.

    Raises:
        ValueError: not a family name and no such file, or not a garment format.
    """
    from tryon3d import garments

    path = Path(source)
    if not path.suffix:
        raise ValueError(
            f"unknown garment family {str(source)!r}; expected one of "
            f"{sorted(garments.FAMILIES)} or a garment file"
        )
    if path.suffix.lower() not in (*_PATTERN_SUFFIXES, *garments.MESH_SUFFIXES):
        raise ValueError(
            f"unsupported garment file {path.name!r}; expected .dxf, .json (GarmentCode) or one "
            f"of {garments.MESH_SUFFIXES}"
        )
    if not path.is_file():
        raise ValueError(f"garment file {str(path)!r} not found")
    return path.resolve()  # a report rebuilds its garments from here, from any folder


def file_sizes(path: Path) -> list[str]:
    """The sizes a garment file holds, in its own order (``[ONE_SIZE]`` for a mesh; a GarmentCode
    specification's sizes are graded from it: ``garments.grade_pattern``).

    Raises:
        ValueError: an unreadable DXF.
    """
    from tryon3d import garments

    if path.suffix.lower() == ".json":  # one design, graded by the chart's steps
        return garments.graded_sizes(garments.read_garmentcode(path))[0]
    if path.suffix.lower() != ".dxf":
        return [ONE_SIZE]
    sizes = [str(s) for s in garments.read_dxf_file(path).sizes]
    return sizes or [ONE_SIZE]


def load_size(
    path: Path,
    size: str,
    *,
    fabric: Fabric | str | None = None,
    body: Body | None = None,
    edge_length_m: float = 0.02,
) -> Garment:
    """``garments.load_garment`` of one size of a file (``ONE_SIZE``: the file's only one), its
    ``size`` the label asked for; ``fabric``, ``body`` and ``edge_length_m`` [m] as there."""
    from tryon3d import garments

    garment = garments.load_garment(
        path,
        size=None if size == ONE_SIZE else size,
        fabric=fabric,
        body=body,
        edge_length_m=edge_length_m,
    )
    return garment if garment.size == size else dataclasses.replace(garment, size=size)


def pattern_size_for(
    body: Body, path: Path, sizes: list[str], fabric: Fabric | str | None = None
) -> tuple[str, dict[str, float]]:
    """(the size whose pattern gives ``body`` the design ease nearest the sensible one at the
    sizing region, that region's ease per size [m]). One-size files and files whose pattern
    does not measure the sizing region answer their first size and no eases.

    Raises:
        ValueError: a size the file cannot give.
    """
    from tryon3d import garments
    from tryon3d.sizing._judge import fabric_class

    if sizes == [ONE_SIZE]:
        return ONE_SIZE, {}
    drafted = garments.read_garmentcode(path) if path.suffix.lower() == ".json" else None
    patterns = {
        size: (
            garments.grade_pattern(drafted, size)
            if drafted is not None
            else garments.read_dxf_pattern(path, size=size)
        )
        for size in sizes
    }
    # the pattern's own fabric when none is given (leggings: a stretch knit), as load_garment
    default = str(patterns[sizes[0]].metadata.get("fabric", "cotton_jersey"))
    klass = fabric_class(garments.resolve_fabric(fabric, default)[0])
    eases: dict[str, float] = {}
    target = 0.0  # set with the first ease, so always set when `eases` is not empty
    for size, pattern in patterns.items():
        kind = garments.garment_kind(pattern)
        region = "hips" if kind == "bottom" else "chest"
        girth = garments.pattern_measurements(pattern).get(region)
        if girth is None or region not in body.measurements_m:
            continue
        eases[size] = girth - float(body.measurements_m[region])
        target = IMPORTED_DESIGN_EASE_M[kind][klass]
    if not eases:  # a GarmentCode design unmeasured there: the size it was drafted in
        return (garments.graded_sizes(drafted)[1] if drafted is not None else sizes[0]), {}
    return min(eases, key=lambda s: abs(eases[s] - target)), eases
