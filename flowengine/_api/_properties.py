"""Declarations of what a component accepts: properties, allowable values, validators.

One :class:`PropertyDescriptor` declaration drives validation, the flow JSON Schema,
``flowengine describe`` and the generated processor reference, so it carries everything a
user needs to know about a property (NiFi's PropertyDescriptor, §3.6 of the semantics notes).
"""

from __future__ import annotations

import codecs
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._units import parse_data_size, parse_duration

__all__ = [
    "ALLOWABLE_BOOLEANS",
    "AllowableValue",
    "ExpressionLanguageScope",
    "PropertyDescriptor",
    "Validator",
    "choices",
    "validators",
]


class ExpressionLanguageScope(enum.Enum):
    """Where a property's Expression Language is evaluated (NiFi's scopes)."""

    NONE = "none"
    """``${...}`` is not supported; validation rejects it."""
    ENVIRONMENT = "environment"
    """Evaluated once, seeing only environment variables."""
    FLOWFILE_ATTRIBUTES = "flowfile"
    """Evaluated per FlowFile, seeing its attributes."""


@dataclass(frozen=True)
class AllowableValue:
    """One permitted value; users may write the value or its NiFi display name."""

    value: str
    display_name: str | None = None
    description: str = ""

    @property
    def label(self) -> str:
        return self.display_name or self.value


def choices(*values: str) -> tuple[AllowableValue, ...]:
    """Allowable values from plain strings (no display names or descriptions)."""
    return tuple(AllowableValue(v) for v in values)


ALLOWABLE_BOOLEANS: tuple[AllowableValue, ...] = choices("true", "false")
"""The allowable values of a NiFi boolean property: ``true`` and ``false``."""


@dataclass(frozen=True)
class Validator:
    """A check of a raw property value: returns an error message, or None when valid."""

    name: str
    check: Callable[[str], str | None]

    def __call__(self, value: str) -> str | None:
        return self.check(value)


def _try(conv: Callable[[str], Any], what: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        try:
            conv(value)
        except (ValueError, TypeError) as exc:
            msg = str(exc)
            return msg if msg and what in msg else f"{value!r} is not {what}"
        return None

    return check


def _int_range(lo: int | None, hi: int | None) -> Validator:
    def check(value: str) -> str | None:
        try:
            n = int(value.strip())
        except ValueError:
            return f"{value!r} is not an integer"
        if lo is not None and n < lo:
            return f"{n} is less than the minimum {lo}"
        if hi is not None and n > hi:
            return f"{n} is greater than the maximum {hi}"
        return None

    desc = f"integer in [{'' if lo is None else lo}, {'' if hi is None else hi}]"
    return Validator(desc, check)


def _regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {value!r}: {exc}") from None


def _boolean(value: str) -> None:
    if value.strip().lower() not in ("true", "false"):
        raise ValueError(f"{value!r} is not a boolean (true or false)")


def _charset(value: str) -> None:
    try:
        codecs.lookup(value)
    except LookupError:
        raise ValueError(f"unknown character set {value!r}") from None


def _non_empty(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


# RFC 9110 section 5.6.2: token = 1*tchar; tchar = "!" / "#" / "$" / "%" / "&" / "'" /
# "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def _http_token(value: str) -> str | None:
    if _TOKEN.match(value):
        return None
    bad = sorted({c for c in value if not _TOKEN.match(c)})
    shown = ", ".join(repr(c) for c in bad) if bad else "nothing"
    return (
        f"{value!r} is not a valid HTTP header name (RFC 9110 token): "
        f"it contains {shown}"
    )


class validators:
    """Standard validators (NiFi's ``StandardValidators``)."""

    NON_EMPTY = Validator("non-empty string", _non_empty)
    INTEGER = _int_range(None, None)
    POSITIVE_INTEGER = _int_range(1, None)
    NON_NEGATIVE_INTEGER = _int_range(0, None)
    PORT = _int_range(1, 65535)
    BOOLEAN = Validator("boolean", _try(_boolean, "boolean"))
    TIME_PERIOD = Validator("time period", _try(parse_duration, "time period"))
    DATA_SIZE = Validator("data size", _try(parse_data_size, "data size"))
    REGEX = Validator("regular expression", _try(_regex, "regular expression"))
    CHARACTER_SET = Validator("character set", _try(_charset, "character set"))
    NUMBER = Validator("number", _try(float, "number"))
    #: an RFC 9110 token: what an HTTP header (field) name must be
    HTTP_HEADER_NAME = Validator("HTTP header name", _http_token)

    @staticmethod
    def integer_range(lo: int | None = None, hi: int | None = None) -> Validator:
        return _int_range(lo, hi)


_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class PropertyDescriptor:
    """Declares one property of a processor or controller service.

    Attributes:
        name: the snake_case key used in flow files (``object_key``).
        description: what the property does, for users (shown by ``describe``).
        display_name: NiFi's display name (``Object Key``), accepted as an alias.
        aliases: further names accepted for the property: NiFi's API name where it
            differs from the display name (``use-filename-in-detection``), legacy
            names. Only ``name`` is shown as canonical; setting one property under
            two of its names is an error.
        default: value used when unset (must be an allowable value if those exist).
        required: the component is invalid without a value (default counts).
        sensitive: never logged, shown or written to provenance; needs a sensitive
            parameter when parameters are used.
        allowable_values: the permitted values (value or display name accepted).
        validators: checks of the raw value; the first failure is reported.
        expression_language: where ``${...}`` is evaluated, if at all.
        service: the controller-service interface (a class) the value must name.
        dynamic: set by the framework for user-added (dynamic) properties.
        depends_on: ``(property name, allowed values)``; the property only applies
            (is validated, required) when the other one has one of these values, or is
            set at all if the tuple of values is empty.
    """

    name: str
    description: str = ""
    display_name: str | None = None
    default: str | None = None
    required: bool = False
    sensitive: bool = False
    allowable_values: tuple[AllowableValue, ...] = ()
    validators: tuple[Validator, ...] = ()
    expression_language: ExpressionLanguageScope = ExpressionLanguageScope.NONE
    service: type | None = None
    dynamic: bool = False
    depends_on: tuple[str, tuple[str, ...]] | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.dynamic and not _SNAKE.match(self.name):
            raise ValueError(f"property name {self.name!r} must be snake_case")
        if isinstance(self.aliases, str):  # a single alias is fine too
            object.__setattr__(self, "aliases", (self.aliases,))
        else:
            object.__setattr__(self, "aliases", tuple(self.aliases))
        if self.default is not None and not isinstance(self.default, str):
            object.__setattr__(self, "default", to_text(self.default))
        avs = tuple(
            a if isinstance(a, AllowableValue) else AllowableValue(str(a))
            for a in self.allowable_values
        )
        object.__setattr__(self, "allowable_values", avs)
        if isinstance(self.validators, Validator):  # a single validator is fine too
            object.__setattr__(self, "validators", (self.validators,))
        else:
            object.__setattr__(self, "validators", tuple(self.validators))
        if avs and self.default is not None and self.normalize(self.default) is None:
            raise ValueError(
                f"default {self.default!r} of {self.name!r} is not an allowable value"
            )

    @property
    def label(self) -> str:
        """The NiFi display name, or a title made from the snake_case name."""
        return self.display_name or self.name.replace("_", " ").title()

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the property is accepted under: canonical first, no repeats."""
        out = [self.name]
        for n in (self.display_name, *self.aliases):
            if n and n not in out:
                out.append(n)
        return tuple(out)

    @property
    def supports_expressions(self) -> bool:
        return self.expression_language is not ExpressionLanguageScope.NONE

    def normalize(self, value: str) -> str | None:
        """Map a value or display name to the allowable value; None if not allowed."""
        if not self.allowable_values:
            return value
        for av in self.allowable_values:
            if value == av.value:
                return av.value
        for av in self.allowable_values:
            if av.display_name is not None and value == av.display_name:
                return av.value
        low = value.lower()
        for av in self.allowable_values:
            if low in (av.value.lower(), (av.display_name or "").lower()):
                return av.value
        return None


def to_text(value: Any) -> str:
    """Text form of a YAML scalar: booleans as NiFi spells them (``true``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
