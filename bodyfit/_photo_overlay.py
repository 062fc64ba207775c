"""Photo-fit overlays: the fitted body's silhouette and skeleton drawn on a photo."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from tryon3d.bodyfit._photo import Photo, PhotoAnalysis

if TYPE_CHECKING:
    from tryon3d.core import Camera


def render_body_silhouette(
    vertices: np.ndarray, faces: np.ndarray, camera: Camera, *, max_pixels: int = 4_200_000
) -> np.ndarray:
    """Binary silhouette (H, W) bool of a mesh seen by ``camera`` (Mitsuba, coverage > 0.5).

    Images above ``max_pixels`` are rendered smaller and scaled up.
    """
    import torch
    from PIL import Image

    from tryon3d.render import render_silhouette

    width, height = camera.width, camera.height
    factor = min(1.0, math.sqrt(max_pixels / (width * height)))
    small = camera
    if factor < 1.0:
        w, h = max(1, round(width * factor)), max(1, round(height * factor))
        small = camera.scaled(factor, w, h)
    with torch.no_grad():
        coverage = render_silhouette(
            torch.as_tensor(vertices, dtype=torch.float32), faces, small, spp=4
        ).numpy()
    if small is not camera:
        image = Image.fromarray(np.clip(coverage * 255, 0, 255).astype(np.uint8))
        coverage = (
            np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), np.float32) / 255.0
        )
    return coverage > 0.5


_SKELETON = (
    (11, 12),
    (11, 13),
    (13, 15),
    (12, 14),
    (14, 16),
    (11, 23),
    (12, 24),
    (23, 24),
    (23, 25),
    (25, 27),
    (24, 26),
    (26, 28),
    (27, 29),
    (29, 31),
    (27, 31),
    (28, 30),
    (30, 32),
    (28, 32),
)


def make_overlay(
    analysis: PhotoAnalysis, silhouette: np.ndarray, photo: Photo | None = None
) -> np.ndarray:
    """Diagnostic picture (h, w, 3) uint8 at the analysis size: mask blue, keypoints red, fitted
    outline green; over a grey background, or over the dimmed photo when ``photo`` is given."""
    from PIL import Image, ImageDraw
    from scipy import ndimage

    width, height = analysis.size
    if photo is not None:
        base = np.asarray(
            Image.fromarray(photo.pixels).resize((width, height), Image.Resampling.BILINEAR),
            np.float32,
        )
        base = 0.55 * base
    else:
        base = np.full((height, width, 3), 40.0, np.float32)
    mask = np.clip(analysis.mask, 0, 1)[:, :, None]
    base = base * (1 - 0.45 * mask) + 0.45 * mask * np.array([60.0, 110.0, 255.0])
    fitted = (
        np.asarray(
            Image.fromarray(silhouette.astype(np.uint8) * 255).resize(
                (width, height), Image.Resampling.NEAREST
            )
        )
        > 127
    )
    thickness = max(1, round(max(width, height) / 400))
    outline = fitted & ~ndimage.binary_erosion(fitted, iterations=thickness)
    base[outline] = (40.0, 230.0, 60.0)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    points, seen = analysis.keypoints, analysis.visibility > 0.5
    for a, b in _SKELETON:
        if seen[a] and seen[b]:
            draw.line([tuple(points[a]), tuple(points[b])], fill=(255, 200, 60), width=thickness)
    radius = 2 * thickness + 1
    for index, (u, v) in enumerate(points):
        if seen[index]:
            draw.ellipse([u - radius, v - radius, u + radius, v + radius], fill=(235, 40, 40))
    return np.asarray(image)
