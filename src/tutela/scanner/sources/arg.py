"""Azure Resource Graph exports: what ``az graph query -q "…" -o json`` prints.

Accepted shapes: a JSON list of records; the newer ``{"count", "data": [...], "skip_token",
"total_records"}``; and ``{"value": [...]}`` as ARM list calls return it. A record is a Resource
Graph row (``id name type tenantId kind location resourceGroup subscriptionId managedBy sku plan
properties tags identity zones``) or an ARM object of the same names. Types are lower-cased;
``resourceGroup`` and ``subscriptionId``, when missing, come from the id; empty ``kind`` and
``location`` are absent; ``tenantId``, ``managedBy``, ``plan`` and ``zones`` have no place in a
resource and are dropped. Properties are taken as they are: nothing absent is filled in.

The export may mix in rows of the graph's other tables, and ARM diagnostic settings, which
``sources.relate`` hangs on the resources they are about: ``authorizationresources``
(``microsoft.authorization/roleassignments``, ``…/roledefinitions``), ``securityresources``
(``microsoft.security/pricings``), ``policyresources``
(``microsoft.authorization/policyassignments``), ``resourcecontainers``
(``microsoft.resources/subscriptions``, ``…/resourcegroups``) and
``microsoft.insights/diagnosticsettings`` objects as the diagnosticSettings API returns them.

Visibility rule: a kind of fact (diagnostic settings, role assignments, Defender pricings, policy
assignments) counts as seen when the export holds at least one record of that kind; then every
resource gets a list of them, possibly empty. An export without any is taken not to have looked,
and the fact stays ``None`` (unknown) on every resource. An export written by ``tutela export``
says what its live read looked at (``live_read``: the ids whose diagnostic settings were read, and
those that could not be) and is read as that live scan read the estate.

A page of a longer result (``skip_token`` or ``nextLink`` set) is refused: facts missing from it
would read as absent.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from tutela.scanner.estate import Resource
from tutela.scanner.sources import SourceError
from tutela.scanner.sources.relate import (
    DIAGNOSTIC_SETTING_TYPE,
    POLICY_ASSIGNMENT_TYPE,
    PRICING_TYPE,
    ROLE_ASSIGNMENT_TYPE,
    mark_live_visibility,
    relate,
)

_SHAPES: Final = (
    'expected a JSON list of Resource Graph records, {"data": [...]} as `az graph query` '
    'prints it, or {"value": [...]} as ARM list calls return it'
)


def resources_from_arg(document: Any, source: str) -> list[Resource]:
    """The resources of a Resource Graph export, related facts attached."""
    records, path = _records(document, source)
    with _cyclic_gc_paused():
        resources = [_resource(record, f"{path}[{i}]", source) for i, record in enumerate(records)]
        seen = {resource.type for resource in resources}
        related = relate(
            resources,
            sees_diagnostics=DIAGNOSTIC_SETTING_TYPE in seen,
            sees_access=ROLE_ASSIGNMENT_TYPE in seen,
            sees_security=PRICING_TYPE in seen,
            sees_policy=POLICY_ASSIGNMENT_TYPE in seen,
            source=source,
        )
        diagnosed = _live_read(document, source)
        if diagnosed is not None:
            mark_live_visibility(related, seen, diagnosed)
        return related


def _live_read(document: Any, source: str) -> dict[str, bool] | None:
    """What a live read looked at, when ``tutela export`` wrote the document; else None.

    ``live_read`` holds the ids whose diagnostic settings were read and those that could not
    be: with it, the export is read as the live scan it was written from would have read the
    estate (``relate.mark_live_visibility``), not by the visibility rule above.
    """
    if not isinstance(document, dict) or "live_read" not in document:
        return None
    live = document["live_read"]
    diagnosed: dict[str, bool] = {}
    if isinstance(live, dict):
        for key, read in (("diagnostics_read", True), ("diagnostics_unread", False)):
            ids = live.get(key, [])
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                break
            diagnosed.update((i.lower(), read) for i in ids)
        else:
            return diagnosed
    raise SourceError(
        source,
        '"live_read" must be {"diagnostics_read": [ids], "diagnostics_unread": [ids]}, '
        "as tutela export writes it",
    )


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """No cyclic collection while the resources are built.

    Building them allocates hundreds of thousands of containers and no cycles, and each collection
    the allocations trigger walks the whole parsed document: half the time of a large export.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _records(document: Any, source: str) -> tuple[list[Any], str]:
    """The list of records, and its JSON path for messages."""
    if isinstance(document, list):
        return document, ""
    if not isinstance(document, dict):
        raise SourceError(source, f"the top level is {_json_type(document)}; {_SHAPES}")
    for key, next_page in (("data", "skip_token"), ("value", "nextLink")):
        if key not in document:
            continue
        records = document[key]
        if not isinstance(records, list):
            raise SourceError(source, f'"{key}" is {_json_type(records)}, not a list of records')
        if document.get(next_page):
            raise SourceError(source, _partial(document, key, next_page))
        return records, key
    raise SourceError(source, f"the top level has none of the keys data, value; {_SHAPES}")


def _partial(document: dict[str, Any], key: str, next_page: str) -> str:
    total = document.get("total_records")
    of_total = f" of {total}" if isinstance(total, int) else ""
    return (
        f"this is one page ({len(document[key])}{of_total} records; {next_page} is set): "
        "fetch every page and put all the records in one file, or a scan would read what is "
        "on the other pages as absent (`tutela export --subscription ID` writes a whole "
        "export; docs/export.md)"
    )


def _resource(record: Any, path: str, source: str) -> Resource:
    # The hot path of a 100,000-record export: plain reads, one exact-type test per column, and
    # the column-by-column check only for a record that fails it.
    if not isinstance(record, dict):
        raise SourceError(source, f"record {path} is {_json_type(record)}, not an object")
    get = record.get
    resource_id = get("id")
    resource_type = get("type")
    if not isinstance(resource_id, str) or not resource_id:
        raise SourceError(source, f'record {path} has no "id" (a non-empty string)')
    if not isinstance(resource_type, str) or not resource_type:
        raise SourceError(source, f'record {path} has no "type" (a non-empty string)')
    name = get("name")
    subscription_id = get("subscriptionId")
    resource_group = get("resourceGroup")
    location = get("location")
    kind = get("kind")
    sku = get("sku")
    tags = get("tags")
    identity = get("identity")
    properties = get("properties")
    if (
        type(name) not in _TEXT
        or type(subscription_id) not in _TEXT
        or type(resource_group) not in _TEXT
        or type(location) not in _TEXT
        or type(kind) not in _TEXT
        or type(sku) not in _OBJECT
        or type(tags) not in _OBJECT
        or type(identity) not in _OBJECT
        or type(properties) not in _OBJECT
    ):
        _check_columns(record, path, source)
    if not (name and subscription_id and resource_group):
        # Only rows without these columns (ARM objects, subscription-level rows) pay for this.
        name, subscription_id, resource_group = _from_id(
            resource_id, name, subscription_id, resource_group
        )
    # Positional: three times faster than keywords (estate.POSITIONAL_FIELDS).
    resource = Resource(
        resource_id,
        resource_type.lower(),
        name or resource_id,
        subscription_id,
        resource_group,
        location or None,  # Resource Graph writes "" for none
        kind or None,
        sku,
        tags or {},
        identity,
        properties or {},
    )
    resource.origin = f"{source}: {path}"
    return resource


_TEXT: Final = frozenset({str, type(None)})
_OBJECT: Final = frozenset({dict, type(None)})
_TEXT_COLUMNS: Final = ("name", "subscriptionId", "resourceGroup", "location", "kind")
_OBJECT_COLUMNS: Final = ("sku", "tags", "identity", "properties")


def _check_columns(record: dict[str, Any], path: str, source: str) -> None:
    """Name the first column of the wrong JSON type (subclasses of str and dict are fine)."""
    for key in _TEXT_COLUMNS:
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            raise SourceError(
                source, f'record {path}: "{key}" is {_json_type(value)}, not a string'
            )
    for key in _OBJECT_COLUMNS:
        value = record.get(key)
        if value is not None and not isinstance(value, dict):
            kind = _json_type(value)
            raise SourceError(source, f'record {path}: "{key}" is {kind}, not an object')


def _from_id(
    resource_id: str, name: str | None, subscription_id: str | None, resource_group: str | None
) -> tuple[str | None, str | None, str | None]:
    """Missing name, subscription and group, from ``/subscriptions/<s>/resourceGroups/<g>/…``."""
    parts = resource_id.split("/")
    if not name:
        name = parts[-1] or None
    if len(parts) > 2 and parts[0] == "" and parts[1].lower() == "subscriptions":
        subscription_id = subscription_id or parts[2] or None
        if len(parts) > 4 and parts[3].lower() == "resourcegroups":
            resource_group = resource_group or parts[4] or None
    return name, subscription_id, resource_group


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
