"""Grok: named regular-expression patterns for log lines.

The engine (:class:`Grok`, the standard pattern names) is shared by ExtractGrok and the
GrokReader record reader (``flowengine.controller_services.records.grok_format``).
"""

from ._common import compile_grok, load_patterns, problem
from ._grok import Grok, GrokError, parse_pattern_text
from ._patterns import STANDARD_PATTERNS

__all__ = [
    "STANDARD_PATTERNS",
    "Grok",
    "GrokError",
    "compile_grok",
    "load_patterns",
    "parse_pattern_text",
    "problem",
]
