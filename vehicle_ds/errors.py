"""The small exception hierarchy every vehicle-ds command reports as one line."""

from __future__ import annotations


class VehicleDsError(Exception):
    """Base class: the CLI prints ``str(err)`` as one line and exits with ``exit_code``."""

    exit_code = 1


class InputError(VehicleDsError):
    """A file or argument the user gave cannot be used (malformed DBC, bad policy, wrong schema)."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = path or ""
        if path and line:
            where = f"{path}:{line}"
        super().__init__(f"{where}: {message}" if where else message)


class PolicyError(InputError):
    """The policy file is not valid (unknown category, bad handling, malformed rule)."""


class SchemaError(InputError):
    """A document does not follow the vehicle-ds schema it claims."""
