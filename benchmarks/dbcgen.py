"""Generate large, realistic DBCs for benchmarks: the sample vehicle's messages replicated with new ids
and numbered names, so names, units, multiplexing and comments stay realistic.

Every line that names a message by id (comments, ``BA_ … BO_`` attributes such as the cycle time and the
frame format, value tables, extended multiplexing) is copied with the new id, so a copy keeps its cycle
rate, CAN FD and J1939 framing: without them a 64-byte FD message would become a classic frame longer
than 8 bytes (which the agent must treat as ISO-TP) and every message would run at the default 100 ms.
J1939 copies get distinct PGNs (proprietary B, 0xFF00-0xFFFF), so a copy's PGN never names another."""

from __future__ import annotations

import re
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "dbc" / "sample_vehicle.dbc"
# lines after the messages that name one by its id, and where the id sits
_BY_ID = re.compile(r'^(CM_ (?:BO_|SG_) |BA_ "[^"]+" (?:BO_|SG_) |VAL_ |SG_MUL_VAL_ |SIG_VALTYPE_ |BO_TX_BU_ )(\d+)(\b.*)$')


def big_dbc(n_messages: int, path: Path) -> Path:
    text = SAMPLE.read_text("utf-8")
    blocks = re.findall(r"^BO_ .*?(?=^\s*$)", text, flags=re.MULTILINE | re.DOTALL)
    head = text[: text.index("BO_ ")]
    tail = text[text.rindex(blocks[-1]) + len(blocks[-1]):]
    by_id: dict[int, list[re.Match]] = {}
    rest = []
    for line in tail.splitlines():
        m = _BY_ID.match(line)
        if m:
            by_id.setdefault(int(m.group(2)), []).append(m)
        elif line.strip():
            rest.append(line)
    out, extra = [head], []
    next_id, next_pgn = 0x10, 0xFF00
    for i in range(n_messages):
        block = blocks[i % len(blocks)]
        suffix = f"_{i // len(blocks)}" if i >= len(blocks) else ""
        m = re.match(r"BO_ (\d+) (\w+):", block)
        assert m
        old = int(m.group(1))
        if old & 0x80000000:  # 29-bit: priority 6, a PGN of its own, the original source address
            fid = 0x80000000 | 0x18000000 | next_pgn << 8 | (old & 0xFF)
            next_pgn += 1
        else:
            fid = next_id
            next_id += 1
            if next_id > 0x7FF:
                raise ValueError("more 11-bit messages than ids")
        block = block.replace(m.group(0), f"BO_ {fid} {m.group(2)}{suffix}:", 1)
        out.append(block + "\n")
        extra.extend(f"{x.group(1)}{fid}{x.group(3)}" for x in by_id.get(old, []))
    path.write_text("".join(out) + "\n".join(rest + extra) + "\n", encoding="utf-8")
    return path
