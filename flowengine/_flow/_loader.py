"""Reading flow files (format v1, YAML) into :class:`~flowengine.Flow` definitions.

The loader is a thin layer: it checks the *shape* of the file (known keys, right types,
connection syntax) and records the ``file:line:col`` of every key and value; everything
about components (types, properties, relationships) is checked by the engine's validation,
which reports against those locations. Problems are collected, never raised one by one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import _flow_format as ff
from .._api._component import did_you_mean
from .._api._properties import to_text
from .._errors import ValidationError
from ._definition import ConnectionDef, Location, Parameter, ProcessGroup
from ._flow import Flow
from ._registry import Registry
from ._validation import FlowProblem
from ._yaml import YAMLProblem, YMap, YNode, YScalar, YSeq, parse_yaml

__all__ = ["load", "read_flow"]

# The keys each mapping accepts, from the format's one declaration (_flow_format).
ROOT_KEYS = ff.FLOW.keys()
GROUP_KEYS = ff.GROUP.keys()
GROUP_FILE_KEYS = ff.GROUP_FILE.keys()
PROCESSOR_KEYS = ff.PROCESSOR.keys()
RETRY_KEYS = ff.RETRY.keys()
SERVICE_KEYS = ff.SERVICE.keys()
CONNECTION_KEYS = ff.CONNECTION.keys()
BACK_PRESSURE_KEYS = ff.BACK_PRESSURE.keys()
PARAMETER_KEYS = ff.PARAMETER.keys()
SETTINGS_KEYS = ff.SETTINGS.keys()

_ARROW = ff.ARROW


class _Reader:
    def __init__(self, registry: Registry | None) -> None:
        self.problems: list[FlowProblem] = []
        self.registry = registry
        self._stack: list[Path] = []

    def problem(self, loc: Location | None, msg: str) -> None:
        self.problems.append(FlowProblem(loc, msg))

    # -- typed access -------------------------------------------------------------------
    def mapping(self, node: YNode | None, what: str) -> YMap | None:
        if node is None:
            return None
        if isinstance(node, YScalar) and node.value is None:
            return YMap(loc=node.loc)
        if not isinstance(node, YMap):
            self.problem(node.loc, f"{what} must be a mapping (key: value)")
            return None
        return node

    def sequence(self, node: YNode | None, what: str) -> YSeq | None:
        if node is None:
            return None
        if isinstance(node, YScalar) and node.value is None:
            return YSeq([], node.loc)
        if not isinstance(node, YSeq):
            self.problem(node.loc, f"{what} must be a list")
            return None
        return node

    def text(self, node: YNode | None, what: str) -> str | None:
        if node is None:
            return None
        if (
            not isinstance(node, YScalar)
            or isinstance(node.value, bool)
            or node.value is None
        ):
            self.problem(node.loc, f"{what} must be a string")
            return None
        return str(node.value)

    def names(self, node: YNode | None, what: str) -> list[tuple[str, Location]]:
        seq = self.sequence(node, what)
        out = []
        for item in seq.items if seq else []:
            name = self.text(item, f"each entry of {what}")
            if name is not None:
                out.append((name, item.loc))
        return out

    def check_keys(self, m: YMap, allowed: tuple[str, ...], what: str) -> None:
        for key in m.items:
            if key not in allowed:
                self.problem(
                    m.key_loc(key),
                    f"unknown key {key!r} in {what}{did_you_mean(key, allowed)}",
                )

    # -- file ----------------------------------------------------------------------------
    def read_file(self, path: Path) -> YMap | None:
        name = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.problem(None, f"{name}: no such flow file")
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(None, f"{name}: cannot read flow file: {exc}")
            return None
        try:
            node, yproblems = parse_yaml(text, name)
        except YAMLProblem as exc:
            self.problem(exc.location, exc.message)
            return None
        for yp in yproblems:
            self.problem(yp.location, yp.message)
        if node is None:
            self.problem(
                Location(name, 1, 1),
                "the flow file is empty (expected a mapping with at least 'flow: NAME')",
            )
            return None
        if not isinstance(node, YMap):
            kind = "a list" if isinstance(node, YSeq) else "a single value"
            self.problem(
                node.loc,
                f"a flow file must be a mapping (flow: NAME, processors: ...), not {kind}",
            )
            return None
        return node

    def flow(self, path: Path) -> Flow | None:
        root = self.read_file(path)
        if root is None:
            return None
        self.check_keys(root, ROOT_KEYS, "the flow")
        name = self.text(root.get("flow"), "'flow' (the flow's name)")
        if root.get("flow") is None:
            self.problem(root.loc, "missing required key 'flow' (the flow's name)")
        version = root.get("version")
        if version is not None and not (
            isinstance(version, YScalar) and version.value == ff.VERSION
        ):
            self.problem(
                version.loc,
                f"unsupported flow format version (this engine reads version {ff.VERSION})",
            )
        flow = Flow(name or path.stem, registry=self.registry)
        flow.source_file = str(path)
        flow.description = self.text(root.get("description"), "'description'") or ""
        self._stack.append(path.resolve())
        self.group_body(flow, root, path, "the flow")
        self._stack.pop()
        self.settings(flow, root.get("settings"))
        return flow

    def settings(self, flow: Flow, node: YNode | None) -> None:
        m = self.mapping(node, "'settings'")
        if m is None:
            return
        self.check_keys(m, SETTINGS_KEYS, "settings")
        for key, (_, v) in m.items.items():
            if key in SETTINGS_KEYS:
                value = v.plain()
                error = _setting_problem(key, value)
                if error:
                    self.problem(v.loc, f"settings {key}: {error}")
                    continue
                flow.settings[key] = value
                flow.locations[f"settings.{key}"] = v.loc

    # -- groups --------------------------------------------------------------------------
    def group_body(self, group: ProcessGroup, m: YMap, path: Path, what: str) -> None:
        group.locations[""] = m.loc
        self.parameters(group, m.get("parameters"))
        self.services(group, m.get("services"))
        self.processors(group, m.get("processors"))
        for key, adder in (
            ("input_ports", group.add_input_port),
            ("output_ports", group.add_output_port),
            ("funnels", group.add_funnel),
        ):
            for name, loc in self.names(m.get(key), f"'{key}'"):
                adder(name)
                group.locations[f"name.{name}"] = loc
        self.groups(group, m.get("groups"), path)
        self.connections(group, m.get("connections"))

    def groups(self, parent: ProcessGroup, node: YNode | None, path: Path) -> None:
        m = self.mapping(node, "'groups'")
        if m is None:
            return
        for name, (kloc, body) in m.items.items():
            parent.locations[f"name.{name}"] = kloc
            gm = self.mapping(body, f"group {name!r}")
            if gm is None:
                continue
            if gm.get("file") is not None:
                self.check_keys(gm, GROUP_FILE_KEYS, f"group {name!r} (from a file)")
                group = self.group_file(name, gm, path)
                if group is None:
                    continue
            else:
                self.check_keys(gm, (*GROUP_KEYS, "file"), f"group {name!r}")
                group = ProcessGroup(name)
                self.group_body(group, gm, path, f"group {name!r}")
            group.locations[""] = kloc
            parent.add_group(name, group)

    def group_file(self, name: str, gm: YMap, path: Path) -> ProcessGroup | None:
        ref = self.text(gm.get("file"), f"group {name!r} file")
        if ref is None:
            return None
        target = (path.parent / ref).resolve()
        floc = gm.get("file").loc  # type: ignore[union-attr]
        if target in self._stack:
            chain = " -> ".join(p.name for p in [*self._stack, target])
            self.problem(
                floc,
                f"group {name!r}: flow files include each other in a cycle ({chain})",
            )
            return None
        if not target.exists():
            self.problem(
                floc, f"group {name!r}: no such file {ref!r} (looked for {target})"
            )
            return None
        root = self.read_file(target)
        if root is None:
            return None
        self.check_keys(root, ROOT_KEYS, f"group file {ref}")
        group = ProcessGroup(name)
        group.source_file = str(target)
        self._stack.append(target)
        self.group_body(group, root, target, f"group {name!r}")
        self._stack.pop()
        # Call-site parameters override the file's own (a sub-flow used like a function).
        self.parameters(group, gm.get("parameters"))
        return group

    # -- sections ------------------------------------------------------------------------
    def parameters(self, group: ProcessGroup, node: YNode | None) -> None:
        m = self.mapping(node, "'parameters'")
        if m is None:
            return
        for name, (kloc, v) in m.items.items():
            if isinstance(v, YMap):
                self.check_keys(v, PARAMETER_KEYS, f"parameter {name!r}")
                value = v.get("value")
                env = (
                    self.text(v.get("env"), f"parameter {name!r} env")
                    if v.get("env") is not None
                    else None
                )
                sens = v.get("sensitive")
                sensitive = False
                if sens is not None:
                    if not isinstance(sens, YScalar) or not isinstance(
                        sens.value, bool
                    ):
                        self.problem(
                            sens.loc,
                            f"parameter {name!r}: 'sensitive' must be true or false",
                        )
                    else:
                        sensitive = sens.value
                text = None
                if value is not None:
                    if not isinstance(value, YScalar):
                        self.problem(
                            value.loc, f"parameter {name!r}: value must be a scalar"
                        )
                    elif value.value is not None:
                        text = to_text(value.value)
                if env is None and value is None:
                    self.problem(kloc, f"parameter {name!r} needs 'value' or 'env'")
                group.set_parameter(name, Parameter(text, sensitive, env, kloc))
            elif isinstance(v, YScalar):
                group.set_parameter(
                    name,
                    Parameter(
                        None if v.value is None else to_text(v.value),
                        False,
                        None,
                        kloc,
                    ),
                )
            else:
                self.problem(
                    v.loc,
                    f"parameter {name!r} must be a value or a mapping with value/env/sensitive",
                )

    def component_properties(
        self, m: YMap, locs: dict[str, Location], what: str, section: str = "properties"
    ) -> dict[str, Any]:
        """The scalar values of ``section`` (``properties`` or ``dynamic_properties``).

        Locations are recorded under ``properties.<key>`` for both sections: the
        validator locates a property by its name, wherever it was written.
        """
        props = self.mapping(m.get(section), f"{what} {section}")
        out: dict[str, Any] = {}
        if props is None:
            return out
        locs[section] = props.loc
        for key, (kloc, v) in props.items.items():
            # In both sections (the validator says so): keep the first locations.
            first = f"properties.{key}" not in locs
            if first:
                locs[f"properties.{key}"] = kloc
            if isinstance(v, YScalar):
                if first:
                    locs[f"properties.{key}="] = v.value_loc
                if v.value is None:
                    self.problem(
                        v.loc,
                        f"{what}: property {key!r} has no value (remove it to use the default)",
                    )
                    continue
                out[key] = v.value
            else:
                self.problem(
                    v.loc,
                    f"{what}: property {key!r} must be a single value, not a {'list' if isinstance(v, YSeq) else 'mapping'}",
                )
        return out

    def services(self, group: ProcessGroup, node: YNode | None) -> None:
        m = self.mapping(node, "'services'")
        if m is None:
            return
        for name, (kloc, body) in m.items.items():
            what = f"service {name!r}"
            sm = self.mapping(body, what)
            if sm is None:
                continue
            self.check_keys(sm, SERVICE_KEYS, what)
            type_name = self.text(sm.get("type"), f"{what} type")
            if sm.get("type") is None:
                self.problem(kloc, f"{what}: missing 'type'")
            locs: dict[str, Location] = {"": kloc}
            if sm.get("type") is not None:
                locs["type"] = sm.get("type").loc  # type: ignore[union-attr]
            props = self.component_properties(sm, locs, what)
            dyn = self.component_properties(sm, locs, what, "dynamic_properties")
            if type_name is not None:
                sdef = group.add_service(name, type_name, props, dynamic_properties=dyn)
                sdef.locations = locs

    def processors(self, group: ProcessGroup, node: YNode | None) -> None:
        m = self.mapping(node, "'processors'")
        if m is None:
            return
        for name, (kloc, body) in m.items.items():
            what = f"processor {name!r}"
            group.locations[f"name.{name}"] = kloc
            pm = self.mapping(body, what)
            if pm is None:
                continue
            self.check_keys(pm, PROCESSOR_KEYS, what)
            type_name = self.text(pm.get("type"), f"{what} type")
            if pm.get("type") is None:
                self.problem(kloc, f"{what}: missing 'type'")
            locs: dict[str, Location] = {"": kloc}
            if pm.get("type") is not None:
                locs["type"] = pm.get("type").loc  # type: ignore[union-attr]
            props = self.component_properties(pm, locs, what)
            dyn = self.component_properties(pm, locs, what, "dynamic_properties")
            schedule: dict[str, Any] = {}
            sm = self.mapping(pm.get("schedule"), f"{what} schedule")
            if sm is not None:
                locs["schedule"] = sm.loc
                for key, (skloc, v) in sm.items.items():
                    locs[f"schedule.{key}"] = skloc
                    if isinstance(v, YScalar):
                        schedule[key] = v.value
                    else:
                        self.problem(
                            v.loc, f"{what}: schedule {key!r} must be a single value"
                        )
            auto: list[str] = []
            an = pm.get("auto_terminate")
            if an is not None:
                locs["auto_terminate"] = an.loc
                if isinstance(an, YScalar) and isinstance(an.value, str):
                    an = YSeq([an], an.loc)
                for i, (rel, rloc) in enumerate(
                    self.names(an, f"{what} auto_terminate")
                ):
                    auto.append(rel)
                    locs[f"auto_terminate.{i}"] = rloc
            retry = self.retry(pm.get("retry"), locs, what)
            if type_name is not None:
                pdef = group.add_processor(
                    name,
                    type_name,
                    props,
                    schedule=schedule,
                    auto_terminate=auto,
                    retry=retry,
                    dynamic_properties=dyn,
                )
                pdef.locations = locs
                pdef.comment = self.text(pm.get("comment"), f"{what} comment") or ""

    def retry(
        self, node: YNode | None, locs: dict[str, Location], what: str
    ) -> dict[str, Any] | None:
        """``retry: [failure]`` or ``retry: {relationships: [...], count: 3, ...}``."""
        if node is None:
            return None
        locs["retry"] = node.loc
        rels: YNode | None = node
        out: dict[str, Any] = {}
        if isinstance(node, YMap):
            self.check_keys(node, RETRY_KEYS, f"{what} retry")
            for key, (kloc, v) in node.items.items():
                locs[f"retry.{key}"] = kloc
                if key == "relationships":
                    continue
                if isinstance(v, YScalar):
                    out[key] = v.value
                else:
                    self.problem(v.loc, f"{what}: retry {key!r} must be a single value")
            rels = (
                node.items["relationships"][1]
                if "relationships" in node.items
                else None
            )
        if isinstance(rels, YScalar) and isinstance(rels.value, str):
            rels = YSeq([rels], rels.loc)
        names: list[str] = []
        if rels is not None:
            for i, (rel, rloc) in enumerate(self.names(rels, f"{what} retry")):
                names.append(rel)
                locs[f"retry.relationships.{i}"] = rloc
        out["relationships"] = names
        return out

    def connections(self, group: ProcessGroup, node: YNode | None) -> None:
        seq = self.sequence(node, "'connections'")
        for item in seq.items if seq else []:
            c = self.connection(item)
            if c is not None:
                group.connections.append(c)

    def connection(self, item: YNode) -> ConnectionDef | None:
        if isinstance(item, YScalar) and isinstance(item.value, str):
            m = _ARROW.match(item.value)
            if not m:
                self.problem(
                    item.loc,
                    f"connection {item.value!r}: expected 'source -> destination' or 'source:rel1,rel2 -> destination'",
                )
                return None
            src, rels, dst = m.group(1), m.group(2), m.group(3)
            rel_list = (
                [r.strip() for r in rels.split(",") if r.strip()] if rels else None
            )
            c = ConnectionDef(src, dst, rel_list)
            c.locations = {
                "": item.loc,
                "source": item.value_loc,
                "destination": item.value_loc,
                "relationships": item.value_loc,
            }
            return c
        if not isinstance(item, YMap):
            self.problem(
                item.loc,
                "a connection is 'a -> b', 'a:rel -> b' or a mapping with from/to",
            )
            return None
        self.check_keys(item, CONNECTION_KEYS, "connection")
        src = self.text(item.get("from"), "connection 'from'")
        dst = self.text(item.get("to"), "connection 'to'")
        if item.get("from") is None or item.get("to") is None:
            self.problem(item.loc, "a connection mapping needs 'from' and 'to'")
            return None
        if src is None or dst is None:
            return None
        src_node, dst_node = item.get("from"), item.get("to")
        assert src_node is not None
        assert dst_node is not None
        locs = {"": item.loc, "source": src_node.loc, "destination": dst_node.loc}
        rels = None
        rn = item.get("relationships")
        if rn is not None:
            locs["relationships"] = rn.loc
            if isinstance(rn, YScalar) and isinstance(rn.value, str):
                rn = YSeq([rn], rn.loc)
            rels = [n for n, _ in self.names(rn, "connection relationships")]
        c = ConnectionDef(src, dst, rels)
        bp = self.mapping(item.get("back_pressure"), "connection back_pressure")
        if bp is not None:
            self.check_keys(bp, BACK_PRESSURE_KEYS, "back_pressure")
            obj = bp.get("objects")
            if obj is not None:
                locs["back_pressure.objects"] = obj.loc
                if (
                    isinstance(obj, YScalar)
                    and isinstance(obj.value, int)
                    and not isinstance(obj.value, bool)
                ):
                    c.back_pressure_objects = obj.value
                else:
                    self.problem(
                        obj.loc,
                        "back_pressure objects must be a whole number (0 disables)",
                    )
            size = bp.get("size")
            if size is not None:
                locs["back_pressure.size"] = size.loc
                if isinstance(size, YScalar) and not isinstance(size.value, bool):
                    c.back_pressure_size = (
                        size.value if isinstance(size.value, int) else str(size.value)
                    )
                else:
                    self.problem(
                        size.loc,
                        "back_pressure size must be a data size like '1 GB' (0 disables)",
                    )
        exp = item.get("expiration")
        if exp is not None:
            locs["expiration"] = exp.loc
            if (
                isinstance(exp, YScalar)
                and exp.value is not None
                and not isinstance(exp.value, bool)
            ):
                c.expiration = (
                    exp.value if isinstance(exp.value, int | float) else str(exp.value)
                )
            else:
                self.problem(
                    exp.loc,
                    "expiration must be a time period like '1 hour' (0 = never)",
                )
        pn = item.get("prioritizers")
        if pn is not None:
            locs["prioritizers"] = pn.loc
            c.prioritizers = [n for n, _ in self.names(pn, "connection prioritizers")]
        c.name = self.text(item.get("name"), "connection name")
        c.locations = locs
        return c


def _setting_problem(key: str, value: Any) -> str | None:
    """Why a ``settings`` value is unusable (checked here so a run never fails on it).

    The check follows the setting's declared kind (:data:`flowengine._flow_format.SETTINGS`).
    """
    from .._units import parse_data_size, parse_duration

    f = ff.SETTINGS[key]
    kind = f.kind
    if isinstance(kind, ff.Boolean):
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(kind, ff.Choice):
        if value in kind.values:
            return None
        return "must be " + " or ".join(repr(v) for v in kind.values)
    if isinstance(kind, ff.Text):
        return (
            None
            if isinstance(value, str) and value
            else f"must be {f.noun or 'a string'}"
        )
    if isinstance(kind, ff.Integer):
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok and (kind.minimum is None or value >= kind.minimum)
        return None if ok else f"must be a whole number of at least {kind.minimum}"
    try:
        if isinstance(kind, ff.Duration):
            parse_duration(value)
        else:
            parse_data_size(value)
    except (ValueError, TypeError) as exc:
        return str(exc)
    return None


def read_flow(
    path: str | os.PathLike[str], registry: Registry | None = None
) -> tuple[Flow | None, list[FlowProblem]]:
    """Read a flow file's structure; returns the flow (None if unreadable) and the
    structural problems. Component-level checks happen in :meth:`Flow.validate`."""
    reader = _Reader(registry)
    flow = reader.flow(Path(path))
    return flow, reader.problems


def load(
    path: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    registry: Registry | None = None,
) -> Flow:
    """Load and validate a flow file. Raises ValidationError listing every problem as
    ``file:line:col: message``; ``parameters`` override ``#{name}`` values of the file."""
    flow, problems = read_flow(path, registry)
    overrides = {k: to_text(v) for k, v in (parameters or {}).items()}
    if flow is not None:
        flow.parameter_overrides.update(overrides)
        problems += flow.validate()
    if problems or flow is None:
        raise ValidationError([str(p) for p in problems])
    return flow
