"""AttributesToCSV: selection, quoting, schema, destinations."""

from __future__ import annotations

from flowengine.processors.attributes.to_csv import AttributesToCSV

from flowengine.testing import TestRunner


def _run(attrs: dict[str, str], **props: str) -> TestRunner:
    runner = TestRunner(AttributesToCSV)
    for k, val in props.items():
        runner.set_property(k, val)
    runner.enqueue(b"payload", attrs)
    runner.run()
    return runner


def test_listed_values_with_quoting_and_schema() -> None:
    """Values needing quotes are quoted; Include Schema writes CSVSchema."""
    runner = _run(
        {"a": "x,y", "b": 'say "hi"', "c": "plain"},
        attribute_list="a,b,c,missing",
        include_schema="true",
    )
    out = runner.flowfiles_for("success")[0]
    out.assert_attribute_equals("CSVData", '"x,y","say ""hi""",plain,')
    out.assert_attribute_equals("CSVSchema", "a,b,c,missing")
    out.assert_content_equals(b"payload")


def test_null_value_and_regex_without_core() -> None:
    """Null Value writes 'null' for absent names; the regex adds matching ones."""
    runner = _run(
        {"k.1": "one", "k.2": "two", "other": "no"},
        **{
            "Attribute List": "absent",
            "Attributes Regular Expression": r"k\.\d",
            "Null Value": "true",
            "Include Core Attributes": "false",
        },
    )
    runner.flowfiles_for("success")[0].assert_attribute_equals(
        "CSVData", "null,one,two"
    )


def test_content_destination_with_header() -> None:
    """To content, the schema is a header line before the values."""
    runner = _run(
        {"a": "1", "b": "2"},
        attribute_list="a,b",
        destination="flowfile-content",
        include_schema="true",
    )
    out = runner.flowfiles_for("success")[0]
    out.assert_content_equals(b"a,b\n1,2")
    out.assert_attribute_equals("mime.type", "text/csv")


def test_invalid_regex_rejected() -> None:
    """An invalid regular expression is a validation error."""
    runner = TestRunner(AttributesToCSV)
    runner.set_property("attributes_regular_expression", "*bad")
    assert runner.validate()
