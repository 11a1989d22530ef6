"""Shared steps of the analytics tests: ask an endpoint, count a report's findings by hand."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.platform import Platform


def ask(platform: Platform, operator: dict[str, str], path: str, **params: Any) -> dict[str, Any]:
    """GET /admin/analytics/<path> that must succeed; its body."""
    response = platform.client.get(f"/admin/analytics/{path}", headers=operator, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def failed_by_framework(*reports: dict[str, Any]) -> dict[str, dict[str, int]]:
    """{framework: {severity: failed findings}} read from full reports' findings."""
    counted: dict[str, Counter[str]] = {}
    for report in reports:
        for finding in report["findings"]:
            if finding["status"] == "fail":
                counted.setdefault(finding["framework"], Counter())[finding["severity"]] += 1
    return {framework: dict(counts) for framework, counts in counted.items()}


def failed_by_check(*reports: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """{check_id: (failed findings, failing resources summed per report)}."""
    findings: Counter[str] = Counter()
    resources: Counter[str] = Counter()
    for report in reports:
        failing: dict[str, set[str]] = {}
        for finding in report["findings"]:
            if finding["status"] == "fail":
                findings[finding["check_id"]] += 1
                failing.setdefault(finding["check_id"], set()).add(finding["resource"])
        for check_id, names in failing.items():
            resources[check_id] += len(names)
    return {check_id: (findings[check_id], resources[check_id]) for check_id in findings}


def frameworks_answered(body: dict[str, Any]) -> dict[str, dict[str, int]]:
    """/findings' by_framework as failed_by_framework shapes it (zero severities left out)."""
    return {
        entry["framework"]: {s: entry[s] for s in ("critical", "high", "medium", "low") if entry[s]}
        for entry in body["by_framework"]
    }
