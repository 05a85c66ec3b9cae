"""Inline SVG charts: no script, no font files, no network; they print as they show."""

from __future__ import annotations

from html import escape

PALETTE = {"fail": "#d9534f", "error": "#8e1b1b", "warn": "#f0ad4e", "needs_review": "#f7d774",
           "general": "#8fb8de", "important": "#e0a030", "core": "#c0392b",
           "none": "#9ccc9c", "pi": "#f2d27a", "sensitive": "#e57373",
           "critical": "#8e1b1b", "high": "#d9534f", "medium": "#f0ad4e", "low": "#5bc0de", "info": "#aab7b8"}
SERIES = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf"]


def _colon(text: str) -> str:
    """A full-width colon after Chinese (GB/T 15834), ": " after anything else."""
    return "：" if any("\u3400" <= ch <= "\u9fff" for ch in text) else ": "


def stacked_bars(rows: list[tuple[str, dict[str, int]]], keys: list[str], labels: dict[str, str],
                 title: str, width: int = 640) -> str:
    """Horizontal stacked bars: one row per item, one segment per key."""
    if not rows:
        return ""
    row_h, left, top = 22, 270, 28
    total_max = max(sum(v.values()) for _, v in rows) or 1
    scale = (width - left - 60) / total_max
    # legend entries laid out in rows that fit the width (CJK labels are about twice as wide)
    legend, lx, ly = [], 0, 0
    for k in keys:
        text = labels.get(k, k)
        span = 14 + sum(12 if ord(ch) > 0x2E80 else 6.5 for ch in text) + 18
        if lx and lx + span > width:
            lx, ly = 0, ly + 16
        legend.append((k, text, lx, ly))
        lx += span
    h = top + row_h * len(rows) + 16 + ly + 16
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" width="{width}" '
           f'height="{h}" viewBox="0 0 {width} {h}" class="chart">',
           f'<text x="0" y="16" font-size="13" font-weight="600">{escape(title)}</text>']
    for r, (name, values) in enumerate(rows):
        y = top + r * row_h
        short = name if len(name) <= 42 else name[:40] + "…"
        out.append(f'<text x="{left - 6}" y="{y + 14}" font-size="11" text-anchor="end">{escape(short)}'
                   f'<title>{escape(name)}</title></text>')
        x = left
        for k in keys:
            v = values.get(k, 0)
            if v:
                w = max(v * scale, 1)
                out.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{PALETTE.get(k, "#999")}">'
                           f'<title>{escape(labels.get(k, k))}{_colon(labels.get(k, k))}{v}</title></rect>')
                x += w
        out.append(f'<text x="{x + 4:.1f}" y="{y + 14}" font-size="11">{sum(values.values())}</text>')
    base = top + row_h * len(rows) + 8
    for k, text, x0, y0 in legend:
        out.append(f'<rect x="{x0:.0f}" y="{base + y0}" width="10" height="10" fill="{PALETTE.get(k, "#999")}"/>'
                   f'<text x="{x0 + 14:.0f}" y="{base + y0 + 9}" font-size="11">{escape(text)}</text>')
    out.append("</svg>")
    return "".join(out)


def line_chart(series: dict[str, list[float]], xs: list[float], title: str, x_label: str, y_label: str,
               width: int = 640, height: int = 300, y_max: float | None = None) -> str:
    if not series or not xs:
        return ""
    left, right, top, bottom = 50, 150, 28, 40
    pw, ph = width - left - right, height - top - bottom
    ymax = y_max if y_max is not None else max(max(v) for v in series.values()) or 1.0
    xmin, xmax = min(xs), max(xs)
    xspan = (xmax - xmin) or 1.0

    def px(x: float) -> float:
        return left + (x - xmin) / xspan * pw

    def py(y: float) -> float:
        return top + ph - (y / ymax) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" class="chart">',
           f'<text x="0" y="16" font-size="13" font-weight="600">{escape(title)}</text>',
           f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#555"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#555"/>',
           f'<text x="{left + pw / 2}" y="{height - 6}" font-size="11" text-anchor="middle">{escape(x_label)}</text>',
           f'<text x="12" y="{top + ph / 2}" font-size="11" transform="rotate(-90 12 {top + ph / 2})" '
           f'text-anchor="middle">{escape(y_label)}</text>']
    for i in range(5):
        yv = ymax * i / 4
        out.append(f'<text x="{left - 4}" y="{py(yv) + 4:.1f}" font-size="10" text-anchor="end">{yv:.2g}</text>')
    for x in xs:
        out.append(f'<text x="{px(x):.1f}" y="{top + ph + 14}" font-size="10" text-anchor="middle">{x:g}</text>')
    for n, (name, ys) in enumerate(series.items()):
        color = SERIES[n % len(SERIES)]
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=False))
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{pts}">'
                   f'<title>{escape(name)}</title></polyline>')
        out.append(f'<text x="{left + pw + 8}" y="{top + 12 + 13 * n}" font-size="10" fill="{color}">{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)
