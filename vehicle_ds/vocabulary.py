"""The stable vocabulary of DESIGN.md: pi classes, grades, statuses, severities.

Order matters: "take the higher grade when in doubt" (GB/T 43697 就高从严) is ``max`` over these tuples.
"""

from __future__ import annotations

from typing import Literal

PI_CLASSES = ("none", "pi", "sensitive")
GRADES = ("general", "important", "core")
STATUSES = ("pass", "fail", "warn", "error", "skipped", "needs_review", "not_assessed")
SEVERITIES = ("info", "low", "medium", "high", "critical")
HANDLINGS = ("keep", "coarsen", "pseudonymize", "aggregate", "drop")

Pi = Literal["none", "pi", "sensitive"]
Grade = Literal["general", "important", "core"]
Status = Literal["pass", "fail", "warn", "error", "skipped", "needs_review", "not_assessed"]
AssetKind = Literal["vehicle", "platform", "model"]
ASSET_KINDS = ("vehicle", "platform", "model")
# Where a criterion's numbers come from: a legal clause, a published standard, the user's acceptance
# profile, or our own engineering default (said as such in every report).
CriterionSource = Literal["clause", "standard", "acceptance", "engineering_default"]
CRITERION_SOURCES = ("clause", "standard", "acceptance", "engineering_default")
Severity = Literal["critical", "high", "medium", "low", "info"]
Handling = Literal["keep", "coarsen", "pseudonymize", "aggregate", "drop"]


def higher_pi(a: str, b: str) -> str:
    return a if PI_CLASSES.index(a) >= PI_CLASSES.index(b) else b


def higher_grade(a: str, b: str) -> str:
    return a if GRADES.index(a) >= GRADES.index(b) else b


def stricter_handling(a: str, b: str) -> str:
    """The handling that lets less leave the vehicle (``drop`` is the strictest)."""
    return a if HANDLINGS.index(a) >= HANDLINGS.index(b) else b
