"""Server-side SVG bar charts: no JavaScript library, no CDN, readable without scripts and by
screen readers (``role="img"`` with a ``<title>`` and a ``<desc>`` listing every value).

Horizontal bars, one per row, so long Chinese region names fit on the left.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

LABEL_WIDTH = 150
BAR_AREA = 360
VALUE_WIDTH = 70
ROW_HEIGHT = 22
BAR_HEIGHT = 14
TOP = 8


def _fmt(value, unit: str) -> str:
    if isinstance(value, (Decimal, float)):
        return f"{value:.1f}{unit}"
    return f"{value}{unit}"


def bar_chart(
    *,
    title: str,
    bars: Sequence[tuple[str, float | int | Decimal]],
    unit: str = "",
    max_value: float | int | Decimal | None = None,
    chart_id: str = "chart",
) -> SafeString:
    """An inline ``<svg>`` with one horizontal bar per ``(label, value)``. ``max_value`` fixes
    the scale (100 for percentages); otherwise the largest value fills the width."""
    top = max_value if max_value is not None else max((float(v) for _l, v in bars), default=0)
    top = float(top) or 1.0
    height = TOP * 2 + ROW_HEIGHT * max(len(bars), 1)
    width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    description = "；".join(f"{label}：{_fmt(value, unit)}" for label, value in bars)
    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" role="img" width="{}" height="{}" '
            'viewBox="0 0 {} {}" aria-labelledby="{} {}" font-size="12" font-family="sans-serif">'
            '<title id="{}">{}</title><desc id="{}">{}</desc>',
            width,
            height,
            width,
            height,
            title_id,
            desc_id,
            title_id,
            title,
            desc_id,
            description,
        )
    ]
    for index, (label, value) in enumerate(bars):
        y = TOP + index * ROW_HEIGHT
        length = max(0.0, min(float(value) / top, 1.0)) * BAR_AREA
        parts.append(
            format_html(
                '<g><text x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="#2b6cb0"><title>{}：{}</title></rect>'
                '<text x="{}" y="{}" dominant-baseline="middle">{}</text></g>',
                LABEL_WIDTH - 6,
                y + ROW_HEIGHT / 2,
                label,
                LABEL_WIDTH,
                y + (ROW_HEIGHT - BAR_HEIGHT) / 2,
                f"{length:.1f}",
                BAR_HEIGHT,
                label,
                _fmt(value, unit),
                f"{LABEL_WIDTH + length + 4:.1f}",
                y + ROW_HEIGHT / 2,
                _fmt(value, unit),
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(str(p) for p in parts))


__all__ = ["bar_chart"]
