"""Shared test fixtures: paths and a few bodies built once per session."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"

# Tests rebuild every body they load (and write no bodies into the user's cache); the body
# cache's own tests turn it on with a cache folder of their own. Subprocesses inherit this.
os.environ.setdefault("TRYON3D_NO_BODY_CACHE", "1")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the repo (ANSUR data, photos); tests needing it skip without it."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"shared data folder {SHARED_DIR} is absent")
    return SHARED_DIR


@functools.cache
def cached_body(height_m: float, weight_kg: float, sex: str, **girths: float):
    """A body from measurements, built once per session per argument set."""
    from tryon3d import bodyfit

    return bodyfit.body_from_measurements(height_m=height_m, weight_kg=weight_kg, sex=sex, **girths)


@pytest.fixture(scope="session")
def default_body():
    """A 170 cm, 65 kg woman: the body most tests drape and render on."""
    return cached_body(1.70, 65.0, "female")
