"""The Bicep file, checked without a Bicep compiler: parsed by a grammar of the Bicep we emit
(strings with Bicep's escapes, objects and arrays one member a line, calls, ``.``/``.?``
access, ``??``), then compared with the ARM template rendered from the same report: the same
parameters, nested deployments, redeclared and added resources, fix values and params."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from lark import Lark, Transformer, v_args

from tests.scanner.outputs.iac.test_arm import failing_items, sample_estate, soft_delete_estate
from tutela.scanner.catalog import load_catalog
from tutela.scanner.outputs.iac import RemediationItem, render_arm, render_bicep

GRAMMAR = r"""
start: _NL* (_statement _NL+)* _statement?
_statement: target | param | resource
target: "targetScope" "=" STRING
param: decorator* "param" NAME NAME
decorator: "@" NAME "(" _expr ")" _NL
resource: "resource" NAME STRING EXISTING? "=" object
EXISTING: "existing"

_expr: coalesce | _postfix
coalesce: _postfix "??" _postfix
_postfix: member | safe | call | _atom
member: _postfix "." NAME
safe: _postfix ".?" NAME
call: NAME "(" [_expr ("," _expr)*] ")"
_atom: object | array | string | number | true | false | null | ref
object: "{" _NL* (pair _NL+)* "}"
pair: (NAME | string) ":" _expr
array: "[" _NL* (_expr _NL+)* "]"
string: STRING
number: INT
true: "true"
false: "false"
null: "null"
ref: NAME

STRING: /'(\\(u\{[0-9A-F]+\}|[\\'nrt$])|[^'\\\n])*'/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
INT: /-?[0-9]+/
COMMENT: /\/\/[^\n]*/
_NL: /\n/
%ignore COMMENT
%ignore /[ \t]+/
"""
_ESCAPE = re.compile(r"\\(u\{([0-9A-F]+)\}|.)")
_SIMPLE = {"\\": "\\", "'": "'", "n": "\n", "r": "\r", "t": "\t", "$": "$"}


def unescape(token: str) -> str:
    def one(match: re.Match[str]) -> str:
        return chr(int(match.group(2), 16)) if match.group(2) else _SIMPLE[match.group(1)]

    return _ESCAPE.sub(one, token[1:-1])


@v_args(inline=True)
class _Tree(Transformer[Any, Any]):
    """Bicep values as Python ones; expressions as tuples ("ref"/"member"/"safe"/"call"/"??")."""

    def start(self, *statements: Any) -> list[Any]:
        return list(statements)

    def target(self, scope: Any) -> tuple[str, str]:
        return ("targetScope", unescape(scope))

    def decorator(self, name: Any, value: Any) -> tuple[str, Any]:
        return (str(name), value)

    def param(self, *parts: Any) -> tuple[str, str, str, dict[str, Any]]:
        *decorators, name, kind = parts
        return ("param", str(name), str(kind), dict(decorators))

    def resource(self, name: Any, kind: Any, *rest: Any) -> tuple[str, str, str, bool, Any]:
        return ("resource", str(name), unescape(kind), len(rest) == 2, rest[-1])

    def object(self, *pairs: tuple[str, Any]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), keys
        return dict(pairs)

    def pair(self, key: Any, value: Any) -> tuple[str, Any]:
        return (str(key), value)  # a NAME token or an unescaped string

    def array(self, *items: Any) -> list[Any]:
        return list(items)

    def string(self, token: Any) -> str:
        return unescape(str(token))

    def number(self, token: Any) -> int:
        return int(token)

    def true(self) -> bool:
        return True

    def false(self) -> bool:
        return False

    def null(self) -> None:
        return None

    def ref(self, name: Any) -> tuple[str, str]:
        return ("ref", str(name))

    def member(self, base: Any, name: Any) -> tuple[str, Any, str]:
        return ("member", base, str(name))

    def safe(self, base: Any, name: Any) -> tuple[str, Any, str]:
        return ("safe", base, str(name))

    def coalesce(self, left: Any, right: Any) -> tuple[str, Any, Any]:
        return ("??", left, right)

    def call(self, name: Any, *args: Any) -> tuple[str, str, list[Any]]:
        return ("call", str(name), [a for a in args if a is not None])


PARSER = Lark(GRAMMAR, parser="lalr")


def parse_bicep(text: str) -> list[Any]:
    return _Tree().transform(PARSER.parse(text))  # type: ignore[no-any-return]


# --- the ARM template and the Bicep file, each reduced to what it deploys ---------------------


def _from_arm_value(value: Any) -> Any:
    """ARM values with expressions as markers: params and the current resource's fields."""
    if isinstance(value, str):
        if match := re.fullmatch(r"\[parameters\('([A-Za-z0-9_]+)'\)\]", value):
            return {"param": match.group(1)}
        if match := re.fullmatch(r"\[parameters\('current'\)\.([a-z]+)\]", value):
            return {"current": match.group(1)}
        assert not (value.startswith("[") and value.endswith("]") and value[1:2] != "["), value
        return value[1:] if value.startswith("[[") and value.endswith("]") else value
    if isinstance(value, dict):
        return {key: _from_arm_value(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_from_arm_value(inner) for inner in value]
    return value


def _from_bicep_value(value: Any, current: str | None) -> Any:
    if isinstance(value, tuple):
        if value[0] == "ref":
            return {"param": value[1]}
        if value[0] == "member" and value[1] == ("ref", current):
            return {"current": value[2]}
        raise AssertionError(f"unexpected expression {value}")
    if isinstance(value, dict):
        return {key: _from_bicep_value(inner, current) for key, inner in value.items()}
    if isinstance(value, list):
        return [_from_bicep_value(inner, current) for inner in value]
    return value


REDECLARED = ("[union(parameters('current').properties", "[parameters('current').properties]")


def arm_deployments(template: dict[str, Any]) -> list[dict[str, Any]]:
    reduced = []
    for deployment in template["resources"]:
        inner = deployment["properties"]["template"]
        changes = inner.get("variables", {}).get("changes", {})
        current = deployment["properties"]["parameters"].get("current", {}).get("value", "")
        resources = []
        for resource in inner["resources"]:
            if not str(resource["properties"]).startswith(REDECLARED):
                body = _from_arm_value(resource["properties"])
                changed: Any = None
                location = _from_arm_value(resource.get("location"))
            else:  # the redeclared resource: union(current, changes)
                body = None
                changed = {k: _from_arm_value(v) for k, v in changes.items()}
                location = None
            resources.append(
                {
                    "type": resource["type"],
                    "apiVersion": resource["apiVersion"],
                    "name": _from_arm_value(resource["name"]),
                    "scope": _from_arm_value(resource.get("scope")),
                    "properties": body,
                    "changes": changed,
                    "location": location,
                }
            )
        reduced.append(
            {
                "name": deployment["name"],
                "subscriptionId": _from_arm_value(deployment["subscriptionId"]),
                "resourceGroup": _from_arm_value(deployment.get("resourceGroup")),
                "reads": _reference(current),
                "resources": resources,
            }
        )
    return reduced


def _reference(expression: str) -> tuple[str, str] | None:
    match = re.fullmatch(r"\[reference\('(.*)', '([^']+)', 'Full'\)\]", expression, re.DOTALL)
    return (match.group(1).replace("''", "'"), match.group(2)) if match else None


def bicep_deployments(statements: list[Any]) -> list[dict[str, Any]]:
    existing = {s[1]: s for s in statements if s[0] == "resource" and s[3]}
    reduced = []
    for _, _, kind, is_existing, body in (s for s in statements if s[0] == "resource"):
        if is_existing:
            continue
        assert kind.startswith("Microsoft.Resources/deployments@")
        inner = body["properties"]["template"]
        reads, current = None, None
        resources = []
        for resource in inner["resources"]:
            properties = resource["properties"]
            changed: Any = None
            if isinstance(properties, tuple):  # union(currentNNN.properties, {…}) or the current's
                base = properties[2][0] if properties[0] == "call" else properties
                assert base[0] == "member"
                assert base[2] == "properties"
                current = base[1][1]
                changed = {}
                if properties[0] == "call":
                    changed["properties"] = _from_bicep_value(properties[2][1], current)
                for key, value in resource.items():
                    if key in ("sku", "identity", "tags") and value[0] == "call":
                        changed[key] = _from_bicep_value(value[2][1], current)
                body_properties = None
            else:
                body_properties = properties
            location = resource.get("location") if changed is None else None
            resources.append(
                {
                    "type": resource["type"],
                    "apiVersion": resource["apiVersion"],
                    "name": resource["name"],
                    "scope": resource.get("scope"),
                    "properties": body_properties,
                    "changes": changed,
                    "location": location,
                }
            )
            if isinstance(location, tuple) and location[0] == "member":
                current = location[1][1]  # a private endpoint at its resource's location
        for resource in resources:
            for key in ("properties", "location"):
                if resource[key] is not None:
                    resource[key] = _from_bicep_value(resource[key], current)
        if current is not None:
            _, _, declared, _, read = existing[current]
            scope = read["scope"]
            assert scope[0] == "call"
            assert scope[2] == (
                [body["subscriptionId"], body["resourceGroup"]]
                if "resourceGroup" in body
                else [body["subscriptionId"]]
            )
            type_, _, api = declared.partition("@")
            reads = (_id(body, type_, read["name"]), api)
        reduced.append(
            {
                "name": body["name"],
                "subscriptionId": body["subscriptionId"],
                "resourceGroup": body.get("resourceGroup"),
                "reads": reads,
                "resources": resources,
            }
        )
    return reduced


def _id(body: dict[str, Any], type_: str, name: str) -> str:
    base = f"/subscriptions/{body['subscriptionId']}"
    if "resourceGroup" in body:
        base += f"/resourceGroups/{body['resourceGroup']}"
    namespace, *types = type_.split("/")
    pairs = "/".join(f"{t}/{n}" for t, n in zip(types, name.split("/"), strict=True))
    return f"{base}/providers/{namespace}/{pairs}"


def test_the_bicep_file_parses_and_deploys_what_the_arm_template_deploys() -> None:
    catalog = load_catalog()
    items = failing_items(sample_estate()) + failing_items(soft_delete_estate())
    template = json.loads(render_arm(items, catalog, report_id="R"))
    statements = parse_bicep(render_bicep(items, catalog, report_id="R"))
    assert statements[0] == ("targetScope", "subscription")
    params = {s[1]: (s[2], s[3]["description"]) for s in statements if s[0] == "param"}
    assert params == {
        name: (p["type"], p["metadata"]["description"])
        for name, p in template["parameters"].items()
    }
    arm, bicep = arm_deployments(template), bicep_deployments(statements)
    assert len(bicep) == len(arm) > 20
    for ours, theirs in zip(bicep, arm, strict=True):
        assert ours == theirs


def test_every_change_and_listing_is_named_in_comments() -> None:
    catalog = load_catalog()
    items = failing_items(sample_estate())
    text = render_bicep(items, catalog)
    comments = [line for line in text.splitlines() if line.startswith("//")]
    for item in items:
        assert any(line.startswith(f"// {item.check_id}: ") for line in comments), item.check_id
    for item in items:
        spec = catalog.check(item.check_id)
        if spec.fix is not None and spec.fix.manual:
            assert "// Portal: " + " ".join(spec.portal_steps.split()) in text


HOSTILE = "st'x]\n${evil}*/ \\'[deployment()]\u2028//"
NAME = HOSTILE.replace("/", "")  # an id's segments hold no "/" (such an id is only listed)


@pytest.mark.parametrize("source", [None, "arm"])
def test_hostile_report_text_cannot_break_out(source: str | None) -> None:
    resource = f"/subscriptions/s1/resourceGroups/{NAME}/providers/Microsoft.KeyVault/vaults/{NAME}"
    item = RemediationItem("KV-PURGE-PROTECTION", resource, NAME, "microsoft.keyvault/vaults")
    item.controls[f"dora {HOSTILE}"] = None
    diag = RemediationItem("KV-DIAG-LOGS", resource, NAME, "microsoft.keyvault/vaults")
    diag.controls[f"dora {HOSTILE}"] = None
    diag.origin = f"main.json: {HOSTILE}"
    text = render_bicep([item, diag], load_catalog(), report_id=HOSTILE, source=source)
    statements = parse_bicep(text)  # one statement per declaration: nothing broke a string
    for line in text.splitlines():
        assert "${" not in line.replace("\\${", "") or line.startswith("//")
    if source is None:
        deployment = next(s for s in statements if s[0] == "resource" and not s[3])[4]
        assert deployment["resourceGroup"] == NAME
        (vault, setting) = deployment["properties"]["template"]["resources"]
        assert vault["name"] == NAME
        assert setting["scope"] == f"Microsoft.KeyVault/vaults/{NAME}"
        existing = next(s for s in statements if s[0] == "resource" and s[3])[4]
        assert existing["scope"] == ("call", "resourceGroup", ["s1", NAME])
    else:
        assert [s for s in statements if s[0] == "resource"] == []
        assert (
            f"// Origin: main.json: {' '.join(HOSTILE.replace(chr(0x2028), ' ').split())}" in text
        )
