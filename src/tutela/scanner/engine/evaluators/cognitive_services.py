"""Evaluators for Azure AI Services accounts: content filters and model versions of deployments,
private endpoints.

A deployment names its content-filter (RAI) policy; the policy is a sibling resource
``<account id>/raiPolicies/<name>``. Private endpoints reach a resource either through the
resource's own ``privateEndpointConnections`` (what ARM returns for a live resource) or through a
``microsoft.network/privateendpoints`` resource that names it (what templates and plans declare).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tutela.scanner.catalog.model_retirements import load_model_retirements, stage
from tutela.scanner.engine.conditions import Context, Tri, property_value
from tutela.scanner.engine.evaluators import evaluator
from tutela.scanner.estate import UNKNOWN, Resource

PRIVATE_ENDPOINT_TYPE = "microsoft.network/privateendpoints"
# A private endpoint's connection lists, and whether a connection in it is approved on creation.
_ENDPOINT_CONNECTION_KINDS = (
    ("privateLinkServiceConnections", True),
    ("manualPrivateLinkServiceConnections", False),
)

_DEFAULT_POLICY_PREFIXES = ("Microsoft.Default",)
_UNFILTERED_POLICIES = ("Microsoft.Nil",)
_HARM_FILTERS = ("hate", "sexual", "violence", "selfharm")
_PROMPT_SHIELDS = ("jailbreak",)
_NON_BLOCKING_MODES = ("Deferred", "Asynchronous_filter")


_SEPARATORS = re.compile(r"[^a-z0-9]")


def _key(name: Any) -> str:
    """A filter name compared without case or separators: ``SelfHarm`` = ``self_harm``."""
    return _SEPARATORS.sub("", str(name).casefold())


def _is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.casefold() == "false")


def _words(params: dict[str, Any], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(str(value) for value in params.get(name, default))


@evaluator("rai_content_filters")
def rai_content_filters(ctx: Context, params: dict[str, Any], _as_of: dt.date) -> Tri:
    """Pass when a deployment's content-filter policy blocks the harm and jailbreak categories.

    No ``raiPolicyName`` or a ``Microsoft.Default*`` name means Microsoft's default filters
    (pass). ``params.unfiltered_policies`` (default ``Microsoft.Nil``) name system policies that
    filter nothing (fail). Any other name is looked up as the account's ``raiPolicies`` child:
    absent from the estate → unknown; otherwise judged by ``_judge_policy``.
    """
    name = property_value(ctx.resource.properties, "raiPolicyName")
    if name is UNKNOWN:
        ctx.evidence.append(("properties.raiPolicyName", "<unknown>"))
        return None
    if not name:
        ctx.evidence.append(("properties.raiPolicyName", "<absent; Microsoft default filters>"))
        return True
    name = str(name)
    ctx.evidence.append(("properties.raiPolicyName", name))
    unfiltered = {p.casefold() for p in _words(params, "unfiltered_policies", _UNFILTERED_POLICIES)}
    if name.casefold() in unfiltered:
        return False
    prefixes = _words(params, "default_policy_prefixes", _DEFAULT_POLICY_PREFIXES)
    if any(name.casefold().startswith(prefix.casefold()) for prefix in prefixes):
        return True
    account_id = ctx.resource.parent_id
    policy = ctx.estate.get(f"{account_id}/raiPolicies/{name}") if account_id else None
    if policy is None:
        ctx.evidence.append((f"raiPolicies/{name}", "<not in this estate>"))
        return None
    # Every deployment using the policy gets the same verdict: judge it once per scan.
    memo_key = ("rai_content_filters", policy.key, id(params))
    cached = ctx.estate.memo.get(memo_key)
    if cached is None:
        scratch = Context(policy, ctx.estate, [])
        cached = (_judge_policy(scratch, policy, params), tuple(scratch.evidence))
        ctx.estate.memo[memo_key] = cached
    verdict, evidence = cached
    ctx.evidence.extend(evidence)
    return verdict


def _judge_policy(ctx: Context, policy: Resource, params: dict[str, Any]) -> Tri:
    """Fail on a non-blocking mode or on a required filter that is disabled or only annotates."""
    where = f"raiPolicies/{policy.name}"
    props = policy.properties
    undecided = False
    failed = False
    mode = property_value(props, "mode")
    ctx.evidence.append((f"{where}.mode", "<unknown>" if mode is UNKNOWN else mode or "<absent>"))
    non_blocking = {m.casefold() for m in _words(params, "non_blocking_modes", _NON_BLOCKING_MODES)}
    if mode is UNKNOWN:
        undecided = True
    elif isinstance(mode, str) and mode.casefold() in non_blocking:
        failed = True
    filters = property_value(props, "contentFilters")
    if filters is UNKNOWN:
        ctx.evidence.append((f"{where}.contentFilters", "<unknown>"))
        return False if failed else None
    if not isinstance(filters, list):
        filters = []
    base = str(property_value(props, "basePolicyName") or "")
    inherits_default = base.casefold().startswith("microsoft.default")
    by_name = _by_name_and_source(filters)
    for filter_name, source in _required_filters(params):
        verdict = _judge_filter(ctx, where, by_name, filter_name, source, inherits_default)
        failed = failed or verdict is False
        undecided = undecided or verdict is None
    if failed:
        return False
    return None if undecided else True


def _required_filters(params: dict[str, Any]) -> list[tuple[str, str]]:
    harms = _words(params, "harm_filters", _HARM_FILTERS)
    shields = _words(params, "prompt_shields", _PROMPT_SHIELDS)
    pairs = [(name, source) for name in harms for source in ("Prompt", "Completion")]
    return pairs + [(name, "Prompt") for name in shields]


def _by_name_and_source(filters: list[Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The policy's filters by (``_key`` of the name, source without case), in the policy's order.

    Nine (filter, source) pairs are looked up in each policy: its filters are keyed once.
    """
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in filters:
        if isinstance(entry, dict):
            source = str(property_value(entry, "source", "")).casefold()
            name = property_value(entry, "name")
            found.setdefault((_key(name), source), []).append(entry)
    return found


def _judge_filter(
    ctx: Context,
    where: str,
    by_name: dict[tuple[str, str], list[dict[str, Any]]],
    name: str,
    source: str,
    inherits_default: bool,
) -> Tri:
    """One (filter, source) pair: False if disabled or not blocking, None if not decidable."""
    label = f"{where}.contentFilters[{name}/{source}]"
    entries = by_name.get((_key(name), source.casefold()), [])
    if not entries:
        # Filters a custom policy leaves out come from its base policy.
        ctx.evidence.append((label, "<not set; Microsoft default base policy applies>"))
        return True if inherits_default else None
    verdict: Tri = True
    for entry in entries:
        enabled = property_value(entry, "enabled")
        blocking = property_value(entry, "blocking")
        ctx.evidence.append((label, f"enabled={_show(enabled)}, blocking={_show(blocking)}"))
        if _is_false(enabled) or _is_false(blocking):
            return False
        if any(value is None or value is UNKNOWN for value in (enabled, blocking)):
            verdict = None
    return verdict


def _show(value: Any) -> str:
    return "<unknown>" if value is UNKNOWN else "<absent>" if value is None else str(value)


@evaluator("approved_private_endpoint")
def approved_private_endpoint(ctx: Context, _params: dict[str, Any], _as_of: dt.date) -> Tri:
    """Pass when an approved private endpoint connection reaches the resource.

    Reads the resource's own ``properties.privateEndpointConnections``: the sources add there the
    private endpoints a template or plan declares for it (sources/relate.py), so one path serves
    deployed estates and code about to be deployed alike.
    """
    own = property_value(ctx.resource.properties, "privateEndpointConnections")
    undecided = own is UNKNOWN
    for index, connection in enumerate(own if isinstance(own, list) else []):
        status = _connection_status(connection)
        if status is UNKNOWN:
            undecided = True
        elif isinstance(status, str) and status.casefold() == "approved":
            ctx.evidence.append((f"properties.privateEndpointConnections[{index}]", status))
            return True
    if undecided:
        ctx.evidence.append(("properties.privateEndpointConnections", "<unknown>"))
        return None
    count = len(own) if isinstance(own, list) else 0
    ctx.evidence.append(("properties.privateEndpointConnections", f"{count}, none approved"))
    return False


def _connection_status(connection: Any) -> Any:
    """The connection's ``privateLinkServiceConnectionState.status`` (None if absent)."""
    props = _connection_properties(connection)
    if props is UNKNOWN:
        return UNKNOWN
    state = property_value(props, "privateLinkServiceConnectionState")
    if state is UNKNOWN:
        return UNKNOWN
    return property_value(state, "status") if isinstance(state, dict) else None


def _connection_properties(connection: Any) -> Any:
    """ARM nests a connection's fields under ``properties``; some exports flatten them."""
    if not isinstance(connection, dict):
        return {}
    props = property_value(connection, "properties", connection)
    return props if props is UNKNOWN or isinstance(props, dict) else {}


@evaluator("model_retirement")
def model_retirement(ctx: Context, params: dict[str, Any], as_of: dt.date) -> Tri:
    """Fail a deployment whose model version is retired, deprecated or retires within the notice.

    The dates come from the catalogue's table (catalog/model_retirements.yaml); ``params.
    notice_days`` (default 60) is how close a retirement date counts as retiring. A version the
    table does not list, or a model the source could not read, is unknown.
    """
    model = property_value(ctx.resource.properties, "model")
    name = property_value(model, "name") if isinstance(model, dict) else None
    version = property_value(model, "version") if isinstance(model, dict) else None
    if UNKNOWN in (model, name, version) or not name or not version:
        shown = "<unknown>" if UNKNOWN in (model, name, version) else "<absent>"
        ctx.evidence.append(("properties.model", f"{name or shown} {version or shown}"))
        return None
    table = load_model_retirements()
    ctx.evidence.append(("properties.model", f"{name} {version}"))
    entry = table.find(str(name), str(version))
    if entry is None:
        ctx.evidence.append(("retirement table", f"version not listed (table as of {table.as_of})"))
        return None
    source = table.sources[entry.source]
    ctx.evidence.append(("retirement table", f"as of {table.as_of}, {source.url}"))
    notice = int(params.get("notice_days", 60))
    where = stage(entry, as_of, notice)
    earliest = "no earlier than " if entry.not_before else ""
    retires = f"{earliest}{entry.retirement.isoformat()}"
    if where == "retired":
        ctx.evidence.append(("retired", f"on {retires}"))
    elif where == "deprecated":
        assert entry.deprecation is not None
        ctx.evidence.append(
            ("deprecated", f"since {earliest}{entry.deprecation.isoformat()}, retires {retires}")
        )
    elif where == "retiring" and entry.retirement <= as_of:
        ctx.evidence.append(("retiring", f"at any time: {retires} has passed"))
    elif where == "retiring":
        ctx.evidence.append(("retiring", f"{retires}, within {notice} days of the scan"))
    else:
        ctx.evidence.append(("retires", retires))
    if where != "current" and entry.replacement:
        ctx.evidence.append(("replacement", entry.replacement))
    return where == "current"
