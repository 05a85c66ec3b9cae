"""Build an agent from DBCs, a policy and the handling settings (shared by replay and live run)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from vehicle_ds.dbc import load_database
from vehicle_ds.errors import InputError
from vehicle_ds.policy import load_policy

from .agent import Agent
from .batch import BatchBuilder
from .builtin import BuiltinDecoders
from .handling import Handler
from .keys import KeyRing
from .plan import compile_plan, isotp_ids
from .spool import Spool
from .transport import DEFAULT_ISOTP_IDS, TransportConfig


def default_key_file() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "vehicle-ds" / "pseudonym.key"


DbcSpec = tuple[str | None, Path]


def parse_dbc_specs(specs: Sequence[str | Path]) -> list[DbcSpec]:
    """``FILE`` (every channel) or ``CHANNEL=FILE`` (that channel only: ``can0`` for candump, the channel
    number for BLF, ASC and MF4, as python-can reports it, 0-based)."""
    out: list[DbcSpec] = []
    for spec in specs:
        text = str(spec)
        channel, sep, path = text.partition("=")
        if sep and channel and not Path(text).exists():
            out.append((channel, Path(path)))
        else:
            out.append((None, Path(text)))
    return out


def build_agent(dbcs: Sequence[str | Path | DbcSpec], policy_path: str | Path | None, spool_dir: str | Path, *,
                consented: Sequence[str] = (), device: str = "replay", key_file: str | Path | None = None,
                spool_max_mb: float = 1024, batch_records: int = 250_000,
                geofence: str | Path | None = None, seq_base: int = 0) -> tuple[Agent, list]:
    """``seq_base``: the first batch ``seq`` (parallel workers of one device number their batches apart)."""
    policy = load_policy(policy_path)
    specs = [d if isinstance(d, tuple) else (None, Path(d)) for d in dbcs]
    dbs = [load_database(p) for _, p in specs]
    location_leaves = any("location" in p.categories and (pid in consented or not p.consent_required)
                          for pid, p in policy.purposes.items())
    plan = compile_plan(dbs, policy, [ch for ch, _ in specs], location_leaves, decoders=BuiltinDecoders)
    unknown = set(consented) - set(policy.purposes)
    if unknown:
        raise InputError(f"unknown purpose(s) {', '.join(sorted(unknown))}; the policy defines "
                         f"{', '.join(sorted(policy.purposes))}")
    keys = KeyRing.from_file(key_file or default_key_file(),
                             float(policy.settings.get("pseudonym_key_rotation_days", 30)))
    areas = None
    if geofence is not None:
        from vehicle_ds.geofence import load_geofence

        areas = load_geofence(geofence)
    handler = Handler(policy, set(consented), keys, areas)
    builder = BatchBuilder(device, policy.sha256, keys.key_id(keys.period(time.time())))
    builder.seq = seq_base
    spool = Spool(spool_dir, int(spool_max_mb * 1024 * 1024))
    ids, why = isotp_ids(plan.messages, DEFAULT_ISOTP_IDS)
    agent = Agent(plan, handler, builder, spool, batch_records, TransportConfig(isotp_ids=ids))
    agent.isotp_sources = why
    return agent, dbs
