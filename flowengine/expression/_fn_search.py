"""Searching functions and the JSONPath family (NiFi guide §Searching).

Owns: startsWith endsWith contains in find matches indexOf lastIndexOf isJson
jsonPath jsonPathDelete jsonPathAdd jsonPathSet jsonPathPut. Regexes are Java
regexes (``find`` is a partial match, ``matches`` a whole-string match). JSONPath
uses the maintained ``python-jsonpath`` library with Jayway's result rules layered
on top: a *definite* path yields its single value (missing -> ""), an indefinite
one a list; a one-element list of a scalar is unwrapped; containers render as
compact JSON; an empty subject or invalid JSON is an evaluation error.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from flowengine.expression._errors import ExpressionEvaluationError
from flowengine.expression._regex import java_regex
from flowengine.expression._registry import register
from flowengine.expression._values import JAVA_WS, java_double_str
from flowengine.expression.jayway import (
    InvalidJsonPath,
    JaywayPath,
    PathNotFound,
    compile_path,
)

__all__: list[str] = []

S, B, W = "STRING", "BOOLEAN", "WHOLE"


@register(
    "startsWith",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    result=B,
    null="never",
    inline="{s}.startswith({a0})",
    null_value="False",
)
def _starts_with(s: str | None, prefix: str | None) -> bool:
    return s is not None and prefix is not None and s.startswith(prefix)


@register(
    "endsWith",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    result=B,
    null="never",
    inline="{s}.endswith({a0})",
    null_value="False",
)
def _ends_with(s: str | None, suffix: str | None) -> bool:
    return s is not None and suffix is not None and s.endswith(suffix)


@register(
    "contains",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    result=B,
    null="never",
    inline="({a0} in {s})",
    null_value="False",
)
def _contains(s: str | None, part: str | None) -> bool:
    return s is not None and part is not None and part in s


@register("in", min_args=1, max_args=None, arg_types=(S,), result=B, null="never")
def _in(s: str | None, *values: str | None) -> bool:
    return s is not None and s in values


def _check_regex(regex: object) -> None:
    if isinstance(regex, str):
        java_regex(regex)


@register(
    "find",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    result=B,
    null="never",
    validate=_check_regex,
)
def _find(s: str | None, regex: str | None) -> bool:
    if s is None or regex is None:
        return False
    return java_regex(regex).search(s) is not None


@register(
    "matches",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    result=B,
    null="never",
    validate=_check_regex,
)
def _matches(s: str | None, regex: str | None) -> bool:
    if s is None or regex is None:
        return False
    return java_regex(regex).fullmatch(s) is not None


@register(
    "indexOf",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    result=W,
    null="never",
    inline="{s}.find({a0})",
    null_value="-1",
)
def _index_of(s: str | None, part: str | None) -> int:
    return -1 if s is None or part is None else s.find(part)


@register(
    "lastIndexOf",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    result=W,
    null="never",
    inline="{s}.rfind({a0})",
    null_value="-1",
)
def _last_index_of(s: str | None, part: str | None) -> int:
    return -1 if s is None or part is None else s.rfind(part)


@register("isJson", result=B, null="never")
def _is_json(s: str | None) -> bool:
    if s is None:
        return False
    text = s.strip(JAVA_WS)
    if not text or text[0] not in "{[":
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


# -- JSONPath -------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _compile_path(path: str) -> JaywayPath:
    # the one Jayway dialect evaluator, shared with EvaluateJsonPath and SplitJson
    try:
        return compile_path(path)
    except InvalidJsonPath as exc:
        raise ExpressionEvaluationError(
            f"Invalid JSON Path expression: {path}"
        ) from exc


def _check_path(path: object, *_: object) -> None:
    if isinstance(path, str):
        _compile_path(path)


def _document(s: str | None) -> Any:
    if s is None or s == "":
        raise ExpressionEvaluationError("Subject is empty")
    try:
        return json.loads(s)
    except ValueError as exc:
        raise ExpressionEvaluationError(f"Subject contains invalid JSON: {s}") from exc


def _to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return java_double_str(value)
    return str(value)


def _representation(value: Any) -> str:
    if isinstance(value, dict):
        return _to_json(value)
    if isinstance(value, list):
        if len(value) == 1:
            return _representation(value[0])
        return _to_json(value)
    return _scalar_text(value)


@register(
    "jsonPath",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    null="never",
    validate=_check_path,
)
def _json_path(s: str | None, path: str | None) -> str:
    doc = _document(s)
    if path is None:
        raise ExpressionEvaluationError("Invalid JSON Path expression: null")
    try:
        return _representation(_compile_path(path).read(doc))
    except PathNotFound:
        return ""


def _matches_of(doc: Any, path: str) -> list[Any]:
    return _compile_path(path).matches(doc)


def _container(doc: Any, parts: tuple[Any, ...]) -> Any:
    node = doc
    for part in parts:
        node = node[part]
    return node


def _json_value(value: object) -> object:
    return value


@register(
    "jsonPathDelete",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    null="never",
    validate=_check_path,
)
def _json_path_delete(s: str | None, path: str | None) -> str:
    doc = _document(s)
    matches = _matches_of(doc, path or "")
    # Delete from the end so earlier list indices stay valid.
    for m in sorted(matches, key=lambda m: m.parts, reverse=True):
        if not m.parts:
            continue
        parent = _container(doc, m.parts[:-1])
        key = m.parts[-1]
        if isinstance(parent, dict):
            parent.pop(key, None)
        elif isinstance(parent, list) and isinstance(key, int) and key < len(parent):
            del parent[key]
    return _to_json(doc)


@register(
    "jsonPathSet",
    min_args=2,
    max_args=2,
    arg_types=(S, "ANY"),
    null="never",
    validate=_check_path,
)
def _json_path_set(s: str | None, path: str | None, value: object) -> str:
    doc = _document(s)
    for m in _matches_of(doc, path or ""):
        if not m.parts:
            continue
        parent = _container(doc, m.parts[:-1])
        parent[m.parts[-1]] = _json_value(value)
    return _to_json(doc)


@register(
    "jsonPathAdd",
    min_args=2,
    max_args=2,
    arg_types=(S, "ANY"),
    null="never",
    validate=_check_path,
)
def _json_path_add(s: str | None, path: str | None, value: object) -> str:
    doc = _document(s)
    for m in _matches_of(doc, path or ""):
        if isinstance(m.obj, list):
            m.obj.append(_json_value(value))
    return _to_json(doc)


@register(
    "jsonPathPut",
    min_args=3,
    max_args=3,
    arg_types=(S, S, "ANY"),
    null="never",
    validate=_check_path,
)
def _json_path_put(
    s: str | None, path: str | None, key: str | None, value: object
) -> str:
    doc = _document(s)
    for m in _matches_of(doc, path or ""):
        if isinstance(m.obj, dict) and key is not None:
            m.obj[key] = _json_value(value)
    return _to_json(doc)
