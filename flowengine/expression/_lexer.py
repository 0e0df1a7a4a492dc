"""Scanning of property values: literal text vs ``${...}`` ranges, and EL tokens.

Owns two things the parser builds on:

* :func:`split_template` cuts a property value into literal text and expression
  ranges, applying NiFi's ``$$`` escaping (pairs of ``$`` before ``{`` collapse left
  to right; an odd run leaves one ``$`` to open an expression). A ``${`` without a
  matching ``}`` is plain text, as in NiFi.
* :func:`tokenize` turns the inside of one ``${...}`` into tokens, following NiFi's
  ANTLR lexer (attribute-name characters, quoted strings with ``\\`` escapes, whole
  and decimal numbers, ``#`` comments, ``#{param}`` references).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from flowengine.expression._errors import ExpressionSyntaxError

__all__ = ["Segment", "Token", "find_expression_end", "split_template", "tokenize"]


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a value: literal text, or an expression ``text[start:end]``."""

    is_expression: bool
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical token inside ``${...}``; ``pos`` is an offset into the full value."""

    kind: str  # DOLLAR_LBRACE RBRACE LPAREN RPAREN COLON COMMA STRING WHOLE DECIMAL
    # NAME PARAM EOF
    value: str
    pos: int
    end: int


def find_expression_end(text: str, brace: int) -> int | None:
    """Return the index of the ``}`` closing the ``{`` at *brace*, or ``None``.

    Quoted strings are skipped (a brace inside quotes does not count), exactly as
    NiFi's range scanner does; an unterminated quote means "no expression".
    """
    depth = 0
    i = brace
    n = len(text)
    while i < n:
        c = text[i]
        if c in "'\"" and depth > 0:
            j = i + 1
            while j < n:
                d = text[j]
                if d == "\\":
                    j += 2
                    continue
                if d == c:
                    break
                j += 1
            else:
                return None
            i = j + 1
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def split_template(text: str, offset: int = 0) -> list[Segment]:
    """Split *text* into literal and expression segments (positions are + *offset*).

    Adjacent literal pieces are merged, so a value without expressions yields at most
    one literal segment (already unescaped).
    """
    out: list[Segment] = []
    lit: list[str] = []
    lit_start = 0
    i = 0
    n = len(text)

    def flush(upto: int) -> None:
        joined = "".join(lit)
        if joined:
            out.append(Segment(False, joined, offset + lit_start, offset + upto))
        lit.clear()

    while i < n:
        c = text[i]
        if c != "$":
            if not lit:
                lit_start = i
            lit.append(c)
            i += 1
            continue
        j = i
        while j < n and text[j] == "$":
            j += 1
        run = j - i
        end = find_expression_end(text, j) if j < n and text[j] == "{" else None
        if end is None:
            if not lit:
                lit_start = i
            lit.append("$" * run)
            i = j
            continue
        if not lit:
            lit_start = i
        lit.append("$" * (run // 2))
        if run % 2 == 0:
            i = j  # escaped: the "{" is scanned on as ordinary text
            continue
        flush(j - 1)
        out.append(
            Segment(True, text[j - 1 : end + 1], offset + j - 1, offset + end + 1)
        )
        i = end + 1
    flush(n)
    return out


_NAME_STOP: Final = frozenset("${}()[],:;/*' \t\r\n")
_NUMBER_RE: Final = re.compile(
    r"[+-]?(?:\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|(\d+))"
)
_PUNCT: Final = {
    "}": "RBRACE",
    "(": "LPAREN",
    ")": "RPAREN",
    ":": "COLON",
    ",": "COMMA",
}
_ESCAPES: Final = {'"': '"', "'": "'", "r": "\r", "n": "\n", "t": "\t", "\\": "\\"}


def _name_end(text: str, i: int, end: int) -> int:
    j = i
    while j < end and text[j] not in _NAME_STOP:
        j += 1
    return j


def _read_string(text: str, i: int, end: int) -> tuple[str, int]:
    quote = text[i]
    buf: list[str] = []
    j = i + 1
    while j < end:
        c = text[j]
        if c == quote:
            return "".join(buf), j + 1
        if c == "\\" and j + 1 < end:
            nxt = text[j + 1]
            # NiFi keeps unknown escapes verbatim (backslash included) so that
            # regexes such as '\d' or '\.' reach the regex engine intact.
            buf.append(_ESCAPES.get(nxt, "\\" + nxt))
            j += 2
            continue
        if c in "\r\n\t":
            raise ExpressionSyntaxError(
                "unescaped line break or tab inside a string literal", j, text
            )
        buf.append(c)
        j += 1
    raise ExpressionSyntaxError("unterminated string literal", i, text)


def tokenize(text: str, start: int, end: int) -> list[Token]:
    """Tokenize ``text[start:end]`` (one ``${...}`` including its delimiters)."""
    tokens: list[Token] = []
    i = start
    while i < end:
        c = text[i]
        if c in " \t\r\n":
            i += 1
            continue
        if c == "#":
            if i + 1 < end and text[i + 1] == "{":
                close = find_expression_end(text, i + 1)
                if close is None or close >= end:
                    raise ExpressionSyntaxError(
                        "unterminated parameter reference", i, text
                    )
                name = text[i + 2 : close].strip()
                if len(name) >= 2 and name[0] == name[-1] == "'":
                    name = name[1:-1]
                tokens.append(Token("PARAM", name, i, close + 1))
                i = close + 1
                continue
            nl = text.find("\n", i, end)
            i = end if nl < 0 else nl + 1  # a comment runs to the end of the line
            continue
        if c == "$" and i + 1 < end and text[i + 1] == "{":
            tokens.append(Token("DOLLAR_LBRACE", "${", i, i + 2))
            i += 2
            continue
        kind = _PUNCT.get(c)
        if kind is not None:
            tokens.append(Token(kind, c, i, i + 1))
            i += 1
            continue
        if c in "'\"":
            value, j = _read_string(text, i, end)
            tokens.append(Token("STRING", value, i, j))
            i = j
            continue
        m = _NUMBER_RE.match(text, i, end)
        name_end = _name_end(text, i, end) if c not in "0123456789" else i
        if m is not None and m.end() >= name_end:
            tokens.append(
                Token(
                    "WHOLE" if m.group(1) is not None else "DECIMAL",
                    m.group(),
                    i,
                    m.end(),
                )
            )
            i = m.end()
            continue
        if name_end > i:
            tokens.append(Token("NAME", text[i:name_end], i, name_end))
            i = name_end
            continue
        raise ExpressionSyntaxError(f"unexpected character {c!r}", i, text)
    tokens.append(Token("EOF", "", end, end))
    return tokens
