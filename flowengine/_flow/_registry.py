"""Finding component types by name: built-ins and plugins, loaded lazily.

Types come from the entry-point groups ``flowengine.processors`` and
``flowengine.controller_services`` (the built-ins register themselves there too), or from a
``package.module:ClassName`` reference. Nothing is imported until asked for; a plugin that
fails to import is reported with its package name and does not affect the others.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from .._api._component import did_you_mean
from .._errors import PluginError
from ._nifi_types import NIFI_TYPES, nifi_kind

__all__ = ["Registry", "default_registry"]

PROCESSOR_GROUP = "flowengine.processors"
SERVICE_GROUP = "flowengine.controller_services"


@dataclass
class _Entry:
    name: str
    target: str  # module:attr
    distribution: str | None
    loaded: Any = None
    error: str | None = None


class Registry:
    """Component types by kind and name. ``clone()`` gives tests their own copy."""

    def __init__(self, *, discover: bool = True) -> None:
        self._entries: dict[str, dict[str, _Entry]] = {"processor": {}, "service": {}}
        self._discovered = not discover

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        for kind, group in (("processor", PROCESSOR_GROUP), ("service", SERVICE_GROUP)):
            for ep in entry_points(group=group):
                dist = ep.dist.name if ep.dist is not None else None
                self._entries[kind].setdefault(ep.name, _Entry(ep.name, ep.value, dist))

    def register(self, kind: str, cls: type[Any], name: str | None = None) -> None:
        """Add a class directly (tests, programmatic flows)."""
        n = name or cls.__name__
        self._entries[kind][n] = _Entry(
            n, f"{cls.__module__}:{cls.__qualname__}", None, cls
        )

    def clone(self) -> Registry:
        self._discover()
        other = Registry(discover=False)
        for kind, entries in self._entries.items():
            other._entries[kind] = {k: _Entry(**vars(e)) for k, e in entries.items()}
        return other

    def names(self, kind: str) -> list[str]:
        self._discover()
        return sorted(self._entries[kind])

    def resolve(self, kind: str, type_ref: str | type[Any]) -> type[Any]:
        """The class for ``type_ref``: a class, a registered name, or ``module:Class``.

        Raises PluginError with a did-you-mean or the import failure.
        """
        if isinstance(type_ref, type):
            return type_ref
        self._discover()
        entries = self._entries[kind]
        entry = entries.get(type_ref)
        if entry is None and ":" in type_ref:
            entry = _Entry(type_ref, type_ref, None)
            entries[type_ref] = entry
        if entry is None:
            raise PluginError(self._unknown(kind, type_ref))
        return self._load(entry)

    def _unknown(self, kind: str, type_ref: str) -> str:
        """Why ``type_ref`` does not resolve, with a suggestion only when it is true.

        A NiFi type flowengine lacks is named as such rather than "corrected" to an
        unrelated flowengine type; a type of the other kind says which kind it is.
        """
        what = {"processor": "processor", "service": "controller service"}
        msg = f"unknown {what[kind]} type {type_ref!r}"
        other = "service" if kind == "processor" else "processor"
        if type_ref in self._entries[other]:
            return f"{msg}: {type_ref!r} is a {what[other]}, not a {what[kind]}"
        nifi = nifi_kind(type_ref)
        if nifi is not None:
            name, nkind = nifi
            if name in self._entries[kind]:
                return f"{msg} (did you mean {name!r}?)"
            if nkind != kind:
                return f"{msg}: NiFi's {name} is a {what[nkind]}, not a {what[kind]}"
            return f"{msg}: NiFi's {name} is not available in flowengine yet"
        # The closest name over flowengine's and NiFi's types: a near miss of a NiFi
        # type flowengine lacks must not become a suggestion of an unrelated one.
        options = [
            *self._entries[kind],
            *(n for n, k in NIFI_TYPES.items() if k == kind),
        ]
        close = difflib.get_close_matches(type_ref, options, n=1, cutoff=0.6)
        if close and close[0] not in self._entries[kind]:
            return f"{msg}: the closest is NiFi's {close[0]}, which is not available in flowengine yet"
        return f"{msg}{did_you_mean(type_ref, self._entries[kind])}"

    def _load(self, entry: _Entry) -> type[Any]:
        if entry.loaded is not None:
            return entry.loaded  # type: ignore[no-any-return]
        if entry.error is not None:
            raise PluginError(entry.error)
        module_name, _, attr = entry.target.partition(":")
        origin = f" from package {entry.distribution!r}" if entry.distribution else ""
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split(".") if attr else []:
                obj = getattr(obj, part)
        except Exception as exc:
            entry.error = (
                f"type {entry.name!r}{origin} could not be loaded "
                f"({entry.target}): {type(exc).__name__}: {exc}"
            )
            raise PluginError(entry.error) from exc
        if not isinstance(obj, type):
            entry.error = f"{entry.target}{origin} is not a class"
            raise PluginError(entry.error)
        entry.loaded = obj
        return obj

    def iter_loaded(
        self, kind: str
    ) -> Iterator[tuple[str, type[Any] | None, str | None]]:
        """(name, class or None, error or None) for every registered type, loading each."""
        for name in self.names(kind):
            entry = self._entries[kind][name]
            try:
                yield name, self._load(entry), None
            except PluginError as exc:
                yield name, None, str(exc)


_default: Registry | None = None


def default_registry() -> Registry:
    global _default
    if _default is None:
        _default = Registry()
    return _default
