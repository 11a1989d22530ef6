"""Narrators: a plain-English paragraph for every finding.

The deterministic narrator (the default) writes it from the check and the evidence; the LLM
narrator asks an OpenAI-compatible model and falls back to the deterministic text on any error,
so a scan never fails because of narratives.
"""

from __future__ import annotations

from typing import Protocol

from tutela.scanner.engine.assess import Finding


class Narrator(Protocol):
    def narrate(self, findings: list[Finding]) -> None:
        """Set ``narrative`` on each finding."""
