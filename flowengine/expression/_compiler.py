"""Code generation: a parsed property value becomes one Python function.

Owns the hot path. Every ``${...}`` chain is flattened into straight-line Python
statements (one variable per step) inside a single generated function with the
signature of :meth:`Expression.evaluate`; constants are folded, NiFi's casts are
inserted only where the static types differ, and the hottest string functions are
inlined from their templates. ``ifElse``/``and``/``or`` become ``if`` blocks so
that, as in NiFi, only the needed branch is evaluated. Multi-attribute functions
compile the rest of their chain into a per-value helper function.

Evaluation errors carry the position of the failing function: the generated code
has one statement per line, and the line number of the failing frame maps back to
a position in the value (no bookkeeping on the success path).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple

from flowengine.expression import _multi
from flowengine.expression import _values as V
from flowengine.expression._context import PSEUDO as _PSEUDO
from flowengine.expression._context import EvalContext, attrs_of, lookup, pseudo
from flowengine.expression._errors import (
    ExpressionError,
    ExpressionEvaluationError,
    ExpressionSyntaxError,
)
from flowengine.expression._parser import Attr, Call, Lit, Node, Param, Template
from flowengine.expression._registry import REGISTRY, Fn, closest

__all__ = ["generate"]

_EMPTY: Final[Mapping[str, str]] = {}
_INLINE_CONST: Final = (str, int, bool, type(None))
_MULTI: Final = frozenset(
    {
        "anyAttribute",
        "allAttributes",
        "anyMatchingAttribute",
        "allMatchingAttributes",
        "anyDelineatedValue",
        "allDelineatedValues",
    }
)
_REDUCERS: Final = frozenset({"join", "count"})


class _Val(NamedTuple):
    code: str
    type: str
    nullable: bool
    const: bool = False
    value: object = None


_CASTS: Final[dict[str, tuple[str, Callable[[object], object]]]] = {
    "STRING": ("_to_str", V.to_str),
    "BOOLEAN": ("_to_bool", V.to_bool),
    "WHOLE": ("_to_whole", V.to_whole),
    "DECIMAL": ("_to_decimal", V.to_decimal),
    "NUMBER": ("_to_number", V.to_number),
    "DATE": ("_to_date", V.to_str),  # placeholder; dates are never folded
    "INSTANT": ("_to_instant", V.to_str),
}
_ALLOWED: Final = {
    "BOOLEAN": {"BOOLEAN", "STRING", "NULL"},
    "WHOLE": {"WHOLE", "STRING", "DATE", "INSTANT", "DECIMAL", "NUMBER", "NULL"},
    "NUMBER": {"WHOLE", "STRING", "DATE", "INSTANT", "DECIMAL", "NUMBER", "NULL"},
    "DECIMAL": {"WHOLE", "STRING", "DATE", "INSTANT", "DECIMAL", "NUMBER", "NULL"},
}


class _Gen:
    def __init__(
        self,
        text: str,
        ns: dict[str, Any],
        counter: list[int],
        attrs: set[str],
        params: Callable[[str], str | None] | None,
    ) -> None:
        self.text = text
        self.ns = ns
        self.counter = counter
        self.attrs = attrs
        self.params = params
        self.lines: list[str] = []
        self.linepos: dict[int, int] = {}
        self.indent = 1
        self.multi_root: Call | None = None
        self.multi_value: _Val | None = None
        self.defs: list[str] = []

    # -- emission helpers ---------------------------------------------------
    def var(self) -> str:
        self.counter[0] += 1
        return f"v{self.counter[0]}"

    def line(self, code: str, pos: int | None = None) -> None:
        if pos is not None:
            self.linepos[len(self.lines)] = pos
        self.lines.append("    " * self.indent + code)

    def const(self, value: object, type_: str) -> _Val:
        if isinstance(value, _INLINE_CONST):
            return _Val(repr(value), type_, value is None, True, value)
        name = f"_k{len(self.ns)}"
        self.ns[name] = value
        return _Val(name, type_, False, True, value)

    def error(self, message: str, pos: int) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(message, pos, self.text)

    # -- nodes ----------------------------------------------------------------
    def emit(self, node: Node) -> _Val:
        if isinstance(node, Lit):
            return self.const(node.value, node.kind)
        if isinstance(node, Template):
            return self.emit_template(node)
        if isinstance(node, Attr):
            return self.emit_attr(node)
        if isinstance(node, Param):
            value = None if self.params is None else self.params(node.name)
            if value is None:
                raise self.error(f"parameter #{{{node.name}}} is not defined", node.pos)
            return self.const(value, "STRING")
        if node.subject is None:
            if node is self.multi_root and self.multi_value is not None:
                return self.multi_value
            if node.name in _MULTI:
                raise self.error(
                    f"{node.name}() must be followed by a function returning a boolean "
                    "or by a reducing function (join/count)",
                    node.pos,
                )
            return self.emit_function(node, None)
        root: Node = node
        while isinstance(root, Call) and root.subject is not None:
            root = root.subject
        if (
            isinstance(root, Call)
            and root.name in _MULTI
            and root is not self.multi_root
        ):
            return self.emit_multi(node, root)
        return self.emit_function(node, node.subject)

    def emit_template(self, node: Template) -> _Val:
        pieces: list[str] = []
        for part in node.parts:
            if isinstance(part, str):
                pieces.append(repr(part))
                continue
            val = self.render(self.emit(part))
            pieces.append(val)
        v = self.var()
        self.line(f"{v} = " + " + ".join(pieces))
        return _Val(v, "STRING", False)

    def render(self, val: _Val) -> str:
        """Python code for the value rendered as text (null -> empty string)."""
        val = self.coerce(val, "STRING", 0)
        if val.const:
            return repr("" if val.value is None else val.value)
        if val.nullable:
            return f"({val.code} or '')"
        return val.code

    def emit_attr(self, node: Attr) -> _Val:
        v = self.var()
        if not isinstance(node.name, str):
            dyn = self.coerce(self.emit(node.name), "STRING", node.pos)
            self.line(f"{v} = _lookup(_ctx(flowfile, _a, extras, state), {dyn.code})")
            return _Val(v, "STRING", True)
        name = node.name
        self.attrs.add(name)
        q = repr(name)
        self.line(f"{v} = None if extras is None else extras.get({q})")
        self.line(f"if {v} is None:")
        self.indent += 1
        if name in _PSEUDO:
            self.line(f"if flowfile is not None: {v} = _pseudo(flowfile, {q})")
            self.line(f"if {v} is None:")
            self.indent += 1
            self.line(f"{v} = _a.get({q})")
            self.line(f"if {v} is None: {v} = _getenv({q})")
            self.indent -= 1
        else:
            self.line(f"{v} = _a.get({q})")
            self.line(f"if {v} is None: {v} = _getenv({q})")
        self.indent -= 1
        return _Val(v, "STRING", True)

    # -- coercion ---------------------------------------------------------------
    def coerce(self, val: _Val, target: str, pos: int) -> _Val:
        if target == "ANY" or val.type == target:
            return val
        if target == "NUMBER" and val.type in ("WHOLE", "DECIMAL"):
            return val
        if val.type == "NULL":
            return _Val("None", target, True, True, None)
        allowed = _ALLOWED.get(target)
        if allowed is not None and val.type not in allowed:
            raise self.error(
                f"cannot implicitly convert data type {val.type} to {target}", pos
            )
        if target == "STRING" and val.type == "BOOLEAN" and not val.const:
            v = self.var()
            if val.nullable:
                self.line(
                    f"{v} = None if {val.code} is None else "
                    f"('true' if {val.code} else 'false')"
                )
            else:
                self.line(f"{v} = 'true' if {val.code} else 'false'")
            return _Val(v, "STRING", val.nullable)
        helper, fold = _CASTS[target]
        if val.const and target not in ("DATE", "INSTANT"):
            try:
                folded = fold(val.value)
            except ExpressionError as exc:
                raise self.error(exc.message, pos) from exc
            return self.const(folded, target)
        v = self.var()
        self.line(f"{v} = {helper}({val.code})", pos)
        return _Val(v, target, True)

    # -- functions -----------------------------------------------------------------
    def lookup_fn(self, node: Call) -> Fn:
        fn = REGISTRY.get(node.name)
        if fn is None:
            hint = closest(node.name)
            more = f"; did you mean {hint}()?" if hint else ""
            raise self.error(f"unknown function {node.name}(){more}", node.pos)
        n = len(node.args)
        if n < fn.min_args or (fn.max_args is not None and n > fn.max_args):
            if fn.max_args is None:
                want = f"at least {fn.min_args}"
            elif fn.min_args == fn.max_args:
                want = str(fn.min_args)
            else:
                want = f"{fn.min_args} to {fn.max_args}"
            plural = "" if want == "1" else "s"
            raise self.error(
                f"{node.name}() takes {want} argument{plural} but {n} given", node.pos
            )
        return fn

    def emit_function(self, node: Call, subject_node: Node | None) -> _Val:
        fn = self.lookup_fn(node)
        if subject_node is None and fn.subject not in ("NONE", "OPTIONAL"):
            raise self.error(
                f"{node.name}() needs a subject, e.g. ${{attr:{node.name}(...)}}",
                node.pos,
            )
        if subject_node is not None and fn.subject == "NONE":
            raise self.error(
                f"{node.name}() is a subjectless function and cannot be called on a "
                f"subject; write ${{{node.name}(...)}}",
                node.pos,
            )
        special = _SPECIAL.get(node.name)
        if special is not None:
            return special(self, fn, node, subject_node)
        subj: _Val | None = None
        if subject_node is not None:
            stype = "NUMBER" if fn.subject == "OPTIONAL" else fn.subject
            subj = self.coerce(self.emit(subject_node), stype, node.pos)
        args = [
            self.coerce(
                self.emit(a),
                fn.arg_type(i),
                node.arg_pos[i] if node.arg_pos else node.pos,
            )
            for i, a in enumerate(node.args)
        ]
        if fn.validate is not None:
            try:
                fn.validate(*[a.value if a.const else None for a in args])
            except ExpressionError as exc:
                raise self.error(exc.message, node.pos) from exc
        v = self.var()
        if (
            fn.inline is not None
            and subj is not None
            and all(
                a.const and isinstance(a.value, _INLINE_CONST) and a.value is not None
                for a in args
            )
            and (
                fn.subject != "ANY"
                or (
                    subj.type == "STRING"
                    and all(isinstance(a.value, str) for a in args)
                )
            )
        ):
            code = fn.inline.format(
                s=subj.code, **{f"a{i}": a.code for i, a in enumerate(args)}
            )
            if subj.nullable and fn.null_value is not None:
                nv = fn.null_value.format(
                    **{f"a{i}": a.code for i, a in enumerate(args)}
                )
                code = f"({nv}) if {subj.code} is None else ({code})"
            elif subj.nullable and fn.null == "propagate":
                code = f"None if {subj.code} is None else ({code})"
            self.line(f"{v} = {code}", node.pos)
        else:
            ref = f"_f_{fn.name}"
            self.ns[ref] = fn.impl
            call_args = [a.code for a in args]
            if subj is not None:
                call_args.insert(0, subj.code)
            elif fn.subject == "OPTIONAL":
                call_args.insert(0, "None")
            if fn.ctx:
                call_args.insert(0, "_ctx(flowfile, _a, extras, state)")
            self.line(f"{v} = {ref}({', '.join(call_args)})", node.pos)
        nullable = fn.null == "maybe" or (
            fn.null == "propagate" and (subj is None or subj.nullable)
        )
        if fn.null_value is not None and subj is not None:
            nullable = False
        return _Val(v, fn.result, nullable)

    def block(self, header: str, body: Callable[[], None]) -> None:
        self.line(header)
        self.indent += 1
        body()
        self.indent -= 1

    def emit_multi(self, top: Call, root: Call) -> _Val:
        chain: list[Call] = []
        node: Node = top
        while isinstance(node, Call) and node is not root:
            chain.append(node)
            node = node.subject  # type: ignore[assignment]
        chain.reverse()  # innermost first
        reducer_at = next((i for i, c in enumerate(chain) if c.name in _REDUCERS), None)
        if reducer_at is not None and reducer_at != len(chain) - 1:
            after = chain[reducer_at + 1]
            raise self.error(
                f"cannot call {after.name}() on the result of "
                f"{chain[reducer_at].name}(); "
                f"use ${{literal(${{...}}):{after.name}(...)}} instead",
                after.pos,
            )
        per_top: Node = chain[reducer_at - 1] if reducer_at else root
        if reducer_at is None:
            per_top = top
        is_all = root.name.startswith("all")
        if reducer_at is not None and not is_all:
            raise self.error(
                f"{chain[reducer_at].name}() can only follow all* functions",
                chain[reducer_at].pos,
            )
        # Compile the per-value chain into its own function.
        sub = _Gen(self.text, self.ns, self.counter, self.attrs, self.params)
        sub.multi_root = root
        sub.multi_value = _Val("_v", "STRING", True)
        result = sub.emit(per_top)
        if reducer_at is None:
            if result.type != "BOOLEAN":
                raise self.error(
                    f"{root.name}() expression must return a boolean or end with a "
                    "reducing function (join/count)",
                    top.pos,
                )
        elif chain[reducer_at].name == "join":
            result = sub.coerce(result, "STRING", top.pos)
        name = f"_m{self.counter[0]}"
        self.counter[0] += 1
        sub.line(f"return {result.code}")
        self.defs.append(
            f"def {name}(_v, flowfile, _a, extras, state):\n" + "\n".join(sub.lines)
        )
        self.defs.extend(sub.defs)
        values = self.multi_values(root)
        v = self.var()
        if reducer_at is None:
            agg = "_any" if not is_all else "_all"
            self.line(
                f"{v} = {agg}({name}, {values}, flowfile, _a, extras, state)", root.pos
            )
            return _Val(v, "BOOLEAN", False)
        red = chain[reducer_at]
        if red.name == "count":
            self.line(
                f"{v} = _count({name}, {values}, flowfile, _a, extras, state)", red.pos
            )
            return _Val(v, "WHOLE", False)
        delim = (
            self.coerce(self.emit(red.args[0]), "STRING", red.pos) if red.args else None
        )
        if delim is None:
            raise self.error("join() takes 1 argument but 0 given", red.pos)
        self.line(
            f"{v} = _join({name}, {values}, {delim.code}, flowfile, _a, extras, state)",
            red.pos,
        )
        return _Val(v, "STRING", False)

    def multi_values(self, root: Call) -> str:
        from flowengine.expression._regex import java_regex

        if not root.args:
            raise self.error(
                f"{root.name}() takes at least 1 argument but 0 given", root.pos
            )
        if root.name in ("anyDelineatedValue", "allDelineatedValues"):
            if len(root.args) != 2:
                raise self.error(f"{root.name}() takes 2 arguments", root.pos)
            value = self.coerce(self.emit(root.args[0]), "STRING", root.pos)
            delim = self.coerce(self.emit(root.args[1]), "STRING", root.pos)
            return f"_split_values({value.code}, {delim.code})"
        consts: list[str] = []
        for arg in root.args:
            if not isinstance(arg, Lit) or not isinstance(arg.value, str):
                raise self.error(
                    f"{root.name}() arguments must be string literals", arg.pos
                )
            consts.append(arg.value)
        if root.name in ("anyAttribute", "allAttributes"):
            names = self.const(tuple(consts), "ANY")
            return f"_named_values({names.code}, flowfile, _a, extras, state)"
        try:
            patterns = tuple(java_regex(p) for p in consts)
        except ExpressionError as exc:
            raise self.error(exc.message, root.pos) from exc
        pats = self.const(patterns, "ANY")
        return f"_matching_values({pats.code}, flowfile, _a, extras, state)"


# -- special forms: lazily evaluated arguments --------------------------------------


def _emit_and_or(gen: _Gen, fn: Fn, node: Call, subject_node: Node | None) -> _Val:
    assert subject_node is not None
    subj = gen.coerce(gen.emit(subject_node), "BOOLEAN", node.pos)
    v = gen.var()
    is_and = node.name == "and"

    def rhs() -> None:
        arg = gen.coerce(gen.emit(node.args[0]), "BOOLEAN", node.arg_pos[0])
        gen.line(f"{v} = {arg.code} is True")

    if is_and:
        gen.block(f"if {subj.code} is True:", rhs)
        gen.block("else:", lambda: gen.line(f"{v} = False"))
    else:
        gen.block(f"if {subj.code} is True:", lambda: gen.line(f"{v} = True"))
        gen.block("else:", rhs)
    return _Val(v, "BOOLEAN", False)


def _emit_if_else(gen: _Gen, fn: Fn, node: Call, subject_node: Node | None) -> _Val:
    assert subject_node is not None
    subj = gen.coerce(gen.emit(subject_node), "BOOLEAN", node.pos)
    v = gen.var()

    def branch(i: int) -> Callable[[], None]:
        def body() -> None:
            arg = gen.coerce(gen.emit(node.args[i]), "STRING", node.arg_pos[i])
            gen.line(f"{v} = {arg.code}")

        return body

    gen.block(f"if {subj.code} is True:", branch(0))
    gen.block("else:", branch(1))
    return _Val(v, "STRING", True)


_SPECIAL: Final[dict[str, Callable[[_Gen, Fn, Call, Node | None], _Val]]] = {
    "and": _emit_and_or,
    "or": _emit_and_or,
    "ifElse": _emit_if_else,
}


def _base_namespace() -> dict[str, Any]:
    return {
        "_EMPTY": _EMPTY,
        "_attrs_of": attrs_of,
        "_getenv": os.environ.get,
        "_pseudo": pseudo,
        "_lookup": lookup,
        "_ctx": EvalContext,
        "_to_str": V.to_str,
        "_to_bool": V.to_bool,
        "_to_whole": V.to_whole,
        "_to_decimal": V.to_decimal,
        "_to_number": V.to_number,
        "_to_date": _multi.to_date,
        "_to_instant": _multi.to_instant,
        "_WS": V.JAVA_WS,
        "_any": _multi.any_of,
        "_all": _multi.all_of,
        "_count": _multi.count_of,
        "_join": _multi.join_of,
        "_split_values": _multi.split_values,
        "_named_values": _multi.named_values,
        "_matching_values": _multi.matching_values,
        "ExpressionError": ExpressionError,
        "_wrap_error": _wrap_error,
    }


def _wrap_error(
    exc: BaseException, linepos: dict[int, int], text: str
) -> ExpressionError:
    """Attach the failing step's position to an exception raised by generated code."""
    tb = exc.__traceback__
    line: int | None = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<flowengine-el>":
            line = tb.tb_lineno
        tb = tb.tb_next
    pos = None if line is None else linepos.get(line)
    if isinstance(exc, ExpressionError):
        if exc.position is None:
            exc.position = pos
        if exc.text is None:
            exc.text = text
        return exc
    return ExpressionEvaluationError(f"{type(exc).__name__}: {exc}", pos, text)


def generate(
    text: str,
    parts: tuple[str | Node, ...],
    params: Callable[[str], str | None] | None = None,
) -> tuple[Callable[..., str], frozenset[str], str]:
    """Generate the evaluation function for a parsed value.

    Returns ``(function, attribute_names, source)``; the source is kept for
    debugging (``Expression.source``).
    """
    ns = _base_namespace()
    attrs: set[str] = set()
    gen = _Gen(text, ns, [0], attrs, params)
    gen.indent = 2
    pieces: list[str] = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(repr(part))
        else:
            pieces.append(gen.render(gen.emit(part)))
    gen.line("return " + (" + ".join(pieces) if pieces else "''"))
    header = [
        "def _evaluate(flowfile=None, *, attributes=None, extras=None, state=None):",
        "    _a = _attrs_of(flowfile) if flowfile is not None else "
        "(_EMPTY if attributes is None else attributes)",
        "    try:",
    ]
    footer = [
        "    except Exception as _exc:",
        "        raise _wrap_error(_exc, _LINEPOS, _TEXT) from "
        "(None if isinstance(_exc, ExpressionError) else _exc)",
    ]
    defs_src = "\n\n".join(gen.defs)
    defs_lines = defs_src.count("\n") + 1 if defs_src else 0
    body_start = defs_lines + len(header) + 1
    linepos = {body_start + i: p for i, p in gen.linepos.items()}
    source = (defs_src + "\n" if defs_src else "") + "\n".join(
        header + gen.lines + footer
    )
    ns["_LINEPOS"] = linepos
    ns["_TEXT"] = text
    code = compile(source, "<flowengine-el>", "exec")
    exec(code, ns)
    fn: Callable[..., str] = ns["_evaluate"]
    return fn, frozenset(attrs), source
