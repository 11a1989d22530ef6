"""The remediation roadmap's body: the seed's field names exactly, plus ours (marked so)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from tutela.server.schemas import OutputModel


class RoadmapAction(OutputModel):
    action: str = Field(description="What to do, on how many resources (the check's title).")
    framework: str = Field(
        description="The framework the check maps to most strongly (the first scanned on a tie)."
    )
    effort: str = Field(description="Low | Medium | High, from the catalogue's check.")
    owner_role: str
    azure_steps: str = Field(description="The catalogue check's Azure portal steps.")
    finding_ref: str = Field(
        description="'<check_id>:<control_id>' of the action's first finding in report order.",
        examples=["ACR-ANON-PULL:SR117-MRM-ACCESS-CONTROL"],
    )
    check_id: str = Field(description="(ours) The failing check this action remediates.")
    severity: str = Field(description="(ours) critical | high | medium | low.")
    remediation: str = Field(description="(ours) The catalogue check's remediation text.")
    frameworks: list[str] = Field(description="(ours) Every scanned framework the check fails.")
    controls: list[str] = Field(description="(ours) Every control the check's findings name.")
    resources: list[str] = Field(
        description="(ours) Ids of the resources failing the check, in report order, at most 50."
    )
    resource_count: int = Field(description="(ours) How many resources fail the check.")
    score_gain: float | None = Field(
        description="(ours) Points the aggregate score gains when the check's failures pass, "
        "re-scored from the report's score_basis (unrounded, to 0.1); null without score_basis."
    )
    score_after: int | None = Field(
        description="(ours) The aggregate score the report would show after the action, as the "
        "engine rounds it; null without score_basis."
    )


class Roadmap(OutputModel):
    immediate: list[RoadmapAction] = Field(description="30 days: critical checks.")
    short_term: list[RoadmapAction] = Field(description="60 days: high checks.")
    strategic: list[RoadmapAction] = Field(description="90 days: medium and low checks.")
    summary_note: str
    aggregate_score: int | None = Field(description="(ours) The report's aggregate score now.")


class RoadmapReport(OutputModel):
    report_id: str
    plan: str
    generated_at: dt.datetime
    roadmap: Roadmap
