"""The flow as data: processors, connections, services, groups, ports, parameters.

This is what the YAML loader produces and what Python code builds directly
(:meth:`ProcessGroup.add_processor`, :meth:`ProcessGroup.connect`...). It holds raw
configuration plus, when loaded from a file, the ``file:line:col`` of every key so that
validation can point at the exact spot. Validation (:mod:`flowengine._flow._validation`) turns it
into problems or into a runtime (:mod:`flowengine._engine._runtime`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ConnectionDef",
    "Location",
    "Parameter",
    "ProcessGroup",
    "ProcessorDef",
    "ServiceDef",
]


@dataclass(frozen=True)
class Location:
    """A place in a flow file (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass
class Parameter:
    """A flow parameter (``#{name}``). ``env`` names an environment variable to read."""

    value: str | None = None
    sensitive: bool = False
    env: str | None = None
    location: Location | None = None


@dataclass
class ProcessorDef:
    """One configured processor."""

    name: str
    type: str | type
    properties: dict[str, Any] = field(default_factory=dict)
    schedule: dict[str, Any] = field(default_factory=dict)
    auto_terminate: list[str] = field(default_factory=list)
    comment: str = ""
    locations: dict[str, Location] = field(default_factory=dict)
    #: relationship retry (see :mod:`flowengine._engine._retry`): ``relationships``, ``count``,
    #: ``backoff``, ``max_backoff``; None when nothing is retried
    retry: dict[str, Any] | None = None
    #: user-named properties given explicitly as such (``dynamic_properties:``): never
    #: taken for a misspelling of a declared property
    dynamic_properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class ServiceDef:
    """One configured controller service."""

    name: str
    type: str | type
    properties: dict[str, Any] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    #: user-named properties given explicitly as such (``dynamic_properties:``): never
    #: taken for a misspelling of a declared property
    dynamic_properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class ConnectionDef:
    """A connection from ``source``'s relationships to ``destination``.

    Endpoints are names in the group: a processor, a funnel, one of the group's own ports,
    or ``child.port`` for a port of a child group. ``relationships=None`` means the
    default: ``success`` from a processor, the only output of a port or funnel.
    """

    source: str
    destination: str
    relationships: list[str] | None = None
    back_pressure_objects: int | None = None
    back_pressure_size: int | str | None = None
    expiration: float | str | None = None
    prioritizers: list[str] = field(default_factory=list)
    name: str | None = None
    locations: dict[str, Location] = field(default_factory=dict)


class ProcessGroup:
    """A group of components with its own ports, services and parameters.

    Build flows in Python with the ``add_*`` methods and :meth:`connect`; names are unique
    within a group across processors, ports, funnels and child groups.
    """

    def __init__(
        self, name: str, *, parameters: Mapping[str, Any] | None = None
    ) -> None:
        self.name = name
        self.parameters: dict[str, Parameter] = {}
        self.processors: dict[str, ProcessorDef] = {}
        self.services: dict[str, ServiceDef] = {}
        self.connections: list[ConnectionDef] = []
        self.groups: dict[str, ProcessGroup] = {}
        self.input_ports: list[str] = []
        self.output_ports: list[str] = []
        self.funnels: list[str] = []
        self.locations: dict[str, Location] = {}
        self.source_file: str | None = None
        for k, v in (parameters or {}).items():
            self.set_parameter(k, v)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    # -- building ----------------------------------------------------------------------
    def set_parameter(self, name: str, value: Any, *, sensitive: bool = False) -> None:
        """Define ``#{name}``; ``value`` may be a :class:`Parameter`."""
        if isinstance(value, Parameter):
            self.parameters[name] = value
        else:
            self.parameters[name] = Parameter(
                None if value is None else str(value), sensitive
            )

    def add_processor(
        self,
        name: str,
        type: str | type,
        properties: Mapping[str, Any] | None = None,
        *,
        schedule: Mapping[str, Any] | None = None,
        auto_terminate: Sequence[str] = (),
        retry: Mapping[str, Any] | Sequence[str] | None = None,
        dynamic_properties: Mapping[str, Any] | None = None,
    ) -> ProcessorDef:
        """Add a processor by type name, ``module:Class`` or class.

        ``dynamic_properties`` are user-named properties said to be such: a name in
        ``properties`` that is close to a declared property's is rejected as a likely
        misspelling, one here never is.

        ``retry`` retries relationships instead of routing to them at once (NiFi's
        "Automatically Retry"): a list of relationship names, or a mapping with
        ``relationships``, ``count`` (10), ``backoff`` (``penalize`` or ``yield``) and
        ``max_backoff`` (``10 mins``).
        """
        if retry is not None and not isinstance(retry, Mapping):
            retry = {"relationships": list(retry)}
        p = ProcessorDef(
            name,
            type,
            dict(properties or {}),
            dict(schedule or {}),
            list(auto_terminate),
            retry=dict(retry) if retry is not None else None,
            dynamic_properties=dict(dynamic_properties or {}),
        )
        self.processors[name] = p
        return p

    def add_service(
        self,
        name: str,
        type: str | type,
        properties: Mapping[str, Any] | None = None,
        *,
        dynamic_properties: Mapping[str, Any] | None = None,
    ) -> ServiceDef:
        """Add a controller service; ``dynamic_properties`` as for :meth:`add_processor`."""
        s = ServiceDef(
            name,
            type,
            dict(properties or {}),
            dynamic_properties=dict(dynamic_properties or {}),
        )
        self.services[name] = s
        return s

    def add_group(self, name: str, group: ProcessGroup | None = None) -> ProcessGroup:
        """Add a child group (a new empty one unless given)."""
        g = group if group is not None else ProcessGroup(name)
        g.name = name
        self.groups[name] = g
        return g

    def add_input_port(self, name: str) -> None:
        self.input_ports.append(name)

    def add_output_port(self, name: str) -> None:
        self.output_ports.append(name)

    def add_funnel(self, name: str) -> None:
        self.funnels.append(name)

    def connect(
        self,
        source: str,
        destination: str,
        relationships: Sequence[str] | str | None = None,
        *,
        back_pressure_objects: int | None = None,
        back_pressure_size: int | str | None = None,
        expiration: float | str | None = None,
        prioritizers: Sequence[str] = (),
        name: str | None = None,
    ) -> ConnectionDef:
        """Connect ``source`` (its ``relationships``) to ``destination``."""
        rels = [relationships] if isinstance(relationships, str) else relationships
        c = ConnectionDef(
            source,
            destination,
            None if rels is None else list(rels),
            back_pressure_objects,
            back_pressure_size,
            expiration,
            list(prioritizers),
            name,
        )
        self.connections.append(c)
        return c

    # -- walking -----------------------------------------------------------------------
    def walk(self, path: str = "") -> Iterator[tuple[str, ProcessGroup]]:
        """(dotted path, group) for this group and every descendant, parents first."""
        yield path, self
        for name, g in self.groups.items():
            yield from g.walk(f"{path}.{name}" if path else name)

    def local_names(self) -> dict[str, str]:
        """Every name in this group's namespace → what it is."""
        out: dict[str, str] = {}
        for n in self.processors:
            out[n] = "processor"
        for n in self.input_ports:
            out[n] = "input port"
        for n in self.output_ports:
            out[n] = "output port"
        for n in self.funnels:
            out[n] = "funnel"
        for n in self.groups:
            out[n] = "group"
        return out
