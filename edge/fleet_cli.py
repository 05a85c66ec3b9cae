"""``vehicle-ds fleet audit``: the fleet's logs on Dask, merged exactly (see edge/fleet.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Audit a fleet's logs on Dask, from one laptop to a cluster.")


@app.callback()
def _fleet() -> None:
    """Fleet-scale work."""


@app.command()
def audit(
    logs: Annotated[list[str], typer.Argument(help="Logs, folders (one per vehicle), globs, or a manifest CSV "
                                                   "(path,vehicle).")],
    dbc: Annotated[list[str], typer.Option(help="FILE or CHANNEL=FILE (repeatable).")],
    out: Annotated[Path, typer.Option(help="Output folder: results.json, vehicles/<v>/results.json, uplink/.")],
    policy: Annotated[Optional[Path], typer.Option(help="Policy TOML layered on the default.")] = None,  # noqa: UP045
    purpose: Annotated[list[str], typer.Option(help="Consented purpose (repeatable).")] = [],  # noqa: B006
    key_file: Annotated[Optional[Path], typer.Option(help="Pseudonymisation key (default: the installation's).")] = None,  # noqa: UP045
    scheduler: Annotated[str, typer.Option(help="local (a LocalCluster of processes) or tcp://HOST:PORT.")] = "local",
    workers: Annotated[int, typer.Option(help="Workers of the LocalCluster.")] = 2,
    split_mb: Annotated[float, typer.Option(help="Split candump logs larger than this (MB) into newline-aligned "
                                                 "ranges, one task each.")] = 64.0,
) -> None:
    """Replay every log with the edge agent's pipeline on Dask workers and merge the counts exactly.

    Exit 0 when every check passes or warns, 1 when one fails or a log could not be read."""
    from vehicle_ds.results import Asset, finish, new_results, write_json

    from .fleet import dataset_facts, list_logs, merge, per_log, run_audit
    from .setup import build_agent, default_key_file, parse_dbc_specs

    items = list_logs(logs)
    specs = parse_dbc_specs(dbc)
    key = key_file or default_key_file()
    if not key.exists():  # create it once, here, so every worker pseudonymises with the same key
        from .keys import KeyRing

        KeyRing.from_file(key)
    if out.exists() and any(out.iterdir()):
        from vehicle_ds.errors import InputError

        raise InputError("output folder is not empty", path=str(out))
    progress = _progress()
    res = run_audit(items, specs, out, policy=policy, purposes=purpose, key_file=key, scheduler=scheduler,
                    workers=workers, progress=progress, split_bytes=max(1, int(split_mb * 1024 * 1024)))
    progress(None, 0, 0)
    if res["dashboard"]:
        typer.echo(f"dask dashboard: {res['dashboard']}", err=True)
    staging = out / ".merge"

    def make(name: str):
        agent, _ = build_agent(specs, policy, staging / name, consented=purpose, device=name, key_file=key)
        return agent

    fleet, per_vehicle = merge(res["results"], make)
    logs_done = per_log(res["results"])
    errors = [{"path": r["path"], "vehicle": r["vehicle"], "error": r["error"]} for r in logs_done if r["error"]]
    # a log that read cleanly but held no frame is no evidence of its vehicle: flagged, never counted as audited
    empty = [{"path": r["path"], "vehicle": r["vehicle"]} for r in logs_done if not r["error"] and not r["frames"]]
    failed = bool(errors or empty)
    for name, agent in sorted(per_vehicle.items()):
        doc = new_results("edge", {"mode": "fleet", "logs": [r["path"] for r in logs_done if r["vehicle"] == name]},
                          {"consented_purposes": sorted(purpose)}, asset=Asset("vehicle", name))
        doc["checks"] = agent.checks()
        failed |= any(c["status"] == "fail" for c in doc["checks"])
        write_json(out / "vehicles" / name / "results.json", finish(doc, agent.summary()))
    doc = new_results("edge", {"mode": "fleet", "logs": len(items), "vehicles": sorted(per_vehicle)},
                      {"consented_purposes": sorted(purpose), "scheduler": scheduler}, asset=Asset("vehicle", "fleet"))
    doc["checks"] = fleet.checks()
    summary = fleet.summary() | {"logs": logs_done, "unreadable": errors, "empty": empty,
                                 "datasets": dataset_facts(per_vehicle),
                                 "discarded_attempts": res["discarded_attempts"]}
    write_json(out / "results.json", finish(doc, summary))
    import shutil

    shutil.rmtree(staging, ignore_errors=True)
    typer.echo(f"fleet audit: {len(items)} logs, {len(per_vehicle)} vehicles, {fleet.frames.total:,} frames, "
               f"{len(errors)} unreadable, {len(empty)} without a frame -> {out / 'results.json'}", err=True)
    for e in empty:
        typer.echo(f"no frame in {e['path']} ({e['vehicle']}): not evidence of that vehicle", err=True)
    if failed:
        raise typer.Exit(1)


def _progress():
    if not sys.stderr.isatty():
        return lambda done, total, frames: None
    import time

    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    prog = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
                    transient=True)
    task = prog.add_task("auditing", total=None)
    t0 = time.monotonic()
    prog.start()

    def update(done, total, frames):  # tasks done (a split log counts its ranges), frames/s across the cluster
        if done is None:
            prog.stop()
        else:
            rate = frames / max(time.monotonic() - t0, 1e-6)
            prog.update(task, total=total, completed=done,
                        description=f"tasks {done}/{total}, {frames:,} frames, {rate:,.0f} frames/s")

    return update


PROG = "vehicle-ds fleet"


def main(args: list[str]) -> None:
    from vehicle_ds.subcommands import run_subapp

    run_subapp(app, args, PROG)
