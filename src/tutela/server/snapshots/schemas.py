"""Snapshot bodies: the upload is a raw Resource Graph export, the answer its metadata."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from pydantic import Field

from tutela.server.schemas import OutputModel

_RECORDS: Final = {
    "type": "array",
    "items": {"type": "object", "required": ["id", "type"]},
    "description": "Resource Graph records: id, name, type, subscriptionId, properties, …",
}

EXPORT_REQUEST_BODY: Final[dict[str, Any]] = {
    "required": True,
    "description": 'An Azure Resource Graph export as `az graph query -q "…" -o json` prints '
    'it: a list of records or `{"data": [...]}` (all pages in one). Every record belongs to '
    "the subscription of the path, or to none.",
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    _RECORDS,
                    {"type": "object", "required": ["data"], "properties": {"data": _RECORDS}},
                ]
            }
        }
    },
}


class SnapshotOut(OutputModel):
    subscription_id: str
    resources: int = Field(description="Resources read from the export.")
    size_bytes: int = Field(description="Size of the uploaded export.")
    uploaded_at: dt.datetime
