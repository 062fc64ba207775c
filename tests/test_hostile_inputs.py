"""Hostile files, broken caches, full disks and killed runs (issue 17).

Every bad input must end in the documented exit code (2, or 3 for failed drape gates) with
exactly one line on stderr, no traceback, nothing left in the output folder, and no code run
from data. Only generated hostile files are used.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from tryon3d.cli import main

REPO = Path(__file__).resolve().parents[1]


class _Evil:
    """Unpickling this creates the file ``marker`` (what a crafted model file would do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


# ----------------------------------------------------------------------------- generated files


def _npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _declared_size_bomb(data: bytes, size: int = 0x7FFFFFF0) -> bytes:
    """A zip whose central directory declares every member ``size`` bytes (a zip bomb's header)."""
    out = bytearray(data)
    start = 0
    while (start := out.find(b"PK\x01\x02", start)) >= 0:
        out[start + 24 : start + 28] = struct.pack("<I", size)
        start += 4
    return bytes(out)


def _png(width: int, height: int, *, rows: bytes | None = None) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows or b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _jpeg_bomb() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (120, 80, 40)).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 60000, 60000)  # height, width: 3.6 gigapixels
    return bytes(data)


def _webp_bomb() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (120, 80, 40)).save(buffer, format="WEBP", lossless=True)
    data = bytearray(buffer.getvalue())
    at = data.find(b"VP8L") + 8 + 1  # chunk header, then the 0x2f signature
    bits = (
        (16383) | (16383 << 14) | (int.from_bytes(data[at : at + 4], "little") & ~((1 << 28) - 1))
    )
    data[at : at + 4] = bits.to_bytes(4, "little")  # 16384 x 16384 = 268 MP
    return bytes(data)


def _dxf_points(count: int) -> str:
    point = "  0\nPOINT\n  8\n0\n 10\n0.0\n 20\n0.0\n 30\n0.0\n"
    return "  0\nSECTION\n  2\nENTITIES\n" + point * count + "  0\nENDSEC\n  0\nEOF\n"


def _obj(faces: int = 2, *, nan: bool = False, mtl: str | None = None) -> str:
    lines = [f"mtllib {mtl}"] if mtl else []
    lines += [
        "v 0 0 0",
        "v 1 0 0",
        "v 0 1 0",
        f"v {'nan' if nan else 1} 1 0",
        "vt 0 0",
        "vt 1 0",
        "vt 0 1",
        "vt 1 1",
    ]
    lines += ["f 1/1 2/2 3/3", "f 2/2 4/4 3/3"][:faces]
    return "\n".join(lines) + "\n"


def _required_arrays() -> dict:
    from tryon3d.bodyfit._smplx_model import _REQUIRED_ARRAYS

    return _REQUIRED_ARRAYS


@pytest.fixture(scope="session")
def hostile(tmp_path_factory) -> dict[str, Path]:
    """Every generated hostile file, by name, and a valid saved body (body.json)."""
    root = tmp_path_factory.mktemp("hostile")
    files: dict[str, Path] = {"root": root}
    marker = root / "PWNED"
    files["marker"] = marker

    def folder(name: str) -> Path:
        path = root / name
        path.mkdir()
        files[name] = path
        return path

    (folder("evil_npz") / "SMPLX_NEUTRAL.npz").write_bytes(
        _npz_bytes(v_template=np.array([_Evil(marker)], dtype=object), f=np.zeros((2, 3), np.int32))
    )
    (folder("evil_pkl") / "SMPLX_NEUTRAL.pkl").write_bytes(
        pickle.dumps({"v_template": _Evil(marker)})
    )
    small = _npz_bytes(v_template=np.zeros((100, 3), np.float32))
    (folder("bomb_npz") / "SMPLX_NEUTRAL.npz").write_bytes(_declared_size_bomb(small))
    (folder("empty_npz") / "SMPLX_NEUTRAL.npz").write_bytes(b"")
    # a licence-less folder: what a user has before downloading SMPL-X (no model files)
    (folder("no_model") / "README.txt").write_text("SMPL-X model files go here\n")
    (folder("truncated_npz") / "SMPLX_NEUTRAL.npz").write_bytes(small[: len(small) // 2])
    (folder("notzip_npz") / "SMPLX_NEUTRAL.npz").write_bytes(b"this is not a zip file\n" * 10)
    (folder("missing_npz") / "SMPLX_NEUTRAL.npz").write_bytes(
        _npz_bytes(v_template=np.zeros((10, 3), np.float32), f=np.zeros((4, 3), np.int32))
    )
    arrays = {
        name: np.ones((1,) * ndim, np.int32 if kinds == "iu" else np.float32)
        for name, (ndim, kinds) in _required_arrays().items()
    }
    arrays["v_template"] = np.zeros((10, 2), np.float32)  # 2D points: not a body mesh
    (folder("shape_npz") / "SMPLX_NEUTRAL.npz").write_bytes(_npz_bytes(**arrays))
    deflated = io.BytesIO()
    np.savez_compressed(
        deflated, v_template=np.zeros(5_000_000, np.float32)
    )  # 20 MB of zeros, ~20 kB
    (folder("real_bomb_npz") / "SMPLX_NEUTRAL.npz").write_bytes(deflated.getvalue())

    images = folder("images")
    (images / "bomb.png").write_bytes(_png(30000, 30000))
    (images / "big.png").write_bytes(_png(8000, 8000, rows=(b"\x00" + b"\x80" * 8000) * 8000))
    (images / "bomb.jpg").write_bytes(_jpeg_bomb())
    (images / "bomb.webp").write_bytes(_webp_bomb())
    (images / "garbage.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))

    garments = folder("garments")
    (garments / "nan.obj").write_text(_obj(nan=True))
    (garments / "garbage.glb").write_bytes(
        b"glTF"
        + struct.pack("<II", 2, 40)
        + struct.pack("<I", 8)
        + b"JSON"
        + b"\xff\xfe\x00{garbage"
    )
    (garments / "escape.gltf").write_text(
        json.dumps(
            {
                "asset": {"version": "2.0"},
                "buffers": [{"uri": "../../../etc/passwd", "byteLength": 4}],
            }
        )
    )
    (garments / "remote.gltf").write_text(
        json.dumps(
            {
                "asset": {"version": "2.0"},
                "buffers": [{"uri": "https://example.com/x.bin", "byteLength": 4}],
            }
        )
    )
    (garments / "outside.bin").write_bytes(b"\x00" * 16)
    linked = garments / "linked"
    linked.mkdir()
    (linked / "buffer.bin").symlink_to(Path("/etc/passwd"))
    (linked / "link.gltf").write_text(
        json.dumps(
            {"asset": {"version": "2.0"}, "buffers": [{"uri": "buffer.bin", "byteLength": 4}]}
        )
    )
    with (garments / "huge.obj").open("w") as handle:  # 2.1 million triangles
        handle.write("v 0 0 0\nv 1 0 0\nv 0 1 0\n")
        handle.write("f 1 2 3\n" * 2_100_000)
    (garments / "many.dxf").write_text(_dxf_points(210_000))
    from tryon3d import garments as garments_module

    dxf = garments_module.pattern_to_dxf(garments_module.draft("skirt", "M"))
    bad_annotation = dxf.replace(
        "Annotation: placement {", 'Annotation: placement {"rogue_key": 1, ', 1
    )
    assert bad_annotation != dxf
    (garments / "annotation.dxf").write_text(bad_annotation)
    (garments / "seams.dxf").write_text(dxf.replace('"seams": [', '"seams": [[1], ', 1))
    (garments / "binary.dxf").write_bytes(os.urandom(4000))

    bodies = folder("bodies")
    from conftest import cached_body

    from tryon3d._bodies import save_body

    save_body(cached_body(1.70, 65.0, "female"), bodies / "ok")
    record = json.loads((bodies / "ok" / "body.json").read_text())
    files["body"] = bodies / "ok" / "body.json"
    for name, change in (
        ("list_params", lambda r: r["record"].__setitem__("shape_parameters", [0.5, 0.5])),
        (
            "nan_param",
            lambda r: r["record"]["shape_parameters"].__setitem__("weight", float("nan")),
        ),
        ("huge_param", lambda r: r["record"]["shape_parameters"].__setitem__("height", 1e300)),
        ("nan_age", lambda r: r["record"].__setitem__("age_years", float("nan"))),
        ("record_list", lambda r: r.__setitem__("record", [1, 2])),
    ):
        content = json.loads(json.dumps(record))
        change(content)
        target = bodies / f"{name}.json"
        target.write_text(json.dumps(content))  # NaN is written as the bare token NaN
        files[name] = target
    drapes = folder("drapes")
    (drapes / "drape.json").write_text(json.dumps({"body_file": str(files["body"])}))
    (drapes / "drape.npz").write_bytes(b"PK\x03\x04" + os.urandom(300))  # tampered
    return files


# ----------------------------------------------------------------------------- the CLI matrix


def _body_args(out: Path, *extra: str) -> list[str]:
    return ["body", "--height", "170", "--weight", "65", "--sex", "female", *extra, "-o", str(out)]


def _smplx(name: str):
    return lambda h, out: _body_args(out, "--model", "smplx", "--smplx-model-dir", str(h[name]))


def _drape(name: str):
    return lambda h, out: [
        "drape",
        "--body",
        str(h["body"]),
        "--garment",
        str(h["garments"] / name),
        "-o",
        str(out),
    ]


def _render_photo(name: str):
    return lambda h, out: [
        "render",
        "--drape",
        str(h["drapes"] / "drape.json"),
        "--photo",
        str(h["images"] / name),
        "--camera",
        str(h["body"]),
        "-o",
        str(out),
    ]


# (id, argv from (hostile files, output folder), environment, expected exit code, text on stderr)
CASES = [
    ("smplx-pickle-npz", _smplx("evil_npz"), {}, 2, "refused to load io.open"),
    ("smplx-pickle-pkl", _smplx("evil_pkl"), {}, 2, "refused to load io.open"),
    ("smplx-zip-bomb-header", _smplx("bomb_npz"), {}, 2, "TRYON3D_MAX_MODEL_BYTES"),
    (
        "smplx-zip-bomb-deflate",
        _smplx("real_bomb_npz"),
        {"TRYON3D_MAX_MODEL_BYTES": "1000000"},
        2,
        "over the 1 MB limit",
    ),
    (
        "smplx-no-model-dir",
        lambda h, out: _body_args(out, "--model", "smplx"),
        {"TRYON3D_SMPLX_DIR": ""},
        2,
        "needs its model files: download SMPL-X",
    ),
    (
        "smplx-missing-dir",
        lambda h, out: _body_args(
            out, "--model", "smplx", "--smplx-model-dir", str(h["root"] / "nope")
        ),
        {},
        2,
        "does not exist: download SMPL-X",
    ),
    ("smplx-licence-less-dir", _smplx("no_model"), {}, 2, "no SMPLX_*.npz (or .pkl) file in"),
    ("smplx-empty", _smplx("empty_npz"), {}, 2, "is empty"),
    ("smplx-truncated", _smplx("truncated_npz"), {}, 2, "SMPLX_NEUTRAL.npz"),
    ("smplx-not-zip", _smplx("notzip_npz"), {}, 2, "not a valid .npz"),
    ("smplx-missing-array", _smplx("missing_npz"), {}, 2, "lacks the array 'shapedirs'"),
    ("smplx-wrong-shape", _smplx("shape_npz"), {}, 2, "'v_template' has the wrong shape (10, 2)"),
    (
        "inches",
        lambda h, out: [
            "body",
            "--height",
            "170",
            "--weight",
            "70",
            "--sex",
            "male",
            "--chest",
            "38",
            "--waist",
            "32",
            "--hips",
            "40",
            "-o",
            str(out),
        ],
        {},
        2,
        "look like inches",
    ),
    (
        "waist-200-on-50kg",
        lambda h, out: [
            "body",
            "--height",
            "170",
            "--weight",
            "50",
            "--sex",
            "female",
            "--waist",
            "200",
            "-o",
            str(out),
        ],
        {},
        2,
        "waist 200 cm",
    ),
    ("age-3-at-170cm", lambda h, out: _body_args(out, "--age", "3"), {}, 2, "too tall for age 3"),
    (
        "hips-70-on-80kg",
        lambda h, out: [
            "body",
            "--height",
            "170",
            "--weight",
            "80",
            "--sex",
            "female",
            "--hips",
            "70",
            "-o",
            str(out),
        ],
        {},
        2,
        "hips 70 cm",
    ),
    (
        "weight-5kg",
        lambda h, out: [
            "body",
            "--height",
            "60",
            "--weight",
            "5",
            "--sex",
            "female",
            "-o",
            str(out),
        ],
        {},
        2,
        "between 10 and 400 kg",
    ),
    (
        "weight-inf",
        lambda h, out: [
            "body",
            "--height",
            "170",
            "--weight",
            "inf",
            "--sex",
            "female",
            "-o",
            str(out),
        ],
        {},
        2,
        "finite",
    ),
    ("empty-output", lambda h, out: [*_body_args(out)[:-1], ""], {}, 2, "non-empty path"),
    ("output-under-a-file", lambda h, out: _body_args(h["body"] / "sub"), {}, 2, "is not a folder"),
    (
        "body-params-list",
        lambda h, out: [
            "drape",
            "--body",
            str(h["list_params"]),
            "--garment",
            "tshirt",
            "-o",
            str(out),
        ],
        {},
        2,
        "'shape_parameters' must be a dict",
    ),
    (
        "body-param-nan",
        lambda h, out: [
            "drape",
            "--body",
            str(h["nan_param"]),
            "--garment",
            "tshirt",
            "-o",
            str(out),
        ],
        {},
        2,
        "weight = nan",
    ),
    (
        "body-param-huge",
        lambda h, out: [
            "drape",
            "--body",
            str(h["huge_param"]),
            "--garment",
            "tshirt",
            "-o",
            str(out),
        ],
        {},
        2,
        "height = 1e+300",
    ),
    (
        "body-age-nan",
        lambda h, out: [
            "drape",
            "--body",
            str(h["nan_age"]),
            "--garment",
            "tshirt",
            "-o",
            str(out),
        ],
        {},
        2,
        "age_years must be a finite number",
    ),
    (
        "body-record-list",
        lambda h, out: [
            "drape",
            "--body",
            str(h["record_list"]),
            "--garment",
            "tshirt",
            "-o",
            str(out),
        ],
        {},
        2,
        "not a tryon3d body record",
    ),
    (
        "body-long-path",
        lambda h, out: [
            "drape",
            "--body",
            "/tmp/" + "x" * 5000,
            "--garment",
            "tshirt",
            "-o",
            str(out),
        ],
        {},
        2,
        "File name too long",
    ),
    (
        "body-non-utf8-path",
        lambda h, out: [
            "drape",
            "--body",
            str(h["root"] / "b\udcff.json"),
            "--garment",
            "tshirt",
            "-o",
            str(out),
        ],
        {},
        2,
        "does not exist",
    ),
    (
        "drape-npz-tampered",
        lambda h, out: [
            "render",
            "--drape",
            str(h["drapes"] / "drape.json"),
            "--fitmap",
            "-o",
            str(out),
        ],
        {},
        2,
        "cannot read drape.npz",
    ),
    ("render-photo-png-bomb", _render_photo("bomb.png"), {}, 2, "decompression bomb"),
    ("render-photo-8000x8000", _render_photo("big.png"), {}, 2, "TRYON3D_MAX_PHOTO_PIXELS"),
    ("render-photo-jpeg-bomb", _render_photo("bomb.jpg"), {}, 2, "decompression bomb"),
    ("render-photo-webp-bomb", _render_photo("bomb.webp"), {}, 2, "photo"),
    ("render-photo-garbage", _render_photo("garbage.png"), {}, 2, "not a readable image"),
    (
        "edge-length-0.05cm",
        lambda h, out: ["garments", "show", "tshirt", "--edge-length-cm", "0.05", "-o", str(out)],
        {},
        2,
        "TRYON3D_MAX_GARMENT_FACES",
    ),
    ("obj-nan", _drape("nan.obj"), {}, 2, "'nan.obj' has 1 vertices with NaN"),
    ("obj-2M-faces", _drape("huge.obj"), {}, 2, "2100000 triangles, over the limit"),
    ("glb-garbage", _drape("garbage.glb"), {}, 2, "garbage.glb: not a valid glTF file"),
    ("gltf-escaping-uri", _drape("escape.gltf"), {}, 2, "points outside the file's folder"),
    ("gltf-remote-uri", _drape("remote.gltf"), {}, 2, "points outside the file's folder"),
    ("gltf-symlink-out", _drape("linked/link.gltf"), {}, 2, "points outside the file's folder"),
    ("dxf-many-entities", _drape("many.dxf"), {}, 2, "TRYON3D_MAX_DXF_ENTITIES"),
    ("dxf-bad-annotation", _drape("annotation.dxf"), {}, 2, "malformed"),
    ("dxf-bad-seams", _drape("seams.dxf"), {}, 2, "malformed"),
    ("dxf-binary-garbage", _drape("binary.dxf"), {}, 2, "cannot read DXF pattern"),
    (
        "limit-env-garbage",
        _drape("nan.obj"),
        {"TRYON3D_MAX_GARMENT_FACES": "lots"},
        2,
        "TRYON3D_MAX_GARMENT_FACES",
    ),
]


@pytest.mark.parametrize("name, argv, env, code, text", CASES, ids=[case[0] for case in CASES])
def test_cli_refuses_bad_input_in_one_line(
    hostile, tmp_path, capsys, monkeypatch, name, argv, env, code, text
):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)  # an output path that resolves to '.' would land here, and be seen
    assert main(argv(hostile, out)) == code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tryon3d: error:"), err
    assert text in lines[0], lines[0]
    assert "Traceback" not in err and "internal error" not in err
    assert not out.exists()  # the output folder is not created before the inputs are checked
    assert not hostile["marker"].exists()  # no code ran from a data file
    assert not list(tmp_path.iterdir())  # no staging folder, lock or stray file beside it


def test_failed_drape_gates_exit_3_naming_the_gate(hostile, tmp_path, capsys):
    """A settle budget far too short to come to rest: the files are written, the exit is 3."""
    out = tmp_path / "out"
    code = main(
        [
            "-q",
            "drape",
            "--body",
            str(hostile["body"]),
            "--garment",
            "skirt",
            "--max-seconds",
            "0.02",
            "-o",
            str(out),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3, err
    assert (
        err[-1].startswith("tryon3d: the drape failed its gates: ")
        and "did not come to rest" in err[-1]
    )
    assert "Traceback" not in "\n".join(err)
    assert {"drape.json", "drape.npz", "draped.glb"} <= {p.name for p in out.iterdir()}
    assert json.loads((out / "drape.json").read_text())["gates"]["passed"] is False


# ----------------------------------------------------------------------------- the API


def test_api_refuses_bad_garment_arguments(default_body):
    from tryon3d import garments, load_garment

    with pytest.raises(TypeError, match="family name or a file path, got NoneType"):
        load_garment(None)
    with pytest.raises(TypeError, match=r"body must be a bodyfit\.Body or None, got str"):
        load_garment("tshirt", body="notabody")
    with pytest.raises(TypeError, match=r"body must be a bodyfit\.Body"):
        garments.garment_from_pattern(garments.draft("skirt", "M"), body=np.zeros((3, 3)))


def test_api_pickles_are_refused_and_plain_object_members_load(tmp_path):
    from tryon3d.bodyfit._safe_load import read_npz_safely, restricted_loads

    marker = tmp_path / "PWNED"
    with pytest.raises(ValueError, match="refused to load"):
        restricted_loads(pickle.dumps([1, _Evil(marker)]), label="x")
    for payload in (pickle.dumps(os.system), b"cos\nsystem\n(S'touch x'\ntR."):
        with pytest.raises(ValueError, match="refused to load"):
            restricted_loads(payload, label="x")
    assert not marker.exists()
    # official SMPL-X files carry name->index dicts as object members: those load
    path = tmp_path / "m.npz"
    path.write_bytes(
        _npz_bytes(
            joint2num=np.array({"pelvis": 0, "neck": 12}, dtype=object),
            f=np.arange(6, dtype=np.int32).reshape(2, 3),
        )
    )
    arrays = read_npz_safely(path)
    assert arrays["joint2num"].item() == {"pelvis": 0, "neck": 12}
    assert arrays["f"].tolist() == [[0, 1, 2], [3, 4, 5]]


def test_api_zip_bomb_drape_npz_refused(tmp_path, monkeypatch):
    from tryon3d import sim

    with pytest.raises(ValueError, match="TRYON3D_MAX_DRAPE_BYTES"):
        sim.load_drape_npz(_declared_size_bomb(_npz_bytes(positions=np.zeros((10, 3)))))
    with pytest.raises(ValueError, match=r"cannot read drape\.npz"):
        sim.load_drape_npz(b"PK\x03\x04" + b"\x00" * 100)


def test_smplx_fit_that_misses_its_targets_fails_listing_each_miss(tmp_path):
    """The synthetic SMPL-X model without local shapes only scales and widens: a broad chest over
    narrow hips is out of its reach, and the build says so instead of returning another body."""
    from synthetic_smplx import write_synthetic_smplx

    from tryon3d import bodyfit

    write_synthetic_smplx(tmp_path, local_shapes=False)
    with pytest.raises(ValueError, match="cannot meet these measurements together") as error:
        bodyfit.body_from_measurements(
            height_m=1.82,
            weight_kg=78.0,
            sex="male",
            model="smplx",
            smplx_model_dir=tmp_path,
            chest_m=1.15,
            hips_m=0.88,
        )
    message = str(error.value)
    assert "chest" in message and "hips" in message and "\n" not in message


# ----------------------------------------------------------------------------- garment side files


def test_obj_side_files_stay_in_its_folder(tmp_path, caplog):
    from tryon3d import garments

    folder = tmp_path / "garment"
    folder.mkdir()
    for name, mtl in (
        ("zero.obj", "../../../../../../dev/zero"),
        ("passwd.obj", "/etc/passwd"),
        ("missing.obj", "missing.mtl"),
    ):
        (folder / name).write_text(_obj(mtl=mtl))
        started = time.perf_counter()
        with caplog.at_level("WARNING", logger="tryon3d"):
            loaded = garments.read_mesh_file(folder / name)
        assert time.perf_counter() - started < 5.0  # /dev/zero is never read
        assert len(loaded["faces"]) == 2 and loaded["texture"] is None  # the geometry loads
    assert sum("outside the garment's folder" in r.message for r in caplog.records) == 2
    assert any("not found" in r.message for r in caplog.records)
    # a texture named with spaces and one with the exporting machine's absolute path: found here
    from PIL import Image

    Image.new("RGB", (4, 4), (200, 10, 10)).save(folder / "my texture.png")
    (folder / "spaces.mtl").write_text("newmtl a\nmap_Kd -s 1 1 1 my texture.png\n")
    (folder / "spaces.obj").write_text(_obj(mtl="spaces.mtl"))
    assert (
        garments.read_mesh_file(folder / "spaces.obj")["texture"]
        == (folder / "my texture.png").resolve()
    )
    (folder / "abs.mtl").write_text("newmtl a\nmap_Kd C:\\Users\\artist\\my texture.png\n")
    (folder / "abs.obj").write_text(_obj(mtl="abs.mtl"))
    assert (
        garments.read_mesh_file(folder / "abs.obj")["texture"]
        == (folder / "my texture.png").resolve()
    )
    # an MTL over the side-file cap is refused, naming the limit
    (folder / "big.mtl").write_text("# padding\n" * 2000)
    (folder / "big.obj").write_text(_obj(mtl="big.mtl"))
    os.environ["TRYON3D_MAX_SIDE_FILE_BYTES"] = "1000"
    try:
        with pytest.raises(ValueError, match="TRYON3D_MAX_SIDE_FILE_BYTES"):
            garments.read_mesh_file(folder / "big.obj")
    finally:
        del os.environ["TRYON3D_MAX_SIDE_FILE_BYTES"]


# ----------------------------------------------------------------------------- caches


def test_cache_that_is_not_a_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("x")
    out = tmp_path / "out"
    # a fresh process: anny and Warp read their cache folders once, at import
    env = {k: v for k, v in os.environ.items() if k not in ("ANNY_CACHE_DIR", "WARP_CACHE_PATH")}
    done = subprocess.run(
        [sys.executable, "-m", "tryon3d", *_body_args(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**env, "TRYON3D_CACHE": str(blocker)},
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cache folder" in lines[0] and "TRYON3D_CACHE" in lines[0], (
        done.stderr
    )
    assert not out.exists()


def test_damaged_anny_cache_files_are_found_and_dropped(tmp_path):
    from safetensors.numpy import save_file

    from tryon3d.bodyfit._cache import drop_damaged_cache_files

    save_file({"a": np.arange(1000, dtype=np.float32)}, str(tmp_path / "good.safetensors"))
    data = (tmp_path / "good.safetensors").read_bytes()
    (tmp_path / "truncated.safetensors").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbage.safetensors").write_bytes(os.urandom(64))
    dropped = drop_damaged_cache_files(tmp_path)
    assert sorted(p.name for p in dropped) == ["garbage.safetensors", "truncated.safetensors"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.safetensors"]


def test_damaged_anny_cache_is_rebuilt_once_and_the_run_continues(tmp_path, monkeypatch, caplog):
    """anny fails on a truncated cache file: the file is dropped and the model loads on the retry.
    (anny itself is stood in for: a real rebuild takes minutes.)"""
    from tryon3d.bodyfit import _anny_model

    built = _anny_model.load_anny_model().module  # the real module, from the real cache
    import anny
    import anny.paths

    (tmp_path / "load_data_x.safetensors").write_bytes(b'\x10\x00\x00\x00\x00\x00\x00\x00{"a"')
    real_cache = anny.paths.get_anny_cache_path()
    anny.paths.set_anny_cache_path(tmp_path)
    calls = []

    def flaky(*args, **kwargs):
        calls.append(sorted(p.name for p in tmp_path.iterdir()))
        if len(calls) == 1:
            raise RuntimeError(
                "SafetensorError: Error while deserializing header: MetadataIncompleteBuffer"
            )
        return built

    monkeypatch.setattr(anny, "Anny", flaky)
    try:
        with caplog.at_level("WARNING", logger="tryon3d"):
            model = _anny_model.load_anny_model.__wrapped__()
    finally:
        anny.paths.set_anny_cache_path(real_cache)
    assert calls == [["load_data_x.safetensors"], []]  # retried once, after the damaged file went
    assert model.faces.shape[1] == 3
    assert any("damaged" in r.message for r in caplog.records)


def test_corrupted_warp_kernel_is_rebuilt_once(tmp_path, caplog):
    """A truncated cached kernel binary: Warp fails to load it; the module's cache folder is
    dropped, the kernel compiled again, and the call succeeds."""
    from tryon3d.sim._cache import repair_kernel_cache_once

    calls = []
    cache = tmp_path / "wp_tryon3d.sim._measure_63d8ed5"
    cache.mkdir()
    (cache / "wp_tryon3d.sim._measure_63d8ed5.cpu1.o").write_bytes(b"\x7fELF truncated")

    import warp

    old = warp.config.kernel_cache_dir
    warp.config.kernel_cache_dir = str(tmp_path)
    try:

        @repair_kernel_cache_once
        def launch():
            calls.append(cache.exists())
            if cache.exists():
                raise Exception(
                    "Failed to load CPU module 'tryon3d.sim._measure' (device='cpu', block_dim=1, "
                    "module_hash=63d8ed5)"
                )
            return "ok"

        with caplog.at_level("WARNING", logger="tryon3d"):
            assert launch() == "ok"
    finally:
        warp.config.kernel_cache_dir = old
    assert calls == [True, False] and not cache.exists()
    assert any("damaged" in r.message for r in caplog.records)


# ----------------------------------------------------------------------------- disks, kills, locks


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 2 MB tmpfs (root only): a full disk in miniature."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_full_disk_names_the_folder_and_leaves_nothing(small_tmpfs):
    from tryon3d._files import write_files_atomically

    (small_tmpfs / "filler").write_bytes(b"\x00" * 1_500_000)
    out = small_tmpfs / "report"
    with pytest.raises(
        ValueError,
        match=r"cannot write to output folder .*report.*no space left on the device "
        r"\(1\.0 MB to write\)",
    ):
        write_files_atomically(out, {"a.bin": b"\x01" * 1_000_000})
    assert sorted(p.name for p in small_tmpfs.iterdir()) == ["filler"]
    (small_tmpfs / "filler").unlink()
    assert [p.name for p in write_files_atomically(out, {"a.bin": b"\x01" * 1_000_000})] == [
        "a.bin"
    ]


def test_read_only_cache_is_a_clear_error(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("a read-only mount needs root (as root, file modes do not stop writes)")
    cache = tmp_path / "cache"
    cache.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(cache)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a read-only tmpfs here")
    try:
        from tryon3d.bodyfit._cache import check_cache_dir

        with pytest.raises(ValueError, match=r"is not writable .*set TRYON3D_CACHE"):
            check_cache_dir(cache)
    finally:
        subprocess.run(["umount", "-l", str(cache)], capture_output=True)


_WRITER = textwrap.dedent("""
    import sys
    from tryon3d._files import write_files_atomically
    tag = sys.argv[2]
    # 40 files of 2 MB: long enough to be killed in the middle
    write_files_atomically(
        sys.argv[1], {f"part_{i:02d}.bin": tag.encode() * 2_000_000 for i in range(40)}
    )
    print("done", flush=True)
""")


def _folder_state(folder: Path) -> set[bytes]:
    """The run tags found in the folder's files (one tag: not mixed)."""
    return {path.read_bytes()[:1] for path in folder.glob("part_*.bin")}


@pytest.mark.parametrize("delay_s", [0.0, 0.05, 0.2, 1.0])
def test_sigkill_while_writing_never_mixes_two_runs(tmp_path, delay_s):
    """Killed at moments after its staging folder appears (while writing, renaming, or done)."""
    out = tmp_path / "out"
    first = subprocess.run(
        [sys.executable, "-c", _WRITER, str(out), "A"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    assert _folder_state(out) == {b"A"} and len(list(out.glob("part_*.bin"))) == 40
    second = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(out), "B"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while (
        not list(tmp_path.glob(".out.tryon3d-new-*"))
        and second.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.005)
    time.sleep(delay_s)
    second.send_signal(signal.SIGKILL)
    second.wait(30)
    state = _folder_state(out)
    assert (
        state in ({b"A"}, {b"B"}) and len(list(out.glob("part_*.bin"))) == 40
    )  # all old or all new
    assert json.loads((out / ".tryon3d-manifest.json").read_text())["files"] == [
        f"part_{i:02d}.bin" for i in range(40)
    ]
    # the killed run's lock is stale (its pid is gone): a rerun takes it over and succeeds
    third = subprocess.run(
        [sys.executable, "-c", _WRITER, str(out), "C"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert third.returncode == 0, third.stderr
    assert _folder_state(out) == {b"C"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging, old or lock left


def test_sigint_mid_run_exits_130_and_writes_nothing(tmp_path):
    # a try-on (body, drape server, renders: ~10 s): the interrupt lands mid-run. The child
    # starts with SIGINT at its default: a suite run in the background inherits it ignored,
    # and Python then never raises KeyboardInterrupt
    out = tmp_path / "out"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tryon3d",
            "tryon",
            "--height",
            "170",
            "--weight",
            "65",
            "--sex",
            "female",
            "--garment",
            "tshirt",
            "--size",
            "M",
            "-o",
            str(out),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(2.0)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert err.strip().splitlines()[-1] == "tryon3d: interrupted" and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".*"))


def test_two_writers_on_one_folder(tmp_path):
    from tryon3d._files import ensure_writable_dir, release_locks, write_files_atomically

    out = tmp_path / "out"
    write_files_atomically(out, {"a.txt": "1"})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom tryon3d._files import ensure_writable_dir\n"
            f"ensure_writable_dir({str(out)!r}); print('locked', flush=True); time.sleep(60)",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(
            ValueError, match=f"being written by another tryon3d run \\(pid {holder.pid}\\)"
        ):
            write_files_atomically(out, {"a.txt": "2"})
        code = main(["garments", "show", "skirt", "-o", str(out)])
        assert code == 2
    finally:
        holder.kill()
        holder.wait(30)
    assert (out / "a.txt").read_text() == "1"
    ensure_writable_dir(out)  # the dead holder's lock is taken over
    release_locks()
    assert [p.name for p in write_files_atomically(out, {"a.txt": "3"})] == ["a.txt"]
    assert (out / "a.txt").read_text() == "3"


def test_foreign_folder_keeps_its_files(tmp_path):
    """A folder holding the user's own files is written into, never swapped away."""
    from tryon3d._files import write_files_atomically

    out = tmp_path / "desktop"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"mine")
    write_files_atomically(out, {"body.json": "{}"})
    assert sorted(p.name for p in out.iterdir()) == [
        ".tryon3d-manifest.json",
        "body.json",
        "holiday.jpg",
    ]
    # an earlier run's folder where the user has since put a file of their own: kept too
    ours = tmp_path / "run"
    write_files_atomically(ours, {"a.txt": "1", "sub/b.txt": "2"})
    write_files_atomically(ours, {"c.txt": "3"})  # ours alone: replaced whole
    assert sorted(p.name for p in ours.iterdir()) == [".tryon3d-manifest.json", "c.txt"]
    (ours / "notes.txt").write_text("mine")
    write_files_atomically(ours, {"d.txt": "4"})
    assert (ours / "notes.txt").read_text() == "mine" and (ours / "d.txt").exists()


# ----------------------------------------------------------------------------- privacy


def test_no_written_image_carries_the_input_exif(tmp_path):
    """A phone photo with GPS in its EXIF: the pixels tryon3d keeps and the PNGs it writes hold
    no EXIF (the orientation is applied, then dropped)."""
    from PIL import Image

    from tryon3d import bodyfit
    from tryon3d._photos import _png

    exif = Image.Exif()
    exif[0x0110] = "SecretPhone 12"  # camera model
    exif[0x0112] = 6  # rotated: the loaded pixels come out upright
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}  # GPS
    source = tmp_path / "phone.jpg"
    Image.new("RGB", (300, 200), (90, 120, 150)).save(source, exif=exif)
    assert Image.open(source).getexif().get(0x0110) == "SecretPhone 12"
    photo = bodyfit.load_photo(source)
    assert photo.pixels.shape == (300, 200, 3)  # orientation applied
    written = _png(photo.pixels)
    image = Image.open(io.BytesIO(written))
    assert not image.getexif() and "exif" not in image.info
    assert b"SecretPhone" not in written and b"Exif" not in written


# ----------------------------------------------------------------------------- fuzzing

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
_DOCUMENTED = (ValueError, TypeError)


def _fuzz_file(tmp_path_factory, name: str, data: bytes) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / name
    path.write_bytes(data)
    return path


_DXF_LINES = st.lists(
    st.sampled_from(
        [
            "  0",
            "SECTION",
            "  2",
            "ENTITIES",
            "BLOCKS",
            "BLOCK",
            "ENDBLK",
            "INSERT",
            "POLYLINE",
            "VERTEX",
            "SEQEND",
            "TEXT",
            "  1",
            "  8",
            "1",
            " 10",
            " 20",
            "0.0",
            "1e308",
            "nan",
            "Annotation: pattern {",
            "ENDSEC",
            "EOF",
            "  9",
            "$INSUNITS",
            " 70",
            "4",
            "-1",
        ]
    ),
    max_size=80,
)


@_FUZZ
@given(lines=_DXF_LINES)
def test_fuzz_dxf_reader(tmp_path_factory, lines):
    from tryon3d import garments

    path = _fuzz_file(tmp_path_factory, "f.dxf", "\n".join(lines).encode())
    with contextlib.suppress(_DOCUMENTED):
        garments.read_dxf_pattern(path)


_OBJ_LINES = st.lists(
    st.one_of(
        st.builds(
            lambda *v: "v " + " ".join(v),
            *[st.sampled_from(["0", "1", "-1", "nan", "inf", "1e308", "x"])] * 3,
        ),
        st.builds(
            lambda *f: "f " + " ".join(f),
            *[st.sampled_from(["1", "2", "3", "4", "-1", "0", "99", "1/1/1"])] * 3,
        ),
        st.sampled_from(
            [
                "vt 0 0",
                "vt nan 1",
                "mtllib ../../etc/passwd",
                "mtllib /dev/zero",
                "usemtl a",
                "o x",
                "",
                "mtllib missing.mtl",
                "vn 0 0 1",
            ]
        ),
    ),
    max_size=40,
)


@_FUZZ
@given(lines=_OBJ_LINES)
def test_fuzz_obj_reader(tmp_path_factory, lines):
    from tryon3d import garments

    path = _fuzz_file(tmp_path_factory, "f.obj", "\n".join(lines).encode())
    with contextlib.suppress(_DOCUMENTED):
        garments.read_mesh_file(path)


_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
_GLTF = st.fixed_dictionaries(
    {
        "asset": _JSON,
        "buffers": st.one_of(
            _JSON,
            st.lists(
                st.fixed_dictionaries(
                    {
                        "uri": st.sampled_from(
                            ["a.bin", "../x.bin", "/etc/passwd", "http://x/y", "data:,abc", ""]
                        ),
                        "byteLength": st.integers(-5, 10**12),
                    }
                ),
                max_size=3,
            ),
        ),
        "meshes": _JSON,
    }
)


@_FUZZ
@given(document=_GLTF, binary=st.booleans())
def test_fuzz_gltf_reader(tmp_path_factory, document, binary):
    from tryon3d import garments

    text = json.dumps(document).encode()
    if binary:
        text = (
            b"glTF"
            + struct.pack("<II", 2, 20 + len(text))
            + struct.pack("<I", len(text))
            + b"JSON"
            + text
        )
    path = _fuzz_file(tmp_path_factory, "f.glb" if binary else "f.gltf", text)
    with contextlib.suppress(_DOCUMENTED):
        garments.read_mesh_file(path)


@_FUZZ
@given(
    record=st.fixed_dictionaries(
        {
            "format": st.sampled_from(["tryon3d.body/1", "x"]),
            "model": st.sampled_from(["anny", "smplx", "x"]),
            "sex": st.sampled_from(["female", "male", "robot"]),
            "age_years": st.one_of(st.floats(), st.integers(-5, 10**6), st.text(max_size=3)),
            "shape_parameters": st.one_of(
                _JSON,
                st.dictionaries(
                    st.sampled_from(["muscle", "weight", "height", "proportions"]),
                    st.floats(),
                    max_size=4,
                ),
            ),
            "pose_axis_angle_rad": _JSON,
            "height_ratios": _JSON,
            "vertex_count": _JSON,
        }
    )
)
def test_fuzz_body_record(record, monkeypatch):
    from tryon3d import bodyfit
    from tryon3d.bodyfit._io import RECORD_FORMAT

    monkeypatch.delenv("TRYON3D_SMPLX_DIR", raising=False)
    if record["format"] != "x":
        record["format"] = RECORD_FORMAT
    with contextlib.suppress(_DOCUMENTED):
        bodyfit.body_from_record(record)


@_FUZZ
@given(data=st.binary(max_size=400), keep=st.integers(0, 2000))
def test_fuzz_npz_readers(data, keep):
    """Random bytes, and valid archives cut short or with bytes flipped."""
    from tryon3d import sim
    from tryon3d.bodyfit._safe_load import read_npz_safely

    valid = _npz_bytes(positions=np.zeros((5, 3)), meta=np.array('{"format": 1}'))
    for blob in (data, valid[:keep], valid[:keep] + data + valid[keep + len(data) :]):
        with contextlib.suppress(_DOCUMENTED):
            sim.load_drape_npz(blob)
        buffer = Path(os.environ.get("TMPDIR", "/tmp")) / f"fuzz-{os.getpid()}.npz"
        buffer.write_bytes(blob)
        try:
            read_npz_safely(buffer)
        except _DOCUMENTED:
            pass
        finally:
            buffer.unlink()
