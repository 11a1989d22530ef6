"""JSON responses for large documents the engine builds (reports, diffs).

They are written as a scan's ``ReportDocument`` encodes itself, or as a ``StoredDiff`` merges
two stored reports: no second validation and serialisation through the response model, which
the route still declares for the OpenAPI document.

A report is kept as one zlib stream (sealed when stored), and that stream is already an answer
in HTTP's ``deflate`` coding, or, between a gzip header and trailer, in ``gzip``: a client that
accepts either gets the report's stream as it was compressed (``EncodedReport``), neither
inflated nor compressed again (the ``GZipMiddleware`` leaves an answer with its own
``Content-Encoding`` alone), a hundredth of the JSON's bytes. A request with an
``Idempotency-Key`` is answered the same way: its answer is kept in its coding, and a replay to
a client that does not accept that coding is decoded (``idempotency.answers``). A client that
accepts neither gets the JSON streamed: a dry run's report encoded a block at a time as it is
sent, a stored one inflated a slice at a time; so the server never holds a whole copy of a
report or a diff that may be hundreds of megabytes (the README's "Limits").
"""

from __future__ import annotations

import struct
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from tutela.scanner.outputs.deflating import Deflated
from tutela.scanner.outputs.report_json import ReportDocument
from tutela.server.reports.diff_stream import StoredDiff

Coding = Literal["gzip", "deflate"]
# A gzip member's header: deflate, no name or comment, no time, unknown system (RFC 1952).
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_ZLIB_HEADER, _ZLIB_TRAILER = 2, 4  # bytes around a zlib stream's deflate data (RFC 1950)


def report_coding(request: Request) -> Coding | None:
    """The coding a report is sent in: gzip (preferred: what every other answer uses) or
    deflate when the client accepts it, else None (the JSON, which ``GZipMiddleware`` may
    still compress)."""
    accept_encoding = request.headers.get("accept-encoding", "")
    for coding in ("gzip", "deflate"):
        if accepts(accept_encoding, coding):
            return coding
    return None


def accepts(accept_encoding: str, coding: str) -> bool:
    """Whether an ``Accept-Encoding`` header value accepts ``coding`` (by name, or ``*``)."""
    accepted = _accepted_codings(accept_encoding)
    return accepted.get(coding, accepted.get("*", 0.0)) > 0


def _accepted_codings(header: str) -> dict[str, float]:
    """Accept-Encoding's codings and their weights (RFC 9110 12.5.3; ``q=0``: not acceptable)."""
    weights: dict[str, float] = {}
    for item in header.split(","):
        name, *parameters = item.split(";")
        weight = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        if name.strip():
            weights[name.strip().lower()] = weight
    return weights


class EncodedReport(Response):
    """A report's zlib stream sent as it was compressed, in the client's ``coding``."""

    media_type = "application/json"

    def __init__(self, report: Deflated, coding: Coding) -> None:
        if coding == "deflate":
            body = report.stream
        else:
            trailer = struct.pack("<II", report.crc32 & 0xFFFFFFFF, report.size & 0xFFFFFFFF)
            deflate_data = memoryview(report.stream)[_ZLIB_HEADER:-_ZLIB_TRAILER]
            body = b"".join((_GZIP_HEADER, deflate_data, trailer))
        headers = {"Content-Encoding": coding, "Vary": "Accept-Encoding"}
        super().__init__(body, headers=headers)


def report_response(document: ReportDocument, request: Request) -> Response:
    """A scan's report in the coding the client accepts (compressed now for a dry run, once),
    else streamed. Call it off the event loop: it may compress the report."""
    coding = report_coding(request)
    if coding is None:
        return ReportResponse(document)
    return EncodedReport(document.deflated(), coding)


class ReportResponse(StreamingResponse):
    """A scan's report, sent a piece at a time (made in the thread pool, not the event loop)."""

    def __init__(self, document: ReportDocument) -> None:
        super().__init__(document.compact_chunks(), media_type="application/json")


class DiffResponse(StreamingResponse):
    """The diff of two stored reports, written a piece at a time as it is sent."""

    def __init__(self, diff: StoredDiff) -> None:
        super().__init__(diff.chunks(), media_type="application/json")
