"""Narrators: a plain-English paragraph for every finding.

The deterministic narrator (the default) writes it from the check and the evidence; the LLM
narrator asks an OpenAI-compatible model and falls back to the deterministic text on any error,
so a scan never fails because of narratives.

A narrative is asked for in two parts, read one after the other: the opening, about the failing
result (the same for each control the result breaches), and the closing, about one control. A
large report has a million findings but only a few hundred thousand results and a few thousand
(check, control) pairs: a narrator that returns the same string object for a repeated part lets
the report writer encode it once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tutela.scanner.catalog.checks import Strength
    from tutela.scanner.engine.assess import Assessment, MappedControl
    from tutela.scanner.engine.evaluate import CheckResult


class Narrator(Protocol):
    # True when ``closing`` reads only the check, the control and the mapping, never the rest
    # of the result: a writer may then ask for it once per (check, mapping class, control).
    closing_per_control: bool

    def prepare(self, assessment: Assessment) -> None:
        """Called once before any part is asked for (the LLM narrator asks its model here)."""

    def opening(self, result: CheckResult) -> str:
        """The narrative's first part: what was found on the resource."""

    def closing(self, result: CheckResult, control: MappedControl, mapping: Strength) -> str:
        """The rest: what the failure means for this control, as strongly as it is mapped."""


def narrative(
    narrator: Narrator, result: CheckResult, control: MappedControl, mapping: Strength
) -> str:
    """One finding's whole narrative."""
    return narrator.opening(result) + narrator.closing(result, control, mapping)
