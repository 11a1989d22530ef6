"""Schema bases shared by every domain: inputs forbid unknown fields, outputs are explicit."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorOut(BaseModel):
    """Every error body: ``detail`` is a message, or FastAPI's list of field errors on 422."""

    detail: str | list[dict[str, object]]


class StatusOut(OutputModel):
    status: str = "ok"
