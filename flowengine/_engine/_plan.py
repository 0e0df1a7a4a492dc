"""The plan: a validated flow as plain data, ready to instantiate.

Validation (:func:`flowengine._flow._validation.plan_flow`) produces a :class:`Plan`; the
engine (:class:`flowengine._engine._runtime.FlowRuntime`) runs one. Both depend on this module and
neither on the other, so the engine can be built from a plan that did not come from a
YAML file (``flowengine.testing.TestRunner`` builds one for a single processor).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._api._relationship import Relationship
from .._api._schedule import Schedule
from ._retry import RetryPolicy

__all__ = ["Plan", "PlannedComponent", "PlannedConnection", "PlannedNode"]


@dataclass
class PlannedComponent:
    id: str
    name: str
    group: str
    cls: type[Any]
    declared: dict[str, str | None]
    dynamic: dict[str, str]
    sensitive_dynamic: set[str] = field(default_factory=set)


@dataclass
class PlannedNode(PlannedComponent):
    kind: str = "processor"
    relationships: tuple[Relationship, ...] = ()
    auto_terminated: set[str] = field(default_factory=set)
    schedule: Schedule = field(default_factory=Schedule)
    retry: RetryPolicy | None = None


@dataclass
class PlannedConnection:
    id: str
    source: str
    relationships: tuple[str, ...]
    destination: str
    back_pressure_objects: int
    back_pressure_size: int
    expiration: float
    prioritizers: tuple[str, ...]
    name: str | None


@dataclass
class Plan:
    """A validated flow, ready to instantiate."""

    name: str
    nodes: dict[str, PlannedNode]
    connections: list[PlannedConnection]
    services: dict[str, PlannedComponent]
    service_order: list[str]
    groups: list[str]
    root_input_ports: list[str]
    root_output_ports: list[str]
