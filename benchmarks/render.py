"""Render benchmarks: turntable (one scene, camera and lights orbit; deferred SH shading by
default) against the path-traced turntable and a naive baseline that rebuilds the scene for
every frame, and silhouette forward/backward times.

Usage: python benchmarks/render.py [--json] [--frames 36] [--size 512]
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch
import trimesh

from tryon3d import render
from tryon3d.render._color import premultiplied_to_uint8
from tryon3d.render._records import GarmentMesh
from tryon3d.render._scene import StudioScene
from tryon3d.render._turntable import turntable_camera


class _Body:
    def __init__(self, mesh):
        self.vertices = np.asarray(mesh.vertices)
        self.faces = np.asarray(mesh.faces)


def _stand_in():
    """A ~25k-triangle stand-in body (body models are not needed to time the renderer)."""
    parts = [
        trimesh.creation.capsule(height=0.6, radius=0.16, count=[64, 64]).apply_translation(
            [0, 0, 1.15]
        ),
        trimesh.creation.icosphere(subdivisions=4, radius=0.11).apply_translation([0, 0, 1.62]),
        trimesh.creation.capsule(height=0.7, radius=0.07, count=[48, 48]).apply_translation(
            [-0.09, 0, 0.45]
        ),
        trimesh.creation.capsule(height=0.7, radius=0.07, count=[48, 48]).apply_translation(
            [0.09, 0, 0.45]
        ),
    ]
    body = _Body(trimesh.util.concatenate(parts))
    tube = trimesh.creation.cylinder(radius=0.18, height=0.45, sections=96).subdivide().subdivide()
    tube.apply_translation([0, 0, 1.2])
    uv = np.stack(
        [
            np.arctan2(tube.vertices[:, 1], tube.vertices[:, 0]) / (2 * np.pi) * 8,
            tube.vertices[:, 2] * 8,
        ],
        axis=1,
    )
    texture = np.full((64, 64, 3), 235, np.uint8)
    texture[:32, :32] = texture[32:, 32:] = (200, 20, 20)
    return body, GarmentMesh(tube.vertices, tube.faces, uv=uv, texture=texture)


def _naive_turntable(body, garment, frames, size, spp):
    points = np.concatenate([body.vertices, garment.vertices])
    camera, pivot = turntable_camera(points, size=size)
    images = []
    for index in range(frames):
        angle = 2 * math.pi * index / frames
        c, s = math.cos(angle), math.sin(angle)
        rotation = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
        moved_body = _Body(
            trimesh.Trimesh((body.vertices - pivot) @ rotation.T + pivot, body.faces, process=False)
        )
        moved_garment = GarmentMesh(
            (garment.vertices - pivot) @ rotation.T + pivot,
            garment.faces,
            uv=garment.uv,
            texture=garment.texture,
        )
        scene = StudioScene(
            moved_body.vertices,
            moved_body.faces,
            [moved_garment],
            camera,
            spp=spp,
            aovs=False,
            max_depth=2,
        )
        images.append(premultiplied_to_uint8(scene.render_raw(seed=index)))
    return images


def _silhouette_times(size: int, repeats: int = 3) -> dict:
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=0.5)
    vertices = torch.tensor(sphere.vertices, dtype=torch.float32)
    camera = render.look_at_camera((0, -4, 0), (0, 0, 0), fov_y_deg=30.0, width=size, height=size)
    renderer = render.SilhouetteRenderer(sphere.faces, len(vertices), camera, spp=4)
    forward, backward = [], []
    for repeat in range(repeats + 1):
        x = vertices.clone().requires_grad_(True)
        start = time.perf_counter()
        image = renderer(x, seed=repeat)
        middle = time.perf_counter()
        (image * torch.linspace(0, 1, size)[None, :]).sum().backward()
        end = time.perf_counter()
        if repeat:  # the first call compiles kernels
            forward.append(middle - start)
            backward.append(end - middle)
    return {"forward_s": float(np.median(forward)), "backward_s": float(np.median(backward))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--frames", type=int, default=36)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--spp", type=int, default=4)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    render.select_variant()
    body, garment = _stand_in()
    result = {
        "variant": render.active_variant(),
        "frames": args.frames,
        "size": args.size,
        "spp": args.spp,
        "triangles": int(len(body.faces) + len(garment.faces)),
    }
    for shading in ("deferred", "path"):  # JIT warm-up (kernels are cached per size)
        render.render_turntable(
            body, garments=[garment], frames=1, size=args.size, spp=args.spp, shading=shading
        )
    start = time.perf_counter()
    frames = render.render_turntable(
        body, garments=[garment], frames=args.frames, size=args.size, spp=args.spp
    )
    suffix = "_36_s" if args.frames == 36 else "_s"
    result["turntable" + suffix] = time.perf_counter() - start
    start = time.perf_counter()
    render.render_turntable(
        body, garments=[garment], frames=args.frames, size=args.size, spp=args.spp, shading="path"
    )
    result["turntable_path" + suffix] = time.perf_counter() - start
    start = time.perf_counter()
    result["mp4_bytes"] = len(render.encode_mp4(frames))
    result["mp4_encode_s"] = time.perf_counter() - start
    start = time.perf_counter()
    result["gif_bytes"] = len(render.encode_gif(frames))
    result["gif_encode_s"] = time.perf_counter() - start
    if not args.skip_baseline:
        start = time.perf_counter()
        _naive_turntable(body, garment, args.frames, args.size, args.spp)
        result["baseline_rebuild_per_frame_s"] = time.perf_counter() - start
    for size in (256, 512):
        times = _silhouette_times(size)
        result[f"silhouette_{size}_forward_s"] = times["forward_s"]
        result[f"silhouette_{size}_backward_s"] = times["backward_s"]
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:32s} {value:.3f}" if isinstance(value, float) else f"{key:32s} {value}")


if __name__ == "__main__":
    main()
