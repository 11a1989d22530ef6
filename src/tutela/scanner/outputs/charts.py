"""Charts drawn as SVG with pygal: the portal's pages and the offline HTML report.

Pages embed each chart as ``<img src="data:image/svg+xml;base64,…" alt="…">`` beside a visually
hidden table of the same numbers. An SVG loaded as an image runs no script and fetches nothing, so
its own inline ``<style>`` is fine under the portal's CSP; we still strip pygal's script and keep
every stylesheet inline so the markup holds nothing that would reach outside the document.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import pygal  # type: ignore[import-untyped]
from pygal.etree import etree  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

# Every colour has at least 4.5:1 contrast on white (WCAG AA for text), so bars, lines and the
# values printed beside them stay legible; severity keeps one hue per level across the portal.
SEVERITY_COLOURS: Final = {
    "critical": "#991B1B",
    "high": "#C2410C",
    "medium": "#A16207",
    "low": "#1D4ED8",
}
SCORE_COLOUR: Final = "#0F766E"
INK: Final = "#1F2937"
GUIDE: Final = "#D1D5DB"  # faint on purpose: guides only hint at the scale, and values cross them

# Drawn 480 units wide: at the narrowest phone (360 px) the 16-unit labels are still 12 px.
WIDTH: Final = 480
FONT_SIZE: Final = 16
NAME_LENGTH: Final = 22  # a longer framework name is cut with "…"; the alt and table carry it whole
DEFAULT_CSS: Final = ("file://style.css", "file://graph.css")  # pygal's own, inlined as <style>


@dataclass(frozen=True)
class Chart:
    """A drawn chart and the one-sentence summary that stands in for it (the img's alt)."""

    svg: str
    alt: str

    @property
    def data_uri(self) -> str:
        """The SVG as a data URI: the portal's CSP allows images from ``data:`` and nothing else."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode("ascii")


def score_trend(points: Sequence[tuple[datetime, int | None]]) -> Chart | None:
    """The aggregate score (0 to 100) per report, oldest first; an unscored report is a gap."""
    scored = [score for _, score in points if score is not None]
    if not scored:
        return None
    days = [_day(when) for when, _ in points]
    chart = pygal.Line(
        **_options("Compliance score over time", [SCORE_COLOUR], height=320, line_width=3),
        range=(0, 100),
        y_labels=[0, 25, 50, 75, 100],
        x_labels=days,
        x_labels_major_count=3,
        show_minor_x_labels=False,
        truncate_label=-1,
        allow_interruptions=True,
        dots_size=4,
    )
    chart.add("Score", [score for _, score in points])
    unscored = len(points) - len(scored)
    latest = scored[-1]
    if len(points) == 1:
        alt = f"Compliance score on {days[0]}: {latest}."
    else:
        alt = (
            f"Compliance score over {len(points)} reports from {days[0]} to {days[-1]}: "
            f"latest {latest}, lowest {min(scored)}, highest {max(scored)}"
            + (f"; {unscored} not scored." if unscored else ".")
        )
    return Chart(svg=_render(chart), alt=alt)


def framework_scores(scores: Mapping[str, int | None]) -> Chart | None:
    """One bar per framework (by display name), first on top; an unscored one says so."""
    if all(score is None for score in scores.values()):
        return None
    bottom_up = list(scores.items())[::-1]  # pygal draws the first bar lowest
    chart = pygal.HorizontalBar(
        **_options("Compliance score by framework", [SCORE_COLOUR], height=96 + 48 * len(scores)),
        range=(0, 100),
        y_labels=[0, 25, 50, 75, 100],
        x_labels=[_shortened(name) for name, _ in bottom_up],
        print_values=True,
        print_values_position="top",
        # Start each value just past its bar's end: pygal centres it on the end, over the bar.
        css=[*DEFAULT_CSS, "inline:.text-overlay text.value{text-anchor:start}"],
    )
    chart.add("Score", [_score_bar(score) for _, score in bottom_up])
    named = (
        f"{name} {score if score is not None else 'not scored'}" for name, score in scores.items()
    )
    return Chart(svg=_render(chart), alt=f"Compliance score by framework: {', '.join(named)}.")


def severity_counts(counts: Mapping[str, int]) -> Chart | None:
    """Findings per severity, critical first, each bar in its severity's colour."""
    unknown = counts.keys() - SEVERITY_COLOURS.keys()
    if unknown:
        raise ValueError(f"unknown severities: {sorted(unknown)}")
    ordered = {severity: counts.get(severity, 0) for severity in SEVERITY_COLOURS}
    if not any(ordered.values()):
        return None
    chart = pygal.Bar(
        **_options("Findings by severity", [INK], height=320),
        x_labels=[severity.capitalize() for severity in ordered],
        truncate_label=-1,
        print_values=True,
        print_values_position="top",
        # Each count is printed on its bar, so an axis of counts would only repeat them.
        show_y_labels=False,
        show_y_guides=False,
    )
    chart.add(
        "Findings",
        [{"value": n, "color": SEVERITY_COLOURS[severity]} for severity, n in ordered.items()],
    )
    named = ", ".join(f"{n} {severity}" for severity, n in ordered.items())
    return Chart(svg=_render(chart), alt=f"Findings by severity: {named}.")


def _options(title: str, colours: list[str], *, height: int, line_width: int = 1) -> dict[str, Any]:
    """What every chart shares: self-contained, deterministic markup and a legible style."""
    return {
        "title": title,  # also the SVG's <title>
        "width": WIDTH,
        "height": height,
        "margin_right": 40,  # room for a value printed past the last bar or a date past the end
        "show_legend": False,
        "js": (),  # pygal's default fetches its tooltip script from a CDN
        # Else every rule is scoped to a random uuid. An img is its own document so scoping buys
        # nothing; unscoped, pygal's two root rules get an empty selector browsers skip, and they
        # only repeat the background and font other rules set.
        "no_prefix": True,
        "disable_xml_declaration": True,
        "style": Style(
            colors=colours,
            background="white",
            plot_background="white",
            foreground=INK,
            foreground_strong=INK,
            foreground_subtle=INK,
            font_family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
            title_font_size=FONT_SIZE + 2,
            label_font_size=FONT_SIZE,
            major_label_font_size=FONT_SIZE,
            value_font_size=FONT_SIZE,
            guide_stroke_color=GUIDE,
            major_guide_stroke_color=GUIDE,
            value_colors=[INK],  # values sit beside the bars, on white
            stroke_width=str(line_width),
            stroke_opacity="1",
            opacity="1",
            opacity_hover="1",
        ),
    }


def _score_bar(score: int | None) -> dict[str, Any]:
    """A framework's bar; an unscored one is empty and printed as "not scored" instead of 0."""
    if score is None:
        return {"value": 0, "formatter": lambda _: "not scored"}
    return {"value": score}


def _shortened(name: str) -> str:
    """A name cut to fit beside its bar (pygal cuts only the labels of vertical charts)."""
    return name if len(name) <= NAME_LENGTH else name[: NAME_LENGTH - 1] + "…"


def _render(chart: Any) -> str:
    chart.add_xml_filter(_without_script_or_comments)
    return str(chart.render())


def _without_script_or_comments(root: Any) -> Any:
    """Drop pygal's inline config script, its comments (one carries today's date) and empty id."""
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == "script" or child.tag is etree.Comment:
                parent.remove(child)
    if not root.get("id"):  # no_prefix leaves id=""
        root.attrib.pop("id", None)
    return root


def _day(when: datetime) -> str:
    """The report's UTC day; a naive datetime is already UTC, as the database stores it."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.date().isoformat()
