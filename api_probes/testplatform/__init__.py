"""A realistic connected-vehicle platform with switchable flaws, for the probes' tests and the demo.

Owners, vehicles, trips, locations, remote commands, JWT auth (RS256 by default). Each flaw in
``FLAWS`` turns one known failure on (the incidents of ../shared/reference/api_probes.md §4); with
none on it is the secure configuration, which the probes must find nothing in.
Run: ``python -m api_probes.testplatform --flaws all --port 8800`` (loopback only).
"""

from __future__ import annotations

from .app import create_app
from .model import AUDIENCE, COMMON_WORD_SECRET, FLAWS, ISSUER, NAME, QUIRKS, WEAK_SECRET, State, User, make_vin
from .profile import write_profile
from .serving import main, make_tls, platform

__all__ = ["AUDIENCE", "COMMON_WORD_SECRET", "FLAWS", "ISSUER", "NAME", "QUIRKS", "WEAK_SECRET", "State", "User",
           "create_app", "main", "make_tls", "make_vin", "platform", "write_profile"]
