"""``tutela export``, against the live source's recorded Entra ID, Resource Graph and ARM answers.

The recordings are replayed at the azure-core transport layer (tests/scanner/sources/replay.py):
everything above it, the Azure SDK included, runs for real.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.scanner.sources.replay import ReplayTransport
from tests.scanner.sources.test_azure import (
    CLIENT,
    ENDPOINT,
    OPENAI,
    SECRET,
    STORAGE,
    SUBSCRIPTION,
    TENANT,
    Principal,
)
from tutela.cli.main import app
from tutela.scanner.scan import run_scan
from tutela.scanner.sources import azure, read_estate
from tutela.scanner.sources.azure import read_live_estate

ENVIRONMENT = {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT, "AZURE_CLIENT_SECRET": SECRET}


def replay(monkeypatch: pytest.MonkeyPatch, *overlays: str) -> ReplayTransport:
    """Azure's answers for the command: the recordings stand in for the HTTP session."""
    transport = ReplayTransport.of("sign_in.json", "estate.json", *overlays)
    monkeypatch.setattr(azure, "RequestsTransport", lambda: transport)
    return transport


def export(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, ["export", *args], env=ENVIRONMENT if env is None else env)


def findings(report: dict[str, Any]) -> tuple[list[tuple[str, ...]], list[tuple[str, str]]]:
    """What a scan concluded: each finding and each unknown result, order-free."""
    failed = sorted(
        (f["check_id"], f["resource"], f["framework"], f["control_id"], json.dumps(f["evidence"]))
        for f in report["findings"]
    )
    unknown = sorted((u["check_id"], u["resource"]) for u in report["unknown"])
    return failed, unknown


def test_a_scan_of_the_export_finds_what_a_live_scan_finds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    transport = replay(monkeypatch)
    path = tmp_path / "estate.json"
    result = export("--subscription", SUBSCRIPTION, "--output", str(path))
    assert result.exit_code == 0, result.output
    assert transport.unused() == []  # every page and every ARM listing was read

    document = json.loads(path.read_text())
    assert document["skip_token"] is None
    assert document["count"] == document["total_records"] == len(document["data"])
    types = {row["type"].lower() for row in document["data"]}
    for kind in (
        "microsoft.resources/subscriptions",
        "microsoft.authorization/roleassignments",
        "microsoft.authorization/roledefinitions",
        "microsoft.security/pricings",
        "microsoft.authorization/policyassignments",
        "microsoft.insights/diagnosticsettings",
        "microsoft.cognitiveservices/accounts/deployments",
        "microsoft.network/privateendpoints",
    ):
        assert kind in types, kind

    scanned = CliRunner().invoke(
        app, ["scan", str(path), "--format", "json", "--fail-on", "none", "--include-passed"]
    )
    assert scanned.exit_code == 0, scanned.output
    from_export = json.loads(scanned.stdout)

    live = read_live_estate(
        Principal(), [SUBSCRIPTION], transport=ReplayTransport.of("sign_in.json", "estate.json")
    )
    assert live.warnings == ()
    scan_ts = dt.datetime.now(dt.UTC)
    _, document_live = run_scan(live.estate, from_export["frameworks"], scan_ts=scan_ts)
    from_live = json.loads(document_live.json())

    assert findings(from_export) == findings(from_live)
    assert findings(from_live)[0]  # (the estate has findings to compare)
    for total in ("resources_scanned", "checks_passed", "checks_failed", "checks_unknown"):
        assert from_export[total] == from_live[total], total
    assert from_export["aggregate_score"] == from_live["aggregate_score"]


def test_no_secret_is_read_or_written(monkeypatch: pytest.MonkeyPatch) -> None:
    transport = replay(monkeypatch)
    result = export("--subscription", SUBSCRIPTION)
    assert result.exit_code == 0, result.output
    # Only reads: no POST to a resource (listKeys, listSecrets, …); the graph is queried by POST.
    posts = [r.url for r in transport.requests if r.method != "GET"]
    assert all("/oauth2/v2.0/token" in url or "Microsoft.ResourceGraph" in url for url in posts)
    assert not any("list" in r.url.split("?")[0].rsplit("/", 1)[-1] for r in transport.requests)
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr
    json.loads(result.stdout)  # stdout holds the export only


def test_progress_and_summary_go_to_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    replay(monkeypatch)
    result = export("--subscription", SUBSCRIPTION)
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    [summary] = result.stderr.strip().splitlines()
    assert summary == (
        f"exported {document['count']} record(s) of 1 subscription(s) to stdout; scan it "
        "with: tutela scan FILE"
    )


def scanned(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["scan", str(path), "--format", "json", "--fail-on", "none"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_unreadable_diagnostic_settings_stay_unknown_as_in_a_live_scan(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    replay(monkeypatch, "diagnostics_forbidden.json")
    path = tmp_path / "estate.json"
    result = export("--subscription", SUBSCRIPTION, "--output", str(path))
    assert result.exit_code == 0
    [warning, _summary] = result.stderr.strip().splitlines()
    assert warning.startswith(f"warning: {STORAGE}: cannot read its diagnostic settings (HTTP 403")
    assert STORAGE.lower() in json.loads(path.read_text())["live_read"]["diagnostics_unread"]

    live = read_live_estate(
        Principal(),
        [SUBSCRIPTION],
        transport=ReplayTransport.of("sign_in.json", "estate.json", "diagnostics_forbidden.json"),
    )
    report = scanned(path)
    _, live_report = run_scan(live.estate, report["frameworks"], scan_ts=dt.datetime.now(dt.UTC))
    assert findings(report) == findings(json.loads(live_report.json()))
    exported = {r.key: r for r in read_estate([path])}
    assert exported[STORAGE.lower()].diagnostic_settings is None  # unread: unknown, not "none"
    assert exported[OPENAI.lower()].diagnostic_settings is not None


def test_a_kind_of_fact_looked_for_and_not_found_is_none_not_unread(tmp_path: Path) -> None:
    """An export with no policy assignment: live-read, the policy checks are decided on none."""
    subscription = f"/subscriptions/{SUBSCRIPTION}"
    records = [
        {"id": OPENAI, "type": "microsoft.cognitiveservices/accounts", "properties": {}},
        {"id": subscription, "type": "microsoft.resources/subscriptions", "name": "sub"},
    ]
    plain_export = {"data": records}
    live_export = {"data": records, "live_read": {"diagnostics_read": [OPENAI.lower()]}}
    unknown_plain = {
        u["check_id"] for u in scanned(write(tmp_path / "a.json", plain_export))["unknown"]
    }
    live = scanned(write(tmp_path / "b.json", live_export))
    unknown_live = {u["check_id"] for u in live["unknown"]}
    decided = unknown_plain - unknown_live
    assert {"DEF-AI-PLAN", "AOAI-DIAG-LOGS"} <= decided
    assert {f["check_id"] for f in live["findings"]} >= {"DEF-AI-PLAN", "AOAI-DIAG-LOGS"}


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    "live_read",
    [[], {"diagnostics_read": "x"}, {"diagnostics_unread": [1]}],
)
def test_a_malformed_live_read_is_one_line(tmp_path: Path, live_read: Any) -> None:
    path = write(tmp_path / "e.json", {"data": [], "live_read": live_read})
    result = CliRunner().invoke(app, ["scan", str(path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f'error: {path}: "live_read" must be {{"diagnostics_read": [ids], "diagnostics_unread": '
        "[ids]}, as tutela export writes it"
    )


@pytest.mark.parametrize(
    ("overlay", "message"),
    [
        (
            "sign_in_invalid_secret.json",
            f"azure: sign-in failed for service principal {CLIENT} in tenant {TENANT}: "
            "AADSTS7000215: Invalid client secret provided.",
        ),
        ("graph_forbidden.json", f"azure: service principal {CLIENT} is not authorised (HTTP 403"),
        ("graph_unreachable.json", "azure: cannot reach Azure: "),
        ("throttled_always.json", "azure: Azure kept throttling requests"),
    ],
)
def test_azure_failures_are_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, overlay: str, message: str
) -> None:
    replay(monkeypatch, overlay)
    path = tmp_path / "estate.json"
    result = export("--subscription", SUBSCRIPTION, "--output", str(path))
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {message}")
    assert SECRET not in result.output
    assert not path.exists()  # nothing half-written
    assert list(tmp_path.iterdir()) == []


def test_a_subscription_the_principal_cannot_read_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    replay(monkeypatch, "subscription_not_visible.json")
    result = export("--subscription", SUBSCRIPTION)
    assert result.exit_code == 1
    assert f"cannot read subscription(s) {SUBSCRIPTION}" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["--subscription", SUBSCRIPTION],
            {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT, "AZURE_CLIENT_SECRET": ""},
            "error: sign-in needs a service principal: missing AZURE_CLIENT_SECRET "
            "(docs/export.md, Credentials)",
        ),
        (
            ["--subscription", SUBSCRIPTION],
            {"AZURE_TENANT_ID": "", "AZURE_CLIENT_ID": "", "AZURE_CLIENT_SECRET": SECRET},
            "error: sign-in needs a service principal: missing --tenant-id (or AZURE_TENANT_ID), "
            "--client-id (or AZURE_CLIENT_ID) (docs/export.md, Credentials)",
        ),
        (
            ["--subscription", "not-a-guid"],
            ENVIRONMENT,
            "error: azure: not subscription ids (GUIDs): not-a-guid",
        ),
        (
            ["--subscription", SUBSCRIPTION, "--output", "/nonexistent-folder/estate.json"],
            ENVIRONMENT,
            "error: cannot write /nonexistent-folder/estate.json: no folder /nonexistent-folder",
        ),
    ],
)
def test_bad_usage_is_one_line_and_exit_2_before_any_call(
    monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str], message: str
) -> None:
    transport = replay(monkeypatch)
    result = export(*args, env=env)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [message]
    assert transport.requests == []


def test_the_export_goes_through_a_temporary_file_into_place(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    replay(monkeypatch)
    path = tmp_path / "estate.json"
    path.write_text("an older export")
    result = export(
        "--subscription", SUBSCRIPTION, "--subscription", SUBSCRIPTION, "--output", str(path)
    )
    assert result.exit_code == 0, result.output
    assert json.loads(path.read_text())["count"] > 0
    assert [p.name for p in tmp_path.iterdir()] == ["estate.json"]
    assert result.stderr.strip().endswith(f"to {path}; scan it with: tutela scan {path}")
    assert str(ENDPOINT) in path.read_text()


def test_a_single_page_given_to_scan_points_at_tutela_export(tmp_path: Path) -> None:
    page = tmp_path / "page.json"
    rows = [{"id": OPENAI, "type": "microsoft.cognitiveservices/accounts"}]
    page.write_text(json.dumps({"count": 1, "data": rows, "skip_token": "x", "total_records": 2}))
    result = CliRunner().invoke(app, ["scan", str(page)])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert "this is one page (1 of 2 records; skip_token is set)" in line
    assert line.endswith(
        "(`tutela export --subscription ID` writes a whole export; docs/export.md)"
    )
