"""The seed's scan request body."""

from __future__ import annotations

import uuid

from pydantic import Field

from tutela.server.schemas import InputModel


class ScanRequest(InputModel):
    frameworks: list[str] = Field(
        min_length=1,
        description="Framework ids from /frameworks; your plan decides which you may scan.",
        examples=[["iso42001", "sr11_7"]],
    )
    subscription_id: uuid.UUID | None = Field(
        default=None, description="Scan one linked subscription; omit to scan all of them."
    )
    generate_narrative: bool | None = Field(
        default=None,
        description="Plain-English narrative per finding; default on for paid plans.",
    )
    scan_label: str | None = Field(
        default=None, max_length=200, description="Stored with the report, e.g. a CI run id."
    )
