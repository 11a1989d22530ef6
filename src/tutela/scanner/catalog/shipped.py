"""The catalogue's YAML files as shipped, parsed: from ``parsed.json`` when it was made from these
very files, else from the YAML.

Parsing the catalogue's 400 kB of YAML took a ``tutela scan`` of one resource longer than all
its other start-up work together. ``parsed.json`` holds the same documents as JSON, with the
digest of the YAML files it was made from; every loader still validates what it is given, so the
JSON is only a faster parse of the YAML. A YAML file changed without remaking the JSON
(``python -m tutela.scanner.catalog``) is parsed from YAML, and a test fails until the
JSON is made again.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

PARSED = "parsed.json"


class UnreadableCatalogFile(ValueError):
    """A shipped catalogue file that is not valid YAML."""


def catalog_directory() -> Path:
    return Path(str(resources.files(__package__)))


def yaml_names() -> list[str]:
    """Every shipped YAML file, relative to the catalogue ("checks/storage.yaml"), sorted."""
    root = catalog_directory()
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*.yaml"))


def _digest(root: Path, names: list[str]) -> str:
    digest = hashlib.sha256()
    for name in names:
        data = (root / name).read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


@cache
def _parsed() -> dict[str, Any] | None:
    """The documents by file name, if ``parsed.json`` was made from the YAML files as they are."""
    root = catalog_directory()
    try:
        parsed = orjson.loads((root / PARSED).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(parsed, dict) or parsed.get("digest") != _digest(root, yaml_names()):
        return None
    documents: dict[str, Any] = parsed["documents"]
    return documents


def read_document(name: str) -> Any:
    """The document of one shipped YAML file ("plans.yaml", "checks/storage.yaml")."""
    documents = _parsed()
    if documents is not None and name in documents:
        return documents[name]
    return parse_yaml((catalog_directory() / name).read_text(encoding="utf-8"))


def parse_yaml(text: str) -> Any:
    import yaml  # only when parsed.json is missing or stale

    # libyaml's safe loader when PyYAML was built with it (its wheels are): about ten times faster
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 -- a safe loader, C or Python
    except yaml.YAMLError as exc:
        raise UnreadableCatalogFile(str(exc)) from exc


def make_parsed() -> bytes:
    """``parsed.json`` for the YAML files as they are: every document, and their digest."""
    root = catalog_directory()
    names = yaml_names()
    documents = {name: parse_yaml((root / name).read_text(encoding="utf-8")) for name in names}
    made = {"digest": _digest(root, names), "documents": documents}
    return orjson.dumps(made, option=orjson.OPT_INDENT_2) + b"\n"
