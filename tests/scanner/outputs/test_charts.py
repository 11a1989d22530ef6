"""The portal's SVG charts: self-contained, deterministic, drawing the numbers they are given."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tutela.scanner.outputs.charts import (
    INK,
    SCORE_COLOUR,
    SEVERITY_COLOURS,
    Chart,
    framework_scores,
    score_trend,
    severity_counts,
)

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
LONG_NAME = "SR 26-2 / OCC 2026-13 Model Risk Management (formerly SR 11-7)"


def trend() -> Chart | None:
    scores = [55, 61, None, 70, 82]
    return score_trend([(START + timedelta(days=7 * i), s) for i, s in enumerate(scores)])


def frameworks() -> Chart | None:
    return framework_scores({"ISO/IEC 42001": 82, "EU AI Act": None, LONG_NAME: 67})


def severities() -> Chart | None:
    return severity_counts({"critical": 2, "high": 5, "medium": 11, "low": 3})


CHARTS: dict[str, Callable[[], Chart | None]] = {
    "score_trend": trend,
    "framework_scores": frameworks,
    "severity_counts": severities,
}


def draw(make: Callable[[], Chart | None]) -> Chart:
    chart = make()
    assert chart is not None
    return chart


def texts(chart: Chart) -> list[str]:
    """Every piece of text drawn on the chart, in document order."""
    root = ET.fromstring(chart.svg)
    return [node.text for node in root.iter(f"{SVG}text") if node.text]


@pytest.mark.parametrize("make", CHARTS.values(), ids=CHARTS.keys())
def test_the_svg_is_valid_scalable_and_titled(make: Callable[[], Chart | None]) -> None:
    root = ET.fromstring(draw(make).svg)
    assert root.tag == f"{SVG}svg"
    assert re.fullmatch(r"0 0 480 \d+", root.get("viewBox", ""))
    assert root.get("width") is None  # the container sets the size
    assert root.get("height") is None
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text


@pytest.mark.parametrize("make", CHARTS.values(), ids=CHARTS.keys())
def test_the_svg_runs_nothing_and_loads_nothing(make: Callable[[], Chart | None]) -> None:
    svg = draw(make).svg
    root = ET.fromstring(svg)
    assert not [node for node in root.iter() if node.tag.rsplit("}", 1)[-1] == "script"]
    outside = re.compile(r"(?i)\b(?:https?|file|ftp):|^\s*//")
    for node in root.iter():
        for name, value in node.attrib.items():
            assert not name.endswith("href"), (node.tag, name, value)
            assert not outside.search(value), (node.tag, name, value)
    style = "".join(node.text or "" for node in root.iter(f"{SVG}style"))
    assert style
    assert re.findall(r"url\(\s*['\"]?([^)'\"]*)", style) == []
    assert "@import" not in style
    assert "@font-face" not in style
    assert "<?" not in svg  # no xml-stylesheet instruction
    assert "<!--" not in svg  # pygal's comments carry the day the chart was drawn


@pytest.mark.parametrize("make", CHARTS.values(), ids=CHARTS.keys())
def test_the_same_numbers_draw_the_same_bytes(make: Callable[[], Chart | None]) -> None:
    assert draw(make) == draw(make)


@pytest.mark.parametrize("make", CHARTS.values(), ids=CHARTS.keys())
def test_the_data_uri_carries_the_svg(make: Callable[[], Chart | None]) -> None:
    chart = draw(make)
    prefix = "data:image/svg+xml;base64,"
    assert chart.data_uri.startswith(prefix)
    assert base64.b64decode(chart.data_uri.removeprefix(prefix)).decode() == chart.svg


def test_score_trend_draws_each_score_and_breaks_the_line_at_gaps() -> None:
    chart = draw(trend)
    root = ET.fromstring(chart.svg)
    drawn = [node.text for node in root.iter(f"{SVG}desc") if node.get("class") == "value"]
    assert drawn == ["55", "61", "70", "82"]
    lines = [node for node in root.iter(f"{SVG}path") if "line" in node.get("class", "").split()]
    assert len([line for line in lines if "reactive" in line.get("class", "")]) == 2
    assert {"0", "100", "2026-06-01", "2026-06-29"} <= set(texts(chart))
    assert chart.alt == (
        "Compliance score over 5 reports from 2026-06-01 to 2026-06-29: "
        "latest 82, lowest 55, highest 82; 1 not scored."
    )


def test_score_trend_names_the_utc_day_of_each_report() -> None:
    evening_in_new_york = datetime(2026, 3, 1, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    chart = score_trend([(evening_in_new_york, 74)])
    assert chart is not None
    assert chart.alt == "Compliance score on 2026-03-02: 74."
    assert "2026-03-02" in texts(chart)


def test_score_trend_with_no_score_draws_nothing() -> None:
    assert score_trend([]) is None
    assert score_trend([(START, None), (START + timedelta(days=1), None)]) is None


def test_framework_scores_lists_each_framework_first_on_top() -> None:
    chart = draw(frameworks)
    drawn = texts(chart)
    assert {"ISO/IEC 42001", "EU AI Act", "82", "67", "not scored"} <= set(drawn)
    root = ET.fromstring(chart.svg)
    label_y = {
        node.text: float(node.get("y", "nan"))
        for node in root.iter(f"{SVG}text")
        if node.text in ("ISO/IEC 42001", "EU AI Act")
    }
    assert label_y["ISO/IEC 42001"] < label_y["EU AI Act"]


def test_framework_scores_cuts_a_long_name_on_the_chart_but_not_in_the_alt() -> None:
    chart = draw(frameworks)
    assert LONG_NAME not in texts(chart)
    assert any(text.endswith("…") and LONG_NAME.startswith(text[:-1]) for text in texts(chart))
    assert chart.alt == (
        f"Compliance score by framework: ISO/IEC 42001 82, EU AI Act not scored, {LONG_NAME} 67."
    )


def test_framework_scores_with_nothing_scored_draws_nothing() -> None:
    assert framework_scores({}) is None
    assert framework_scores({"EU AI Act": None, "DORA": None}) is None


def test_severity_counts_draws_each_count_in_its_severity_colour() -> None:
    chart = draw(severities)
    assert {"Critical", "High", "Medium", "Low", "2", "5", "11", "3"} <= set(texts(chart))
    root = ET.fromstring(chart.svg)
    fills = [node.get("style") for node in root.iter(f"{SVG}g") if node.get("class") == "bar"]
    assert fills == [f"fill: {colour}; stroke: {colour}" for colour in SEVERITY_COLOURS.values()]
    assert chart.alt == "Findings by severity: 2 critical, 5 high, 11 medium, 3 low."


def test_severity_counts_orders_by_severity_and_counts_a_missing_one_as_zero() -> None:
    chart = severity_counts({"low": 4, "critical": 1})
    assert chart is not None
    assert chart.alt == "Findings by severity: 1 critical, 0 high, 0 medium, 4 low."


def test_severity_counts_with_no_finding_draws_nothing() -> None:
    assert severity_counts({}) is None
    assert severity_counts(dict.fromkeys(SEVERITY_COLOURS, 0)) is None


def test_severity_counts_refuses_an_unknown_severity() -> None:
    with pytest.raises(ValueError, match="informational"):
        severity_counts({"informational": 3})


def contrast_on_white(colour: str) -> float:
    """WCAG 2 contrast ratio of an sRGB hex colour against white."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


@pytest.mark.parametrize("colour", [*SEVERITY_COLOURS.values(), SCORE_COLOUR, INK])
def test_every_colour_reads_on_white(colour: str) -> None:
    assert contrast_on_white(colour) >= 4.5
