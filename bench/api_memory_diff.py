"""The diff case of ``bench/api_memory.py``: ``POST /reports/diff`` of two enterprise-size reports.

The template of the largest estate within the limit is scanned and saved, then the same template
changed (every 50th leaf resource removed, every 50th vault and registry opened to the public
network): two reports of about 640,000 findings each, most of them the same. A fresh server (so
the scans' own peak is not counted) answers their diff; the answer (about a GB of JSON) is read
as it arrives, gunzipped a piece at a time, and its findings counted, never kept.
"""

from __future__ import annotations

import json
import time
import zlib
from pathlib import Path
from typing import Any

import httpx
from api_memory import Case, case_env, vm
from api_server import Server, create_tenants, tutela

_FINDING = b'"mapping":'  # a member of every finding, not of a severity change


def changed_template(path: Path, work: Path) -> Path:
    """The template with a few resources removed and a few made to fail more checks."""
    template: dict[str, Any] = json.loads(path.read_bytes())
    resources = template["resources"]
    kept = []
    for i, resource in enumerate(resources):
        if i % 50 == 7 and "/" in str(resource.get("name", "")) and "dependsOn" in resource:
            continue  # a child resource (nothing depends on it): its findings are resolved
        properties = resource.get("properties")
        if i % 50 == 3 and isinstance(properties, dict) and "publicNetworkAccess" in properties:
            properties["publicNetworkAccess"] = "Enabled"  # new findings
        kept.append(resource)
    template["resources"] = kept
    changed = work / "template-changed.json"
    changed.write_text(json.dumps(template), encoding="utf-8")
    return changed


def _save(client: httpx.Client, path: Path) -> str:
    with client.stream(
        "POST", "/scan/iac", content=path.read_bytes(),
        headers={"Content-Type": "application/json"},
    ) as saved:  # fmt: skip
        for _ in saved.iter_raw():
            pass
        if saved.status_code != 200:
            raise RuntimeError(f"saving {path.name}: {saved.status_code}")
    [row] = client.get("/reports", params={"limit": 1}).json()["items"]
    return str(row["report_id"])


def diff_case(template: Path, work: Path, desc: str) -> Case:
    env = case_env(work / "data-diff")
    tutela(env, "db", "upgrade")
    [tenant] = create_tenants(env, 1, "diff")
    changed = changed_template(template, work)
    saver = Server(env, work / "server-diff-save.log")
    try:
        saver.wait_healthy()
        with httpx.Client(base_url=saver.base_url, timeout=900, headers=tenant.headers) as client:
            before = _save(client, template)
            time.sleep(1.1)  # (another second: the reports' ids need no suffix)
            after = _save(client, changed)
            listed = client.get("/reports", params={"limit": 2}).json()["items"]
            resources = max(int(item["resources_scanned"]) for item in listed)
    finally:
        saver.stop()
    server = Server(env, work / "server-diff.log")
    try:
        server.wait_healthy()
        with httpx.Client(base_url=server.base_url, timeout=900, headers=tenant.headers) as client:
            idle = vm(server.process.pid, "VmRSS")
            started = time.perf_counter()
            wire = plain = findings = 0
            inflater = zlib.decompressobj(wbits=31)
            carry = b""
            body = {"report_a": before, "report_b": after}
            with client.stream("POST", "/reports/diff", json=body) as response:
                gzipped = response.headers.get("content-encoding") == "gzip"
                for piece in response.iter_raw():
                    wire += len(piece)
                    text = inflater.decompress(piece) if gzipped else piece
                    plain += len(text)
                    findings += (carry + text).count(_FINDING)
                    carry = text[-(len(_FINDING) - 1) :]
            seconds = time.perf_counter() - started
            peak = vm(server.process.pid, "VmHWM")
    finally:
        server.stop()
    what = (
        "POST /reports/diff of two saved reports: the template's, then the same template with "
        "2 % of its resources removed or opened to the public network"
    )
    return Case(
        "diff", what, desc, template.stat().st_size, response.status_code, seconds, peak, idle,
        resources, findings, wire if gzipped else None, plain,
    )  # fmt: skip
