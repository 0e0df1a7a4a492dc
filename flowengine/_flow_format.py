"""The flow file format v1, declared once: every key, its type, default and meaning.

Everything that knows the shape of a flow file reads it from here:

- the loader (``_loader``): the keys each mapping accepts (anything else is an
  ``unknown key`` problem with a did-you-mean) and the checks of ``settings`` values;
- validation (``_validation``): the schedule and retry options, their value types and
  allowed values;
- defaults: ``Schedule`` (and its range checks), ``RetryPolicy``, a connection's back
  pressure, and the settings the run and the durable repositories read;
- the JSON Schema (``_schema``, ``flowengine schema``, ``flows/flow.schema.json``);
- the reference tables of ``docs/flow-format.md``, between ``<!-- flow-format:NAME -->``
  markers (:func:`update_docs`; regenerate with ``python -m flowengine._flow_format
  docs/flow-format.md``; a test fails when they are stale).

This module is a leaf: plain data and small pure functions, no import of the engine, so
the plugin contract, the engine and the flow reader can all depend on it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ARROW",
    "BACK_PRESSURE",
    "CONNECTION",
    "FLOW",
    "GROUP",
    "GROUP_FILE",
    "PARAMETER",
    "PROCESSOR",
    "RETRY",
    "SCHEDULE",
    "SECTIONS",
    "SERVICE",
    "SETTINGS",
    "VERSION",
    "Field",
    "Section",
    "markdown_table",
    "update_docs",
]

#: the format version this engine reads (``version: 1``)
VERSION = 1

#: a connection written as a string: ``a -> b`` or ``a:rel1,rel2 -> b``
ARROW = re.compile(r"^\s*([^\s:]+)(?::\s*([^\s].*?))?\s*->\s*(\S+)\s*$")

_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_SEE_ALSO = re.compile(r"\s*\(\[[^\]]+\]\([^)]*\)\)")

SchemaContext = Mapping[str, Any]
"""What the JSON Schema needs beyond the format: registered types and relationships
(``processor_types``, ``service_types``, ``relationships``), filled by ``_schema``."""


# -- value kinds ------------------------------------------------------------------------
class Kind:
    """The type of a key's value: its JSON Schema, its name in the docs, its default's
    spelling in the docs.

    Plain classes, not dataclasses: this module is imported on every start, and twenty
    dataclass definitions cost several milliseconds there (~0.5 ms each, measured).
    """

    __slots__: tuple[str, ...] = ()

    def __repr__(self) -> str:
        args = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({args})"

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        """The JSON Schema of a value of this kind."""
        raise NotImplementedError

    def label(self) -> str:
        """The type as the docs' tables name it."""
        raise NotImplementedError

    def render(self, value: Any) -> str:
        """A default value as written in a flow file (docs)."""
        return f"`{value}`"


class Text(Kind):
    """A string."""

    __slots__ = ()

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        return {"type": "string"}

    def label(self) -> str:
        return "string"


class Boolean(Kind):
    """``true`` or ``false``."""

    __slots__ = ()

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        return {"type": "boolean"}

    def label(self) -> str:
        return "`true`/`false`"

    def render(self, value: Any) -> str:
        return "`true`" if value else "`false`"


class Integer(Kind):
    """A whole number, at least ``minimum`` when it is set."""

    __slots__ = ("minimum",)

    def __init__(self, minimum: int | None = None) -> None:
        self.minimum = minimum

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "integer"}
        if self.minimum is not None:
            out["minimum"] = self.minimum
        return out

    def label(self) -> str:
        return "whole number" + ("" if self.minimum is None else f" ≥ {self.minimum}")

    def range_problem(self, name: str, value: int) -> str | None:
        """Why ``value`` is out of range (``Schedule`` raises it), or None."""
        if self.minimum is None or value >= self.minimum:
            return None
        if self.minimum == 0:
            return f"{name} must not be negative"
        return f"{name} must be at least {self.minimum}"


class Duration(Kind):
    """A time period: a number of seconds or a number and a unit."""

    __slots__ = ()

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        return {
            "type": ["string", "number"],
            "description": "a time period such as '30 sec', '5 min' (a number is seconds)",
        }

    def label(self) -> str:
        return "duration"

    def render(self, value: Any) -> str:
        seconds = float(value)
        for unit, size in (("day", 86400), ("hour", 3600), ("min", 60)):
            if seconds >= size and seconds % size == 0:
                n = int(seconds // size)
                return f"`{n} {unit}{'s' if n != 1 else ''}`"
        return f"`{seconds:g} sec`"


class DataSize(Kind):
    """A data size: a number of bytes or a number and a unit (binary)."""

    __slots__ = ()

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        return {
            "type": ["string", "integer"],
            "description": "a data size such as '1 GB' (a number is bytes)",
        }

    def label(self) -> str:
        return "data size"

    def render(self, value: Any) -> str:
        n = int(value)
        for unit, size in (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2)):
            if n >= size and n % size == 0:
                return f"`{n // size} {unit}`"
        if n >= 1024 and n % 1024 == 0:
            return f"`{n // 1024} KB`"
        return f"`{n} B`"


class Choice(Kind):
    """One of ``values``."""

    __slots__ = ("values",)

    def __init__(self, values: tuple[str, ...]) -> None:
        self.values = values

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        return {"enum": list(self.values)}

    def label(self) -> str:
        return ", ".join(f"`{v}`" for v in self.values)


class Const(Kind):
    """Exactly ``value``."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        return {"const": self.value}

    def label(self) -> str:
        return f"`{self.value}`"


class Scalar(Kind):
    """A string, number or boolean (a property or parameter value)."""

    __slots__ = ()

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        return {"type": ["string", "number", "boolean"]}

    def label(self) -> str:
        return "scalar"


class Names(Kind):
    """A list of unique component names (no ``.``, no spaces)."""

    __slots__ = ()

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        return {
            "type": "array",
            "items": {"type": "string", "pattern": "^[^.\\s]+$"},
            "uniqueItems": True,
        }

    def label(self) -> str:
        return "list of names"


class Relationships(Kind):
    """A list of relationship names, or a single name.

    ``examples``: the schema suggests the built-in processors' relationship names.
    """

    __slots__ = ("examples",)

    def __init__(self, examples: bool = True) -> None:
        self.examples = examples

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        item: dict[str, Any] = {"type": "string"}
        if self.examples:
            item["examples"] = list(ctx.get("relationships", ()))
        return {
            "anyOf": [
                {"type": "array", "items": item},
                {"type": "string", "description": "one relationship"},
            ]
        }

    def label(self) -> str:
        return "list of relationships, or one"


class Listed(Kind):
    """A list whose items are each one of ``values``."""

    __slots__ = ("values",)

    def __init__(self, values: tuple[str, ...]) -> None:
        self.values = values

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        return {"type": "array", "items": {"enum": list(self.values)}}

    def label(self) -> str:
        return "list of names"


class ComponentType(Kind):
    """A registered processor or service type name, or ``package.module:ClassName``."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind  # "processor" or "service"

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        return {
            "type": "string",
            "anyOf": [
                {"enum": list(ctx.get(f"{self.kind}_types", ()))},
                {"pattern": "^[A-Za-z_][\\w.]*:[A-Za-z_][\\w.]*$"},
                {"pattern": "^[A-Za-z_]\\w*$"},
            ],
        }

    def label(self) -> str:
        return "type name"


class Properties(Kind):
    """Property values by name; ``dynamic``: any name, scalar values only (the
    declared properties are checked per ``type`` by the schema's rules)."""

    __slots__ = ("dynamic",)

    def __init__(self, dynamic: bool = False) -> None:
        self.dynamic = dynamic

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        if self.dynamic:
            return {"type": "object", "additionalProperties": Scalar().schema(ctx)}
        return {"type": "object"}

    def label(self) -> str:
        return "mapping name → value"


class MapOf(Kind):
    """A mapping of names to values described by the definition ``ref``."""

    __slots__ = ("ref",)

    def __init__(self, ref: str) -> None:
        self.ref = ref

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": {"$ref": f"#/$defs/{self.ref}"},
        }

    def label(self) -> str:
        return f"mapping name → {self.ref}"


class ListOf(Kind):
    """A list of values described by the definition ``ref``."""

    __slots__ = ("ref",)

    def __init__(self, ref: str) -> None:
        self.ref = ref

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        return {"type": "array", "items": {"$ref": f"#/$defs/{self.ref}"}}

    def label(self) -> str:
        return f"list of {self.ref}s"


class Nested(Kind):
    """A mapping with the keys of ``section`` (strict); ``ref``: the schema names it
    as a definition instead of repeating it."""

    __slots__ = ("ref", "section")

    def __init__(self, section: Section, ref: bool = False) -> None:
        self.section = section
        self.ref = ref

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        if self.ref:
            return {"$ref": f"#/$defs/{self.section.name}"}
        return self.section.schema(ctx)

    def label(self) -> str:
        return "mapping"


class AnyOf(Kind):
    """Any of several forms (``retry: [failure]`` or ``retry: {relationships: ...}``)."""

    __slots__ = ("forms",)

    def __init__(self, forms: tuple[Kind, ...]) -> None:
        self.forms = forms

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        out: list[dict[str, Any]] = []
        for form in self.forms:
            s = form.schema(ctx)
            out.extend(s["anyOf"] if list(s) == ["anyOf"] else [s])
        return {"anyOf": out}

    def label(self) -> str:
        return ", or ".join(f.label() for f in self.forms)


class Arrow(Kind):
    """A connection as a string (:data:`ARROW`)."""

    __slots__ = ()

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        return {
            "type": "string",
            "pattern": ARROW.pattern,
            "description": "'a -> b' or 'a:rel1,rel2 -> b'",
        }

    def label(self) -> str:
        return "string"


class Null(Kind):
    """An empty value."""

    __slots__ = ()

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        return {"type": "null"}

    def label(self) -> str:
        return "empty"


# -- keys and sections --------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """One key of a mapping of the flow file.

    Attributes:
        name: the key.
        kind: the type of its value.
        doc: one line for the docs' table (Markdown) and the schema's description.
        default: the value used when the key is absent (the Python value: seconds for a
            duration, bytes for a size); ``None`` when there is none.
        default_doc: how the docs say the default, when not simply ``default``.
        required: the key must be given.
        noun: how a problem with a bad value names what is expected (``settings``).
    """

    name: str
    kind: Kind
    doc: str
    default: Any = None
    default_doc: str | None = None
    required: bool = False
    noun: str | None = None

    def default_text(self) -> str:
        """The default as the docs' tables show it."""
        if self.required:
            return "**required**"
        if self.default_doc is not None:
            return self.default_doc
        if self.default is None:
            return "—"
        return self.kind.render(self.default)

    def description(self) -> str:
        """The doc line as plain text, for the schema: a "(see [section](#...))" link
        is dropped (the schema has no sections), other links become their text."""
        return _LINK.sub(r"\1", _SEE_ALSO.sub("", self.doc))


@dataclass(frozen=True)
class Section:
    """The keys one mapping of the flow file accepts, in the order the docs list them.

    Attributes:
        name: its name (``schedule``); the schema's definition name when it has one.
        fields: its keys.
        shorthand: another form the whole value may take instead of the mapping (a
            parameter may be a plain scalar, a connection a ``a -> b`` string).
    """

    name: str
    fields: tuple[Field, ...]
    shorthand: tuple[Kind, ...] = ()
    _by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name: f for f in self.fields})

    def keys(self) -> tuple[str, ...]:
        """The accepted keys, in declaration order."""
        return tuple(f.name for f in self.fields)

    def __getitem__(self, name: str) -> Field:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def get(self, name: str) -> Field | None:
        """The field ``name``, or None when the section has no such key."""
        return self._by_name.get(name)

    def without(self, name: str, *drop: str) -> Section:
        """This section minus some keys, under another name (an inline group)."""
        return Section(name, tuple(f for f in self.fields if f.name not in drop))

    def values(self, name: str) -> tuple[str, ...]:
        """The allowed values of the choice ``name``."""
        kind = self[name].kind
        if not isinstance(kind, Choice):
            raise TypeError(f"{self.name} {name} is not a choice")
        return kind.values

    def defaults(self) -> dict[str, Any]:
        """Key -> default, for the keys that have one."""
        return {f.name: f.default for f in self.fields if f.default is not None}

    def schema(self, ctx: SchemaContext) -> dict[str, Any]:
        """The strict JSON Schema object of the mapping form."""
        props: dict[str, Any] = {}
        for f in self.fields:
            s = dict(f.kind.schema(ctx))
            # The key's meaning first, then what its kind says about spelling a value.
            s["description"] = "; ".join(
                d for d in (f.description(), s.get("description")) if d
            )
            if f.default is not None and not isinstance(f.kind, Duration | DataSize):
                s["default"] = f.default
            props[f.name] = s
        out: dict[str, Any] = {
            "type": "object",
            "additionalProperties": False,
            "properties": props,
        }
        required = [f.name for f in self.fields if f.required]
        if required:
            out["required"] = required
        return out

    def full_schema(self, ctx: SchemaContext) -> dict[str, Any]:
        """The mapping form, or any shorthand form."""
        mapping = self.schema(ctx)
        if not self.shorthand:
            return mapping
        return {"anyOf": [*(k.schema(ctx) for k in self.shorthand), mapping]}


# -- the format ----------------------------------------------------------------------------
SCHEDULE = Section(
    "schedule",
    (
        Field(
            "strategy",
            Choice(("timer", "cron", "event")),
            "`timer`: every `period`; `cron`: on a cron expression; `event`: only when "
            "input arrives (needs an incoming connection)",
            default="timer",
            default_doc="`timer` (`cron` if `cron` is given)",
        ),
        Field(
            "period",
            Duration(),
            "time between triggers for `timer`; `0` = as soon as there is work",
            default=0.0,
        ),
        Field(
            "cron",
            Text(),
            "six fields, `sec min hour day-of-month month day-of-week`, `?` allowed: "
            "`0 0/5 * * * ?`; evaluated in UTC",
        ),
        Field(
            "concurrent_tasks",
            Integer(minimum=1),
            "triggers that may run at once (forced to 1 for processors that trigger "
            "serially)",
            default=1,
        ),
        Field(
            "batch_size",
            Integer(minimum=1),
            "FlowFiles a processor takes per trigger (`context.batch_size`)",
            default=1000,
        ),
        Field(
            "max_triggers",
            Integer(minimum=0),
            "stop after this many triggers; a source that reaches it is finished",
            default=0,
            default_doc="`0` (unlimited)",
        ),
        Field(
            "yield_duration",
            Duration(),
            "how long the processor pauses when it yields (nothing to do, remote down)",
            default=1.0,
        ),
        Field(
            "penalty_duration",
            Duration(),
            "how long a penalized FlowFile waits before it can be polled again",
            default=30.0,
        ),
        Field(
            "poison_attempts",
            Integer(minimum=1),
            "a FlowFile whose trigger keeps failing alone (isolated from its batch, on "
            "a processor without a `failure` relationship) is reported as poison in "
            'the status and the run summary after this many attempts; see "isolation '
            'rule" in docs/architecture.md',
            default=3,
        ),
    ),
)

RETRY = Section(
    "retry",
    (
        Field(
            "relationships",
            Relationships(),
            "the relationships to retry",
            required=True,
        ),
        Field(
            "count",
            Integer(minimum=1),
            "retries before the FlowFile is routed normally",
            default=10,
        ),
        Field(
            "backoff",
            Choice(("penalize", "yield")),
            "how a retried FlowFile waits: `penalize` the FlowFile, or `yield` the "
            "processor",
            default="penalize",
        ),
        Field(
            "max_backoff",
            Duration(),
            "the longest wait (the wait doubles with every attempt)",
            default=600.0,
        ),
    ),
)

BACK_PRESSURE = Section(
    "back_pressure",
    (
        Field(
            "objects",
            Integer(minimum=0),
            "the source is not triggered while queued + in-flight FlowFiles reach "
            "this; `0` disables",
            default=10_000,
        ),
        Field(
            "size",
            DataSize(),
            "the same for bytes; `0` disables",
            default=1024**3,
        ),
    ),
)

_PRIORITIZERS = (
    "FirstInFirstOut",
    "OldestFlowFileFirst",
    "NewestFlowFileFirst",
    "PriorityAttribute",
)

CONNECTION = Section(
    "connection",
    (
        Field("from", Text(), "the source: an endpoint name", required=True),
        Field("to", Text(), "the destination: an endpoint name", required=True),
        Field(
            "relationships",
            Relationships(examples=False),
            "relationships of `from` carried by this connection",
            default_doc="`success`",
        ),
        Field(
            "back_pressure",
            Nested(BACK_PRESSURE),
            "when the source stops being triggered (`objects`, `size`)",
        ),
        Field(
            "prioritizers",
            Listed(_PRIORITIZERS),
            "`FirstInFirstOut`, `OldestFlowFileFirst`, `NewestFlowFileFirst`, "
            "`PriorityAttribute` (the `priority` attribute: numbers ascending, then "
            "text, then none); NiFi's class names "
            "(`org.apache.nifi.prioritizer.OldestFlowFileFirstPrioritizer`) work too; "
            "the first is most significant",
            default_doc="queue order",
        ),
        Field(
            "expiration",
            Duration(),
            "FlowFiles older than this (since they entered the flow) are dropped with "
            "an EXPIRE event",
            default_doc="`0` (never)",
        ),
        Field("name", Text(), "a label", default_doc="the connection id"),
    ),
    shorthand=(Arrow(),),
)

PARAMETER = Section(
    "parameter",
    (
        Field("value", Scalar(), "the value (numbers and true/false become text)"),
        Field(
            "env",
            Text(),
            "read from this environment variable when the flow is validated; `value` "
            "is the fallback",
        ),
        Field(
            "sensitive",
            Boolean(),
            "only sensitive properties may reference it; printed masked",
            default_doc="`false`",
        ),
        Field("description", Text(), "documentation only"),
    ),
    shorthand=(Scalar(), Null()),
)

_DYNAMIC_DOC = (
    "user-named (dynamic) properties, said explicitly: never taken for a misspelt "
    "declared property ([dynamic properties](#dynamic-properties))"
)

SERVICE = Section(
    "service",
    (
        Field(
            "type",
            ComponentType("service"),
            "a registered type name or `package.module:ClassName`",
            required=True,
        ),
        Field(
            "properties",
            Properties(),
            "property values ([values](#values-properties-durations-and-sizes))",
        ),
        Field("dynamic_properties", Properties(dynamic=True), _DYNAMIC_DOC),
        Field("comment", Text(), "free text"),
    ),
)

PROCESSOR = Section(
    "processor",
    (
        Field(
            "type",
            ComponentType("processor"),
            "a registered type name (`flowengine processors` lists them), or "
            "`package.module:ClassName` for a class not registered as a plugin (the "
            "module must be importable)",
            required=True,
        ),
        Field(
            "properties",
            Properties(),
            "declared properties by snake_case name or NiFi display name; dynamic "
            "properties (UpdateAttribute, RouteOnAttribute, GenerateFlowFile) as plain "
            "keys, unless a name is close to a declared one "
            "([dynamic properties](#dynamic-properties))",
        ),
        Field("dynamic_properties", Properties(dynamic=True), _DYNAMIC_DOC),
        Field(
            "schedule",
            Nested(SCHEDULE, ref=True),
            "when and how it is triggered ([schedule](#schedule))",
        ),
        Field(
            "auto_terminate",
            Relationships(),
            "relationships whose FlowFiles are dropped (each drop is a provenance DROP "
            "event)",
        ),
        Field(
            "retry",
            AnyOf((Relationships(), Nested(RETRY))),
            "retry these relationships before routing to them (NiFi's Automatically "
            "Retry): a list, or a mapping ([retry](#retry))",
        ),
        Field("comment", Text(), "free text"),
    ),
)

SETTINGS = Section(
    "settings",
    (
        Field(
            "provenance",
            Boolean(),
            "record provenance events (`--no-provenance` turns it off for one run)",
            default=True,
        ),
        Field(
            "administrative_yield",
            Duration(),
            "how long a processor pauses after an unexpected exception (and between "
            "retries of a failing `on_scheduled`)",
            default=30.0,
        ),
        Field(
            "sync",
            Choice(("normal", "always")),
            "durable runs: `normal` survives a killed process; `always` also fsyncs "
            "every commit group (and content) to survive power loss",
            default="normal",
        ),
        Field(
            "max_threads",
            Integer(minimum=1),
            "worker threads shared by all sync `on_trigger` calls",
            default=10,
        ),
        Field(
            "swap_threshold",
            Integer(minimum=1),
            "durable runs: FlowFiles a connection keeps in memory before swapping the "
            "rest to the FlowFile repository",
            default=20_000,
        ),
        Field(
            "swap_batch_size",
            Integer(minimum=1),
            "durable runs: FlowFiles per swapped-out batch",
            default=10_000,
        ),
        Field(
            "content_directory",
            Text(),
            "durable runs: where content files live",
            default_doc="`STATE_DIR/content`",
            noun="a directory path",
        ),
        Field(
            "content_max_size",
            DataSize(),
            "durable runs: refuse new content beyond this size; writers yield and "
            "retry",
            default=0,
            default_doc="unlimited",
        ),
        Field(
            "claim_max_appendable_size",
            DataSize(),
            "durable runs: contents up to this size share files",
            default=50 * 1024,
        ),
        Field(
            "provenance_max_age",
            Duration(),
            "durable runs: how long provenance events are kept (the oldest segments go "
            "first)",
            default=30 * 86400.0,
        ),
        Field(
            "provenance_max_size",
            DataSize(),
            "durable runs: how much provenance is kept (the oldest segments go first)",
            default=10 * 1024**3,
        ),
    ),
)

FLOW = Section(
    "flow",
    (
        Field(
            "flow",
            Text(),
            "the flow's name (logs, status, default state directory "
            "`.flowengine/<flow>`)",
            required=True,
        ),
        Field("description", Text(), "free text"),
        Field(
            "version",
            Const(VERSION),
            "the format version; anything else is an error",
            default_doc=f"`{VERSION}`",
        ),
        Field(
            "parameters",
            MapOf("parameter"),
            "`#{name}` values ([parameters](#parameters))",
        ),
        Field(
            "services",
            MapOf("service"),
            "controller services ([services](#services))",
        ),
        Field(
            "processors",
            MapOf("processor"),
            "the processors, by name ([processors](#processors))",
        ),
        Field(
            "connections",
            ListOf("connection"),
            "what feeds what ([connections](#connections))",
        ),
        Field(
            "groups",
            MapOf("group"),
            "nested process groups ([groups](#groups))",
        ),
        Field(
            "input_ports",
            Names(),
            "where FlowFiles enter ([ports and funnels](#ports-and-funnels))",
        ),
        Field(
            "output_ports",
            Names(),
            "where FlowFiles leave ([ports and funnels](#ports-and-funnels))",
        ),
        Field(
            "funnels",
            Names(),
            "merge points ([ports and funnels](#ports-and-funnels))",
        ),
        Field(
            "settings",
            Nested(SETTINGS),
            "run settings, root only ([settings](#settings))",
        ),
    ),
)

#: an inline group: the keys of a flow, minus those only the root has
GROUP = FLOW.without("group", "flow", "version", "settings")

#: a group read from another flow file
GROUP_FILE = Section(
    "group_file",
    (
        Field(
            "file",
            Text(),
            "the flow file of the group, relative to the including file",
            required=True,
        ),
        Field(
            "parameters",
            MapOf("parameter"),
            "override the file's own parameters",
        ),
    ),
)

#: every section, by the name the docs' markers use
SECTIONS: dict[str, Section] = {
    s.name: s
    for s in (
        FLOW,
        PARAMETER,
        SERVICE,
        PROCESSOR,
        RETRY,
        SCHEDULE,
        CONNECTION,
        GROUP_FILE,
        SETTINGS,
    )
}


# -- docs ----------------------------------------------------------------------------------
def _rows(section: Section, prefix: str = "") -> Iterator[tuple[str, Field]]:
    for f in section:
        yield prefix + f.name, f
        if isinstance(f.kind, Nested) and not f.kind.ref and section is not FLOW:
            yield from _rows(f.kind.section, f"{prefix}{f.name}.")


def markdown_table(section: Section) -> str:
    """The reference table of a section: key, type, default and meaning."""
    lines = ["| Key | Type | Default | Meaning |", "|---|---|---|---|"]
    for name, f in _rows(section):
        lines.append(f"| `{name}` | {f.kind.label()} | {f.default_text()} | {f.doc} |")
    return "\n".join(lines) + "\n"


_MARKED = re.compile(
    r"(<!-- flow-format:(\w+) [^\n]*-->\n)(.*?)(<!-- /flow-format -->)", re.S
)


def update_docs(text: str) -> str:
    """``text`` with every marked table regenerated from the declaration.

    A table sits between ``<!-- flow-format:NAME (...) -->`` and
    ``<!-- /flow-format -->``; ``NAME`` is a key of :data:`SECTIONS`.
    """

    def table(m: re.Match[str]) -> str:
        return m.group(1) + markdown_table(SECTIONS[m.group(2)]) + m.group(4)

    return _MARKED.sub(table, text)


def main(argv: list[str]) -> int:
    """``python -m flowengine._flow_format FILE...``: regenerate the tables in place."""
    for name in argv:
        path = Path(name)
        text = path.read_text(encoding="utf-8")
        new = update_docs(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"{name}: tables regenerated")
    return 0


if __name__ == "__main__":  # pragma: no cover - a developer's command
    sys.exit(main(sys.argv[1:]))
