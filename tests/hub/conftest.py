from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from api_probes.testplatform import make_tls
from vehicle_ds.hub.app import create_app
from vehicle_ds.hub.serve import free_port, serve_in_thread


@pytest.fixture(scope="session")
def tls(tmp_path_factory) -> dict[str, Path]:
    return make_tls(tmp_path_factory.mktemp("hubtls"))


@contextlib.contextmanager
def hub(db_url: str, tls: dict[str, Path] | None):
    """A real hub on loopback (uvicorn in a thread), over TLS when ``tls`` is given."""
    with serve_in_thread(create_app(db_url), free_port(), tls) as base:
        yield base


def db_urls(tmp_path: Path) -> list[str]:
    urls = [f"sqlite:///{tmp_path / 'hub.db'}"]
    if os.environ.get("VEHICLE_DS_TEST_PG_URL"):
        urls.append(os.environ["VEHICLE_DS_TEST_PG_URL"])
    return urls
