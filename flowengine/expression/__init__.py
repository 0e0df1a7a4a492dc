"""NiFi Expression Language and parameters (``${...}`` and ``#{...}``), exact to NiFi.

This is the public surface plugin authors and the engine use::

    from flowengine.expression import compile
    expr = compile("out/${filename:substringBeforeLast('.')}.parquet")
    expr.evaluate(flowfile)                     # -> str
    expr.evaluate(attributes={"filename": "a.csv"})

Compile once per property value (``compile`` is cached), evaluate per FlowFile.
Name lookup follows NiFi 2.x: processor extras -> FlowFile pseudo-attributes
(``fileSize``, ``entryDate`` ...) -> attributes -> environment variables; null
renders as the empty string. ``#{param}`` references are substituted textually
before EL parsing by :func:`substitute_parameters`. :func:`java_regex` compiles
``java.util.regex`` syntax the way the EL's regex functions do, so processors that take
a Java regex (ReplaceText, ExtractText ...) accept exactly what NiFi and the EL accept.
"""

from __future__ import annotations

from flowengine.expression._cli import main
from flowengine.expression._errors import (
    ExpressionError,
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    ParameterError,
)
from flowengine.expression._expression import Expression, compile, functions
from flowengine.expression._parameters import (
    parameter_references,
    substitute_parameters,
)
from flowengine.expression._regex import java_regex

__all__ = [
    "Expression",
    "ExpressionError",
    "ExpressionEvaluationError",
    "ExpressionSyntaxError",
    "ParameterError",
    "compile",
    "functions",
    "java_regex",
    "main",
    "parameter_references",
    "substitute_parameters",
]
