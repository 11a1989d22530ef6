"""The API benchmark's snapshot: one subscription of a generated estate, cut to N resources."""

from __future__ import annotations

import math
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from api_settings import BENCH, SEED


@dataclass
class Snapshot:
    body: bytes
    size_bytes: int
    subscription_id: str
    generated: int  # N given to bench/generate.py
    records: int  # records in the export
    resources: int  # resources as Tutela reads them (diagnostic settings are facts, not resources)
    diagnostics: int
    by_type: dict[str, int]
    command: str


def _subscription_of(record: dict[str, Any]) -> str:
    declared = record.get("subscriptionId")
    if declared:
        return str(declared).lower()
    return str(record["id"]).split("/")[2].lower()


def _is_diagnostic(record: dict[str, Any]) -> bool:
    return str(record.get("type", "")).lower() == "microsoft.insights/diagnosticsettings"


def _target_of_diagnostic(record: dict[str, Any]) -> str:
    return str(record["id"]).lower().split("/providers/microsoft.insights/diagnosticsettings/")[0]


def build_snapshot(wanted: int, work: Path) -> Snapshot:
    """``wanted`` resources of one subscription, in the generator's order.

    Generates N = ``wanted`` first; if the subscription with most resources has fewer, generates
    a larger N and keeps the first ``wanted`` resources (records other than diagnostic
    settings) of that subscription, with the diagnostic settings of the resources kept.
    """
    from tutela.scanner.sources.arg import resources_from_arg

    size = wanted
    while True:
        out = work / f"estate-{size}"
        command = f"bench/generate.py {size} --seed {SEED} --out {out}"
        subprocess.run(  # noqa: S603
            [sys.executable, str(BENCH / "generate.py"), str(size), "--seed", str(SEED),
             "--out", str(out)],
            check=True, capture_output=True,
        )  # fmt: skip
        records = orjson.loads((out / "arg.json").read_bytes())["data"]
        per_subscription: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            per_subscription.setdefault(_subscription_of(record), []).append(record)
        subscription, mine = max(
            per_subscription.items(), key=lambda item: sum(not _is_diagnostic(r) for r in item[1])
        )
        have = sum(not _is_diagnostic(r) for r in mine)
        if have >= wanted:
            break
        size = math.ceil(size * wanted / have * 1.05)
    kept: list[dict[str, Any]] = []
    kept_ids: set[str] = set()
    for record in mine:
        if _is_diagnostic(record):
            continue
        if len(kept_ids) == wanted:
            break
        kept.append(record)
        kept_ids.add(str(record["id"]).lower())
    diagnostics = [r for r in mine if _is_diagnostic(r) and _target_of_diagnostic(r) in kept_ids]
    export = {"count": len(kept) + len(diagnostics), "data": kept + diagnostics}
    body = orjson.dumps(export)
    resources = resources_from_arg(orjson.loads(body), "snapshot")
    return Snapshot(
        body=body,
        size_bytes=len(body),
        subscription_id=subscription,
        generated=size,
        records=len(kept) + len(diagnostics),
        resources=len(resources),
        diagnostics=len(diagnostics),
        by_type=dict(Counter(r.type for r in resources).most_common()),
        command=command,
    )
