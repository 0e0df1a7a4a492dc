"""Descriptions of component types, generated from their declarations.

One declaration (properties, relationships, attributes, schedule) feeds ``flowengine
describe``, ``flowengine processors --json`` and ``docs/processors.md``; nothing here is
written by hand per component.
"""

from __future__ import annotations

from typing import Any

from .._api._component import ConfigurableComponent
from .._api._processor import Processor
from .._api._properties import ExpressionLanguageScope, PropertyDescriptor
from .._api._schedule import Schedule
from .._units import format_duration
from ._registry import Registry

__all__ = ["describe_type", "processors_markdown", "render_text", "type_listing"]

_EL = {
    ExpressionLanguageScope.NONE: None,
    ExpressionLanguageScope.ENVIRONMENT: "environment",
    ExpressionLanguageScope.FLOWFILE_ATTRIBUTES: "flowfile attributes",
}


def _property(d: PropertyDescriptor) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": d.name,
        "display_name": d.label,
        "description": d.description,
        "default": d.default,
        "required": d.required,
        "sensitive": d.sensitive,
        "expression_language": _EL[d.expression_language],
    }
    if d.allowable_values:
        out["allowable_values"] = [
            {"value": a.value, "display_name": a.label, "description": a.description}
            for a in d.allowable_values
        ]
    aliases = [n for n in d.names[1:] if n != d.label]
    if aliases:
        out["aliases"] = aliases
    if d.service is not None:
        out["service"] = d.service.__name__
    if d.depends_on is not None:
        out["depends_on"] = {
            "property": d.depends_on[0],
            "values": list(d.depends_on[1]),
        }
    return out


def describe_type(cls: type[ConfigurableComponent]) -> dict[str, Any]:
    """Everything users need to configure a type, as plain data."""
    kind = "processor" if issubclass(cls, Processor) else "controller service"
    info: dict[str, Any] = {
        "type": cls.type_name(),
        "kind": kind,
        "module": f"{cls.__module__}:{cls.__qualname__}",
        "summary": cls.summary(),
        "description": cls.description,
        "tags": list(cls.tags),
        "properties": [_property(d) for d in cls.property_descriptors],
    }
    dyn = cls.dynamic_properties
    if dyn is not None:
        info["dynamic_properties"] = {
            "description": dyn.description,
            "name": dyn.name,
            "value": dyn.value,
            "expression_language": _EL[dyn.expression_language],
        }
    if issubclass(cls, Processor):
        info["relationships"] = [
            {
                "name": r.name,
                "description": r.description,
                "auto_terminate_default": r.auto_terminate_default,
            }
            for r in cls.relationships
        ]
        info["input_requirement"] = cls.input_requirement.value
        info["reads_attributes"] = dict(cls.reads_attributes)
        info["writes_attributes"] = dict(cls.writes_attributes)
        sched = Schedule(**dict(cls.default_schedule.items()))
        info["default_schedule"] = {
            "strategy": sched.strategy,
            "period": format_duration(sched.period),
            "batch_size": sched.batch_size,
            "concurrent_tasks": sched.concurrent_tasks,
        }
        info["stateful"] = cls.stateful
        info["trigger_serially"] = cls.trigger_serially
        info["example"] = cls.example
    else:
        info["interfaces"] = [k.__name__ for k in getattr(cls, "interfaces", list)()]
    return info


def render_text(info: dict[str, Any]) -> str:
    """A terminal-friendly rendering of :func:`describe_type` output."""
    lines = [
        f"{info['type']} ({info['kind']})",
        "",
        info["description"] or info["summary"],
        "",
    ]
    if info.get("tags"):
        lines.append("Tags: " + ", ".join(info["tags"]))
    if info["kind"] == "processor":
        lines.append(f"Input: {info['input_requirement']}")
        ds = info["default_schedule"]
        lines.append(
            f"Default schedule: {ds['strategy']} every {ds['period']}, batch {ds['batch_size']}"
        )
    lines += ["", "Properties:"]
    for p in info["properties"]:
        flags = []
        if p["required"]:
            flags.append("required")
        if p["sensitive"]:
            flags.append("sensitive")
        if p["expression_language"]:
            flags.append(f"EL: {p['expression_language']}")
        if p.get("service"):
            flags.append(f"service: {p['service']}")
        head = f"  {p['name']}"
        if p["display_name"] != p["name"]:
            head += f'  ("{p["display_name"]}")'
        if flags:
            head += "  [" + ", ".join(flags) + "]"
        lines.append(head)
        if p.get("aliases"):
            lines.append("      also accepted as: " + ", ".join(p["aliases"]))
        if p["description"]:
            lines.append(f"      {p['description']}")
        if p["default"] is not None:
            lines.append(f"      default: {p['default']}")
        if p.get("allowable_values"):
            vals = ", ".join(
                a["value"]
                if a["display_name"] == a["value"]
                else f"{a['value']} ({a['display_name']})"
                for a in p["allowable_values"]
            )
            lines.append(f"      one of: {vals}")
    if not info["properties"]:
        lines.append("  (none)")
    dyn = info.get("dynamic_properties")
    if dyn:
        lines += [
            "",
            "Dynamic properties:",
            f"  {dyn['name']} -> {dyn['value']}",
            f"      {dyn['description']}",
        ]
    if info["kind"] == "processor":
        lines += ["", "Relationships:"]
        for r in info["relationships"]:
            lines.append(f"  {r['name']}: {r['description']}")
        for title, key in (
            ("Reads attributes", "reads_attributes"),
            ("Writes attributes", "writes_attributes"),
        ):
            if info[key]:
                lines += ["", f"{title}:"]
                lines += [f"  {k}: {v}" for k, v in info[key].items()]
        if info.get("example"):
            lines += ["", "Example:"] + [
                "  " + ln for ln in info["example"].rstrip().splitlines()
            ]
    return "\n".join(lines).rstrip() + "\n"


def type_listing(registry: Registry) -> dict[str, list[dict[str, Any]]]:
    """Every registered type with its summary, and load errors of broken plugins."""
    out: dict[str, list[dict[str, Any]]] = {
        "processors": [],
        "controller_services": [],
        "errors": [],
    }
    for kind, key in (("processor", "processors"), ("service", "controller_services")):
        for name, cls, error in registry.iter_loaded(kind):
            if cls is None:
                out["errors"].append({"type": name, "kind": kind, "error": error})
                continue
            out[key].append(
                {
                    "type": name,
                    "summary": cls.summary(),
                    "module": f"{cls.__module__}:{cls.__qualname__}",
                }
            )
    return out


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def processors_markdown(registry: Registry, *, builtin_only: bool = True) -> str:
    """``docs/processors.md``: the reference of every built-in type."""
    lines = [
        "# Processor and controller-service reference",
        "",
        "<!-- Generated by `flowengine docs --output docs/processors.md` from the component",
        "     declarations. Do not edit by hand; a test fails when this file is stale. -->",
        "",
    ]
    sections = (("processor", "Processors"), ("service", "Controller services"))
    for kind, title in sections:
        classes = []
        for _name, cls, _err in registry.iter_loaded(kind):
            if cls is None:
                continue
            if builtin_only and not cls.__module__.startswith("flowengine."):
                continue
            classes.append(cls)
        lines += [f"## {title}", ""]
        for cls in sorted(classes, key=lambda c: c.type_name()):
            lines.append(
                f"- [{cls.type_name()}](#{cls.type_name().lower()}) — {_md_escape(cls.summary())}"
            )
        lines.append("")
        for cls in sorted(classes, key=lambda c: c.type_name()):
            lines += _markdown_type(describe_type(cls))
    return "\n".join(lines).rstrip() + "\n"


def _markdown_type(info: dict[str, Any]) -> list[str]:
    lines = [f"### {info['type']}", "", info["description"] or info["summary"], ""]
    if info["kind"] == "processor":
        ds = info["default_schedule"]
        lines += [
            f"Input: **{info['input_requirement']}** · default schedule: {ds['strategy']} every {ds['period']}, batch {ds['batch_size']}",
            "",
        ]
    if info["properties"]:
        lines += [
            "| Property | NiFi name | Default | Notes | Description |",
            "|---|---|---|---|---|",
        ]
        for p in info["properties"]:
            notes = []
            if p["required"]:
                notes.append("required")
            if p["sensitive"]:
                notes.append("sensitive")
            if p["expression_language"]:
                notes.append(f"EL: {p['expression_language']}")
            if p.get("service"):
                notes.append(f"service: {p['service']}")
            if p.get("aliases"):
                notes.append(
                    "also accepted as: " + ", ".join(f"`{a}`" for a in p["aliases"])
                )
            if p.get("allowable_values"):
                notes.append(
                    "one of: "
                    + ", ".join(f"`{a['value']}`" for a in p["allowable_values"])
                )
            default = "" if p["default"] is None else f"`{p['default']}`"
            lines.append(
                f"| `{p['name']}` | {_md_escape(p['display_name'])} | {_md_escape(default)} | {_md_escape('; '.join(notes))} | {_md_escape(p['description'])} |"
            )
        lines.append("")
    dyn = info.get("dynamic_properties")
    if dyn:
        lines += [
            f"Dynamic properties: *{dyn['name']}* → *{dyn['value']}*. {dyn['description']}",
            "",
        ]
    if info["kind"] == "processor":
        lines += [
            "Relationships: "
            + ", ".join(
                f"`{r['name']}` ({_md_escape(r['description'])})"
                for r in info["relationships"]
            )
            if info["relationships"]
            else "Relationships: configured by dynamic properties",
            "",
        ]
        if info["writes_attributes"]:
            lines += [
                "Writes attributes: "
                + ", ".join(f"`{k}`" for k in info["writes_attributes"]),
                "",
            ]
        if info["reads_attributes"]:
            lines += [
                "Reads attributes: "
                + ", ".join(f"`{k}`" for k in info["reads_attributes"]),
                "",
            ]
        if info.get("example"):
            lines += ["```yaml", info["example"].rstrip(), "```", ""]
    return lines
