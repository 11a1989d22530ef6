"""A small assessed estate with failing, passing and undecided checks, for the output tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.scanner.engine.cases import make_resource
from tests.scanner.engine.controls import control, framework, with_controls
from tutela.scanner.catalog import Catalog
from tutela.scanner.estate import Estate
from tutela.scanner.narrative.deterministic import DeterministicNarrator
from tutela.scanner.scan import run_scan

SCAN_TS = dt.datetime(2026, 11, 23, 9, 30, 5, tzinfo=dt.UTC)


def small_catalog() -> Catalog:
    """The shipped checks, with two frameworks' worth of controls mapped to two of them."""
    return with_controls(
        framework(
            "iso42001",
            "ISO42001",
            control("A.6.2.8", "AI system event logs", direct=("AOAI-DIAG-LOGS",)),
            control("A.9.2", "Responsible use", direct=("AOAI-LOCAL-AUTH",)),
            ai_scoped=True,
        ),
        framework(
            "sr11_7",
            "SR117",
            control("MRM-ACCESS-CONTROL", "Access", analogy=("AOAI-LOCAL-AUTH",)),
            ai_scoped=True,
            analogy_resource_kinds={"microsoft.machinelearningservices/workspaces": ("hub",)},
        ),
    )


def estate() -> Estate:
    account = "microsoft.cognitiveservices/accounts"
    return Estate(
        [
            make_resource(
                {
                    "type": account,
                    "name": "oai-open",
                    "properties": {},
                    "origin": "plan.json: azurerm_cognitive_account.open",
                }
            ),
            make_resource(
                {
                    "type": account,
                    "name": "oai-closed",
                    "properties": {"disableLocalAuth": True},
                    "diagnostic_settings": [],
                }
            ),
        ]
    )


@pytest.fixture
def report() -> dict[str, Any]:
    _, document = run_scan(
        estate(),
        ("iso42001", "sr11_7"),
        scan_ts=SCAN_TS,
        narrator=DeterministicNarrator(),
        catalog=small_catalog(),
        report_id="COMP-20261123-093005",
        tenant_id="t-1",
    )
    return document.to_dict()
