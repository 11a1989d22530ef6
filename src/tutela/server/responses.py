"""A JSON response for large documents the engine builds (reports, diffs).

They are written straight with orjson, or as a scan's ``ReportDocument`` encodes itself: no
second validation and serialisation through the response model, which the route still declares
for the OpenAPI document. Values a source could not resolve are written as ``"<unknown>"``, as
the offline scanner writes them.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from tutela.scanner.outputs.report import dumps
from tutela.scanner.outputs.report_json import ReportDocument


class DocumentResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        if isinstance(content, ReportDocument):
            return content.json()
        return dumps(content, indent=False)
