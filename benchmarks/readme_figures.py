"""The README's demo figures, made from a demo's output folder (never typed by hand).

    vehicle-ds demo --out demo-out && python benchmarks/readme_figures.py demo-out [--write]

Prints the block between ``<!-- demo-figures -->`` and ``<!-- /demo-figures -->``; ``--write`` puts it into
README.md. tests/core/test_demo_outputs.py makes the block from its own demo run and fails when the
README's differs. Only figures that do not depend on the machine (verdicts and counts, no timings)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

START, END = "<!-- demo-figures -->", "<!-- /demo-figures -->"
README = Path(__file__).resolve().parents[1] / "README.md"


def _json(path: Path) -> dict:
    return json.loads(path.read_text("utf-8"))


def figures(out: Path) -> str:
    """The markdown table of what the demo produced."""
    catalog = _json(out / "catalog.json")
    handling = Counter(e["handling"] for e in catalog["entries"])
    edge = _json(out / "edge" / "results.json")["summary"]
    probes = _json(out / "probes" / "results.json")
    failed = sum(c["status"] == "fail" for c in probes["checks"])
    trojan = {c["id"]: c["status"] for c in _json(out / "models" / "traffic_signs_trojan.results.json")["checks"]}
    clean = {c["id"]: c["status"] for c in _json(out / "models" / "traffic_signs.results.json")["checks"]}
    selfprobe = _json(out / "hub-selfprobe" / "results.json")["summary"]
    report = _json(out / "report.json")["summary"]["requirements"]
    docs = _json(out / "documents" / "documents.json")["documents"]
    rows = [
        ("catalogue", f"{len(catalog['entries'])} signals: " + ", ".join(f"{n} {h}" for h, n in sorted(handling.items()))),
        ("edge replay", f"{edge['frames_total']:,} frames, {edge['frames_decoded']:,} decoded, "
                        f"{edge['uplink']['records']:,} records out"),
        ("API probes (every flaw on)", f"{probes['summary']['findings']} root-cause findings, {failed} failed checks"),
        ("backdoor screening (trigger reconstruction, STRIP)",
         f"trojaned model {trojan.get('models.backdoor.trigger_reconstruction')}, {trojan.get('models.backdoor.strip')}; "
         f"clean model {clean.get('models.backdoor.trigger_reconstruction')}, {clean.get('models.backdoor.strip')}"),
        ("hub self-probe", f"{selfprobe['findings']} findings"),
        ("report", ", ".join(f"{n} {s}" for s, n in report.items()) + " (requirement rows per asset)"),
        ("documents", f"{len(docs)} documents, {sum(len(d['filled']) for d in docs)} fields from evidence, "
                      f"{sum(len(d['todo']) for d in docs)} for a person (待填写)"),
    ]
    return "\n".join([START, "| stage | what the demo produced |", "|---|---|",
                      *(f"| {a} | {b} |" for a, b in rows), END])


def readme_block(text: str) -> str:
    return text[text.index(START):text.index(END) + len(END)]


def main(argv: list[str]) -> None:
    block = figures(Path(argv[0]))
    if "--write" in argv:
        text = README.read_text("utf-8")
        README.write_text(text.replace(readme_block(text), block), "utf-8")
    print(block)


if __name__ == "__main__":
    main(sys.argv[1:])
