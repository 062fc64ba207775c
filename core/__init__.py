"""core: small numpy-only kernels and records that several stages share.

Vertex normals, plane sections and tape girths, push-out and signed distance to a mesh, the
pieces of a pixel mask joined to another, read-only arrays for the frozen records, the cache
root and shipped data files, and the ``Camera`` record (the body stage makes cameras, the render
stage consumes them). Imports
numpy only (scipy inside the functions that need it): no torch, warp, mitsuba or newton.
"""

from tryon3d.core._arrays import readonly, readonly_array
from tryon3d.core._camera import Camera
from tryon3d.core._distance import (
    TriangleSurface,
    closest_on_triangles,
    segment_triangle_hits,
    segment_triangle_t,
    signed_distance,
)
from tryon3d.core._masks import pieces_touching
from tryon3d.core._mesh import (
    edge_plane_crossings,
    hull_perimeter,
    plane_basis,
    push_out,
    tape_girth,
    triangle_plane_crossings,
    vertex_normals,
)
from tryon3d.core._paths import cache_root, data_file

__all__ = [
    "Camera",
    "TriangleSurface",
    "cache_root",
    "closest_on_triangles",
    "data_file",
    "edge_plane_crossings",
    "hull_perimeter",
    "pieces_touching",
    "plane_basis",
    "push_out",
    "readonly",
    "readonly_array",
    "segment_triangle_hits",
    "segment_triangle_t",
    "signed_distance",
    "tape_girth",
    "triangle_plane_crossings",
    "vertex_normals",
]
