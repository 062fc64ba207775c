"""garments: the garment stage. Produces a ``Garment`` (sewing pattern mesh placed on a body).

Patterns are drafted by parametric families (``list_families``) from graded size charts,
triangulated into near-equilateral meshes whose rest shape is the 2D pattern, and wrapped
around a ``bodyfit.Body`` with open seams (``Garment.seam_pairs``) for the simulation to close.
"""

from tryon3d.garments._api import (
    garment_from_pattern,
    list_fabrics,
    list_families,
    load_garment,
    place_garment,
    resolve_fabric,
)
from tryon3d.garments._clearance import body_intersections, body_signed_distance
from tryon3d.garments._dxf import read_dxf_file
from tryon3d.garments._export import garment_to_glb, pattern_svg
from tryon3d.garments._fabrics import (
    FABRICS,
    FabricClass,
    fabric_from_description,
    fabric_preset,
)
from tryon3d.garments._families import (
    FAMILIES,
    Family,
    SizeChart,
    draft,
    pattern_girth,
    size_chart,
)
from tryon3d.garments._garment import Fabric, Garment, GarmentInfo
from tryon3d.garments._garmentcode import (
    GARMENTCODE_MEAN_BODY_CM,
    pattern_to_garmentcode,
    read_garmentcode,
)
from tryon3d.garments._inspect import inspect_pattern_file, pattern_measurements
from tryon3d.garments._io import MESH_SUFFIXES, pattern_to_dxf, read_dxf_pattern, read_mesh_file
from tryon3d.garments._kind import GARMENT_KINDS, garment_kind
from tryon3d.garments._mesh import (
    PatternMesh,
    mesh_pattern,
    triangle_min_angles_deg,
    triangulate_polygon,
)
from tryon3d.garments._mesh_import import MESH_IMPORT_LIMITS, read_garment_mesh
from tryon3d.garments._pattern import (
    PART_NAMES,
    Edge,
    Panel,
    Pattern,
    Placement,
    Seam,
    panel_outline,
    validate_pattern,
)
from tryon3d.garments._pattern_grading import GRADING_CHART, grade_pattern, graded_sizes
from tryon3d.garments._placement import prepare_body
from tryon3d.garments._roles import NotAGarmentError

__all__ = [
    "FABRICS",
    "FAMILIES",
    "GARMENTCODE_MEAN_BODY_CM",
    "GARMENT_KINDS",
    "GRADING_CHART",
    "MESH_IMPORT_LIMITS",
    "MESH_SUFFIXES",
    "PART_NAMES",
    "Edge",
    "Fabric",
    "FabricClass",
    "Family",
    "Garment",
    "GarmentInfo",
    "NotAGarmentError",
    "Panel",
    "Pattern",
    "PatternMesh",
    "Placement",
    "Seam",
    "SizeChart",
    "body_intersections",
    "body_signed_distance",
    "draft",
    "fabric_from_description",
    "fabric_preset",
    "garment_from_pattern",
    "garment_kind",
    "garment_to_glb",
    "grade_pattern",
    "graded_sizes",
    "inspect_pattern_file",
    "list_fabrics",
    "list_families",
    "load_garment",
    "mesh_pattern",
    "panel_outline",
    "pattern_girth",
    "pattern_measurements",
    "pattern_svg",
    "pattern_to_dxf",
    "pattern_to_garmentcode",
    "place_garment",
    "prepare_body",
    "read_dxf_file",
    "read_dxf_pattern",
    "read_garment_mesh",
    "read_garmentcode",
    "read_mesh_file",
    "resolve_fabric",
    "size_chart",
    "triangle_min_angles_deg",
    "triangulate_polygon",
    "validate_pattern",
]
