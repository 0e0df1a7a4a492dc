"""Record paths: a small field-path syntax shared by Partition/Update/LookupRecord.

The common subset of NiFi's RecordPath, evaluated column-wise on Arrow batches::

    /name              a top-level field
    /address/city      a field of a nested record (struct)
    /items[0]          an element of an array (list); negative counts from the end
    /items[-1]/sku     ... and a field of that element
    /attrs['color']    the value of a map key

A path that meets a missing field, a null parent, an index out of range or an absent key
yields null for that record (as NiFi does). Only field steps can be *set*
(UpdateRecord); a missing top-level field is added, a missing nested field is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["RecordPath", "RecordPathError", "compile_path"]


class RecordPathError(ValueError):
    """A record path that cannot be parsed or applied."""


@dataclass(frozen=True)
class _Step:
    kind: str  # "field" | "index" | "key"
    value: str | int


_STEP = re.compile(
    r"""/(?P<field>[^/\[\]'"]+)|\[\s*(?P<index>-?\d+)\s*\]|\[\s*'(?P<key1>(?:[^'\\]|\\.)*)'\s*\]|\[\s*"(?P<key2>(?:[^"\\]|\\.)*)"\s*\]"""
)


@dataclass(frozen=True)
class RecordPath:
    """A compiled record path; see the module docstring for the syntax."""

    text: str
    steps: tuple[_Step, ...]

    @property
    def field_name(self) -> str:
        """The name of the last field step (what a partition or result is called)."""
        for s in reversed(self.steps):
            if s.kind == "field":
                return str(s.value)
        return self.text

    @property
    def settable(self) -> bool:
        return all(s.kind == "field" for s in self.steps)

    def evaluate(self, batch: pa.RecordBatch | pa.Table) -> pa.Array:
        """The value of the path for every record (null where it does not resolve)."""
        first = self.steps[0]
        n = batch.num_rows
        idx = batch.schema.get_field_index(str(first.value))
        if idx < 0:
            return pa.nulls(n)
        arr = batch.column(idx)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        for step in self.steps[1:]:
            arr = _apply(arr, step)
        return arr

    def set(self, batch: pa.RecordBatch, values: pa.Array) -> pa.RecordBatch:
        """``batch`` with the path's field replaced by ``values`` (field steps only)."""
        if not self.settable:
            raise RecordPathError(
                f"record path {self.text!r} cannot be set: only /field/field paths can"
            )
        names = [str(s.value) for s in self.steps]
        idx = batch.schema.get_field_index(names[0])
        if idx < 0:
            if len(names) > 1:
                raise RecordPathError(
                    f"record path {self.text!r}: field {names[0]!r} does not exist"
                )
            return batch.append_column(names[0], values)
        new = _set_in(batch.column(idx), names[1:], values, self.text)
        return batch.set_column(idx, pa.field(names[0], new.type), new)


def _apply(arr: pa.Array, step: _Step) -> pa.Array:
    t = arr.type
    n = len(arr)
    if step.kind == "field":
        if not pa.types.is_struct(t) or t.get_field_index(str(step.value)) < 0:
            return pa.nulls(n)
        return pc.struct_field(arr, [t.get_field_index(str(step.value))])
    if step.kind == "key":
        if not pa.types.is_map(t):
            return pa.nulls(n)
        return pc.map_lookup(arr, pa.scalar(step.value, t.key_type), "first")
    if not (pa.types.is_list(t) or pa.types.is_large_list(t)):
        return pa.nulls(n)
    i = int(step.value)
    lengths = pc.fill_null(pc.list_value_length(arr), 0)
    offsets = arr.offsets
    base = offsets.slice(0, n) if i >= 0 else offsets.slice(1, n)
    positions = pc.add(base, pa.scalar(i, base.type))
    inside = (
        pc.less(pa.scalar(i), lengths)
        if i >= 0
        else pc.less_equal(pa.scalar(-i), lengths)
    )
    inside = pc.and_(inside, pc.is_valid(arr))
    positions = pc.if_else(inside, positions, pa.scalar(None, base.type))
    return pc.take(arr.values, positions)


def _set_in(arr: pa.Array, names: list[str], values: pa.Array, text: str) -> pa.Array:
    if not names:
        return values
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    t = arr.type
    if not pa.types.is_struct(t) or t.get_field_index(names[0]) < 0:
        raise RecordPathError(
            f"record path {text!r}: field {names[0]!r} does not exist"
        )
    i = t.get_field_index(names[0])
    children = [pc.struct_field(arr, [k]) for k in range(t.num_fields)]
    children[i] = _set_in(children[i], names[1:], values, text)
    fields = [pa.field(t.field(k).name, children[k].type) for k in range(t.num_fields)]
    mask = arr.is_null() if arr.null_count else None
    return pa.StructArray.from_arrays(children, fields=fields, mask=mask)


def compile_path(text: str) -> RecordPath:
    """Parse a record path; raises :class:`RecordPathError` naming the bad part."""
    s = text.strip()
    if not s.startswith("/"):
        raise RecordPathError(f"record path {text!r} must start with '/'")
    pos = 0
    steps: list[_Step] = []
    while pos < len(s):
        m = _STEP.match(s, pos)
        if m is None:
            raise RecordPathError(
                f"record path {text!r}: cannot parse {s[pos:]!r} (at character {pos + 1})"
            )
        if m.group("field") is not None:
            steps.append(_Step("field", m.group("field").strip()))
        elif m.group("index") is not None:
            steps.append(_Step("index", int(m.group("index"))))
        else:
            key = m.group("key1") if m.group("key1") is not None else m.group("key2")
            steps.append(_Step("key", re.sub(r"\\(.)", r"\1", key)))
        pos = m.end()
    if not steps or steps[0].kind != "field":
        raise RecordPathError(f"record path {text!r} must start with a field name")
    return RecordPath(text, tuple(steps))
