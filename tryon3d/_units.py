"""The one place where user units (cm) meet engine units (m)."""

from __future__ import annotations

CM_PER_M = 100.0


def cm_to_m(value_cm: float) -> float:
    """Centimetres [cm] to metres [m]."""
    return float(value_cm) / CM_PER_M


def m_to_cm(value_m: float) -> float:
    """Metres [m] to centimetres [cm]."""
    return float(value_m) * CM_PER_M
