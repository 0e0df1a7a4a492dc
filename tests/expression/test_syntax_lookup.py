"""Tests of the grammar, $$ escaping, error positions, lookup order and the API."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

import flowengine.expression as el
from flowengine.expression import (
    ExpressionError,
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    compile,
)

ATTRS = {
    "abc": "xyz",
    "filename": "f.txt",
    "my attr": "spaced",
    "a.b-c": "dotted",
    "name": "abc",
    "5": "five",
    "attr": "filename",
}

ESCAPING = [
    ("${abc}", "xyz"),
    ("$${abc}", "${abc}"),
    ("$$${abc}", "$xyz"),
    ("$$$${abc}", "$${abc}"),
    ("$$$$${abc}", "$$xyz"),
    ("I owe you $5", "I owe you $5"),
    ("You owe me $$5 too", "You owe me $$5 too"),
    (
        "Unescaped $$${5 because no closing brace",
        "Unescaped $$${5 because no closing brace",
    ),
    (
        "Unescaped $$${'5'} because no closing brace",
        "Unescaped $five because no closing brace",
    ),
    ("Hello $${UserName}", "Hello ${UserName}"),
    ("Hello $$User$$Name", "Hello $$User$$Name"),
    ("{ ${abc} }", "{ xyz }"),
    ("/data/${abc}/${filename}", "/data/xyz/f.txt"),
    ("${abc}${abc}", "xyzxyz"),
    ("plain text", "plain text"),
    ("", ""),
    ("$", "$"),
    ("${missing}", ""),
    ("a${missing}b", "ab"),
    ("${'my attr'}", "spaced"),
    ('${"my attr"}', "spaced"),
    ("${a.b-c}", "dotted"),
    ("${ abc }", "xyz"),
    ("${     abc   : equals(${    abc})  }", "true"),
    ("${abc # a comment\n:toUpper()}", "XYZ"),
    ("${abc:toUpper() # trailing comment\n}", "XYZ"),
    ("${${attr}}", "f.txt"),
    ("${'${attr}'}", "f.txt"),
    ("${literal('${abc}'):toUpper()}", "XYZ"),
    ("${literal('$${abc}')}", "${abc}"),
    ('${abc:append("it\'s")}', "xyzit's"),
    ("${abc:append('it\\'s')}", "xyzit's"),
    ("${abc:append('a\\nb')}", "xyza\nb"),
    ("${abc:append('\\\\')}", "xyz\\"),
    ("${abc:append('\\d')}", "xyz\\d"),
    ("${abc:append('}')}", "xyz}"),
    ("${abc:append(${filename:append(${abc})})}", "xyzf.txtxyz"),
    ("${abc:equals(${abc:toUpper():toLower()})}", "true"),
    ("${literal(${literal(${abc})})}", "xyz"),
]


@pytest.mark.parametrize(("text", "expected"), ESCAPING)
def test_escaping_quoting_comments_and_nesting(text: str, expected: str) -> None:
    """$$ escaping, quoted names, comments and nesting follow NiFi's rules."""
    assert compile(text).evaluate(attributes=ATTRS) == expected


SYNTAX = [
    ("${abc:toUpper(}", 14),
    ("${abc:frobnicate()}", 6),
    ("${abc:toUpper(1)}", 6),
    ("${abc:substring()}", 6),
    ("${abc:substring(1,2,3)}", 6),
    ("${abc:equals()}", 6),
    ("${abc toUpper()}", 6),
    ("${5}", 2),
    ("${abc:now()}", 6),
    ("${toUpper()}", 2),
    ("${abc:}", 6),
    ("${}", 2),
    ("x ${abc:toUpper():}", 18),
    ("Unescaped $$${5} because no closing brace", 14),
    ("${abc:append('x'}", 16),
    ("${abc:append(x)}", 13),
    ("${abc:toupper()}", 6),
    ("${true}", 2),
    ("${literal(1):literal(2)}", 13),
    ("${abc:ifElse('a')}", 6),
]


@pytest.mark.parametrize(("text", "position"), SYNTAX)
def test_syntax_errors_report_position(text: str, position: int) -> None:
    """Bad syntax, unknown functions and wrong arity fail compile() with a position."""
    with pytest.raises(ExpressionSyntaxError) as info:
        compile(text)
    assert info.value.position == position


def test_unknown_function_suggests_the_closest_name() -> None:
    """An unknown function names the closest known one."""
    with pytest.raises(ExpressionSyntaxError, match="did you mean toUpper"):
        compile("${abc:toupper()}")


def test_evaluation_error_reports_the_failing_function_position() -> None:
    """An evaluation error points at the function that failed."""
    expr = compile("${abc:toUpper():substring(10)}")
    with pytest.raises(ExpressionEvaluationError) as info:
        expr.evaluate(attributes=ATTRS)
    assert info.value.position == 16
    assert isinstance(info.value, ExpressionError)


@dataclass
class FakeFlowFile:
    """A duck-typed FlowFile with the attributes the engine provides."""

    attributes: dict[str, str] = field(default_factory=dict)
    size: int = 2048
    entry_date: int = 1_700_000_000_000
    lineage_start_date: int = 1_600_000_000_000
    id: int = 7
    last_queue_date: int | None = None
    queue_date_index: int = 3


def test_lookup_order_extras_pseudo_attributes_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lookup is extras -> pseudo-attributes -> attributes -> environment."""
    monkeypatch.setenv("EL_TEST_ENV", "from-env")
    monkeypatch.setenv("shadowed", "env")
    ff = FakeFlowFile({"fileSize": "1", "shadowed": "attr", "x": "attr-x"})
    expr = compile("${fileSize}|${x}|${EL_TEST_ENV}|${shadowed}|${flowFileId}")
    assert expr.evaluate(ff) == "2048|attr-x|from-env|attr|7"
    assert (
        expr.evaluate(ff, extras={"x": "extra", "fileSize": "e"})
        == "e|extra|from-env|attr|7"
    )
    assert compile("${fileSize}").evaluate(attributes={"fileSize": "9"}) == "9"
    assert compile("${lastQueueDate:isNull()}").evaluate(ff) == "true"
    assert compile("${queueDateIndex}:${entryDate}:${lineageStartDate}").evaluate(
        ff
    ) == ("3:1700000000000:1600000000000")


def test_fileSize_pseudo_attribute_in_arithmetic() -> None:
    """fileSize is usable as a number, as in ${fileSize:gt(1024)}."""
    assert compile("${fileSize:gt(1024)}").evaluate_boolean(FakeFlowFile()) is True
    assert compile("${fileSize:divide(1024)}").evaluate(FakeFlowFile()) == "2"


def test_literal_values_short_circuit() -> None:
    """A value without ${} is literal and evaluates to its unescaped text."""
    expr = compile("a $${b} c")
    assert expr.is_literal
    assert expr.literal_value == "a ${b} c"
    assert expr.evaluate() == "a ${b} c"
    dyn = compile("${a}")
    assert not dyn.is_literal
    assert dyn.literal_value is None


def test_attribute_names_are_collected() -> None:
    """attribute_names lists the plain attribute references."""
    assert compile("${a:append(${b})}/${'c d'}").attribute_names == frozenset(
        {"a", "b", "c d"}
    )


def test_compile_is_cached() -> None:
    """Compiling the same text twice returns the same compiled object."""
    assert compile("${abc:toUpper()}") is compile("${abc:toUpper()}")


def test_evaluate_boolean() -> None:
    """evaluate_boolean is true only for a 'true' result."""
    assert compile("${abc:equals('xyz')}").evaluate_boolean(attributes=ATTRS) is True
    assert compile("${abc}").evaluate_boolean(attributes=ATTRS) is False
    assert compile("TRUE").evaluate_boolean() is True


def test_state_values_feed_get_state_value() -> None:
    """getStateValue reads the state mapping (UpdateAttribute's stored state)."""
    expr = compile("${getStateValue('count'):plus(1)}")
    assert expr.evaluate(state={"count": "20"}) == "21"
    assert compile("${getStateValue('count')}").evaluate() == ""


def test_evaluate_el_string_evaluates_embedded_el() -> None:
    """evaluateELString evaluates EL found inside an attribute value."""
    attrs = {"tpl": "Hello ${name:toUpper()}", "name": "ann"}
    assert (
        compile("${tpl:evaluateELString()}").evaluate(attributes=attrs) == "Hello ANN"
    )


def test_subjectless_functions() -> None:
    """ip, hostname, UUID, nextInt, thread and getUri behave as documented."""
    assert compile("${UUID():length()}").evaluate() == "36"
    assert compile("${hostname(false):isEmpty()}").evaluate() == "false"
    assert compile("${ip():isEmpty()}").evaluate() == "false"
    assert compile("${thread():isEmpty()}").evaluate() == "false"
    first = int(compile("${nextInt()}").evaluate())
    assert int(compile("${nextInt()}").evaluate()) == first + 1
    uri = "${getUri('https', 'admin', 'nifi.apache.org', '8443', '/docs', 'q=1', null)}"
    assert compile(uri).evaluate() == "https://admin@nifi.apache.org:8443/docs?q=1"


def test_public_surface_is_curated() -> None:
    """The package exports exactly the documented names, sorted."""
    assert el.__all__ == sorted(el.__all__)
    assert set(el.__all__) == {
        "Expression",
        "ExpressionError",
        "ExpressionEvaluationError",
        "ExpressionSyntaxError",
        "ParameterError",
        "compile",
        "functions",
        "java_regex",
        "main",
        "parameter_references",
        "substitute_parameters",
    }
    assert issubclass(
        el.ExpressionError, __import__("flowengine._errors").FlowEngineError
    )


def test_functions_catalogue_lists_every_function() -> None:
    """functions() describes each registered function."""
    catalogue = el.functions()
    assert catalogue["now"]["subjectless"] is True
    assert catalogue["substring"]["max_args"] == 2
    assert len(catalogue) >= 100


def test_parameter_reference_inside_expression_with_resolver() -> None:
    """compile(parameters=...) resolves #{p} left inside ${...}."""
    expr = compile("${#{p}:toUpper()}", parameters={"p": "abc"}.get)
    assert expr.evaluate() == "ABC"
    with pytest.raises(ExpressionSyntaxError):
        compile("${#{p}:toUpper()}")
