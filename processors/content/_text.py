"""Helpers shared by the text content processors (SplitText, ReplaceText, ExtractText ...).

Why here: the processors read lines the way NiFi's ``TextLineDemarcator`` does (``\\n``,
``\\r\\n`` and a lone ``\\r`` end a line, and the line keeps its ending), compile Java
regular expressions through the same translation the Expression Language uses, and
apply Java ``Matcher.appendReplacement`` templates with ReplaceText's lenient rules.
Keeping one copy keeps the processors consistent with each other.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable, Iterator
from typing import BinaryIO, Final

from flowengine import PropertyDescriptor, validators
from flowengine.expression import ExpressionError, java_regex

__all__ = [
    "CHARACTER_SET",
    "JAVA_REGEX",
    "LineTooLongError",
    "ReplacementTemplate",
    "codec_name",
    "decode_lenient",
    "iter_line_spans",
    "iter_text_lines",
    "java_pattern",
    "line_ending",
    "read_prefix",
    "regex_group_check",
]

CHUNK: Final = 1 << 20
_EOL = re.compile(rb"\r\n|\r|\n")
_NOT_A_REFERENCE = re.compile(r"\$\D")

#: the content's character set, as ExtractText and RouteOnContent declare it
CHARACTER_SET = PropertyDescriptor(
    "character_set",
    "The character set of the content.",
    display_name="Character Set",
    default="UTF-8",
    required=True,
    validators=(validators.CHARACTER_SET,),
)


def java_pattern(regex: str, flags: int = 0) -> re.Pattern[str]:
    """Compile a ``java.util.regex`` pattern; ``ValueError`` with the reason if invalid."""
    try:
        return java_regex(regex, flags)
    except ExpressionError as exc:
        raise ValueError(str(exc)) from None


def regex_group_check(
    min_groups: int = 0, max_groups: int | None = None
) -> Callable[[str], str | None]:
    """A value check: the Java regex compiles and has between min and max groups
    (NiFi's ``createRegexValidator(min, max, ...)``)."""

    def check(value: str) -> str | None:
        try:
            pat = java_pattern(value)
        except ValueError as exc:
            return str(exc)
        if pat.groups < min_groups:
            return (
                f"regular expression {value!r} has {pat.groups} capturing group(s); "
                f"at least {min_groups} required"
            )
        if max_groups is not None and pat.groups > max_groups:
            return (
                f"regular expression {value!r} has {pat.groups} capturing groups; "
                f"at most {max_groups} allowed"
            )
        return None

    return check


def _java_regex_check(value: str) -> str | None:
    if "${" in value:  # Expression Language: checked once evaluated
        return None
    return regex_group_check()(value)


#: a descriptor validator for Java regex properties (values with EL are checked later)
# (flowengine exports its validator instances, not the class; build ours the same way)
JAVA_REGEX: Final = type(validators.REGEX)("Java regular expression", _java_regex_check)


def codec_name(charset: str) -> str:
    """Python's codec name for a NiFi (Java) character set name."""
    return codecs.lookup(charset).name


def decode_lenient(data: bytes, charset: str) -> str:
    """Decode as Java's ``new String(bytes, charset)`` does: malformed input becomes
    U+FFFD (used by processors NiFi gives no failure relationship)."""
    return data.decode(codec_name(charset), errors="replace")


class LineTooLongError(ValueError):
    """A line exceeds the Maximum Buffer Size."""


def iter_text_lines(
    stream: BinaryIO,
    charset: str,
    max_chars: int | None = None,
    errors: str = "strict",
) -> Iterator[str]:
    """Decoded lines of a binary stream, each with its line ending (``\\n``, ``\\r\\n``
    or ``\\r``), streamed. Raises ``UnicodeDecodeError`` on malformed input (unless
    ``errors="replace"``, Java's reader behaviour) and
    :class:`LineTooLongError` for a line longer than ``max_chars`` characters (so a
    file without newlines never has to fit in memory)."""
    text = io.TextIOWrapper(
        stream,
        encoding=codec_name(charset),
        errors=errors,
        newline="",
    )
    try:
        if max_chars is None:
            yield from text
            return
        readline = text.readline
        limit = max_chars + 1
        while line := readline(limit):
            if len(line) > max_chars:
                raise LineTooLongError(
                    f"a line is longer than the Maximum Buffer Size ({max_chars} B)"
                )
            yield line
    finally:
        text.detach()


def line_ending(line: str) -> int:
    """Index where the line ending of ``line`` starts (``len(line)`` if none)."""
    if line.endswith("\r\n"):
        return len(line) - 2
    if line.endswith(("\n", "\r")):
        return len(line) - 1
    return len(line)


def iter_line_spans(stream: BinaryIO) -> Iterator[tuple[int, int]]:
    """``(end_of_text, end_of_line)`` byte offsets of each line of a binary stream.

    A line ends after ``\\n``, ``\\r\\n`` or a lone ``\\r``; the last line may have no
    ending (then both offsets are equal). Streamed in 1 MiB chunks, nothing kept.
    """
    base = 0  # offset of buf[0] in the stream
    buf = b""
    start = 0  # start of the current line within buf
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        buf = buf[start:] + chunk if start < len(buf) else chunk
        base += start
        start = 0
        finder = _EOL.finditer(buf)
        last_end = 0
        for m in finder:
            s, e = m.span()
            if e == len(buf) and buf[s] == 13:  # a \r at the edge: maybe \r\n
                break
            yield base + s, base + e
            last_end = e
        start = last_end
    if start < len(buf):
        rest = buf[start:]
        # the held-back lone \r (or an unterminated last line)
        if rest.endswith(b"\r"):
            yield base + len(buf) - 1, base + len(buf)
        else:
            yield base + len(buf), base + len(buf)


def read_prefix(stream: BinaryIO, limit: int) -> bytes:
    """At most ``limit`` bytes from the start of a stream."""
    parts: list[bytes] = []
    left = limit
    while left > 0:
        chunk = stream.read(min(left, CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


class ReplacementTemplate:
    """A Java ``Matcher.appendReplacement`` template, with ReplaceText's rules.

    ``$n`` refers to group n: Java takes further digits while the group number stays
    valid (``$12`` with one group is group 1, then ``2``); a reference whose number,
    so truncated, is still out of range is literal text (NiFi's
    ``escapeLiteralBackReferences``); ``${name}`` is a named group; ``\\x`` is ``x``.
    With ``normalize`` (ReplaceText), a ``$`` followed by anything but a digit anywhere
    makes the *whole* value literal, as NiFi's ``normalizeReplacementString`` does
    (``Matcher.quoteReplacement``): then even ``$1`` or ``${name}`` in it stay as
    written. A reference to a group of a regex without groups, or a trailing ``\\`` or
    ``$``, is an error (``ValueError``), as in Java.
    """

    __slots__ = ("_literal", "_parts")

    def __init__(
        self, template: str, pattern: re.Pattern[str], *, normalize: bool = False
    ) -> None:
        if normalize and _NOT_A_REFERENCE.search(template):
            self._parts: list[str | int] = [template]
            self._literal: str | None = template
            return
        groups = pattern.groups
        parts: list[str | int] = []
        buf: list[str] = []
        i, n = 0, len(template)
        while i < n:
            c = template[i]
            if c == "\\":
                if i + 1 >= n:
                    raise ValueError("character to be escaped is missing")
                buf.append(template[i + 1])
                i += 2
                continue
            if c != "$":
                buf.append(c)
                i += 1
                continue
            if i + 1 >= n:
                raise ValueError("Illegal group reference: group index is missing")
            nxt = template[i + 1]
            if nxt == "{":
                close = template.find("}", i + 2)
                name = template[i + 2 : close] if close > 0 else ""
                if name not in pattern.groupindex:
                    raise ValueError(f"No group with name {{{name}}}")
                parts.extend(("".join(buf), pattern.groupindex[name]))
                buf.clear()
                i = close + 1
                continue
            if not nxt.isdigit():
                raise ValueError(f"Illegal group reference: ${nxt}")
            j = i + 1
            while j < n and template[j].isdigit():
                j += 1
            digits = template[i + 1 : j]
            if groups == 0:
                raise ValueError(f"No group {digits[0]}: the regex has no groups")
            ref = int(digits)
            used = len(digits)
            while ref > groups and ref >= 10:
                ref //= 10
                used -= 1
            if ref > groups:
                buf.append(template[i:j])
            else:
                parts.extend(("".join(buf), ref))
                buf.clear()
                buf.append(digits[used:])
            i = j
        parts.append("".join(buf))
        self._parts = [p for p in parts if p != ""]
        self._literal = (
            "".join(str(p) for p in self._parts)
            if all(isinstance(p, str) for p in self._parts)
            else None
        )

    @property
    def literal(self) -> str | None:
        """The replacement when it refers to no group, else None."""
        return self._literal

    def expand(self, m: re.Match[str]) -> str:
        if self._literal is not None:
            return self._literal
        return "".join(
            p if isinstance(p, str) else (m.group(p) or "") for p in self._parts
        )
