"""Read JSON the way ARM and arm-ttk do, and tell on which line a value stands.

ARM accepts files that strict JSON parsers refuse: a byte-order mark, `//` and `/* */`
comments, trailing commas, raw line breaks inside strings, and (arm-ttk) unquoted
property names. The text is first rewritten into strict JSON without moving any line
(comments and stray commas become spaces, bare names get quotes), then parsed by the
standard library. Line numbers are looked up in the same rewritten text, only for the
values a finding points at.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import re
from typing import Any

_BARE_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


class JsonError(ValueError):
    """The text is not JSON, even read leniently; the message says where."""


@dataclasses.dataclass(frozen=True)
class Source:
    """A file's text as parsed, able to map a JSON path to its line."""

    text: str

    @functools.cached_property
    def _lines(self) -> dict[str, int]:
        return _line_index(self.text)

    def line_of(self, path: str) -> int | None:
        """The line where the value at `path` starts (`$.a.b[0]`), if it exists."""
        while path:
            line = self._lines.get(path)
            if line is not None:
                return line
            path = _parent(path)
        return None


def loads(text: str) -> tuple[Any, Source]:
    """Parse `text` leniently; return the data and its Source for line lookups."""
    text = text.lstrip("\ufeff")
    try:
        return json.loads(text, strict=False), Source(text)
    except json.JSONDecodeError:
        pass  # not strict JSON: rewrite the lenient parts and try again
    strict = to_strict_json(text)
    try:
        data = json.loads(strict, strict=False)
    except json.JSONDecodeError as error:
        raise JsonError(
            f"line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    return data, Source(strict)


def to_strict_json(text: str) -> str:
    """Rewrite lenient JSON into strict JSON with every line where it was."""
    out: list[str] = []
    i, n = 0, len(text)
    expecting_name = False  # right after '{' or a ',' inside an object
    stack: list[str] = []
    while i < n:
        ch = text[i]
        if ch == '"':
            end = _string_end(text, i)
            out.append(text[i:end])
            i = end
            expecting_name = False
            continue
        if ch == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
            continue
        if ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
            continue
        if ch in "{[":
            stack.append(ch)
            expecting_name = ch == "{"
        elif ch in "}]":
            if stack:
                stack.pop()
            expecting_name = False
        elif ch == ",":
            if _only_closer_follows(text, i + 1):
                out.append(" ")
                i += 1
                continue
            expecting_name = bool(stack) and stack[-1] == "{"
        elif expecting_name and (ch.isalpha() or ch in "_$"):
            match = _BARE_NAME.match(text, i)
            if match:
                out.append(f'"{match.group()}"')
                i = match.end()
                expecting_name = False
                continue
        elif not ch.isspace():
            expecting_name = False
        out.append(ch)
        i += 1
    return "".join(out)


def _string_end(text: str, start: int) -> int:
    """Index just past the string that opens at `start` (unterminated: end of text)."""
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            return i + 1
        i += 1
    return len(text)


def _only_closer_follows(text: str, i: int) -> bool:
    """Whether only white space and comments stand between `i` and a '}' or ']'."""
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            return text[i] in "}]"
    return False


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def _line_index(text: str) -> dict[str, int]:
    """Map every JSON path in strict `text` to the line its value starts on."""
    index: dict[str, int] = {}
    decoder = json.JSONDecoder(strict=False)
    line_starts = [0]
    line_starts.extend(m.end() for m in re.finditer("\n", text))

    def line(pos: int) -> int:
        low, high = 0, len(line_starts) - 1
        while low < high:
            mid = (low + high + 1) // 2
            if line_starts[mid] <= pos:
                low = mid
            else:
                high = mid - 1
        return low + 1

    def skip(pos: int) -> int:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        return pos

    def value(pos: int, path: str) -> int:
        pos = skip(pos)
        index[path] = line(pos)
        if pos >= len(text):
            return pos
        ch = text[pos]
        if ch == "{":
            pos = skip(pos + 1)
            while pos < len(text) and text[pos] != "}":
                key, pos = decoder.raw_decode(text, pos)
                pos = skip(pos) + 1  # the ':'
                pos = skip(value(pos, f"{path}.{key}"))
                if pos < len(text) and text[pos] == ",":
                    pos = skip(pos + 1)
            return pos + 1
        if ch == "[":
            pos = skip(pos + 1)
            item = 0
            while pos < len(text) and text[pos] != "]":
                pos = skip(value(pos, f"{path}[{item}]"))
                item += 1
                if pos < len(text) and text[pos] == ",":
                    pos = skip(pos + 1)
            return pos + 1
        _, end = decoder.raw_decode(text, pos)
        return int(end)

    # The text parsed, so the walk cannot fail; if it ever did, keep what it indexed.
    with contextlib.suppress(ValueError, IndexError):
        value(0, "$")
    return index
