"""Administration without the API: create organisations, users and enrollment codes in the database."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select

from .db import Enrollment, Org, User, make_engine, now, sessions
from .security import code_digest, hash_secret


def add_user(db_url: str, org: str, username: str, password: str, role: str = "engineer") -> None:
    if role not in ("engineer", "admin"):
        raise ValueError("role is engineer or admin")
    with sessions(make_engine(db_url))() as s:
        o = s.scalar(select(Org).where(Org.name == org))
        if o is None:
            o = Org(name=org)
            s.add(o)
            s.flush()
        s.add(User(username=username, pw_hash=hash_secret(password), role=role, org_id=o.id))
        s.commit()


def add_enrollment(db_url: str, org: str, vehicle_ref: str, hours: int = 24) -> str:
    with sessions(make_engine(db_url))() as s:
        o = s.scalar(select(Org).where(Org.name == org))
        if o is None:
            raise ValueError(f"no organisation {org!r}")
        code = secrets.token_urlsafe(24)
        s.add(Enrollment(code_hash=code_digest(code), org_id=o.id, vehicle_ref=vehicle_ref,
                         expires_at=now() + dt.timedelta(hours=hours)))
        s.commit()
        return code
