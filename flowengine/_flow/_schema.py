"""The JSON Schema of flow format v1, generated from the declarations.

The format's keys come from :mod:`flowengine._flow_format`; the per-type property
checks from the component declarations.

Strict (``additionalProperties: false`` everywhere, required keys, enums of allowable
values), so editors flag a misspelt key or value as you type. Property keys accept the
snake_case name and the NiFi display name, as the loader does; processor and service
properties are checked per ``type`` with ``if``/``then``.
"""

from __future__ import annotations

from typing import Any

from .. import _flow_format as ff
from .._api._component import ConfigurableComponent
from .._api._processor import Processor
from ._registry import Registry

__all__ = ["flow_schema"]

SCHEMA_ID = "https://flowengine.dev/schema/flow-v1.json"

_SCALAR: dict[str, Any] = {"type": ["string", "number", "boolean"]}


def _property_schema(cls: type[ConfigurableComponent]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for d in cls.property_descriptors:
        s: dict[str, Any] = {"description": d.description}
        if d.allowable_values:
            values: list[Any] = sorted(
                {a.value for a in d.allowable_values}
                | {a.display_name for a in d.allowable_values if a.display_name}
            )
            # YAML writes true/false and numbers natively; the loader accepts them as text.
            values += [v == "true" for v in values if v in ("true", "false")]
            values += [int(v) for v in values if isinstance(v, str) and v.isdigit()]
            s["anyOf"] = [{"enum": values}, {"type": "string", "pattern": "#\\{"}]
        else:
            s.update(_SCALAR)
        if d.default is not None:
            s["default"] = d.default
        props[d.name] = s
        for alias in d.names[1:]:
            props[alias] = {"$comment": f"NiFi name of {d.name}", **s}
    out: dict[str, Any] = {"type": "object", "properties": props}
    out["additionalProperties"] = (
        _SCALAR if cls.dynamic_properties is not None else False
    )
    return out


def _component_defs(
    classes: list[type[ConfigurableComponent]], kind: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    defs: dict[str, Any] = {}
    rules: list[dict[str, Any]] = []
    for cls in classes:
        key = f"{kind}_{cls.type_name()}_properties"
        defs[key] = _property_schema(cls)
        rules.append(
            {
                "if": {
                    "properties": {"type": {"const": cls.type_name()}},
                    "required": ["type"],
                },
                "then": {"properties": {"properties": {"$ref": f"#/$defs/{key}"}}},
            }
        )
    return defs, rules


def flow_schema(registry: Registry, *, builtin_only: bool = True) -> dict[str, Any]:
    """The schema as a dict (``flowengine schema`` prints it).

    The keys, types and defaults come from the format's declaration
    (:mod:`flowengine._flow_format`); the registry adds the types and, per type, the
    declared properties with their allowable values.
    """
    procs: list[type[ConfigurableComponent]] = []
    services: list[type[ConfigurableComponent]] = []
    for kind, bucket in (("processor", procs), ("service", services)):
        for _name, cls, _err in registry.iter_loaded(kind):
            if cls is None or (
                builtin_only and not cls.__module__.startswith("flowengine.")
            ):
                continue
            bucket.append(cls)
    procs.sort(key=lambda c: c.type_name())
    services.sort(key=lambda c: c.type_name())
    pdefs, prules = _component_defs(procs, "processor")
    sdefs, srules = _component_defs(services, "service")
    ctx = {
        "processor_types": [c.type_name() for c in procs],
        "service_types": [c.type_name() for c in services],
        "relationships": sorted(
            {r.name for c in procs if issubclass(c, Processor) for r in c.relationships}
        ),
    }
    processor = ff.PROCESSOR.schema(ctx)
    processor["allOf"] = prules
    service = ff.SERVICE.schema(ctx)
    service["allOf"] = srules
    defs: dict[str, Any] = {
        "parameter": ff.PARAMETER.full_schema(ctx),
        "schedule": ff.SCHEDULE.schema(ctx),
        "processor": processor,
        "service": service,
        "connection": ff.CONNECTION.full_schema(ctx),
        "group": {
            "anyOf": [ff.GROUP_FILE.schema(ctx), ff.GROUP.schema(ctx)],
        },
        **pdefs,
        **sdefs,
    }
    root = ff.FLOW.schema(ctx)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "flowengine flow (format v1)",
        **root,
        "$defs": defs,
    }
