"""Writing HCL (Terraform's language) from Python values, laid out as ``terraform fmt`` lays it.

Everything a report holds is untrusted text: strings are escaped per the HCL spec (``\\``, ``"``,
control characters, and the template sequences ``${`` / ``%{`` doubled so they stay literal),
comments lose their control characters (no newline can end one), and no heredoc is ever written.
An ``Expr`` is an expression this package composed itself (a reference, ``var.x``); untrusted text
only ever enters one through ``template`` or ``string``, escaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True)
class Expr:
    """An HCL expression written as it is (built here from escaped parts only)."""

    text: str


@dataclass
class Block:
    """A block: ``type "label" … { body }``; the body holds ``Attr``, ``Block`` and comments."""

    type: str
    labels: tuple[str, ...] = ()
    body: list[Attr | Block | Comment] = field(default_factory=list)


@dataclass(frozen=True)
class Attr:
    name: str  # an identifier this package chose (never report text)
    value: Any


@dataclass(frozen=True)
class Comment:
    text: str


def string(text: str) -> str:
    """``text`` as a quoted HCL string literal: nothing in it is a template or ends the string."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif _CONTROL.match(char):
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    # "${" and "%{" open template sequences; "$${" and "%%{" are their literal spellings.
    return '"' + "".join(out).replace("${", "$${").replace("%{", "%%{") + '"'


def template(*parts: str | Expr) -> Expr:
    """A string template: literal parts escaped, expressions interpolated."""
    text = "".join(string(p)[1:-1] if isinstance(p, str) else "${" + p.text + "}" for p in parts)
    return Expr(f'"{text}"')


def comment_line(text: str) -> str:
    """Untrusted text as the body of one ``#`` comment line."""
    return "# " + " ".join(_CONTROL.sub(" ", text).split())


def identifier(text: str, taken: set[str]) -> str:
    """A block label made of ``text``: a Terraform identifier not in ``taken`` (then added)."""
    base = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_").lower() or "resource"
    if not re.match(r"[A-Za-z_]", base):
        base = "r_" + base
    base = base[:60]
    label, number = base, 2
    while label in taken:
        label, number = f"{base}_{number}", number + 1
    taken.add(label)
    return label


def is_identifier(text: str) -> bool:
    return bool(_IDENTIFIER.match(text))


# --- layout -----------------------------------------------------------------------------------


def render(blocks: Iterable[Block | Comment]) -> str:
    """Top-level blocks (a blank line between each) as ``terraform fmt`` writes them."""
    text, previous = "", None
    for block in blocks:
        # a comment belongs to what follows it; blocks are a blank line apart
        text += "" if previous is None else "\n" if isinstance(previous, Comment) else "\n\n"
        if isinstance(block, Comment):
            text += comment_line(block.text)
        else:
            text += "\n".join(_block(block, 0))
        previous = block
    return text + "\n"


def _block(block: Block, depth: int) -> list[str]:
    pad = "  " * depth
    head = " ".join([block.type, *(string(label) for label in block.labels)])
    if not block.body:
        return [f"{pad}{head} {{}}"] if depth == 0 else [f"{pad}{head} {{", f"{pad}}}"]
    return [f"{pad}{head} {{", *_body(block.body, depth + 1), f"{pad}}}"]


def _body(items: Sequence[Attr | Block | Comment], depth: int) -> list[str]:
    """A body's lines: runs of one-line attributes get their ``=`` aligned, as fmt does."""
    pad = "  " * depth
    lines: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(name) for name, _ in run), default=0)
        lines.extend(f"{pad}{name.ljust(width)} = {value}" for name, value in run)
        run.clear()

    for item in items:
        if isinstance(item, Attr):
            value = _value(item.value, depth)
            if "\n" in value:
                flush()
                lines.append(f"{pad}{item.name} = {value}")
            else:
                run.append((item.name, value))
            continue
        flush()
        if isinstance(item, Comment):
            lines.append(pad + comment_line(item.text))
        else:
            lines.extend(_block(item, depth))
    flush()
    return lines


def _value(value: Any, depth: int) -> str:
    if isinstance(value, Expr):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return string(value)
    if isinstance(value, list | tuple):
        items = [_value(item, depth + 1) for item in value]
        if not any("\n" in item for item in items) and not any(
            isinstance(item, dict) for item in value
        ):
            return "[" + ", ".join(items) + "]"
        pad = "  " * (depth + 1)
        return "[\n" + "".join(f"{pad}{item},\n" for item in items) + "  " * depth + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        body = [Attr(_key(str(key)), inner) for key, inner in value.items()]
        return "{\n" + "\n".join(_body(body, depth + 1)) + "\n" + "  " * depth + "}"
    raise TypeError(f"no HCL for {type(value).__name__}")


def _key(key: str) -> str:
    """An object key: bare when an identifier, else a quoted (escaped) string."""
    return key if is_identifier(key) else string(key)
