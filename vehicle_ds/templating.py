"""Jinja2 environment for the package's HTML templates (autoescaped, no external resources)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

_env: Environment | None = None


def render(template: str, **context: Any) -> str:
    global _env
    if _env is None:
        _env = Environment(loader=PackageLoader("vehicle_ds", "templates"),
                           autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    return _env.get_template(template).render(**context)
