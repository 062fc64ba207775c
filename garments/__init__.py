"""garments: the garment stage. Produces a ``Garment`` (sewing pattern mesh placed on a body)."""

from garments._garment import Fabric, Garment

__all__ = ["Fabric", "Garment"]
