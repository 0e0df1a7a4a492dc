"""The engine's loggers. Library code never configures logging; the CLI does.

When the application has not configured structlog, the engine logs at INFO and above to
stderr rather than structlog's default (everything, to stdout), so an embedding program's
stdout stays its own.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

__all__ = ["engine_logger"]


def engine_logger(**context: Any) -> Any:
    """A structlog logger bound to ``context`` (flow, group, processor...)."""
    if structlog.is_configured():
        return structlog.get_logger("flowengine").bind(**context)
    return structlog.wrap_logger(
        structlog.PrintLogger(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.dev.ConsoleRenderer(colors=False),
        ],
    ).bind(**context)
