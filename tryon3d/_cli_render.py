"""``tryon3d render``: images of a drape: onto the user's photo, a turntable, fit maps.

Loading glue only: ``tryon3d drape`` writes ``drape.json`` (naming the body file),
``drape.npz`` (the Drape's arrays, for fit maps) and ``draped.glb``; without the first two, the
meshes of ``draped.glb`` still give photo composites and turntables.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
from pathlib import Path

import numpy as np

_log = logging.getLogger("tryon3d")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "render",
        help="render a drape: onto a photo, as a turntable, as fit maps",
        description="Render the drape of `tryon3d drape` (OUT2/drape.json with draped.glb beside "
        "it): "
        "onto your photo (--photo with --camera, the body.json of a photo fit), as a turntable "
        "(MP4 + GIF) and as fit maps (PNG). Writes OUT3/tryon.png + garment_mask.png, "
        "turntable.mp4 + turntable.gif, fitmap_<field>.png.",
    )
    parser.add_argument(
        "--drape", required=True, metavar="DRAPE_JSON", help="drape.json written by `tryon3d drape`"
    )
    parser.add_argument("--photo", metavar="IMAGE", help="the photo the body was fitted to")
    parser.add_argument(
        "--camera",
        metavar="BODY_JSON",
        help="body.json (or camera JSON) holding the photo's camera",
    )
    parser.add_argument(
        "--person-mask", metavar="IMAGE", help="optional person mask image (white = person)"
    )
    parser.add_argument(
        "--turntable", type=int, metavar="FRAMES", help="render a turntable of FRAMES frames"
    )
    parser.add_argument(
        "--size", type=int, default=512, help="turntable / fit-map image size in px (default 512)"
    )
    parser.add_argument(
        "--fitmap", action="store_true", help="render stretch, pressure and ease fit maps"
    )
    parser.add_argument(
        "--texture", metavar="IMAGE", help="garment texture (default: the one in draped.glb)"
    )
    parser.add_argument("--seed", type=int, default=0, help="sampler seed (default 0)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder")
    parser.set_defaults(run=run)


class _LoadedDrape:
    """Geometry of a drape read back from draped.glb (no fit fields)."""

    def __init__(self, positions, faces, uv, texture):
        self.positions = positions
        self.faces = faces
        self.uv = uv
        self.texture = texture


class _LoadedBody:
    def __init__(self, vertices, faces):
        self.vertices = vertices
        self.faces = faces


def _load_drape(path: Path):
    """(body, drape, has_fields) from drape.json: the saved Body and ``drape.npz`` when both are
    there, else the meshes of ``draped.glb`` beside it (no fit fields)."""
    from tryon3d import sim

    if not path.is_file():
        raise ValueError(f"drape file {str(path)!r} does not exist")
    try:
        summary = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read drape file {str(path)!r}: {exc}") from None
    if not isinstance(summary, dict):
        raise ValueError(f"drape file {str(path)!r} is not a drape.json object")
    body_file = summary.get("body_file")
    npz = path.with_name("drape.npz")
    if body_file and Path(body_file).is_file() and npz.is_file():
        from tryon3d._bodies import load_body

        return load_body(body_file), sim.load_drape(npz), True
    glb = path.with_name("draped.glb")
    if not glb.is_file():
        raise ValueError(f"no draped.glb next to {str(path)!r}; run `tryon3d drape` again")
    import trimesh

    try:
        scene = trimesh.load(glb, force="scene")
        meshes = {name: geometry for name, geometry in scene.geometry.items()}
    except Exception as exc:  # trimesh raises many types on damaged files
        raise ValueError(f"cannot read {str(glb)!r}: {type(exc).__name__}") from None
    if "body" not in meshes or "garment" not in meshes:
        raise ValueError(f"{str(glb)!r} lacks the body and garment meshes (has {sorted(meshes)})")
    body_mesh, garment_mesh = meshes["body"], meshes["garment"]
    body = _LoadedBody(
        np.asarray(body_mesh.vertices, np.float64), np.asarray(body_mesh.faces, np.int64)
    )
    visual = garment_mesh.visual
    uv = getattr(visual, "uv", None)
    texture = None
    material = getattr(visual, "material", None)
    image = getattr(material, "baseColorTexture", None) if material is not None else None
    if image is not None:
        texture = np.asarray(image.convert("RGB"))
    drape = _LoadedDrape(
        np.asarray(garment_mesh.vertices, np.float64),
        np.asarray(garment_mesh.faces, np.int64),
        None if uv is None else np.asarray(uv, np.float32),
        texture,
    )
    return body, drape, False


def _load_camera(path: Path):
    from tryon3d import render

    try:
        content = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read camera file {str(path)!r}: {exc}") from None
    candidates = [content]
    if isinstance(content, dict):
        for key in ("camera", "photo_camera"):
            candidates.append(content.get(key))
        for key in ("cameras", "photos"):
            value = content.get(key)
            if isinstance(value, list) and value:
                candidates.append(
                    value[0].get("camera", value[0]) if isinstance(value[0], dict) else None
                )
            elif isinstance(value, dict) and value:
                first = next(iter(value.values()))
                candidates.append(first.get("camera", first) if isinstance(first, dict) else None)
    for candidate in candidates:
        if isinstance(candidate, dict) and {"fx", "fy", "cx", "cy", "world_to_camera"} <= set(
            candidate
        ):
            return render.Camera.from_dict(candidate)
    raise ValueError(
        f"{str(path)!r} holds no camera (fx, fy, cx, cy, width, height, world_to_camera)"
    )


def _read_image(path: str, mode: str) -> np.ndarray:
    """The image at ``path`` with ``tryon3d body``'s photo checks (size, pixel count, bombs, EXIF
    orientation applied, metadata dropped): (H, W, 3) uint8 for ``"RGB"``, (H, W) for ``"L"``."""
    from tryon3d import bodyfit

    pixels = bodyfit.load_photo(path).pixels
    if mode == "L":
        return np.round(pixels.astype(np.float32).mean(axis=2)).astype(np.uint8)
    return pixels


def _png(array: np.ndarray) -> bytes:
    from PIL import Image

    stream = io.BytesIO()
    Image.fromarray(array).save(stream, format="PNG")
    return stream.getvalue()


def run(args: argparse.Namespace) -> int:
    from tryon3d._files import ensure_writable_dir, write_files_atomically

    out = ensure_writable_dir(args.output)  # fail before the slow work
    if args.photo is None and args.turntable is None and not args.fitmap:
        raise ValueError(
            "nothing to render: give --photo (with --camera), --turntable N and/or --fitmap"
        )
    if (args.photo is None) != (args.camera is None):
        raise ValueError("--photo and --camera go together")
    if args.turntable is not None and not 1 <= args.turntable <= 720:
        raise ValueError(f"--turntable must be 1-720 frames, got {args.turntable}")
    if not 64 <= args.size <= 4096:
        raise ValueError(f"--size must be 64-4096 px, got {args.size}")
    photo = _read_image(args.photo, "RGB") if args.photo else None
    person_mask = _read_image(args.person_mask, "L") > 127 if args.person_mask else None
    camera = _load_camera(Path(args.camera)) if args.camera else None
    body, drape, has_fields = _load_drape(Path(args.drape))
    if args.fitmap and not has_fields:
        raise ValueError(
            "fit maps need the drape's stretch/pressure fields, which drape.json + draped.glb do "
            "not carry "
            "(drape.npz or the body file named in drape.json is missing)"
        )
    from tryon3d import render

    texture = args.texture if args.texture else getattr(drape, "texture", None)
    files: dict[str, bytes] = {}
    if photo is not None and camera is not None:  # they come together (checked above)
        composite, mask = render.render_on_photo(
            body, drape, photo, camera, person_mask, texture=texture, seed=args.seed
        )
        files["tryon.png"] = _png(composite)
        files["garment_mask.png"] = _png((mask * 255).astype(np.uint8))
        _log.info("composited the garment onto %s (%d garment pixels)", args.photo, int(mask.sum()))
    if args.turntable is not None:
        frames = render.render_turntable(
            body,
            drape=drape,
            texture=texture,
            frames=args.turntable,
            size=args.size,
            seed=args.seed,
        )
        files["turntable.mp4"] = render.encode_mp4(frames)
        files["turntable.gif"] = render.encode_gif(frames)
        _log.info("rendered a %d-frame turntable at %d px", len(frames), args.size)
    if args.fitmap:
        for bands in render.FITMAP_FIELDS.values():
            files[f"fitmap_{bands.field}.png"] = render.render_fitmap(
                body, drape, field=bands.field, size=args.size, seed=args.seed
            )
    written = write_files_atomically(out, files)
    _log.info("wrote %s", ", ".join(str(p) for p in written))
    return 0
