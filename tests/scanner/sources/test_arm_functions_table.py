"""One case per ARM template function, from the examples of the Microsoft Learn reference
(template-functions-string/-array/-object/-comparison/-logical/-numeric/-date/-lambda):
the expression as the example writes it (parameters inlined) and the documented output."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tutela.scanner.estate import UNKNOWN
from tutela.scanner.sources import arm_expressions, arm_functions, arm_lazy
from tutela.scanner.sources.arm_expressions import Deployment, Evaluator

SUB = "3f2a6b1e-8c4d-4e7a-9b15-2d6c0f9e4a71"
DOGS = [
    {"name": "Evie", "age": 5},
    {"name": "Casper", "age": 3},
    {"name": "Indy", "age": 2},
    {"name": "Kira", "age": 8},
]
TEMPLATE: dict[str, Any] = {
    "parameters": {
        "firstObject": {"type": "object", "defaultValue": {"one": "a", "two": "b", "three": "c"}},
        "secondObject": {"type": "object", "defaultValue": {"one": "a", "two": "z", "three": "c"}},
        "unionObject": {"type": "object", "defaultValue": {"three": "c2", "four": "d"}},
        "entities": {
            "type": "object",
            "defaultValue": {"item002": {"enabled": False}, "item001": {"enabled": True}},
        },
        "dogs": {"type": "array", "defaultValue": DOGS},
        "unknown": {"type": "string"},
        "optionalTier": {"type": "string", "nullable": True},
        "nullDefault": {"type": "string", "defaultValue": None},
    },
    "variables": {
        "users": {"name": "John Doe", "age": 30},
        "colors": ["red", "green"],
        "delimiters": [",", ";"],
    },
    "functions": [
        {
            "namespace": "contoso",
            "members": {
                "uniqueName": {
                    "parameters": [{"name": "namePrefix", "type": "string"}],
                    "output": {
                        "type": "string",
                        "value": "[concat(toLower(parameters('namePrefix')), '-acct')]",
                    },
                },
                "twice": {
                    "parameters": [{"name": "prefix", "type": "string"}],
                    "output": {
                        "type": "string",
                        "value": "[contoso.uniqueName(concat(parameters('prefix'), 'X'))]",
                    },
                },
            },
        }
    ],
}


def _eval(text: str) -> Any:
    return Evaluator(TEMPLATE, Deployment(SUB, "rg-ai", "westus")).resolve(text)


DOCUMENTED = [
    # string functions
    ("[base64('one, two, three')]", "b25lLCB0d28sIHRocmVl"),
    ("[base64ToString('b25lLCB0d28sIHRocmVl')]", "one, two, three"),
    ('[base64ToJson(base64(\'{"one": "a", "two": "b"}\'))]', {"one": "a", "two": "b"}),
    ("[concat(createArray('1-1', '1-2'), createArray('2-1'))]", ["1-1", "1-2", "2-1"]),
    ("[contains('OneTwoThree', 'e')]", True),
    ("[contains('OneTwoThree', 'z')]", False),
    ("[contains('OneTwoThree', 'one')]", False),  # strings: case-sensitive
    ("[contains(parameters('firstObject'), 'ONE')]", True),  # keys: case-insensitive
    ("[contains(createArray('one', 'two', 'three'), 'four')]", False),
    ("[dataUri('Hello')]", "data:text/plain;charset=utf8;base64,SGVsbG8="),
    ("[dataUriToString('data:;base64,SGVsbG8sIFdvcmxkIQ==')]", "Hello, World!"),
    ("[empty(json('null'))]", True),
    ("[endsWith('abcdef', 'F')]", True),
    ("[endsWith('abcdef', 'e')]", False),
    ("[first(createArray('one', 'two', 'three'))]", "one"),
    ("[first('One Two Three')]", "O"),
    ("[format('{0}, {1}.', 'Hello', 'User')]", "Hello, User."),
    ("[indexOf('test', 't')]", 0),
    ("[indexOf('abcdef', 'CD')]", 2),
    ("[indexOf('abcdef', 'z')]", -1),
    ("[lastIndexOf('test', 't')]", 3),
    ("[lastIndexOf('abcdef', 'AB')]", 0),
    ("[join(createArray('one', 'two', 'three'), ',')]", "one,two,three"),
    ("[last(createArray('one', 'two', 'three'))]", "three"),
    ("[last('One Two Three')]", "e"),
    ("[length('One Two Three')]", 13),
    ("[padLeft('123', 10, '0')]", "0000000123"),
    ("[replace('123-123-1234', '-', '')]", "1231231234"),
    ("[replace('123-123-1234', '1234', 'xxxx')]", "123-123-xxxx"),
    ("[skip(createArray('one', 'two', 'three'), 2)]", ["three"]),
    ("[skip('one two three', 4)]", "two three"),
    ("[split('one,two,three', ',')]", ["one", "two", "three"]),
    ("[split('one;two,three', variables('delimiters'))]", ["one", "two", "three"]),
    ("[startsWith('abcdef', 'A')]", True),
    ("[startsWith('abcdef', 'e')]", False),
    (
        '[string(json(\'{"valueA": 10, "valueB": "Example Text"}\'))]',
        '{"valueA":10,"valueB":"Example Text"}',
    ),
    ("[string(createArray('a', 'b', 'c'))]", '["a","b","c"]'),
    ("[string(5)]", "5"),
    ("[substring('one two three', 4, 3)]", "two"),
    ("[take(createArray('one', 'two', 'three'), 2)]", ["one", "two"]),
    ("[take('one two three', 2)]", "on"),
    ("[toLower('One Two Three')]", "one two three"),
    ("[toUpper('One Two Three')]", "ONE TWO THREE"),
    ("[trim('    one two three   ')]", "one two three"),
    (
        "[uri('http://contoso.com/resources/', 'nested/azuredeploy.json')]",
        "http://contoso.com/resources/nested/azuredeploy.json",
    ),
    ("[uri('http://contoso.org/firstpath', 'myscript.sh')]", "http://contoso.org/myscript.sh"),
    (
        "[uri('http://contoso.org/firstpath/azuredeploy.json/', 'myscript.sh')]",
        "http://contoso.org/firstpath/azuredeploy.json/myscript.sh",
    ),
    (
        "[uriComponent('http://contoso.com/resources/nested/azuredeploy.json')]",
        "http%3A%2F%2Fcontoso.com%2Fresources%2Fnested%2Fazuredeploy.json",
    ),
    (
        "[uriComponentToString('http%3A%2F%2Fcontoso.com%2Fresources%2Fnested%2Fazuredeploy.json')]",
        "http://contoso.com/resources/nested/azuredeploy.json",
    ),
    # array functions
    ("[array('efgh')]", ["efgh"]),
    ("[array(1)]", [1]),
    ("[createArray(1, 2, 3)]", [1, 2, 3]),
    ("[indexOf(createArray('one', 'two', 'three'), 'two')]", 1),
    ("[lastIndexOf(createArray(1, 2, 1), 1)]", 2),
    ("[indexOf(createArray('one', 'two'), 'TWO')]", -1),  # array items: exact match
    (
        "[intersection(parameters('firstObject'), parameters('secondObject'))]",
        {"one": "a", "three": "c"},
    ),
    (
        "[intersection(createArray('one', 'two', 'three'), createArray('two', 'three'))]",
        ["two", "three"],
    ),
    ("[max(createArray(0, 3, 2, 5, 4))]", 5),
    ("[min(0, 3, 2, 5, 4)]", 0),
    ("[range(5, 3)]", [5, 6, 7]),
    (
        "[union(createArray('one', 'two', 'three'), createArray('three', 'four'))]",
        ["one", "two", "three", "four"],
    ),
    # object functions
    (
        "[union(parameters('firstObject'), parameters('unionObject'))]",
        {"one": "a", "two": "b", "three": "c2", "four": "d"},
    ),
    ("[createObject('intProp', 1, 'stringProp', 'abc')]", {"intProp": 1, "stringProp": "abc"}),
    (
        "[items(parameters('entities'))]",
        [
            {"key": "item001", "value": {"enabled": True}},
            {"key": "item002", "value": {"enabled": False}},
        ],
    ),
    ("[json('null')]", None),
    ("[json('[1,2,3 ]')]", [1, 2, 3]),
    ("[json('\"test\"')]", "test"),
    ("[length(parameters('firstObject'))]", 3),
    ("[null()]", None),
    ('[objectKeys(json(\'{"a": 1, "b": 2}\'))]', ["a", "b"]),
    (
        "[shallowMerge(createArray(createObject('one', 'a'), createObject('two', 'b'), "
        "createObject('two', 'c')))]",
        {"one": "a", "two": "c"},
    ),
    (
        "[shallowMerge(createArray(createObject('one', 'a', 'nested', createObject('a', 1)), "
        "createObject('two', 'b', 'nested', createObject('b', 2))))]",
        {"one": "a", "nested": {"b": 2}, "two": "b"},
    ),
    ("[tryGet(variables('users'), 'region')]", None),
    ("[tryGet(variables('users'), 'name')]", "John Doe"),
    ("[tryGet(variables('colors'), 0)]", "red"),
    ("[tryGet(variables('colors'), 5)]", None),
    # Bicep's safe dereference: users.?address.?city ?? 'n/a'
    ("[coalesce(tryGet(tryGet(variables('users'), 'address'), 'city'), 'n/a')]", "n/a"),
    # comparison functions
    ("[coalesce(null(), null(), 'default')]", "default"),
    ("[equals(createArray('a', 'b'), createArray('a', 'b'))]", True),
    ("[greater(10, 5)]", True),
    ("[greater('A', 'a')]", False),
    ("[greaterOrEquals(10, 10)]", True),
    ("[less(1, 10)]", True),
    ("[less('A', 'a')]", True),
    ("[lessOrEquals(10, 5)]", False),
    # logical functions
    ("[and(bool('true'), bool('false'))]", False),
    ("[bool('true')]", True),
    ("[bool(0)]", False),
    ("[bool(1)]", True),
    ("[false()]", False),
    ("[if(equals('a', 'a'), 'yes', 'no')]", "yes"),
    ("[not(bool('true'))]", False),
    ("[or(bool('true'), bool('false'))]", True),
    ("[true()]", True),
    # numeric functions
    ("[add(5, 3)]", 8),
    ("[div(8, 3)]", 2),
    ("[div(-8, 3)]", -2),  # .NET truncates toward zero
    ("[float('3.0')]", 3.0),
    ("[int('4')]", 4),
    ("[mod(7, 3)]", 1),
    ("[mod(-7, 3)]", -1),
    ("[mul(5, 3)]", 15),
    ("[sub(7, 3)]", 4),
    # date functions (no clock needed)
    ("[dateTimeFromEpoch(1683040573)]", "2023-05-02T15:16:13Z"),
    ("[dateTimeToEpoch('2023-05-02T15:16:13Z')]", 1683040573),
    # dateTimeAdd: P1Y is 365 days, P1M 30 (the reference's remarks and their outputs)
    ("[dateTimeAdd('2023-01-01 00:00:00Z', 'P1Y')]", "2024-01-01T00:00:00Z"),
    ("[dateTimeAdd('2024-01-01 00:00:00Z', 'P1Y')]", "2024-12-31T00:00:00Z"),
    ("[dateTimeAdd('2023-02-01 00:00:00Z', 'P1M')]", "2023-03-03T00:00:00Z"),
    ("[dateTimeAdd('2024-02-01 00:00:00Z', 'P1M')]", "2024-03-02T00:00:00Z"),
    # the reference's example with a base time of 2020-04-07 14:53:14Z
    ("[dateTimeAdd('2020-04-07 14:53:14Z', 'P3Y')]", "2023-04-07T14:53:14Z"),
    ("[dateTimeAdd('2020-04-07 14:53:14Z', '-P9D')]", "2020-03-29T14:53:14Z"),
    ("[dateTimeAdd('2020-04-07 14:53:14Z', 'PT1H')]", "2020-04-07T15:53:14Z"),
    ("[dateTimeAdd('2020-04-07 14:53:14Z', 'PT1H', 'u')]", "2020-04-07 15:53:14Z"),
    ("[dateTimeAdd('2020-04-07 14:53:14Z', 'P1D', 'yyyy-MM-dd')]", "2020-04-08"),
    ("[dateTimeToEpoch(dateTimeAdd('2023-05-02T15:16:13Z', 'P1D'))]", 1683040573 + 86400),
    # array functions Bicep compiles its spread and from-end indexing to
    (
        "[flatten(createArray(createArray('one', 'two'), createArray('three'), "
        "createArray('four', 'five')))]",
        ["one", "two", "three", "four", "five"],
    ),
    ("[indexFromEnd(createArray('one', 'two', 'three'), 1)]", "three"),
    ("[tryIndexFromEnd(createArray('one', 'two', 'three'), 2)]", "two"),
    ("[tryIndexFromEnd(createArray('one', 'two', 'three'), 4)]", None),
    ("[tryIndexFromEnd(variables('colors'), 1)]", "green"),
    ("[tryIndexFromEnd(parameters('dogs'), 1, 'name')]", "Kira"),
    # CIDR functions
    (
        "[parseCidr('10.144.0.0/20')]",
        {
            "network": "10.144.0.0",
            "netmask": "255.255.240.0",
            "broadcast": "10.144.15.255",
            "firstUsable": "10.144.0.1",
            "lastUsable": "10.144.15.254",
            "cidr": 20,
        },
    ),
    (
        "[parseCidr('fdad:3236:5555::/48')]",
        {
            "network": "fdad:3236:5555::",
            "netmask": "ffff:ffff:ffff::",
            "firstUsable": "fdad:3236:5555::",
            "lastUsable": "fdad:3236:5555:ffff:ffff:ffff:ffff:ffff",
            "cidr": 48,
        },
    ),
    ("[cidrSubnet('10.144.0.0/20', 24, 4)]", "10.144.4.0/24"),
    ("[cidrSubnet('fdad:3236:5555::/48', 52, 3)]", "fdad:3236:5555:3000::/52"),
    ("[cidrHost('10.144.3.0/24', 0)]", "10.144.3.1"),
    ("[cidrHost('10.144.3.0/24', 4)]", "10.144.3.5"),
    ("[cidrHost('fdad:3236:5555:3000::/52', 4)]", "fdad:3236:5555:3000::5"),
    # lambda functions
    (
        "[filter(parameters('dogs'), "
        "lambda('dog', greaterOrEquals(lambdaVariables('dog').age, 5)))]",
        [DOGS[0], DOGS[3]],
    ),
    (
        "[map(parameters('dogs'), lambda('dog', lambdaVariables('dog').name))]",
        [d["name"] for d in DOGS],
    ),
    (
        "[reduce(map(parameters('dogs'), lambda('d', lambdaVariables('d').age)), 0, "
        "lambda('cur', 'next', add(lambdaVariables('cur'), lambdaVariables('next'))))]",
        18,
    ),
    (
        "[sort(parameters('dogs'), lambda('a', 'b', "
        "less(lambdaVariables('a').age, lambdaVariables('b').age)))]",
        sorted(DOGS, key=lambda d: d["age"]),
    ),
    (
        "[toObject(parameters('dogs'), lambda('entry', lambdaVariables('entry').name), "
        "lambda('entry', lambdaVariables('entry').age))]",
        {"Evie": 5, "Casper": 3, "Indy": 2, "Kira": 8},
    ),
    (
        "[mapValues(createObject('foo', 'foo', 'bar', 'bar'), "
        "lambda('val', toUpper(lambdaVariables('val'))))]",
        {"foo": "FOO", "bar": "BAR"},
    ),
    (
        "[groupBy(createArray('foo', 'bar', 'baz'), "
        "lambda('x', substring(lambdaVariables('x'), 0, 1)))]",
        {"f": ["foo"], "b": ["bar", "baz"]},
    ),
    # deployment functions with placeholders
    ("[resourceGroup().location]", "westus"),
    ("[subscription().subscriptionId]", SUB),
    (
        "[managementGroupResourceId('mg-ai', 'Microsoft.Authorization/policyDefinitions', "
        "'LocationRestriction')]",
        "/providers/Microsoft.Management/managementGroups/mg-ai/providers/"
        "Microsoft.Authorization/policyDefinitions/LocationRestriction",
    ),
    # user-defined functions (which may call one another)
    ("[contoso.uniqueName('Storage')]", "storage-acct"),
    ("[contoso.twice('Storage')]", "storagex-acct"),
    # languageVersion 2.0: a nullable parameter left out, or a null default, is null
    ("[parameters('optionalTier')]", None),
    ("[coalesce(parameters('optionalTier'), 'Standard')]", "Standard"),
    ("[parameters('nullDefault')]", None),
]


@pytest.mark.parametrize(("text", "expected"), DOCUMENTED, ids=[t for t, _ in DOCUMENTED])
def test_documented_example(text: str, expected: Any) -> None:
    assert _eval(text) == expected


U = "parameters('unknown')"
UNKNOWABLE = [
    # an unknown argument makes the result unknown, whatever the function
    *(
        f"[{call}]"
        for call in (
            f"substring({U}, 0, 1)",
            f"take({U}, 2)",
            f"skip(createArray(1), {U})",
            f"indexOf({U}, 'a')",
            f"startsWith({U}, 'a')",
            f"padLeft({U}, 10, '0')",
            f"split({U}, ',')",
            f"join(createArray('a'), {U})",
            f"int({U})",
            f"base64({U})",
            f"uriComponent({U})",
            f"uri({U}, 'x')",
            f"intersection(createArray({U}), createArray('a'))",
            f"min(1, {U})",
            f"greater({U}, 1)",
            f"items({U})",
            f"shallowMerge(createArray({U}))",
            f"tryGet({U}, 'a')",
            f"tryGet(variables('users'), {U})",
            f"contains(createArray({U}), 'a')",
            f"string(createArray({U}))",
            f"map(createArray(1, {U}), lambda('x', add(lambdaVariables('x'), 1)))",
            f"filter({U}, lambda('x', true()))",
            f"sort(createArray(2, {U}), lambda('a', 'b', less(lambdaVariables('a'), "
            "lambdaVariables('b'))))",
            f"contoso.uniqueName({U})",
        )
    ),
    # not static, or not known offline
    "[utcNow()]",  # outside a parameter's default: see test_utc_now_*
    "[newGuid()]",
    "[managementGroupResourceId('Microsoft.Authorization/policyDefinitions', 'x')]",
    f"[dateTimeAdd({U}, 'P1D')]",
    "[dateTimeAdd('2020-04-07', 'P')]",  # not a duration
    "[dateTimeAdd('yesterday', 'P1D')]",
    "[indexFromEnd(createArray('one'), 2)]",
    "[flatten(createArray('one'))]",
    "[uniqueString('a')]",  # known for naming only: see test_arm_expressions
    "[guid('a')]",
    "[deployment().name]",
    # arguments ARM itself would reject
    "[substring('1234567890', 0, 11)]",
    "[padLeft('1', 3, '00')]",
    "[first(createArray())]",
    "[min(createArray())]",
    "[lambdaVariables('x')]",  # outside a lambda
    "[contoso.uniqueName('a', 'b')]",  # wrong number of arguments
    "[json('{not json')]",
    "[cidrSubnet('10.144.0.0/20', 16, 0)]",  # a wider subnet than the network
    "[cidrHost('10.144.3.0/24', 254)]",  # past the last usable host
]


@pytest.mark.parametrize("text", UNKNOWABLE)
def test_what_cannot_be_known_is_unknown(text: str) -> None:
    assert _eval(text) is UNKNOWN


def test_contains_in_an_array_finds_a_known_item_beside_unknown_ones() -> None:
    assert _eval(f"[contains(createArray({U}, 'a'), 'a')]") is True
    assert _eval(f"[contains(createArray({U}, 'a'), 'b')]") is UNKNOWN


def test_every_registered_function_is_documented() -> None:
    documented = Path(arm_functions.__file__).with_name("ARM_FUNCTIONS.md").read_text().lower()
    registered = {
        *arm_functions.PURE_FUNCTIONS,
        *arm_lazy.LAZY_FUNCTIONS,
        *arm_expressions._CONTEXT,
        "lambda",
    }
    assert sorted(f for f in registered if f"`{f}`" not in documented) == []


NOW = dt.datetime(2019, 3, 5, 17, 53, 18, tzinfo=dt.UTC)
CLOCKED: dict[str, Any] = {
    "parameters": {
        "utcValue": {"type": "string", "defaultValue": "[utcNow()]"},
        "utcShortValue": {"type": "string", "defaultValue": "[utcNow('d')]"},
        "utcCustomValue": {"type": "string", "defaultValue": "[utcNow('M d')]"},
        "baseTime": {"type": "string", "defaultValue": "[utcNow('u')]"},
        "expiry": {
            "type": "int",
            "defaultValue": "[dateTimeToEpoch(dateTimeAdd(utcNow(), 'P1Y'))]",
        },
    },
    "variables": {"add1Hour": "[dateTimeAdd(parameters('baseTime'), 'PT1H')]"},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the reference's examples (utcNow), at its example's moment
        ("[parameters('utcValue')]", "20190305T175318Z"),
        ("[parameters('utcShortValue')]", "03/05/2019"),
        ("[parameters('utcCustomValue')]", "3 5"),
        ("[parameters('baseTime')]", "2019-03-05 17:53:18Z"),
        ("[variables('add1Hour')]", "2019-03-05T18:53:18Z"),
        (
            "[parameters('expiry')]",
            int(dt.datetime(2020, 3, 4, 17, 53, 18, tzinfo=dt.UTC).timestamp()),
        ),
    ],
)
def test_utc_now_in_a_parameter_default_answers_the_read_s_fixed_clock(
    text: str, expected: Any
) -> None:
    assert Evaluator(CLOCKED, Deployment(SUB, "rg-ai"), now=NOW).resolve(text) == expected


def test_utc_now_is_one_value_for_a_whole_read_and_defaults_to_the_start_of_the_day() -> None:
    first = Evaluator(CLOCKED, Deployment(SUB, "rg-ai")).resolve("[parameters('utcValue')]")
    again = Evaluator(CLOCKED, Deployment(SUB, "rg-ai")).resolve("[parameters('utcValue')]")
    today = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    assert first == again in (f"{today}T000000Z", f"{dt.date.today():%Y%m%d}T000000Z")


def test_utc_now_outside_a_parameter_default_is_unknown_even_after_one() -> None:
    ev = Evaluator(CLOCKED, Deployment(SUB, "rg-ai"), now=NOW)
    assert ev.resolve("[parameters('utcValue')]") == "20190305T175318Z"
    assert ev.resolve("[utcNow()]") is UNKNOWN  # ARM allows it in parameter defaults only


def test_member_names_that_are_expressions_are_evaluated_as_ids_are() -> None:
    identity = (
        "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('unknown'))]"
    )
    resolved = _eval_object({identity: {}, "[[literal]": 1, "[reference('x').y]": 2})
    assert resolved == {
        "/subscriptions/3f2a6b1e-8c4d-4e7a-9b15-2d6c0f9e4a71/resourceGroups/rg-ai/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/{unknown}": {},
        "[literal]": 1,  # an escaped bracket is text
        "[reference('x').y]": 2,  # not known offline: the name keeps its text
    }


def _eval_object(value: dict[str, Any]) -> Any:
    return Evaluator(TEMPLATE, Deployment(SUB, "rg-ai", "westus")).resolve(value)
