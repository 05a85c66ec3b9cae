"""Personal data in platform stores: the one registry's detectors (``vehicle_ds.evidence.detectors``) run
over a column's sampled values joined into one text (one regular-expression pass per detector, not one
match call per value); every candidate is validated (checksum, check digit, range), so a near miss — a
wrong check digit — is not a hit.

Names and addresses have no checksum: they are reported with a confidence and are never decisive alone.
Binary values are recognised by their magic numbers (images, audio: faces and voices)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..evidence.detectors import DETECTORS, Detector, luhn

__all__ = ["DETECTORS", "ColumnScan", "Detector", "luhn", "media_kind", "scan_values"]

SEP = "\x00"  # joins a column's values; matched by no pattern (not even \s), so no match spans two values

_MAGIC = ((b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"RIFF", "riff"), (b"ID3", "mp3"),
          (b"#!AMR", "amr"), (b"fLaC", "flac"), (b"OggS", "ogg"), (b"GIF8", "gif"))


def media_kind(value: bytes) -> str | None:
    for magic, kind in _MAGIC:
        if value[:len(magic)] == magic:
            if kind == "riff":
                return "wav" if value[8:12] == b"WAVE" else "webp" if value[8:12] == b"WEBP" else None
            return kind
    return None


@dataclass
class ColumnScan:
    """What the detectors found in one column's sample."""

    values: int = 0
    hits: dict[str, int] | None = None  # detector -> values with at least one valid match
    examples: dict[str, str] | None = None  # detector -> one example, masked
    media: dict[str, int] | None = None


def mask(text: str, keep: int = 3) -> str:
    """Never a raw value: the first and last characters around the length."""
    if len(text) <= 2 * keep:
        return "*" * len(text)
    return f"{text[:keep]}{'*' * (len(text) - 2 * keep)}{text[-keep:]}"


def scan_values(values: Sequence[object]) -> ColumnScan:
    """Run every detector over a sample of values (strings, numbers, bytes); counts are per value."""
    out = ColumnScan(values=len(values), hits={}, examples={}, media={})
    texts: list[str] = []
    for v in values:
        if v is None:
            continue
        if isinstance(v, (bytes, bytearray, memoryview)):
            kind = media_kind(bytes(v[:16]))
            if kind:
                out.media[kind] = out.media.get(kind, 0) + 1
            continue
        texts.append(str(v).replace(SEP, " "))
    if not texts:
        return out
    joined = SEP.join(texts)
    starts = [0]
    for t in texts[:-1]:
        starts.append(starts[-1] + len(t) + 1)
    import bisect

    for d in DETECTORS:
        rows: set[int] = set()
        for m in d.pattern.finditer(joined):
            s = m.group(0)
            if d.accepts(s):
                row = bisect.bisect_right(starts, m.start()) - 1
                if row not in rows:
                    rows.add(row)
                    if d.id not in out.examples:
                        out.examples[d.id] = mask(s, d.mask_keep)
        if rows:
            out.hits[d.id] = len(rows)
    return out


def scan_values_baseline(values: Sequence[object]) -> dict[str, int]:
    """The benchmark's baseline: every detector's pattern matched value by value (what a plain script does)."""
    hits: dict[str, int] = {}
    for v in values:
        if v is None or isinstance(v, (bytes, bytearray, memoryview)):
            continue
        t = str(v)
        for d in DETECTORS:
            if d.finds(t):
                hits[d.id] = hits.get(d.id, 0) + 1
    return hits
