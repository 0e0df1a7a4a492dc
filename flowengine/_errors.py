"""The exception hierarchy of flowengine.

Validation collects problems and reports them together; execution raises.
Every error the engine raises derives from :class:`FlowEngineError`::

    FlowEngineError
    ├── ValidationError            a flow or component configuration is invalid (collects problems)
    ├── FlowFileHandlingError      a session was used against its contract (NiFi FlowFileHandlingException)
    ├── TerminatedTaskError        the trigger was abandoned at stop; its session is fenced (NiFi TerminatedTaskException)
    ├── ProcessException           a processor failed to process; rolled back, FlowFiles penalized
    │   └── ConfigurationError     the processor cannot work as configured; waiting will not help
    ├── ContentError               the content repository could not read or write a claim
    │   └── ContentRepositoryFullError  no space left; writers yield and retry
    ├── ServiceError               a controller service is missing, of the wrong kind or not enabled
    ├── PluginError                a plugin could not be found or imported
    └── ExpressionError            (flowengine.expression) syntax/evaluation problems in EL
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
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


class ConfigurationError(ProcessException):
    """The processor cannot work as it is configured, and waiting will not help.

    Raise it from ``on_trigger`` when a failure is not the FlowFile's fault and will not
    go away by retrying: the bucket does not exist, the credentials are rejected, access
    is denied. The engine rolls the session back (whatever the trigger committed itself
    stays committed), so the FlowFiles it held stay queued where they were, untouched:
    nothing is routed to ``failure`` and nothing is lost. Then:

    - in a run until drained (``flowengine run --until-drained``,
      ``Flow.run(until_drained=True)``), after :data:`CONFIGURATION_ATTEMPTS` failed
      triggers in a row (waiting 1x, 2x the yield duration in between) the run stops and
      reports the error (``RunResult.halted``; exit code 5). Fix the configuration and
      rerun: a durable run continues with the FlowFiles still queued;
    - as a service, the processor backs off: yield duration x 2^(n-1) after the n-th
      failure in a row, at most :data:`CONFIGURATION_MAX_BACKOFF` seconds (but never
      sooner than its timer period), and logs ``processor_configuration_error`` at most once per
      :data:`CONFIGURATION_LOG_INTERVAL` seconds with the count of repeats in between;
      the first trigger that succeeds again logs ``processor_recovered``.

    Args:
        message: what is wrong, for people ("bucket 'raw' does not exist").
        code: a machine-readable code (an S3 error code such as ``NoSuchBucket``).
        resource: what it concerns (``s3://raw/in/``).
        hint: what to check ("the Bucket property, and the region").
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        resource: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.resource = resource
        self.hint = hint


#: failed triggers in a row after which a ConfigurationError ends a run until drained
CONFIGURATION_ATTEMPTS = 3
#: the longest a processor backs off after ConfigurationErrors (seconds), as a service
CONFIGURATION_MAX_BACKOFF = 300.0
#: a processor logs a repeated ConfigurationError at most this often (seconds)
CONFIGURATION_LOG_INTERVAL = 60.0


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
