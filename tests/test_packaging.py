"""The wheel installs one top-level name, ``tryon3d``, with the stages and the shipped data in
it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
STAGES = ("bodyfit", "garments", "sim", "render", "sizing")


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{args}: {done.stderr[-2000:]}"
    return done.stdout


def test_wheel_installs_one_top_level_name(tmp_path: Path) -> None:
    wheel_dir = tmp_path / "wheel"
    # No build isolation: the project's own setuptools builds it, nothing is downloaded.
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        wheel_dir,
        REPO_ROOT,
    )
    (wheel,) = wheel_dir.glob("tryon3d-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {
        name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")
    }
    assert top_level == {"tryon3d"}, top_level

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    site = Path(
        _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    )
    before = {p.name for p in site.iterdir()}
    _run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel)
    added = {p.name for p in site.iterdir()} - before
    assert {n for n in added if not n.endswith(".dist-info")} == {"tryon3d"}, added

    installed = site / "tryon3d"
    for stage in STAGES:
        assert (installed / stage / "__init__.py").is_file(), stage
    for table in (
        "size_charts.json",
        "population_ansur2.json",
        "body_density.json",
        "anny_start_table.json",
    ):
        assert (installed / "data" / table).stat().st_size > 100, table
    assert (installed / "data" / "viewer" / "model-viewer.min.js").stat().st_size > 100_000
    assert (installed / "data" / "viewer" / "LICENSE").is_file()
    for template in ("report.html", "report_parts.html"):  # the report page's templates
        assert "${" in (installed / "templates" / template).read_text(), template

    # `import tryon3d` needs none of the heavy dependencies (none are installed in this venv);
    # the shipped tables are found through importlib.resources, run away from the checkout.
    probe = (
        "import importlib.resources as r, json, tryon3d;"
        "print(tryon3d.__version__);"
        "print(sorted(json.loads(r.files('tryon3d.data').joinpath('size_charts.json').read_text())))"
    )
    out = _run(python, "-c", probe, cwd=tmp_path)
    assert out.splitlines()[0] == "0.1.0"
    assert "'charts'" in out.splitlines()[1], out


def test_import_tryon3d_is_lazy() -> None:
    """``import tryon3d`` loads no stage and no heavy dependency; a name loads its module on use."""
    code = (
        "import sys, tryon3d;"
        "heavy = [m for m in ('torch', 'warp', 'mitsuba', 'newton', 'tryon3d.bodyfit', "
        "'tryon3d.sim')"
        " if m in sys.modules];"
        "print(heavy);"
        "from tryon3d import garments;"
        "print(callable(tryon3d.load_garment), 'tryon3d.garments' in sys.modules)"
    )
    out = _run(sys.executable, "-c", code).splitlines()
    assert out[0] == "[]", out
    assert out[1] == "True True", out
