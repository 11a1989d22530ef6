"""SARIF 2.1.0 from a report document, in the form GitHub code scanning accepts.

One rule per check and one result per failing (check, resource), listing every control it is
evidence against. Severities become GitHub's ``security-severity`` scores (critical 9.5, high 8.0,
medium 5.5, low 3.0). A result points at the file the resource was declared in when the report
came from files, and at the resource id otherwise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from tutela import __version__

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def _location(finding: Mapping[str, Any]) -> dict[str, Any]:
    origin = finding.get("origin")
    resource = str(finding["resource"])
    if origin:
        uri, _, address = str(origin).partition(": ")
    else:
        uri, address = resource.lstrip("/"), resource
    return {
        "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 1}},
        "logicalLocations": [{"fullyQualifiedName": address or resource, "kind": "resource"}],
    }


def _rule(finding: Mapping[str, Any]) -> dict[str, Any]:
    severity = finding["severity"]
    return {
        "id": finding["check_id"],
        "name": finding["check_id"].title().replace("-", ""),
        "shortDescription": {"text": finding["title"]},
        "fullDescription": {"text": finding["description"]},
        "help": {"text": finding["remediation"], "markdown": finding["remediation"]},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[severity],
            "tags": ["security", "compliance", severity],
        },
    }


def sarif_document(report: Mapping[str, Any]) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    grouped: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for finding in report.get("findings", []):
        if finding.get("status") != "fail":
            continue
        rules.setdefault(finding["check_id"], _rule(finding))
        grouped.setdefault((finding["check_id"], finding["resource"]), []).append(finding)
    rule_index = {rule_id: i for i, rule_id in enumerate(rules)}
    results = []
    for (check_id, resource), findings in grouped.items():
        first = findings[0]
        controls = sorted({f["control_id"] for f in findings})
        fingerprint = hashlib.sha256(f"{check_id}|{resource.lower()}".encode()).hexdigest()
        results.append(
            {
                "ruleId": check_id,
                "ruleIndex": rule_index[check_id],
                "level": LEVEL[first["severity"]],
                "message": {
                    "text": f"{first['title']} ({first['resource_name']}). "
                    f"Controls: {', '.join(controls)}."
                },
                "locations": [_location(first)],
                "partialFingerprints": {"tutelaFinding/v1": fingerprint},
                "properties": {
                    "controls": controls,
                    "frameworks": sorted({f["framework"] for f in findings}),
                    "resource": resource,
                },
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
