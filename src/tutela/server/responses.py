"""JSON responses for large documents the engine builds (reports, diffs).

They are written straight with orjson, or as a scan's ``ReportDocument`` encodes itself: no
second validation and serialisation through the response model, which the route still declares
for the OpenAPI document. Values a source could not resolve are written as ``"<unknown>"``, as
the offline scanner writes them.

A scan's report is streamed (``ReportResponse``): a dry run's is encoded a block at a time as it
is sent, a stored one is inflated a slice at a time from the compressed bytes that were sealed,
so the server never holds a whole copy of a report that may be hundreds of megabytes (the
README's "Limits").
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response, StreamingResponse

from tutela.scanner.outputs.report import dumps
from tutela.scanner.outputs.report_json import ReportDocument


class DocumentResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        if isinstance(content, ReportDocument):
            return content.json()
        return dumps(content, indent=False)


class ReportResponse(StreamingResponse):
    """A scan's report, sent a piece at a time (made in the thread pool, not the event loop)."""

    def __init__(self, document: ReportDocument) -> None:
        super().__init__(document.compact_chunks(), media_type="application/json")
