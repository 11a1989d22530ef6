"""TUTELA_LOG_FORMAT=json: every line a JSON object carrying the request's correlation id."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.server.observability.running import seeded_tenant, serve_environment
from tests.serving import served
from tutela.server.config import Settings
from tutela.server.observability import JsonLineFormatter

FORGED = '{"level": "ERROR", "logger": "tutela.auth", "message": "forged"}'


def test_every_line_of_a_running_server_is_json_with_its_correlation_id(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    settings, tenant = seeded_tenant(settings_factory)
    log = tmp_path / "serve.log"
    environment = serve_environment(settings, TUTELA_LOG_FORMAT="json")
    with served(environment, log) as base_url:
        mine = httpx.get(
            f"{base_url}/tenant/me",
            headers={**tenant.headers, "X-Correlation-ID": "json-logs-0001"},
        )
        assert mine.status_code == 200
        theirs = httpx.get(f"{base_url}/report/x%0A{FORGED}%1B[31m", headers=tenant.headers)
        assert theirs.status_code == 422  # a report id is never that
    lines = log.read_text(encoding="utf-8").splitlines()

    # The banner `tutela serve` prints for a person is not a log line; every other line is.
    records = [json.loads(line) for line in lines if not line.startswith("Serving on ")]
    assert len(records) >= 4, lines
    for record in records:
        assert {"time", "level", "logger", "message", "correlation_id"} <= set(record), record
    # uvicorn's own lines are JSON too, outside any request.
    assert any(r["logger"].startswith("uvicorn") and r["correlation_id"] == "-" for r in records)

    requests = [r for r in records if r.get("event") == "request"]
    first = next(r for r in requests if r["path"] == "/tenant/me")
    assert first["correlation_id"] == "json-logs-0001" == mine.headers["X-Correlation-ID"]
    assert first["status"] == 200
    assert first["key"] == tenant.owner_key[:12]
    assert tenant.owner_key not in log.read_text(encoding="utf-8")

    second = next(r for r in requests if r["path"].startswith("/report/"))
    assert second["correlation_id"] == theirs.headers["X-Correlation-ID"]
    # The newline and the escape arrive as characters of the value, never as a line or a field.
    assert second["path"] == f"/report/x\n{FORGED}\x1b[31m"
    assert not any(r.get("message") == "forged" for r in records)


def test_controls_are_escaped_in_the_encoded_line() -> None:
    record = logging.LogRecord(
        "tutela.http", logging.INFO, __file__, 1, "request path=%s", ("/a\n\x1b[2J\u2028",), None
    )
    record.correlation_id = "-"
    line = JsonLineFormatter().format(record)
    assert "\n" not in line
    assert "\x1b" not in line
    assert "\u2028" not in line
    assert json.loads(line)["path"] == "/a\n\x1b[2J\u2028"
