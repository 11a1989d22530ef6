"""Sources: the outside world in, one normalised ``Estate`` out.

Each module turns one kind of document into resources: ``arg`` (an Azure Resource Graph export),
``arm`` (an ARM template), ``terraform`` (``terraform show -json`` of a plan); ``azure`` reads a
live estate. ``read_estate`` detects each file's kind from its content and merges them.

JSON with comments and trailing commas (which ARM accepts in templates) is read too, whatever
the kind, once plain JSON has failed (``jsonc``). What a source could not follow in a document
is recorded, one note per construct, in ``reading_notes(source)``, and the resources found but
not evaluated (a template's linked templates) in ``left_unevaluated(source)``.
"""

from __future__ import annotations

import gc
import mmap
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import orjson

from tutela.scanner.estate import Estate, Resource

SourceKind = Literal["arg", "arm", "terraform"]


class SourceError(ValueError):
    """Input that cannot be read as an estate; the message names the input and the problem."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


_BLANK = re.compile(rb"\s*\Z")
# Per thread: the API reads every request's body as "body", in parallel threads, and one
# request's notes must never reach another's report.
_READING = threading.local()


def _notes() -> dict[str, dict[str, None]]:
    """This thread's notes: source → notes, in order, each once."""
    notes: dict[str, dict[str, None]] | None = getattr(_READING, "notes", None)
    if notes is None:
        notes = _READING.notes = {}
    return notes


def note(source: str, text: str) -> None:
    """Record a construct the reading of ``source`` could not follow (each text kept once)."""
    _notes().setdefault(source, {})[text] = None


def reading_notes(source: str) -> list[str]:
    """What this thread's last parse of ``source`` left out or made unknown, one line each."""
    return list(_notes().get(source, ()))


def _unevaluated() -> dict[str, list[dict[str, Any]]]:
    """This thread's resources left unevaluated: source → ``not_evaluated`` entries, in order."""
    entries: dict[str, list[dict[str, Any]]] | None = getattr(_READING, "unevaluated", None)
    if entries is None:
        entries = _READING.unevaluated = {}
    return entries


def leave_unevaluated(source: str, entry: dict[str, Any]) -> None:
    """Record resources the reading of ``source`` found but cannot evaluate (a linked template):
    one entry of a report's ``not_evaluated`` (``scanner.not_evaluated``), each kept once."""
    entries = _unevaluated().setdefault(source, [])
    if entry not in entries:  # (a copy loop declares its nested deployment once per copy)
        entries.append(entry)


def left_unevaluated(source: str) -> list[dict[str, Any]]:
    """The entries this thread's last parse of ``source`` recorded with ``leave_unevaluated``."""
    return list(_unevaluated().get(source, ()))


def load_json(data: bytes | memoryview, source: str) -> Any:
    if _BLANK.match(data):  # (not strip(): that would copy the whole file)
        raise SourceError(source, "the file is empty")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        error = exc
    from tutela.scanner.sources.jsonc import plain_json

    plain = plain_json(data)  # ARM reads JSON with comments; only tried once orjson has failed
    if plain is not None:
        try:
            return orjson.loads(plain)
        except orjson.JSONDecodeError:
            pass
    raise SourceError(source, f"not valid JSON ({error})") from None


def detect_kind(document: Any, source: str) -> SourceKind:
    """Which source understands this document, from its shape alone."""
    if isinstance(document, dict):
        if "resource_changes" in document or "planned_values" in document:
            return "terraform"
        if "terraform_version" in document or "format_version" in document:
            return "terraform"
        schema = str(document.get("$schema", "")).lower()
        if "deploymenttemplate" in schema or (
            isinstance(document.get("resources"), list | dict) and "contentVersion" in document
        ):
            return "arm"
        if isinstance(document.get("data"), list) or isinstance(document.get("value"), list):
            return "arg"
    if isinstance(document, list) and all(isinstance(item, dict) for item in document):
        return "arg"
    raise SourceError(
        source,
        "not an Azure Resource Graph export, an ARM template or a Terraform plan "
        '(expected a JSON list of resources, {"data": [...]}, a template with "$schema" '
        'and "resources", or the output of `terraform show -json`)',
    )


def _parser(kind: SourceKind) -> Callable[[Any, str], list[Resource]]:
    if kind == "arg":
        from tutela.scanner.sources.arg import resources_from_arg

        return resources_from_arg
    if kind == "arm":
        from tutela.scanner.sources.arm import resources_from_arm

        return resources_from_arm
    from tutela.scanner.sources.terraform import resources_from_terraform

    return resources_from_terraform


def parse_document(document: Any, source: str, kind: SourceKind | None = None) -> list[Resource]:
    """The resources of one parsed document (its kind detected unless given); what could not
    be followed in it is in ``reading_notes(source)`` afterwards."""
    _notes().pop(source, None)
    _unevaluated().pop(source, None)
    from tutela.scanner.sources.plan_skips import forget_skipped

    forget_skipped(source)  # a plan read earlier under this name says nothing of this document
    return _parser(kind or detect_kind(document, source))(document, source)


def read_estate(paths: Iterable[Path]) -> Estate:
    """One estate from several files, each of any supported kind."""
    estate = Estate()
    for path in paths:
        for resource in _read_file(path):
            estate.add(resource)
    return estate


def _read_file(path: Path) -> list[Resource]:
    source = str(path)
    collecting = gc.isenabled()
    gc.disable()  # millions of small acyclic containers: collecting while reading only costs time
    try:
        document, kind = _read_document(path, source)
        return parse_document(document, source, kind)
    finally:
        if collecting:
            gc.enable()


def _read_document(path: Path, source: str) -> tuple[Any, SourceKind | None]:
    """The file's document and, when reading it told, its kind.

    A Terraform plan is decoded by ``terraform_decode``, which leaves out the parts no source
    reads; anything else, or a plan it does not take, is parsed whole. A regular file is mapped
    rather than read: its pages come straight from the page cache and no copy of a large file is
    made. The mapping is gone on return, before any resources are built, except under a plan
    (``terraform_decode``: its pages given back, it goes with the plan's last slice of it).
    """
    try:
        with path.open("rb") as handle:
            try:
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except (ValueError, OSError):  # an empty file, or not a regular one (a pipe)
                return _decode(handle.read(), source)
        return _decode_mapped(mapped, source)
    except FileNotFoundError:
        raise SourceError(source, "no such file") from None
    except IsADirectoryError:
        raise SourceError(source, "is a directory, not a file") from None
    except OSError as exc:
        raise SourceError(source, f"cannot be read ({exc.strerror})") from None


def _decode_mapped(mapped: mmap.mmap, source: str) -> tuple[Any, SourceKind | None]:
    from tutela.scanner.sources.terraform_decode import decode_plan

    data = memoryview(mapped)
    plan = decode_plan(data, mapped)
    if plan is not None:
        return plan, "terraform"  # its slices of the map keep it open (see _read_document)
    try:
        return load_json(data, source), None
    finally:
        data.release()
        mapped.close()


def decode_document(data: bytes | memoryview, source: str) -> tuple[Any, SourceKind | None]:
    """A document's JSON as ``tutela scan`` reads a file, and its kind when that told it.

    The API reads IaC bodies with it too: a plan through ``terraform_decode``, else orjson.
    """
    return _decode(data, source)


def _decode(data: bytes | memoryview, source: str) -> tuple[Any, SourceKind | None]:
    from tutela.scanner.sources.terraform_decode import decode_plan

    plan = decode_plan(data)
    if plan is not None:
        return plan, "terraform"
    return load_json(data, source), None
