"""The user's acceptance profile (``--acceptance FILE``): the thresholds a model must meet.

A robustness number is only a verdict against a threshold someone declared. Without a profile the
numbers are reported and the status is ``needs_review``; with one, each threshold is the check's
criterion (source ``acceptance``, naming the file). Example::

    [clean]
    min_accuracy = 0.90          # classification
    max_error_rate = 0.10        # regression: share of outputs off by more than --tolerance
    [corruption]
    max_error = 0.50             # every corruption at every severity (or a list per severity 1..5)
    max_mce = 100.0              # needs a reference model (--reference-errors or --imagenet-like)
    [metamorphic]
    max_violation_rate = 0.10
    [adversarial]
    max_success_linf = 0.50      # Square Attack success at --eps-linf
    max_success_l2 = 0.50
    max_success_hopskipjump = 1.0
    [certified]
    radius = 0.25
    min_accuracy = 0.30
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vehicle_ds.errors import InputError
from vehicle_ds.results import shown_path

_KNOWN = {
    "clean": {"min_accuracy", "max_error_rate", "max_mse"},
    "corruption": {"max_error", "max_mce"},
    "metamorphic": {"max_violation_rate"},
    "adversarial": {"max_success_linf", "max_success_l2", "max_success_hopskipjump"},
    "certified": {"radius", "min_accuracy"},
}


@dataclass(frozen=True)
class Acceptance:
    path: str
    values: dict[str, dict[str, Any]]

    def get(self, section: str, key: str) -> Any:
        return self.values.get(section, {}).get(key)


NONE = Acceptance("", {})


def load_acceptance(path: str | Path | None) -> Acceptance:
    if path is None:
        return NONE
    from vehicle_ds.tomlfile import read_toml

    raw = read_toml(Path(path), "acceptance profile")
    for section, keys in raw.items():
        if section not in _KNOWN or not isinstance(keys, dict):
            raise InputError(f"unknown section [{section}] (known: {', '.join(_KNOWN)})", path=str(path))
        for k, v in keys.items():
            if k not in _KNOWN[section]:
                raise InputError(f"[{section}] has no setting {k!r} (known: {', '.join(sorted(_KNOWN[section]))})",
                                 path=str(path))
            ok = isinstance(v, (int, float)) or (k == "max_error" and isinstance(v, list)
                                                 and all(isinstance(t, (int, float)) for t in v))
            if not ok or isinstance(v, bool):
                raise InputError(f"[{section}] {k} must be a number", path=str(path))
    return Acceptance(shown_path(path), raw)
