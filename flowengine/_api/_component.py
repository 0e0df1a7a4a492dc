"""What processors and controller services have in common: declared properties.

:class:`ConfigurableComponent` collects the :class:`PropertyDescriptor` class attributes of a
component class (in definition order, base classes first) into :attr:`property_descriptors`,
and validates a raw configuration against them, collecting every problem (NiFi's
``AbstractConfigurableComponent.validate``): unknown names with a did-you-mean, required
values, allowable values, validators, dependencies, expression-language support.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ._properties import ExpressionLanguageScope, PropertyDescriptor, Validator

__all__ = ["ConfigurableComponent", "DynamicProperties", "Problem"]


@dataclass(frozen=True)
class DynamicProperties:
    """Declares that a component accepts user-named (dynamic) properties.

    Attributes:
        description: what a dynamic property does (``describe`` shows it).
        name: what the property name means (e.g. "An attribute name").
        value: what the value means (e.g. "The value to set it to").
        expression_language: scope in which values are evaluated.
        sensitive: dynamic properties may be marked sensitive.
        value_validators: checks of each literal value (no Expression Language) at
            validation, each returning an error message or None; reported at the value
            (QueryRecord parses its SQL, so a typo is reported before start instead of
            failing every FlowFile).
        name_validators: checks of each dynamic property's *name*, run at validation
            (a name that becomes a protocol field, such as an HTTP header, must be
            valid there: sent anyway, it can corrupt the request).
    """

    description: str
    name: str = "A name"
    value: str = "A value"
    expression_language: ExpressionLanguageScope = ExpressionLanguageScope.NONE
    sensitive: bool = False
    value_validators: tuple[Callable[[str], str | None], ...] = ()
    name_validators: tuple[Validator, ...] = ()

    def descriptor(self, name: str) -> PropertyDescriptor:
        return PropertyDescriptor(
            name=name,
            description=self.description,
            expression_language=self.expression_language,
            dynamic=True,
        )


@dataclass(frozen=True)
class Problem:
    """One validation problem; ``key`` names the property (None: the component)."""

    key: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message


def did_you_mean(word: str, choices: Any) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    options = [str(c) for c in choices]
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        low = {o.lower(): o for o in options}
        close = [low[word.lower()]] if word.lower() in low else []
    if not close:
        normalized = {o.replace(" ", "_").lower(): o for o in options}
        key = word.replace(" ", "_").lower()
        close = [normalized[key]] if key in normalized else []
    return f" (did you mean {close[0]!r}?)" if close else ""


class ConfigurableComponent:
    """Base of processors and controller services: declared properties and validation."""

    #: every declared property, in declaration order (filled in by ``__init_subclass__``)
    property_descriptors: ClassVar[tuple[PropertyDescriptor, ...]] = ()
    #: user-named properties, if supported
    dynamic_properties: ClassVar[DynamicProperties | None] = None
    #: one-line-or-more description; defaults to the class docstring
    description: ClassVar[str] = ""
    tags: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        seen: dict[str, PropertyDescriptor] = {}
        for klass in reversed(cls.__mro__):
            for value in vars(klass).values():
                if isinstance(value, PropertyDescriptor):
                    seen[value.name] = value
        cls.property_descriptors = tuple(seen.values())
        if not cls.__dict__.get("description"):
            cls.description = inspect.cleandoc(cls.__doc__ or "").strip()

    @classmethod
    def type_name(cls) -> str:
        """The name users write in ``type:``."""
        return cls.__name__

    @classmethod
    def summary(cls) -> str:
        """First paragraph of the description."""
        return cls.description.split("\n\n", 1)[0].replace("\n", " ").strip()

    @classmethod
    def descriptor(cls, key: str) -> PropertyDescriptor | None:
        """The declared property named ``key`` (any of its names, see ``names``)."""
        for d in cls.property_descriptors:
            if key in d.names:
                return d
        return None

    @classmethod
    def resolve_property_names(
        cls, raw: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any], list[Problem]]:
        """Split raw keys into declared (canonical names) and dynamic properties.

        Returns ``(declared, dynamic, problems)``; unknown names are problems unless the
        component supports dynamic properties.
        """
        declared: dict[str, Any] = {}
        dynamic: dict[str, Any] = {}
        problems: list[Problem] = []
        used: dict[str, str] = {}  # canonical name -> the key it was given under
        for key, value in raw.items():
            d = cls.descriptor(key)
            if d is not None:
                if d.name in declared:
                    problems.append(
                        Problem(
                            key,
                            f"{d.name!r} given twice (also as {used[d.name]!r}); "
                            "set it under one name",
                        )
                    )
                used[d.name] = key
                declared[d.name] = value
            elif cls.dynamic_properties is not None:
                dynamic[key] = value
            else:
                names = [n for p in cls.property_descriptors for n in p.names]
                hint = did_you_mean(key, names)
                problems.append(
                    Problem(
                        key, f"unknown property {key!r} for {cls.type_name()}{hint}"
                    )
                )
        return declared, dynamic, problems

    @classmethod
    def dependency_satisfied(
        cls, desc: PropertyDescriptor, values: Mapping[str, str | None]
    ) -> bool:
        """NiFi ``dependsOn``: chains through the property depended on."""
        if desc.depends_on is None:
            return True
        other_name, allowed = desc.depends_on
        other = cls.descriptor(other_name)
        if other is not None and not cls.dependency_satisfied(other, values):
            return False
        value = values.get(other_name)
        if value is None:
            return False
        return not allowed or value in allowed
