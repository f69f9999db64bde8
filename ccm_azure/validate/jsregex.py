"""A reader of JavaScript regular expressions, the dialect form regexes are written in.

A createUiDefinition text box or password box validates its input with a `regex` that
the Azure portal compiles in the browser, as a JavaScript `RegExp` without flags.
Python's `re` is the wrong judge of such a pattern: it refuses some that browsers
accept (`[^]`, `[]`, `\\8`, identity escapes such as `\\i`, lookbehind of varying
width, `(?<name>...)`) and accepts some that browsers refuse (`(?i)`, `(?P<name>...)`,
`\\Z` as an anchor, possessive quantifiers, atomic groups). So this module parses the
ECMAScript pattern grammar itself, as of ECMAScript 2025, with the rules for
compatibility with older web pages that browsers apply to patterns without the `u`
flag (ECMAScript Annex B). It tells what the form rules need: whether the pattern
compiles, whether it counts repetitions with `{m}`, `{m,}` or `{m,n}`, and the
length of the shortest input it can accept.
"""

from __future__ import annotations

import dataclasses
import struct

_CLASS_ESCAPES = set("dDsSwW")
_CONTROL_ESCAPES = {"f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}
_MODIFIER_FLAGS = set("ims")
_HEX = set("0123456789abcdefABCDEF")


class JsRegexError(ValueError):
    """The pattern is not a valid JavaScript regular expression."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"{reason} at character {position + 1}")
        self.reason = reason
        self.position = position


@dataclasses.dataclass(frozen=True)
class RegexInfo:
    """What a form rule needs to know about a valid pattern."""

    counted: bool
    """Whether some part is repeated a counted number of times: {m}, {m,} or {m,n}."""
    min_length: int
    """The fewest characters an input must have for the pattern to match in it."""


def read(pattern: str) -> RegexInfo:
    """Parse `pattern` as a browser would; raise JsRegexError if it would refuse it."""
    return _Parser(pattern).pattern()


def is_valid(pattern: str) -> bool:
    try:
        read(pattern)
    except JsRegexError:
        return False
    return True


@dataclasses.dataclass(frozen=True)
class _Span:
    """How much input a piece of pattern needs: `width` consumed, `need` looked at."""

    width: int
    need: int

    def then(self, other: _Span) -> _Span:
        return _Span(self.width + other.width, max(self.need, self.width + other.need))


_EMPTY = _Span(0, 0)
_ONE = _Span(1, 1)


@dataclasses.dataclass
class _Part:
    span: _Span
    names: frozenset[str] = frozenset()
    """Group names defined inside, to refuse a name defined twice on one path."""


def _code_units(pattern: str) -> str:
    """The pattern as UTF-16 code units, which a RegExp without `u` works on."""
    data = pattern.encode("utf-16-le", "surrogatepass")
    return "".join(chr(u) for u in struct.unpack(f"<{len(data) // 2}H", data))


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.text = _code_units(pattern)
        self.pos = 0
        self.counted = False
        self.group_count, self.group_names = self._scan_groups()

    # -- helpers ----------------------------------------------------------------

    def error(self, reason: str, position: int | None = None) -> JsRegexError:
        return JsRegexError(reason, self.pos if position is None else position)

    def peek(self, offset: int = 0) -> str:
        at = self.pos + offset
        return self.text[at] if at < len(self.text) else ""

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def _scan_groups(self) -> tuple[int, set[str]]:
        """Count capturing groups and collect their names before the real parse.

        Whether `\\3` is a back-reference depends on how many groups the whole
        pattern has, and whether `\\k` is a named reference on whether it has names.
        """
        text, i, count, names = self.text, 0, 0, set()
        in_class = False
        while i < len(text):
            char = text[i]
            if char == "\\":
                i += 2
                continue
            if in_class:
                in_class = char != "]"
            elif char == "[":
                in_class = True
            elif char == "(":
                if not text.startswith("?", i + 1):
                    count += 1
                elif text.startswith("?<", i + 1) and text[i + 3 : i + 4] not in "=!":
                    count += 1
                    end = text.find(">", i + 3)
                    if end > 0:
                        names.add(_group_name(text[i + 3 : end]) or "")
            i += 1
        return count, names

    # -- grammar ----------------------------------------------------------------

    def pattern(self) -> RegexInfo:
        part = self.disjunction()
        if not self.at_end():
            # disjunction() stops only at ')' when nothing is open
            raise self.error("unmatched ')'")
        return RegexInfo(self.counted, part.span.need)

    def disjunction(self) -> _Part:
        alternatives = [self.alternative()]
        while self.peek() == "|":
            self.pos += 1
            alternatives.append(self.alternative())
        return _Part(
            _Span(
                min(a.span.width for a in alternatives),
                min(a.span.need for a in alternatives),
            ),
            frozenset().union(*(a.names for a in alternatives)),
        )

    def alternative(self) -> _Part:
        span, names = _EMPTY, frozenset[str]()
        while not self.at_end() and self.peek() not in "|)":
            start = self.pos
            part = self.term()
            twice = names & part.names
            if twice:
                raise self.error(f"duplicate group name '{min(twice)}'", start)
            span, names = span.then(part.span), names | part.names
        return _Part(span, names)

    def term(self) -> _Part:
        start = self.pos
        if self.peek() in "^$" or self.text.startswith(("\\b", "\\B"), self.pos):
            self.pos += 1 if self.peek() in "^$" else 2
            self.refuse_quantifier(start)
            return _Part(_EMPTY)
        if self.text.startswith(("(?<=", "(?<!"), self.pos):
            self.pos += 4
            names = self.group_body(start).names
            self.refuse_quantifier(start)
            return _Part(_EMPTY, names)
        part = self.atom()
        return self.quantified(part)

    def refuse_quantifier(self, start: int) -> None:
        if self.quantifier_ahead():
            raise self.error("nothing to repeat", start)

    def quantifier_ahead(self) -> bool:
        return self.peek() in ("*", "+", "?") or self.braced_quantifier() is not None

    def braced_quantifier(self) -> tuple[int, int, int | None] | None:
        """(length, min, max) of a `{m}`, `{m,}` or `{m,n}` at the cursor, if any."""
        text, i = self.text, self.pos
        if not text.startswith("{", i):
            return None
        i += 1
        low_start = i
        while i < len(text) and text[i].isdigit():
            i += 1
        if i == low_start:
            return None
        low, high = int(text[low_start:i]), None
        if text.startswith(",", i):
            i += 1
            high_start = i
            while i < len(text) and text[i].isdigit():
                i += 1
            high = int(text[high_start:i]) if i > high_start else -1
        else:
            high = low
        if not text.startswith("}", i):
            return None
        return i + 1 - self.pos, low, (None if high == -1 else high)

    def quantified(self, part: _Part) -> _Part:
        char = self.peek()
        if char in ("*", "?"):
            low = 0
            self.pos += 1
        elif char == "+":
            low = 1
            self.pos += 1
        else:
            braced = self.braced_quantifier()
            if braced is None:
                return part
            length, low, high = braced
            if high is not None and high < low:
                raise self.error("numbers out of order in {} quantifier")
            self.counted = True
            self.pos += length
        if self.peek() == "?":  # lazy
            self.pos += 1
        if self.quantifier_ahead():
            raise self.error("nothing to repeat")
        atom = part.span
        if low == 0:
            return _Part(_EMPTY, part.names)
        span = _Span(low * atom.width, (low - 1) * atom.width + atom.need)
        return _Part(span, part.names)

    def atom(self) -> _Part:
        char = self.peek()
        if char == "(":
            return self.group()
        if char == "[":
            self.character_class()
            return _Part(_ONE)
        if char == "\\":
            return self.atom_escape()
        if char in ("*", "+", "?"):
            raise self.error("nothing to repeat")
        if char == "{" and self.braced_quantifier() is not None:
            raise self.error("nothing to repeat")
        self.pos += 1  # any other character, ']', '{' and '}' included, is literal
        return _Part(_ONE)

    def group(self) -> _Part:
        start = self.pos
        text = self.text
        if text.startswith(("(?=", "(?!"), start):
            self.pos += 3
            inner = self.group_body(start)
            lookahead = _Span(0, inner.span.need) if text[start + 2] == "=" else _EMPTY
            return _Part(lookahead, inner.names)
        if text.startswith("(?<", start):
            end = text.find(">", start + 3)
            name = _group_name(text[start + 3 : end]) if end > 0 else None
            if name is None:
                raise self.error("invalid group name", start)
            self.pos = end + 1
            inner = self.group_body(start)
            if name in inner.names:
                raise self.error(f"duplicate group name '{name}'", start)
            return _Part(inner.span, inner.names | {name})
        if text.startswith("(?", start):
            self.pos += 2
            self.modifiers(start)
            return self.group_body(start)
        self.pos += 1
        return self.group_body(start)

    def modifiers(self, start: int) -> None:
        """`(?:`, or ECMAScript 2025 `(?ims-ims:` that turns flags on or off inside."""
        seen: set[str] = set()
        parts = ["", ""]
        side = 0
        while True:
            char = self.peek()
            if char == ":":
                self.pos += 1
                break
            if char == "-" and side == 0:
                side = 1
            elif char in _MODIFIER_FLAGS and char not in seen:
                seen.add(char)
                parts[side] += char
            else:
                raise self.error("invalid group", start)
            self.pos += 1
        if side == 1 and not parts[0] and not parts[1]:
            raise self.error("invalid group", start)

    def group_body(self, start: int) -> _Part:
        inner = self.disjunction()
        if self.peek() != ")":
            raise self.error("unterminated group", start)
        self.pos += 1
        return inner

    def atom_escape(self) -> _Part:
        start = self.pos
        self.pos += 1
        if self.at_end():
            raise self.error("\\ at end of pattern", start)
        char = self.peek()
        if char in "123456789":
            digits = self.read_digits()
            if int(digits) <= self.group_count:
                return _Part(_EMPTY)  # a back-reference may match nothing
            self.pos -= len(digits)
            self.legacy_octal_or_identity()
            return _Part(_ONE)
        if char == "k" and self.group_names:
            end = self.text.find(">", self.pos)
            if not self.text.startswith("<", self.pos + 1) or end < 0:
                raise self.error("invalid named reference", start)
            name = _group_name(self.text[self.pos + 2 : end])
            if name is None or name not in self.group_names:
                raise self.error("invalid named reference", start)
            self.pos = end + 1
            return _Part(_EMPTY)
        if char == "c" and not _is_ascii_letter(self.peek(1)):
            return _Part(_ONE)  # a literal backslash; the 'c' is read next
        self.character_escape()
        return _Part(_ONE)

    def read_digits(self) -> str:
        start = self.pos
        while self.peek().isdigit() and self.peek().isascii():
            self.pos += 1
        return self.text[start : self.pos]

    def legacy_octal_or_identity(self) -> int:
        """`\\0`-`\\377` as an octal character code, or `\\8` and `\\9` as digits."""
        char = self.peek()
        if char in "89":
            self.pos += 1
            return ord(char)
        digits = ""
        while len(digits) < 3 and self.peek() in "01234567" and self.peek():
            candidate = digits + self.peek()
            if int(candidate, 8) > 0o377:
                break
            digits = candidate
            self.pos += 1
        return int(digits, 8)

    def character_escape(self) -> int | None:
        """Read the escape after a backslash; its code, or None for \\d and the like."""
        char = self.peek()
        if char in _CLASS_ESCAPES:
            self.pos += 1
            return None
        if char in _CONTROL_ESCAPES:
            self.pos += 1
            return _CONTROL_ESCAPES[char]
        if char == "c":  # followed by a letter, checked by the caller
            self.pos += 2
            return ord(self.text[self.pos - 1]) % 32
        if char == "0" and not self.peek(1).isdigit():
            self.pos += 1
            return 0
        if char in "01234567":
            return self.legacy_octal_or_identity()
        if char == "x" and self.hex_ahead(1, 2):
            self.pos += 3
            return int(self.text[self.pos - 2 : self.pos], 16)
        if char == "u" and self.hex_ahead(1, 4):
            self.pos += 5
            return int(self.text[self.pos - 4 : self.pos], 16)
        if char == "k" and self.group_names:
            raise self.error("invalid escape", self.pos - 1)
        self.pos += 1  # an identity escape: the character itself
        return ord(char)

    def hex_ahead(self, offset: int, count: int) -> bool:
        chunk = self.text[self.pos + offset : self.pos + offset + count]
        return len(chunk) == count and all(c in _HEX for c in chunk)

    def character_class(self) -> None:
        start = self.pos
        self.pos += 1
        if self.peek() == "^":
            self.pos += 1
        while True:
            if self.at_end():
                raise self.error("unterminated character class", start)
            if self.peek() == "]":
                self.pos += 1
                return
            range_start = self.pos
            low = self.class_atom(start)
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.pos += 1
                high = self.class_atom(start)
                if low is not None and high is not None and low > high:
                    raise self.error(
                        "range out of order in character class", range_start
                    )

    def class_atom(self, class_start: int) -> int | None:
        """One member of a class: its code, or None for \\d, \\w and the like."""
        char = self.peek()
        if char != "\\":
            self.pos += 1
            return ord(char)
        self.pos += 1
        if self.at_end():
            raise self.error("unterminated character class", class_start)
        char = self.peek()
        if char == "b":
            self.pos += 1
            return 0x08
        if char == "-":
            self.pos += 1
            return ord("-")
        if char == "c":
            following = self.peek(1)
            if _is_ascii_letter(following) or following.isdigit() or following == "_":
                self.pos += 2
                return ord(following) % 32
            return ord("\\")  # a literal backslash; the 'c' is read next
        if char in "89":
            self.pos += 1
            return ord(char)
        return self.character_escape()


def _is_ascii_letter(char: str) -> bool:
    return len(char) == 1 and char.isascii() and char.isalpha()


def _group_name(raw: str) -> str | None:
    """The name in `(?<name>`, with `\\uXXXX` escapes decoded, if it is a valid one."""
    chars: list[str] = []
    i = 0
    while i < len(raw):
        if raw[i] == "\\":
            code = raw[i + 2 : i + 6]
            if not raw.startswith("u", i + 1) or len(code) < 4:
                return None
            if not all(c in _HEX for c in code):
                return None
            chars.append(chr(int(code, 16)))
            i += 6
        else:
            chars.append(raw[i])
            i += 1
    name = "".join(chars)
    try:  # a surrogate pair written as two code units stands for one character
        name = name.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError:
        return None
    if not name:
        return None
    plain = name.replace("$", "_").replace("\u200c", "_").replace("\u200d", "_")
    if not plain.isidentifier() or name[0] in "\u200c\u200d":
        return None
    return name
