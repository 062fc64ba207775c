"""Deferred shading for fast turntables: Mitsuba traces camera rays only (albedo through the
garment's UVs, shading normal, hit position and distance, antialiased with ``spp`` samples),
and each pixel is lit by the studio environment through its 9-term spherical-harmonic
irradiance (Ramamoorthi and Hanrahan 2001: diffuse light from a distant environment, within
~3 %), without shadows or inter-reflection. The lighting runs as one fused Dr.Jit kernel per
frame; per-frame values are opaque so the kernel compiles once.
"""

from __future__ import annotations

import numpy as np

from tryon3d.core import Camera

from ._color import BACKGROUND
from ._lights import environment_directions

__all__ = ["DeferredShader", "sh_irradiance"]

_SH_CONSTANTS = (0.282095, 0.488603, 1.092548, 0.315392, 0.546274)


def _sh_terms(x, y, z) -> tuple:
    """The 9 real spherical harmonics (bands 0-2) of a unit direction's components (numpy
    arrays or Dr.Jit values alike); the constant band as a float."""
    c0, c1, c2, c3, c4 = _SH_CONSTANTS
    return (
        c0,
        c1 * y,
        c1 * z,
        c1 * x,
        c2 * x * y,
        c2 * y * z,
        c3 * (3.0 * z * z - 1.0),
        c2 * x * z,
        c4 * (x * x - y * y),
    )


def _sh_basis(directions: np.ndarray) -> np.ndarray:
    """The 9 real spherical harmonics (bands 0-2) of unit ``directions`` (..., 3) -> (..., 9)."""
    x, y, z = directions[..., 0], directions[..., 1], directions[..., 2]
    terms = _sh_terms(x, y, z)
    return np.stack([np.full_like(x, terms[0]), *terms[1:]], axis=-1)


def sh_irradiance(environment: np.ndarray) -> np.ndarray:
    """Irradiance spherical-harmonic coefficients of a lat-long environment map.

    Args:
        environment: linear-RGB radiance, shape (h, 2h, 3), texel directions as in
            :func:`render._lights.environment_directions` (z-up world).

    Returns:
        (9, 3) float64: the irradiance on a surface of unit normal n is
        ``_sh_basis(n) @ coefficients``; a diffuse surface of albedo a reflects ``a / pi`` times it.
    """
    height, width = environment.shape[:2]
    directions = environment_directions(width)
    theta = (np.arange(height) + 0.5) / height * np.pi
    solid_angle = (np.pi / height) * (2.0 * np.pi / width) * np.sin(theta)[:, None]
    basis = _sh_basis(directions) * solid_angle[..., None]
    radiance = np.einsum("hwk,hwc->kc", basis, environment.astype(np.float64))
    band = np.array([np.pi] + [2.0 * np.pi / 3.0] * 3 + [np.pi / 4.0] * 5)  # clamped-cosine kernel
    return radiance * band[:, None]


class DeferredShader:
    """Lights deferred frames (``StudioScene(shading="deferred")``) of one image size.

    Args:
        width: image width [px].
        height: image height [px].
        background: linear RGB background colour.
    """

    def __init__(self, width: int, height: int, *, background=BACKGROUND):
        from ._backend import select_variant

        self._mi, self._dr = select_variant()
        dr, mi = self._dr, self._mi
        self.width, self.height = int(width), int(height)
        index = dr.arange(mi.UInt32, self.width * self.height)
        self._index = index
        self._column = mi.Float(index % self.width) + 0.5
        self._row = mi.Float(index // self.width) + 0.5
        self._background = [float(c) for c in np.asarray(background, np.float64).reshape(3)]

    def __call__(self, image, camera: Camera, coefficients: np.ndarray) -> np.ndarray:
        """Light one frame and put it over the background.

        Args:
            image: Mitsuba's film (``mi.render`` output, a TensorXf (H, W, 10)): albedo (3),
                shading normal (3), hit position [m] (3), hit distance [m] (1), averaged over
                each pixel's samples with zeros for misses.
            camera: the frame's camera.
            coefficients: (9, 3) irradiance SH of the frame's lights (:func:`sh_irradiance`).

        Returns:
            (H, W, 3) uint8 sRGB.
        """
        dr, mi = self._dr, self._mi
        if (camera.width, camera.height) != (self.width, self.height):
            raise ValueError(
                f"camera is {camera.width}x{camera.height}, shader {self.width}x{self.height}"
            )

        def opaque(value: float):
            return dr.opaque(mi.Float, float(value))

        data = image.array
        base = self._index * 10

        def channel(k: int):
            return dr.gather(mi.Float, data, base + k)

        albedo = [channel(k) for k in range(3)]
        n = mi.Vector3f(channel(3), channel(4), channel(5))
        p = mi.Vector3f(channel(6), channel(7), channel(8))
        t = channel(9)
        rot = camera.camera_to_world[:3, :3]
        origin = camera.position
        u = (self._column - opaque(camera.cx)) / opaque(camera.fx)
        v = (self._row - opaque(camera.cy)) / opaque(camera.fy)
        ray = dr.normalize(
            mi.Vector3f(
                opaque(rot[0, 0]) * u + opaque(rot[0, 1]) * v + opaque(rot[0, 2]),
                opaque(rot[1, 0]) * u + opaque(rot[1, 1]) * v + opaque(rot[1, 2]),
                opaque(rot[2, 0]) * u + opaque(rot[2, 1]) * v + opaque(rot[2, 2]),
            )
        )
        # coverage a from averaged hits p = a * o + t * d (o camera centre, d unit ray):
        # a = (p - t d) . o / |o|^2; a camera at the origin falls back to averaged unit normals.
        o = mi.Vector3f(*(opaque(c) for c in origin))
        norm2 = float(origin @ origin)
        alpha = dr.dot(p - t * ray, o) * opaque(1.0 / norm2) if norm2 > 0.25 else dr.norm(n)
        alpha = dr.clip(alpha, 0.0, 1.0)
        length = dr.norm(n)
        n = n * dr.select(length > 1e-12, dr.rcp(length), 0.0)
        n = dr.select(dr.dot(n, ray) > 0.0, -n, n)  # two-sided: light the side we see
        basis = _sh_terms(n.x, n.y, n.z)
        k = np.asarray(coefficients, np.float64) / np.pi
        out = []
        for c in range(3):
            irradiance = basis[0] * opaque(k[0, c])
            for j in range(1, 9):
                irradiance += basis[j] * opaque(k[j, c])
            linear = albedo[c] * dr.maximum(irradiance, 0.0) + opaque(self._background[c]) * (
                1.0 - alpha
            )
            linear = dr.clip(linear, 0.0, 1.0)
            srgb = dr.select(
                linear <= 0.0031308, linear * 12.92, 1.055 * dr.power(linear, 1.0 / 2.4) - 0.055
            )
            out.append(srgb * 255.0 + 0.5)
        rgb = dr.ravel(mi.Vector3f(*out))
        return np.array(rgb, dtype=np.float32).reshape(self.height, self.width, 3).astype(np.uint8)
