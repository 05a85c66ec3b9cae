from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DBC = ROOT / "dbc" / "sample_vehicle.dbc"

# The evidence key of this test run (tests never touch the installation's key); subprocesses inherit it.
if "VEHICLE_DS_EVIDENCE_KEY" not in os.environ:
    import tempfile

    os.environ["VEHICLE_DS_EVIDENCE_KEY"] = str(Path(tempfile.mkdtemp(prefix="vds-evidence-")) / "evidence.key")

settings.register_profile("ci", max_examples=200, deadline=None)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def _environment_restored():
    """Each test leaves the environment as it found it: dask.distributed's LocalCluster sets
    OMP_NUM_THREADS=1, MALLOC_TRIM_THRESHOLD_ and PYTHONHASHSEED in the parent's os.environ, which made every
    later command a test runs (model checks above all) three times slower."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def sample_dbc() -> Path:
    return SAMPLE_DBC


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed command as a user would, in a separate process (``env`` adds to the environment)."""
    return subprocess.run([sys.executable, "-m", "vehicle_ds.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env={**os.environ, **env} if env else None)
