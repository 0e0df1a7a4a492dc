"""FlattenJson: nested JSON to one level of keys (and back), as NiFi's FlattenJson
(which uses the json-flattener library's modes and key syntax)."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from flowengine import (
    AllowableValue,
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

from ._common import ERROR_ATTRIBUTE, BadJson

__all__ = ["FlattenJson"]

NORMAL, KEEP_ARRAYS, DOT, KEEP_PRIMITIVE = (
    "normal",
    "keep arrays",
    "dot notation",
    "keep primitive arrays",
)
FLATTEN, UNFLATTEN = "flatten", "unflatten"
_TOKEN: Final = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]')


class _Flattener:
    def __init__(self, sep: str, mode: str, ignore_reserved: bool) -> None:
        self.sep, self.mode, self.ignore = sep, mode, ignore_reserved

    def _key(self, prefix: str, name: str) -> str:
        if not self.ignore and (self.sep in name or "[" in name or "]" in name):
            escaped = name.replace("\\", "\\\\").replace('"', '\\"')
            return f'{prefix}["{escaped}"]'
        return f"{prefix}{self.sep}{name}" if prefix else name

    def _index(self, prefix: str, i: int) -> str:
        if self.mode == DOT:
            return f"{prefix}{self.sep}{i}" if prefix else str(i)
        return f"{prefix}[{i}]"

    def _keep(self, value: list[Any]) -> bool:
        if self.mode == KEEP_ARRAYS:
            return True
        if self.mode == KEEP_PRIMITIVE:
            return all(not isinstance(v, (dict, list)) for v in value)
        return False

    def flatten(self, doc: Any) -> Any:
        if isinstance(doc, list) and self._keep(doc):
            return [self.flatten(v) if isinstance(v, dict) else v for v in doc]
        out: dict[str, Any] = {}
        stack: list[tuple[str, Any]] = [("", doc)]
        while stack:  # explicit stack: depth is bounded by the parser, not recursion
            prefix, value = stack.pop()
            if isinstance(value, dict) and value:
                stack.extend((self._key(prefix, k), value[k]) for k in reversed(value))
            elif isinstance(value, list) and value and not self._keep(value):
                stack.extend(
                    (self._index(prefix, i), value[i])
                    for i in reversed(range(len(value)))
                )
            elif isinstance(value, list) and self.mode == KEEP_ARRAYS:
                out[prefix] = [
                    self.flatten(v) if isinstance(v, dict) else v for v in value
                ]
            else:
                out[prefix] = value
        if "" in out and len(out) == 1 and not isinstance(doc, (dict, list)):
            return doc
        return out

    def _parts(self, key: str) -> list[str | int]:
        parts: list[str | int] = []
        pos, buf = 0, ""
        sep = self.sep
        while pos < len(key):
            m = _TOKEN.match(key, pos)
            if m:
                if buf:
                    parts.append(buf)
                    buf = ""
                if m.group(2) is not None:
                    parts.append(int(m.group(2)))
                else:
                    parts.append(re.sub(r"\\(.)", r"\1", m.group(1)))
                pos = m.end()
            elif sep and key.startswith(sep, pos):
                if buf:
                    parts.append(buf)
                buf = ""
                pos += len(sep)
            else:
                buf += key[pos]
                pos += 1
        if buf or not parts:
            parts.append(buf)
        if self.mode == DOT:
            parts = [int(p) if isinstance(p, str) and p.isdigit() else p for p in parts]
        return parts

    def unflatten(self, flat: Any) -> Any:
        if not isinstance(flat, dict):
            return flat
        root: Any = None
        for key, value in flat.items():
            parts = self._parts(key)
            if root is None:
                root = [] if isinstance(parts[0], int) else {}
            node = root
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                nxt: Any = (
                    None if last else ([] if isinstance(parts[i + 1], int) else {})
                )
                if isinstance(part, int) and isinstance(node, list):
                    while len(node) <= part:
                        node.append(None)
                    if last:
                        node[part] = value
                    elif node[part] is None:
                        node[part] = nxt
                    node = node[part]
                elif isinstance(node, dict):
                    if last:
                        node[str(part)] = value
                    else:
                        node = node.setdefault(str(part), nxt)
                else:
                    raise BadJson(f"key {key!r} mixes array and object paths")
        return root if root is not None else {}


class FlattenJson(Processor):
    """Flattens nested JSON into one object whose keys are paths (Separator between
    names, ``[i]`` for array indexes -- ``.i`` in dot notation), or the reverse with
    Return Type unflatten. keep arrays leaves arrays whole (objects inside them are
    flattened), keep primitive arrays leaves arrays of scalars whole. Names holding
    the separator or brackets are written ``["name"]`` unless Ignore Reserved
    Characters. Content that is not JSON goes to ``failure`` with ``json.error``.
    """

    tags = ("json", "flatten", "unflatten")
    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    example = """\
flatten:
  type: FlattenJson
  properties:
    Flatten Mode: normal
"""

    SEPARATOR = PropertyDescriptor(
        "separator",
        "The separator character used for joining keys. Must be a JSON-legal "
        "character.",
        display_name="Separator",
        default=".",
        required=True,
        validators=(validators.NON_EMPTY,),
    )
    FLATTEN_MODE = PropertyDescriptor(
        "flatten_mode",
        "Specifies how json should be flattened/unflattened",
        display_name="Flatten Mode",
        default=KEEP_ARRAYS,
        required=True,
        allowable_values=tuple(
            AllowableValue(v) for v in (NORMAL, KEEP_ARRAYS, DOT, KEEP_PRIMITIVE)
        ),
    )
    IGNORE_RESERVED = PropertyDescriptor(
        "ignore_reserved_characters",
        "If true, reserved characters in keys will be ignored",
        display_name="Ignore Reserved Characters",
        default="false",
        required=True,
        allowable_values=(AllowableValue("true"), AllowableValue("false")),
    )
    RETURN_TYPE = PropertyDescriptor(
        "return_type",
        "Specifies the desired return type of json such as flatten/unflatten",
        display_name="Return Type",
        default=FLATTEN,
        required=True,
        allowable_values=(AllowableValue(FLATTEN), AllowableValue(UNFLATTEN)),
    )
    CHARACTER_SET = PropertyDescriptor(
        "character_set",
        "The Character Set in which file is encoded",
        display_name="Character Set",
        default="UTF-8",
        required=True,
        validators=(validators.CHARACTER_SET,),
    )
    PRETTY_PRINT = PropertyDescriptor(
        "pretty_print_json",
        "Specifies whether or not resulted json should be pretty printed",
        display_name="Pretty Print JSON",
        default="false",
        required=True,
        allowable_values=(AllowableValue("true"), AllowableValue("false")),
    )

    SUCCESS = Relationship(
        "success", "Successfully flattened/unflattened files go to this relationship."
    )
    FAILURE = Relationship(
        "failure",
        "Files that cannot be flattened/unflattened go to this relationship.",
    )

    def on_scheduled(self, context: ProcessContext) -> None:
        self._f = _Flattener(
            context.property(self.SEPARATOR).value or ".",
            context.property(self.FLATTEN_MODE).value or KEEP_ARRAYS,
            bool(context.property(self.IGNORE_RESERVED).as_bool()),
        )
        self._unflatten = context.property(self.RETURN_TYPE).value == UNFLATTEN
        self._charset = context.property(self.CHARACTER_SET).value or "UTF-8"
        self._indent = 2 if context.property(self.PRETTY_PRINT).as_bool() else None

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        ok: list[FlowFile] = []
        failed: list[FlowFile] = []
        for ff in session.get(context.batch_size):
            try:
                try:
                    doc = json.loads(session.read(ff).decode(self._charset))
                except json.JSONDecodeError as exc:
                    raise BadJson(
                        f"invalid JSON at line {exc.lineno} column {exc.colno} "
                        f"(char {exc.pos}): {exc.msg}"
                    ) from exc
                except UnicodeDecodeError as exc:
                    raise BadJson(f"not {self._charset} at byte {exc.start}") from exc
                except RecursionError as exc:
                    raise BadJson("invalid JSON: nesting too deep to parse") from exc
                result = (
                    self._f.unflatten(doc) if self._unflatten else self._f.flatten(doc)
                )
                text = json.dumps(result, ensure_ascii=False, indent=self._indent)
            except (BadJson, RecursionError) as exc:
                failed.append(session.put_attribute(ff, ERROR_ATTRIBUTE, str(exc)))
                continue
            ok.append(session.write(ff, text.encode(self._charset)))
        session.transfer(ok, self.SUCCESS)
        session.transfer(failed, self.FAILURE)
