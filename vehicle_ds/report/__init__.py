"""The one compliance report: catalogs and results documents in, HTML / JSON / Markdown out, zh and en.

It reads documents only (never component objects), so results produced anywhere can be reported here.
"""

from __future__ import annotations

from .build import REPORT_SCHEMA, build_report
from .inputs import load_inputs
from .render import render

__all__ = ["REPORT_SCHEMA", "build_report", "load_inputs", "render"]
