"""End to end: ``tryon3d tryon`` and ``tryon3d fit-report`` write a complete report, and
report.html opens in headless Chromium with no console errors, a drawn 3D view and every image.

Chromium is driven over the DevTools protocol with a tiny standard-library WebSocket client
(no extra dependency). ``make test`` installs Debian's ``chromium`` (scripts/install_test_deps.sh);
without it only the browser tests are skipped.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tryon3d.cli import main

CHROMIUM = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (make test installs it)"
)

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--hide-scrollbars",
    "--mute-audio",
)


class _WebSocket:
    """The client side of RFC 6455, just enough for the DevTools protocol (text frames)."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        match = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        if match is None:
            raise ValueError(f"unsupported websocket url {url!r}")
        host, port, path = match.group(1), int(match.group(2)), match.group(3)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: "
            "Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            response += chunk
        head, self.buffer = response.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"websocket handshake refused: {head[:200]!r}")

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def send(self, text: str) -> None:
        payload = text.encode()
        header = bytearray([0x81])
        n = len(payload)
        if n < 126:
            header.append(0x80 | n)
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes(header) + mask + masked)

    def receive(self) -> str:
        parts = []
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise ConnectionError("websocket closed by the browser")
            if opcode in (0x9, 0xA):
                continue
            parts.append(payload)
            if b0 & 0x80:
                return b"".join(parts).decode()

    def close(self) -> None:
        self.sock.close()


class DevTools:
    """One page of a headless Chromium, with its console errors collected."""

    def __init__(self, ws: _WebSocket) -> None:
        self.ws, self.next_id, self.errors, self.events = ws, 0, [], []

    def call(self, method: str, timeout: float = 60.0, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(self.ws.receive())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)
        raise TimeoutError(method)

    def _event(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        self.events.append(method)
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append(
                "console: "
                + " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            )
        elif method == "Runtime.exceptionThrown":
            self.errors.append("exception: " + json.dumps(params.get("exceptionDetails", {}))[:400])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.errors.append(
                f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}"
            )

    def evaluate(self, expression: str):
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluate failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return True
            time.sleep(0.25)
        return False


@contextlib.contextmanager
def open_chromium():
    """A headless Chromium with one page under DevTools control (yields DevTools)."""
    profile = tempfile.mkdtemp(prefix="tryon3d-chromium-")
    process = subprocess.Popen(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--window-size=1280,1800",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line and process.poll() is not None:
                break
            match = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            port = int(match.group(1)) if match else None
        assert port is not None, "chromium did not start its DevTools endpoint"
        targets = json.loads(
            urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30).read()
        )
        page = next(t for t in targets if t.get("type") == "page")
        ws = _WebSocket(page["webSocketDebuggerUrl"])
        tools = DevTools(ws)
        for domain in ("Runtime", "Log", "Page"):
            tools.call(f"{domain}.enable")
        try:
            yield tools
        finally:
            ws.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser():
    with open_chromium() as tools:
        yield tools


def check_report_in_browser(tools: DevTools, html_path: Path) -> dict:
    """Open the report and measure: console errors, images, the 3D view's pixels."""
    from PIL import Image

    tools.call("Page.navigate", url=html_path.resolve().as_uri())
    assert tools.wait_for("document.readyState === 'complete'", 60), "page did not finish loading"
    images = tools.evaluate(
        "Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"
    )
    viewer_ok = tools.wait_for(
        "(() => { const v = document.querySelector('model-viewer'); "
        "return !!(v && v.loaded && v.modelIsVisible); })()",
        60,
    )
    time.sleep(1.0)  # a few frames after the model became visible
    rect = tools.evaluate(
        "(() => { const r = document.querySelector('model-viewer').getBoundingClientRect(); "
        "return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]; })()"
    )
    shot = tools.call(
        "Page.captureScreenshot",
        format="png",
        captureBeyondViewport=True,
        clip={"x": rect[0], "y": rect[1], "width": rect[2], "height": rect[3], "scale": 1},
    )
    pixels = np.asarray(
        Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB")
    ).astype(np.int16)
    background = np.median(pixels.reshape(-1, 3), axis=0)
    differs = np.abs(pixels - background).max(axis=2) > 30
    tools.call("Runtime.evaluate", expression="0")  # drain late events
    return {
        "images": images,
        "viewer_loaded": viewer_ok,
        "shot_shape": pixels.shape,
        "foreground_fraction": float(differs.mean()),
        "pixel_std": float(pixels.std()),
        "errors": list(tools.errors),
    }


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory):
    """One small try-on: a body from measurements, a T-shirt in S and M, small images."""
    out = tmp_path_factory.mktemp("tryon")
    started = time.perf_counter()
    code = main(
        [
            "-q",
            "tryon",
            "--height",
            "165",
            "--weight",
            "58",
            "--sex",
            "female",
            "--garment",
            "tshirt",
            "--size",
            "M",
            "--sizes",
            "S",
            "--edge-length",
            "3.5",
            "--image-size",
            "160",
            "--turntable",
            "4",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    print(f"tryon took {time.perf_counter() - started:.1f} s")
    return out


def test_tryon_writes_the_full_report(report_folder):
    names = {
        p.relative_to(report_folder).as_posix() for p in report_folder.rglob("*") if p.is_file()
    }
    expected = {
        "body.json",
        "body.glb",
        "report.json",
        "report.html",
        "front.png",
        "turntable.gif",
        "turntable.mp4",
        "fitmap_S.png",
        "fitmap_M.png",
        "draped_S.glb",
        "draped_M.glb",
        "viewer/model-viewer.min.js",
        "viewer/LICENSE",
    }
    assert expected <= names, expected - names
    # no staging leftovers; the manifest (written last) lists the run's files
    assert not [n for n in names if ".tryon3d-" in n and n != ".tryon3d-manifest.json"]
    manifest = json.loads((report_folder / ".tryon3d-manifest.json").read_text())
    assert set(manifest["files"]) == names - {".tryon3d-manifest.json"}
    report = json.loads((report_folder / "report.json").read_text())
    assert report["recommended_size"] in ("S", "M")
    assert 0.0 < report["confidence"] <= 1.0
    assert set(report["sizes"]) == {"S", "M"}
    for entry in report["sizes"].values():
        assert set(entry["gates"]) >= {
            "penetrating_vertices",
            "self_intersecting_pairs",
            "max_seam_gap_mm",
            "max_stretch_pct",
            "converged",
            "passed",
        }
        assert entry["gates"]["max_seam_gap_mm"] <= 2.0
        assert entry["gates"]["penetrating_vertices"] == 0
        assert entry["verdict"] in ("good", "snug", "loose", "too tight", "too loose")
        assert {"chest", "waist", "hips"} <= set(entry["ease_cm"])
        assert 100.0 <= entry["stretch_pct"]["p95"] <= entry["stretch_pct"]["max"] < 200.0
        assert (
            "hem_below_hips_cm" in entry["lengths"]
            and "sleeve_end_above_elbow_cm" in entry["lengths"]
        )
    # a size up adds the chart step (6 cm for women's S -> M) to the chest ease
    step = (
        report["sizes"]["M"]["ease_cm"]["chest"]["pattern_ease"]
        - report["sizes"]["S"]["ease_cm"]["chest"]["pattern_ease"]
    )
    assert step == pytest.approx(6.0, abs=0.2)
    body = json.loads((report_folder / "body.json").read_text())
    assert body["measurements_cm"]["stature"] == pytest.approx(165.0, abs=1.5)
    page = (report_folder / "report.html").read_text()
    assert "data:model/gltf-binary;base64," in page and 'src="viewer/model-viewer.min.js"' in page
    assert "photo_fit" not in body and 'id="photo-body"' not in page  # no photo, no photo block
    from PIL import Image

    gif = Image.open(report_folder / "turntable.gif")
    assert gif.n_frames == 4 and gif.size == (160, 160)


def test_fit_report_cli_on_saved_body(report_folder, tmp_path):
    code = main(
        [
            "-q",
            "fit-report",
            "--body",
            str(report_folder / "body.json"),
            "--garment",
            "tshirt",
            "--sizes",
            "M",
            "--edge-length",
            "3.5",
            "--image-size",
            "128",
            "--turntable",
            "0",
            "-o",
            str(tmp_path),
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["recommended_size"] == "M" and list(report["sizes"]) == ["M"]
    first = json.loads((report_folder / "report.json").read_text())
    # the same body and garment from body.json give the same pattern ease
    assert report["sizes"]["M"]["ease_cm"]["chest"]["pattern_ease"] == pytest.approx(
        first["sizes"]["M"]["ease_cm"]["chest"]["pattern_ease"], abs=0.2
    )
    assert (tmp_path / "fitmap_M.png").is_file() and not (tmp_path / "turntable.gif").exists()


def test_a_report_folder_reloads_and_renders_again(report_folder, tmp_path):
    """report.json + body.json + drapes/ are enough: the FitReport comes back and re-renders."""
    from tryon3d import load_report, write_report

    first = json.loads((report_folder / "report.json").read_text())
    assert {"drapes/S.npz", "drapes/M.npz", "drapes/garments.json"} <= set(first["files"]["list"])
    report = load_report(report_folder)
    assert report.recommended_size == first["recommended_size"]
    assert report.chart_size == first["chart_size_for_body"] and list(report.sizes) == ["S", "M"]
    for size, fit in report.sizes.items():
        saved = first["sizes"][size]
        assert fit.verdict == saved["verdict"]
        for region, ease in fit.ease_cm.items():
            # within 1 mm (report.json keeps 0.1 cm)
            assert ease == pytest.approx(saved["ease_cm"][region]["ease"], abs=0.1)
    assert report.drapes["M"].rest_pose_positions.shape == (report.garments["M"].vertex_count, 3)
    written = write_report(report, tmp_path / "again", image_size=96, turntable_frames=0)
    names = {p.name for p in written}
    assert {"report.html", "report.json", "fitmap_S.png", "draped_M.glb"} <= names
    again = json.loads((tmp_path / "again" / "report.json").read_text())
    assert again["recommended_size"] == first["recommended_size"]
    with pytest.raises(ValueError, match=r"garments\.json"):
        load_report(tmp_path)


@needs_chromium
def test_report_opens_cleanly_in_chromium(browser, report_folder):
    result = check_report_in_browser(browser, report_folder / "report.html")
    assert result["errors"] == [], result["errors"]
    assert result["viewer_loaded"], "model-viewer never reported its model loaded and visible"
    names = [src for src, _, _ in result["images"]]
    assert {"fitmap_S.png", "fitmap_M.png", "front.png", "turntable.gif"} <= set(names), names
    broken = [src for src, complete, width in result["images"] if not (complete and width > 0)]
    assert broken == []
    h, w, _ = result["shot_shape"]
    assert h >= 300 and w >= 300
    # the dressed body covers a good part of the 3D view; a blank canvas would be ~0
    assert result["foreground_fraction"] > 0.05, result
    assert result["pixel_std"] > 10.0, result


@needs_chromium
def test_broken_image_is_reported(browser, report_folder, tmp_path):
    """The check itself can fail: a report with a missing image and a JS error is caught."""
    copy = tmp_path / "report"
    shutil.copytree(report_folder, copy)
    (copy / "fitmap_S.png").unlink()
    page = (copy / "report.html").read_text()
    (copy / "report.html").write_text(
        page.replace("</body>", "<script>console.error('boom')</script></body>")
    )
    result = check_report_in_browser(browser, copy / "report.html")
    assert any("boom" in e for e in result["errors"]), result["errors"]
    assert [s for s, c, w in result["images"] if w == 0] == ["fitmap_S.png"]


def test_native_stderr_notices_are_silenced_but_ours_show():
    """Warp's CUDA probe and MediaPipe write straight to fd 2; the CLI hides those (unless -v)
    while its own messages on sys.stderr still reach the terminal."""
    import sys

    code = (
        "import os, sys\nfrom tryon3d.cli import native_stderr_silenced\nwith "
        "native_stderr_silenced():\n"
        "    os.write(2, b'native notice\\n')\n    print('our message', file=sys.stderr)\n"
        "os.write(2, b'after\\n')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["our message", "after"]


@pytest.mark.parametrize(
    "shape, dtype", [((700, 301, 3), np.uint8), ((530, 257), np.uint8), ((300, 301), bool)]
)
def test_strip_png_encoder_round_trips(shape, dtype):
    """Composites and masks over 16 MB are PNG-encoded 256 rows at a time (no 4-byte-a-pixel PIL
    copy of a 48 MP photo): PIL reads back exactly the pixels (a bool mask as 0/255 grey)."""
    from PIL import Image

    from tryon3d._pipeline import _png_in_strips

    rng = np.random.default_rng(11)
    array = rng.integers(0, 256, shape).astype(np.uint8)
    array = array > 127 if dtype is bool else array
    decoded = np.asarray(Image.open(io.BytesIO(_png_in_strips(array))))
    expected = array.view(np.uint8) * np.uint8(255) if dtype is bool else array
    assert decoded.shape == expected.shape and np.array_equal(decoded, expected)


def test_sizes_rendered_as_they_drape_give_the_report_files(report_folder):
    """``size_renderer`` (the CLI's ``on_result``) renders each size and the chart size's views;
    ``render_report_assets`` uses them as they are, and renders the views again for another
    recommended size."""
    from tryon3d import load_report
    from tryon3d._pipeline import render_report_assets, render_size_assets, size_renderer
    from tryon3d.sizing import DrapeJob, DrapeJobResult, chart_size_for

    report = load_report(report_folder)
    best, other = (
        report.recommended_size,
        next(s for s in report.drapes if s != report.recommended_size),
    )

    def result(size: str) -> DrapeJobResult:
        job = DrapeJob(body=report.body, family="tshirt", size=size, chart=report.chart)
        return DrapeJobResult(
            job=job,
            garment=report.garments[size],
            drape=report.drapes[size],
            error=None,
            seconds={},
        )

    rendered: dict[str, dict[str, bytes]] = {}
    on_result = size_renderer(rendered, image_size=96, turntable_frames=2)
    for index, size in enumerate(report.drapes):
        on_result(index, result(size))
    expected = chart_size_for(report.body, report.chart, "tshirt")
    for size, files in rendered.items():
        assert ("front.png" in files and "turntable.gif" in files) == (size == expected)
    steps: list[str] = []
    direct = render_report_assets(report, image_size=96, turntable_frames=2)
    reused = render_report_assets(
        report, image_size=96, turntable_frames=2, rendered=rendered, progress=steps.append
    )
    assert reused == direct  # the same bytes: seeded renders, the same drapes
    assert steps == ([] if expected == best else [f"views of {best}"])
    # views rendered for a size that is not recommended are not used
    wrong = {
        best: render_size_assets(
            report.body, best, report.drapes[best], report.garments[best], image_size=96
        ),
        other: render_size_assets(
            report.body,
            other,
            report.drapes[other],
            report.garments[other],
            image_size=96,
            views=True,
            turntable_frames=2,
        ),
    }
    assert wrong[other]["front.png"] != direct["front.png"]
    steps.clear()
    again = render_report_assets(
        report, image_size=96, turntable_frames=2, rendered=wrong, progress=steps.append
    )
    assert again == direct and steps == [f"views of {best}"]
