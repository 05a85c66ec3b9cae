"""``vehicle-ds hub``: serve the hub, add users, create device enrollment codes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="The hub: collects edge uploads and results, serves the report.")
DB_HELP = "SQLAlchemy URL: sqlite:///hub.db (default) or postgresql+psycopg://user:pass@host/db"


@app.command()
def serve(
    db: Annotated[str, typer.Option(help=DB_HELP)] = "sqlite:///vehicle-ds-hub.db",
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8700,
    tls_cert: Annotated[Optional[Path], typer.Option(help="PEM certificate (HTTPS).")] = None,  # noqa: UP045
    tls_key: Annotated[Optional[Path], typer.Option(help="PEM private key (HTTPS).")] = None,  # noqa: UP045
    workers: Annotated[int, typer.Option(help="uvicorn worker processes (stateless; they share the database and "
                                              "the signing key file).")] = 1,
) -> None:
    """Serve the hub with uvicorn (OpenAPI at /docs)."""
    import uvicorn

    from .app import create_app

    kw = {}
    if tls_cert or tls_key:
        if not (tls_cert and tls_key and tls_cert.is_file() and tls_key.is_file()):
            raise InputError("--tls-cert and --tls-key must both name readable PEM files")
        kw = {"ssl_certfile": str(tls_cert), "ssl_keyfile": str(tls_key)}
    import logging
    import sys

    handler = logging.StreamHandler(sys.stderr)  # alerts and internal errors: one JSON or text line each
    logging.getLogger("vehicle_ds.hub").addHandler(handler)
    logging.getLogger("vehicle_ds.hub").setLevel(logging.INFO)
    if workers > 1:  # each worker builds its own app from the environment
        os.environ["VEHICLE_DS_HUB_DB"] = db
        os.environ["VEHICLE_DS_HUB_WORKERS"] = str(workers)  # each worker keeps its share of every rate limit
        uvicorn.run("vehicle_ds.hub.app:from_environment", factory=True, workers=workers, host=host, port=port,
                    log_level="warning", **kw)
    else:
        uvicorn.run(create_app(db), host=host, port=port, log_level="info", **kw)


@app.command("user-add")
def user_add(
    org: Annotated[str, typer.Option()],
    username: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="engineer | admin")] = "engineer",
    db: Annotated[str, typer.Option(help=DB_HELP)] = "sqlite:///vehicle-ds-hub.db",
    password_env: Annotated[str, typer.Option(help="Environment variable holding the password.")] = "VEHICLE_DS_PASSWORD",
) -> None:
    """Add a user (the password comes from an environment variable, never the command line)."""
    from .admin import add_user

    password = os.environ.get(password_env)
    if not password or len(password) < 12:
        raise InputError(f"set {password_env} to a password of at least 12 characters")
    add_user(db, org, username, password, role)
    typer.echo(f"user {username} ({role}) added to {org}", err=True)


@app.command()
def enroll(
    org: Annotated[str, typer.Option()],
    vehicle: Annotated[str, typer.Option(help="The vehicle reference the device will write for.")],
    db: Annotated[str, typer.Option(help=DB_HELP)] = "sqlite:///vehicle-ds-hub.db",
    hours: Annotated[int, typer.Option()] = 24,
) -> None:
    """Print a one-time enrollment code for a device (give it to `vehicle-ds edge enroll`)."""
    from .admin import add_enrollment

    try:
        typer.echo(add_enrollment(db, org, vehicle, hours))
    except ValueError as exc:
        raise InputError(str(exc)) from None


PROG = "vehicle-ds hub"


def main(args: list[str]) -> None:
    from vehicle_ds.subcommands import run_subapp

    run_subapp(app, args, PROG)


@app.command("export")
def export(
    out: Annotated[Path, typer.Option(help="Folder of the Parquet datasets (one per message).")],
    fmt: Annotated[str, typer.Option("--format", help="parquet")] = "parquet",
    db: Annotated[str, typer.Option(help=DB_HELP)] = "sqlite:///vehicle-ds-hub.db",
    org: Annotated[Optional[str], typer.Option(help="Only this organisation's batches.")] = None,  # noqa: UP045
) -> None:
    """Export the stored uplink as Parquet (per message, a column per signal as uplinked; partitioned by day and
    vehicle) for DuckDB, Dask or Spark."""
    from rich.progress import Progress

    from .export import export_parquet

    if fmt != "parquet":
        raise InputError(f"--format must be parquet, not {fmt!r}")
    if out.exists() and any(out.iterdir()):
        raise InputError("the output folder is not empty (an export never mixes with an older one)", path=str(out))
    with Progress(transient=True) as bar:
        task = bar.add_task("batches", total=None)
        stats = export_parquet(db, out, org, progress=lambda done, total: bar.update(task, completed=done, total=total))
    rows = sum(stats.rows.values())
    typer.echo(f"export: {stats.batches} batches, {rows:,} rows in {len(stats.rows)} messages, {stats.files} part(s) "
               f"-> {out}", err=True)
    for bid in stats.skipped:
        typer.echo(f"skipped unreadable batch {bid}", err=True)
    for part in stats.mismatches:
        typer.echo(f"rows read back differ from rows written: {part}", err=True)
    if stats.skipped or stats.mismatches:
        raise typer.Exit(1)
