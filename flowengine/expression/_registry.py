"""The function table: one :class:`Fn` declaration per EL function.

Owns the contract between the function families (``_fn_*.py``) and the compiler.
A declaration states how the subject and each argument are coerced (NiFi wires a
cast evaluator in front of every argument), the static result type (NiFi decides
some things, such as "multi-attribute expressions must end in a boolean or a
reducer", from static types), and optionally an ``inline`` Python template the code
generator uses on the hot path instead of a call.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["REGISTRY", "Fn", "closest", "register"]

# Coercion targets / static types: STRING WHOLE DECIMAL NUMBER BOOLEAN DATE INSTANT
# ANY (no coercion) and NONE (subjectless function).


@dataclass(frozen=True, slots=True)
class Fn:
    """Declaration of one EL function.

    Attributes:
        name: the function name as written in EL.
        impl: ``impl(subject, *args)`` (or ``impl(*args)`` when subjectless) on
            already-coerced values; with ``ctx`` the evaluation context comes first.
        min_args / max_args: accepted argument counts (``max_args=None``: varargs).
        subject: coercion applied to the subject, or ``NONE`` for subjectless
            functions, or ``OPTIONAL`` (``math``: with or without a subject).
        arg_types: coercion per argument; the last entry repeats for varargs.
        result: static result type.
        null: ``propagate`` (null subject gives null), ``never`` (never null) or
            ``maybe``.
        inline: Python expression template with ``{s}`` (subject) and ``{a0}``...
            (constant arguments), used when every argument is a non-null constant.
        null_value: Python expression used by ``inline`` when the subject is null.
        ctx: ``impl`` receives the evaluation context as first argument.
        validate: called at compile time with the constant arguments (``None`` for
            non-constant ones); raising makes the value invalid, as NiFi does for
            literal regexes, JSON paths, date formats and durations.
    """

    name: str
    impl: Callable[..., object]
    min_args: int = 0
    max_args: int | None = 0
    subject: str = "STRING"
    arg_types: tuple[str, ...] = ()
    result: str = "STRING"
    null: str = "propagate"
    inline: str | None = None
    null_value: str | None = None
    ctx: bool = False
    validate: Callable[..., None] | None = None

    def arg_type(self, index: int) -> str:
        """Coercion target of argument *index*."""
        if not self.arg_types:
            return "ANY"
        return self.arg_types[min(index, len(self.arg_types) - 1)]


REGISTRY: dict[str, Fn] = {}


def register(
    name: str, **kwargs: object
) -> Callable[[Callable[..., object]], Callable[..., object]]:
    """Class-free decorator: ``@register("toUpper", inline="{s}.upper()")``."""

    def deco(impl: Callable[..., object]) -> Callable[..., object]:
        if name in REGISTRY:  # pragma: no cover - programming error
            raise RuntimeError(f"EL function {name} registered twice")
        REGISTRY[name] = Fn(name, impl, **kwargs)  # type: ignore[arg-type]
        return impl

    return deco


def closest(name: str) -> str | None:
    """The registered function name closest to *name* (for "did you mean")."""
    match = difflib.get_close_matches(name, list(REGISTRY), n=1, cutoff=0.6)
    if match:
        return match[0]
    lowered = {k.lower(): k for k in REGISTRY}
    return lowered.get(name.lower())
