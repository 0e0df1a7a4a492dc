"""The ``flowengine el`` subcommand: evaluate an expression from the command line.

Owns argument parsing and error presentation. Only the result goes to stdout
(``--json`` prints ``{"result": ...}``); errors go to stderr with the value and a
caret under the position. Exit status: 0 ok, 2 syntax/parameter error (or usage),
1 evaluation error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from flowengine.expression._errors import (
    ExpressionError,
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    ParameterError,
)

__all__ = ["main"]


def _pairs(items: Sequence[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"flowengine el: {what} must be KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def _report(exc: ExpressionError, text: str) -> None:
    kind = (
        "syntax error"
        if isinstance(exc, ExpressionSyntaxError)
        else "parameter error"
        if isinstance(exc, ParameterError)
        else "evaluation error"
    )
    print(f"flowengine el: {kind}: {exc.message}", file=sys.stderr)
    shown = exc.text if exc.text is not None else text
    if exc.position is not None and "\n" not in shown:
        print(f"  {shown}", file=sys.stderr)
        print("  " + " " * exc.position + "^", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run ``flowengine el 'EXPR' --attr k=v ... [--param k=v] [--json]``."""
    from flowengine.expression._expression import compile as el_compile
    from flowengine.expression._parameters import substitute_parameters

    parser = argparse.ArgumentParser(
        prog="flowengine el",
        description="Evaluate a NiFi Expression Language value against attributes.",
    )
    parser.add_argument(
        "expression", help="property value, e.g. '${filename:toUpper()}'"
    )
    parser.add_argument(
        "--attr",
        "-a",
        action="append",
        default=[],
        metavar="K=V",
        help="a FlowFile attribute (repeatable)",
    )
    parser.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="K=V",
        help="a parameter for #{name} references (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help='print {"result": ...}')
    try:
        args = parser.parse_args(argv)
        attrs = _pairs(args.attr, "--attr")
        params = _pairs(args.param, "--param")
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        return 0 if exc.code == 0 else 2
    text: str = args.expression
    try:
        value = substitute_parameters(text, params.get)
        result = el_compile(value).evaluate(attributes=attrs)
    except ExpressionEvaluationError as exc:
        _report(exc, text)
        return 1
    except ExpressionError as exc:
        _report(exc, text)
        return 2
    if args.json:
        print(json.dumps({"result": result}))
    else:
        print(result)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
