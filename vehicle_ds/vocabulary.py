"""The stable vocabulary of DESIGN.md: pi classes, grades, statuses, severities.

Order matters: "take the higher grade when in doubt" (GB/T 43697 就高从严) is ``max`` over these tuples.
"""

from __future__ import annotations

from typing import Literal, get_args

Pi = Literal["none", "pi", "sensitive"]
Grade = Literal["general", "important", "core"]
Status = Literal["pass", "fail", "warn", "error", "skipped", "needs_review", "not_assessed"]
Severity = Literal["critical", "high", "medium", "low", "info"]  # most severe first
Handling = Literal["keep", "coarsen", "pseudonymize", "aggregate", "drop"]  # the strictest last
AssetKind = Literal["vehicle", "platform", "model"]
# Where a criterion's numbers come from: a legal clause, a published standard, the user's acceptance
# profile, or our own engineering default (said as such in every report).
CriterionSource = Literal["clause", "standard", "acceptance", "engineering_default"]

PI_CLASSES: tuple[Pi, ...] = get_args(Pi)
GRADES: tuple[Grade, ...] = get_args(Grade)
STATUSES: tuple[Status, ...] = get_args(Status)
HANDLINGS: tuple[Handling, ...] = get_args(Handling)
ASSET_KINDS: tuple[AssetKind, ...] = get_args(AssetKind)
CRITERION_SOURCES: tuple[CriterionSource, ...] = get_args(CriterionSource)
SEVERITIES: tuple[Severity, ...] = tuple(reversed(get_args(Severity)))  # ascending: max() is the worst
SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(get_args(Severity))}  # 0 = critical: sorts worst first

# A finding is what a check saw that a person must act on; every report, the baseline and the fleet view
# count these. Open adds what is not settled yet (too little evidence), which a baseline keeps tracking.
FINDING: tuple[Status, ...] = ("fail", "warn", "error", "needs_review")
OPEN: tuple[Status, ...] = (*FINDING, "not_assessed")
# A requirement's status per asset (report/verdicts.py decides it from its checks).
REQUIREMENT_STATUSES: tuple[Status, ...] = ("pass", "fail", "needs_review", "not_assessed")


def asset_key(asset: dict[str, object]) -> str:
    """The one key of an asset (``kind:name`` or ``kind:name@version``) for JSON documents."""
    version = asset.get("version") or ""
    return f"{asset.get('kind', '?')}:{asset.get('name', '?')}" + (f"@{version}" if version else "")


def higher_pi(a: str, b: str) -> str:
    return a if PI_CLASSES.index(a) >= PI_CLASSES.index(b) else b


def higher_grade(a: str, b: str) -> str:
    return a if GRADES.index(a) >= GRADES.index(b) else b


def stricter_handling(a: str, b: str) -> str:
    """The handling that lets less leave the vehicle (``drop`` is the strictest)."""
    return a if HANDLINGS.index(a) >= HANDLINGS.index(b) else b
