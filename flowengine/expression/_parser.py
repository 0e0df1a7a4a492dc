"""Recursive-descent parser for NiFi Expression Language.

Owns the syntax tree. Grammar (after :mod:`._lexer` tokenization)::

    value     := (literal-text | expr)*
    expr      := "${" subject (":" call)* "}"
    subject   := NAME "(" args ")"          subjectless / multi-attribute function
               | NAME                       attribute name
               | STRING                     quoted attribute name (may embed ${...})
               | expr                       attribute whose *name* is the value
               | PARAM                      #{parameter}
    call      := NAME "(" args ")"
    args      := [arg ("," arg)*]
    arg       := STRING | WHOLE | DECIMAL | "true" | "false" | "null" | expr | PARAM

String literals used as arguments may themselves contain ``${...}``; NiFi evaluates
those, so they are parsed into a :class:`Template`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowengine.expression._errors import ExpressionSyntaxError
from flowengine.expression._lexer import Token, split_template, tokenize

__all__ = [
    "Attr",
    "Call",
    "Lit",
    "Node",
    "Param",
    "Template",
    "parse_template",
    "parse_value",
]


@dataclass(frozen=True, slots=True)
class Lit:
    """A literal: ``kind`` is STRING, WHOLE, DECIMAL, BOOLEAN or NULL."""

    value: object
    kind: str
    pos: int


@dataclass(frozen=True, slots=True)
class Template:
    """Literal text with embedded expressions (a value, or a string argument)."""

    parts: tuple[str | Node, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Attr:
    """An attribute reference; ``name`` is a constant or a node giving the name."""

    name: str | Node
    pos: int


@dataclass(frozen=True, slots=True)
class Param:
    """A ``#{name}`` parameter reference inside an expression."""

    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    """A function call; ``subject`` is ``None`` for subjectless functions."""

    name: str
    subject: Node | None
    args: tuple[Node, ...]
    pos: int
    arg_pos: tuple[int, ...] = field(default=())


Node = Lit | Template | Attr | Param | Call


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self, kind: str, what: str) -> Token:
        tok = self.peek()
        if tok.kind != kind:
            found = "end of expression" if tok.kind == "EOF" else repr(tok.value)
            raise ExpressionSyntaxError(
                f"expected {what} but found {found}", tok.pos, self.text
            )
        self.i += 1
        return tok

    def expr(self) -> Node:
        self.take("DOLLAR_LBRACE", "'${'")
        node = self.subject()
        while self.peek().kind == "COLON":
            self.i += 1
            name = self.take("NAME", "a function name after ':'")
            args, arg_pos = self.args()
            node = Call(name.value, node, args, name.pos, arg_pos)
        self.take("RBRACE", "':' or '}'")
        return node

    def subject(self) -> Node:
        tok = self.peek()
        if tok.kind == "NAME":
            self.i += 1
            if self.peek().kind == "LPAREN":
                args, arg_pos = self.args()
                return Call(tok.value, None, args, tok.pos, arg_pos)
            if tok.value in ("true", "false", "null"):
                raise ExpressionSyntaxError(
                    f"'{tok.value}' is a literal, not an attribute name; quote it "
                    f"(${{'{tok.value}'}}) or use literal({tok.value})",
                    tok.pos,
                    self.text,
                )
            return Attr(tok.value, tok.pos)
        if tok.kind == "STRING":
            self.i += 1
            name = self.string_node(tok)
            return Attr(name.value if isinstance(name, Lit) else name, tok.pos)  # type: ignore[arg-type]
        if tok.kind == "DOLLAR_LBRACE":
            return Attr(self.expr(), tok.pos)
        if tok.kind == "PARAM":
            self.i += 1
            return Param(tok.value, tok.pos)
        if tok.kind in ("WHOLE", "DECIMAL"):
            raise ExpressionSyntaxError(
                f"attribute names cannot start with a digit; quote it "
                f"(${{'{tok.value}'}})"
                " or use literal(...)",
                tok.pos,
                self.text,
            )
        found = "end of expression" if tok.kind == "EOF" else repr(tok.value)
        raise ExpressionSyntaxError(
            f"expected an attribute name or function but found {found}",
            tok.pos,
            self.text,
        )

    def args(self) -> tuple[tuple[Node, ...], tuple[int, ...]]:
        self.take("LPAREN", "'('")
        args: list[Node] = []
        pos: list[int] = []
        if self.peek().kind == "RPAREN":
            self.i += 1
            return (), ()
        while True:
            pos.append(self.peek().pos)
            args.append(self.arg())
            tok = self.peek()
            if tok.kind == "COMMA":
                self.i += 1
                continue
            self.take("RPAREN", "',' or ')'")
            return tuple(args), tuple(pos)

    def arg(self) -> Node:
        tok = self.peek()
        kind = tok.kind
        if kind == "STRING":
            self.i += 1
            return self.string_node(tok)
        if kind == "WHOLE":
            self.i += 1
            return Lit(int(tok.value), "WHOLE", tok.pos)
        if kind == "DECIMAL":
            self.i += 1
            return Lit(float(tok.value), "DECIMAL", tok.pos)
        if kind == "DOLLAR_LBRACE":
            return self.expr()
        if kind == "PARAM":
            self.i += 1
            return Param(tok.value, tok.pos)
        if kind == "NAME" and tok.value in ("true", "false"):
            self.i += 1
            return Lit(tok.value == "true", "BOOLEAN", tok.pos)
        if kind == "NAME" and tok.value == "null":
            self.i += 1
            return Lit(None, "NULL", tok.pos)
        found = "end of expression" if kind == "EOF" else repr(tok.value)
        raise ExpressionSyntaxError(
            f"expected an argument (string, number, true/false/null or ${{...}}) "
            f"but found {found}",
            tok.pos,
            self.text,
        )

    def string_node(self, tok: Token) -> Node:
        value = tok.value
        if "${" not in value:
            return Lit(value, "STRING", tok.pos)
        # Offsets inside an unescaped literal no longer map 1:1 onto the value, so
        # nested errors point at the string literal itself.
        try:
            return parse_template(value, 0)
        except ExpressionSyntaxError as exc:
            raise ExpressionSyntaxError(exc.message, tok.pos, self.text) from exc


def _parse_expression(text: str, start: int, end: int) -> Node:
    parser = _Parser(text, tokenize(text, start, end))
    node = parser.expr()
    tok = parser.peek()
    if tok.kind != "EOF":
        raise ExpressionSyntaxError(
            f"unexpected {tok.value!r} after expression", tok.pos, text
        )
    return node


def parse_template(text: str, offset: int = 0) -> Node:
    """Parse a string that may embed expressions; returns a Lit or a Template."""
    parts: list[str | Node] = []
    for seg in split_template(text):
        if seg.is_expression:
            parts.append(_parse_expression(text, seg.start, seg.end))
        else:
            parts.append(seg.text)
    if not parts:
        return Lit("", "STRING", offset)
    if len(parts) == 1 and isinstance(parts[0], str):
        return Lit(parts[0], "STRING", offset)
    return Template(tuple(parts), offset)


def parse_value(text: str) -> tuple[str | Node, ...]:
    """Parse a whole property value into literal strings and expression nodes."""
    parts: list[str | Node] = []
    for seg in split_template(text):
        if seg.is_expression:
            parts.append(_parse_expression(text, seg.start, seg.end))
        else:
            parts.append(seg.text)
    return tuple(parts)
