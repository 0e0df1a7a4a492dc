"""Java regular expressions on Python's :mod:`re`.

Owns the translation of ``java.util.regex.Pattern`` syntax that Python spells
differently (``\\p{Alpha}`` and friends, ``\\Q...\\E``, ``(?<name>...)``, ``\\k<name>``,
``\\z``/``\\Z``, ``\\h``, ``\\R``, ``\\x{...}``, ``\\e``) and of Java replacements
(``$1``, ``${name}``, ``\\$``) into a replacement function. Possessive quantifiers
and atomic groups are native in Python 3.11. Patterns are compiled once and cached.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Final

from flowengine.expression._errors import ExpressionEvaluationError

__all__ = ["java_regex", "java_replacement", "replace_all", "replace_first"]

_POSIX: Final = {
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7f",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "Graph": "\\x21-\\x7e",
    "Print": "\\x20-\\x7e",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1f\\x7f",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0b\\f\\r",
    "javaLowerCase": "a-z",
    "javaUpperCase": "A-Z",
    "javaWhitespace": " \\t\\n\\x0b\\f\\r\\x1c-\\x1f",
}
# Unicode categories Python's re cannot name; usable outside character classes.
_UNICODE: Final = {
    "L": "[^\\W\\d_]",
    "IsAlphabetic": "[^\\W\\d_]",
    "IsLetter": "[^\\W\\d_]",
    "N": "\\d",
    "Nd": "\\d",
    "IsDigit": "\\d",
    "Lu": "(?-i:(?=[^\\W\\d_])(?!(?u:[a-z]))[^\\W\\d_])",
    "Ll": "(?-i:(?=[^\\W\\d_])(?![A-Z])[^\\W\\d_])",
    "IsWhite_Space": "\\s",
}
_HSPACE: Final = " \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000"


def _prop(name: str, negate: bool, in_class: bool, pattern: str) -> str:
    body = name[2:] if name.startswith("Is") and name[2:] in _POSIX else name
    if body in _POSIX:
        inner = _POSIX[body]
        if in_class:
            if negate:
                raise ExpressionEvaluationError(
                    f"\\P{{{name}}} inside a character class is not supported: "
                    f"{pattern}"
                )
            return inner
        return f"[{'^' if negate else ''}{inner}]"
    if body in _UNICODE and not in_class and not negate:
        return _UNICODE[body]
    raise ExpressionEvaluationError(
        f"unsupported regex property \\p{{{name}}} in {pattern}"
    )


def _translate(pattern: str) -> str:
    out: list[str] = []
    i = 0
    n = len(pattern)
    depth = 0  # character-class nesting
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            d = pattern[i + 1]
            if d == "Q":
                end = pattern.find("\\E", i + 2)
                end = n if end < 0 else end
                out.append(re.escape(pattern[i + 2 : end]))
                i = end + 2
                continue
            if d in "pP" and i + 2 < n:
                if pattern[i + 2] == "{":
                    close = pattern.find("}", i + 3)
                    if close < 0:
                        raise ExpressionEvaluationError(
                            f"unclosed \\p{{ in regex {pattern}"
                        )
                    name = pattern[i + 3 : close]
                    i = close + 1
                else:
                    name = pattern[i + 2]
                    i += 3
                out.append(_prop(name, d == "P", depth > 0, pattern))
                continue
            if d == "k" and i + 2 < n and pattern[i + 2] == "<":
                close = pattern.find(">", i + 3)
                out.append(f"(?P={pattern[i + 3 : close]})")
                i = close + 1
                continue
            if d == "x" and i + 2 < n and pattern[i + 2] == "{":
                close = pattern.find("}", i + 3)
                out.append(f"\\U{int(pattern[i + 3 : close], 16):08x}")
                i = close + 1
                continue
            simple = {
                "z": "\\Z",
                "Z": "(?=\\n?\\Z)",
                "e": "\\x1b",
                "h": f"[{_HSPACE}]" if depth == 0 else _HSPACE,
                "H": f"[^{_HSPACE}]",
                "R": "(?:\\r\\n|[\\n\\x0b\\f\\r\\x85\\u2028\\u2029])",
            }.get(d)
            out.append(simple if simple is not None else pattern[i : i + 2])
            i += 2
            continue
        if c == "[":
            depth += 1
        elif c == "]" and depth > 0:
            depth -= 1
        elif (
            c == "("
            and depth == 0
            and pattern.startswith("(?<", i)
            and i + 3 < n
            and (pattern[i + 3] not in "=!")
        ):
            out.append("(?P<")
            i += 3
            continue
        out.append(c)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=1024)
def java_regex(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Compile a Java regex (cached); an invalid one is an evaluation error."""
    try:
        return re.compile(_translate(pattern), flags)
    except re.error as exc:
        raise ExpressionEvaluationError(
            f"invalid regular expression {pattern!r}: {exc}"
        ) from exc


@functools.lru_cache(maxsize=1024)
def java_replacement(
    template: str, pattern: re.Pattern[str]
) -> Callable[[re.Match[str]], str]:
    """Compile a Java ``Matcher.replaceAll`` replacement string into a function."""
    parts: list[str | int] = []
    buf: list[str] = []
    i = 0
    n = len(template)
    groups = pattern.groups
    while i < n:
        c = template[i]
        if c == "\\":
            if i + 1 >= n:
                raise ExpressionEvaluationError("character to be escaped is missing")
            buf.append(template[i + 1])
            i += 2
            continue
        if c != "$":
            buf.append(c)
            i += 1
            continue
        if i + 1 >= n:
            raise ExpressionEvaluationError(
                "Illegal group reference: group index is missing"
            )
        if template[i + 1] == "{":
            close = template.find("}", i + 2)
            name = template[i + 2 : close] if close > 0 else ""
            if not name or name not in pattern.groupindex:
                raise ExpressionEvaluationError(f"No group with name {{{name}}}")
            ref: int = pattern.groupindex[name]
            i = close + 1
        else:
            if not template[i + 1].isdigit():
                raise ExpressionEvaluationError("Illegal group reference")
            ref = int(template[i + 1])
            j = i + 2
            # Java takes further digits while the group number stays valid.
            while (
                j < n
                and template[j].isdigit()
                and ref * 10 + int(template[j]) <= groups
            ):
                ref = ref * 10 + int(template[j])
                j += 1
            if ref > groups:
                raise ExpressionEvaluationError(f"No group {ref}")
            i = j
        if buf:
            parts.append("".join(buf))
            buf.clear()
        parts.append(ref)
    if buf:
        parts.append("".join(buf))
    if all(isinstance(p, str) for p in parts):
        literal = "".join(p for p in parts if isinstance(p, str))
        return lambda m: literal

    def replace(m: re.Match[str]) -> str:
        return "".join(p if isinstance(p, str) else (m.group(p) or "") for p in parts)

    return replace


def replace_all(subject: str, regex: str, replacement: str) -> str:
    """Java ``String.replaceAll``."""
    pat = java_regex(regex)
    return pat.sub(java_replacement(replacement, pat), subject)


def replace_first(subject: str, regex: str, replacement: str) -> str:
    """Java ``String.replaceFirst``."""
    pat = java_regex(regex)
    return pat.sub(java_replacement(replacement, pat), subject, count=1)
