"""A parser for the expression language of ARM templates and createUiDefinition files.

Both languages write an expression as a JSON string in brackets, `"[fn(arg, ...)]"`,
with single-quoted string literals ('' escapes a quote), numbers, property access
(`.name`), indexing (`[0]`, `['key']`) and, in createUiDefinition, lambdas
(`(item) => item.name`). A string starting with `[[` is a literal, not an expression.
Parsing, not pattern matching, is what lets the rules follow an output to the control
that feeds it, or a parameter through nested calls.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any


class ExpressionSyntaxError(ValueError):
    """The text in brackets is not a well-formed expression."""


@dataclasses.dataclass(frozen=True)
class Literal:
    value: Any


@dataclasses.dataclass(frozen=True)
class Name:
    """A bare identifier: a lambda parameter, or `true`/`false`/`null` in some files."""

    name: str


@dataclasses.dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]

    @property
    def lower_name(self) -> str:
        return self.name.lower()


@dataclasses.dataclass(frozen=True)
class Member:
    target: Node
    name: str


@dataclasses.dataclass(frozen=True)
class Index:
    target: Node
    index: Node


@dataclasses.dataclass(frozen=True)
class Lambda:
    params: tuple[str, ...]
    body: Node


Node = Literal | Name | Call | Member | Index | Lambda


def is_expression(text: object) -> bool:
    """Whether a JSON value is an expression (`[...]`) rather than a literal string."""
    return (
        isinstance(text, str)
        and text.startswith("[")
        and not text.startswith("[[")
        and text.rstrip().endswith("]")
    )


def parse(text: str) -> Node:
    """Parse a bracketed expression string; raise ExpressionSyntaxError if malformed."""
    body = text.strip()
    if not (body.startswith("[") and body.endswith("]")):
        raise ExpressionSyntaxError("an expression must be enclosed in [ and ]")
    parser = _Parser(body[1:-1])
    node = parser.expression()
    parser.skip_space()
    if parser.pos != len(parser.text):
        raise parser.error("unexpected text after the expression")
    return node


def try_parse(value: object) -> Node | None:
    """The parsed expression if `value` is a well-formed one, else None."""
    if not is_expression(value):
        return None
    assert isinstance(value, str)
    try:
        return parse(value)
    except ExpressionSyntaxError:
        return None


def children(node: Node) -> tuple[Node, ...]:
    """The nodes directly inside `node`."""
    match node:
        case Call(args=args):
            return args
        case Member(target=target):
            return (target,)
        case Index(target=target, index=index):
            return (target, index)
        case Lambda(body=body):
            return (body,)
        case _:
            return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children."""
    yield node
    for child in children(node):
        yield from walk(child)


def calls(node: Node, name: str) -> Iterator[Call]:
    """Every call of the function `name` (case-insensitive) in the tree."""
    wanted = name.lower()
    for item in walk(node):
        if isinstance(item, Call) and item.lower_name == wanted:
            yield item


def string_argument(call: Call, position: int = 0) -> str | None:
    """The literal string argument at `position`, if it is one."""
    if position < len(call.args):
        arg = call.args[position]
        if isinstance(arg, Literal) and isinstance(arg.value, str):
            return arg.value
    return None


def referenced(node: Node, function: str) -> set[str]:
    """Names passed literally to `function`, e.g. every parameters('x') in the tree."""
    names = set()
    for call in calls(node, function):
        name = string_argument(call)
        if name is not None:
            names.add(name)
    return names


RESOURCE_ID_FUNCTIONS = frozenset(
    {
        "resourceid",
        "subscriptionresourceid",
        "tenantresourceid",
        "managementgroupresourceid",
        "extensionresourceid",
    }
)
"""The functions that build a resource ID from a resource type and name segments."""


def resource_type_argument(call: Call) -> tuple[int, str] | None:
    """Where a resourceId-family call gives the resource type, and that type.

    The type is the first literal argument of the form `Namespace.Provider/type...`;
    `extensionResourceId` takes it second, after the resource it extends. None when
    `call` is no such function or its type is not a literal.
    """
    if call.lower_name not in RESOURCE_ID_FUNCTIONS:
        return None
    positions = (
        [1] if call.lower_name == "extensionresourceid" else range(len(call.args))
    )
    for position in positions:
        text = string_argument(call, position)
        if text is not None and "." in text.split("/")[0] and "/" in text:
            return position, text
    return None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(f"{message} at character {self.pos + 1}")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.error(f"expected '{char}'")
        self.pos += 1

    def expression(self) -> Node:
        lambda_node = self.maybe_lambda()
        if lambda_node is not None:
            return lambda_node
        node = self.primary()
        while True:
            char = self.peek()
            if char == ".":
                self.pos += 1
                node = Member(node, self.identifier())
            elif char == "[":
                self.pos += 1
                node = Index(node, self.expression())
                self.expect("]")
            else:
                return node

    def maybe_lambda(self) -> Lambda | None:
        """`(a, b) => body`; backtracks when the parenthesis is not a lambda."""
        if self.peek() != "(":
            return None
        start = self.pos
        self.pos += 1
        params: list[str] = []
        try:
            if self.peek() != ")":
                params.append(self.identifier())
                while self.peek() == ",":
                    self.pos += 1
                    params.append(self.identifier())
            self.expect(")")
            self.skip_space()
            if not self.text.startswith("=>", self.pos):
                raise self.error("expected '=>'")
        except ExpressionSyntaxError:
            self.pos = start
            return None
        self.pos += 2
        return Lambda(tuple(params), self.expression())

    def primary(self) -> Node:
        char = self.peek()
        if char == "'":
            return Literal(self.string())
        if char == "-" or char.isdigit():
            return Literal(self.number())
        if char == "(":
            self.pos += 1
            node = self.expression()
            self.expect(")")
            return node
        name = self.identifier()
        if self.peek() == "(":
            self.pos += 1
            args: list[Node] = []
            if self.peek() != ")":
                args.append(self.expression())
                while self.peek() == ",":
                    self.pos += 1
                    args.append(self.expression())
            self.expect(")")
            return Call(name, tuple(args))
        literals = {"true": True, "false": False, "null": None}
        if name.lower() in literals:
            return Literal(literals[name.lower()])
        return Name(name)

    def identifier(self) -> str:
        self.skip_space()
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] in "_$@"
        ):
            self.pos += 1
        if start == self.pos:
            raise self.error("expected a name")
        return self.text[start : self.pos]

    def string(self) -> str:
        self.pos += 1  # opening quote
        chunks: list[str] = []
        while True:
            end = self.text.find("'", self.pos)
            if end < 0:
                raise self.error("unterminated string")
            chunks.append(self.text[self.pos : end])
            self.pos = end + 1
            if self.text.startswith("'", self.pos):
                chunks.append("'")
                self.pos += 1
            else:
                return "".join(chunks)

    def number(self) -> int | float:
        start = self.pos
        if self.text[self.pos] == "-":
            self.pos += 1
        while self.pos < len(self.text) and (
            self.text[self.pos].isdigit() or self.text[self.pos] == "."
        ):
            self.pos += 1
        token = self.text[start : self.pos]
        try:
            return float(token) if "." in token else int(token)
        except ValueError:
            raise self.error(f"bad number '{token}'") from None
