"""The diff case of ``bench/api_memory.py``: ``POST /reports/diff`` of two enterprise-size reports.

The template of the largest estate within the limit is scanned and saved, then the same template
changed (of every 50 resources, one child resource removed and one with a `publicNetworkAccess`
setting opened to the public network): two reports of about 640,000 findings each, most of them
the same. A fresh server (so the scans' own peak is not counted) answers their diff; the answer
(about a GB of JSON) is read as it arrives, gunzipped a piece at a time, and the findings of each
list counted, never kept.
"""

from __future__ import annotations

import json
import re
import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from api_memory import Case, case_env, save_report, vm
from api_server import Server, create_tenants, tutela

# The answer's lists in order (``StoredDiff.chunks``): the findings of each are counted apart.
SECTIONS = ("new_findings", "resolved", "unchanged", "severity_changes", "accepted")
# A member of every finding (not of a severity change), and the lists after the first.
_MARKS = re.compile(rb'"mapping":|\],"(' + b"|".join(s.encode() for s in SECTIONS[1:]) + rb')":\[')
_LONGEST = max(len(f'],"{section}":['.encode()) for section in SECTIONS[1:])


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


def diff_cases(template: Path, work: Path, desc: str) -> list[Case]:
    """The diff without, then with an ``Idempotency-Key`` (as the SDK sends every POST: the
    server keeps the answer to replay it), each by a fresh server."""
    env = case_env(work / "data-diff")
    tutela(env, "db", "upgrade")
    [tenant] = create_tenants(env, 1, "diff")
    changed = changed_template(template, work)
    saver = Server(env, work / "server-diff-save.log")
    try:
        saver.wait_healthy()
        with httpx.Client(base_url=saver.base_url, timeout=900, headers=tenant.headers) as client:
            before = save_report(client, template)
            time.sleep(1.1)  # (another second: the reports' ids need no suffix)
            after = save_report(client, changed)
            listed = client.get("/reports", params={"limit": 2}).json()["items"]
            resources = max(int(item["resources_scanned"]) for item in listed)
    finally:
        saver.stop()
    cases = []
    for name, headers in [("diff", {}), ("diff-keyed", {"Idempotency-Key": str(uuid.uuid4())})]:
        server = Server(env, work / f"server-{name}.log")
        try:
            server.wait_healthy()
            with httpx.Client(
                base_url=server.base_url, timeout=900, headers={**tenant.headers, **headers}
            ) as client:
                idle = vm(server.process.pid, "VmRSS")
                started = time.perf_counter()
                body = {"report_a": before, "report_b": after}
                with client.stream("POST", "/reports/diff", json=body) as response:
                    gzipped = response.headers.get("content-encoding") == "gzip"
                    wire, plain, counted = _read(response.iter_raw(), gzipped)
                seconds = time.perf_counter() - started
                peak = vm(server.process.pid, "VmHWM")
        finally:
            server.stop()
        with_key = " (with an `Idempotency-Key`, as the SDK sends)" if headers else ""
        lists = [counted[section] for section in SECTIONS]
        what = (
            f"POST /reports/diff{with_key} of two saved reports: the template's, then the same "
            "template with, of every 50 resources, a child removed and one opened to the public "
            f"network; answered {lists[0]:,} new, {lists[1]:,} resolved, {lists[2]:,} unchanged "
            "findings" + (f", {lists[4]:,} accepted" if lists[4] else "")
        )
        cases.append(
            Case(
                name,
                what,
                desc,
                template.stat().st_size,
                response.status_code,
                seconds,
                peak,
                idle,
                resources,
                sum(lists),
                wire if gzipped else None,
                plain,
            )
        )
        print(cases[-1], flush=True)
    return cases


def _read(pieces: Iterator[bytes], gzipped: bool) -> tuple[int, int, dict[str, int]]:
    """(bytes on the wire, bytes of JSON, findings in each list by name) of an answer as it
    arrives; a severity change is no finding (its list counts 0)."""
    wire = plain = 0
    lists = dict.fromkeys(SECTIONS, 0)
    at = SECTIONS[0]  # the list being read
    inflater = zlib.decompressobj(wbits=31)
    carry = b""
    for piece in pieces:
        wire += len(piece)
        text = inflater.decompress(piece) if gzipped else piece
        plain += len(text)
        window = carry + text
        for mark in _MARKS.finditer(window):
            if mark.end() <= len(carry):
                continue  # (seen in the previous piece)
            if mark.group(1):
                at = mark.group(1).decode()
            else:
                lists[at] += 1
        carry = window[-(_LONGEST - 1) :]
    return wire, plain, lists
