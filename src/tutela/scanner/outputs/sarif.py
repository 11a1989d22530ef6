"""SARIF 2.1.0 from a report document, in the form GitHub code scanning accepts.

One rule per check, listing the controls its failure is evidence against, and one result per
failing (check, resource). Severities become GitHub's ``security-severity`` scores (critical 9.5,
high 8.0, medium 5.5, low 3.0). A result points at the file the resource was declared in when the
report came from files, and at the resource id otherwise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from tutela import __version__
from tutela.scanner.outputs.failing import FailingCheck, failing_checks

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def _location(row: FailingCheck) -> dict[str, Any]:
    if row.origin:
        uri, _, address = row.origin.partition(": ")
    else:
        uri, address = row.resource.lstrip("/"), row.resource
    return {
        "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 1}},
        "logicalLocations": [{"fullyQualifiedName": address or row.resource, "kind": "resource"}],
    }


def _rule(row: FailingCheck) -> dict[str, Any]:
    return {
        "id": row.check_id,
        "name": row.check_id.title().replace("-", ""),
        "shortDescription": {"text": row.title},
        "fullDescription": {"text": row.description},
        "help": {"text": row.remediation, "markdown": row.remediation},
        "defaultConfiguration": {"level": LEVEL[row.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[row.severity],
            "tags": ["security", "compliance", row.severity],
            # A check breaches the same controls on every resource: said once, on the rule.
            "controls": list(row.controls),
            "frameworks": list(row.frameworks),
        },
    }


def sarif_document(
    report: Mapping[str, Any], failing: list[FailingCheck] | None = None
) -> dict[str, Any]:
    """SARIF for a report; ``failing`` saves regrouping its findings when the caller has it."""
    rows = failing if failing is not None else failing_checks(report)
    rules: dict[str, dict[str, Any]] = {}
    for row in rows:
        rules.setdefault(row.check_id, _rule(row))
    rule_index = {rule_id: i for i, rule_id in enumerate(rules)}
    results = []
    for row in rows:
        fingerprint = hashlib.sha256(f"{row.check_id}|{row.resource.lower()}".encode()).hexdigest()
        results.append(
            {
                "ruleId": row.check_id,
                "ruleIndex": rule_index[row.check_id],
                "level": LEVEL[row.severity],
                "message": {"text": f"{row.title}: {row.resource_name}"},
                "locations": [_location(row)],
                "partialFingerprints": {"tutelaFinding/v1": fingerprint},
                "properties": {"resource": row.resource},
            }
        )
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "Tutela",
                        "version": __version__,
                        "informationUri": "https://github.com/tutela/tutela",
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
                "properties": {
                    "aggregate_score": report.get("aggregate_score"),
                    "frameworks": report.get("frameworks"),
                    "checks_unknown": report.get("checks_unknown"),
                },
            }
        ],
    }
