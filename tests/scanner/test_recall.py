"""Recall on an estate of known defects: every check of the AI estate fires where it should.

Each file under ``recall/`` is a Resource Graph export (``{"data": [...]}``) with one more key,
``defects``: check id → the ids of the resources in that file that carry the check's defect.
The files are read together as one estate (one scan, as a user would run it), and each named
(check, resource) pair must fail; no other resource of the estate may fail a check that a file
names only healthy resources for (``healthy``: check id → resource ids that must pass).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest

from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.evaluate import evaluate_estate
from tutela.scanner.estate import Estate
from tutela.scanner.sources.arg import resources_from_arg

RECALL_DIR = Path(__file__).parent / "recall"
AS_OF = dt.date(2026, 12, 1)
CATALOG = load_catalog()


def _files() -> list[Path]:
    return sorted(RECALL_DIR.glob("*.json"))


def _load() -> tuple[Estate, dict[str, set[str]], dict[str, set[str]]]:
    records: list[Any] = []
    defects: dict[str, set[str]] = {}
    healthy: dict[str, set[str]] = {}
    for path in _files():
        document = orjson.loads(path.read_bytes())
        records += document["data"]
        for into, key in ((defects, "defects"), (healthy, "healthy")):
            for check_id, ids in document.get(key, {}).items():
                into.setdefault(check_id, set()).update(i.lower() for i in ids)
    return Estate(resources_from_arg({"data": records}, "recall")), defects, healthy


@pytest.fixture(scope="module")
def outcomes() -> tuple[dict[tuple[str, str], str], dict[str, set[str]], dict[str, set[str]]]:
    estate, defects, healthy = _load()
    results = evaluate_estate(estate, CATALOG.checks, as_of=AS_OF)
    return {(r.check.id, r.resource.key): r.status for r in results}, defects, healthy


# The checks issue 19 added for AI estates: each has a planted defect and a healthy twin.
ADDED_FOR_AI_ESTATES = {
    "ACR-DATA-ENDPOINT",
    "ACR-GEO-REPLICATION",
    "AKS-DISK-CMK",
    "AKS-FREE-TIER",
    "AKS-HTTP-APP-ROUTING",
    "AKS-KV-SECRET-ROTATION",
    "AKS-MONITORING",
    "AML-COMPUTE-MIN-NODES",
    "AML-WS-V1-LEGACY",
    "AOAI-DEPLOY-MODEL-RETIREMENT",
    "APPI-CLASSIC",
    "APPI-LOCAL-AUTH",
    "APPI-PUBLIC-INGESTION",
    "APPI-PUBLIC-QUERY",
    "KV-SOFT-DELETE-RETENTION",
    "RBAC-PRIV-RG-SCOPE",
    "SRCH-MANAGED-IDENTITY",
    "STG-BLOB-SOFT-DELETE",
    "STG-GEO-REDUNDANCY",
}
# The checks issue 20 added for AI Foundry and the AI data plane (same rule: defect and twin).
ADDED_FOR_AI_DATA_PLANE: set[str] = {
    "AIF-CONNECTION-SECRET",
    "AIF-PROJECT-IDENTITY",
    "COSMOS-AZURE-DATACENTERS",
    "COSMOS-CMK",
    "COSMOS-FIREWALL",
    "COSMOS-KEY-METADATA-WRITE",
    "COSMOS-LOCAL-AUTH",
    "COSMOS-PUBLIC-NETWORK",
    "DBW-CMK",
    "DBW-NO-PUBLIC-IP",
    "DBW-PUBLIC-NETWORK",
    "DBW-SKU-PREMIUM",
    "DBW-VNET-INJECTION",
    "AML-CONN-SECRET-AUTH",
    "AML-DATASTORE-SECRET-AUTH",
}


def test_the_recall_estate_exists_and_names_real_checks() -> None:
    assert _files(), f"no recall estate under {RECALL_DIR}"
    _, defects, healthy = _load()
    known = {check.id for check in CATALOG.checks}
    assert set(defects) | set(healthy) <= known
    assert set(defects) >= ADDED_FOR_AI_ESTATES | ADDED_FOR_AI_DATA_PLANE
    assert set(healthy) >= ADDED_FOR_AI_ESTATES | ADDED_FOR_AI_DATA_PLANE


def test_every_planted_defect_is_found(
    outcomes: tuple[dict[tuple[str, str], str], dict[str, set[str]], dict[str, set[str]]],
) -> None:
    status, defects, _ = outcomes
    missed = sorted(
        (check_id, resource_id, status.get((check_id, resource_id), "not evaluated"))
        for check_id, ids in defects.items()
        for resource_id in ids
        if status.get((check_id, resource_id)) != "fail"
    )
    planted = sum(len(ids) for ids in defects.values())
    assert planted
    assert not missed, f"recall {planted - len(missed)}/{planted}; missed {missed}"


def test_healthy_resources_pass(
    outcomes: tuple[dict[tuple[str, str], str], dict[str, set[str]], dict[str, set[str]]],
) -> None:
    status, _, healthy = outcomes
    wrong = sorted(
        (check_id, resource_id, status.get((check_id, resource_id), "not evaluated"))
        for check_id, ids in healthy.items()
        for resource_id in ids
        if status.get((check_id, resource_id)) != "pass"
    )
    assert not wrong, wrong
