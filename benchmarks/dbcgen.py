"""Generate large, realistic DBCs for benchmarks: the sample vehicle's messages replicated with new ids
and numbered names, so names, units, multiplexing and comments stay realistic."""

from __future__ import annotations

import re
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "dbc" / "sample_vehicle.dbc"


def big_dbc(n_messages: int, path: Path) -> Path:
    text = SAMPLE.read_text("utf-8")
    blocks = re.findall(r"^BO_ .*?(?=^\s*$)", text, flags=re.MULTILINE | re.DOTALL)
    head = text[: text.index("BO_ ")]
    out = [head]
    next_id = 0x10
    for i in range(n_messages):
        block = blocks[i % len(blocks)]
        suffix = f"_{i // len(blocks)}" if i >= len(blocks) else ""
        m = re.match(r"BO_ (\d+) (\w+):", block)
        assert m
        ext = int(m.group(1)) & 0x80000000
        fid = (next_id | 0x80000000 | 0x18000000) if ext else next_id
        next_id += 1
        if not ext and next_id > 0x7FF:
            next_id = 0x10  # reuse 11-bit space on a "second bus": ids stay unique per ext flag below
        block = block.replace(m.group(0), f"BO_ {fid} {m.group(2)}{suffix}:", 1)
        out.append(block + "\n")
    path.write_text("".join(out), encoding="utf-8")
    return path
