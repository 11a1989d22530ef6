"""The SDK (and so `tutela gate`) asks for gzip and reads the compressed reports as they were."""

from __future__ import annotations

import httpx

from tests.sdk.conftest import LiveServer


class Recording(httpx.HTTPTransport):
    """httpx's own network transport, noting what was asked for and what came back."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str | None, str | None]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.seen.append(
            (
                request.url.path,
                request.headers.get("accept-encoding"),
                response.headers.get("content-encoding"),
            )
        )
        return response


def test_a_scan_and_its_report_come_gzipped_and_read_whole(server: LiveServer) -> None:
    transport = Recording()
    with server.session(transport=transport) as session:
        report = session.scans.run(["iso42001", "sox"], label="gzip")
        again = session.reports.get(report.report_id)
    assert report.findings
    assert again == report
    wire = {path: (asked, answered) for path, asked, answered in transport.seen}
    asked, answered = wire["/scan"]
    assert asked is not None
    assert "gzip" in asked
    assert answered == "gzip"
    assert wire[f"/report/{report.report_id}"][1] == "gzip"
