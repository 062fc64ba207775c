"""The Garment record (what garments/ produces and sim/ consumes) and its parts."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tryon3d.core import readonly_array as _readonly


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
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
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
