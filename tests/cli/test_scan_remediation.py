"""The ARM remediation template, scanned back by ``tutela scan`` as a user would scan it.

Without the live estate, the template says nothing about what it carries over from the current
state (``reference(…, 'Full')``): a check that reads such a property (a workspace's kind, a
deployment's SKU, a status the service computes) is unknown, and says which property. What the
template changes must read as changed: no remediated check fails, every one whose fix needs no
parameter passes unless its unknown evidence is a property the fix does not set, and those that
need a parameter pass once the estate-level proof supplies it (tests/scanner/outputs/iac). A
resource the template only adds something to (a diagnostic setting) is not redeclared, so this
scan does not judge it; the estate-level proof does.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

from typer.testing import CliRunner

from tutela.cli.main import app
from tutela.scanner.catalog import load_catalog
from tutela.scanner.outputs.iac import configuration_fix, remediation_items, render_arm
from tutela.scanner.samples import sample_estate_path

runner = CliRunner()


def scanned(path: Path, *extra: str) -> dict:
    result = runner.invoke(
        app, ["scan", str(path), "--format", "json", "--fail-on", "none", *extra]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_arm_remediation_scans_back_with_its_changes_passing(tmp_path: Path) -> None:
    catalog = load_catalog()
    before = scanned(sample_estate_path())
    items = remediation_items(SimpleNamespace(**f) for f in before["findings"])
    template = tmp_path / "remediation.json"
    template.write_text(render_arm(items, catalog, report_id="COMP-20261207-000000"))

    after = scanned(template, "--include-passed")
    failing = {(f["check_id"], f["resource"].lower()) for f in after["findings"]}
    unknown = {(u["check_id"], u["resource"].lower()): u for u in after["unknown"]}
    passed = {
        (check["check_id"], entry["resource"].lower())
        for check in after["passed"]
        for entry in check["resources"]
    }
    outcomes = {"pass": 0, "carried over": 0, "parameter": 0, "not declared": 0}
    for item in items:
        fix = configuration_fix(catalog, item.check_id)
        if fix is None:
            continue
        key = (item.check_id, item.resource.lower())
        assert key not in failing, key
        if key in passed:
            outcomes["pass"] += 1
        elif key not in unknown:
            # only resources added beside it (a diagnostic setting on a blob service): the
            # template does not redeclare the resource, so a scan of it alone cannot judge it
            assert not fix.set, key
            outcomes["not declared"] += 1
        elif fix.params:
            assert key in unknown, key
            outcomes["parameter"] += 1
        else:
            set_paths = {change.path for change in fix.set}
            unread = {e["path"] for e in unknown[key]["evidence"] if e["value"] == "<unknown>"}
            assert unread, key
            assert not unread & set_paths, (key, unread)
            outcomes["carried over"] += 1
    assert outcomes["pass"] > 60
    assert outcomes["pass"] > 4 * outcomes["carried over"]
    assert dt.datetime.fromisoformat(after["scan_ts"])  # a report like any other
