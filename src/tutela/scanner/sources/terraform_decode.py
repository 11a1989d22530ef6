"""A fast reader for ``terraform show -json`` plans: only the parts ``terraform_plan`` reads.

A plan repeats every resource several times: ``planned_values`` copies each one, each change
carries ``before`` and the ``*_sensitive`` masks beside ``after``, and the configuration repeats
each literal as a ``constant_value``. Parsing all of it into Python objects takes seconds and
gigabytes for a 100,000-resource plan. Here msgspec decodes the document against the types below,
which name only what the reader uses, so the rest is skipped without being built:

- ``resource_changes``: each change's address, type, mode, module, index, ``actions``, ``after``
  and ``after_unknown``;
- ``prior_state``: the values of its data sources (a managed resource's values stay unread);
- ``configuration``: the provider configuration, module calls and outputs as they are, and of
  each resource its address, ``provider_config_key`` and its expressions kept as raw JSON,
  decoded on first use (``expressions_of``) to those that have ``references`` (a constant
  expression duplicates ``after`` and resolves nothing).

The result has the document's own shape with those parts left out, so ``terraform_plan.Plan``
reads it exactly as it reads the whole document; being nobody else's (``DecodedPlan``), it is taken
apart as it is read. Anything unexpected (invalid JSON or UTF-8, a part of another shape, no
``resource_changes``) gives None: the caller then reads the document the generic way, which also
words any error. Two differences from orjson remain, neither seen in Terraform's output: a number
in a skipped part is not range-checked (orjson rejects ``1e400``), and an integer beyond 64 bits
stays an exact ``int`` (orjson makes it a ``float``).

A plan decoded from a memory-mapped file keeps its configuration's expressions as slices of the
map rather than copies (a pretty-printed plan's are a quarter of it): the map lives as long as one
of them does. Once decoded, its pages are given back to the kernel (``madvise(MADV_DONTNEED)``),
so the file and the decoded plan do not both fill memory from then on; a slice read later comes
back from the page cache, a page at a time.
"""

from __future__ import annotations

import codecs
import mmap
import re
from typing import Any, TypedDict, cast

import msgspec

# `terraform show -json` prints "format_version" first, in both plans and states.
_PLAN_START = re.compile(rb'[ \t\r\n]*\{[ \t\r\n]*"format_version"[ \t\r\n]*:')
_CHUNK = 1 << 22  # bytes checked at a time for UTF-8


# --- what is decoded ----------------------------------------------------------------------------
# TypedDicts decode to plain dicts holding only the keys named here (when present).


class _Change(TypedDict, total=False):
    actions: Any
    after: Any
    after_unknown: Any


class _ResourceChange(TypedDict, total=False):
    address: Any
    type: Any
    mode: Any
    module_address: Any
    index: Any
    change: _Change


class _StateResource(TypedDict, total=False):
    address: Any
    type: Any
    mode: Any
    index: Any
    values: msgspec.Raw  # kept undecoded: only a data source's values are read


class _StateModule(TypedDict, total=False):
    address: Any
    resources: list[_StateResource] | None
    child_modules: list[_StateModule] | None


class _StateValues(TypedDict, total=False):
    root_module: _StateModule | None


class _State(TypedDict, total=False):
    values: _StateValues | None


class _Expression(TypedDict, total=False):
    references: Any


# Each attribute's expression, or a nested block's list of such objects. A block holds such
# objects again, a type msgspec cannot express on Python 3.11: blocks stay raw, decoded after.
_Expressions = dict[str, _Expression | list[msgspec.Raw]]


class _ConfigResource(TypedDict, total=False):
    address: Any
    provider_config_key: Any
    expressions: msgspec.Raw  # decoded only when a reference is looked up: see expressions_of


class _ModuleCall(TypedDict, total=False):
    expressions: Any
    module: _Module | None


class _Module(TypedDict, total=False):
    resources: list[_ConfigResource] | None
    module_calls: dict[str, _ModuleCall] | None
    outputs: Any


class _Configuration(TypedDict, total=False):
    provider_config: Any
    root_module: _Module | None


class _Plan(TypedDict, total=False):
    resource_changes: list[_ResourceChange]
    prior_state: _State | None
    configuration: _Configuration | None


class DecodedPlan(dict[str, Any]):
    """A plan as ``decode_plan`` made it: nobody else holds it, so ``terraform_plan.Plan`` may
    take it apart as it reads (values marked unknown in place, each change let go once read)."""


_PLAN = msgspec.json.Decoder(_Plan)
_EXPRESSIONS = msgspec.json.Decoder(_Expressions)
_DONTNEED: int | None = getattr(mmap, "MADV_DONTNEED", None)


# --- decoding -----------------------------------------------------------------------------------


def decode_plan(data: bytes | memoryview, mapped: mmap.mmap | None = None) -> DecodedPlan | None:
    """The parts of the plan in ``data`` the reader uses; None if it is not plainly a plan.

    ``mapped``: the memory map ``data`` views, whose slices the plan may keep (see the module's
    doc); it is closed when the last of them goes.
    """
    if not _PLAN_START.match(data) or not _is_utf8(data):
        return None
    try:
        # The types say what to decode; from here on the document is plain dicts and lists.
        plan = cast(dict[str, Any], _PLAN.decode(data))
        if plan.get("resource_changes") is None:
            return None  # a state, or planned values only: read the generic way
        prior = plan.get("prior_state")
        if prior and prior.get("values"):
            _decode_state_module(prior["values"].get("root_module"))
        configuration = plan.get("configuration")
        if configuration:
            _prune_module(configuration.get("root_module"), copy=mapped is None)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None  # (a msgspec.ValidationError is a DecodeError too)
    if mapped is not None and _DONTNEED is not None:  # (Windows has no madvise)
        mapped.madvise(_DONTNEED)
    return DecodedPlan(plan)


def _is_utf8(data: bytes | memoryview) -> bool:
    """Whether all of ``data`` is UTF-8, as orjson requires: msgspec checks only what it keeps."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), _CHUNK):
            chunk = bytes(data[start : start + _CHUNK])
            if not chunk.isascii():  # most plans are ASCII: one quick pass over each chunk
                decoder.decode(chunk)
            elif decoder.getstate()[0]:  # a character cut at the chunk's start, never completed
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _decode_state_module(module: dict[str, Any] | None) -> None:
    """Decode the values of the module's data sources, in place, and of its child modules."""
    if module is None:
        return
    for resource in module.get("resources") or ():
        raw = resource.get("values")
        if raw is None:
            continue
        if resource.get("mode") == "data" or not _is_object(raw):
            resource["values"] = msgspec.json.decode(raw)  # read, or reported as not an object
        else:
            resource["values"] = {}  # a managed resource's: only checked to be an object
    for child in module.get("child_modules") or ():
        _decode_state_module(child)


def _is_object(raw: msgspec.Raw) -> bool:
    return memoryview(raw)[:1].tobytes() == b"{"


def _prune_module(module: dict[str, Any] | None, *, copy: bool) -> None:
    """Keep the expressions of the module's resources (and its modules') raw, to be decoded when
    first read: only resources whose values are unknown at plan time ever have theirs read.
    ``copy``: copied out of the input, which is then free to go (not for a memory map)."""
    if module is None:
        return
    if copy:
        for resource in module.get("resources") or ():
            expressions = resource.get("expressions")
            if expressions is not None:
                resource["expressions"] = expressions.copy()
    for call in (module.get("module_calls") or {}).values():
        _prune_module(call.get("module"), copy=copy)


def expressions_of(config: dict[str, Any]) -> Any:
    """A configuration resource's ``expressions``, decoded (once) if the fast reader kept them raw.

    Decoded like the rest of the plan: the referencing expressions only. Expressions of an
    unexpected shape are decoded as they are, as the generic reader would have them.
    """
    found = config.get("expressions")
    if not isinstance(found, msgspec.Raw):
        return found
    try:
        decoded = _references_only(_EXPRESSIONS.decode(found))
    except msgspec.DecodeError:  # (a ValidationError is a DecodeError too)
        decoded = msgspec.json.decode(found)
    config["expressions"] = decoded
    return decoded


def _references_only(expressions: dict[str, Any]) -> dict[str, Any]:
    """The expressions that have references, nested blocks (still raw) decoded the same way.

    A constant expression is left out: ``terraform_refs`` only looks for ``references``, and
    finds none there whether the expression is empty or absent. Blocks keep their positions.
    """
    kept: dict[str, Any] = {}
    for name, value in expressions.items():
        if type(value) is list:
            kept[name] = [_references_only(_EXPRESSIONS.decode(block)) for block in value]
        elif value:
            kept[name] = value
    return kept
