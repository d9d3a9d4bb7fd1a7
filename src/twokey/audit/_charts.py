"""Inline SVG charts: no scripts, no network, printable."""

from __future__ import annotations

__all__ = ["bar_chart", "line_chart"]

from html import escape

WIDTH, HEIGHT, PAD = 640, 220, 40


def line_chart(points: list[tuple[str, float]], title: str) -> str:
    """A 0..100% line over labelled points."""
    if not points:
        return (
            f'<svg role="img" aria-label="{escape(title)}" width="{WIDTH}" height="40">'
            '<text x="10" y="25">no data</text></svg>'
        )
    step = (WIDTH - 2 * PAD) / max(len(points) - 1, 1)
    coords = [
        (PAD + i * step, HEIGHT - PAD - value * (HEIGHT - 2 * PAD))
        for i, (_, value) in enumerate(points)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{escape(label)}: '
        f"{value:.0%}</title></circle>"
        for (x, y), (label, value) in zip(coords, points, strict=True)
    )
    labels = "".join(
        f'<text x="{x:.1f}" y="{HEIGHT - 10}" font-size="10" '
        f'text-anchor="middle">{escape(label)}</text>'
        for (x, _), (label, _) in zip(coords, points, strict=True)
    )
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">'
        f"<title>{escape(title)}</title>"
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'stroke="#999"/>'
        f'<text x="4" y="{PAD}" font-size="10">100%</text>'
        f'<text x="4" y="{HEIGHT - PAD}" font-size="10">0%</text>'
        f'<polyline fill="none" stroke="#2b6cb0" stroke-width="2" points="{path}"/>'
        f"{dots}{labels}</svg>"
    )


def bar_chart(bars: list[tuple[str, int]], title: str) -> str:
    """Horizontal bars with counts."""
    if not bars:
        return (
            f'<svg role="img" aria-label="{escape(title)}" width="{WIDTH}" height="40">'
            '<text x="10" y="25">none</text></svg>'
        )
    height = 24 * len(bars) + 20
    top = max(n for _, n in bars)
    rows = []
    for i, (label, n) in enumerate(bars):
        width = (WIDTH - 260) * n / top
        y = 10 + i * 24
        rows.append(
            f'<text x="0" y="{y + 14}" font-size="11">{escape(label)}</text>'
            f'<rect x="230" y="{y}" width="{width:.1f}" height="16" fill="#c53030">'
            f"<title>{escape(label)}: {n}</title></rect>"
            f'<text x="{236 + width:.1f}" y="{y + 13}" font-size="11">{n}</text>'
        )
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}"><title>{escape(title)}</title>'
        f"{''.join(rows)}</svg>"
    )
