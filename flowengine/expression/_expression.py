"""The compiled :class:`Expression` object and :func:`compile`.

Owns the public contract of a compiled property value: parse once (cached by
text), evaluate many times. ``evaluate`` *is* the generated function (assigned per
instance), so a call costs one Python call plus the work of the expression; a
value without ``${...}`` short-circuits to its literal text.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from flowengine.expression import (
    _fn_dates,  # noqa: F401
    _fn_encode,  # noqa: F401
    _fn_math,  # noqa: F401
    _fn_search,  # noqa: F401
    _fn_strings,  # noqa: F401  (registers functions)
    _fn_system,  # noqa: F401
)
from flowengine.expression._compiler import generate
from flowengine.expression._context import EvalContext
from flowengine.expression._errors import ExpressionSyntaxError
from flowengine.expression._parser import parse_value
from flowengine.expression._registry import REGISTRY, register

__all__ = ["Expression", "compile", "functions"]


class _Evaluate(Protocol):
    def __call__(
        self,
        flowfile: object | None = None,
        *,
        attributes: Mapping[str, str] | None = None,
        extras: Mapping[str, str] | None = None,
        state: Mapping[str, str] | None = None,
    ) -> str: ...


class Expression:
    """A compiled property value (literal text plus any number of ``${...}``).

    Attributes:
        text: the property value as given to :func:`compile`.
        is_literal: True when the value has no ``${...}`` (after ``$$`` escaping);
            :attr:`literal_value` then holds the text to use.
        literal_value: the unescaped text of a literal value, else ``None``.
        attribute_names: attribute names referenced by plain ``${name}`` subjects
            (multi-attribute and dynamic references are not listed).
        source: the generated Python source (for debugging and curiosity).
        evaluate: ``evaluate(flowfile=None, *, attributes=None, extras=None,
            state=None) -> str``. Lookup order is NiFi 2.x's: ``extras`` ->
            FlowFile pseudo-attributes (only with a FlowFile) -> attributes
            (``flowfile.attributes``, else ``attributes``) -> ``os.environ``.
            ``state`` feeds ``getStateValue()``. Null renders as ``""``. Raises
            :class:`ExpressionEvaluationError` where NiFi fails evaluation.
    """

    __slots__ = (
        "attribute_names",
        "evaluate",
        "is_literal",
        "literal_value",
        "source",
        "text",
    )

    evaluate: _Evaluate

    def __init__(
        self, text: str, *, parameters: Callable[[str], str | None] | None = None
    ):
        self.text = text
        parts = parse_value(text)
        if all(isinstance(p, str) for p in parts):
            literal = "".join(p for p in parts if isinstance(p, str))
            self.is_literal = True
            self.literal_value: str | None = literal
            self.attribute_names: frozenset[str] = frozenset()
            self.source = f"return {literal!r}"

            def _literal(
                flowfile: object | None = None,
                *,
                attributes: Mapping[str, str] | None = None,
                extras: Mapping[str, str] | None = None,
                state: Mapping[str, str] | None = None,
            ) -> str:
                return literal

            self.evaluate = _literal
            return
        self.is_literal = False
        self.literal_value = None
        fn, names, source = generate(text, parts, parameters)
        self.evaluate = fn
        self.attribute_names = names
        self.source = source

    def evaluate_boolean(
        self,
        flowfile: object | None = None,
        *,
        attributes: Mapping[str, str] | None = None,
        extras: Mapping[str, str] | None = None,
        state: Mapping[str, str] | None = None,
    ) -> bool:
        """True iff the value evaluates to ``true`` (Java ``Boolean.parseBoolean``).

        This is how RouteOnAttribute reads its routing conditions.
        """
        result = self.evaluate(
            flowfile, attributes=attributes, extras=extras, state=state
        )
        return result.lower() == "true"

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


@functools.lru_cache(maxsize=4096)
def _compile_cached(text: str) -> Expression:
    return Expression(text)


def compile(
    text: str, *, parameters: Callable[[str], str | None] | None = None
) -> Expression:
    """Parse and compile a property value once, for evaluation many times.

    Args:
        text: the property value (after ``#{param}`` substitution).
        parameters: optional resolver for ``#{name}`` references left *inside*
            ``${...}`` (NiFi evaluates those as the parameter's value). Without it,
            such a reference is a syntax error. Compiles with a resolver are not cached.

    Raises:
        ExpressionSyntaxError: bad syntax, unknown function, wrong argument count or
            an impossible type conversion, with ``position`` inside *text*.
    """
    if not isinstance(text, str):
        raise TypeError(f"compile() needs a str, got {builtins.type(text).__name__}")
    if parameters is not None:
        return Expression(text, parameters=parameters)
    return _compile_cached(text)


@register("evaluateELString", null="maybe", ctx=True)
def _evaluate_el_string(ctx: EvalContext, s: str | None) -> str | None:
    """``evaluateELString()``: evaluate EL found in a value, in the caller's context."""
    if s is None:
        return None
    return compile(s).evaluate(
        ctx.flowfile,
        attributes=ctx.attributes,
        extras=ctx.extras,
        state=ctx.state,
    )


def functions() -> dict[str, dict[str, Any]]:
    """Every EL function: arity, result type and whether it is subjectless."""
    return {
        name: {
            "min_args": fn.min_args,
            "max_args": fn.max_args,
            "subjectless": fn.subject == "NONE",
            "result": fn.result,
        }
        for name, fn in sorted(REGISTRY.items())
    }


_ = ExpressionSyntaxError
