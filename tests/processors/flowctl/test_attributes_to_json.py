"""AttributesToJSON: selection, null handling, nested JSON, destinations."""

from __future__ import annotations

import json

from flowengine.processors.attributes.to_json import AttributesToJSON

from flowengine.testing import TestRunner


def _run(attrs: dict[str, str], **props: str) -> TestRunner:
    runner = TestRunner(AttributesToJSON)
    for k, val in props.items():
        runner.set_property(k, val)
    runner.enqueue(b"payload", attrs)
    runner.run()
    return runner


def _doc(runner: TestRunner) -> dict[str, object]:
    out = runner.flowfiles_for("success")[0]
    return json.loads(out["JSONAttributes"])  # type: ignore[no-any-return]


def test_all_attributes_by_default_compact() -> None:
    """With no list or regex every attribute, core included, is written compactly."""
    runner = _run({"a": "1", "b": "x"})
    out = runner.flowfiles_for("success")[0]
    doc = _doc(runner)
    assert doc["a"] == "1" and doc["b"] == "x" and doc["uuid"] == out["uuid"]
    assert " " not in out["JSONAttributes"]
    out.assert_content_equals(b"payload")


def test_list_with_missing_and_null_value() -> None:
    """Listed names that are absent become "" by default and null with Null Value."""
    assert _doc(_run({"a": "1"}, attributes_list="a, nope")) == {"a": "1", "nope": ""}
    doc = _doc(_run({"a": "1"}, **{"Attributes List": "a,nope", "Null Value": "true"}))
    assert doc == {"a": "1", "nope": None}


def test_regex_full_match_combined_with_list() -> None:
    """The regex must match a whole name; its matches join the listed attributes."""
    doc = _doc(
        _run(
            {"kafka.key": "k", "kafka.topic": "t", "xkafka.y": "no", "a": "1"},
            attributes_list="a",
            attributes_regular_expression=r"kafka\..*",
        )
    )
    assert doc == {"a": "1", "kafka.key": "k", "kafka.topic": "t"}


def test_exclude_core_attributes() -> None:
    """Include Core Attributes false drops uuid, filename, path and friends."""
    doc = _doc(_run({"a": "1", "mime.type": "x"}, include_core_attributes="false"))
    assert doc == {"a": "1"}


def test_nested_and_escaped_json() -> None:
    """Nested embeds JSON values; Escaped (default) keeps them as strings."""
    attrs = {"j": '{"x": [1, 2]}'}
    assert _doc(_run(attrs, attributes_list="j")) == {"j": '{"x": [1, 2]}'}
    doc = _doc(_run(attrs, attributes_list="j", json_handling_strategy="Nested"))
    assert doc == {"j": {"x": [1, 2]}}


def test_nested_invalid_json_goes_to_failure() -> None:
    """A value that looks like JSON but is not goes to failure with the reason."""
    runner = _run({"j": "{oops"}, attributes_list="j", json_handling_strategy="Nested")
    runner.assert_transfer_count("failure", 1)
    assert (
        "not valid JSON" in runner.flowfiles_for("failure")[0]["AttributesToJSON.error"]
    )


def test_content_destination_pretty_print_and_mime_type() -> None:
    """To content: the JSON replaces the content, pretty-printed on request."""
    runner = _run(
        {"a": "1"},
        attributes_list="a",
        destination="flowfile-content",
        pretty_print="true",
    )
    out = runner.flowfiles_for("success")[0]
    assert out.text == '{\n  "a" : "1"\n}'
    out.assert_attribute_equals("mime.type", "application/json")
    out.assert_attribute_not_exists("JSONAttributes")


def test_invalid_regex_rejected_at_validation() -> None:
    """An invalid regular expression makes the processor invalid before it runs."""
    runner = TestRunner(AttributesToJSON)
    runner.set_property("attributes_regular_expression", "([a-z")
    errors = runner.validate()
    assert any("regular expression" in e for e in errors), errors
