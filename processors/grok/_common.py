"""What ExtractGrok and GrokReader share: loading pattern files and compiling."""

from __future__ import annotations

import os

from ._grok import Grok, GrokError, parse_pattern_text

__all__ = ["compile_grok", "load_patterns"]


def load_patterns(value: str | None) -> dict[str, str]:
    """The Grok Patterns property: comma-separated pattern files, or the pattern
    definitions themselves (``NAME regex`` lines)."""
    if not value or not value.strip():
        return {}
    parts = [p.strip() for p in value.split(",")]
    if "\n" not in value and all(p and os.path.isfile(p) for p in parts):
        patterns: dict[str, str] = {}
        for path in parts:
            with open(path, encoding="utf-8") as fh:
                patterns.update(parse_pattern_text(fh.read(), origin=path))
        return patterns
    if "\n" not in value and " " not in value.strip():
        raise GrokError(f"pattern file {value.strip()!r} does not exist")
    return parse_pattern_text(value, origin="Grok Patterns")


def compile_grok(expression: str, patterns_value: str | None, named_only: bool) -> Grok:
    """Compile; :class:`GrokError` (or ``OSError`` reading a file) when invalid."""
    return Grok(expression, load_patterns(patterns_value), named_only=named_only)


def problem(exc: Exception) -> str:
    """A validation message with a hint for a Grok error."""
    hint = (
        "hint: use a standard pattern name (IP, NUMBER, WORD, TIMESTAMP_ISO8601, "
        "COMBINEDAPACHELOG, ...) or define it in Grok Patterns"
    )
    return f"{exc}; {hint}"
