"""Web fixtures: a served app with the stand-in pose model, and WebSocket clients."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.helpers import Client, serve


@pytest.fixture
def server():
    with serve() as (url, app):
        yield url, app


@pytest.fixture
def client_factory():
    made: list[Client] = []

    def make(url: str, **kw: Any) -> Client:
        c = Client(url, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
