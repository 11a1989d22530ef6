"""SARIF 2.1.0 from a report document, in the form GitHub code scanning accepts.

One rule per check, listing the controls its failure is evidence against, and one result per
failing (check, resource). Severities become GitHub's ``security-severity`` scores (critical 9.5,
high 8.0, medium 5.5, low 3.0). A result points at the file the resource was declared in when the
report came from files (relative to the working directory, see ``artifact_uri``), and at the
resource id otherwise.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from tutela import __version__
from tutela.scanner.outputs.encoding import Template, in_list
from tutela.scanner.outputs.failing import FailingCheck, FailingRows, failing_checks
from tutela.scanner.outputs.turns import Blocks

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


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


def _result_template(row: FailingCheck, rule_index: int, *, indent: bool) -> Template:
    """A result of the row's rule, its slots: resource name, uri, logical name, fingerprint, id."""
    slot = Template.SLOT
    return Template(
        {
            "ruleId": row.check_id,
            "ruleIndex": rule_index,
            "level": LEVEL[row.severity],
            "message": {"text": f"{row.title}: {slot}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": slot},
                        "region": {"startLine": 1},
                    },
                    "logicalLocations": [{"fullyQualifiedName": slot, "kind": "resource"}],
                }
            ],
            "partialFingerprints": {"tutelaFinding/v1": slot},
            "properties": {"resource": slot},
        },
        depth=_RESULT_DEPTH,
        indent=indent,
    )


_RESULT_DEPTH = 4  # document → runs → the run → results → a result


def sarif_blocks(
    report: Mapping[str, Any],
    failing: Sequence[FailingCheck] | None = None,
    *,
    indent: bool = True,
) -> Blocks:
    """SARIF for a report, in blocks of results; ``failing`` saves regrouping its findings.

    ``failing`` is best a ``FailingRows``: its rows are then made by whichever process writes
    their block (``outputs.turns``).
    """
    rows = failing if failing is not None else failing_checks(report)
    first = _first_rows(rows)  # a rule per check, in the order the results meet them
    templates = {
        row.check_id: _result_template(row, index, indent=indent) for index, row in enumerate(first)
    }
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "Tutela",
                        "version": __version__,
                        "informationUri": "https://github.com/tutela/tutela",
                        "rules": [_rule(row) for row in first],
                    }
                },
                "results": Template.SLOT,
                "properties": {
                    "aggregate_score": report.get("aggregate_score"),
                    "frameworks": report.get("frameworks"),
                    "checks_unknown": report.get("checks_unknown"),
                },
            }
        ],
    }

    uris = _Uris()
    if isinstance(rows, FailingRows):
        # A result needs four of a row's twelve fields: read them from the assessment's results
        # rather than make each row (a third of the time SARIF takes).
        failed = rows.results

        def results(start: int, stop: int) -> list[bytes]:
            return _results(map(_RESULT_FIELDS, failed[start:stop]), templates, uris)

    else:

        def results(start: int, stop: int) -> list[bytes]:
            return _results(map(_ROW_FIELDS, rows[start:stop]), templates, uris)

    return in_list(document, results, len(rows), depth=_RESULT_DEPTH, indent=indent)


def sarif_chunks(
    report: Mapping[str, Any],
    failing: Sequence[FailingCheck] | None = None,
    *,
    indent: bool = True,
) -> Iterator[bytes]:
    """SARIF for a report, streamed in one process."""
    return sarif_blocks(report, failing, indent=indent).chunks()


def _first_rows(rows: Sequence[FailingCheck]) -> list[FailingCheck]:
    if isinstance(rows, FailingRows):
        return rows.first_per_check()
    first: dict[str, FailingCheck] = {}
    for row in rows:
        first.setdefault(row.check_id, row)
    return list(first.values())


# What a result shows: check id, resource id, resource name and origin, of a row or a result.
_ROW_FIELDS = operator.attrgetter("check_id", "resource", "resource_name", "origin")
_RESULT_FIELDS = operator.attrgetter("check.id", "resource.id", "resource.name", "resource.origin")


def _results(
    fields: Iterable[tuple[str, str, str, str | None]],
    templates: dict[str, Template],
    uris: _Uris,
) -> list[bytes]:
    """Each result: its rule's template filled with the row's texts.

    The location is the declaring file when known (an origin is ``file: address``), else the
    resource id. The texts of all the results are escaped together (``Template.fill_each``).
    """
    sha256 = hashlib.sha256
    filled: list[Template] = []
    texts: list[str] = []
    for check_id, resource, name, origin in fields:
        if origin:
            path, _, address = origin.partition(": ")
            uri, address = uris[path], address or resource
        else:
            uri, address = resource.lstrip("/"), resource
        fingerprint = sha256(f"{check_id}|{resource.lower()}".encode()).hexdigest()
        filled.append(templates[check_id])
        texts += (str(name), uri, address, fingerprint, resource)
    return Template.fill_each(filled, texts)


def artifact_uri(path: str, cwd: Path) -> str:
    """A scanned file as SARIF's ``artifactLocation.uri``, which GitHub maps onto the repository.

    Relative to the working directory (the checkout's root, in CI) when the file lies below it,
    else a ``file://`` URI; forward slashes, and percent-encoded where a URI needs it.
    """
    file = Path(path)
    if file.is_absolute():
        try:
            file = file.relative_to(cwd)
        except ValueError:
            return file.as_uri()
    return quote(file.as_posix())


class _Uris(dict[str, str]):
    """Each file's uri, worked out once per report (a report names a handful of files)."""

    def __init__(self) -> None:
        super().__init__()
        self.cwd = Path.cwd()

    def __missing__(self, path: str) -> str:
        uri = self[path] = artifact_uri(path, self.cwd)
        return uri


def sarif_document(
    report: Mapping[str, Any], failing: list[FailingCheck] | None = None
) -> dict[str, Any]:
    """SARIF for a report as Python data."""
    document: dict[str, Any] = orjson.loads(b"".join(sarif_chunks(report, failing, indent=False)))
    return document
