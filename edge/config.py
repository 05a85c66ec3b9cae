"""``edge.toml``: the live agent's configuration (see ``edge/edge.toml.example``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vehicle_ds.errors import InputError
from vehicle_ds.tomlfile import read_toml


@dataclass
class BusConfig:
    interface: str
    channel: str
    bitrate: int | None = None
    fd: bool = False
    data_bitrate: int | None = None
    dbc: list[Path] = field(default_factory=list)  # DBCs of this bus only
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class EdgeConfig:
    device_id: str
    vehicle: str | None
    dbc: list[Path]
    policy: Path | None
    spool_dir: Path
    results: Path
    key_file: Path
    purposes: list[str]
    buses: list[BusConfig]

    def dbc_specs(self) -> list[tuple[str | None, Path]]:
        """Agent-wide DBCs on every bus, a bus's own DBCs on that bus (named interface:channel)."""
        return [(None, p) for p in self.dbc] + [(f"{b.interface}:{b.channel}", p) for b in self.buses for p in b.dbc]
    spool_max_mb: float = 256
    batch_seconds: float = 5.0
    micro_batch_ms: float = 50.0
    uplink_url: str | None = None
    token: str | None = None
    device_credentials: Path | None = None
    tls_verify: bool | str = True
    log_format: str = "json"
    geofence: Path | None = None  # GeoJSON sensitive areas: positions inside never leave
    snapshot_seconds: float = 60.0  # results.json rewritten this often while running (0: only at shutdown)


def _list(v: Any) -> list:
    return v if isinstance(v, list) else [v]


def load_config(path: str | Path) -> EdgeConfig:
    p = Path(path)
    raw = read_toml(p, "edge config")
    base = p.parent

    def rel(v: str | None) -> Path | None:
        return None if v is None else (base / v if not Path(v).is_absolute() else Path(v))

    agent = raw.get("agent", {})
    try:
        buses = [BusConfig(interface=b["interface"], channel=str(b["channel"]), bitrate=b.get("bitrate"),
                           fd=bool(b.get("fd", False)), data_bitrate=b.get("data_bitrate"),
                           dbc=[rel(d) for d in _list(b.get("dbc", []))],
                           extra={k: v for k, v in b.items()
                                  if k not in ("interface", "channel", "bitrate", "fd", "data_bitrate", "dbc")})
                 for b in raw.get("bus", [])]
        if not buses:
            raise KeyError("[[bus]]")
        if "dbc" not in agent and not any(b.dbc for b in buses):
            raise KeyError("dbc ([agent] dbc or [[bus]] dbc)")
        dbc = [rel(d) for d in _list(agent.get("dbc", []))]
        uplink = raw.get("uplink", {})
        token = uplink.get("token")
        if uplink.get("token_file"):
            token = rel(uplink["token_file"]).read_text().strip()
        return EdgeConfig(
            device_id=str(agent.get("device_id", "gateway")),
            vehicle=str(agent["vehicle"]) if agent.get("vehicle") else None, dbc=dbc, policy=rel(agent.get("policy")),
            spool_dir=rel(agent.get("spool_dir", "spool")), results=rel(agent.get("results", "results.json")),
            key_file=rel(agent.get("key_file", "pseudonym.key")), purposes=list(agent.get("purposes", [])),
            buses=buses, spool_max_mb=float(agent.get("spool_max_mb", 256)),
            batch_seconds=float(agent.get("batch_seconds", 5.0)),
            micro_batch_ms=float(agent.get("micro_batch_ms", 50.0)),
            uplink_url=uplink.get("url"), token=token, tls_verify=uplink.get("tls_verify", True),
            device_credentials=rel(uplink.get("device_credentials")),
            log_format=str(agent.get("log_format", "json")), geofence=rel(agent.get("geofence")),
            snapshot_seconds=float(agent.get("snapshot_seconds", 60.0)),
        )
    except KeyError as exc:
        raise InputError(f"missing setting {exc.args[0]}", path=str(p)) from None
    except OSError as exc:
        raise InputError(f"cannot read {exc.filename}: {exc.strerror}", path=str(p)) from None
