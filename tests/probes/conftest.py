from __future__ import annotations

from pathlib import Path

import pytest

from api_probes.profile import load_profile
from api_probes.runner import run
from api_probes.testplatform import make_tls, platform, write_profile

__all__ = ["platform", "run_platform", "write_profile"]


@pytest.fixture(scope="session")
def tls(tmp_path_factory) -> dict[str, Path]:
    return make_tls(tmp_path_factory.mktemp("tls"))


def run_platform(tmp_path, tls, flaws, only=None, allow_unsafe=False, signing=True, discover=False):
    """The probes against the test platform with ``flaws`` on: (results, app)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    with platform(flaws, tls) as (app, url, http_port):
        prof = load_profile(write_profile(tmp_path, app, url, http_port, tls, signing=signing,
                                          allow_unsafe=allow_unsafe))
        return run(prof, allow_unsafe=allow_unsafe, only=only, discover=discover), app
