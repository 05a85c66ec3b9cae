"""``vehicle-ds demo``: the whole pipeline on embedded defaults, offline, in about a minute.

Stages run as a user would run them (each writes the document the next one reads). Components are
imported only here, inside the stage that needs them."""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from rich.console import Console

from .errors import InputError


def sample_dbc() -> Path:
    repo = Path(__file__).resolve().parent.parent / "dbc" / "sample_vehicle.dbc"
    if repo.exists():
        return repo
    return Path(str(resources.files("vehicle_ds").joinpath("data/sample_vehicle.dbc")))


def run_demo(out: Path, frames: int = 200_000, lang: str = "en") -> Path:
    console = Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    dbc = sample_dbc()

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

    def edge() -> str:
        try:
            from edge.cli import main as edge_main
            from edge.simulate import write_log
        except ImportError as exc:
            raise InputError(f"the demo needs the edge agent: pip install 'vehicle-ds[all]' ({exc.name} missing)") from None
        log = out / "drive.log"
        write_log([dbc], log, frames, seed=7)
        edge_main(["replay", str(log), "--dbc", str(dbc), "--out", str(out / "edge"),
                   "--key-file", str(out / "pseudonym.key"), "--purpose", "navigation", "--device", "demo-gw"])
        return f"{frames:,} frames -> {out / 'edge'}"

    def probes() -> str:
        try:
            from api_probes.profile import load_profile
            from api_probes.runner import run
            from api_probes.testplatform import FLAWS, make_tls, platform, write_profile
        except ImportError as exc:
            raise InputError(f"the demo needs the API probes: pip install 'vehicle-ds[all]' ({exc.name} missing)") from None
        from .results import write_json

        target = out / "probe-target"
        tls = make_tls(target)
        with platform(set(FLAWS), tls) as (app, url, http_port):  # every flaw on: the probes must find them
            doc = run(load_profile(write_profile(target, app, url, http_port, tls)))
        write_json(out / "probes" / "results.json", doc)
        s = doc["summary"]
        return f"{s['findings']} findings in {s['requests_sent']} requests ({s['elapsed_s']}s) -> {out / 'probes'}"

    def models() -> str:
        try:
            import numpy as np

            from model_checks.cli import main as models_main
            from model_checks.demo import SIGNS_MODEL, STEERING_MODEL
            from model_checks.demo.render import roads, signs
        except ImportError as exc:
            raise InputError(f"the demo needs the model checks: pip install 'vehicle-ds[all]' ({exc.name} missing)") from None
        data = out / "models"
        data.mkdir(exist_ok=True)
        x, y = signs(200, 2027)
        np.savez(data / "signs.npz", x=x, y=y)
        xr, yr = roads(120, 2028)
        np.savez(data / "roads.npz", x=xr, y=yr)
        models_main(["--model", str(SIGNS_MODEL), "--data", str(data / "signs.npz"), "--task", "classification",
                     "--suite", "quick", "--seed", "7", "--out", str(data / "traffic_signs.results.json")])
        models_main(["--model", str(STEERING_MODEL), "--data", str(data / "roads.npz"), "--task", "regression",
                     "--suite", "quick", "--seed", "7", "--out", str(data / "steering.results.json")])
        return f"quick suite on the traffic-sign classifier and the steering regressor -> {data}"

    def report() -> str:
        from .report import build_report, load_inputs, render

        rep = build_report(load_inputs([out / "catalog.json", out / "edge" / "results.json",
                                        out / "probes" / "results.json", out / "models" / "traffic_signs.results.json",
                                        out / "models" / "steering.results.json"]))
        for fmt in ("html", "json", "md"):
            (out / f"report.{fmt}").write_text(render(rep, fmt, lang), encoding="utf-8")
        c = rep["summary"]["requirements"]
        return f"{c['pass']} pass, {c['fail']} fail, {c['needs_review']} need review, {c['not_assessed']} not assessed"

    stage("Catalogue the sample vehicle's DBC", catalog)
    stage("Replay a generated drive through the edge agent", edge)
    stage("Probe the bundled test platform (all flaws on) over TLS on loopback", probes)
    stage("Check the demo driving models (quick suite)", models)
    stage("Write the compliance report", report)
    console.print(f"\nReport: [bold]{out / 'report.html'}[/bold]  (also report.md, report.json)")
    return out / "report.html"
