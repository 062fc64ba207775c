"""The Garment record (what garments/ produces and sim/ consumes) and its parts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from tryon3d.core import readonly_array as _readonly

if TYPE_CHECKING:
    from tryon3d.garments._pattern import Pattern


@dataclass(frozen=True)
class Fabric:
    """Mechanical properties of a fabric (per unit of cloth, SI units).

    Attributes:
        name: preset name, e.g. ``"cotton_jersey"``.
        areal_density_kg_m2: mass per area [kg/m^2] (g/m^2 / 1000).
        stretch_warp_n_m: membrane stiffness along the warp (grain) [N/m].
        stretch_weft_n_m: membrane stiffness across the grain [N/m].
        shear_n_m: in-plane shear stiffness [N/m].
        bending_n_m: bending stiffness [N*m].
        friction: Coulomb friction coefficient against skin, dimensionless.
        stretch_limit_pct: largest comfortable wearable stretch [%], 100 = unstretched.
        thickness_m: cloth thickness [m], used as collision margin.
    """

    name: str
    areal_density_kg_m2: float
    stretch_warp_n_m: float
    stretch_weft_n_m: float
    shear_n_m: float
    bending_n_m: float
    friction: float
    stretch_limit_pct: float
    thickness_m: float = 0.001


@dataclass(frozen=True, eq=False)
class GarmentInfo:
    """Where a garment came from and what its stages need to know about it (``Garment.metadata``).

    Every field is optional: None means "not known for this garment" (a drafted family has no
    ``import_log``, a mesh import no ``pattern``). During the move from the old free-form dict,
    the record also answers the dict reads other code still makes: ``info["kind"]``,
    ``info.get("kind", default)`` (the default when the field is None), ``"kind" in info``,
    ``{**info}``; keys that are no field are kept in ``extra``.

    Attributes:
        pattern: the sewing pattern the mesh was cut from (drafted or read); None for meshes.
        family: garment family name, e.g. ``"tshirt"`` (drafted garments).
        chart: size chart the size was read from, e.g. ``"women"``.
        design: design parameters [m unless named otherwise] the pattern was drafted with.
        source: path of the file the garment was read from; None for drafted families.
        format: file format read: ``"dxf"``, ``"garmentcode"``, ``"mesh"``, ...
        fabric_reason: why the fabric was chosen (preset name or parsed description).
        girths_m: finished-garment girths [m] by region, from the pattern.
        seam_ids: seam index per sewn vertex pair, shape (S,).
        seam_labels: one label per pattern seam.
        edge_vertices: ``(panel, edge) -> vertex indices`` along that pattern edge.
        edge_length_m: target mesh edge length [m].
        placed: whether the positions were placed around a body.
        rest_positions: a mesh import's rest shape [m], shape (N, 3) (its file geometry).
        kind: ``"top"``, ``"dress"`` or ``"bottom"`` (mesh imports).
        import_log: one line per assumption a mesh import made (units, up axis, scale...).
        extra: any other key given, unchanged.
    """

    pattern: Pattern | None = None
    family: str | None = None
    chart: str | None = None
    design: Mapping[str, float] | None = None
    source: str | None = None
    format: str | None = None
    fabric_reason: str | None = None
    girths_m: Mapping[str, float] | None = None
    seam_ids: np.ndarray | None = None
    seam_labels: list[str] | None = None
    edge_vertices: Mapping[tuple[str, str], np.ndarray] | None = None
    edge_length_m: float | None = None
    placed: bool | None = None
    rest_positions: np.ndarray | None = None
    kind: str | None = None
    import_log: list[str] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, values: GarmentInfo | Mapping[str, Any]) -> GarmentInfo:
        """A record from the old dict form (fields by name, other keys into ``extra``)."""
        if isinstance(values, GarmentInfo):
            return values
        names = {f.name for f in fields(cls)} - {"extra"}
        known = {k: v for k, v in values.items() if k in names}
        extra = {k: v for k, v in values.items() if k not in names}
        return cls(**known, extra=extra)

    def keys(self) -> list[str]:
        """The keys the old dict would have had: fields that are set, then ``extra``'s."""
        names = [f.name for f in fields(self) if f.name != "extra"]
        return [k for k in names if getattr(self, k) is not None] + list(self.extra)

    def __getitem__(self, key: str) -> Any:
        if key in self.extra:
            return self.extra[key]
        value = getattr(self, key, None) if key != "extra" else None
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())


@dataclass(frozen=True, eq=False)
class Garment:
    """A garment ready to simulate: a triangle mesh whose rest shape is its 2D sewing pattern.

    All vertices of one panel share the panel's 2D pattern frame; seams are pairs of vertices
    (one on each panel edge) that the simulation pulls together.

    Attributes:
        name: family or file name, e.g. ``"tshirt"``.
        size: size label, e.g. ``"M"`` (empty for imported meshes without a size).
        fabric: the Fabric.
        positions: placed 3D vertex positions around the body [m], shape (N, 3), float64.
        pattern_positions: 2D rest (pattern) coordinates [m], shape (N, 2), float64.
            For imported meshes without a pattern this is absent (``None``) and the 3D
            ``positions`` are the rest shape.
        faces: triangles, shape (F, 3), int64, oriented so normals point away from the body.
        uv: texture coordinates, shape (N, 2), float32 (pattern coordinates / texture repeat).
        vertex_panels: panel index per vertex, shape (N,), int32.
        panel_names: name per panel.
        seam_pairs: vertex index pairs to sew, shape (S, 2), int64.
        grain_directions: unit warp direction per panel in its 2D frame, shape (P, 2).
        texture_path: optional texture image file.
        texture_repeat_m: physical size [m] of one texture tile, shape (2,).
        metadata: where it came from and what later stages read (a ``GarmentInfo``; a dict
            given here is converted).
    """

    name: str
    size: str
    fabric: Fabric
    positions: np.ndarray
    faces: np.ndarray
    uv: np.ndarray
    vertex_panels: np.ndarray
    panel_names: tuple[str, ...]
    seam_pairs: np.ndarray
    grain_directions: np.ndarray
    pattern_positions: np.ndarray | None = None
    texture_path: str | None = None
    texture_repeat_m: tuple[float, float] = (0.1, 0.1)
    metadata: GarmentInfo = field(default_factory=GarmentInfo)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        # a dict (the old form) becomes the typed record
        set_(self, "metadata", GarmentInfo.from_mapping(self.metadata))
        set_(
            self, "positions", _readonly(self.positions, np.float64, (None, 3), "Garment.positions")
        )
        set_(self, "faces", _readonly(self.faces, np.int64, (None, 3), "Garment.faces"))
        set_(self, "uv", _readonly(self.uv, np.float32, (None, 2), "Garment.uv"))
        set_(
            self,
            "seam_pairs",
            _readonly(
                self.seam_pairs.reshape(-1, 2)
                if hasattr(self.seam_pairs, "reshape")
                else self.seam_pairs,
                np.int64,
                (None, 2),
                "Garment.seam_pairs",
            ),
        )
        set_(
            self,
            "grain_directions",
            _readonly(self.grain_directions, np.float64, (None, 2), "Garment.grain_directions"),
        )
        panels = np.array(self.vertex_panels, dtype=np.int32).reshape(-1)
        panels.setflags(write=False)
        set_(self, "vertex_panels", panels)
        set_(self, "panel_names", tuple(self.panel_names))
        n = len(self.positions)
        if self.pattern_positions is not None:
            set_(
                self,
                "pattern_positions",
                _readonly(
                    self.pattern_positions, np.float64, (None, 2), "Garment.pattern_positions"
                ),
            )
            if len(self.pattern_positions) != n:
                raise ValueError(
                    f"Garment.pattern_positions has {len(self.pattern_positions)} rows, expected "
                    f"{n}"
                )
        if len(self.uv) != n or len(panels) != n:
            raise ValueError(f"Garment.uv and vertex_panels must have {n} rows (one per vertex)")
        if self.faces.size and (self.faces.min() < 0 or self.faces.max() >= n):
            raise ValueError(f"Garment.faces index outside [0, {n})")
        if self.seam_pairs.size and (self.seam_pairs.min() < 0 or self.seam_pairs.max() >= n):
            raise ValueError(f"Garment.seam_pairs index outside [0, {n})")

    @property
    def vertex_count(self) -> int:
        return len(self.positions)

    @property
    def sleeve_panels(self) -> np.ndarray:
        """Which panels are sleeves (name containing "sleeve"), shape (P,), bool."""
        return np.array(["sleeve" in name.lower() for name in self.panel_names], dtype=bool)

    @property
    def sleeve_faces(self) -> np.ndarray:
        """Which faces lie on a sleeve panel (by their first vertex), shape (F,), bool."""
        sleeve = np.append(self.sleeve_panels, False)  # out-of-range panel ids: not a sleeve
        panels = self.vertex_panels[self.faces[:, 0]]
        return sleeve[np.where((panels >= 0) & (panels < len(self.panel_names)), panels, -1)]
