"""vehicle-ds: connected-vehicle data compliance checker (the shared core).

The core knows what vehicle data is (taxonomy, policy, classifier), which data a vehicle produces
(DBC data catalog), the results format every component writes, and the one report they feed.
It imports no component (``edge``, ``api_probes``, ``model_checks``).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vehicle-ds")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+src"

from . import deferred_imports  # noqa: F401 - installs the deferred asammdf import before cantools runs
from .classifier import Classification, Classifier, Field
from .errors import InputError, PolicyError, SchemaError, VehicleDsError
from .policy import Policy, load_policy

__all__ = ["Classification", "Classifier", "Field", "InputError", "Policy", "PolicyError", "SchemaError",
           "VehicleDsError", "__version__", "load_policy"]
