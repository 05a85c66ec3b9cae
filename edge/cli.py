"""``vehicle-ds edge``: replay a log, inspect what would leave the vehicle, run live on buses."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from vehicle_ds.errors import InputError
from vehicle_ds.results import shown_path

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="The in-vehicle agent: decode, classify, enforce handling, uplink.")


@app.command()
def replay(
    log: Annotated[Path, typer.Argument(help="candump .log, .blf, .asc, .trc, .csv or .mf4")],
    dbc: Annotated[list[str], typer.Option(
        help="The vehicle's DBC, FILE or CHANNEL=FILE to bind it to one bus (repeat for several buses).")],
    out: Annotated[Path, typer.Option(help="Output folder: results.json and batches/ (must be empty).")],
    policy: Annotated[Optional[Path], typer.Option(help="Policy TOML layered on the default.")] = None,  # noqa: UP045
    purpose: Annotated[list[str], typer.Option(help="Purpose the user consented to (repeatable).")] = [],  # noqa: B006
    key_file: Annotated[Optional[Path], typer.Option(help="Pseudonymisation master key (created if absent).")] = None,  # noqa: UP045
    device: Annotated[str, typer.Option(help="Device id written into batches.")] = "replay",
    hub: Annotated[Optional[str], typer.Option(help="Upload the batches to this hub URL afterwards.")] = None,  # noqa: UP045
    token: Annotated[Optional[str], typer.Option(envvar="VEHICLE_DS_DEVICE_TOKEN", help="Device token.")] = None,  # noqa: UP045
    device_credentials: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="Credentials file from `vehicle-ds edge enroll` (short-lived tokens are fetched from it).")] = None,
    ca_cert: Annotated[Optional[Path], typer.Option(help="CA file to trust for the hub's TLS.")] = None,  # noqa: UP045
    vehicle: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="Name of the vehicle (the asset); default: the DBCs' file names, as `vehicle-ds catalog` names it.")] = None,
    vehicle_version: Annotated[str, typer.Option(help="Version of the vehicle (model year, E/E release).")] = "",
    force: Annotated[bool, typer.Option("--force", help="Clear a previous replay's output in --out first.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted replay in --out.")] = False,
    geofence: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="GeoJSON polygons of sensitive areas: positions inside are counted and never leave.")] = None,
) -> None:
    """Replay a log through the agent: DIR/results.json plus the uplink batches under DIR/batches.

    Exit 0 when every check passes or warns, 1 when one fails or the log is damaged after some frames, 2
    when nothing in the log could be decoded, 130 when interrupted (results.json is written in every case;
    `--resume` continues an interrupted replay)."""
    from .outdir import interrupt_flag

    with interrupt_flag() as stop:  # from here on Ctrl-C ends the replay cleanly, with results
        _replay(log, dbc, out, policy, purpose, key_file, device, vehicle, vehicle_version, force, resume, stop,
                upload=(hub, token, device_credentials, ca_cert), geofence=geofence)


def _replay(log: Path, dbc: list[str], out: Path, policy: Path | None, purpose: list[str], key_file: Path | None,
            device: str, vehicle: str | None, vehicle_version: str, force: bool, resume: bool, stop, *,
            upload: tuple, geofence: Path | None = None) -> None:
    from vehicle_ds.catalog import vehicle_asset
    from vehicle_ds.results import finish, new_results, write_json

    from . import outdir
    from .frames import coalesce, prefetch, skip_frames
    from .parallel import replay_parallel, worth_it
    from .readers import read_log
    from .setup import build_agent, parse_dbc_specs

    specs = parse_dbc_specs(dbc)
    chunks = read_log(log)  # validates the path and format before anything is written
    outdir.prepare(out, force=force, resume=resume)
    agent, dbs = build_agent(specs, policy, out / "batches", consented=purpose, device=device, key_file=key_file,
                             geofence=geofence)
    info = _file_info(log)
    doc = new_results("edge", {"log": info, "dbc": [db.source_entry() | ({"channel": ch} if ch else {})
                                                    for db, (ch, _) in zip(dbs, specs, strict=True)],
                               "mode": "replay"},
                      {"consented_purposes": sorted(purpose), "device": device},
                      asset=vehicle_asset([p for _, p in specs], vehicle, vehicle_version))
    state_key = agent.handler.keys.key(-1)
    parallel = worth_it(log)  # a large candump log: every core takes whole ranges of it
    previous = outdir.load_state(out, state_key, info["sha256"]) if resume else None
    error: InputError | None = None
    interrupted = False
    progress = _progress(log)
    resume_state: dict = {"log_sha256": info["sha256"]}
    try:
        if parallel:
            skip = frozenset(previous.get("ranges_done", ())) if previous else frozenset()
            done = replay_parallel(agent, log, skip=skip, stop=stop,
                                   progress=lambda b: progress(b, agent.frames.total))
            resume_state["ranges_done"] = sorted(skip | set(done))
            interrupted = stop.is_set()
        else:
            stream = prefetch(coalesce(chunks))
            if previous is not None:
                stream = skip_frames(stream, previous["frames_done"])
            for chunk in stream:
                if stop.is_set():
                    interrupted = True
                    break
                agent.process(chunk)
                progress(chunk.offset, agent.frames.total)
            resume_state["frames_done"] = agent.frames.total
    except InputError as exc:  # a corrupt tail: keep everything already produced, then report it
        error = exc
    finally:
        progress(None, 0)
    if not interrupted:
        agent.end_of_input()
    agent.flush()
    if previous is not None:  # after the run: forked workers must not carry (and return) these counts twice
        agent.merge(previous["agent"])
    doc["checks"] = agent.checks()
    summary = agent.summary()
    if error is not None:
        doc["checks"].append(_unreadable_tail(error, agent.frames.total))
    if interrupted:
        summary["interrupted"] = True
        summary["warnings"].append("interrupted: the counts cover only what was processed; --resume continues")
        outdir.save_state(out, state_key, resume_state | {"agent": agent.state()})
    else:
        outdir.clear_state(out)
    if upload[0] and not interrupted:
        _upload(agent, summary, *upload)
    write_json(out / "results.json", finish(doc, summary))
    _print_summary(summary, doc["checks"], out)
    if interrupted:
        typer.echo("vehicle-ds: interrupted; results.json has what was processed, --resume continues", err=True)
        raise typer.Exit(130)
    if error is not None and agent.frames.total == 0:
        raise error  # nothing could be read: bad input, exit 2
    if error is not None:  # damaged after some frames: they are reported, the damage is a failed check (exit 1)
        typer.echo(f"vehicle-ds: error: {error}", err=True)
        raise typer.Exit(1)
    if agent.frames.decoded == 0 and agent.frames.reassembled_by_dbc == 0:
        # built-in knowledge (diagnostic VIN, J1939 and NMEA 2000 basics) decodes some payloads of any vehicle:
        # only what the vehicle's own DBC decodes shows that log and DBC belong together
        raise InputError(f"no frame matched the DBC ({agent.frames.total:,} frames read, {agent.frames.error:,} "
                         f"malformed, {agent.frames.unknown:,} with unknown ids, {agent.frames.reassembled:,} "
                         f"diagnostic payloads decoded by built-in knowledge): is this a {log.suffix} log of this "
                         f"vehicle and its DBC?", path=str(log))
    if any(c["status"] == "fail" for c in doc["checks"]):
        raise typer.Exit(1)


def _upload(agent, summary: dict, hub: str, token: str | None, device_credentials: Path | None,
            ca_cert: Path | None) -> None:
    from .sender import Sender

    verify: bool | str = str(ca_cert) if ca_cert else True
    creds = token
    if device_credentials:
        from .hubauth import DeviceTokens

        creds = DeviceTokens(hub, device_credentials, verify)
    sender = Sender(agent.spool, hub.rstrip("/") + "/api/v1/uplink", creds, verify=verify)
    delivered = sender.drain(60.0)
    summary["uplink"].update({"hub": hub, "delivered": delivered, "sent": sender.stats.sent,
                              "send_failures": sender.stats.failures})
    sender.stop()


def _unreadable_tail(error: InputError, frames_read: int) -> dict:
    from vehicle_ds.results import Criterion, check

    return check("edge.input.readable", "The whole log could be read", "fail", "high", ["GBT44464-4.1"],
                 {"error": str(error)}, criterion=Criterion("the reader reaches the end of the log", "engineering_default"),
                 observed={"frames_read": frames_read})


def _file_info(path: Path) -> dict[str, object]:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return {"path": shown_path(path), "sha256": h.hexdigest(), "bytes": path.stat().st_size}


def _progress(log: Path):
    """A rich progress bar on a terminal (share of the file's bytes, frames/s, ETA); nothing in a pipe."""
    if not sys.stderr.isatty():
        return lambda done, frames: None
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    total = max(1, log.stat().st_size)
    prog = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                    TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), transient=True)
    task = prog.add_task(f"replaying {log.name}", total=total, rate="")
    started = time.perf_counter()
    prog.start()

    def update(done: int | None, frames: int) -> None:
        if done is None:
            prog.stop()
            return
        rate = frames / max(time.perf_counter() - started, 1e-3)
        prog.update(task, completed=done if done >= 0 else None,
                    rate=f"{frames:,} frames, {rate:,.0f}/s")

    return update


def _print_summary(s: dict, checks: list[dict], out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from vehicle_ds.results import verdict_line

    console = Console(stderr=True)
    t = Table(title="edge replay", show_header=False)
    for k in ("frames_total", "frames_decoded", "frames_unknown", "frames_error", "frames_truncated"):
        t.add_row(k, f"{s[k]:,}")
    t.add_row("frames/s (processing)", f"{s['rates']['processing_frames_per_s'] or 0:,}")
    t.add_row("uplink records / batches", f"{s['uplink']['records']:,} / {s['uplink']['batches']}")
    for h, n in sorted(s["signals_by_handling"].items()):
        t.add_row(f"values {h}", f"{n:,}")
    console.print(t)
    console.print(f"results: {out / 'results.json'}")
    console.print(verdict_line(checks, f"vehicle-ds report {out / 'results.json'} --out report.html"))


@app.command()
def inspect(
    directory: Annotated[Path, typer.Argument(help="A replay output folder or a spool folder.")],
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Every outbound record as one JSON line.")] = False,
) -> None:
    """Show exactly what leaves the vehicle."""
    from .batch import decode_batch_bytes, records

    folder = directory / "batches" if (directory / "batches").is_dir() else directory
    files = sorted(folder.glob("*.vdsb"))
    if not folder.is_dir():
        raise InputError("no such folder", path=str(directory))
    out = sys.stdout
    totals: dict[str, int] = {}
    for f in files:
        try:
            doc = decode_batch_bytes(f.read_bytes())
        except Exception as exc:
            raise InputError(f"not a readable uplink batch: {exc}", path=str(f)) from None
        for rec in records(doc):
            if jsonl:
                out.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
            totals[rec["message"]] = totals.get(rec["message"], 0) + 1
    if not jsonl:
        from rich.console import Console
        from rich.table import Table

        t = Table(title=f"outbound records in {folder} ({len(files)} batches)")
        t.add_column("message")
        t.add_column("records", justify="right")
        for name, n in sorted(totals.items()):
            t.add_row(name, f"{n:,}")
        Console().print(t)


@app.command("enroll")
def enroll_cmd(
    hub: Annotated[str, typer.Option(help="Hub base URL.")],
    code: Annotated[str, typer.Option(help="One-time code from `vehicle-ds hub enroll` or the admin API.")],
    device_id: Annotated[str, typer.Option(help="This gateway's id.")],
    credentials: Annotated[Path, typer.Option(help="Where to keep the device secret (mode 0600).")],
    ca_cert: Annotated[Optional[Path], typer.Option(help="CA file to trust for the hub's TLS.")] = None,  # noqa: UP045
) -> None:
    """Enrol this device with a hub once; the secret stays on the device."""
    from .hubauth import enroll

    enroll(hub, code, device_id, credentials, str(ca_cert) if ca_cert else True)
    typer.echo(f"enrolled {device_id}; credentials in {credentials}", err=True)


@app.command()
def run(config: Annotated[Path, typer.Option(help="edge.toml")]) -> None:
    """Run live on the configured buses until SIGTERM/SIGINT, then flush and exit cleanly."""
    from .live import run_live

    run_live(config)


PROG = "vehicle-ds edge"


def main(args: list[str]) -> None:
    from vehicle_ds.subcommands import run_subapp

    run_subapp(app, args, PROG)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
