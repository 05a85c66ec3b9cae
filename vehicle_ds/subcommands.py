"""What every command module shares: running a component's Typer app inside ``vehicle-ds``, writing output.

It lives outside ``vehicle_ds/cli.py`` so that a component's CLI can use it without importing the command
that loads the component (no circle ``vehicle_ds.cli → edge.cli → vehicle_ds.cli``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
import typer.core


def run_subapp(sub: typer.Typer, args: list[str], prog: str) -> None:
    """Run a component's Typer app inside this command; its exit status becomes ours."""
    rc = sub(args=args, prog_name=prog, standalone_mode=False)
    if isinstance(rc, int) and rc:
        raise typer.Exit(rc)


def write_output(text: str, out: Path | None) -> None:
    """Write to ``out`` atomically (a partial file never replaces a good one), or to stdout."""
    if out is None:
        sys.stdout.write(text)
        return
    from .results import write_text

    write_text(out, text)


def _hide_flag_types() -> None:
    """A flag takes no value: help shows ``--force``, not ``--force <bool>`` (Typer 0.2x labels every option
    with its type). Patched once here; an older or newer Typer without the method is left as it is."""
    option = getattr(typer.core, "TyperOption", None)
    typed = getattr(option, "display_type_rich", None)
    if option is None or typed is None or getattr(typed, "_vds_flags", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        return None if getattr(self, "is_flag", False) else typed(self, ctx)

    display_type_rich._vds_flags = True  # type: ignore[attr-defined]
    option.display_type_rich = display_type_rich


_hide_flag_types()
