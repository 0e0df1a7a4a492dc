"""The exception hierarchy of flowengine.

Validation collects problems and reports them together; execution raises.
Every error the engine raises derives from :class:`FlowEngineError`::

    FlowEngineError
    ├── ValidationError            a flow or component configuration is invalid (collects problems)
    ├── FlowFileHandlingError      a session was used against its contract (NiFi FlowFileHandlingException)
    ├── TerminatedTaskError        the trigger was abandoned at stop; its session is fenced (NiFi TerminatedTaskException)
    ├── ProcessException           a processor failed to process; rolled back, FlowFiles penalized
    ├── ContentError               the content repository could not read or write a claim
    │   └── ContentRepositoryFullError  no space left; writers yield and retry
    ├── ServiceError               a controller service is missing, of the wrong kind or not enabled
    ├── PluginError                a plugin could not be found or imported
    └── ExpressionError            (flowengine.expression) syntax/evaluation problems in EL
"""

from __future__ import annotations

__all__ = [
    "ContentError",
    "ContentRepositoryFullError",
    "FlowEngineError",
    "FlowFileHandlingError",
    "PluginError",
    "ProcessException",
    "ServiceError",
    "StateDirectoryError",
    "TerminatedTaskError",
    "ValidationError",
]


class FlowEngineError(Exception):
    """Base class of every error raised by flowengine."""


class ValidationError(FlowEngineError):
    """A configuration is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str] | str) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems: list[str] = list(problems)
        super().__init__("\n".join(self.problems))


class FlowFileHandlingError(FlowEngineError):
    """A FlowFile was used against the session contract (unknown, already transferred, ...)."""


class TerminatedTaskError(FlowEngineError):
    """The trigger using this session was abandoned when the run stopped (NiFi's
    TerminatedTaskException after "Terminate"): the session was rolled back and fenced,
    so anything the still-running trigger does with it afterwards (get, write, commit,
    state) raises this instead of taking effect."""


class ProcessException(FlowEngineError):
    """Raised by a processor when processing fails; the session is rolled back."""


class ContentError(FlowEngineError):
    """Content could not be read or written."""


class ContentRepositoryFullError(ContentError):
    """The content repository has no space left; the writer should yield and retry."""


class ServiceError(FlowEngineError):
    """A controller service is missing, of the wrong interface, or not enabled."""


class PluginError(FlowEngineError):
    """A plugin (processor or service type) could not be found or loaded."""


class StateDirectoryError(FlowEngineError):
    """A durable state directory cannot be used as it is (damaged, orphaned queues, full).

    The run refuses to start rather than lose data; the message names the file and what
    the user can do. The CLI exits with ``EXIT_STATE`` (6).
    """
