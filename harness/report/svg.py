"""Inline SVG pictures for the report and the dashboard: no script, no font, no request.

Owns two charts: ``overview`` (one stacked bar per table: passed, failed, not
applicable, not specified, contract differences, harness errors) and
``history`` (one stacked column per run of a target, its verdict as a coloured
cap, each column a link to that run's report). Every text is escaped
(markupsafe) and the result is ``Markup``, so the autoescaping templates embed
it as is. Hand-written: a chart library would bring script or a request, and
these are a few rectangles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

from harness import results as R

CONTRACT = "contract_difference"
# (status, label, fill): the report's own colours.
SERIES = (
    (R.PASSED, "passed", "#1a7f37"),
    (R.FAILED, "failed", "#c62828"),
    (R.NOT_APPLICABLE, "not applicable", "#d69e2e"),
    (R.NOT_SPECIFIED, "not specified", "#5b7ea3"),
    (CONTRACT, "contract differences", "#0e7490"),
    (R.HARNESS_ERROR, "harness error", "#6f42c1"),
    ("missing", "missing", "#9ca3af"),
)
VERDICT_FILLS = {"pass": "#1a7f37", "fail": "#c62828", "partial": "#b7791f", "error": "#6f42c1"}


@dataclass
class Bar:
    label: str
    href: str
    counts: dict[str, int]
    title: str = ""
    verdict_class: str = ""


def _legend(x: float, y: float, present: set[str]) -> list[str]:
    out = []
    for status, label, fill in SERIES:
        if status not in present and status not in (R.PASSED, R.FAILED, R.NOT_APPLICABLE, R.NOT_SPECIFIED, CONTRACT):
            continue
        out.append(
            f'<rect x="{x:.0f}" y="{y - 9:.0f}" width="10" height="10" fill="{fill}"/>'
            f'<text x="{x + 14:.0f}" y="{y:.0f}">{escape(label)}</text>'
        )
        x += 24 + 6.3 * len(label)
    return out


def overview(bars: list[Bar], *, width: int = 640) -> Markup:
    """One horizontal stacked bar per table; each segment labelled with its count; legend below."""
    label_w, row_h, top = 92, 24, 6
    plot_w = width - label_w - 48
    biggest = max([sum(b.counts.values()) for b in bars] + [1])
    height = top + row_h * len(bars) + 30
    parts = [
        f'<svg class="chart overview" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="overview-title" font-size="12" '
        f'font-family="system-ui,sans-serif"><title id="overview-title">Results per table</title>'
    ]
    present: set[str] = set()
    for i, bar in enumerate(bars):
        y = top + i * row_h
        parts.append(
            f'<a href="{escape(bar.href)}"><text x="0" y="{y + 15}" font-weight="600">{escape(bar.label)}</text></a>'
        )
        x = float(label_w)
        total = sum(bar.counts.values())
        for status, label, fill in SERIES:
            n = bar.counts.get(status, 0)
            if not n:
                continue
            present.add(status)
            w = plot_w * n / biggest
            parts.append(
                f'<rect class="seg s-{status}" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 7}" '
                f'fill="{fill}"><title>{escape(bar.label)}: {n} {escape(label)}</title></rect>'
            )
            if w >= 16:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 15}" fill="#fff" text-anchor="middle" '
                    f'font-weight="600">{n}</text>'
                )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}" fill="#5f6b7a">{total}</text>')
    parts += _legend(label_w, height - 8, present)
    parts.append("</svg>")
    return Markup("".join(parts))


def history(bars: list[Bar], *, width: int = 720, chart_id: str = "history") -> Markup:
    """One stacked column per run (oldest left), a verdict-coloured cap, each column linking to its report."""
    left, bottom, top, height = 30, 34, 14, 190
    n = max(len(bars), 1)
    plot_w, plot_h = width - left - 8, height - top - bottom
    step = plot_w / n
    col_w = max(min(step * 0.7, 40), 2)
    biggest = max([sum(b.counts.values()) for b in bars] + [1])
    parts = [
        f'<svg class="chart history" viewBox="0 0 {width} {height + 18}" '
        f'width="100%" role="img" aria-labelledby="{escape(chart_id)}-t" font-size="11" '
        f'font-family="system-ui,sans-serif"><title id="{escape(chart_id)}-t">Scenario counts and verdict per '
        f"run, oldest first</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}" stroke="#9aa5b1"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" fill="#5f6b7a">{biggest}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" fill="#5f6b7a">0</text>',
    ]
    present: set[str] = set()
    widest = max([len(b.label) for b in bars] + [1]) * 6.2 + 10
    every = max(1, math.ceil(widest / step))  # label every k-th column so that labels never overlap
    for i, bar in enumerate(bars):
        x = left + i * step + (step - col_w) / 2
        y = float(top + plot_h)
        parts.append(f'<a href="{escape(bar.href)}" class="run-col"><title>{escape(bar.title or bar.label)}</title>')
        for status, _label, fill in SERIES:
            count = bar.counts.get(status, 0)
            if not count:
                continue
            present.add(status)
            h = plot_h * count / biggest
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{col_w:.1f}" height="{h:.1f}" fill="{fill}"/>')
        cap = VERDICT_FILLS.get(bar.verdict_class, "#6f42c1")
        parts.append(
            f'<rect class="verdict-cap v-{escape(bar.verdict_class)}" x="{x:.1f}" y="{y - 7:.1f}" '
            f'width="{col_w:.1f}" height="5" fill="{cap}"/></a>'
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + col_w / 2:.1f}" y="{top + plot_h + 13}" text-anchor="middle" '
                f'fill="#5f6b7a">{escape(bar.label)}</text>'
            )
    parts += _legend(left, height + 12, present)
    parts.append("</svg>")
    return Markup("".join(parts))
