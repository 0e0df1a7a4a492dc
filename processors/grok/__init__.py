"""Grok: named regular-expression patterns for log lines (ExtractGrok)."""
