"""The ARM template expression language's syntax: a tokenizer and a recursive-descent parser.

An expression's tree is made of tuples: ``("lit", value)``, ``("call", name, args)`` (names
lower-cased), ``("prop", node, name)`` and ``("index", node, node)``. What the tree means is
arm_expressions.py's business.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

Node = tuple[Any, ...]  # the shapes in the module's docstring

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<ident>[A-Za-z_$][\w$]*)"
    r"|(?P<punct>[()\[\],.]))"
)


class ExpressionError(ValueError):
    """A string that is not a well-formed ARM expression."""


def is_expression(text: str) -> bool:
    return text.startswith("[") and text.endswith("]") and not text.startswith("[[")


def literal(text: str) -> str:
    """A non-expression template string as ARM reads it (``[[x]`` is the literal ``[x]``)."""
    return text[1:] if text.startswith("[[") else text


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position, end = 0, len(text.rstrip())
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"unexpected character at {position}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self, value: str) -> bool:
        return self.at < len(self.tokens) and self.tokens[self.at][1] == value

    def take(self, kind: str | None = None, value: str | None = None) -> str:
        if self.at >= len(self.tokens):
            raise ExpressionError("unexpected end")
        token_kind, token = self.tokens[self.at]
        if (kind and token_kind != kind) or (value and token != value):
            raise ExpressionError(f"unexpected {token!r}")
        self.at += 1
        return token

    def expression(self) -> Node:
        node = self.primary()
        while self.peek(".") or self.peek("["):
            if self.take() == ".":
                node = ("prop", node, self.take("ident"))
            else:
                node = ("index", node, self.expression())
                self.take(value="]")
        return node

    def primary(self) -> Node:
        kind, token = self.tokens[self.at] if self.at < len(self.tokens) else ("", "")
        if kind == "str":
            self.at += 1
            return ("lit", token[1:-1].replace("''", "'"))
        if kind == "num":
            self.at += 1
            return ("lit", float(token) if "." in token else int(token))
        name = self.take("ident")
        if self.peek("."):  # a user-defined function: namespace.name(...)
            self.take()
            name = f"{name}.{self.take('ident')}"
        if not self.peek("("):
            bare = {"true": True, "false": False, "null": None}
            if name.lower() not in bare:
                raise ExpressionError(f"{name!r} is not a function call")
            return ("lit", bare[name.lower()])
        self.take()
        args: list[Node] = []
        while not self.peek(")"):
            if args:
                self.take(value=",")
            args.append(self.expression())
        self.take(value=")")
        return ("call", name.lower(), tuple(args))


@lru_cache(maxsize=65536)
def parse(expression: str) -> Node:
    """The syntax tree of an expression string (with its brackets); ExpressionError if malformed."""
    parser = _Parser(expression[1:-1])
    node = parser.expression()
    if parser.at != len(parser.tokens):
        raise ExpressionError(f"unexpected {parser.tokens[parser.at][1]!r}")
    return node
