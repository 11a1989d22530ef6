"""Bodies of the enterprise insights (the seed's field names, exactly)."""

from __future__ import annotations

from pydantic import Field

from tutela.server.schemas import OutputModel


class EnterpriseDiscovery(OutputModel):
    report_id: str
    scorecard_available: bool
    plan: str
    upgrade_message: str | None = Field(
        description="Why the insights are not available, below Enterprise; null on Enterprise."
    )
    endpoints: dict[str, str] = Field(
        description="Insight name → its path for this report (empty below Enterprise).",
        examples=[{"scorecard": "/report/COMP-20260519-143022/scorecard"}],
    )
