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
    [detection]                  # --task detection; recall and false positives at the deployed score threshold
    min_ap50 = 0.80
    min_recall = 0.95            # truth boxes found (IoU ≥ 0.5) on clean images
    max_fp_per_frame = 0.5
    min_rpc = 0.70               # relative performance under corruption, mPC / clean AP (Michaelis et al. 2019)
    min_corrupted_recall = 0.80  # every corruption at every severity
    min_coverage = 0.99          # anonymisers: share of truth boxes covered by the (enlarged) detections ...
    coverage_enlarge = 1.3       # ... grown by this factor per side, as the anonymiser blurs them
    coverage_share = 1.0         # ... a box counts as covered when this share of its pixels is
    max_vanishing_success = 0.5
    max_box_shift_success = 0.5
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
    "detection": {"min_ap50", "min_recall", "max_fp_per_frame", "min_rpc", "min_corrupted_recall", "min_coverage",
                  "coverage_enlarge", "coverage_share", "max_vanishing_success", "max_box_shift_success"},
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
