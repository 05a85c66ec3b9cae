"""``vehicle-ds probe``: probe a vehicle platform's data interfaces, safely, with evidence."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def probe(
    target: Annotated[Path, typer.Option(help="Target profile TOML.")],
    out: Annotated[Path, typer.Option(help="Results document to write.")],
    allow_unsafe: Annotated[bool, typer.Option(help="Allow write probes (also needs safety.allow_unsafe).")] = False,
    only: Annotated[Optional[str], typer.Option(help="Comma list of probe ids or prefixes.")] = None,  # noqa: UP045
    discover: Annotated[bool, typer.Option(help="Look for undocumented endpoints (GET only, within the budget).")] = False,
) -> None:
    """Authentication, authorization, data-exposure, transport and limit probes; results document out.

    To start a target profile from an OpenAPI document: vehicle-ds probe init --openapi DOC --base-url URL
    --out target.toml (then complete every CHANGE-ME)."""
    from rich.console import Console
    from rich.table import Table

    from vehicle_ds.results import verdict_line, write_json

    from .profile import load_profile
    from .runner import run

    profile = load_profile(target)
    console = Console(stderr=True)
    if sys.stderr.isatty():
        from rich.progress import Progress

        with Progress(transient=True, console=console) as prog:
            task = prog.add_task("probing", total=None)
            doc = run(profile, allow_unsafe=allow_unsafe, only=only.split(",") if only else None, discover=discover,
                      progress=lambda pid, n, total: prog.update(task, completed=n, total=total, description=pid))
    else:
        doc = run(profile, allow_unsafe=allow_unsafe, only=only.split(",") if only else None, discover=discover)
    write_json(out, doc)
    table = Table(title=f"probes of {profile.name}")
    for col in ("check", "endpoint", "status", "severity"):
        table.add_column(col)
    for c in doc["checks"]:
        if c["status"] != "pass":
            table.add_row(c["id"], c.get("endpoint", ""), c["status"], c["severity"])
    console.print(table)
    s = doc["summary"]
    console.print(f"{s['findings']} finding(s); {s['requests_sent']} requests in {s['elapsed_s']}s -> {out}")
    console.print(verdict_line(doc["checks"], f"vehicle-ds report {out} --out report.html"))
    if s["findings"]:
        raise typer.Exit(1)  # a finding: exit 1, as every vehicle-ds command does for a failed check


init_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@init_app.command()
def init(
    openapi: Annotated[str, typer.Option(help="OpenAPI 3 document: a file or an http(s) URL.")],
    out: Annotated[Path, typer.Option(help="The drafted target profile (TOML) to complete.")],
    base_url: Annotated[str | None, typer.Option(
        "--base-url", help="The URL you test (kept over the document's servers; allow_hosts follows it).")] = None,
) -> None:
    """Draft a target profile from an OpenAPI document for a person to complete (CHANGE-ME marks the gaps)."""
    from vehicle_ds.subcommands import write_output

    from .draft import draft_profile, load_openapi

    if out.exists():
        from vehicle_ds.errors import InputError

        raise InputError("exists: a drafted profile never overwrites one you may have completed", path=str(out))
    doc, source = load_openapi(openapi)
    text = draft_profile(doc, source, base_url)
    write_output(text, out)
    typer.echo(f"{text.count('[[endpoint]]')} endpoints drafted -> {out}; complete every CHANGE-ME", err=True)


PROG = "vehicle-ds probe"


def main(args: list[str]) -> None:
    from vehicle_ds.subcommands import run_subapp

    if args[:1] == ["init"]:  # `vehicle-ds probe init …` drafts a profile; everything else probes
        run_subapp(init_app, args[1:], PROG + " init")
    else:
        run_subapp(app, args, PROG)
