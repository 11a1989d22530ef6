"""A default that changed between API versions: ``default_since`` and a template's apiVersion."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from tests.scanner.engine.cases import make_resource
from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.api_defaults import VersionedDefault
from tutela.scanner.engine.conditions import ConditionError, Context, compile_condition
from tutela.scanner.engine.evaluate import CheckResult, evaluate_estate
from tutela.scanner.estate import UNKNOWN, Estate, Resource
from tutela.scanner.sources.arg import resources_from_arg
from tutela.scanner.sources.arm import resources_from_arm

STORAGE = "microsoft.storage/storageaccounts"
FIELD = "properties.supportsHttpsTrafficOnly"
SUB = "3f2a6b1e-8c4d-4e7a-9b15-2d6c0f9e4a71"


def _https_only(resources: list[Resource]) -> CheckResult:
    check = load_catalog().check("STG-HTTPS-ONLY")
    (result,) = evaluate_estate(Estate(resources), [check], as_of=dt.date(2026, 12, 1))
    return result


def _template(api_version: str, **properties: Any) -> list[Resource]:
    account = {
        "type": "Microsoft.Storage/storageAccounts",
        "apiVersion": api_version,
        "name": "stml",
        "location": "westeurope",
        "kind": "StorageV2",
        "sku": {"name": "Standard_ZRS"},
        "properties": properties,
    }
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [account],
    }
    return resources_from_arm(template, "main.json")


def test_a_template_carries_each_resource_s_api_version() -> None:
    (account,) = [r for r in _template("2023-05-01") if r.type == STORAGE]
    assert account.api_version == "2023-05-01"


@pytest.mark.parametrize("api_version", ["2019-04-01", "2023-05-01", "2024-01-01-preview"])
def test_absent_https_only_passes_from_2019_04_01_with_the_version_in_the_evidence(
    api_version: str,
) -> None:
    result = _https_only(_template(api_version))
    assert result.status == "pass"
    assert result.evidence == (
        (FIELD, f"<absent; service default True (API version {api_version})>"),
    )


def test_absent_https_only_before_2019_04_01_is_unknown() -> None:
    result = _https_only(_template("2018-11-01"))
    assert result.status == "unknown"
    assert result.evidence == ((FIELD, "<absent; service default depends on the API version>"),)


def test_a_stated_value_wins_over_the_versioned_default() -> None:
    result = _https_only(_template("2023-05-01", supportsHttpsTrafficOnly=False))
    assert result.status == "fail"
    assert result.evidence == ((FIELD, False),)


def test_an_export_does_not_say_the_api_version_so_absence_stays_unknown() -> None:
    record = {
        "id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/{STORAGE}/s",
        "type": "microsoft.storage/storageaccounts",
        "properties": {},
    }
    resources = resources_from_arg({"data": [record]}, "arg.json")
    (account,) = [r for r in resources if r.type == STORAGE]
    assert account.api_version is None
    assert _https_only(resources).status == "unknown"


# --- the condition ------------------------------------------------------------------------------


def _decide(condition: dict[str, Any], api_version: Any) -> tuple[bool | None, list[Any]]:
    target = make_resource({"type": STORAGE, "api_version": api_version})
    ctx = Context(target, Estate([target]))
    return compile_condition(condition)(ctx, target), ctx.evidence


RULE: dict[str, Any] = {
    "field": "properties.mode",
    "equals": "Strict",
    "default": "Open",
    "default_since": {"2020-01-01": "Lax", "2022-06-01": "Strict"},
}


@pytest.mark.parametrize(
    ("api_version", "verdict", "note"),
    [
        ("2023-01-01", True, "<absent; service default 'Strict' (API version 2023-01-01)>"),
        ("2022-06-01", True, "<absent; service default 'Strict' (API version 2022-06-01)>"),
        ("2021-01-01", False, "<absent; service default 'Lax' (API version 2021-01-01)>"),
        # before every entry, or not known: the plain default
        ("2019-01-01", False, "<absent; service default 'Open'>"),
        (None, False, "<absent; service default 'Open'>"),
        ("latest", False, "<absent; service default 'Open'>"),
    ],
)
def test_the_newest_entry_not_after_the_version_decides(
    api_version: str | None, verdict: bool, note: str
) -> None:
    assert _decide(RULE, api_version) == (verdict, [("properties.mode", note)])


def test_an_unknown_value_stays_unknown_whatever_the_version() -> None:
    target = make_resource(
        {"type": STORAGE, "api_version": "2023-01-01", "properties": {"mode": UNKNOWN}}
    )
    assert compile_condition(RULE)(Context(target, Estate([target])), target) is None


def test_unquoted_yaml_dates_are_read_as_versions() -> None:
    spec = yaml.safe_load("{2019-04-01: true}")
    assert VersionedDefault.parse(spec).at("2020-01-01") == ("2019-04-01", True)


@pytest.mark.parametrize(
    "bad",
    [
        {"field": "properties.x", "equals": 1, "default_since": {"v1": 1}},
        {"field": "properties.x", "equals": 1, "default_since": {}},
        {"field": "properties.x", "equals": 1, "default_since": [1]},
        {"field": "parent.properties.x", "equals": 1, "default_since": {"2020-01-01": 1}},
    ],
)
def test_a_malformed_default_since_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ConditionError):
        compile_condition(bad)


def _vault(api_version: str | None) -> Resource:
    return Resource(
        id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
        type="microsoft.keyvault/vaults",
        name="kv",
        properties={},
        api_version=api_version,
    )


@pytest.mark.parametrize(
    ("api_version", "status", "shown"),
    [
        ("2023-07-01", "pass", "<absent; service default True (API version 2023-07-01)>"),
        ("2019-09-01", "pass", "<absent; service default True (API version 2019-09-01)>"),
        ("2018-02-14", "unknown", "<absent; service default depends on the API version>"),
        (None, "unknown", "<absent; service default depends on the API version>"),
    ],
)
def test_key_vault_soft_delete_is_on_by_default_from_api_2019_09_01(
    api_version: str | None, status: str, shown: str
) -> None:
    check = load_catalog().check("KV-SOFT-DELETE")
    estate = Estate([_vault(api_version)])
    (result,) = evaluate_estate(estate, [check], as_of=dt.date(2026, 12, 1))
    assert result.status == status
    assert result.evidence == (("properties.enableSoftDelete", shown),)


def test_a_plain_default_and_a_versioned_one_read_alike_in_the_evidence() -> None:
    versioned = {"field": "properties.x", "equals": "on", "default_since": {"2020-01-01": "on"}}
    plain = {"field": "properties.x", "equals": "on", "default": "on"}
    both = {**versioned, "default": "off"}
    resource = Resource(id="/r", type="t", name="r", properties={}, api_version="2021-01-01")
    old = Resource(id="/r", type="t", name="r", properties={}, api_version="2019-01-01")
    notes = []
    for spec, subject in ((versioned, resource), (plain, resource), (both, old)):
        ctx = Context(subject, Estate([subject]))
        compile_condition(spec)(ctx, subject)
        notes.append(ctx.evidence[0][1])
    assert notes == [
        "<absent; service default 'on' (API version 2021-01-01)>",
        "<absent; service default 'on'>",
        "<absent; service default 'off'>",
    ]
