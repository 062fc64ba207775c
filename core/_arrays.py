"""Read-only arrays for the frozen stage records."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

__all__ = ["readonly", "readonly_array"]


def _shape_text(shape: tuple[int | None, ...]) -> str:
    parts = ["N" if n is None else str(n) for n in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def readonly(array: np.ndarray) -> np.ndarray:
    """``array`` itself, flagged read-only (no copy): for arrays a record has just made."""
    array.setflags(write=False)
    return array


def readonly_array(
    value: ArrayLike, dtype: DTypeLike, shape: tuple[int | None, ...], name: str
) -> np.ndarray:
    """A read-only copy of ``value`` as an array of ``dtype`` and ``shape``.

    Args:
        value: anything ``np.array`` takes.
        dtype: the numpy dtype of the copy.
        shape: the expected shape; ``None`` stands for any length on that axis, e.g.
            ``(None, 3)`` for (N, 3) vertex positions.
        name: the field's name for the error message, e.g. ``"Body.vertices"``.

    Raises:
        ValueError: the shape differs; the message names ``name`` and the expected shape.
    """
    array = np.array(value, dtype=dtype, copy=True)
    if array.ndim != len(shape) or any(
        n is not None and n != m for n, m in zip(shape, array.shape, strict=False)
    ):
        raise ValueError(f"{name} must have shape {_shape_text(shape)}, got {array.shape}")
    array.setflags(write=False)
    return array
