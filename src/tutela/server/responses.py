"""JSON responses for large documents the engine builds (reports, diffs).

They are written as a scan's ``ReportDocument`` encodes itself, or as a ``StoredDiff`` merges
two stored reports: no second validation and serialisation through the response model, which
the route still declares for the OpenAPI document.

Both are streamed: a dry run's report is encoded a block at a time as it is sent, a stored one
is inflated a slice at a time from the compressed bytes that were sealed, a diff is merged from
sorted, compressed chunks of both reports; so the server never holds a whole copy of a report
or a diff that may be hundreds of megabytes (the README's "Limits").
"""

from __future__ import annotations

from starlette.responses import StreamingResponse

from tutela.scanner.outputs.report_json import ReportDocument
from tutela.server.reports.diff_stream import StoredDiff


class ReportResponse(StreamingResponse):
    """A scan's report, sent a piece at a time (made in the thread pool, not the event loop)."""

    def __init__(self, document: ReportDocument) -> None:
        super().__init__(document.compact_chunks(), media_type="application/json")


class DiffResponse(StreamingResponse):
    """The diff of two stored reports, written a piece at a time as it is sent."""

    def __init__(self, diff: StoredDiff) -> None:
        super().__init__(diff.chunks(), media_type="application/json")
