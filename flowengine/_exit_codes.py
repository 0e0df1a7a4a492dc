"""The exit codes of ``flowengine run`` (and :attr:`RunResult.exit_code`), defined once.

A leaf module so that the CLI, its commands and :class:`~flowengine.RunResult` take the
same numbers without importing each other. What each means for a user, and what to do, is
in docs/flow-format.md ("Exit codes"); a test holds that table to these constants.
"""

from __future__ import annotations

__all__ = [
    "EXIT_CONFIG",
    "EXIT_ERROR",
    "EXIT_FAILURES",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_SIGINT",
    "EXIT_SIGTERM",
    "EXIT_STATE",
    "EXIT_TIMEOUT",
]

#: the run did what it was asked
EXIT_OK = 0
#: an unexpected error (a bug, or an environment problem no other code names)
EXIT_ERROR = 1
#: the flow file or the command line is invalid; nothing ran
EXIT_INVALID = 2
#: drained, but FlowFiles reached an auto-terminated failure relationship
EXIT_FAILURES = 3
#: ``--timeout`` expired before the flow drained; state is kept, a rerun continues
EXIT_TIMEOUT = 4
#: a processor cannot work as configured (a ConfigurationError its retries did not cure)
EXIT_CONFIG = 5
#: the state directory needs the user's decision; nothing was changed
EXIT_STATE = 6
#: stopped by SIGINT without a clean finish (128 + 2, as shells report it)
EXIT_SIGINT = 130
#: stopped by SIGTERM without a clean finish (128 + 15)
EXIT_SIGTERM = 143
