"""The executive scorecard's body: the seed's field names exactly, plus ``generated_by`` (ours)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from tutela.server.schemas import OutputModel

Rag = Literal["RED", "AMBER", "GREEN"]
Trajectory = Literal["IMPROVING", "STABLE", "DECLINING"]
Severity = Literal["CRITICAL", "HIGH", "MEDIUM", "LOW"]


class Gap(OutputModel):
    gap: str = Field(description="What fails, on how many resources, under which frameworks.")
    business_impact: str = Field(
        description="Why it matters: the check's severity and why, and what it means for each "
        "framework by the strength of its mapping."
    )
    severity: Severity


class Scorecard(OutputModel):
    overall_rag: Rag
    overall_rag_reason: str
    framework_rag: dict[str, Rag] = Field(examples=[{"sr11_7": "RED", "iso42001": "AMBER"}])
    top_gaps: list[Gap] = Field(description="At most 5, most serious first.")
    trajectory: Trajectory
    trajectory_note: str
    board_narrative: str
    accepted_risks: int = Field(
        default=0,
        description="(ours) Failing (check, resource) pairs accepted as risks by approved "
        "exceptions: excluded from the score, the RAG and the gaps until they expire (the "
        "auditor package lists each with its acceptance).",
    )
    accepted_risks_note: str = Field(
        default="No risk is accepted: every failing check counts.",
        description="(ours) The same in a sentence for the board.",
    )


class ScorecardReport(OutputModel):
    report_id: str
    plan: str
    generated_at: dt.datetime
    generated_by: Literal["llm", "deterministic"] = Field(
        description="(ours) Who wrote the board narrative: 'llm' (the model configured by "
        "TUTELA_LLM_*, from the scorecard's numbers) or 'deterministic' (from the numbers, "
        "when no model is configured or it failed)."
    )
    scorecard: Scorecard
