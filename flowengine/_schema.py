"""The JSON Schema of flow format v1, generated from the component declarations.

Strict (``additionalProperties: false`` everywhere, required keys, enums of allowable
values), so editors flag a misspelt key or value as you type. Property keys accept the
snake_case name and the NiFi display name, as the loader does; processor and service
properties are checked per ``type`` with ``if``/``then``.
"""

from __future__ import annotations

from typing import Any

from ._component import ConfigurableComponent
from ._processor import Processor
from ._registry import Registry

__all__ = ["flow_schema"]

SCHEMA_ID = "https://flowengine.dev/schema/flow-v1.json"

_SCALAR: dict[str, Any] = {"type": ["string", "number", "boolean"]}
_DURATION = {
    "type": ["string", "number"],
    "description": "a time period such as '30 sec', '5 min' (a number is seconds)",
}
_SIZE = {
    "type": ["string", "integer"],
    "description": "a data size such as '1 GB' (0 disables)",
}


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
        if d.display_name and d.display_name != d.name:
            props[d.display_name] = {"$comment": f"NiFi name of {d.name}", **s}
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
    """The schema as a dict (``flowengine schema`` prints it)."""
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
    rel_names = sorted(
        {r.name for c in procs if issubclass(c, Processor) for r in c.relationships}
    )
    type_ref = {
        "type": "string",
        "description": "a type name, or package.module:ClassName for a plugin",
        "anyOf": [
            {"enum": [c.type_name() for c in procs]},
            {"pattern": "^[A-Za-z_][\\w.]*:[A-Za-z_][\\w.]*$"},
            {"pattern": "^[A-Za-z_]\\w*$"},
        ],
    }
    service_type = {
        "type": "string",
        "anyOf": [
            {"enum": [c.type_name() for c in services]},
            {"pattern": "^[A-Za-z_][\\w.]*:[A-Za-z_][\\w.]*$"},
            {"pattern": "^[A-Za-z_]\\w*$"},
        ],
    }
    names = {
        "type": "array",
        "items": {"type": "string", "pattern": "^[^.\\s]+$"},
        "uniqueItems": True,
    }
    defs: dict[str, Any] = {
        "parameter": {
            "anyOf": [
                _SCALAR,
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "value": _SCALAR,
                        "env": {
                            "type": "string",
                            "description": "read from this environment variable",
                        },
                        "sensitive": {"type": "boolean"},
                        "description": {"type": "string"},
                    },
                },
            ]
        },
        "parameters": {
            "type": "object",
            "additionalProperties": {"$ref": "#/$defs/parameter"},
        },
        "schedule": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "strategy": {"enum": ["timer", "cron", "event"]},
                "period": _DURATION,
                "cron": {
                    "type": "string",
                    "description": "6 fields: sec min hour day-of-month month day-of-week",
                },
                "concurrent_tasks": {"type": "integer", "minimum": 1},
                "batch_size": {"type": "integer", "minimum": 1},
                "max_triggers": {"type": "integer", "minimum": 0},
                "yield_duration": _DURATION,
                "penalty_duration": _DURATION,
                "poison_attempts": {"type": "integer", "minimum": 1},
            },
        },
        "processor": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type"],
            "properties": {
                "type": type_ref,
                "properties": {"type": "object"},
                "dynamic_properties": {
                    "type": "object",
                    "additionalProperties": _SCALAR,
                    "description": "user-named (dynamic) properties, said explicitly: never taken for a misspelt declared property",
                },
                "schedule": {"$ref": "#/$defs/schedule"},
                "auto_terminate": {
                    "anyOf": [
                        {
                            "type": "array",
                            "items": {"type": "string", "examples": rel_names},
                        },
                        {"type": "string", "description": "one relationship"},
                    ]
                },
                "retry": {
                    "description": "retry these relationships before routing to them "
                    "(NiFi's Automatically Retry): a list, or a mapping",
                    "anyOf": [
                        {
                            "type": "array",
                            "items": {"type": "string", "examples": rel_names},
                        },
                        {"type": "string", "description": "one relationship"},
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["relationships"],
                            "properties": {
                                "relationships": {
                                    "anyOf": [
                                        {
                                            "type": "array",
                                            "items": {
                                                "type": "string",
                                                "examples": rel_names,
                                            },
                                        },
                                        {"type": "string"},
                                    ]
                                },
                                "count": {
                                    "type": "integer",
                                    "minimum": 1,
                                    "default": 10,
                                },
                                "backoff": {
                                    "enum": ["penalize", "yield"],
                                    "default": "penalize",
                                },
                                "max_backoff": _DURATION,
                            },
                        },
                    ],
                },
                "comment": {"type": "string"},
            },
            "allOf": prules,
        },
        "service": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type"],
            "properties": {
                "type": service_type,
                "properties": {"type": "object"},
                "dynamic_properties": {
                    "type": "object",
                    "additionalProperties": _SCALAR,
                    "description": "user-named (dynamic) properties, said explicitly: never taken for a misspelt declared property",
                },
                "comment": {"type": "string"},
            },
            "allOf": srules,
        },
        "connection": {
            "anyOf": [
                {
                    "type": "string",
                    "pattern": "^\\s*[^\\s:]+(:\\s*[^\\s].*?)?\\s*->\\s*\\S+\\s*$",
                    "description": "'a -> b' or 'a:rel1,rel2 -> b'",
                },
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["from", "to"],
                    "properties": {
                        "from": {"type": "string"},
                        "to": {"type": "string"},
                        "relationships": {
                            "anyOf": [
                                {"type": "string"},
                                {"type": "array", "items": {"type": "string"}},
                            ]
                        },
                        "back_pressure": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "objects": {"type": "integer", "minimum": 0},
                                "size": _SIZE,
                            },
                        },
                        "prioritizers": {
                            "type": "array",
                            "items": {
                                "enum": [
                                    "FirstInFirstOut",
                                    "OldestFlowFileFirst",
                                    "NewestFlowFileFirst",
                                    "PriorityAttribute",
                                ]
                            },
                        },
                        "expiration": _DURATION,
                        "name": {"type": "string"},
                    },
                },
            ]
        },
        "group_body": {
            "description": {"type": "string"},
            "parameters": {"$ref": "#/$defs/parameters"},
            "services": {
                "type": "object",
                "additionalProperties": {"$ref": "#/$defs/service"},
            },
            "processors": {
                "type": "object",
                "additionalProperties": {"$ref": "#/$defs/processor"},
            },
            "connections": {"type": "array", "items": {"$ref": "#/$defs/connection"}},
            "groups": {
                "type": "object",
                "additionalProperties": {"$ref": "#/$defs/group"},
            },
            "input_ports": names,
            "output_ports": names,
            "funnels": names,
        },
    }
    body = defs["group_body"]
    defs["group"] = {
        "anyOf": [
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["file"],
                "properties": {
                    "file": {"type": "string"},
                    "parameters": {"$ref": "#/$defs/parameters"},
                },
            },
            {"type": "object", "additionalProperties": False, "properties": body},
        ]
    }
    del defs["group_body"]
    defs.update(pdefs)
    defs.update(sdefs)
    root_props = {
        "flow": {"type": "string", "description": "the flow's name"},
        "version": {"const": 1},
        "settings": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "provenance": {"type": "boolean"},
                "administrative_yield": _DURATION,
                "sync": {"enum": ["normal", "always"]},
                "max_threads": {"type": "integer", "minimum": 1},
                "swap_threshold": {"type": "integer", "minimum": 1},
                "swap_batch_size": {"type": "integer", "minimum": 1},
                "content_directory": {"type": "string"},
                "content_max_size": _SIZE,
                "claim_max_appendable_size": _SIZE,
                "provenance_max_age": _DURATION,
                "provenance_max_size": _SIZE,
            },
        },
        **body,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "flowengine flow (format v1)",
        "type": "object",
        "additionalProperties": False,
        "required": ["flow"],
        "properties": root_props,
        "$defs": defs,
    }
