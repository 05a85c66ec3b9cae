"""The ``vehicle-ds`` command. Components are imported inside their subcommands only, so
``vehicle-ds catalog`` runs with the core's dependencies alone."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__
from .errors import InputError, VehicleDsError
from .subcommands import write_output

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Connected-vehicle data compliance checker.")
_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vehicle-ds {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True)] = None,  # noqa: UP045
) -> None:
    _state["debug"] = debug


@app.command()
def catalog(
    dbc: Annotated[list[Path], typer.Argument(help="DBC, ARXML, KCD or SYM files of one vehicle.")],
    policy: Annotated[Optional[Path], typer.Option(help="Policy TOML layered on the default.")] = None,  # noqa: UP045
    fmt: Annotated[str, typer.Option("--format", help="json | csv | md | html")] = "json",
    out: Annotated[Optional[Path], typer.Option(help="Write here instead of stdout.")] = None,  # noqa: UP045
    lang: Annotated[str, typer.Option(help="Label language for md/html: en | zh")] = "en",
    important_only: Annotated[bool, typer.Option(help="CSV: only important data (the filing).")] = False,
    vehicle: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="Name of the vehicle (the asset); default: the databases' file names.")] = None,
    vehicle_version: Annotated[str, typer.Option(help="Version of the vehicle (model year, E/E release).")] = "",
) -> None:
    """Classify every signal of the vehicle's databases: the data catalog / data-asset ledger."""
    from .catalog import build_catalog, summarize
    from .catalog_formats import RENDERERS, to_csv
    from .policy import load_policy

    if fmt not in RENDERERS:
        raise InputError(f"--format must be one of {', '.join(RENDERERS)}, not {fmt!r}")
    if lang not in ("en", "zh"):
        raise InputError(f"--lang must be en or zh, not {lang!r}")
    from .catalog import vehicle_asset

    doc = build_catalog(dbc, load_policy(policy), asset=vehicle_asset(dbc, vehicle, vehicle_version))
    text = to_csv(doc, important_only=True) if fmt == "csv" and important_only else RENDERERS[fmt](doc, lang)
    write_output(text, out)
    if out is not None:
        s = summarize(doc)
        typer.echo(f"{len(doc['entries'])} signals catalogued ({s['needs_review']['yes']} need review) "
                   f"-> {out}", err=True)


@app.command()
def report(
    inputs: Annotated[list[Path], typer.Argument(help="Catalogs and results documents, or folders of them.")],
    out: Annotated[Path, typer.Option(help="The report file.")],
    lang: Annotated[str, typer.Option(help="zh | en")] = "en",
    fmt: Annotated[str, typer.Option("--format", help="html | json | md | pdf (Chromium prints the HTML on A4)")] = "html",
    attestations: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="TOML of [[attestation]] (requirement, asset, by, date, statement): what a person vouches for.")] = None,
    baseline: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="A previous report.json: adds what is new, fixed, still open and the re-filing trigger.")] = None,
    actions: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="actions.toml: [[action]] target, owner, due, state per requirement or check:<id>.")] = None,
    org: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="org.toml, the organisation profile: dates the deadlines (last risk assessment, export approval).")] = None,
) -> None:
    """One compliance report. Exit status 1 when a requirement fails, so pipelines can gate on it."""
    import datetime as dt

    from .org import load_org
    from .report import build_report, load_inputs, render
    from .report.verdicts import load_attestations

    if fmt not in ("html", "json", "md", "pdf"):
        raise InputError(f"--format must be html, json, md or pdf, not {fmt!r}")
    if lang not in ("en", "zh"):
        raise InputError(f"--lang must be en or zh, not {lang!r}")
    profile = load_org(org) if org is not None else None
    rep = build_report(load_inputs(inputs), attestations=load_attestations(attestations), org=profile)
    if actions is not None:
        from .report.actions import apply_actions, load_actions

        apply_actions(rep, load_actions(actions), dt.date.today())
    if baseline is not None:
        from .report.baseline import apply_baseline

        apply_baseline(rep, baseline, profile, dt.date.today())
    if fmt == "pdf":
        import tempfile

        from .pdf import html_to_pdf

        with tempfile.TemporaryDirectory(prefix="vds-report-") as tmp:
            html = Path(tmp) / "report.html"
            html.write_text(render(rep, "html", lang), "utf-8")
            html_to_pdf(html, out)
    else:
        write_output(render(rep, fmt, lang), out)
    counts = rep["summary"]["requirements"]
    typer.echo(f"report: {out} — " + ", ".join(f"{k} {v}" for k, v in counts.items()), err=True)
    if counts["fail"]:
        raise typer.Exit(1)


@app.command()
def datasets(
    declared: Annotated[Path, typer.Argument(help="datasets.toml: what the platform holds, per category.")],
    out: Annotated[Path, typer.Option(help="The results document (component datasets).")],
    observed: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="The hub's observed counts (GET /api/v1/datasets/observed) for datasets that `observe` a category.")] = None,
) -> None:
    """Grade the platform's datasets at the fleet level, and decide the export route."""
    import json

    from .datasets import assess, load_datasets
    from .results import write_json

    obs = None
    if observed is not None:
        try:
            obs = json.loads(observed.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"not readable JSON: {exc}", path=str(observed)) from None
    raw, items = load_datasets(declared, obs)
    doc = assess(raw, items)
    write_json(out, doc)
    s = doc["summary"]
    typer.echo(f"datasets: {len(items)} ({len(s['important_datasets'])} important); export route "
               f"{s['export_route']['route']} -> {out}", err=True)


@app.command()
def discover(
    sources: Annotated[list[str], typer.Argument(help="SQLAlchemy URLs (postgresql+psycopg://, sqlite:///, "
                                                      "mysql+pymysql://) and CSV / JSON-lines / Parquet files, "
                                                      "folders or globs.")],
    out: Annotated[Path, typer.Option(help="The catalog (json), or a table (csv, md, html).")],
    fmt: Annotated[str, typer.Option("--format", help="json | csv | md | html")] = "json",
    sample: Annotated[int, typer.Option(help="Rows sampled per table (never a full scan unless --full-scan).")] = 1000,
    timeout: Annotated[float, typer.Option(help="Seconds a single query may run.")] = 10.0,
    full_scan: Annotated[bool, typer.Option("--full-scan", help="Read every row (exact counts; slow on big tables).")] = False,
    platform: Annotated[str, typer.Option(help="Name of the platform (the asset).")] = "platform",
) -> None:
    """Classify and grade what a platform stores: databases and files, read-only, sampled, masked."""
    from .catalog_formats import to_csv, to_html, to_json, to_markdown
    from .discovery.discover import discover as run_discovery
    from .discovery.sources import ReadOnlyDatabase, read_files

    if fmt not in ("json", "csv", "md", "html"):
        raise InputError(f"--format must be json, csv, md or html, not {fmt!r}")
    tables = []
    for src in sources:
        if "://" in src:
            db = ReadOnlyDatabase(src, sample=sample, timeout_s=timeout, full_scan=full_scan)
            try:
                tables.extend(db.tables())
            finally:
                db.close()
        else:
            tables.extend(read_files(Path(src), sample))
    doc = run_discovery(tables, platform)
    render = {"json": to_json, "csv": to_csv, "md": to_markdown, "html": to_html}[fmt]
    write_output(render(doc), out)
    d = doc["discovery"]
    typer.echo(f"discover: {d['tables']} tables, {d['columns']} columns, {d['personal_columns']} with personal data, "
               f"{d['needs_review']} to review -> {out}", err=True)


@app.command()
def documents(
    inputs: Annotated[list[Path], typer.Argument(help="Catalogs and results documents, or folders of them (as for report).")],
    org: Annotated[Path, typer.Option(help="org.toml: legal name, credit code, officer, systems, partners, dates.")],
    out: Annotated[Path, typer.Option(help="Folder for the documents (DOCX, HTML, XLSX/CSV, documents.json).")],
    lang: Annotated[str, typer.Option(help="zh | en")] = "zh",
    incidents: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="The hub's incident register (JSON of GET /api/v1/incidents).")] = None,
    baseline: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="A previous report.json: the filing's change log and re-filing date.")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print each document to PDF (needs Chromium).")] = False,
) -> None:
    """The documents regulators ask for: filing form, risk assessment, annual report, incident plan, PIA, export route."""
    import datetime as dt

    from rich.console import Console
    from rich.table import Table

    from .documents import FILE_NAMES, generate, load_incidents
    from .org import load_org
    from .report import build_report, load_inputs

    if lang not in ("en", "zh"):
        raise InputError(f"--lang must be en or zh, not {lang!r}")
    profile = load_org(org)
    today = dt.date.today()
    rep = build_report(load_inputs(inputs), today=today, org=profile)
    if baseline is not None:
        from .report.baseline import apply_baseline

        apply_baseline(rep, baseline, profile, today)
    manifest = generate(rep, profile, out, lang, org_path=str(org), today=today, pdf=pdf,
                        incidents=load_incidents(incidents) if incidents else None,
                        incidents_path=str(incidents) if incidents else None)
    table = Table(title=f"documents -> {out}")
    for col in ("document", "filled from evidence", "to be completed (待填写)", "files"):
        table.add_column(col)
    for d in manifest["documents"]:
        table.add_row(FILE_NAMES[d["id"]][0 if lang == "zh" else 1], str(len(d["filled"])), str(len(d["todo"])),
                      ", ".join(d["files"]))
    Console(stderr=True).print(table)
    for d in manifest["deadlines"]:
        if d.get("soon"):
            typer.echo(f"due within 30 days: {d['en']} — {d['due']} ({d['days_left']} days left)", err=True)
    typer.echo(f"the fields to complete are listed in {out / 'documents.json'} (\"todo\")", err=True)


@app.command()
def keygen(out: Annotated[Path, typer.Option(help="Private key file (0600); the public key is written next to "
                                                  "it as FILE.pub.")]) -> None:
    """Make an Ed25519 key pair for signing evidence bundles."""
    from .evidence.bundle import keygen as make

    pub = make(out)
    typer.echo(f"private key: {out} (keep it off shared folders); public key: {pub}", err=True)


@app.command()
def bundle(
    inputs: Annotated[list[Path], typer.Argument(help="Inputs, results and report files, or folders of them.")],
    out: Annotated[Path, typer.Option(help="The bundle folder (must be empty).")],
    key: Annotated[Path, typer.Option(help="Ed25519 private key from `vehicle-ds keygen`.")],
    operator: Annotated[str, typer.Option(help="Who ran the assessment (as declared).")] = "",
    policy: Annotated[Optional[Path], typer.Option(help="The policy TOML the run used (its text is recorded).")] = None,  # noqa: UP045
) -> None:
    """A signed evidence bundle: every file with its sha256, the tool version and commit, the policy text."""
    from .evidence.bundle import bundle as make

    m = make(inputs, out, key, operator=operator, policy=policy)
    typer.echo(f"bundle: {len(m['files'])} files signed -> {out}", err=True)


@app.command()
def verify(
    folder: Annotated[Path, typer.Argument(help="A bundle folder.")],
    pubkey: Annotated[Optional[Path], typer.Option(help="The signer's public key (FILE.pub) to prove who signed.")] = None,  # noqa: UP045
) -> None:
    """Check a bundle's signature and every file; name what changed. Exit 1 when anything did."""
    from .evidence.bundle import verify as check

    problems = check(folder, pubkey)
    for p in problems:
        typer.echo(f"FAIL {p}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"OK: {folder} is intact and its signature verifies", err=True)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Where to write everything.")] = Path("demo-out"),
    frames: Annotated[int, typer.Option(help="Frames in the generated drive log.")] = 200_000,
    lang: Annotated[str, typer.Option(help="Report language: en | zh")] = "en",
) -> None:
    """Run the whole pipeline offline on the bundled sample vehicle and write one report."""
    if frames < 1_000:  # refused before any work: fewer frames cannot exercise every message of the sample DBC
        raise InputError(f"--frames must be at least 1000, not {frames}")
    if lang not in ("en", "zh"):
        raise InputError(f"--lang must be en or zh, not {lang!r}")
    from .cli_demo import run_demo

    run_demo(out, frames, lang)


_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


def _delegate(module: str, what: str, extra: str, args: list[str]) -> None:
    """Import a component's CLI only now (an edge gateway never installs FastAPI or SciPy) and run it."""
    import importlib

    try:
        cli = importlib.import_module(module)
    except ImportError as exc:
        raise InputError(f"{what} is not installed ({exc.name} missing): pip install 'vehicle-ds[{extra}]'") from None
    cli.main(args)


@app.command(context_settings=_PASS_THROUGH, add_help_option=False)
def edge(ctx: typer.Context) -> None:
    """The in-vehicle agent: replay | inspect | enroll | run (needs the 'edge' extra)."""
    _delegate("edge.cli", "the edge agent", "edge", list(ctx.args))


@app.command(context_settings=_PASS_THROUGH, add_help_option=False)
def probe(ctx: typer.Context) -> None:
    """Probe a vehicle platform's data interfaces: --target target.toml --out results.json (needs 'probes')."""
    _delegate("api_probes.cli", "the API probes", "probes", list(ctx.args))


@app.command("model-check", context_settings=_PASS_THROUGH, add_help_option=False)
def model_check(ctx: typer.Context) -> None:
    """Robustness and security checks of a driving model (needs the 'models' extra)."""
    _delegate("model_checks.cli", "the model checks", "models", list(ctx.args))


@app.command(context_settings=_PASS_THROUGH, add_help_option=False)
def fleet(ctx: typer.Context) -> None:
    """Audit a fleet's logs on Dask: audit LOGS... --dbc FILE --out DIR (needs the 'fleet' extra)."""
    _delegate("edge.fleet_cli", "the fleet audit", "fleet", list(ctx.args))


@app.command(context_settings=_PASS_THROUGH, add_help_option=False)
def hub(ctx: typer.Context) -> None:
    """The hub service: serve | user-add | enroll | export (needs the 'hub' extra)."""
    _delegate("vehicle_ds.hub.cli", "the hub", "hub", list(ctx.args))


EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


def _quiet_library_warnings(debug: bool) -> None:
    """Library warnings (PyJWT's short-key warning when a probe forges with a cracked key, …) go to the
    log, not between a command's lines; ``--debug`` shows them."""
    import logging

    logging.captureWarnings(True)
    log = logging.getLogger("py.warnings")
    log.propagate = False
    if not log.handlers:
        log.addHandler(logging.StreamHandler() if debug else logging.NullHandler())


def main(argv: list[str] | None = None) -> int:
    """Entry point. Exit codes a CI can use: 0 nothing fails, 1 a requirement or check fails, 2 bad input (one
    line naming the file), 3 internal error (one line; ``--debug`` shows the traceback)."""
    import click

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    _quiet_library_warnings(debug)
    try:
        rc = app(args=args, prog_name="vehicle-ds", standalone_mode=False)
        if isinstance(rc, int):  # typer.Exit(n) comes back as a return value without standalone mode
            return rc
    # Typer ≥ 0.2x vendors its own click: its exceptions are caught beside click's.
    except (click.exceptions.Exit, typer.Exit) as exc:
        return int(exc.exit_code or 0)
    except (click.exceptions.Abort, typer.Abort) as exc:
        if isinstance(exc.__context__, EOFError):  # click turns an EOFError from any library into Abort
            if debug:
                raise
            typer.echo(f"vehicle-ds: internal error: unexpected end of input: {exc.__context__}", err=True)
            return EXIT_INTERNAL
        typer.echo("aborted", err=True)
        return 130
    except (click.ClickException, typer.TyperException) as exc:  # bad arguments: bad input
        exc.show()  # type: ignore[union-attr]
        return EXIT_BAD_INPUT
    except VehicleDsError as exc:
        if debug:
            raise
        typer.echo(f"vehicle-ds: error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        if debug:
            raise
        if exc.filename:  # an unwritable --out (under a file, read-only), a folder where a file belongs: bad input
            typer.echo(f"vehicle-ds: error: {exc.filename}: {exc.strerror or exc}", err=True)
            return EXIT_BAD_INPUT
        typer.echo(f"vehicle-ds: internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)",
                   err=True)
        return EXIT_INTERNAL
    except Exception as exc:  # the isolation point: a bug is one line and exit 3, never a traceback
        if debug:
            raise
        typer.echo(f"vehicle-ds: internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)",
                   err=True)
        return EXIT_INTERNAL
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
