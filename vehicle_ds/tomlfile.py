"""Reading the project's TOML files (policy, edge config, probe profiles, preprocessing) with one error style."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from .errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def parse_toml(text: str, origin: str, error: type[InputError] = InputError) -> dict[str, Any]:
    """Parsed ``text``, or ``error`` naming ``origin`` and the line of a syntax error."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"at line (\d+)", str(exc))
        line = getattr(exc, "lineno", None) or (int(m.group(1)) if m else None)
        raise error(f"not valid TOML: {str(exc).split(' (at line')[0]}", path=origin, line=line) from None


def read_toml(path: str | Path, what: str, error: type[InputError] = InputError) -> dict[str, Any]:
    """The parsed file, or ``error`` naming the file and, for syntax errors, the line."""
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except OSError as exc:
        raise error(f"cannot read {what}: {exc.strerror}", path=str(p)) from None
    return parse_toml(text, str(p), error)
