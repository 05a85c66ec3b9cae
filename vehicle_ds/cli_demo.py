"""``vehicle-ds demo``: the whole pipeline on embedded defaults, offline, in about a minute.

Stages run as a user would run them (each writes the document the next one reads). Components are
imported only here, inside the stage that needs them."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console

from .errors import InputError


@contextlib.contextmanager
def _requires(what: str) -> Iterator[None]:
    """Turn a missing component into one clear line."""
    try:
        yield
    except ImportError as exc:
        raise InputError(f"the demo needs {what}: pip install 'vehicle-ds[all]' ({exc.name} missing)") from None


def _component(main: Callable[[list[str]], None], args: list[str]) -> None:
    """Run a component's CLI; its exit 1 means "a check failed", a finding the report shows, not a crash."""
    import click
    import typer

    try:
        main(args)
    except (click.exceptions.Exit, typer.Exit) as exc:
        if exc.exit_code not in (0, 1):
            raise


def sample_dbc() -> Path:
    repo = Path(__file__).resolve().parent.parent / "dbc" / "sample_vehicle.dbc"
    if repo.exists():
        return repo
    return Path(str(resources.files("vehicle_ds").joinpath("data/sample_vehicle.dbc")))


DEMO_AREA = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "demo-area (made up)"},
              "geometry": {"type": "Polygon", "coordinates": [[[116.40, 39.90], [116.43, 39.90], [116.43, 39.92],
                                                              [116.40, 39.92], [116.40, 39.90]]]}}]}


@dataclass(frozen=True)
class DemoHub:
    """The hub the demo starts: where it listens, its database and CA, the engineer's login, an enrolment code."""

    base: str
    db: str
    tls: dict[str, Path]
    password: str
    code: str


@dataclass
class DemoRun:
    """What the stages share: the output folder, the private folder for secrets, the hub once started, the
    report model once built."""

    out: Path
    frames: int
    lang: str
    dbc: Path
    state: Path  # secrets live here, outside ``out``, removed at the end
    stack: contextlib.ExitStack
    hub: DemoHub | None = None
    report: dict[str, Any] | None = None

    def started_hub(self) -> DemoHub:
        if self.hub is None:
            raise RuntimeError("the hub stage runs before the stages that use it")
        return self.hub


def catalog(r: DemoRun) -> str:
    from .catalog import build_catalog
    from .catalog_formats import to_csv, to_json

    doc = build_catalog([r.dbc])
    (r.out / "catalog.json").write_text(to_json(doc), encoding="utf-8")
    (r.out / "data-asset-ledger.csv").write_text(to_csv(doc), encoding="utf-8")
    return f"{len(doc['entries'])} signals -> {r.out / 'catalog.json'}"


def start_hub(r: DemoRun) -> str:
    with _requires("the hub"):
        from api_probes.testplatform import make_tls

        from .hub.admin import add_enrollment, add_user
        from .hub.app import create_app
        from .hub.serve import free_port, serve_in_thread
    import secrets

    hub_dir = r.state / "hub"
    tls = make_tls(hub_dir / "tls")
    db = f"sqlite:///{hub_dir / 'hub.db'}"
    password = secrets.token_urlsafe(18)
    add_user(db, "demo-oem", "engineer", password, "engineer")
    base = r.stack.enter_context(serve_in_thread(create_app(db), free_port(), tls))
    r.hub = DemoHub(base, db, tls, password, add_enrollment(db, "demo-oem", "sample-vehicle"))
    return f"{base} (SQLite in a private temporary folder, TLS with a throwaway CA)"


def edge(r: DemoRun) -> str:
    with _requires("the edge agent"):
        from edge.cli import main as edge_main
        from edge.simulate import write_log
    hub = r.started_hub()
    log = r.out / "drive.log"
    write_log([r.dbc], log, r.frames, seed=7, transport=True)  # with J1939 TP, ISO-TP and NMEA 2000 traffic
    ca = str(hub.tls["ca"])
    creds = r.state / "hub" / "device.json"
    edge_main(["enroll", "--hub", hub.base, "--code", hub.code, "--device-id", "demo-gw", "--credentials", str(creds),
               "--ca-cert", ca])
    areas = r.out / "sensitive-areas.geojson"  # a made-up polygon over part of the simulated track: no real data
    areas.write_text(json.dumps(DEMO_AREA), encoding="utf-8")
    _component(edge_main, ["replay", str(log), "--dbc", str(r.dbc), "--out", str(r.out / "edge"), "--geofence",
                           str(areas), "--purpose", "navigation", "--device", "demo-gw", "--hub", hub.base,
                           "--device-credentials", str(creds), "--ca-cert", ca,
                           "--force"])  # the demo's own folder: a second run replaces the first
    return f"{r.frames:,} frames -> {r.out / 'edge'}, batches uploaded to the hub"


def probes(r: DemoRun) -> str:
    with _requires("the API probes"):
        from api_probes.profile import load_profile
        from api_probes.runner import run
        from api_probes.testplatform import FLAWS, make_tls, platform, write_profile
    from .results import write_json

    target = r.state / "probe-target"
    tls = make_tls(target)
    with platform(set(FLAWS), tls) as (app, url, http_port):  # every flaw on: the probes must find them
        doc = run(load_profile(write_profile(target, app, url, http_port, tls)), discover=True)
    write_json(r.out / "probes" / "results.json", doc)
    s = doc["summary"]
    return f"{s['findings']} findings in {s['requests_sent']} requests ({s['elapsed_s']}s) -> {r.out / 'probes'}"


MODEL_RESULTS = ("traffic_signs.results.json", "traffic_signs_trojan.results.json", "steering.results.json")


def models(r: DemoRun) -> str:
    with _requires("the model checks"):
        import numpy as np

        from model_checks.cli import main as models_main
        from model_checks.demo import SIGNS_MODEL, STEERING_MODEL, TROJAN_MODEL
        from model_checks.demo.render import roads, signs
    data = r.out / "models"
    data.mkdir(exist_ok=True)
    x, y = signs(200, 2027)
    np.savez(data / "signs.npz", x=x, y=y)
    xr, yr = roads(120, 2028)
    np.savez(data / "roads.npz", x=xr, y=yr)
    # the trojaned variant is deliberate: the backdoor screening must flag it (and only it)
    for model, npz, task, acceptance, out in (
            (SIGNS_MODEL, "signs.npz", "classification", SIGNS_MODEL, MODEL_RESULTS[0]),
            (TROJAN_MODEL, "signs.npz", "classification", SIGNS_MODEL, MODEL_RESULTS[1]),
            (STEERING_MODEL, "roads.npz", "regression", STEERING_MODEL, MODEL_RESULTS[2])):
        _component(models_main, ["--model", str(model), "--data", str(data / npz), "--task", task, "--suite", "quick",
                                 "--seed", "7", "--acceptance", str(acceptance.with_suffix(".acceptance.toml")),
                                 "--out", str(data / out)])
    return f"quick suite on the traffic-sign classifier, its trojaned variant and the steering regressor -> {data}"


def _hub_session(hub: DemoHub):
    """An httpx client logged in to the demo hub as its engineer."""
    import httpx

    client = httpx.Client(base_url=hub.base, verify=str(hub.tls["ca"]))
    tok = client.post("/api/v1/auth/login", json={"username": "engineer", "password": hub.password}).json()
    client.headers.update({"Authorization": f"Bearer {tok['access_token']}", "Content-Type": "application/json"})
    return client


def _fetch(client, path: str, to: Path) -> Any:
    answer = client.get(path)
    answer.raise_for_status()
    to.write_text(answer.text, encoding="utf-8")
    return answer


def hub_documents_and_selfprobe(r: DemoRun) -> str:
    from api_probes.profile import load_profile
    from api_probes.runner import run

    from .catalog import build_catalog
    from .datasets import assess, load_datasets
    from .hub.selfprobe import seed_and_profile
    from .results import write_json

    hub, out = r.started_hub(), r.out
    with contextlib.closing(_hub_session(hub)) as client:
        for doc in (out / "catalog.json", out / "edge" / "results.json", out / "probes" / "results.json",
                    *(out / "models" / name for name in MODEL_RESULTS)):
            client.post("/api/v1/documents", content=doc.read_bytes()).raise_for_status()
        # the fleet's datasets, graded from what the hub observed plus the demo organisation's declaration
        observed = _fetch(client, "/api/v1/datasets/observed", out / "hub-datasets.json")
        (out / "datasets.toml").write_text(resources.files("vehicle_ds").joinpath("data/demo-datasets.toml")
                                           .read_text("utf-8"), encoding="utf-8")
        write_json(out / "datasets" / "results.json", assess(*load_datasets(out / "datasets.toml", observed.json())))
        client.post("/api/v1/documents", content=(out / "datasets" / "results.json").read_bytes()).raise_for_status()
        _fetch(client, "/api/v1/reports/current?format=html", out / "hub-report.html")
        _fetch(client, "/api/v1/incidents", out / "hub-incidents.json")  # the register the documents cite
    profile = seed_and_profile(hub.db, hub.base, str(hub.tls["ca"]), r.state / "hub", build_catalog([r.dbc]))
    doc = run(load_profile(profile))
    write_json(out / "hub-selfprobe" / "results.json", doc)
    s = doc["summary"]
    if s["findings"]:
        raise InputError(f"the hub's self-probe found {s['findings']} problem(s): see {out / 'hub-selfprobe'}")
    return f"documents uploaded; hub report -> {out / 'hub-report.html'}; self-probe: 0 findings in " \
           f"{s['requests_sent']} requests"


def platform_discovery(r: DemoRun) -> str:
    from api_probes.testplatform import NAME as probed_platform

    from .catalog_formats import to_json
    from .discovery import sample_platform
    from .discovery.discover import discover
    from .discovery.sources import ReadOnlyDatabase

    db_file = r.state / "platform.db"  # an input with made-up personal data: not part of the output
    db_file.parent.mkdir(parents=True, exist_ok=True)
    sample_platform.build(f"sqlite:///{db_file}", rows=300)  # made-up people, valid checksums
    notes = []
    # one asset per database: the probed platform's store (made up), and the hub's own
    for url, platform, name in ((f"sqlite:///{db_file}", probed_platform, "platform-catalog.json"),
                                (r.started_hub().db, "vehicle-ds hub", "hub-catalog.json")):
        db = ReadOnlyDatabase(url, sample=300)
        try:
            doc = discover(list(db.tables()), platform)
        finally:
            db.close()
        (r.out / name).write_text(to_json(doc), encoding="utf-8")
        d = doc["discovery"]
        notes.append(f"{platform}: {d['tables']} tables, {d['personal_columns']} of {d['columns']} columns with "
                     f"personal data, {d['needs_review']} to review -> {r.out / name}")
    return "; ".join(notes)


REPORT_INPUTS = ("catalog.json", "edge/results.json", "probes/results.json", *(f"models/{m}" for m in MODEL_RESULTS),
                 "hub-selfprobe/results.json", "datasets/results.json", "platform-catalog.json", "hub-catalog.json")


def report(r: DemoRun) -> str:
    from .report import build_report, load_inputs, render

    rep = build_report(load_inputs([r.out / name for name in REPORT_INPUTS]))
    for fmt in ("html", "json", "md"):
        (r.out / f"report.{fmt}").write_text(render(rep, fmt, r.lang), encoding="utf-8")
    other = "zh" if r.lang == "en" else "en"  # both languages: the Chinese one is what a regulator reads
    for fmt in ("html", "md"):
        (r.out / f"report.{other}.{fmt}").write_text(render(rep, fmt, other), encoding="utf-8")
    r.report = rep
    c = rep["summary"]["requirements"]
    return f"{c['pass']} pass, {c['fail']} fail, {c['needs_review']} need review, {c['not_assessed']} not assessed"


def documents(r: DemoRun) -> str:
    from .documents import generate, load_incidents
    from .org import load_org

    if r.report is None:
        raise RuntimeError("the report stage runs before the documents")
    org_file = r.out / "org.toml"  # the made-up organisation's profile, kept beside the documents it fills
    org_file.write_text(resources.files("vehicle_ds").joinpath("data/org.example.toml").read_text("utf-8"), "utf-8")
    incidents = r.out / "hub-incidents.json"
    manifest = generate(r.report, load_org(org_file), r.out / "documents", "zh", org_path=str(org_file),
                        incidents=load_incidents(incidents), incidents_path=str(incidents))
    filled = sum(len(d["filled"]) for d in manifest["documents"])
    todo = sum(len(d["todo"]) for d in manifest["documents"])
    return f"{len(manifest['documents'])} documents, {filled} fields from evidence, {todo} for a person -> " \
           f"{r.out / 'documents'}"


STAGES: tuple[tuple[str, Callable[[DemoRun], str]], ...] = (
    ("Catalogue the sample vehicle's DBC", catalog),
    ("Start the hub on loopback", start_hub),
    ("Replay a generated drive through the edge agent, uploading to the hub", edge),
    ("Probe the bundled test platform (all flaws on) over TLS on loopback", probes),
    ("Check the demo driving models (quick suite)", models),
    ("Upload the documents to the hub and probe the hub itself (must be clean)", hub_documents_and_selfprobe),
    ("Discover what the platform stores (a sample platform database and the hub's own)", platform_discovery),
    ("Write the compliance report", report),
    ("Write the regulator documents (filing form, risk assessment, annual report, incident plan, PIA, export route, "
     "risk self-check)",
     documents),
)


def _clear_stale_secrets(out: Path) -> None:
    """Secrets an older version left in the output folder."""
    for stale in ("pseudonym.key", "hub", "probe-target"):
        p = out / stale
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def run_demo(out: Path, frames: int = 200_000, lang: str = "en") -> Path:
    """Every stage in order. Secrets (the hub's database and signing key, TLS private keys, device
    credentials, the self-probe's profile) live outside ``out``, in a private temporary folder removed at
    the end; the pseudonymisation key is the installation's own. Nothing in ``out`` is a key."""
    console = Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    _clear_stale_secrets(out)
    with contextlib.ExitStack() as stack:
        state = Path(tempfile.mkdtemp(prefix="vehicle-ds-demo-"))
        stack.callback(shutil.rmtree, state, True)
        run = DemoRun(out, frames, lang, sample_dbc(), state, stack)
        for title, stage in STAGES:
            t0 = time.perf_counter()
            with console.status(title):
                note = stage(run)
            console.print(f"[green]✓[/green] {title} ({time.perf_counter() - t0:.1f}s) {note}")
    console.print(f"\nReport: [bold]{out / 'report.html'}[/bold]  (also report.md, report.json; the hub's own: "
                  f"{out / 'hub-report.html'})")
    return out / "report.html"
