"""What the hub's API accepts and how its OpenAPI describes errors and raw bodies."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from .ingest import BATCH_TYPES

ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


def _json_int(v: object) -> object:
    """An integer as JSON Schema reads one: a number with no fraction (685 or 685.0), never a string or a
    boolean (pydantic's lax mode would take "685" and true)."""
    if isinstance(v, (bool, str, bytes)):
        raise ValueError("an integer is a JSON number")
    return v


JsonInt = Annotated[int, BeforeValidator(_json_int)]


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class EnrollmentRequest(BaseModel):
    vehicle_ref: str = Field(min_length=1, max_length=64, pattern=ID)
    valid_hours: JsonInt = Field(default=24, ge=1, le=720)


class Enroll(BaseModel):
    code: str = Field(min_length=8, max_length=128)
    device_id: str = Field(min_length=3, max_length=64, pattern=ID)


class DeviceToken(BaseModel):
    device_id: str = Field(min_length=3, max_length=64)
    device_secret: str = Field(min_length=16, max_length=128)


class Error(BaseModel):
    detail: Any


_ERROR_TEXT = {400: "bad request", 401: "authentication required or token invalid/revoked", 403: "not allowed",
               404: "not found (or not yours)", 409: "conflict", 413: "body too large", 415: "wrong Content-Type",
               422: "invalid input", 429: "rate limit (see Retry-After)", 503: "busy (see Retry-After)"}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of the error codes a route can answer."""
    return {c: {"model": Error, "description": _ERROR_TEXT[c]} for c in codes}


BATCH_BODY = {"requestBody": {"required": True, "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                                             for t in BATCH_TYPES}}}
DOCUMENT_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "description": "a vehicle-ds results (@1/@2) or catalog document",
    "required": ["schema"], "properties": {"schema": {"type": "string"}}}}}}}
