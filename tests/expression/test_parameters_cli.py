"""Tests of #{parameter} substitution (§5.4) and the `flowengine el` command."""

from __future__ import annotations

import json

import pytest

from flowengine.expression import (
    ParameterError,
    compile,
    main,
    parameter_references,
    substitute_parameters,
)

PARAMS = {"x": "value", "My Param": "spaced", "empty": "", "el": "${abc}", "q": "it's"}

SUBSTITUTION = [
    ("#{x}", "value"),
    ("##{x}", "#{x}"),
    ("###{x}", "#value"),
    ("####{x}", "##{x}"),
    ("a#{x}b", "avalueb"),
    ("#{'My Param'}", "spaced"),
    ("#{empty}", ""),
    ("# not a ref #x {x}", "# not a ref #x {x}"),
    ("#{unterminated", "#{unterminated"),
    ("no params", "no params"),
    ("#{x}-#{x}", "value-value"),
    ("${abc:append(#{x})}", "${abc:append('value')}"),
    ("${#{x}:toUpper()}", "${literal('value'):toUpper()}"),
    ("${abc:append(#{q})}", "${abc:append('it\\'s')}"),
    ("#{el}", "${abc}"),
]


@pytest.mark.parametrize(("text", "expected"), SUBSTITUTION)
def test_parameter_substitution_and_hash_escaping(text: str, expected: str) -> None:
    """#{name} substitutes; pairs of # collapse left to right."""
    assert substitute_parameters(text, PARAMS.get) == expected


def test_parameter_value_el_is_evaluated_after_substitution() -> None:
    """A parameter value containing EL is evaluated in the referencing property."""
    text = substitute_parameters("#{el}", PARAMS.get)
    assert compile(text).evaluate(attributes={"abc": "A"}) == "A"


def test_parameter_inside_expression_is_data_not_el() -> None:
    """Inside ${...} a parameter's value is used as a string, not re-parsed."""
    text = substitute_parameters("${#{x}:toUpper()}", PARAMS.get)
    assert compile(text).evaluate() == "VALUE"


def test_undefined_parameter_raises_with_name_and_position() -> None:
    """An undefined parameter raises ParameterError naming it and where it is."""
    with pytest.raises(ParameterError) as info:
        substitute_parameters("abc #{nope}", PARAMS.get)
    assert info.value.name == "nope"
    assert info.value.position == 4


def test_invalid_parameter_name_raises() -> None:
    """Characters outside the allowed set are rejected."""
    with pytest.raises(ParameterError):
        substitute_parameters("#{bad$name}", PARAMS.get)


def test_parameter_references_honour_escaping() -> None:
    """parameter_references lists (name, start, end) and skips escaped ones."""
    assert parameter_references("#{a} ##{b} ###{c} #{'d e'}") == [
        ("a", 0, 4),
        ("c", 13, 17),
        ("d e", 18, 26),
    ]


def test_cli_prints_only_the_result(capsys: pytest.CaptureFixture[str]) -> None:
    """`flowengine el` prints the result alone on stdout and exits 0."""
    code = main(
        ["${filename:substringBeforeLast('.'):toUpper()}", "--attr", "filename=a.b.csv"]
    )
    out, err = capsys.readouterr()
    assert (code, out, err) == (0, "A.B\n", "")


def test_cli_json_and_params(capsys: pytest.CaptureFixture[str]) -> None:
    """--json wraps the result; --param feeds #{} references."""
    assert main(["#{p}-${a}", "--param", "p=P", "--attr", "a=A", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"result": "P-A"}


def test_cli_syntax_error_exit_2_with_caret(capsys: pytest.CaptureFixture[str]) -> None:
    """A syntax error exits 2 and draws a caret under the position on stderr."""
    assert main(["${abc:nope()}"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert "unknown function nope()" in lines[0]
    assert lines[2].index("^") - 2 == 6


def test_cli_evaluation_error_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    """An evaluation error exits 1."""
    assert main(["${a:divide(0)}", "--attr", "a=1"]) == 1
    assert "by zero" in capsys.readouterr().err


def test_cli_undefined_parameter_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An undefined parameter is reported like a syntax problem (exit 2)."""
    assert main(["#{nope}"]) == 2
    assert "nope" in capsys.readouterr().err


def test_cli_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Malformed --attr is a usage error (exit 2)."""
    assert main(["x", "--attr", "novalue"]) == 2
    assert capsys.readouterr().out == ""
