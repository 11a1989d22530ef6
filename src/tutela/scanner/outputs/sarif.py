"""SARIF 2.1.0 from a report document, in the form GitHub code scanning accepts.

One rule per check, listing every control its failures in the report are evidence against, and
one result per failing (check, resource), with the controls that result counts for and how
strongly (``{"ISO42001-A.7.2": "supporting"}``: a storage account outside any AI workload counts
for no AI framework) and, for a general-purpose resource in an AI workload, why it is in one
(``ai_workload``), and ``"conditional": true`` for a resource a template deploys under a
condition not decided offline. What the scan never looked at (``not_evaluated``) is the run's
``properties.not_evaluated`` and a ``note`` notification each. Severities become GitHub's
``security-severity`` scores (critical 9.5, high 8.0, medium 5.5, low 3.0). A result points at
the file the resource was declared in when the report came from files (relative to the working
directory, see ``artifact_uri``), and at the resource id otherwise; given ``locations``
(``outputs.locations``), at the line (and column) where the resource's object starts in that
file. Each rule's ``helpUri`` is the check's row in the catalogue (``outputs.check_help``); its
help and properties name the Azure Policy, Checkov and Prowler rules it matches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from tutela import __version__
from tutela.scanner.catalog.checks import Reference
from tutela.scanner.engine.evaluate import CheckResult
from tutela.scanner.not_evaluated import one_line, unnoted
from tutela.scanner.outputs import check_help
from tutela.scanner.outputs.encoding import Template, in_list
from tutela.scanner.outputs.failing import FailingCheck, FailingRows, failing_checks
from tutela.scanner.outputs.locations import Location
from tutela.scanner.outputs.turns import Blocks

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def _rule(
    row: FailingCheck,
    controls: list[str],
    frameworks: list[str],
    references: Sequence[Reference] = (),
) -> dict[str, Any]:
    check_id, remediation = row.check_id, row.remediation
    return {
        "id": check_id,
        "name": check_id.title().replace("-", ""),
        "shortDescription": {"text": row.title},
        "fullDescription": {"text": row.description},
        "helpUri": check_help.help_uri(check_id),
        "help": {
            "text": check_help.help_text(check_id, remediation, references),
            "markdown": check_help.help_markdown(check_id, remediation, references),
        },
        "defaultConfiguration": {"level": LEVEL[row.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[row.severity],
            "tags": ["security", "compliance", row.severity],
            # Every control the check's failures count for; each result says its own.
            "controls": controls,
            "frameworks": frameworks,
            "references": check_help.reference_properties(references),
        },
    }


def _result_template(
    row: FailingCheck, rule_index: int, mapped: _ResultMapping, located: bool, *, indent: bool
) -> Template:
    """A result of the row's rule, its slots: resource name, uri, (when located, line and
    column,) logical name, fingerprint, id, and the AI workload when the result has one."""
    slot = Template.SLOT
    controls, mappings, in_workload, conditional = mapped
    properties: dict[str, Any] = {
        "resource": slot,
        "controls": dict(zip(controls, mappings, strict=True)),
    }
    if in_workload:
        properties["ai_workload"] = slot
    if conditional:  # a template deploys it under a condition not decided offline
        properties["conditional"] = True
    return (_Located if located else Template)(
        {
            "ruleId": row.check_id,
            "ruleIndex": rule_index,
            "level": LEVEL[row.severity],
            "message": {"text": f"{row.title}: {slot}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": slot},
                        "region": (
                            {"startLine": slot, "startColumn": slot}
                            if located
                            else {"startLine": 1}
                        ),
                    },
                    "logicalLocations": [{"fullyQualifiedName": slot, "kind": "resource"}],
                }
            ],
            "partialFingerprints": {"tutelaFinding/v1": slot},
            "properties": properties,
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
    locations: Mapping[str, Location] | None = None,
) -> Blocks:
    """SARIF for a report, in blocks of results; ``failing`` saves regrouping its findings;
    ``locations`` (resource key → ``Location``) puts each result on its resource's line.

    ``failing`` is best a ``FailingRows``: its rows are then made by whichever process writes
    their block (``outputs.turns``).
    """
    rows = failing if failing is not None else failing_checks(report)
    first = _first_rows(rows)  # a rule per check, in the order the results meet them
    controls = _controls_per_check(rows, report.get("frameworks") or ())
    templates = _Templates(first, indent=indent)
    references = _references(rows, first)
    rules = [_rule(row, *controls[row.check_id], references[row.check_id]) for row in first]
    unseen = list(report.get("not_evaluated") or ())
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "Tutela",
                        "version": __version__,
                        "informationUri": check_help.REPOSITORY,
                        "rules": rules,
                    }
                },
                **_invocations(report.get("notes") or (), unseen),
                "results": Template.SLOT,
                "properties": {
                    "aggregate_score": report.get("aggregate_score"),
                    "frameworks": report.get("frameworks"),
                    "checks_unknown": report.get("checks_unknown"),
                    **({"not_evaluated": unseen} if unseen else {}),
                },
            }
        ],
    }

    uris = _Uris()
    if isinstance(rows, FailingRows):
        # A result needs a few of a row's fields: read them from the assessment's results
        # rather than make each row (a third of the time SARIF takes).
        failed, result_item = rows.results, _result_items(rows, templates, locations or {})

        def results(start: int, stop: int) -> list[bytes]:
            return _results(map(result_item, failed[start:stop]), uris)

    else:
        row_item = _row_items(templates, locations or {})

        def results(start: int, stop: int) -> list[bytes]:
            return _results(map(row_item, rows[start:stop]), uris)

    # Accepted pairs follow the failing ones, each suppressed with its acceptance (§3.35).
    accepted = _accepted_results(
        report.get("accepted") or (), rules, indent=indent, locations=locations or {}
    )
    items = _followed_by(results, len(rows), accepted) if accepted else results
    total = len(rows) + len(accepted)
    return in_list(document, items, total, depth=_RESULT_DEPTH, indent=indent)


def _invocations(notes: Sequence[str], unseen: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """What reading the inputs left out (level ``warning``) and what else the scan never looked
    at (``not_evaluated`` entries the notes do not say, level ``note``), as the invocation's
    ``toolExecutionNotifications``; nothing when there is neither, so such a run reads as
    before."""
    if not notes and not unnoted(unseen):
        return {}
    said = [{"level": "warning", "message": {"text": text}} for text in notes]
    said += ({"level": "note", "message": {"text": one_line(entry)}} for entry in unnoted(unseen))
    return {"invocations": [{"executionSuccessful": True, "toolExecutionNotifications": said}]}


def sarif_chunks(
    report: Mapping[str, Any],
    failing: Sequence[FailingCheck] | None = None,
    *,
    indent: bool = True,
) -> Iterator[bytes]:
    """SARIF for a report, streamed in one process."""
    return sarif_blocks(report, failing, indent=indent).chunks()


def _references(
    rows: Sequence[FailingCheck], first: list[FailingCheck]
) -> dict[str, tuple[Reference, ...]]:
    """check id → the Azure Policy, Checkov and Prowler rules it matches: from the checks the
    assessment ran, or for a report read back, from the shipped catalogue."""
    if isinstance(rows, FailingRows):
        return check_help.references_of(result.check for result in rows.first_results())
    return check_help.shipped_references(row.check_id for row in first)


def _first_rows(rows: Sequence[FailingCheck]) -> list[FailingCheck]:
    if isinstance(rows, FailingRows):
        return rows.first_per_check()
    first: dict[str, FailingCheck] = {}
    for row in rows:
        first.setdefault(row.check_id, row)
    return list(first.values())


# controls, mappings, in an AI workload?, deployed under an undecided condition?
_ResultMapping = tuple[tuple[str, ...], tuple[str, ...], bool, bool]
# What a result is made of: its template, check id, resource id, name and origin, AI workload,
# and where in its file the resource is declared, when known.
_Item = tuple[Template, str, str, str, str | None, str | None, Location | None]


def _row_items(
    templates: _Templates, locations: Mapping[str, Location]
) -> Callable[[FailingCheck], _Item]:
    def item(row: FailingCheck) -> _Item:
        workload = row.ai_workload
        location = locations.get(row.resource.lower()) if locations else None
        mapped = (row.controls, row.mappings, workload is not None, row.conditional)
        template = templates[row.check_id, mapped, location is not None]
        return (
            template,
            row.check_id,
            row.resource,
            row.resource_name,
            row.origin,
            workload,
            location,
        )

    return item


def _result_items(
    rows: FailingRows, templates: _Templates, locations: Mapping[str, Location]
) -> Callable[[CheckResult], _Item]:
    """A result's item; its template found once per check, mapping class and whether it is
    located (a result's own controls are its class's: ``FailingRows.per_class``)."""
    per_class: dict[tuple[str, Hashable, bool, bool], tuple[Template, bool]] = {}
    workload_of = rows.ai_workload

    def item(result: CheckResult) -> _Item:
        check_id, resource = result.check.id, result.resource
        location = locations.get(resource.key) if locations else None
        located = location is not None
        conditional = resource.conditional is not None
        key = (check_id, result.mapping_class, located, conditional)
        found = per_class.get(key)
        if found is None:
            (controls, mappings, _), in_workload = rows.per_class(result)
            mapped = (controls, mappings, in_workload, conditional)
            template = templates[check_id, mapped, located]
            found = per_class[key] = (template, in_workload)
        workload = workload_of(result) if found[1] else None
        origin = resource.origin
        return found[0], check_id, resource.id, resource.name, origin, workload, location

    return item


def _controls_per_check(
    rows: Sequence[FailingCheck], frameworks: Sequence[str]
) -> dict[str, tuple[list[str], list[str]]]:
    """check id → every control its failing results count for (sorted), and their frameworks
    (in the report's order of frameworks)."""
    if isinstance(rows, FailingRows):
        return rows.controls_per_check()
    found: dict[str, tuple[set[str], set[str]]] = {}
    for row in rows:
        controls, named = found.setdefault(row.check_id, (set(), set()))
        controls.update(row.controls)
        named.update(row.frameworks)
    order = {framework: index for index, framework in enumerate(frameworks)}
    return {
        check: (sorted(c), sorted(f, key=lambda name: (order.get(name, len(order)), name)))
        for check, (c, f) in found.items()
    }


class _Templates(dict[tuple[str, _ResultMapping, bool], Template]):
    """Each (check, controls and mappings, workload or not, located or not)'s result template,
    made once."""

    def __init__(self, first: list[FailingCheck], *, indent: bool) -> None:
        super().__init__()
        self.rules = {row.check_id: (index, row) for index, row in enumerate(first)}
        self.indent = indent

    def __missing__(self, key: tuple[str, _ResultMapping, bool]) -> Template:
        index, row = self.rules[key[0]]
        template = self[key] = _result_template(row, index, key[1], key[2], indent=self.indent)
        return template


def _results(items: Iterable[_Item], uris: _Uris) -> list[bytes]:
    """Each result: its rule's template filled with the row's texts.

    The location is the declaring file when known (an origin is ``file: address``), at the
    resource's line when located, else the resource id. The texts of all the results are
    escaped together (``Template.fill_each``).
    """
    sha256 = hashlib.sha256
    filled: list[Template] = []
    texts: list[str] = []
    workloads = located = 0
    for template, check_id, resource, name, origin, workload, location in items:
        if origin:
            path, _, address = origin.partition(": ")
            uri, address = uris[path], address or resource
        else:
            uri, address = resource.lstrip("/"), resource
        fingerprint = sha256(f"{check_id}|{resource.lower()}".encode()).hexdigest()
        filled.append(template)
        if location is None:
            texts += (str(name), uri, address, fingerprint, resource)
        else:
            line, column = str(location.line), str(location.column)
            texts += (str(name), uris[location.path], line, column, address, fingerprint, resource)
            located += 1
        if workload is not None:
            texts.append(workload)
            workloads += 1
    if 0 < workloads < len(filled) or 0 < located < len(filled):  # templates of unlike slots
        return _fill_mixed(filled, texts)
    return Template.fill_each(filled, texts)


class _Located(Template):
    """A result template whose region's line and column are JSON numbers: their slots, filled
    with digits, are written without quotes (``Template`` fills strings)."""

    def __init__(self, fields: dict[str, Any], *, depth: int, indent: bool) -> None:
        super().__init__(fields, depth=depth, indent=indent)
        colon = b": " if indent else b":"
        for member in (b'"startLine"', b'"startColumn"'):
            self._format = self._format.replace(member + colon + b'"%s"', member + colon + b"%s")


def _fill_mixed(templates: list[Template], texts: list[str]) -> list[bytes]:
    """``Template.fill_each`` for templates of more than one number of slots: each number's
    templates filled together, in their places."""
    by_slots: dict[int, tuple[list[int], list[Template], list[str]]] = {}
    at = 0
    for index, template in enumerate(templates):
        places, alike, their_texts = by_slots.setdefault(template.slots, ([], [], []))
        places.append(index)
        alike.append(template)
        their_texts += texts[at : at + template.slots]
        at += template.slots
    filled: list[bytes] = [b""] * len(templates)
    for places, alike, their_texts in by_slots.values():
        for index, result in zip(places, Template.fill_each(alike, their_texts), strict=True):
            filled[index] = result
    return filled


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


def _accepted_results(
    accepted: Iterable[Mapping[str, Any]],
    rules: list[dict[str, Any]],
    *,
    indent: bool,
    locations: Mapping[str, Location],
) -> list[bytes]:
    """Each accepted pair as a result with an external, accepted suppression (SARIF §3.35).

    Its fingerprint is the failing result's, so a viewer sees the same result, suppressed, at
    the same place. A check with no failing result gets a rule of its own, added to ``rules``.
    """
    index = {rule["id"]: at for at, rule in enumerate(rules)}
    uris = _Uris()
    encoded = []
    for entry in accepted:
        check_id, severity = entry["check_id"], entry["severity"]
        if check_id not in index:
            index[check_id] = len(rules)
            rules.append(_accepted_rule(check_id, entry["title"], severity))
        resource, acceptance = entry["resource_id"], entry["acceptance"]
        origin = entry.get("origin")
        if origin:
            path, _, address = origin.partition(": ")
            uri, address = uris[path], address or resource
        else:
            uri, address = resource.lstrip("/"), resource
        fingerprint = hashlib.sha256(f"{check_id}|{resource.lower()}".encode()).hexdigest()
        location = locations.get(resource.lower())
        region: dict[str, int] = {"startLine": 1}
        if location is not None:
            uri = uris[location.path]
            region = {"startLine": location.line, "startColumn": location.column}
        result = {
            "ruleId": check_id,
            "ruleIndex": index[check_id],
            "level": LEVEL[severity],
            "message": {"text": f"{entry['title']}: {entry['resource_name']} (accepted risk)"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": region,
                    },
                    "logicalLocations": [{"fullyQualifiedName": address, "kind": "resource"}],
                }
            ],
            "partialFingerprints": {"tutelaFinding/v1": fingerprint},
            "suppressions": [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": _justification(acceptance),
                    "properties": acceptance,
                }
            ],
            "properties": {
                "resource": resource,
                "frameworks": entry.get("frameworks", []),
                **({"conditional": True} if entry.get("conditional") is True else {}),
            },
        }
        encoded.append(Template(result, depth=_RESULT_DEPTH, indent=indent).fill())
    return encoded


def _justification(acceptance: Mapping[str, Any]) -> str:
    ticket = f"; ticket {acceptance['ticket']}" if acceptance.get("ticket") else ""
    return (
        f"{acceptance['reason']} (approved by {acceptance['approver']}{ticket}; "
        f"until {acceptance['expires']})"
    )


def _accepted_rule(check_id: str, title: str, severity: str) -> dict[str, Any]:
    """The rule of a check whose only results in the report are accepted."""
    return {
        "id": check_id,
        "name": check_id.title().replace("-", ""),
        "shortDescription": {"text": title},
        "helpUri": check_help.help_uri(check_id),
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[severity],
            "tags": ["security", "compliance", severity],
        },
    }


def _followed_by(
    results: Callable[[int, int], list[bytes]], count: int, more: list[bytes]
) -> Callable[[int, int], list[bytes]]:
    """``results`` for items below ``count``, then ``more``."""

    def items(start: int, stop: int) -> list[bytes]:
        first = results(start, min(stop, count)) if start < count else []
        return first + more[max(start, count) - count : max(stop, count) - count]

    return items
