"""Colour maths: default colours, the sRGB transfer and alpha compositing."""

from __future__ import annotations

import numpy as np

__all__ = ["SKIN_COLOR"]


#: Default skin base colour, linear RGB.
SKIN_COLOR: tuple[float, float, float] = (0.42, 0.24, 0.16)
#: Default garment colour, linear RGB.
GARMENT_COLOR: tuple[float, float, float] = (0.10, 0.22, 0.45)

#: Default background, linear RGB (light studio grey).
BACKGROUND: tuple[float, float, float] = (0.80, 0.80, 0.82)


def srgb_to_linear(values: np.ndarray) -> np.ndarray:
    values = np.clip(values, 0.0, 1.0)
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(values: np.ndarray) -> np.ndarray:
    values = np.clip(values, 0.0, 1.0)
    return np.where(values <= 0.0031308, values * 12.92, 1.055 * values ** (1.0 / 2.4) - 0.055)


_SRGB_LUT = np.round(
    np.where(
        np.linspace(0, 1, 4096) <= 0.0031308,
        np.linspace(0, 1, 4096) * 12.92,
        1.055 * np.linspace(0, 1, 4096) ** (1.0 / 2.4) - 0.055,
    )
    * 255.0
).astype(np.uint8)


def premultiplied_to_uint8(image: np.ndarray, background=BACKGROUND) -> np.ndarray:
    """Mitsuba's premultiplied linear RGBA (H, W, >= 4) over a linear-RGB background ->
    uint8 sRGB (H, W, 3), through a 4096-entry lookup table (fast path for video frames)."""
    alpha = np.clip(image[..., 3:4], 0.0, 1.0)
    linear = image[..., :3] + np.asarray(background, np.float32) * (1.0 - alpha)
    index = (np.clip(linear, 0.0, 1.0) * 4095.0 + 0.5).astype(np.int32)
    return _SRGB_LUT[index]


def composite_rgba(rgba: np.ndarray, background=BACKGROUND) -> np.ndarray:
    """Straight-alpha sRGB ``rgba`` (H, W, 4) over a linear-RGB colour -> sRGB (H, W, 3)."""
    alpha = rgba[..., 3:4]
    linear = srgb_to_linear(rgba[..., :3]) * alpha + np.asarray(background, np.float32) * (
        1.0 - alpha
    )
    return linear_to_srgb(linear).astype(np.float32)
