"""Validation: turn a flow definition into a checked plan, or into every problem it has.

Validation collects; it never stops at the first problem. Each problem carries the
``file:line:col`` of the offending key or value when the flow came from a file. Checks
mirror NiFi's validity rules (§3.5): properties (names, required, allowable values,
validators, Expression Language support and syntax, parameters, service references),
relationships connected or auto-terminated, input requirements, schedules, connection
endpoints (across groups only through ports), and cycles that nothing can ever enter.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import _flow_format as ff
from .._api._component import ConfigurableComponent, did_you_mean
from .._api._processor import InputRequirement, Processor
from .._api._properties import ExpressionLanguageScope, PropertyDescriptor, to_text
from .._api._relationship import Relationship
from .._api._schedule import Schedule
from .._api._service import ControllerService
from .._engine._connection import (
    DEFAULT_BACK_PRESSURE_OBJECTS,
    DEFAULT_BACK_PRESSURE_SIZE,
)
from .._engine._plan import Plan, PlannedComponent, PlannedConnection, PlannedNode
from .._engine._prioritizers import PRIORITIZERS, resolve_prioritizer
from .._engine._retry import RetryPolicy
from .._errors import PluginError
from .._units import parse_data_size, parse_duration
from ._definition import ConnectionDef, Location, Parameter, ProcessGroup, ProcessorDef
from ._registry import Registry

__all__ = ["FlowProblem", "plan_flow"]

PORT_RELATIONSHIP = "success"


@dataclass(frozen=True)
class FlowProblem:
    """One thing wrong with a flow, located when possible."""

    location: Location | None
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _loc(locs: Mapping[str, Location], *keys: str) -> Location | None:
    for k in keys:
        if k in locs:
            return locs[k]
    return locs.get("")


class _Planner:
    def __init__(
        self, flow: ProcessGroup, registry: Registry, overrides: Mapping[str, str]
    ) -> None:
        self.flow = flow
        self.registry = registry
        self.overrides = dict(overrides)
        self.problems: list[FlowProblem] = []
        self.nodes: dict[str, PlannedNode] = {}
        self.services: dict[str, PlannedComponent] = {}
        self.service_defs: dict[str, tuple[str, Any]] = {}
        self.service_deps: dict[str, list[str]] = {}
        self.connections: list[PlannedConnection] = []
        self.params_by_group: dict[str, dict[str, Parameter]] = {}
        #: components whose own configuration failed, or that lost a connection to a
        #: problem: graph checks on them would only repeat the same mistake
        self.tainted: set[str] = set()
        #: connections touching a processor whose type did not resolve: what they connect
        #: on the other, good side (relationships out of a node, an input into a node)
        self.unresolved_out: dict[str, set[str]] = {}
        self.unresolved_in: set[str] = set()

    def problem(self, loc: Location | None, msg: str) -> None:
        self.problems.append(FlowProblem(loc, msg))

    # -- parameters ----------------------------------------------------------------------
    def effective_parameters(
        self, path: str, group: ProcessGroup
    ) -> dict[str, Parameter]:
        parent = path.rpartition(".")[0] if "." in path else ("" if path else None)
        base = dict(self.params_by_group.get(parent, {})) if parent is not None else {}
        base.update(group.parameters)
        if not path:
            for k, v in self.overrides.items():
                old = base.get(k)
                base[k] = Parameter(v, old.sensitive if old else False)
        self.params_by_group[path] = base
        return base

    def substitute(
        self,
        text: str,
        params: Mapping[str, Parameter],
        loc: Location | None,
        what: str,
        sensitive_target: bool,
    ) -> str | None:
        from .. import expression

        refs = expression.parameter_references(text)
        if not refs:
            return text
        ok = True
        for name, start, _end in refs:
            p = params.get(name)
            where = _shift(loc, start)
            if p is None:
                self.problem(
                    where,
                    f"{what}: parameter #{{{name}}} is not defined{did_you_mean(name, params)}",
                )
                ok = False
                continue
            if p.sensitive and not sensitive_target:
                self.problem(
                    where,
                    f"{what}: sensitive parameter #{{{name}}} cannot be used in a non-sensitive property",
                )
                ok = False
            if not p.sensitive and sensitive_target:
                self.problem(
                    where,
                    f"{what}: a sensitive property can only reference sensitive parameters (#{{{name}}} is not sensitive)",
                )
                ok = False
            if _param_value(p) is None:
                env = f" (environment variable {p.env} is not set)" if p.env else ""
                self.problem(where, f"{what}: parameter #{{{name}}} has no value{env}")
                ok = False
        if (
            sensitive_target
            and ok
            and (len(refs) != 1 or refs[0][1] != 0 or refs[0][2] != len(text))
        ):
            self.problem(
                loc,
                f"{what}: a sensitive property must be exactly one parameter reference, like #{{secret}}",
            )
            ok = False
        if not ok:
            return None
        try:
            return expression.substitute_parameters(
                text, lambda n: _param_value(params[n]) if n in params else None
            )
        except expression.ExpressionError as exc:
            self.problem(_shift(loc, exc.position), f"{what}: {exc}")
            return None

    # -- components ----------------------------------------------------------------------
    def resolve_type(
        self, kind: str, type_ref: str | type, loc: Location | None, what: str
    ) -> type[Any] | None:
        try:
            cls = self.registry.resolve(kind, type_ref)
        except PluginError as exc:
            self.problem(loc, f"{what}: {exc}")
            return None
        base = Processor if kind == "processor" else ControllerService
        if not (isinstance(cls, type) and issubclass(cls, base)):
            self.problem(loc, f"{what}: {type_ref!r} is not a {base.__name__} subclass")
            return None
        return cls

    def resolve_properties(
        self,
        cls: type[ConfigurableComponent],
        raw: Mapping[str, Any],
        locs: Mapping[str, Location],
        params: Mapping[str, Parameter],
        what: str,
        group: str,
        service_refs: list[tuple[str, PropertyDescriptor, Location | None]],
        explicit_dynamic: Mapping[str, Any] | None = None,
    ) -> tuple[dict[str, str | None], dict[str, str]]:
        from .. import expression

        declared_raw, dynamic_raw, problems = cls.resolve_property_names(raw)
        for p in problems:
            self.problem(
                _loc(locs, f"properties.{p.key}", "properties"), f"{what}: {p.message}"
            )
        suspect: set[str] = (
            set()
        )  # likely typos: their values are not judged as dynamic
        for key in dynamic_raw:
            near = _near_declared(cls, key)
            if near is not None:
                suspect.add(key)
                self.problem(
                    _loc(locs, f"properties.{key}", "properties"),
                    f"{what}: unknown property {key!r} (did you mean {near!r}?); if it is meant as a dynamic property, put it under dynamic_properties",
                )
        for key, given_value in (explicit_dynamic or {}).items():
            kloc = _loc(locs, f"properties.{key}", "dynamic_properties")
            d = cls.descriptor(key)
            if cls.dynamic_properties is None:
                self.problem(
                    kloc,
                    f"{what}: {cls.type_name()} does not take dynamic properties ({key!r})",
                )
            elif d is not None:
                self.problem(
                    kloc,
                    f"{what}: {key!r} is the declared property {d.name!r}: put it under properties",
                )
            elif key in raw:
                self.problem(
                    kloc,
                    f"{what}: {key!r} is given both in properties and in dynamic_properties",
                )
            else:
                dynamic_raw[key] = given_value
        values: dict[str, str | None] = {}
        keys_by_name = {}
        for key in raw:
            d = cls.descriptor(key)
            if d is not None:
                keys_by_name[d.name] = key
        for d in cls.property_descriptors:
            key = keys_by_name.get(d.name, d.name)
            _loc(locs, f"properties.{key}", "properties")
            vloc = _loc(locs, f"properties.{key}=", f"properties.{key}", "properties")
            pwhat = f"{what}: property {d.name!r}"
            given = declared_raw.get(d.name)
            value: str | None
            if given is None:
                value = d.default
            else:
                value = self.substitute(
                    to_text(given), params, vloc, pwhat, d.sensitive
                )
                if value is None:
                    values[d.name] = None
                    continue
            values[d.name] = value
        for d in cls.property_descriptors:
            key = keys_by_name.get(d.name, d.name)
            vloc = _loc(locs, f"properties.{key}=", f"properties.{key}", "properties")
            pwhat = f"{what}: property {d.name!r}"
            value = values.get(d.name)
            if not cls.dependency_satisfied(d, values):
                continue
            if value is None:
                if d.required and d.name not in declared_raw:
                    self.problem(
                        _loc(locs, "properties", ""), f"{pwhat} is required{_hint(d)}"
                    )
                continue
            if d.allowable_values:
                norm = d.normalize(value)
                if norm is None:
                    values[d.name] = (
                        d.default
                    )  # judge the rest as if it were the default
                    allowed = ", ".join(repr(a.value) for a in d.allowable_values)
                    self.problem(
                        vloc,
                        f"{pwhat}: {value!r} is not one of {allowed}{did_you_mean(value, [a.value for a in d.allowable_values] + [a.display_name for a in d.allowable_values if a.display_name])}",
                    )
                    continue
                values[d.name] = value = norm
            has_el = "${" in value
            if has_el and d.expression_language is ExpressionLanguageScope.NONE:
                self.problem(vloc, f"{pwhat} does not support Expression Language")
                continue
            if has_el:
                try:
                    expr = expression.compile(value)
                except expression.ExpressionError as exc:
                    self.problem(_shift(vloc, exc.position), f"{pwhat}: {exc}")
                    continue
                if not expr.is_literal:
                    continue  # validators see the raw value only when it is literal
                value = expr.literal_value or ""
            if d.service is not None:
                service_refs.append((value, d, vloc))
                continue
            for v in d.validators:
                err = v(value)
                if err:
                    self.problem(vloc, f"{pwhat}: {err}")
                    break
        dyn: dict[str, str] = {}
        spec = cls.dynamic_properties
        for key, raw_value in dynamic_raw.items():
            vloc = _loc(locs, f"properties.{key}=", f"properties.{key}", "properties")
            pwhat = f"{what}: dynamic property {key!r}"
            for check in spec.name_validators if spec is not None else ():
                if err := check(key):
                    kloc = _loc(locs, f"properties.{key}", "properties")
                    self.problem(kloc, f"{pwhat}: {err}")
                    break
            # A bad value still names its property: relationships made from dynamic
            # properties (RouteOnAttribute) must exist, or every connection from them
            # would repeat the mistake. (With a problem the plan is never used.)
            dyn[key] = to_text(raw_value)
            if key in suspect:
                continue
            value = self.substitute(to_text(raw_value), params, vloc, pwhat, False)
            if value is None:
                continue
            if spec is not None and "${" in value:
                if spec.expression_language is ExpressionLanguageScope.NONE:
                    self.problem(vloc, f"{pwhat} does not support Expression Language")
                    continue
                try:
                    expression.compile(value)
                except expression.ExpressionError as exc:
                    self.problem(_shift(vloc, exc.position), f"{pwhat}: {exc}")
                    continue
            if spec is not None and "${" not in value:
                for check_value in spec.value_validators:
                    err = check_value(value)
                    if err:
                        self.problem(vloc, f"{pwhat}: {err}")
                        break
            dyn[key] = value
        return values, dyn

    # -- services ------------------------------------------------------------------------
    def plan_services(
        self, path: str, group: ProcessGroup, params: Mapping[str, Parameter]
    ) -> None:
        for name, sdef in group.services.items():
            sid = _join(path, name)
            what = f"service {sid!r}"
            cls = self.resolve_type(
                "service", sdef.type, _loc(sdef.locations, "type"), what
            )
            if cls is None:
                continue
            refs: list[tuple[str, PropertyDescriptor, Location | None]] = []
            declared, dynamic = self.resolve_properties(
                cls,
                sdef.properties,
                sdef.locations,
                params,
                what,
                path,
                refs,
                sdef.dynamic_properties,
            )
            self.services[sid] = PlannedComponent(
                sid, name, path, cls, declared, dynamic
            )
            self.service_defs[sid] = (path, refs)

    def find_service(self, group: str, name: str) -> str | None:
        """Service id visible from ``group`` (defined there or in an ancestor)."""
        path = group
        while True:
            sid = _join(path, name)
            if sid in self.services:
                return sid
            if not path:
                return None
            path = path.rpartition(".")[0]

    def check_service_ref(
        self,
        group: str,
        value: str,
        d: PropertyDescriptor,
        loc: Location | None,
        what: str,
    ) -> str | None:
        sid = self.find_service(group, value)
        if sid is None:
            visible = [
                s.name
                for s in self.services.values()
                if group == s.group or group.startswith(s.group + ".") or not s.group
            ]
            self.problem(
                loc,
                f"{what}: property {d.name!r}: no controller service named {value!r} is visible here{did_you_mean(value, visible)}",
            )
            return None
        svc = self.services[sid]
        if d.service is not None and not issubclass(svc.cls, d.service):
            self.problem(
                loc,
                f"{what}: property {d.name!r}: service {value!r} is a {svc.cls.__name__}, which does not implement {d.service.__name__}",
            )
            return None
        return sid

    # -- processors ----------------------------------------------------------------------
    def plan_retry(
        self, pdef: ProcessorDef, rel_names: list[str], what: str
    ) -> RetryPolicy | None:
        """The processor's relationship retry, checked (see :mod:`flowengine._engine._retry`)."""
        raw = pdef.retry
        if raw is None:
            return None
        locs = pdef.locations
        kwargs: dict[str, Any] = {}
        for key, value in raw.items():
            loc = _loc(locs, f"retry.{key}", "retry")
            f = ff.RETRY.get(key)
            try:
                if f is None:
                    self.problem(
                        loc,
                        f"{what}: unknown retry setting {key!r}{did_you_mean(key, ff.RETRY.keys())}",
                    )
                elif key == "relationships":
                    names = [value] if isinstance(value, str) else list(value)
                    for i, r in enumerate(names):
                        if r not in rel_names:
                            self.problem(
                                _loc(locs, f"retry.relationships.{i}", f"retry.{key}"),
                                f"{what}: cannot retry unknown relationship {r!r}{did_you_mean(str(r), rel_names)}",
                            )
                    kwargs[key] = frozenset(str(r) for r in names)
                elif isinstance(f.kind, ff.Integer):
                    if isinstance(value, bool) or int(value) < (f.kind.minimum or 0):
                        raise ValueError(f"{value!r} is not a positive integer")
                    kwargs[key] = int(value)
                elif isinstance(f.kind, ff.Choice):
                    if value not in f.kind.values:
                        raise ValueError(
                            f"{value!r} is not one of {', '.join(f.kind.values)}"
                        )
                    kwargs[key] = value
                elif isinstance(f.kind, ff.Duration):
                    kwargs[key] = parse_duration(value)
            except (TypeError, ValueError) as exc:
                self.problem(loc, f"{what}: retry {key}: {exc}")
        if not kwargs.get("relationships"):
            self.problem(
                _loc(locs, "retry"), f"{what}: retry needs the relationships to retry"
            )
            return None
        return RetryPolicy(**kwargs)

    def plan_schedule(
        self, cls: type[Processor], pdef: ProcessorDef, what: str
    ) -> Schedule:
        merged: dict[str, Any] = dict(cls.default_schedule)
        merged.update(pdef.schedule)
        kwargs: dict[str, Any] = {}
        for key, raw in merged.items():
            loc = _loc(pdef.locations, f"schedule.{key}", "schedule")
            f = ff.SCHEDULE.get(key)
            try:
                if f is None:
                    self.problem(
                        loc,
                        f"{what}: unknown schedule setting {key!r}{did_you_mean(key, ff.SCHEDULE.keys())}",
                    )
                elif isinstance(f.kind, ff.Duration):
                    kwargs[key] = parse_duration(raw)
                elif isinstance(f.kind, ff.Integer):
                    if isinstance(raw, bool) or not isinstance(raw, int | str):
                        raise ValueError(f"{raw!r} is not an integer")
                    kwargs[key] = int(raw)
                else:  # strategy, cron: checked by Schedule and below
                    kwargs[key] = str(raw)
            except ValueError as exc:
                self.problem(loc, f"{what}: schedule {key}: {exc}")
        if "cron" in kwargs and "strategy" not in kwargs:
            kwargs["strategy"] = "cron"
        if kwargs.get("strategy") == "cron" and kwargs.get("cron"):
            try:
                _check_cron(kwargs["cron"])
            except ValueError as exc:
                self.problem(
                    _loc(pdef.locations, "schedule.cron", "schedule"),
                    f"{what}: schedule cron: {exc}",
                )
                kwargs.pop("cron")
                kwargs["strategy"] = "timer"
        if cls.trigger_serially:
            kwargs["concurrent_tasks"] = 1
        try:
            return Schedule(**kwargs)
        except (ValueError, TypeError) as exc:
            self.problem(_loc(pdef.locations, "schedule"), f"{what}: schedule: {exc}")
            return Schedule()

    def plan_group(self, path: str, group: ProcessGroup) -> None:
        params = self.effective_parameters(path, group)
        self.plan_services(path, group, params)
        seen: dict[str, str] = {}
        for kind, names in (
            ("processor", list(group.processors)),
            ("input port", group.input_ports),
            ("output port", group.output_ports),
            ("funnel", group.funnels),
            ("group", list(group.groups)),
        ):
            for n in names:
                if n in seen:
                    self.problem(
                        group.locations.get(f"name.{n}"),
                        f"group {path or 'root'!r}: {kind} {n!r} has the same name as a {seen[n]}",
                    )
                seen[n] = kind
                if "." in n:
                    self.problem(
                        group.locations.get(f"name.{n}"),
                        f"{kind} name {n!r} must not contain '.'",
                    )
        for name, pdef in group.processors.items():
            nid = _join(path, name)
            what = f"processor {nid!r}"
            cls = self.resolve_type(
                "processor", pdef.type, _loc(pdef.locations, "type"), what
            )
            if cls is None:
                self.tainted.add(nid)
                continue
            refs: list[tuple[str, PropertyDescriptor, Location | None]] = []
            before = len(self.problems)
            declared, dynamic = self.resolve_properties(
                cls,
                pdef.properties,
                pdef.locations,
                params,
                what,
                path,
                refs,
                pdef.dynamic_properties,
            )
            for value, d, loc in refs:
                self.check_service_ref(path, value, d, loc, what)
            if len(self.problems) != before:
                self.tainted.add(nid)
            rels = tuple(cls.relationships_for(declared, dynamic))
            rel_names = [r.name for r in rels]
            auto: set[str] = {r.name for r in rels if r.auto_terminate_default}
            for i, r in enumerate(pdef.auto_terminate):
                if r not in rel_names:
                    self.problem(
                        _loc(pdef.locations, f"auto_terminate.{i}", "auto_terminate"),
                        f"{what}: cannot auto-terminate unknown relationship {r!r}{did_you_mean(r, rel_names)}",
                    )
                auto.add(r)
            schedule = self.plan_schedule(cls, pdef, what)
            retry = self.plan_retry(pdef, rel_names, what)
            self.nodes[nid] = PlannedNode(
                nid,
                name,
                path,
                cls,
                declared,
                dynamic,
                kind="processor",
                relationships=rels,
                auto_terminated=auto,
                schedule=schedule,
                retry=retry,
            )
            self._locs[nid] = pdef.locations
        for kind, names in (
            ("input_port", group.input_ports),
            ("output_port", group.output_ports),
            ("funnel", group.funnels),
        ):
            for n in names:
                nid = _join(path, n)
                self.nodes[nid] = PlannedNode(
                    nid,
                    n,
                    path,
                    object,
                    {},
                    {},
                    kind=kind,
                    relationships=(Relationship(PORT_RELATIONSHIP),),
                    schedule=Schedule(batch_size=1000),
                )
        for child_name, child in group.groups.items():
            self.plan_group(_join(path, child_name), child)

    _locs: dict[str, dict[str, Location]]

    def endpoint(
        self, path: str, group: ProcessGroup, ref: str, role: str, loc: Location | None
    ) -> str | None:
        """Resolve a connection endpoint name to a node id, enforcing port rules."""
        names = group.local_names()
        if "." in ref:
            child, _, port = ref.partition(".")
            g = group.groups.get(child)
            if g is None:
                self.problem(
                    loc,
                    f"connection {role} {ref!r}: no child group {child!r}{did_you_mean(child, group.groups)}",
                )
                return None
            ports = g.input_ports if role == "destination" else g.output_ports
            if port not in ports:
                kind = "input" if role == "destination" else "output"
                other = g.output_ports if role == "destination" else g.input_ports
                extra = (
                    f" ({port!r} is an {'output' if role == 'destination' else 'input'} port)"
                    if port in other
                    else did_you_mean(port, ports)
                )
                self.problem(
                    loc,
                    f"connection {role} {ref!r}: group {child!r} has no {kind} port {port!r}{extra}",
                )
                return None
            return _join(_join(path, child), port)
        found = names.get(ref)
        if found is None:
            self.problem(
                loc,
                f"connection {role} {ref!r}: nothing named {ref!r} in group {path or 'root'!r}{did_you_mean(ref, names)}",
            )
            return None
        if found == "group":
            self.problem(
                loc,
                f"connection {role} {ref!r} is a group: connect to one of its ports, like {ref}.<port>",
            )
            return None
        if role == "source" and found == "output port":
            self.problem(
                loc,
                f"connection source {ref!r} is this group's output port: it can only receive",
            )
            return None
        if role == "destination" and found == "input port":
            self.problem(
                loc,
                f"connection destination {ref!r} is this group's input port: it can only send",
            )
            return None
        return _join(path, ref)

    def plan_connections(self, path: str, group: ProcessGroup) -> None:
        for i, c in enumerate(group.connections):
            self.plan_connection(path, group, i, c)
        for child_name, child in group.groups.items():
            self.plan_connections(_join(path, child_name), child)

    def plan_connection(
        self, path: str, group: ProcessGroup, index: int, c: ConnectionDef
    ) -> None:
        before = len(self.problems)
        self._plan_connection(path, group, c)
        # Only a connection that is itself wrong taints its endpoints (their graph checks
        # would repeat its mistake). A good connection to a component that failed its own
        # checks still connects the other end: tainting that too hid the other
        # processors' problems until the first was fixed (issue 23 item 8).
        if len(self.problems) != before:
            for ref in (c.source, c.destination):
                self.tainted.add(_join(path, ref))

    def _plan_connection(
        self, path: str, group: ProcessGroup, c: ConnectionDef
    ) -> None:
        loc = c.locations.get("")
        src = self.endpoint(
            path, group, c.source, "source", _loc(c.locations, "source")
        )
        dst = self.endpoint(
            path, group, c.destination, "destination", _loc(c.locations, "destination")
        )
        if src is None or dst is None:
            return
        snode = self.nodes.get(src)
        if snode is None:
            # The source's type did not resolve (already reported): it still feeds dst.
            self.unresolved_in.add(dst)
            return
        rel_names = [r.name for r in snode.relationships]
        rels = (
            c.relationships
            if c.relationships is not None
            else [PORT_RELATIONSHIP if snode.kind != "processor" else "success"]
        )
        if snode.kind != "processor" and c.relationships is not None:
            rels = [PORT_RELATIONSHIP]
        good = []
        for r in rels:
            if r not in rel_names:
                self.problem(
                    _loc(c.locations, "relationships", ""),
                    f"connection {c.source} -> {c.destination}: {c.source!r} has no relationship {r!r}{did_you_mean(r, rel_names)} (it has: {', '.join(rel_names) or 'none'})",
                )
            else:
                good.append(r)
        if not good:
            return
        if dst not in self.nodes:
            # The destination's type did not resolve (already reported): these
            # relationships are still connected as far as the source is concerned.
            self.unresolved_out.setdefault(src, set()).update(good)
            return
        try:
            bpo = (
                DEFAULT_BACK_PRESSURE_OBJECTS
                if c.back_pressure_objects is None
                else int(c.back_pressure_objects)
            )
            if bpo < 0:
                raise ValueError("must not be negative")
        except (TypeError, ValueError) as exc:
            self.problem(
                _loc(c.locations, "back_pressure.objects", ""),
                f"connection {c.source} -> {c.destination}: back_pressure objects: {exc}",
            )
            bpo = DEFAULT_BACK_PRESSURE_OBJECTS
        try:
            bps = (
                DEFAULT_BACK_PRESSURE_SIZE
                if c.back_pressure_size is None
                else parse_data_size(c.back_pressure_size)
            )
        except ValueError as exc:
            self.problem(
                _loc(c.locations, "back_pressure.size", ""),
                f"connection {c.source} -> {c.destination}: back_pressure size: {exc}",
            )
            bps = DEFAULT_BACK_PRESSURE_SIZE
        try:
            exp = 0.0 if c.expiration is None else parse_duration(c.expiration)
        except ValueError as exc:
            self.problem(
                _loc(c.locations, "expiration", ""),
                f"connection {c.source} -> {c.destination}: expiration: {exc}",
            )
            exp = 0.0
        prios = []
        for p in c.prioritizers:
            try:
                prios.append(resolve_prioritizer(p)[0])
            except KeyError:
                self.problem(
                    _loc(c.locations, "prioritizers", ""),
                    f"connection {c.source} -> {c.destination}: unknown prioritizer {p!r}{did_you_mean(p, PRIORITIZERS)}",
                )
        cid = f"{src}:{','.join(good)}->{dst}"
        if any(pc.id == cid for pc in self.connections):
            self.problem(
                loc,
                f"connection {c.source} -> {c.destination} ({', '.join(good)}) is defined twice",
            )
            return
        self.connections.append(
            PlannedConnection(
                cid, src, tuple(good), dst, bpo, bps, exp, tuple(prios), c.name
            )
        )

    # -- whole-graph checks ----------------------------------------------------------------
    def check_graph(self) -> None:
        incoming: dict[str, list[PlannedConnection]] = {n: [] for n in self.nodes}
        outgoing: dict[str, list[PlannedConnection]] = {n: [] for n in self.nodes}
        for c in self.connections:
            incoming[c.destination].append(c)
            outgoing[c.source].append(c)
        for nid, node in self.nodes.items():
            if node.kind != "processor" or nid in self.tainted:
                continue
            locs = self._locs.get(nid, {})
            what = f"processor {nid!r}"
            connected = {r for c in outgoing[nid] for r in c.relationships}
            connected |= self.unresolved_out.get(nid, set())
            for r in node.relationships:
                if r.name not in connected and r.name not in node.auto_terminated:
                    self.problem(
                        _loc(locs, ""),
                        f"{what}: relationship {r.name!r} is not connected to any component and is not auto-terminated (add it to auto_terminate or connect it)",
                    )
            # Connecting a relationship clears its auto-termination (NiFi).
            node.auto_terminated -= connected
            non_loop = [c for c in incoming[nid] if c.source != nid]
            fed = bool(non_loop) or nid in self.unresolved_in
            req = node.cls.input_requirement
            if req is InputRequirement.REQUIRED and not fed:
                self.problem(
                    _loc(locs, ""),
                    f"{what}: {node.cls.__name__} requires an incoming connection",
                )
            if req is InputRequirement.FORBIDDEN and fed:
                self.problem(
                    _loc(locs, ""),
                    f"{what}: {node.cls.__name__} does not accept incoming connections",
                )
            if node.schedule.strategy == "event" and not fed:
                self.problem(
                    _loc(locs, "schedule.strategy", "schedule"),
                    f"{what}: the event strategy needs an incoming connection (a source has nothing to wake it)",
                )
        self.check_cycles(incoming, outgoing)

    def check_cycles(
        self,
        incoming: dict[str, list[PlannedConnection]],
        outgoing: dict[str, list[PlannedConnection]],
    ) -> None:
        """Report cycles no FlowFile can ever enter (no source reaches them)."""
        sources = [n for n in self.nodes if all(c.source == n for c in incoming[n])]
        reach: set[str] = set()
        stack = list(sources)
        while stack:
            n = stack.pop()
            if n in reach:
                continue
            reach.add(n)
            stack.extend(c.destination for c in outgoing[n])
        unreachable = [n for n in self.nodes if n not in reach]
        if not unreachable:
            return
        # Find one cycle among unreachable nodes to name it.
        un = set(unreachable)
        reported: set[str] = set()
        for start in unreachable:
            if start in reported:
                continue
            path = [start]
            seen = {start: 0}
            cur = start
            while True:
                nxt = next(
                    (c.destination for c in outgoing[cur] if c.destination in un), None
                )
                if nxt is None:
                    break
                if nxt in seen:
                    cycle = [*path[seen[nxt] :], nxt]
                    reported.update(cycle)
                    loc = _loc(self._locs.get(cycle[0], {}), "")
                    self.problem(
                        loc,
                        f"cycle {' -> '.join(cycle)} has no source: nothing can ever enter it",
                    )
                    break
                seen[nxt] = len(path)
                path.append(nxt)
                cur = nxt
            reported.update(path)

    def service_order(self) -> list[str]:
        """Services ordered so dependencies come first; report unknown refs and cycles."""
        deps: dict[str, list[str]] = {}
        for sid, (group, refs) in self.service_defs.items():
            deps[sid] = []
            for value, d, loc in refs:
                target = self.check_service_ref(
                    group, value, d, loc, f"service {sid!r}"
                )
                if target is not None:
                    deps[sid].append(target)
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(s: str, trail: list[str]) -> None:
            st = state.get(s, 0)
            if st == 2:
                return
            if st == 1:
                self.problem(
                    None,
                    f"controller services reference each other in a cycle: {' -> '.join([*trail, s])}",
                )
                return
            state[s] = 1
            for d in deps.get(s, []):
                visit(d, [*trail, s])
            state[s] = 2
            order.append(s)

        for s in deps:
            visit(s, [])
        return order


def plan_flow(
    flow: ProcessGroup,
    registry: Registry,
    parameter_overrides: Mapping[str, str] | None = None,
) -> tuple[Plan | None, list[FlowProblem]]:
    """Check the whole flow; return a plan when there is no problem, and every problem."""
    p = _Planner(flow, registry, parameter_overrides or {})
    p._locs = {}
    p.plan_group("", flow)
    p.plan_connections("", flow)
    p.check_graph()
    order = p.service_order()
    if p.problems:
        return None, p.problems
    plan = Plan(
        name=flow.name,
        nodes=p.nodes,
        connections=p.connections,
        services=p.services,
        service_order=order,
        groups=[path for path, _ in flow.walk()],
        root_input_ports=list(flow.input_ports),
        root_output_ports=list(flow.output_ports),
    )
    return plan, []


def _param_value(p: Parameter) -> str | None:
    if p.env is not None:
        v = os.environ.get(p.env)
        return v if v is not None else p.value
    return p.value


def _shift(loc: Location | None, position: int | None) -> Location | None:
    if loc is None or not position:
        return loc
    return Location(loc.file, loc.line, loc.col + position)


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def _near_declared(cls: type[ConfigurableComponent], key: str) -> str | None:
    """The declared property ``key`` is most likely a misspelling of, or None.

    A dynamic property named within a small edit distance of a declared property (its
    snake_case name or its NiFi display name, case and ``_``/space insensitive) is far
    more often a typo than a wanted attribute or query: ``custom_txt`` on
    GenerateFlowFile, ``include_zero_record_flowfile`` on QueryRecord. One edit is
    allowed for short names, two from eight characters on.
    """
    norm = key.lower().replace(" ", "_")
    limit = 1 if len(norm) < 8 else 2
    best: tuple[int, str] | None = None
    for d in cls.property_descriptors:
        for n in d.names:
            dist = _edit_distance(norm, n.lower().replace(" ", "_"), limit)
            if dist <= limit and (best is None or dist < best[0]):
                best = (dist, d.name)
    return best[1] if best else None


def _hint(d: PropertyDescriptor) -> str:
    return f" ({d.description.split('.')[0]})" if d.description else ""


def _check_cron(expr: str) -> None:
    from .._cron import CronSchedule

    CronSchedule(expr)
