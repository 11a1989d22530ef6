"""The Azure CLI remediation script of a report: a bash script, every value quoted.

Per (check, resource): ``set`` changes become one ``az resource update --ids`` (the CLI's generic
update reads the resource, applies ``--set``/``--remove`` in command-line order and writes it
back: it never recreates it); values go to ``--set path=<JSON>`` and nulls to ``--remove path``.
``add`` resources become ``az rest --method put`` on the child's ARM URL with the API version
below. Params are shell variables the script requires before it changes anything; they are never
written in the script.

How the generic update treats a path (azure-cli ``src/azure-cli-core/azure/cli/core/commands/
arm.py``, ``set_properties`` / ``remove_properties`` / ``_find_property``; the order in
``command_operation.py``, ``GenericUpdateCommandOperation.handler``), and what the script does
about it:

- a ``--set`` value is parsed as JSON when it parses, else kept as a string: values are written
  as JSON, and a param that must stay a string (a tag) is passed as a JSON string;
- a missing parent object is created only when the resource's own attribute (``properties``,
  ``sku``, ``identity``, ``tags``) is null; a key missing inside ``properties`` is an error
  ("Couldn't find …"), so the objects on a nested path the resource lacks are created first
  with ``--set parent={}``, found by ``az resource show --query``;
- ``--remove path`` deletes a non-list property, and fails when it is absent, so a removal first
  sets it to ``{}``.

Everything a report holds (resource ids, names, control ids) is untrusted text: command words
are ``shlex.quote``-d, URLs percent-encoded, comments stripped of control characters.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from tutela.scanner.catalog import Catalog
from tutela.scanner.catalog.checks import AddedResource, CheckSpec, Fix
from tutela.scanner.outputs.iac.api_versions import api_version
from tutela.scanner.outputs.iac.items import RemediationItem, in_source_reason, is_deployed

ARM = "https://management.azure.com"

_SUBSCRIPTION = re.compile(r"^/subscriptions/[^/]+", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MARK = "\x00param:"  # stands for a param inside rendered JSON; no catalogue text holds NUL

_PREAMBLE = """\
#!/usr/bin/env bash
# Tutela remediation script (Azure CLI), rendered from the catalogue's fixes.
# Review it, run it signed in (az login) with rights to change the resources it names.
# `az resource update` reads each resource, merges the changes and writes it back: nothing is
# recreated. `az rest --method put` creates or replaces the child resources fixes add.
set -euo pipefail

# A parameter's value as a JSON string (parameters are checked for control characters above).
json_string() {
  local value=$1
  value=${value//\\\\/\\\\\\\\}
  value=${value//\\"/\\\\\\"}
  printf '"%s"' "$value"
}

# The objects on the way to a nested path that the resource (first argument) lacks, one a line:
# `az resource update --set a.b.c=v` cannot create a missing properties.a or properties.a.b.
missing_parents() {
  local id=$1 path
  shift
  for path in "$@"; do
    # -o tsv prints a JMESPath boolean with Python's str() (knack output.py): True or False.
    case $(az resource show --ids "$id" --query "$path != null" -o tsv) in
      True | true) ;;
      *) printf '%s\\n' "$path" ;;
    esac
  done
}
"""


def variable(param: str) -> str:
    """The shell variable that holds a fix's param."""
    return re.sub(r"[^A-Z0-9_]", "_", param.upper())


def comment(text: str) -> str:
    """Untrusted text as one comment line: no control character can end the comment."""
    return "# " + " ".join(_CONTROL.sub(" ", text).split())


def render_azcli(
    items: Sequence[RemediationItem],
    catalog: Catalog,
    *,
    report_id: str | None = None,
    source: str | None = None,
) -> str:
    """The bash script that applies the catalogue's fixes to the report's failing resources."""
    checks = {check.id: check for check in catalog.checks}
    params = _params(items, checks, source)
    merged = _merged_adds(items, checks, source)
    lines = [_PREAMBLE]
    if report_id is not None:
        lines.append(comment(f"Report: {report_id}"))
    lines.extend(_required(params))
    unscripted: dict[str, None] = {}
    for item in items:
        check = checks.get(item.check_id)
        if check is None or check.fix is None:
            unscripted.setdefault(item.check_id)
            continue
        lines.append("")
        lines.extend(_item(item, check, check.fix, merged, source))
    if unscripted:
        lines.append("")
        lines.append(comment("Not scriptable yet (no fix in the catalogue); see the report:"))
        lines.extend(comment(f"  {check_id}") for check_id in unscripted)
    return "\n".join(lines) + "\n"


def _params(
    items: Iterable[RemediationItem], checks: dict[str, CheckSpec], source: str | None
) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        check = checks.get(item.check_id)
        if (
            check is not None
            and check.fix is not None
            and not check.fix.manual
            and is_deployed(item, source)
        ):
            for name, about in check.fix.params.items():
                params.setdefault(name, about)
    return params


def _required(params: dict[str, str]) -> list[str]:
    if not params:
        return []
    lines = ["", "# Parameters: set each before running (values are never written here)."]
    for name, about in params.items():
        var = variable(name)
        lines.append(comment(f"{var}: {about}"))
        lines.append(f': "${{{var}:?set {var} (see the comment above)}}"')
    lines.append(f"for name in {' '.join(variable(n) for n in params)}; do")
    lines.append("  case ${!name} in *[[:cntrl:]]*)")
    lines.append('    echo "tutela: $name holds a control character" >&2; exit 1;;')
    lines.append("  esac")
    lines.append("done")
    return lines


def _item(
    item: RemediationItem,
    check: CheckSpec,
    fix: Fix,
    merged: dict[str, dict[str, Any]],
    source: str | None,
) -> list[str]:
    lines = [
        comment(f"{check.id}: {check.title}"),
        comment(f"Resource: {item.resource_name or item.resource} ({item.resource})"),
        comment(f"Remediates: {', '.join(item.controls)}"),
    ]
    if fix.note:
        lines.append(comment(f"Note: {fix.note}"))
    if fix.manual:
        lines.append(comment(f"Manual: {fix.manual}"))
        lines.append(comment(f"Portal: {check.portal_steps}"))
        return lines
    if not is_deployed(item, source):
        lines.append(comment(in_source_reason(item, source)))
        return lines
    if any("[*]" in change.path for change in fix.set):
        lines.append(comment("A change applies to every element of a list: not scriptable yet."))
        lines.append(comment(f"Portal: {check.portal_steps}"))
        return lines
    if fix.set:
        lines.extend(_update(item.resource, fix))
    for added in fix.add:
        lines.extend(_put(item.resource, item.resource_name, added, merged))
    return lines


def _update(resource_id: str, fix: Fix) -> list[str]:
    """One ``az resource update`` with the fix's changes, after the objects it needs exist."""
    resource = shlex.quote(resource_id)
    lines = []
    words = ["az resource update --ids " + resource]
    parents = _parents(change.path for change in fix.set)
    if parents:
        lines.append("parents=()")
        lines.append(
            'while IFS= read -r parent; do parents+=(--set "$parent={}"); done \\\n'
            f"  < <(missing_parents {resource} {' '.join(map(shlex.quote, parents))})"
        )
        words.append('${parents[@]+"${parents[@]}"}')
    for change in fix.set:
        if change.value is None:
            # {} first: --remove of an absent property fails.
            words.append("--set " + shlex.quote(f"{change.path}={{}}"))
            words.append("--remove " + shlex.quote(change.path))
        elif isinstance(change.value, dict) and set(change.value) == {"param"}:
            var = variable(change.value["param"])
            # A whole value from a param is JSON if it parses (lists, numbers); tag values
            # must stay strings, so they go as JSON strings.
            value = f'"$(json_string "${var}")"' if change.path.startswith("tags.") else f'"${var}"'
            words.append("--set " + shlex.quote(f"{change.path}=") + value)
        else:
            words.append("--set " + shlex.quote(f"{change.path}=") + _json_word(change.value))
    lines.append(" \\\n  ".join(words))
    return lines


def _parents(paths: Iterable[str]) -> list[str]:
    """The objects below the resource's own attributes that nested paths go through."""
    parents: dict[str, None] = {}
    for path in paths:
        steps = path.split(".")
        for end in range(2, len(steps)):
            parents.setdefault(".".join(steps[:end]))
    return list(parents)


def _put(
    resource_id: str, resource_name: str, added: AddedResource, merged: dict[str, dict[str, Any]]
) -> list[str]:
    url = _url(resource_id, resource_name, added)
    body: dict[str, Any] = {"properties": merged[url]}
    lines = []
    if added.type.lower() == "microsoft.network/privateendpoints":
        # A private endpoint is created in its resource's region, which the report does not keep.
        lines.append(
            "location=$(az resource show --ids "
            + shlex.quote(resource_id)
            + " --query location -o tsv)"
        )
        body = {"location": {"shell": "location"}, **body}
    lines.append(
        "az rest --method put --url " + shlex.quote(url) + " \\\n  --body " + _json_word(body)
    )
    return lines


def _url(resource_id: str, resource_name: str, added: AddedResource) -> str:
    version = api_version(added.type)
    name = added.name.replace("{name}", resource_name or resource_id.rsplit("/", 1)[-1])
    if added.scope == "resource":
        scope = resource_id
    elif added.scope == "subscription":
        scope = _subscription(resource_id) or resource_id
    else:
        at = resource_id.lower().find("/providers/")
        scope = resource_id[:at] if at >= 0 else resource_id
    path = f"{scope}/providers/{added.type}/{name}"
    return f"{ARM}{quote(path, safe='/()-._~')}?api-version={version}"


def _merged_adds(
    items: Iterable[RemediationItem], checks: dict[str, CheckSpec], source: str | None
) -> dict[str, dict[str, Any]]:
    """Per added resource (URL), the properties every fix adding it asks for, merged.

    Two checks can add the same resource (the AI pricing, with and without prompt evidence):
    each PUT replaces it, so each one carries what both ask for.
    """
    merged: dict[str, dict[str, Any]] = {}
    for item in items:
        check = checks.get(item.check_id)
        if check is None or check.fix is None or check.fix.manual:
            continue
        if not is_deployed(item, source):
            continue
        for added in check.fix.add:
            url = _url(item.resource, item.resource_name, added)
            merged[url] = _merge(merged.get(url, {}), _resolved(added.properties, item))
    return merged


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and set(value) != {"param"}:
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _resolved(value: Any, item: RemediationItem) -> Any:
    """``{"resource": …}`` filled from the item; params kept for the shell to fill."""
    if isinstance(value, dict):
        if set(value) == {"resource"}:
            # NUL marks params in rendered JSON: a report's text never carries one there.
            own = {"id": item.resource, "name": item.resource_name}.get(value["resource"], "")
            return own.replace("\x00", "")
        return {key: _resolved(inner, item) for key, inner in value.items()}
    if isinstance(value, list):
        return [_resolved(inner, item) for inner in value]
    return value


def _json_word(value: Any) -> str:
    """``value`` as one shell word of JSON; params and shell values spliced as JSON strings."""
    text = json.dumps(_marked(value), separators=(",", ":"), ensure_ascii=False)
    pieces = re.split(r'"\\u0000(param|shell):([A-Za-z0-9_]+)"', text)
    word = shlex.quote(pieces[0]) if pieces[0] else ""
    for at in range(1, len(pieces), 3):
        kind, name, rest = pieces[at], pieces[at + 1], pieces[at + 2]
        var = variable(name) if kind == "param" else name
        word += f'"$(json_string "${var}")"' + (shlex.quote(rest) if rest else "")
    return word


def _marked(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"param"}:
            return f"{_MARK}{value['param']}"
        if set(value) == {"shell"}:
            return f"\x00shell:{value['shell']}"
        return {key: _marked(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_marked(inner) for inner in value]
    return value


def _subscription(resource_id: str) -> str | None:
    match = _SUBSCRIPTION.match(resource_id)
    return match.group(0) if match else None
