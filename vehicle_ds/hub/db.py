"""Storage through SQLAlchemy: SQLite (embedded default) or PostgreSQL by URL."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class Org(Base):
    __tablename__ = "orgs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    pw_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # engineer | admin
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False: revoked, its tokens stop working


class Enrollment(Base):
    __tablename__ = "enrollments"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    vehicle_ref: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Device(Base):
    __tablename__ = "devices"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    vehicle_ref: Mapped[str] = mapped_column(String(64))
    secret_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_seen: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Batch(Base):
    __tablename__ = "batches"
    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.device_id"))
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    size: Mapped[int] = mapped_column(Integer)
    records: Mapped[int] = mapped_column(Integer)
    messages: Mapped[dict] = mapped_column(JSON)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("org_id", "sha256"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    body: Mapped[dict] = mapped_column(JSON)
    # computed at ingestion, so the report reads summaries, never every document's body
    subject_key: Mapped[str] = mapped_column(String(64), default="", index=True)
    latest: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    summary: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    asset_key: Mapped[str] = mapped_column(String(300), default="", index=True)
    outcomes: Mapped[list | None] = mapped_column(JSON, nullable=True)  # [[check id, status, severity], ...]


class DatasetObservation(Base):
    """What one vehicle contributed to each category of data the platform holds (the dataset facts)."""

    __tablename__ = "dataset_observations"
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    records: Mapped[int] = mapped_column(Integer, default=0)
    regions: Mapped[list] = mapped_column(JSON, default=list)  # 1-degree cells, e.g. "39N116E"
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class KnownId(Base):
    """Frame ids the fleet has already reported as unknown: a new one raises an alert once."""

    __tablename__ = "known_ids"
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    frame_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class Alert(Base):
    """One alert per (asset, cause), deduplicated: a repeat raises ``count`` and ``last_seen``."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("org_id", "dedup_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    dedup_key: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    asset: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(400))
    details: Mapped[dict] = mapped_column(JSON)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    count: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | acknowledged | in_incident | resolved
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Webhook(Base):
    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(128))
    min_severity: Mapped[str] = mapped_column(String(16), default="low")


class SensitiveAreas(Base):
    """An organisation's sensitive areas (GeoJSON polygons): incoming positions are checked against them on
    the hub, whatever the vehicle did."""
    __tablename__ = "sensitive_areas"
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    geojson: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Delivery(Base):
    """An alert on its way to a webhook: retried with backoff until delivered or given up."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"), index=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed
    last_error: Mapped[str] = mapped_column(String(300), default="")


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    title: Mapped[str] = mapped_column(String(400))
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | graded | reported | closed
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    opened_by: Mapped[str] = mapped_column(String(64))
    grade: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    facts: Mapped[dict] = mapped_column(JSON, default=dict)
    notifications: Mapped[dict] = mapped_column(JSON, default=dict)
    summary: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IncidentEvent(Base):
    """The audit trail of an incident: who changed what, when."""

    __tablename__ = "incident_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict] = mapped_column(JSON)


def _private_sqlite_file(url: str) -> None:
    """Create the database file 0600 before SQLite does (it would use the umask, typically 0644), and tighten
    one that exists; SQLite gives its -wal and -shm files the database file's permissions."""
    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or path.startswith(":memory:") or path.startswith("file:"):
        return
    p = Path(path)
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(p, os.O_WRONLY | os.O_CREAT, 0o600))
    for f in (p, p.with_name(p.name + "-wal"), p.with_name(p.name + "-shm")):  # made by an older version, or by hand
        if f.exists() and f.stat().st_mode & 0o077:
            f.chmod(0o600)


def _strict_dumps(obj) -> str:
    """Stored JSON: NaN and infinity refused. A module-level function, not a closure: psycopg keeps its JSON
    dumpers by function and warns of a leak for a closure made anew for every engine."""
    import json

    return json.dumps(obj, allow_nan=False, ensure_ascii=False, separators=(",", ":"))


def _json_codec() -> dict:
    """Strict JSON in (NaN is refused before anything is stored); orjson out when installed: the report reads
    thousands of stored summaries, and orjson parses them several times faster than the standard library."""
    try:
        import orjson
    except ImportError:
        return {"json_serializer": _strict_dumps}
    return {"json_serializer": _strict_dumps, "json_deserializer": orjson.loads}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20,
                               max_overflow=40, **_json_codec())

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record):  # concurrent devices: WAL and a busy timeout instead of "database is locked"
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=FULL")  # an acknowledged batch survives a power loss (the vehicle deleted it)
            cur.close()
    else:
        engine = create_engine(url, pool_size=20, max_overflow=40, pool_pre_ping=True, **_json_codec())
    Base.metadata.create_all(engine)
    return engine


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)

