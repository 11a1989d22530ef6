"""The insight cases of ``bench/api_memory.py``: the enterprise insights of a report at the limit.

The template of the largest estate within the limit is scanned and saved (about 560,000
findings), then each insight of that report is asked of a fresh server (so neither the scan's
peak nor another insight's is counted): ``GET /report/{id}/scorecard``, ``/roadmap``,
``/auditor-package`` and the same package as a PDF (``?format=pdf``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
from api_memory import Case, case_env, measure, save_report
from api_server import Server, create_tenants, tutela

Query = dict[str, str]

# case name → (path under /report/{id}, query, what the row says of it)
INSIGHTS: dict[str, tuple[str, Query, str]] = {
    "insights-scorecard": ("scorecard", {}, "the executive scorecard"),
    "insights-roadmap": ("roadmap", {}, "the remediation roadmap"),
    "insights-auditor": ("auditor-package", {}, "the auditor evidence package (JSON)"),
    "insights-auditor-pdf": (
        "auditor-package",
        {"format": "pdf"},
        "the auditor evidence package as a PDF",
    ),
}


def insight_request(name: str) -> str:
    """The row's request: the GET, its query, and what it answers."""
    path, query, what = INSIGHTS[name]
    suffix = "".join(f"?{k}={v}" for k, v in query.items())
    return f"GET /report/{{id}}/{path}{suffix} of the template's saved report: {what}"


def insights_cases(template: Path, work: Path, desc: str, wanted: list[str]) -> list[Case]:
    """Each insight in ``wanted`` (case names of ``INSIGHTS``) of the template's saved report,
    each by a fresh server."""
    env = case_env(work / "data-insights")
    tutela(env, "db", "upgrade")
    [tenant] = create_tenants(env, 1, "insights")
    saver = Server(env, work / "server-insights-save.log")
    try:
        saver.wait_healthy()
        with httpx.Client(base_url=saver.base_url, timeout=900, headers=tenant.headers) as client:
            report_id = save_report(client, template)
            [row] = client.get("/reports", params={"limit": 1}).json()["items"]
    finally:
        saver.stop()
    resources = int(row["resources_scanned"])
    findings = sum(int(row[f"{s}_count"]) for s in ("critical", "high", "medium", "low"))
    cases = []
    for name in [n for n in INSIGHTS if n in wanted]:
        path, query, _ = INSIGHTS[name]
        server = Server(env, work / f"server-{name}.log")
        try:
            server.wait_healthy()
            with httpx.Client(
                base_url=server.base_url, timeout=900, headers=tenant.headers
            ) as client:

                def request(  # type: ignore[no-untyped-def]
                    client: httpx.Client = client, path: str = path, query: Query = query
                ):
                    return client.stream("GET", f"/report/{report_id}/{path}", params=query)

                case = measure(
                    server, name, insight_request(name), request, desc, template.stat().st_size
                )
        finally:
            server.stop()
        # The answer is the insight, not the report: its counts are those of the report read.
        cases.append(dataclasses.replace(case, resources=resources, findings=findings))
        print(cases[-1], flush=True)
    return cases
