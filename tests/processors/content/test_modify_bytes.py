"""ModifyBytes: start/end offsets as data sizes with EL, Remove All Content."""

from __future__ import annotations

import os

from flowengine.processors.content.modify_bytes import ModifyBytes

from flowengine.testing import TestRunner

DATA = os.urandom(3 << 20)


def _run(
    content: bytes, attrs: dict[str, str] | None = None, **props: str
) -> TestRunner:
    runner = TestRunner(ModifyBytes)
    for k, v in props.items():
        runner.set_property(k, v)
    runner.enqueue(content, attrs or {})
    runner.run()
    return runner


def test_removes_start_and_end() -> None:
    """Start Offset bytes go from the front and End Offset bytes from the back."""
    runner = _run(b"0123456789", start_offset="2 B", end_offset="3 B")
    runner.flowfiles_for("success")[0].assert_content_equals(b"23456")


def test_data_size_units_over_large_content() -> None:
    """Offsets take data-size units (1 KB = 1024 bytes) and stream large content."""
    runner = _run(DATA, **{"Start Offset": "1 KB", "End Offset": "1 MB"})
    runner.flowfiles_for("success")[0].assert_content_equals(DATA[1024 : -(1 << 20)])


def test_defaults_keep_everything() -> None:
    """With the defaults (0 B, 0 B) the content is unchanged."""
    _run(b"abc").flowfiles_for("success")[0].assert_content_equals(b"abc")


def test_offsets_past_the_size_empty_the_content() -> None:
    """When the offsets cover the whole content the result is empty (NiFi)."""
    runner = _run(b"abcdef", start_offset="4 B", end_offset="2 B")
    runner.flowfiles_for("success")[0].assert_content_equals(b"")
    runner = _run(b"abc", start_offset="10 B")
    runner.flowfiles_for("success")[0].assert_content_equals(b"")


def test_remove_all_content_supersedes_offsets() -> None:
    """Remove All Content empties the content whatever the offsets."""
    runner = _run(b"abcdef", remove_all_content="true", start_offset="1 B")
    ff = runner.flowfiles_for("success")[0]
    ff.assert_content_equals(b"")


def test_expression_language_offsets() -> None:
    """Offsets are evaluated against each FlowFile's attributes."""
    runner = _run(
        b"HEADERpayload", {"header.size": "6"}, start_offset="${header.size} B"
    )
    runner.flowfiles_for("success")[0].assert_content_equals(b"payload")


def test_bad_evaluated_offset_goes_to_failure() -> None:
    """An offset expression that is not a data size: failure with error.message."""
    runner = _run(b"abc", {"n": "lots"}, start_offset="${n}")
    failed = runner.flowfiles_for("failure")[0]
    failed.assert_content_equals(b"abc")
    failed.assert_attribute_exists("error.message")


def test_relationships_are_nifis_without_expressions() -> None:
    """Literal offsets: only 'success', exactly as NiFi; 'failure' only with EL."""
    names = [r.name for r in ModifyBytes.relationships_for({"start_offset": "1 B"}, {})]
    assert names == ["success"]
    names = [r.name for r in ModifyBytes.relationships_for({"end_offset": "${x}"}, {})]
    assert names == ["success", "failure"]


def test_literal_bad_offset_is_invalid() -> None:
    """A literal offset that is not a data size is a configuration error."""
    runner = TestRunner(ModifyBytes)
    runner.set_property("start_offset", "ten bytes")
    runner.assert_not_valid()
