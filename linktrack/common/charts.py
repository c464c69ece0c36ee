"""Bar charts drawn by the server as SVG: the geometry here, the markup in templates/_chart.html.

Why on the server: the page needs no script and no library from a CDN (it works offline and under the
Content-Security-Policy, which forbids inline scripts and styles), the picture is in the HTML (a screen reader gets
its title and the same numbers as a table; a test reads both), and every figure is formatted once, the way the
page formats it. A chart is a list of categories (a day, an hour, an outcome), each with one value per series.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 720
MAX_CATEGORY_LABELS = 12  # on a vertical chart, at most this many categories are named under the axis


@dataclass(frozen=True)
class Text:
    text: str
    x: str
    y: str
    anchor: str = "middle"
    rotate: str = ""  # "rotate(-90 x y)" for the vertical axis's title


@dataclass(frozen=True)
class Bar:
    category: str
    series: str
    value: int
    text: str  # the value as the page writes it
    x: str
    y: str
    width: str
    height: str
    css: str

    @property
    def title(self) -> str:
        return f"{self.category}: {self.text} {self.series.lower()}"


@dataclass(frozen=True)
class Line:
    x1: str
    y1: str
    x2: str
    y2: str


@dataclass(frozen=True)
class Row:
    """A category in the chart's table: its full name and its value in each series, as the page writes them."""

    label: str
    texts: list[str]


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    description: str
    width: int
    height: int
    horizontal: bool
    category_title: str
    series: list[str]
    bars: list[Bar]
    category_labels: list[Text]
    value_labels: list[Text]  # beside each bar of a horizontal chart
    ticks: list[Text]
    grid: list[Line]
    axes: list[Line]
    axis_titles: list[Text]
    rows: list[Row]
    note: str = ""


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_scale(largest: int) -> tuple[int, int]:
    """(top of the value axis, step between its ticks): whole numbers of 1, 2 or 5 times a power of ten, about four
    steps, the top at or above `largest`."""
    if largest <= 0:
        return 1, 1
    raw = largest / 4
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    return step * math.ceil(largest / step), step


def bar_chart(
    *,
    chart_id: str,
    title: str,
    category_title: str,
    value_title: str,
    categories: Sequence[tuple[str, str]],
    series: Sequence[tuple[str, Sequence[int]]],
    number: Callable[[int], str],
    horizontal: bool = False,
    category_classes: Sequence[str] | None = None,
    note: str = "",
) -> Chart:
    """A grouped bar chart. `categories`: (full name for the table and the bars' titles, short name under the axis);
    `series`: (name, one value per category); `number` writes a value as the page does (digit grouping);
    `category_classes`: a CSS class per category (colours by outcome), else one per series."""
    names = [name for name, _ in series]
    top, step = nice_scale(max((value for _, values in series for value in values), default=0))
    rows = [
        Row(label=full, texts=[number(values[index]) for _, values in series])
        for index, (full, _) in enumerate(categories)
    ]
    layout = _horizontal if horizontal else _vertical
    parts = layout(categories, series, names, top, step, number, category_classes)
    titles = list(parts.pop("titles")(category_title, value_title))
    description = f"{title}. " + "; ".join(
        f"{row.label}: " + ", ".join(f"{text} {name.lower()}" for text, name in zip(row.texts, names, strict=True))
        for row in rows
    )
    return Chart(
        chart_id=chart_id,
        title=title,
        description=description if len(rows) <= 12 else f"{title}. The numbers are in the table below the chart.",
        width=WIDTH,
        horizontal=horizontal,
        category_title=category_title,
        series=names,
        rows=rows,
        note=note,
        axis_titles=titles,
        **parts,
    )


def _bar_class(series_index: int, category_index: int, category_classes: Sequence[str] | None) -> str:
    if category_classes:
        return category_classes[category_index]
    return f"chart-series-{series_index}"


def _vertical(categories, series, names, top, step, number, category_classes) -> dict:
    left, right, upper, lower, height = 64, 16, 16, 64, 280
    plot_w, plot_h = WIDTH - left - right, height - upper - lower
    bottom = upper + plot_h
    slot = plot_w / max(1, len(categories))
    bar_w = slot * 0.8 / max(1, len(series))
    bars = []
    for c, (full, _) in enumerate(categories):
        for s, (name, values) in enumerate(series):
            h = plot_h * values[c] / top
            bars.append(
                Bar(
                    full,
                    name,
                    values[c],
                    number(values[c]),
                    _n(left + c * slot + slot * 0.1 + s * bar_w),
                    _n(bottom - h),
                    _n(bar_w),
                    _n(h),
                    _bar_class(s, c, category_classes),
                )
            )
    every = math.ceil(len(categories) / MAX_CATEGORY_LABELS) or 1
    labels = [
        Text(short, _n(left + (c + 0.5) * slot), _n(bottom + 18))
        for c, (_, short) in enumerate(categories)
        if c % every == 0
    ]
    ticks, grid = [], []
    for value in range(0, top + 1, step):
        y = bottom - plot_h * value / top
        ticks.append(Text(number(value), _n(left - 6), _n(y + 4), "end"))
        grid.append(Line(_n(left), _n(y), _n(WIDTH - right), _n(y)))

    def titles(category_title, value_title):
        yield Text(category_title, _n(left + plot_w / 2), _n(height - 14))
        middle = upper + plot_h / 2
        yield Text(value_title, "16", _n(middle), "middle", f"rotate(-90 16 {_n(middle)})")

    return _frame(left, right, upper, bottom, height, bars, labels, [], ticks, grid, titles)


def _horizontal(categories, series, names, top, step, number, category_classes) -> dict:
    left, right, upper, bar_h = 170, 90, 12, 18
    slot = 10 + (bar_h + 2) * max(1, len(series))
    plot_w, plot_h = WIDTH - left - right, slot * len(categories)
    bottom = upper + plot_h
    height = bottom + 50
    bars, value_labels = [], []
    for c, (full, _) in enumerate(categories):
        for s, (name, values) in enumerate(series):
            w = plot_w * values[c] / top
            y = upper + c * slot + 5 + s * (bar_h + 2)
            bars.append(
                Bar(
                    full,
                    name,
                    values[c],
                    number(values[c]),
                    _n(left),
                    _n(y),
                    _n(w),
                    _n(bar_h),
                    _bar_class(s, c, category_classes),
                )
            )
            value_labels.append(Text(number(values[c]), _n(left + w + 4), _n(y + 13), "start"))
    labels = [
        Text(short, _n(left - 8), _n(upper + c * slot + slot / 2 + 4), "end") for c, (_, short) in enumerate(categories)
    ]
    ticks, grid = [], []
    for value in range(0, top + 1, step):
        x = left + plot_w * value / top
        ticks.append(Text(number(value), _n(x), _n(bottom + 16)))
        grid.append(Line(_n(x), _n(upper), _n(x), _n(bottom)))

    def titles(category_title, value_title):
        yield Text(value_title, _n(left + plot_w / 2), _n(height - 10))
        middle = upper + plot_h / 2
        yield Text(category_title, "14", _n(middle), "middle", f"rotate(-90 14 {_n(middle)})")

    return _frame(left, right, upper, bottom, height, bars, labels, value_labels, ticks, grid, titles)


def _frame(left, right, upper, bottom, height, bars, labels, value_labels, ticks, grid, titles) -> dict:
    """What the chart template draws: the bars and labels, and the two axes from the plot's corner."""
    axes = [Line(_n(left), _n(upper), _n(left), _n(bottom)), Line(_n(left), _n(bottom), _n(WIDTH - right), _n(bottom))]
    return {
        "height": height,
        "bars": bars,
        "category_labels": labels,
        "value_labels": value_labels,
        "ticks": ticks,
        "grid": grid,
        "axes": axes,
        "titles": titles,
    }
