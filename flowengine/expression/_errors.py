"""Errors raised by the Expression Language (the ``ExpressionError`` branch).

Owns the EL error hierarchy::

    FlowEngineError
    └── ExpressionError              any EL problem; ``position`` points into the value
        ├── ExpressionSyntaxError    bad syntax/function/arguments (compile)
        ├── ExpressionEvaluationError  NiFi fails evaluation (bad regex...)
        └── ParameterError           ``#{name}`` references an undefined parameter
"""

from __future__ import annotations

from flowengine._errors import FlowEngineError

__all__ = [
    "ExpressionError",
    "ExpressionEvaluationError",
    "ExpressionSyntaxError",
    "ParameterError",
]


class ExpressionError(FlowEngineError):
    """Base class of every Expression Language error.

    Attributes:
        position: 0-based offset into the original property value text where the
            problem was found, or ``None`` when it is not known.
        text: the property value the error refers to, when known (for carets).
    """

    def __init__(
        self, message: str, position: int | None = None, text: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.text = text

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.message} (at position {self.position})"


class ExpressionSyntaxError(ExpressionError):
    """The value is not valid EL: bad syntax, unknown function or wrong arguments."""


class ExpressionEvaluationError(ExpressionError):
    """Evaluation failed the way NiFi fails (invalid regex, unparseable date, ...).

    Null and coercion cases are *not* errors: NiFi renders them as empty/false/null.
    """


class ParameterError(ExpressionError):
    """A ``#{name}`` reference could not be resolved (or is malformed)."""

    def __init__(
        self,
        message: str,
        position: int | None = None,
        text: str | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(message, position, text)
        self.name = name
