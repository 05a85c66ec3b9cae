"""``vehicle-ds edge``: replay a log, inspect what would leave the vehicle, run live on buses."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Optional

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
        _replay(ReplayOptions(log, dbc, out, policy, tuple(purpose), key_file, device, vehicle, vehicle_version, force,
                              resume, geofence, Upload(hub, token, device_credentials, ca_cert)), stop)


@dataclass(frozen=True)
class Upload:
    """Where the batches go after the replay, and with what credentials (no hub: they stay in DIR/batches)."""

    hub: str | None = None
    token: str | None = None
    device_credentials: Path | None = None
    ca_cert: Path | None = None


@dataclass(frozen=True)
class ReplayOptions:
    log: Path
    dbc: list[str]
    out: Path
    policy: Path | None = None
    purpose: tuple[str, ...] = ()
    key_file: Path | None = None
    device: str = "replay"
    vehicle: str | None = None
    vehicle_version: str = ""
    force: bool = False
    resume: bool = False
    geofence: Path | None = None
    upload: Upload = Upload()


def _replay_doc(o: ReplayOptions, specs, dbs, info: dict[str, Any]) -> dict[str, Any]:
    from vehicle_ds.catalog import vehicle_asset
    from vehicle_ds.results import new_results

    return new_results("edge", {"log": info, "dbc": [db.source_entry() | ({"channel": ch} if ch else {})
                                                     for db, (ch, _) in zip(dbs, specs, strict=True)],
                                "mode": "replay"},
                       {"consented_purposes": sorted(o.purpose), "device": o.device},
                       asset=vehicle_asset([p for _, p in specs], o.vehicle, o.vehicle_version))


def _feed(run, o: ReplayOptions, chunks, previous: dict | None, stop, progress) -> dict[str, Any]:
    """Run the agent over the log (on every core when it is a large candump or BLF log); returns what a resume
    needs to know about how far it got."""
    from .frames import coalesce, prefetch, skip_frames
    from .parallel import replay_parallel, worth_it

    agent = run.agent
    if worth_it(o.log):
        skip = frozenset(previous.get("ranges_done", ())) if previous else frozenset()
        try:
            done = replay_parallel(agent, o.log, skip=skip, stop=stop,
                                   progress=lambda b: progress(b, agent.frames.total))
        except InputError as exc:
            run.error, done = exc, []
        if stop.is_set():
            run.interrupt()
        return {"ranges_done": sorted(skip | set(done))}
    stream = prefetch(coalesce(chunks))
    if previous is not None:
        stream = skip_frames(stream, previous["frames_done"])
    run.feed(stream, stop=stop, progress=lambda c: progress(c.offset, agent.frames.total))
    return {"frames_done": agent.frames.total}


def _replay(o: ReplayOptions, stop) -> None:
    from vehicle_ds.results import finish, write_json

    from . import outdir
    from .readers import read_log
    from .run import AgentRun
    from .setup import build_agent, parse_dbc_specs

    specs = parse_dbc_specs(o.dbc)
    chunks = read_log(o.log)  # validates the path and format before anything is written
    outdir.prepare(o.out, force=o.force, resume=o.resume)
    agent, dbs = build_agent(specs, o.policy, o.out / "batches", consented=list(o.purpose), device=o.device,
                             key_file=o.key_file, geofence=o.geofence)
    info = _file_info(o.log)
    doc = _replay_doc(o, specs, dbs, info)
    state_key = agent.handler.keys.key(-1)
    previous = outdir.load_state(o.out, state_key, info["sha256"]) if o.resume else None
    progress = _progress(o.log)
    try:
        with AgentRun(agent) as run:
            resume_state = {"log_sha256": info["sha256"], **_feed(run, o, chunks, previous, stop, progress)}
    finally:
        progress(None, 0)
    if previous is not None:  # after the run: forked workers must not carry (and return) these counts twice
        agent.merge(previous["agent"])
    doc["checks"] = run.checks()
    summary = run.summary()
    if run.error is not None:
        doc["checks"].append(_unreadable_tail(run.error, agent.frames.total))
    if run.interrupted:
        summary["interrupted"] = True
        summary["warnings"].append("interrupted: the counts cover only what was processed; --resume continues")
        outdir.save_state(o.out, state_key, resume_state | {"agent": agent.state()})
    else:
        outdir.clear_state(o.out)
    if o.upload.hub and not run.interrupted:
        _upload(agent, summary, o.upload)
    write_json(o.out / "results.json", finish(doc, summary))
    _print_summary(summary, doc["checks"], o.out)
    _exit(run, o.log, doc["checks"])


def _exit(run, log: Path, checks: list[dict[str, Any]]) -> None:
    """130 interrupted; 2 when nothing could be read or nothing matched the DBC; 1 when damaged after some
    frames or a check failed."""
    frames = run.agent.frames
    if run.interrupted:
        typer.echo("vehicle-ds: interrupted; results.json has what was processed, --resume continues", err=True)
        raise typer.Exit(130)
    if run.error is not None and frames.total == 0:
        raise run.error  # nothing could be read: bad input, exit 2
    if run.error is not None:  # damaged after some frames: they are reported, the damage is a failed check (exit 1)
        typer.echo(f"vehicle-ds: error: {run.error}", err=True)
        raise typer.Exit(1)
    if frames.decoded == 0 and frames.reassembled_by_dbc == 0:
        # built-in knowledge (diagnostic VIN, J1939 and NMEA 2000 basics) decodes some payloads of any vehicle:
        # only what the vehicle's own DBC decodes shows that log and DBC belong together
        raise InputError(f"no frame matched the DBC ({frames.total:,} frames read, {frames.error:,} "
                         f"malformed, {frames.unknown:,} with unknown ids, {frames.reassembled:,} "
                         f"diagnostic payloads decoded by built-in knowledge): is this a {log.suffix} log of this "
                         f"vehicle and its DBC?", path=str(log))
    if any(c["status"] == "fail" for c in checks):
        raise typer.Exit(1)


def _upload(agent, summary: dict, up: Upload) -> None:
    from .sender import Sender

    hub = str(up.hub)
    verify: bool | str = str(up.ca_cert) if up.ca_cert else True
    creds = up.token
    if up.device_credentials:
        from .hubauth import DeviceTokens

        creds = DeviceTokens(hub, up.device_credentials, verify)
    sender = Sender(agent.spool, hub.rstrip("/") + "/api/v1/uplink", creds, verify=verify)
    delivered = sender.drain(60.0)
    summary["uplink"].update({"hub": hub, "delivered": delivered, "sent": sender.stats.sent,
                              "send_failures": sender.stats.failures})
    sender.stop()


def _unreadable_tail(error: InputError, frames_read: int) -> dict:
    from vehicle_ds.results import Criterion, check

    return check("edge.input.readable", "The whole log could be read", "fail", "high", ["GBT44464-4.1"],
                 evidence={"error": str(error)},
                 criterion=Criterion("the reader reaches the end of the log", "engineering_default"),
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
    for w in s.get("warnings", []):
        console.print(f"warning: {w}", markup=False)
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
