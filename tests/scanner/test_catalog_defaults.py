"""CHECKS.md shows, per check, the service defaults it assumes for absent properties."""

from __future__ import annotations

from tutela.scanner.catalog import load_catalog
from tutela.scanner.catalog.defaults import assumed_defaults
from tutela.scanner.catalog.document import render_catalogue


def _row(rendered: str, check_id: str) -> list[str]:
    line = next(line for line in rendered.splitlines() if line.startswith(f"| `{check_id}` |"))
    return [cell.strip() for cell in line.strip("|").split(" | ")]


def test_each_check_row_shows_its_plain_and_versioned_defaults() -> None:
    rendered = render_catalogue(load_catalog())
    header = _row(rendered.replace("| check |", "| `check` |"), "check")
    column = header.index("service defaults")
    soft_delete = _row(rendered, "KV-SOFT-DELETE")[column]
    expected = "`properties.enableSoftDelete`: `true` from API 2019-09-01, unknown otherwise"
    assert soft_delete == expected
    public = _row(rendered, "AOAI-PUBLIC-NETWORK")[column]
    assert "`properties.publicNetworkAccess`: `Enabled`" in public
    assert _row(rendered, "AOAI-DEPLOY-VERSION-UPGRADE")[column] == "—"  # none documented


def test_defaults_come_from_applies_if_pass_if_and_counted_elements() -> None:
    check = (
        load_catalog()
        .check("KV-SOFT-DELETE")
        .model_copy(
            update={
                "applies_if": {"field": "properties.x", "notEquals": False, "default": True},
                "pass_if": {
                    "allOf": [
                        {
                            "field": "properties.y",
                            "equals": "on",
                            "default": "off",
                            "default_since": {"2024-01-01": "on", "2020-01-01": "off"},
                        },
                        {
                            "count": {
                                "field": "properties.rules",
                                "where": {"field": "action", "equals": "Allow", "default": "Allow"},
                            },
                            "equals": 0,
                        },
                    ]
                },
            }
        )
    )
    assert [d.describe() for d in assumed_defaults(check)] == [
        "`properties.x`: `true`",
        "`properties.y`: `off` from API 2020-01-01, `on` from API 2024-01-01, `off` otherwise",
        "`properties.rules[*].action`: `Allow`",
    ]
