"""The registry of check families: each declares the check ids it reports and the tasks it applies to, so
the runner, ``expected_checks`` and the tests read one list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..suite import Run

TASKS = ("classification", "regression")
# the order a run calls the family modules: cheap checks first, clean predictions before anything reuses them
ORDER = ("integrity", "clean", "corruption", "metamorphic", "adversarial", "certified", "backdoor", "detection")


@dataclass(frozen=True)
class Family:
    name: str
    ids: tuple[str, ...]
    tasks: tuple[str, ...]
    run: Callable[[Run], None]


FAMILIES: list[Family] = []


def family(*ids: str, tasks: tuple[str, ...] = TASKS) -> Callable[[Callable[[Run], None]], Callable[[Run], None]]:
    """Register a family that reports exactly ``ids`` for models of ``tasks``; families run module by module
    in ``ORDER``, in definition order within a module."""
    def register(fn: Callable[[Run], None]) -> Callable[[Run], None]:
        FAMILIES.append(Family(fn.__name__, ids, tasks, fn))
        FAMILIES.sort(key=lambda f: ORDER.index(f.run.__module__.rsplit(".", 1)[-1]))  # stable: keeps definition order
        return fn
    return register


def families_for(task: str) -> list[Family]:
    return [f for f in FAMILIES if task in f.tasks]


def expected_checks(task: str) -> list[str]:
    """Every check a run of this task reports (a check a budget cut stopped is reported skipped)."""
    return [cid for f in families_for(task) for cid in f.ids]
