"""Reading a YAML (or JSON) file a user names on the command line: one line on failure."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class UnreadableYaml(ValueError):
    """The file cannot be read or is not YAML; the message completes "<file> …"."""


def read_yaml(path: Path, what: str = "YAML") -> Any:
    """The file's YAML document (None when empty); ``what`` names the format in the error."""
    import yaml  # not at import: a scan with no file of this kind never needs PyYAML

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UnreadableYaml(f"cannot be read ({reason})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UnreadableYaml(f"is not valid {what}{where}") from None
