from __future__ import annotations

from pathlib import Path

import pytest

from api_probes.testplatform import make_tls, platform, write_profile

__all__ = ["platform", "write_profile"]


@pytest.fixture(scope="session")
def tls(tmp_path_factory) -> dict[str, Path]:
    return make_tls(tmp_path_factory.mktemp("tls"))
