"""Where each failing resource was declared: its input file, and the line (and column) on which
the resource's JSON object opens, for SARIF results to point at instead of line 1.

Found in the file's bytes, not by a second parse: the file is mapped, the strings that name the
resources are found by C-speed search, and each object's opening ``{`` by walking back from the
key that names it. Newlines are counted once, from one found object to the next.

- A Resource Graph export: the record whose own ``"id"`` is the resource's id (when an id also
  stands in another record, as a reference, the least nested record wins).
- A Terraform plan: the ``resource_changes`` entry whose ``"address"`` is the resource's
  (``Resource.origin`` holds ``"file: address"``); a plan without changes, or a state: the first
  object of that address (``planned_values`` or ``values``).
- An ARM template: the declaration at the JSON path the origin holds
  (``resources[2].properties.template.resources[0]``); every copy of a ``copy`` loop points at
  its one declaration.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final, NamedTuple

import orjson

from tutela.scanner.estate import Resource
from tutela.scanner.outputs.failing import FailingRows


class Location(NamedTuple):
    """A resource's place in its input file."""

    path: str  # the input file, as given
    line: int  # 1-based: the line of the object's opening brace
    column: int  # 1-based, in UTF-16 code units (SARIF's default column kind)


_Data = mmap.mmap | bytes
_ARG_PATH: Final = re.compile(r"(?:data|value)?\[\d+\]")
_ARM_STEP: Final = re.compile(r"\.?([^.\[]+)|\[(\d+)\]")
_IMPLIED: Final = "implied by its resources"  # a resource group ``sources.relate`` made up
_CHANGES: Final = re.compile(rb'"resource_changes"\s*:\s*\[')
# A string's text, unrolled (``[^"\\]*(?:\\.[^"\\]*)*`` rather than ``(?:[^"\\]|\\.)*``): the
# same strings, matched several times faster.
_TEXT: Final = rb'[^"\\]*(?:\\.[^"\\]*)*'
_STRING: Final = re.compile(rb'"' + _TEXT + rb'"')
# Comments (ARM templates may have them) are skipped like whitespace.
_COMMENT: Final = rb"(?>//[^\r\n]*)|(?>/\*.*?\*/)"
_GAP: Final = re.compile(rb"(?:\s|" + _COMMENT + rb")*", re.DOTALL)
# What skipping a value must see: its next bracket outside strings and comments, with what
# comes before it (strings, comments, other text) taken in one match; a quote or slash that
# opens no string or comment is text. ``\Z``: no bracket is left (the match then ends it).
_SKIPPED: Final = re.compile(
    rb'(?>(?:"' + _TEXT + rb'"|' + _COMMENT + rb'|[^"/\[\]{}]++|["/])*)(?:([\[\]{}])|\Z)',
    re.DOTALL,
)
_TOKEN: Final = re.compile(
    rb"(?:\s|" + _COMMENT + rb')*("' + _TEXT + rb'"|[{}\[\],:]|[^\s{}\[\],:"/]+)', re.DOTALL
)
_CHUNK: Final = 1 << 24  # newlines are counted this many bytes at a time


def locate(paths: Sequence[Path], resources: Iterable[Resource]) -> dict[str, Location]:
    """resource key → where the resource is declared, for those found in one of ``paths``.

    A resource not declared in a file (a live estate, a resource group the scan implied) or not
    found in it has no entry.
    """
    sources = [str(path) for path in paths]
    wanted: dict[str, list[tuple[str, str, str]]] = {}  # source → (key, address, id)
    seen: set[str] = set()  # a resource fails several checks: looked for once
    for resource in dict.fromkeys(resources):  # (each object once, before its key is made)
        origin = resource.origin
        if not origin or resource.key in seen:
            continue
        seen.add(resource.key)
        for source in sources:
            if origin.startswith(source) and origin.startswith(": ", len(source)):
                address = origin[len(source) + 2 :]
                if address != _IMPLIED:
                    wanted.setdefault(source, []).append((resource.key, address, resource.id))
                break
    found: dict[str, Location] = {}
    for source, in_file in wanted.items():
        try:
            with _mapped(Path(source)) as data:
                starts = _object_starts(data, in_file)
                for key, (line, column) in _lines(data, starts).items():
                    found[key] = Location(source, line, column)
        except (OSError, ValueError, IndexError):
            # The file is gone, unreadable or changed since the scan: no location, no error.
            continue
    return found


def locate_failing(paths: Sequence[Path], failing: FailingRows) -> dict[str, Location]:
    """``locate`` for the resources of an assessment's failing checks."""
    return locate(paths, (result.resource for result in failing.results))


@contextmanager
def _mapped(path: Path) -> Iterator[_Data]:
    with path.open("rb") as handle:
        try:
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped
            yield b""
            return
        with data:
            yield data


def _object_starts(data: _Data, wanted: list[tuple[str, str, str]]) -> dict[str, int]:
    """resource key → offset of the ``{`` its object opens with."""
    ids: dict[str, list[str]] = {}
    addresses: dict[str, list[str]] = {}
    paths: dict[str, list[str]] = {}
    for key, address, resource_id in wanted:
        if _ARG_PATH.fullmatch(address):
            ids.setdefault(resource_id, []).append(key)
        elif address.startswith(("resources[", "resources.")):
            paths.setdefault(address, []).append(key)
        else:
            addresses.setdefault(address, []).append(key)
    starts: dict[str, int] = {}
    if ids:
        _spread(starts, ids, _records(data, ids.keys()))
    if addresses:
        changes = _structural(data, _CHANGES)
        after = changes.end() if changes else 0
        _spread(starts, addresses, _first_objects(data, b"address", addresses.keys(), after))
    walk = _Walk(data)
    for path, keys in paths.items():
        at = walk.at_path(path)
        if at is not None:
            for key in keys:
                starts[key] = at
    return starts


def _spread(starts: dict[str, int], keys_of: dict[str, list[str]], found: dict[str, int]) -> None:
    for value, at in found.items():
        for key in keys_of[value]:
            starts[key] = at


def _structural(data: _Data, pattern: re.Pattern[bytes]) -> re.Match[bytes] | None:
    """The first match of a pattern starting with a quote that opens a key, not one inside a
    string (there the quote is escaped)."""
    for match in pattern.finditer(data):
        if match.start() == 0 or data[match.start() - 1] != _BACKSLASH:
            return match
    return None


def _members(data: _Data, name: bytes, start: int) -> Iterator[tuple[int, str]]:
    """Each ``"name": "text"`` member from ``start`` on: the offset of its key, and the text."""
    pattern = re.compile(rb'"' + re.escape(name) + rb'"\s*:\s*"(' + _TEXT + rb')"')
    for match in pattern.finditer(data, start):
        at = match.start()
        if at and data[at - 1] == _BACKSLASH:
            continue  # inside a string
        raw = match.group(1)
        text = orjson.loads(b'"' + raw + b'"') if b"\\" in raw else raw.decode("utf-8", "replace")
        yield at, text


def _first_objects(data: _Data, name: bytes, values: Iterable[str], start: int) -> dict[str, int]:
    """value → the ``{`` of the first object from ``start`` on whose ``name`` member it is."""
    left = set(values)
    found: dict[str, int] = {}
    for at, text in _members(data, name, start):
        if text in left:
            left.discard(text)
            found[text] = _opening_brace(data, at)
            if not left:
                break
    return found


def _records(data: _Data, ids: Iterable[str]) -> dict[str, int]:
    """id → the ``{`` of the least nested object whose ``id`` member it is."""
    wanted = set(ids)
    candidates: dict[str, list[int]] = {}
    for at, text in _members(data, b"id", 0):
        if text in wanted:
            candidates.setdefault(text, []).append(at)
    shared = sorted(at for ats in candidates.values() if len(ats) > 1 for at in ats)
    depth = _depths(data, shared) if shared else {}
    return {
        text: _opening_brace(data, min(ats, key=lambda at: (depth.get(at, 0), at)))
        for text, ats in candidates.items()
    }


def _depths(data: _Data, offsets: list[int]) -> dict[int, int]:
    """offset (of a key, outside any string) → how many objects and arrays enclose it."""
    depths: dict[int, int] = {}
    depth, at = 0, 0
    for offset in offsets:
        between = _STRING.sub(b"", data[at:offset])  # ``at`` is a key's quote: outside strings
        depth += between.count(b"{") + between.count(b"[")
        depth -= between.count(b"}") + between.count(b"]")
        depths[offset] = depth
        at = offset
    return depths


_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPENING, _CLOSING = frozenset(b"{["), frozenset(b"}]")


def _opening_brace(data: _Data, key: int) -> int:
    """The ``{`` of the object a member (its key's quote at ``key``) belongs to."""
    depth, at = 0, key
    while at > 0:
        at -= 1
        byte = data[at]
        if byte == _QUOTE:  # a string's closing quote: go to its opening one
            at = _string_start(data, at)
        elif byte in _CLOSING:
            depth += 1
        elif byte in _OPENING:
            if not depth:
                return at
            depth -= 1
    return key  # not inside an object: the key itself


def _string_start(data: _Data, closing: int) -> int:
    at = closing
    while True:
        at = data.rfind(b'"', 0, at)
        if at <= 0:
            return max(at, 0)
        escapes = 0
        while data[at - 1 - escapes] == _BACKSLASH:
            escapes += 1
        if escapes % 2 == 0:
            return at


class _Walk:
    """Values at JSON paths of one file (``resources[1].properties.template``), each array's
    elements skipped over once for every path into it.

    A template of n declarations has n paths ``resources[i]``: looked for one by one from the
    top, the i-th would skip the i before it, n²/2 skips in all (minutes for 100,000).
    """

    def __init__(self, data: _Data) -> None:
        self._data = data
        self._top = _value_start(data, 0)
        self._members: dict[tuple[int, str], int | None] = {}
        # an array's offset → the starts of its elements found so far (a None start, or the
        # array in ``_ended``: no element after the last)
        self._elements: dict[int, list[int | None]] = {}
        self._ended: set[int] = set()

    def at_path(self, path: str) -> int | None:
        """The offset of the value at ``path``, if any."""
        at = self._top
        for name, index in _ARM_STEP.findall(path):
            if at is None:
                return None
            at = self._element(at, int(index)) if index else self._member(at, name)
        return at

    def _member(self, at: int, name: str) -> int | None:
        key = (at, name)
        if key not in self._members:
            self._members[key] = _member(self._data, at, name)
        return self._members[key]

    def _element(self, at: int, index: int) -> int | None:
        """``_element(data, at, index)``, going on from the elements already skipped."""
        data = self._data
        starts = self._elements.get(at)
        if starts is None:
            token, after = _token(data, at)
            if token != b"[":
                return None
            starts = self._elements[at] = [_value_start(data, after)]
        while len(starts) <= index:
            last = starts[-1]
            if last is None or at in self._ended:
                return None
            token, after = _token(data, _skip(data, last))
            if token != b",":
                self._ended.add(at)
                return None
            starts.append(_value_start(data, after))
        return starts[index]


def _value_start(data: _Data, at: int) -> int | None:
    gap = _GAP.match(data, at)  # whitespace and comments
    at = gap.end() if gap else at
    return at if at < len(data) else None


def _token(data: _Data, at: int) -> tuple[bytes, int]:
    match = _TOKEN.match(data, at)
    if match is None:
        return b"", at
    return match.group(1), match.end()


def _member(data: _Data, at: int, name: str) -> int | None:
    """The offset of member ``name``'s value in the object at ``at``."""
    token, at = _token(data, at)
    if token != b"{":
        return None
    while True:
        token, at = _token(data, at)
        if not token.startswith(b'"'):
            return None  # "}": no such member
        key = orjson.loads(token)
        colon, at = _token(data, at)
        start = _value_start(data, at)
        if colon != b":" or start is None:
            return None
        if key == name:
            return start
        at = _skip(data, start)
        token, at = _token(data, at)
        if token != b",":
            return None


def _skip(data: _Data, at: int) -> int:
    """The offset just past the value starting at ``at``."""
    if data[at] not in _OPENING:
        return _token(data, at)[1]
    depth = 0
    for match in _SKIPPED.finditer(data, at):
        bracket = match.start(1)
        if bracket < 0:
            break
        if data[bracket] in _OPENING:
            depth += 1
        else:
            depth -= 1
            if not depth:
                return match.end()
    return len(data)


def _lines(data: _Data, starts: dict[str, int]) -> dict[str, tuple[int, int]]:
    """key → (line, column) of its offset, newlines counted once from one offset to the next."""
    found: dict[str, tuple[int, int]] = {}
    line, column, at = 1, 1, 0
    for key, offset in sorted(starts.items(), key=lambda item: item[1]):
        while at < offset:
            step = min(offset, at + _CHUNK)
            between = data[at:step]
            newlines = between.count(b"\n")
            if newlines:
                line += newlines
                column = 1
                between = between[between.rfind(b"\n") + 1 :]
            column += _utf16_length(between)
            at = step
        found[key] = (line, column)
    return found


def _utf16_length(text: bytes) -> int:
    """The UTF-16 code units of UTF-8 bytes, without decoding them: each continuation byte adds
    nothing, each lead byte of a four-byte sequence one more (a surrogate pair)."""
    if text.isascii():
        return len(text)
    special = text.translate(None, _NOT_CONTINUATION_OR_LEAD4)
    lead4 = sum(special.count(lead) for lead in _LEAD4)
    return len(text) - (len(special) - lead4) + lead4


_LEAD4: Final = tuple(bytes([byte]) for byte in range(0xF0, 0xF5))
_NOT_CONTINUATION_OR_LEAD4: Final = bytes(
    byte for byte in range(256) if not (0x80 <= byte < 0xC0 or 0xF0 <= byte < 0xF5)
)
