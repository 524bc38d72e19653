"""Geometry of the reports' SVG charts; the templates draw it.

Everything here is integer arithmetic on centavos and pixels, so a chart
never needs a float. Labels are plain data: the Jinja macros in
``templates/reports/_charts.html`` turn them into accessible SVG (a
``<title>``, a ``<desc>``, text labels and patterns, never colour alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from . import money


def scale(value: int, top: int, pixels: int) -> int:
    """Map ``value`` in ``0..top`` onto ``0..pixels`` (rounded half-up)."""
    if top <= 0 or value <= 0:
        return 0
    return min(pixels, (2 * value * pixels + top) // (2 * top))


def nice_ceiling(value: int) -> int:
    """Round a maximum up to 1, 2 or 5 times a power of ten (at least 100)."""
    step = 100
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


@dataclass
class Chart:
    """An SVG canvas with its plot area."""

    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    title: str
    description: str
    items: list[dict[str, Any]] = field(default_factory=list)
    ticks: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def bottom(self) -> int:
        return self.top + self.plot_height

    @property
    def right(self) -> int:
        return self.left + self.plot_width


def _short_brl(cents: int) -> str:
    """``R$ 12,3 mil`` style labels for axes."""
    reais = cents // 100
    for size, unit in ((1_000_000, "mi"), (1_000, "mil")):
        if reais >= size:
            whole, rest = divmod(reais, size)
            tenth = rest * 10 // size
            return f"R$ {whole},{tenth} {unit}" if tenth else f"R$ {whole} {unit}"
    return f"R$ {reais}"


def _percent(share: str) -> str:
    """``"0.8123"`` -> ``"81,2%"``."""
    scaled = int(share.replace(".", ""))  # ten-thousandths
    tenths = (scaled + 5) // 10
    return f"{tenths // 10},{tenths % 10}%"


def _bar_label(row: Any) -> str:
    amount = money.format_brl(row.overdue_amount)
    shares = f"{_percent(row.share)}; acumulado {_percent(row.cumulative_share)}"
    return f"{row.rank}. {row.name}: {amount} ({shares})"


def pareto_chart(
    rows: Sequence[Any], total: int, title: str, description: str, limit: int = 20
) -> Chart:
    """Bars per customer, the cumulative curve and the 80% line."""
    shown = list(rows[:limit])
    chart = Chart(
        width=760,
        height=320,
        left=72,
        top=24,
        plot_width=620,
        plot_height=220,
        title=title,
        description=description,
    )
    if not shown:
        return chart
    peak = nice_ceiling(shown[0].overdue_amount)
    slot = chart.plot_width // len(shown)
    bar = max(4, slot * 7 // 10)
    points = []
    for index, row in enumerate(shown):
        height = scale(row.overdue_amount, peak, chart.plot_height)
        x = chart.left + index * slot + (slot - bar) // 2
        cumulative_y = chart.bottom - scale(row.cumulative, total, chart.plot_height)
        centre = x + bar // 2
        points.append((centre, cumulative_y))
        chart.items.append(
            {
                "x": x,
                "y": chart.bottom - height,
                "width": bar,
                "height": height,
                "centre": centre,
                "cumulative_y": cumulative_y,
                "rank": row.rank,
                "top": row.top,
                "label": _bar_label(row),
            }
        )
    for fraction in (0, 1, 2, 3, 4):
        value = peak * fraction // 4
        chart.ticks.append(
            {
                "y": chart.bottom - scale(value, peak, chart.plot_height),
                "label": _short_brl(value),
                "percent": f"{fraction * 25}%",
            }
        )
    chart.extra = {
        "line_y": chart.bottom - chart.plot_height * 80 // 100,
        "curve": " ".join(f"{x},{y}" for x, y in points),
    }
    return chart


def aging_chart(buckets: Sequence[Any], title: str, description: str) -> Chart:
    """One horizontal bar per bucket, with its amount and count as text."""
    chart = Chart(
        width=640,
        height=40 + 48 * len(buckets),
        left=110,
        top=16,
        plot_width=330,
        plot_height=48 * len(buckets),
        title=title,
        description=description,
    )
    peak = max((b.amount for b in buckets), default=0)
    for index, bucket in enumerate(buckets):
        width = scale(bucket.amount, peak, chart.plot_width)
        chart.items.append(
            {
                "y": chart.top + index * 48 + 8,
                "height": 30,
                "width": width,
                "pattern": index,
                "label": bucket.label,
                "value": money.format_brl(bucket.amount),
                "count": bucket.count,
            }
        )
    return chart


def trend_chart(weeks: Sequence[Any], title: str, description: str) -> Chart:
    """Grouped weekly bars: overdue (solid) beside recovered (hatched)."""
    chart = Chart(
        width=640,
        height=226,
        left=72,
        top=28,
        plot_width=550,
        plot_height=170,
        title=title,
        description=description,
    )
    if not weeks:
        return chart
    peak = nice_ceiling(max(max(w.overdue, w.recovered) for w in weeks))
    slot = chart.plot_width // len(weeks)
    bar = max(4, slot * 35 // 100)
    for index, week in enumerate(weeks):
        x = chart.left + index * slot + (slot - 2 * bar) // 2
        overdue = scale(week.overdue, peak, chart.plot_height)
        recovered = scale(week.recovered, peak, chart.plot_height)
        chart.items.append(
            {
                "x": x,
                "width": bar,
                "overdue_y": chart.bottom - overdue,
                "overdue_height": overdue,
                "recovered_y": chart.bottom - recovered,
                "recovered_height": recovered,
                "centre": x + bar,
                "label": money.format_day(week.start)[:5],
                "overdue": money.format_brl(week.overdue),
                "recovered": money.format_brl(week.recovered),
            }
        )
    for fraction in (0, 1, 2, 3, 4):
        value = peak * fraction // 4
        chart.ticks.append(
            {
                "y": chart.bottom - scale(value, peak, chart.plot_height),
                "label": _short_brl(value),
            }
        )
    return chart
