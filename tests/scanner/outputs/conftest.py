"""A small assessed estate with failing, passing and undecided checks, for the output tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.scanner.engine.cases import make_resource
from tutela.scanner.catalog import Catalog, load_catalog
from tutela.scanner.catalog.checks import ControlSpec, FrameworkControls
from tutela.scanner.estate import Estate
from tutela.scanner.narrative.deterministic import DeterministicNarrator
from tutela.scanner.scan import run_scan

SCAN_TS = dt.datetime(2026, 11, 23, 9, 30, 5, tzinfo=dt.UTC)


def small_catalog() -> Catalog:
    """The shipped checks, with two frameworks' worth of controls mapped to two of them."""
    catalog = load_catalog()
    controls = (
        FrameworkControls(
            framework="iso42001",
            control_prefix="ISO42001",
            controls=(
                ControlSpec(id="A.6.2.8", title="AI system event logs", checks=("AOAI-DIAG-LOGS",)),
                ControlSpec(id="A.9.2", title="Responsible use", checks=("AOAI-LOCAL-AUTH",)),
            ),
        ),
        FrameworkControls(
            framework="sr11_7",
            control_prefix="SR117",
            controls=(
                ControlSpec(
                    id="MRM-ACCESS-CONTROL", title="Access", analogy_checks=("AOAI-LOCAL-AUTH",)
                ),
            ),
        ),
    )
    return catalog.model_copy(update={"controls": controls})


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
