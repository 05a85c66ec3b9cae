"""Load vehicle databases (DBC, ARXML, KCD, SYM) as they exist in the wild.

cantools is the parser. Real DBCs carry defects it refuses (29-bit ids without the extended flag,
names starting with a digit, ``CM_`` statements in the wrong place or without an object type, value
tables for signals that do not exist); the repair pass fixes exactly these while keeping every piece
of information, and records each repair so the catalog says what was changed. canmatrix is the last
resort. Encodings: UTF-8 (with or without BOM), GBK/GB18030 and cp1252 are told apart from the bytes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cantools
from cantools.database import Database
from cantools.database.can import Message

from .classifier import Field
from .errors import InputError
from .results import shown_path

FORMATS = {".dbc": "dbc", ".arxml": "arxml", ".kcd": "kcd", ".sym": "sym"}
EXTENDED_FLAG = 0x80000000


@dataclass
class LoadedDatabase:
    path: str
    sha256: str
    format: str
    encoding: str
    db: Database
    repairs: list[str] = field(default_factory=list)
    loader: str = "cantools"

    @property
    def messages(self) -> list[Message]:
        return list(self.db.messages)

    def source_entry(self) -> dict[str, object]:
        return {"path": shown_path(self.path), "sha256": self.sha256, "format": self.format, "encoding": self.encoding,
                "loader": self.loader, "messages": len(self.db.messages),
                "signals": sum(len(m.signals) for m in self.db.messages), "repairs": list(self.repairs)}


def decode_text(raw: bytes) -> tuple[str, str]:
    """Text and encoding name. GBK is chosen only when every non-ASCII byte pair is a GB2312 pair
    (both bytes >= 0xA1), which a cp1252 file (``°C`` = B0 43) never is."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    high = re.findall(rb"[\x80-\xff][\x00-\xff]?", raw)
    if high and all(len(p) == 2 and p[0] >= 0xA1 and p[1] >= 0xA1 for p in high):
        try:
            return raw.decode("gb18030"), "gbk"
        except UnicodeDecodeError:
            pass
    return raw.decode("cp1252", errors="replace"), "cp1252"


_LINE = re.compile(r"line (\d+)")


def _cantools_error_line(exc: Exception) -> int | None:
    m = _LINE.search(str(exc))
    return int(m.group(1)) if m else None


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:300]


# --- repairs --------------------------------------------------------------------------------------------

_REF_ID = re.compile(
    r'^(\s*(?:BO_|CM_ (?:BO_|SG_)|VAL_|BA_ "[^"]*" (?:BO_|SG_)|SIG_VALTYPE_|SG_MUL_VAL_|BO_TX_BU_|SIG_GROUP_) )(\d+)\b')


def _statements(lines: list[str]) -> Iterator[tuple[int, int]]:
    """(start, end) line spans of ``CM_`` statements, which may run over several lines."""
    i = 0
    while i < len(lines):
        if lines[i].startswith("CM_"):
            j = i
            text = lines[i]
            while not re.search(r'"\s*;\s*$', text) and text.count('"') % 2 == 1 and j + 1 < len(lines):
                j += 1
                text += "\n" + lines[j]
            yield i, j
            i = j + 1
        else:
            i += 1


def repair_dbc(text: str) -> tuple[str, list[str]]:
    """Fix the defects real DBCs carry; returns the text and one line per kind of repair made."""
    notes: list[str] = []
    lines = text.split("\n")

    # 1. 29-bit ids written without the extended flag (bit 31).
    # Ids wider than 29 bits cannot be on a bus: keep the 29 bits that can (unless that collides).
    ext: dict[str, str] = {}
    declared = {int(m.group(1)) for ln in lines if (m := re.match(r"BO_ (\d+) ", ln))}
    wide = 0
    for raw_id in sorted(declared):
        if 0x7FF < raw_id < EXTENDED_FLAG:
            can_id = raw_id & 0x1FFFFFFF
            if can_id != raw_id:
                if (can_id | EXTENDED_FLAG) in declared or any(
                        int(v) == can_id | EXTENDED_FLAG for v in ext.values()):
                    continue
                wide += 1
            ext[str(raw_id)] = str(can_id | EXTENDED_FLAG)
    if ext:
        lines = [_REF_ID.sub(lambda m: m.group(1) + ext.get(m.group(2), m.group(2)), ln) for ln in lines]
        notes.append(f"{len(ext)} message id(s) above 0x7FF marked as 29-bit extended ids")
    if wide:
        notes.append(f"{wide} message id(s) wider than 29 bits cut to their low 29 bits")

    # 2. Message and signal names that start with a digit (not DBC identifiers): prefix "_".
    bad = set()
    for ln in lines:
        m = re.match(r"BO_ \d+ (\d\w*)\s*:", ln) or re.match(r"\s+SG_ (\d\w*)[\s:]", ln)
        if m:
            bad.add(m.group(1))
    if bad:
        pat = re.compile(r"(?<![\w.\"])(" + "|".join(map(re.escape, sorted(bad))) + r")(?![\w.])")
        stmt = re.compile(r"^\s*(BO_|SG_|CM_|VAL_|BA_|SIG_VALTYPE_|SG_MUL_VAL_|BO_TX_BU_|SIG_GROUP_)")
        lines = [pat.sub(r"_\1", ln) if stmt.match(ln) else ln for ln in lines]
        notes.append(f"{len(bad)} name(s) starting with a digit prefixed with '_': {', '.join(sorted(bad))}")

    # 3. Message comments without the BO_ keyword: `CM_ 145 "..."`.
    fixed = [re.sub(r"^CM_ (\d+) \"", r'CM_ BO_ \1 "', ln) for ln in lines]
    if fixed != lines:
        notes.append(f"{sum(a != b for a, b in zip(fixed, lines, strict=True))} message comment(s) without BO_ keyword")
        lines = fixed

    # 4. One-line CM_/VAL_ statements without their terminating ';'.
    unterminated = 0
    for i, ln in enumerate(lines):
        st = ln.rstrip()
        if (st.startswith(("CM_", "VAL_ ")) and st.count('"') % 2 == 0 and not st.endswith(";")
                and st.endswith('"')):
            lines[i] = st + ";"
            unterminated += 1
    if unterminated:
        notes.append(f"{unterminated} CM_/VAL_ statement(s) without terminating ';'")

    # 5. CM_ statements placed before message definitions: move them after the last BO_/SG_ line.
    last_def = max((i for i, ln in enumerate(lines) if re.match(r"\s*(BO_|SG_) ", ln)), default=-1)
    moved: list[str] = []
    keep = [True] * len(lines)
    for start, end in _statements(lines):
        if start < last_def:
            moved.extend(lines[start:end + 1])
            for k in range(start, end + 1):
                keep[k] = False
    if moved:
        lines = [ln for ln, k in zip(lines, keep, strict=True) if k] + moved
        notes.append(f"{len(moved)} comment line(s) moved after the message definitions")
    return "\n".join(lines), notes


def _drop_unused_val(text: str, exc: Exception) -> tuple[str, str] | None:
    entries = re.findall(r"VAL_ (\d+) (\w+)", str(exc))
    if not entries or "unused VAL_" not in str(exc):
        return None
    out = text
    for fid, sig in entries:
        out = re.sub(rf"^VAL_ {fid} {re.escape(sig)} [^;]*;[ \t]*\n?", "", out, flags=re.MULTILINE)
    if out == text:
        return None
    return out, f"{len(entries)} value table(s) for signals that do not exist removed"


# --- loading --------------------------------------------------------------------------------------------

def _cantools(text: str, fmt: str) -> Database:
    return cantools.database.load_string(text, database_format=fmt, strict=False)


def load_database(path: str | Path) -> LoadedDatabase:
    """Load one database file; raises :class:`InputError` naming the file (and line) if it cannot."""
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise InputError(f"unknown database format {p.suffix!r} (expected .dbc, .arxml, .kcd or .sym)",
                         path=str(p))
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(p)) from None
    sha = hashlib.sha256(raw).hexdigest()
    text, encoding = decode_text(raw)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError("empty database file", path=str(p))
    try:
        db = _cantools(text, fmt)
        return _checked(LoadedDatabase(str(p), sha, fmt, encoding, db), text if fmt == "dbc" else None)
    except Exception as first:  # cantools raises several unrelated types; incompleteness is InputError
        if fmt != "dbc":
            raise InputError(f"cannot parse {fmt.upper()}: {_one_line(first)}", path=str(p),
                             line=_cantools_error_line(first)) from None
        repaired, notes = repair_dbc(text)
        for _ in range(4):
            try:
                db = _cantools(repaired, fmt)
                return _checked(LoadedDatabase(str(p), sha, fmt, encoding, db, notes, "cantools+repair"),
                                repaired)
            except Exception as exc:
                dropped = _drop_unused_val(repaired, exc)
                if dropped is None:
                    break
                repaired, note = dropped
                notes.append(note)
        db = _canmatrix_fallback(p, text)
        if db is None:
            raise InputError(f"cannot parse DBC: {_one_line(first)}", path=str(p),
                             line=_cantools_error_line(first)) from None
        return _checked(LoadedDatabase(str(p), sha, fmt, encoding, db, notes, "canmatrix"))


def _checked(loaded: LoadedDatabase, text: str | None = None) -> LoadedDatabase:
    if not loaded.db.messages:
        raise InputError(f"no messages found in this {loaded.format.upper()} file", path=loaded.path)
    if text is not None:
        missing = _first_unparsed_definition(text, loaded.db)
        if missing is not None:
            line, what = missing
            raise InputError(f"cannot parse DBC: {what} was not understood (truncated or malformed)",
                             path=loaded.path, line=line)
    return loaded


def _first_unparsed_definition(text: str, db: Database) -> tuple[int, str] | None:
    """The first BO_/SG_ definition the parser skipped: cantools drops a malformed last statement
    silently, and a signal missing from the catalog is a blind spot, not a detail. Messages are matched by
    name or frame id and signals by name or, where a tool wrote long names (``SystemMessageLongSymbol``,
    ``SystemSignalLongSymbol``: cantools names them by the long form), by their count."""
    by_name = {m.name: m for m in db.messages}
    by_id: dict[int, list[Message]] = {}
    for m in db.messages:
        by_id.setdefault(m.frame_id, []).append(m)
    blocks: list[tuple[Message, list[tuple[int, str]]]] = []  # (message, [(line, SG_ name)])
    current: list[tuple[int, str]] | None = None
    for no, ln in enumerate(text.split("\n"), start=1):
        if ln.lstrip().startswith("BO_ "):
            m = re.match(r"\s*BO_ (\d+) (\w+)\s*:", ln)
            if m is not None and m.group(2) == "VECTOR__INDEPENDENT_SIG_MSG":  # Vector's pseudo-message
                current = None
                continue
            msg = None
            if m is not None:  # by name; a long-named message by its frame id (ids may repeat across buses)
                same_id = by_id.get(int(m.group(1)) & 0x1FFFFFFF, [])
                msg = by_name.get(m.group(2)) or (same_id[0] if len(same_id) == 1 else None)
            if msg is None:
                return no, f"message definition {ln.strip()[:60]!r}"
            current = []
            blocks.append((msg, current))
        elif re.match(r"\s+SG_ ", ln) and current is not None:
            m = re.match(r"\s+SG_ (\w+)", ln)
            current.append((no, m.group(1) if m else ""))
        elif ln.strip() and not ln[0].isspace():
            current = None
    for msg, sigs in blocks:
        names = {s.name for s in msg.signals}
        unknown = [(no, name) for no, name in sigs if name not in names]
        if unknown and len(sigs) != len(msg.signals):
            no, _ = unknown[0]
            return no, f"signal definition {text.split(chr(10))[no - 1].strip()[:60]!r}"
    return None


def _canmatrix_fallback(path: Path, text: str) -> Database | None:
    """Parse with canmatrix and export to DBC text that cantools reads; None if that fails too."""
    import contextlib
    import io
    import logging

    try:
        import canmatrix.formats

        logging.getLogger("canmatrix").setLevel(logging.CRITICAL)
        with contextlib.redirect_stdout(io.StringIO()):  # canmatrix prints parse errors to stdout
            matrices = canmatrix.formats.loads(text, import_type="dbc")
        if not matrices:
            return None
        out = io.BytesIO()
        canmatrix.formats.dump(next(iter(matrices.values())), out, "dbc")
        dbc_text, _ = decode_text(out.getvalue())
        db = _cantools(dbc_text, "dbc")
    except Exception:
        return None
    # canmatrix skips what it cannot parse; a fallback that lost a definition is no success.
    messages = len(re.findall(r"^\s*BO_ (?!\d+ VECTOR__INDEPENDENT_SIG_MSG)", text, flags=re.MULTILINE))
    signals = len(re.findall(r"^\s+SG_ ", text, flags=re.MULTILINE))
    if len(db.messages) != messages or sum(len(m.signals) for m in db.messages) != signals:
        return None
    return db


# --- fields for the classifier ---------------------------------------------------------------------------

def _attrs(obj: object) -> dict[str, str]:
    spec = getattr(obj, "dbc", None)
    if spec is None or not getattr(spec, "attributes", None):
        return {}
    return {name: str(a.value) for name, a in spec.attributes.items()}


def physical_range(sig: object) -> tuple[float | None, float | None]:
    """The signal's declared [min|max], or the range its bits can carry when none is declared."""
    lo, hi = getattr(sig, "minimum", None), getattr(sig, "maximum", None)
    if lo is not None and hi is not None and not (lo == 0 and hi == 0):
        return float(lo), float(hi)
    length, signed = sig.length, sig.is_signed  # type: ignore[attr-defined]
    if getattr(sig, "is_float", False):
        return None, None
    rlo, rhi = (-(2 ** (length - 1)), 2 ** (length - 1) - 1) if signed else (0, 2 ** length - 1)
    scale, offset = float(sig.scale), float(sig.offset)  # type: ignore[attr-defined]
    a, b = rlo * scale + offset, rhi * scale + offset
    return min(a, b), max(a, b)


def fields_of(message: Message) -> Iterator[tuple[object, Field]]:
    """Each signal of ``message`` with the :class:`Field` the classifier sees."""
    senders = tuple(message.senders or ())
    for sig in message.signals:
        lo, hi = physical_range(sig)
        yield sig, Field(
            name=sig.name, message=message.name, unit=sig.unit or "",
            comment=sig.comment or "", context=senders, minimum=lo, maximum=hi,
            multiplexer=bool(sig.is_multiplexer), multiplexed=bool(sig.multiplexer_ids),
            attrs=_attrs(sig),
        )
