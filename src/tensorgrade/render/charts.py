"""Inline SVG charts in pure Python: a histogram and a horizontal bar chart.

Every label is XML-escaped here; the result is returned as `markupsafe.Markup`
so an autoescaping template inserts it as markup.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

BAR = "#0b5394"


def _e(s) -> str:
    return escape(str(s), quote=True)


def count_ticks(top: int, most: int = 5) -> tuple[int, int]:
    """(step, number of steps) for an axis of counts: whole-number steps, at most `most`, reaching `top`."""
    top = max(1, int(top))
    step = max(1, -(-top // most))
    return step, -(-top // step)


def histogram(values: list[float], *, lo: float = 0.0, hi: float = 100.0, bins: int = 10,
              width: int = 640, height: int = 240, xlabel: str = "score (%)", title: str = "") -> Markup:
    """Counts of `values` in `bins` equal bins from lo to hi (hi included in the last bin)."""
    bins = max(1, bins)
    span = (hi - lo) or 1.0
    counts = [0] * bins
    for v in values:
        i = int((min(max(v, lo), hi) - lo) / span * bins)
        counts[min(i, bins - 1)] += 1
    step, ticks = count_ticks(max(counts))
    top = step * ticks
    left, right, tops, bottom = 40, 10, 24 if title else 10, 40
    pw, ph = width - left - right, height - tops - bottom
    bw = pw / bins
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{_e(title or "histogram")}">']
    if title:
        parts.append(f'<text x="{left}" y="15" font-size="13" font-weight="bold">{_e(title)}</text>')
    for k in range(ticks + 1):  # horizontal grid lines at whole numbers of students
        y = tops + ph - ph * k / ticks
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{left - 5}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{step * k}</text>')
    for i, n in enumerate(counts):
        h = ph * n / top
        x = left + i * bw
        parts.append(f'<rect x="{x + 1:.1f}" y="{tops + ph - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" '
                     f'fill="{BAR}"><title>{lo + i * span / bins:g}–{lo + (i + 1) * span / bins:g}: {n}</title></rect>')
        if n:
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{tops + ph - h - 3:.1f}" font-size="10" '
                         f'text-anchor="middle">{n}</text>')
    for i in range(bins + 1):
        x = left + i * bw
        parts.append(f'<text x="{x:.1f}" y="{tops + ph + 14}" font-size="10" text-anchor="middle">'
                     f'{lo + i * span / bins:g}</text>')
    parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{tops + ph}" y2="{tops + ph}" stroke="#333"/>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 6}" font-size="11" text-anchor="middle">{_e(xlabel)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(items: list[tuple[str, float]], *, maximum: float = 100.0, width: int = 720, unit: str = "%",
              title: str = "", label_width: int = 320, row: int = 18) -> Markup:
    """One horizontal bar per (label, value); values from 0 to `maximum`."""
    tops = 24 if title else 6
    height = tops + row * len(items) + 24
    left = label_width
    pw = width - left - 50
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{_e(title or "bar chart")}">']
    if title:
        parts.append(f'<text x="0" y="15" font-size="13" font-weight="bold">{_e(title)}</text>')
    for k in range(5):
        x = left + pw * k / 4
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{tops}" y2="{tops + row * len(items)}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{x:.1f}" y="{tops + row * len(items) + 14}" font-size="10" '
                     f'text-anchor="middle">{maximum * k / 4:g}{_e(unit)}</text>')
    for i, (label, value) in enumerate(items):
        y = tops + i * row
        w = pw * max(0.0, min(value, maximum)) / (maximum or 1)
        color = "#1a7f37" if value >= 0.8 * maximum else ("#9a6700" if value >= 0.5 * maximum else "#cf222e")
        short = label if len(label) <= 48 else label[:47] + "…"
        parts.append(f'<text x="{left - 6}" y="{y + row * 0.7:.1f}" font-size="11" text-anchor="end">{_e(short)}'
                     f'<title>{_e(label)}</title></text>')
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 4}" fill="{color}">'
                     f'<title>{_e(label)}: {value:.0f}{_e(unit)}</title></rect>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + row * 0.7:.1f}" font-size="10">{value:.0f}{_e(unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
