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
DEMO_DATASETS = """# The demo organisation's declaration (vehicle-ds datasets): what the platform holds beyond what the hub saw.
[organisation]
name = "Demo OEM (made up)"
platform = "vehicle-ds hub"  # the demo fleet's data is held by the hub itself

[[dataset]]
id = "fleet_positions"
title = "Fleet positions (coarsened, consented navigation)"
title_zh = "车队位置数据（降低精度，经同意的导航用途）"
category = "location"
observe = "location"
purpose = "导航"
storage = "平台，华北区域（申报）"
retention_days = 30
# persons unknown: the hub sees pseudonymous vehicles, not people -> needs review until declared

[[dataset]]
id = "vehicle_identifiers"
title = "Pseudonymous vehicle identifiers"
title_zh = "去标识化车辆标识符"
category = "identifier"
observe = "identifier"
persons = 120000
purpose = "车队管理"
storage = "平台，华北区域（申报）"
retention_days = 365

[[dataset]]
id = "telemetry"
title = "Vehicle condition telemetry"
title_zh = "车况遥测数据"
category = "vehicle_condition"
observe = "vehicle_condition"
purpose = "故障诊断"
storage = "平台，华北区域（申报）"
retention_days = 365

[export]
cii = false
pi_persons_ytd = 0
sensitive_persons_ytd = 0
arrangement = "none"
"""


def run_demo(out: Path, frames: int = 200_000, lang: str = "en") -> Path:
    console = Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    dbc = sample_dbc()
    stack = contextlib.ExitStack()
    hub_state: dict[str, object] = {}
    # Secrets (the hub's database and signing key, TLS private keys, device credentials, the self-probe's
    # profile) live outside the output folder, in a private temporary folder removed at the end; the
    # pseudonymisation key is the installation's own (~/.local/share/vehicle-ds). Nothing in `out` is a key.
    state = Path(tempfile.mkdtemp(prefix="vehicle-ds-demo-"))
    stack.callback(shutil.rmtree, state, True)
    for stale in ("pseudonym.key", "hub", "probe-target"):  # secrets an older version left in the output folder
        p = out / stale
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()

    def stage(title: str, fn: Callable[[], str]) -> None:
        t0 = time.perf_counter()
        with console.status(title):
            note = fn()
        console.print(f"[green]✓[/green] {title} ({time.perf_counter() - t0:.1f}s) {note}")

    def catalog() -> str:
        from .catalog import build_catalog
        from .catalog_formats import to_csv, to_json

        doc = build_catalog([dbc])
        (out / "catalog.json").write_text(to_json(doc), encoding="utf-8")
        (out / "data-asset-ledger.csv").write_text(to_csv(doc), encoding="utf-8")
        return f"{len(doc['entries'])} signals -> {out / 'catalog.json'}"

    def start_hub() -> str:
        with _requires("the hub"):
            from api_probes.testplatform import make_tls

            from .hub.admin import add_enrollment, add_user
            from .hub.app import create_app
            from .hub.serve import free_port, serve_in_thread
        import secrets

        hub_dir = state / "hub"
        tls = make_tls(hub_dir / "tls")
        db = f"sqlite:///{hub_dir / 'hub.db'}"
        password = secrets.token_urlsafe(18)
        add_user(db, "demo-oem", "engineer", password, "engineer")
        base = stack.enter_context(serve_in_thread(create_app(db), free_port(), tls))
        hub_state.update(base=base, db=db, tls=tls, password=password,
                         code=add_enrollment(db, "demo-oem", "sample-vehicle"))
        return f"{base} (SQLite in a private temporary folder, TLS with a throwaway CA)"

    def edge() -> str:
        with _requires("the edge agent"):
            from edge.cli import main as edge_main
            from edge.simulate import write_log
        log = out / "drive.log"
        write_log([dbc], log, frames, seed=7, transport=True)  # with J1939 TP, ISO-TP and NMEA 2000 traffic
        ca = str(hub_state["tls"]["ca"])
        creds = state / "hub" / "device.json"
        edge_main(["enroll", "--hub", str(hub_state["base"]), "--code", str(hub_state["code"]), "--device-id",
                   "demo-gw", "--credentials", str(creds), "--ca-cert", ca])
        areas = out / "sensitive-areas.geojson"  # a made-up polygon over part of the simulated track: no real data
        areas.write_text(json.dumps(DEMO_AREA), encoding="utf-8")
        _component(edge_main, ["replay", str(log), "--dbc", str(dbc), "--out", str(out / "edge"), "--geofence", str(areas),
                   "--purpose", "navigation", "--device", "demo-gw",
                   "--hub", str(hub_state["base"]), "--device-credentials", str(creds), "--ca-cert", ca,
                   "--force"])  # the demo's own folder: a second run replaces the first
        return f"{frames:,} frames -> {out / 'edge'}, batches uploaded to the hub"

    def probes() -> str:
        with _requires("the API probes"):
            from api_probes.profile import load_profile
            from api_probes.runner import run
            from api_probes.testplatform import FLAWS, make_tls, platform, write_profile
        from .results import write_json

        target = state / "probe-target"
        tls = make_tls(target)
        with platform(set(FLAWS), tls) as (app, url, http_port):  # every flaw on: the probes must find them
            doc = run(load_profile(write_profile(target, app, url, http_port, tls)), discover=True)
        write_json(out / "probes" / "results.json", doc)
        s = doc["summary"]
        return f"{s['findings']} findings in {s['requests_sent']} requests ({s['elapsed_s']}s) -> {out / 'probes'}"

    def models() -> str:
        with _requires("the model checks"):
            import numpy as np

            from model_checks.cli import main as models_main
            from model_checks.demo import SIGNS_MODEL, STEERING_MODEL, TROJAN_MODEL
            from model_checks.demo.render import roads, signs
        data = out / "models"
        data.mkdir(exist_ok=True)
        x, y = signs(200, 2027)
        np.savez(data / "signs.npz", x=x, y=y)
        xr, yr = roads(120, 2028)
        np.savez(data / "roads.npz", x=xr, y=yr)
        _component(models_main, ["--model", str(SIGNS_MODEL), "--data", str(data / "signs.npz"), "--task",
                                 "classification", "--suite", "quick", "--seed", "7", "--acceptance",
                                 str(SIGNS_MODEL.with_suffix(".acceptance.toml")),
                                 "--out", str(data / "traffic_signs.results.json")])
        # the deliberately trojaned variant: the backdoor screening must flag it (and only it)
        _component(models_main, ["--model", str(TROJAN_MODEL), "--data", str(data / "signs.npz"), "--task",
                                 "classification", "--suite", "quick", "--seed", "7", "--acceptance",
                                 str(SIGNS_MODEL.with_suffix(".acceptance.toml")),
                                 "--out", str(data / "traffic_signs_trojan.results.json")])
        _component(models_main, ["--model", str(STEERING_MODEL), "--data", str(data / "roads.npz"), "--task",
                                 "regression", "--suite", "quick", "--seed", "7", "--acceptance",
                                 str(STEERING_MODEL.with_suffix(".acceptance.toml")),
                                 "--out", str(data / "steering.results.json")])
        return f"quick suite on the traffic-sign classifier, its trojaned variant and the steering regressor -> {data}"

    def hub_documents_and_selfprobe() -> str:
        import httpx

        from api_probes.profile import load_profile
        from api_probes.runner import run

        from .catalog import build_catalog
        from .hub.selfprobe import seed_and_profile
        from .results import write_json

        base, ca = str(hub_state["base"]), str(hub_state["tls"]["ca"])
        tok = httpx.post(base + "/api/v1/auth/login", json={"username": "engineer", "password": hub_state["password"]},
                         verify=ca).json()["access_token"]
        h = {"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}
        for doc in (out / "catalog.json", out / "edge" / "results.json", out / "probes" / "results.json",
                    out / "models" / "traffic_signs.results.json", out / "models" / "traffic_signs_trojan.results.json",
                    out / "models" / "steering.results.json"):
            httpx.post(base + "/api/v1/documents", content=doc.read_bytes(), headers=h, verify=ca).raise_for_status()
        # the fleet's datasets, graded from what the hub observed plus the demo organisation's declaration
        observed = httpx.get(base + "/api/v1/datasets/observed", headers=h, verify=ca)
        observed.raise_for_status()
        (out / "hub-datasets.json").write_text(observed.text, encoding="utf-8")
        (out / "datasets.toml").write_text(DEMO_DATASETS, encoding="utf-8")
        from .datasets import assess, load_datasets

        write_json(out / "datasets" / "results.json", assess(*load_datasets(out / "datasets.toml", observed.json())))
        httpx.post(base + "/api/v1/documents", content=(out / "datasets" / "results.json").read_bytes(), headers=h,
                   verify=ca).raise_for_status()
        html = httpx.get(base + "/api/v1/reports/current?format=html", headers=h, verify=ca)
        html.raise_for_status()
        (out / "hub-report.html").write_text(html.text, encoding="utf-8")
        incidents = httpx.get(base + "/api/v1/incidents", headers=h, verify=ca)  # the register the documents cite
        incidents.raise_for_status()
        (out / "hub-incidents.json").write_text(incidents.text, encoding="utf-8")
        profile = seed_and_profile(str(hub_state["db"]), base, ca, state / "hub", build_catalog([dbc]))
        doc = run(load_profile(profile))
        write_json(out / "hub-selfprobe" / "results.json", doc)
        s = doc["summary"]
        if s["findings"]:
            raise InputError(f"the hub's self-probe found {s['findings']} problem(s): see {out / 'hub-selfprobe'}")
        return f"documents uploaded; hub report -> {out / 'hub-report.html'}; self-probe: 0 findings in " \
               f"{s['requests_sent']} requests"

    def platform_discovery() -> str:
        from .catalog_formats import to_json
        from .discovery import sample_platform
        from .discovery.discover import discover
        from .discovery.sources import ReadOnlyDatabase

        db_file = state / "platform.db"  # an input with made-up personal data: not part of the output
        db_file.parent.mkdir(parents=True, exist_ok=True)
        sample_platform.build(f"sqlite:///{db_file}", rows=300)  # made-up people, valid checksums
        # one asset per database: the probed platform's store (made up), and the hub's own
        from api_probes.testplatform import NAME as probed_platform

        notes = []
        for url, platform, name in ((f"sqlite:///{db_file}", probed_platform, "platform-catalog.json"),
                                    (str(hub_state["db"]), "vehicle-ds hub", "hub-catalog.json")):
            db = ReadOnlyDatabase(url, sample=300)
            try:
                doc = discover(list(db.tables()), platform)
            finally:
                db.close()
            (out / name).write_text(to_json(doc), encoding="utf-8")
            d = doc["discovery"]
            notes.append(f"{platform}: {d['tables']} tables, {d['personal_columns']} of {d['columns']} columns with "
                         f"personal data, {d['needs_review']} to review -> {out / name}")
        return "; ".join(notes)

    def report() -> str:
        from .report import build_report, load_inputs, render

        rep = build_report(load_inputs([out / "catalog.json", out / "edge" / "results.json",
                                        out / "probes" / "results.json", out / "models" / "traffic_signs.results.json",
                                        out / "models" / "traffic_signs_trojan.results.json",
                                        out / "models" / "steering.results.json",
                                        out / "hub-selfprobe" / "results.json", out / "datasets" / "results.json",
                                        out / "platform-catalog.json", out / "hub-catalog.json"]))
        for fmt in ("html", "json", "md"):
            (out / f"report.{fmt}").write_text(render(rep, fmt, lang), encoding="utf-8")
        other = "zh" if lang == "en" else "en"  # both languages: the Chinese one is what a regulator reads
        for fmt in ("html", "md"):
            (out / f"report.{other}.{fmt}").write_text(render(rep, fmt, other), encoding="utf-8")
        reports["model"] = rep
        c = rep["summary"]["requirements"]
        return f"{c['pass']} pass, {c['fail']} fail, {c['needs_review']} need review, {c['not_assessed']} not assessed"

    def documents() -> str:
        from .documents import generate, load_incidents
        from .org import load_org

        org_file = out / "org.toml"  # the made-up organisation's profile, kept beside the documents it fills
        org_file.write_text(resources.files("vehicle_ds").joinpath("data/org.example.toml").read_text("utf-8"), "utf-8")
        manifest = generate(reports["model"], load_org(org_file), out / "documents", "zh", org_path=str(org_file),
                            incidents=load_incidents(out / "hub-incidents.json"),
                            incidents_path=str(out / "hub-incidents.json"))
        filled = sum(len(d["filled"]) for d in manifest["documents"])
        todo = sum(len(d["todo"]) for d in manifest["documents"])
        return f"{len(manifest['documents'])} documents, {filled} fields from evidence, {todo} for a person -> " \
               f"{out / 'documents'}"

    reports: dict[str, Any] = {}
    with stack:
        stage("Catalogue the sample vehicle's DBC", catalog)
        stage("Start the hub on loopback", start_hub)
        stage("Replay a generated drive through the edge agent, uploading to the hub", edge)
        stage("Probe the bundled test platform (all flaws on) over TLS on loopback", probes)
        stage("Check the demo driving models (quick suite)", models)
        stage("Upload the documents to the hub and probe the hub itself (must be clean)", hub_documents_and_selfprobe)
        stage("Discover what the platform stores (a sample platform database and the hub's own)", platform_discovery)
        stage("Write the compliance report", report)
        stage("Write the regulator documents (filing form, risk assessment, annual report, incident plan, PIA, "
              "export route)", documents)
    console.print(f"\nReport: [bold]{out / 'report.html'}[/bold]  (also report.md, report.json; the hub's own: "
                  f"{out / 'hub-report.html'})")
    return out / "report.html"
