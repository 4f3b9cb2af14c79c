"""Small SVG charts for the PDF report (WeasyPrint draws inline SVG; nothing runs)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 200, 44, 28, 12


def _frame(body: str, title: str) -> Markup:
    # Every text put in ``body`` and ``title`` is escaped; the rest are numbers.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img"><title>{escape(title)}</title>'
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}" '
        f'stroke="#888" stroke-width="1"/>{body}</svg>'
    )


def _axis(peak: float) -> str:
    plot = HEIGHT - BOTTOM - TOP
    return (
        f'<text x="{LEFT - 6}" y="{TOP + 4}" font-size="9" text-anchor="end">{peak:,.0f}</text>'
        f'<text x="{LEFT - 6}" y="{TOP + plot}" font-size="9" text-anchor="end">0</text>'
    )


def _label_every(count: int) -> int:
    return max(1, -(-count // 12))


def bars(labels: Sequence[str], values: Sequence[int | None], title: str) -> Markup | None:
    """A bar chart; ``None`` when there is nothing to draw."""
    known = [value or 0 for value in values]
    if not known or max(known) <= 0:
        return None
    peak, plot = max(known), HEIGHT - BOTTOM - TOP
    step = (WIDTH - LEFT) / len(known)
    parts = [_axis(peak)]
    every = _label_every(len(labels))
    for index, (label, value) in enumerate(zip(labels, known, strict=True)):
        height = plot * value / peak
        x = LEFT + index * step
        parts.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{TOP + plot - height:.1f}" '
            f'width="{step * 0.7:.1f}" height="{height:.1f}" fill="#0d6efd"/>'
        )
        if index % every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{HEIGHT - BOTTOM + 12}" font-size="8" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    return _frame("".join(parts), title)


def line(labels: Sequence[str], values: Sequence[int | None], title: str) -> Markup | None:
    """A line chart with gaps where a value is unknown (``None``); ``None`` when fewer than
    two points are known."""
    known = [value for value in values if value is not None]
    if len(known) < 2:
        return None
    low, high = min(known), max(known)
    span = (high - low) or 1
    plot = HEIGHT - BOTTOM - TOP
    step = (WIDTH - LEFT - 10) / max(1, len(values) - 1)
    segments: list[list[str]] = [[]]
    parts = [
        f'<text x="{LEFT - 6}" y="{TOP + 4}" font-size="9" text-anchor="end">{high:,}</text>'
        f'<text x="{LEFT - 6}" y="{TOP + plot}" font-size="9" text-anchor="end">{low:,}</text>'
    ]
    every = _label_every(len(labels))
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = LEFT + 5 + index * step
        if value is None:
            segments.append([])
        else:
            y = TOP + plot - plot * (value - low) / span
            segments[-1].append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#0d6efd"/>')
        if index % every == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 12}" font-size="8" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    for segment in segments:
        if len(segment) > 1:
            parts.append(
                f'<polyline points="{" ".join(segment)}" fill="none" stroke="#0d6efd" '
                'stroke-width="1.5"/>'
            )
    return _frame("".join(parts), title)
