"""Shared fixtures: exact synthetic sets (see skeleton.py) and paths to rendered clips."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"


@pytest.fixture(scope="session")
def proto():
    from clamcoach.protocol import load_protocol

    return load_protocol()


@pytest.fixture(scope="session")
def demo_clip() -> Path:
    path = DATA / "demo" / "demo.mp4"
    assert path.exists(), f"the bundled demo clip is missing: {path}"
    return path
