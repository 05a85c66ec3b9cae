"""Where discovery reads: databases through SQLAlchemy (PostgreSQL, SQLite; MySQL where its driver is
installed) and files (CSV, JSON lines, Parquet). Safe by construction:

- every database connection is read-only: PostgreSQL ``SET TRANSACTION READ ONLY`` (a write fails in the
  server), SQLite ``PRAGMA query_only`` (a write fails in the library), MySQL ``START TRANSACTION READ
  ONLY``; the transaction is rolled back at the end whatever happened;
- a statement timeout bounds each query (PostgreSQL ``statement_timeout``, SQLite a progress handler);
- a table is sampled, never fully scanned unless asked: PostgreSQL ``TABLESAMPLE SYSTEM`` on large tables,
  otherwise the first rows by key; row counts come from the planner's statistics where a count would scan;
- credentials come from the URL the user gives (from the environment or a file, as they choose) and are
  never written into the output: sources are named without them.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..results import shown_path


@dataclass
class Table:
    source: str  # the source without credentials: "postgresql://host/db", "file:/path/x.csv"
    name: str  # schema.table, or the file name
    columns: list[str]
    rows: list[tuple[Any, ...]]  # the sample
    row_count: int | None  # exact or estimated; None when unknown
    row_count_exact: bool


def redact(url: str) -> str:
    """A database URL without its password (and user); a file database's path as outputs show paths."""
    from sqlalchemy.engine import make_url

    try:
        u = make_url(url)
    except Exception:  # sqlalchemy raises several kinds for a malformed URL: none of its text is shown
        return "database"
    if u.get_backend_name() == "sqlite" and u.database:
        return f"sqlite:///{shown_path(u.database)}"
    return u.set(username=None, password=None).render_as_string(hide_password=True)


class ReadOnlyDatabase:
    def __init__(self, url: str, sample: int = 1000, timeout_s: float = 10.0, full_scan: bool = False) -> None:
        try:
            from sqlalchemy import create_engine
        except ImportError:
            raise InputError("discovering databases needs SQLAlchemy: pip install 'vehicle-ds[discover]'") from None

        self.url, self.sample, self.timeout_s, self.full_scan = url, sample, timeout_s, full_scan
        try:
            self.engine = create_engine(url)
            self.conn = self.engine.connect()
        except Exception as exc:
            raise InputError(f"cannot connect to {redact(url)}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                             ) from None
        self.dialect = self.engine.dialect.name
        self._begin_read_only()

    def _begin_read_only(self) -> None:
        from sqlalchemy import text

        c = self.conn
        if self.dialect == "postgresql":
            c.exec_driver_sql("BEGIN")
            c.exec_driver_sql("SET TRANSACTION READ ONLY")
            c.execute(text("SELECT set_config('statement_timeout', :t, true)"), {"t": f"{int(self.timeout_s * 1000)}"})
        elif self.dialect == "sqlite":
            raw = c.connection.dbapi_connection
            raw.execute("PRAGMA query_only = ON")
            deadline = {"t": 0.0}

            def guard() -> int:  # non-zero aborts the running statement
                return 1 if deadline["t"] and time.monotonic() > deadline["t"] else 0

            raw.set_progress_handler(guard, 10_000)
            self._deadline = deadline
            c.exec_driver_sql("BEGIN")
        elif self.dialect in ("mysql", "mariadb"):
            c.exec_driver_sql(f"SET SESSION MAX_EXECUTION_TIME={int(self.timeout_s * 1000)}")
            c.exec_driver_sql("START TRANSACTION READ ONLY")
        else:
            raise InputError(f"discovery supports PostgreSQL, SQLite and MySQL, not {self.dialect}")

    def _run(self, sql, params: dict | None = None):
        if self.dialect == "sqlite":
            self._deadline["t"] = time.monotonic() + self.timeout_s
        try:
            return self.conn.execute(sql, params or {})
        finally:
            if self.dialect == "sqlite":
                self._deadline["t"] = 0.0

    def tables(self) -> Iterator[Table]:
        from sqlalchemy import MetaData, func, select, text
        from sqlalchemy import Table as SaTable

        insp = __import__("sqlalchemy").inspect(self.conn)
        schemas = [None] if self.dialect == "sqlite" else [s for s in insp.get_schema_names()
                                                           if s not in ("information_schema", "pg_catalog", "pg_toast")
                                                           and not s.startswith("pg_")]
        for schema in schemas:
            for name in insp.get_table_names(schema=schema):
                t = SaTable(name, MetaData(), autoload_with=self.conn, schema=schema)
                cols = [c.name for c in t.columns]
                count, exact = self._count(t, schema, name)
                q = select(*t.columns)
                if self.dialect == "postgresql" and not self.full_scan and count and count > 20 * self.sample:
                    pct = max(0.01, min(100.0, 100.0 * 4 * self.sample / count))
                    q = select(*t.columns).select_from(t.tablesample(func.system(pct)))
                if not self.full_scan:
                    q = q.limit(self.sample)
                rows = [tuple(r) for r in self._run(q)]
                full = f"{schema}.{name}" if schema and schema not in ("main", "public") else name
                yield Table(redact(self.url), full, cols, rows, count, exact)
        _ = text

    def _count(self, t, schema: str | None, name: str) -> tuple[int | None, bool]:
        from sqlalchemy import func, select, text

        if self.dialect == "postgresql":
            est = self._run(text("SELECT reltuples::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                 "WHERE c.relname = :t AND n.nspname = :s"), {"t": name, "s": schema or "public"}).scalar()
            if est is not None and est >= 0 and not self.full_scan:
                return int(est), False
        elif self.dialect == "sqlite" and not self.full_scan:
            try:  # the largest rowid: no scan (tables without rowid fall back to a count)
                est = self._run(text(f'SELECT max(rowid) FROM "{name}"')).scalar()
                return (int(est) if est is not None else 0), False
            except Exception:
                pass
        return int(self._run(select(func.count()).select_from(t)).scalar() or 0), True

    def close(self) -> None:
        try:
            self.conn.rollback()  # nothing is ever committed
        finally:
            self.conn.close()
            self.engine.dispose()


def read_files(path: Path, sample: int = 1000) -> Iterator[Table]:
    """CSV, JSON lines and Parquet files: a file, a folder, or a glob."""
    if any(ch in str(path) for ch in "*?["):
        files = sorted(Path().glob(str(path))) if not path.is_absolute() else sorted(Path("/").glob(str(path)[1:]))
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".csv", ".jsonl", ".ndjson", ".parquet"))
    elif path.exists():
        files = [path]
    else:
        raise InputError("no such file or folder", path=str(path))
    for f in files:
        suffix = f.suffix.lower()
        try:
            if suffix == ".csv":
                with open(f, newline="", encoding="utf-8-sig") as fh:
                    reader = csv.reader(fh)
                    header = next(reader, [])
                    rows = [tuple(r) for _, r in zip(range(sample), reader, strict=False)]
                yield Table(f"file:{shown_path(f)}", f.name, header, rows, None, False)
            elif suffix in (".jsonl", ".ndjson"):
                records = []
                with open(f, encoding="utf-8") as fh:
                    for n, line in enumerate(fh, 1):
                        if len(records) >= sample:
                            break
                        if line.strip():
                            try:
                                records.append(json.loads(line))
                            except ValueError:
                                raise InputError(f"line {n} is not JSON", path=str(f)) from None
                cols = list(dict.fromkeys(k for r in records if isinstance(r, dict) for k in r))
                rows = [tuple(r.get(c) if isinstance(r, dict) else None for c in cols) for r in records]
                yield Table(f"file:{shown_path(f)}", f.name, cols, rows, None, False)
            elif suffix == ".parquet":
                try:
                    import pyarrow.parquet as pq
                except ImportError:
                    raise InputError("reading Parquet needs pyarrow: pip install 'vehicle-ds[discover]'",
                                     path=str(f)) from None
                pf = pq.ParquetFile(f)
                batch = next(pf.iter_batches(batch_size=sample), None)
                cols = pf.schema_arrow.names
                rows = list(zip(*(batch.column(i).to_pylist() for i in range(len(cols))), strict=True)) if batch else []
                yield Table(f"file:{shown_path(f)}", f.name, cols, rows, pf.metadata.num_rows, True)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise InputError(f"cannot read: {exc}", path=str(f)) from None
