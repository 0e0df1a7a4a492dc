"""Processors that run external programs (ExecuteStreamCommand)."""
