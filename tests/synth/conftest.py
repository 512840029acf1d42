"""Shared fixtures for the synthetic-video tests: the anny body is built once per session
(the first anny load on a machine also builds its on-disk cache, ~100 s)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def synth_body():
    pytest.importorskip("anny")
    pytest.importorskip("torch")
    from clamcoach.synth.body import Shape
    from clamcoach.synth.render import get_body

    return get_body(Shape())


@pytest.fixture(scope="session")
def poser(synth_body):
    from clamcoach.synth.clamshell import ClamPoser, Setup

    return ClamPoser(synth_body, Setup(hip_flex=45.0, knee_flex=45.0, forward_roll=10.0))
