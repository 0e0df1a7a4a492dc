"""Subjectless functions and single-value reducers (NiFi guide §Subjectless).

Owns: ip hostname UUID nextInt thread getStateValue getUri, and ``count``/``join``
applied to a single value (with ``all*`` functions they are compiled as aggregations by
the compiler). ``evaluateELString`` compiles EL, so it is
registered beside :func:`compile` in ``_expression`` (which imports this module).
"""

from __future__ import annotations

import itertools
import socket
import threading
import urllib.parse
import uuid as _uuid
from typing import TYPE_CHECKING

from flowengine.expression._errors import ExpressionEvaluationError
from flowengine.expression._registry import register

if TYPE_CHECKING:
    from flowengine.expression._context import EvalContext

__all__: list[str] = []

S, B = "STRING", "BOOLEAN"
_COUNTER = itertools.count()
_LOCK = threading.Lock()


@register("ip", subject="NONE", null="never")
def _ip() -> str:
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


@register(
    "hostname", min_args=0, max_args=1, subject="NONE", arg_types=(B,), null="never"
)
def _hostname(fqdn: bool | None = False) -> str:
    name = socket.gethostname()
    if fqdn is True:
        try:
            return socket.getfqdn(name)
        except OSError:
            return name
    return name


@register("UUID", subject="NONE", null="never")
def _uuid4() -> str:
    return str(_uuid.uuid4())


@register("nextInt", subject="NONE", result="WHOLE", null="never")
def _next_int() -> int:
    with _LOCK:
        return next(_COUNTER)


@register("thread", subject="NONE", null="never")
def _thread() -> str:
    return threading.current_thread().name


@register(
    "getStateValue",
    min_args=1,
    max_args=1,
    subject="NONE",
    arg_types=(S,),
    null="maybe",
    ctx=True,
)
def _get_state_value(ctx: EvalContext, key: str | None) -> str | None:
    if key is None or ctx.state is None:
        return None
    return ctx.state.get(key)


@register(
    "getUri", min_args=7, max_args=7, subject="NONE", arg_types=(S,), null="never"
)
def _get_uri(
    scheme: str | None,
    user_info: str | None,
    host: str | None,
    port: str | None,
    path: str | None,
    query: str | None,
    fragment: str | None,
) -> str:
    port_num = int(port) if port not in (None, "") else -1
    out = ""
    if scheme:
        out += scheme + ":"
    if host:
        out += "//"
        if user_info:
            out += urllib.parse.quote(user_info, safe="!$&'()*+,;=:-._~") + "@"
        out += host if ":" not in host or host.startswith("[") else f"[{host}]"
        if port_num != -1:
            out += f":{port_num}"
    if path:
        out += urllib.parse.quote(path, safe="/!$&'()*+,;=:@-._~")
    if query:
        out += "?" + urllib.parse.quote(query, safe="/?!$&'()*+,;=:@-._~")
    if fragment:
        out += "#" + urllib.parse.quote(fragment, safe="/?!$&'()*+,;=:@-._~")
    if not scheme and not host and not path:
        raise ExpressionEvaluationError(
            "getUri() needs at least a scheme, host or path"
        )
    return out


@register("count", subject="ANY", result="WHOLE", null="never")
def _count_one(value: object) -> int:
    return 0 if value is None or value is False else 1


@register("join", min_args=1, max_args=1, arg_types=(S,), null="maybe")
def _join_one(value: str | None, delimiter: str | None) -> str | None:
    return value
