"""EncodeContent: base64/base32/hex both ways, line output, invalid input to failure."""

from __future__ import annotations

import base64
import os

import pytest
from flowengine.processors.content.encode import EncodeContent

from flowengine.testing import TestRunner

DATA = os.urandom(3_000_001)  # several read chunks, not a multiple of 3 or 5


def _run(content: bytes, **props: str) -> TestRunner:
    runner = TestRunner(EncodeContent)
    for k, v in props.items():
        runner.set_property(k, v)
    runner.enqueue(content)
    runner.run()
    return runner


@pytest.mark.parametrize(
    ("encoding", "reference"),
    [
        ("base64", base64.b64encode),
        ("base32", base64.b32encode),
        ("hex", lambda b: b.hex().upper().encode()),
    ],
)
def test_encode_then_decode_round_trips(encoding: str, reference: object) -> None:
    """Encoding matches the reference encoder (hex uppercase, as NiFi) and decodes back."""
    enc = _run(DATA, mode="Encode", encoding=encoding).flowfiles_for("success")[0]
    assert enc.content == reference(DATA)  # type: ignore[operator]
    dec = _run(enc.content, mode="Decode", encoding=encoding)
    dec.flowfiles_for("success")[0].assert_content_equals(DATA)


def test_display_names_are_accepted() -> None:
    """NiFi's display names work for properties and values."""
    runner = _run(b"hi", Mode="Encode", Encoding="Hexadecimal")
    runner.flowfiles_for("success")[0].assert_content_equals(b"6869")


def test_multiple_lines_base64() -> None:
    """Multiple Lines: lines of Encoded Line Length (rounded to 4), each ended by LF."""
    data = bytes(range(256)) * 3
    runner = _run(
        data,
        mode="Encode",
        encoding="base64",
        line_output_mode="Multiple Lines",
        encoded_line_length="10",
    )
    text = runner.flowfiles_for("success")[0].content
    lines = text.split(b"\n")
    assert lines[-1] == b""
    assert {len(line) for line in lines[:-2]} == {8}
    assert base64.b64decode(b"".join(lines)) == data


def test_multiple_lines_default_76_and_el() -> None:
    """The line length defaults to 76 and may come from an attribute."""
    data = os.urandom(1000)
    runner = TestRunner(EncodeContent)
    runner.set_property("line_output_mode", "MULTIPLE_LINES")
    runner.enqueue(data)
    runner.run()
    out = runner.flowfiles_for("success")[0].content
    assert out == base64.encodebytes(data)  # 76 characters per line, LF-terminated
    runner = TestRunner(EncodeContent)
    runner.set_property("line_output_mode", "MULTIPLE_LINES")
    runner.set_property("encoded_line_length", "${len}")
    runner.enqueue(data, {"len": "16"})
    runner.enqueue(data, {"len": "many"})
    runner.run()
    good = runner.flowfiles_for("success")[0].content
    assert max(len(line) for line in good.split(b"\n")) == 16
    runner.flowfiles_for("failure")[0].assert_attribute_exists("error.message")


def test_base64_decode_ignores_whitespace_and_accepts_url_safe() -> None:
    """Line breaks and spaces are ignored; the URL-safe alphabet decodes too."""
    data = b"\xfb\xff\xfe binary?"
    wrapped = base64.encodebytes(data).replace(b"\n", b"\r\n ")
    _run(wrapped, mode="Decode").flowfiles_for("success")[0].assert_content_equals(data)
    url = base64.urlsafe_b64encode(data)
    _run(url, mode="Decode").flowfiles_for("success")[0].assert_content_equals(data)


@pytest.mark.parametrize(
    ("encoding", "bad"),
    [
        ("base64", b"SGVsbG8*V29ybGQ="),
        ("base32", b"JBSWY3DP!"),
        ("base32", b"JBSWY3DP1"),
        ("hex", b"4869ZZ"),
        ("hex", b"486"),
        ("hex", b"48 69"),
    ],
)
def test_invalid_input_goes_to_failure_unchanged(encoding: str, bad: bytes) -> None:
    """Invalid characters (or odd hex): failure with error.message, content unchanged."""
    runner = _run(bad, mode="Decode", encoding=encoding)
    failed = runner.flowfiles_for("failure")[0]
    failed.assert_content_equals(bad)
    failed.assert_attribute_exists("error.message")


def test_empty_content() -> None:
    """Empty content encodes and decodes to empty content."""
    for mode in ("Encode", "Decode"):
        for encoding in ("base64", "base32", "hex"):
            runner = _run(b"", mode=mode, encoding=encoding)
            runner.flowfiles_for("success")[0].assert_content_equals(b"")


def test_line_length_must_be_positive() -> None:
    """A literal non-positive line length is a configuration error."""
    runner = TestRunner(EncodeContent)
    runner.set_property("line_output_mode", "MULTIPLE_LINES")
    runner.set_property("encoded_line_length", "0")
    runner.assert_not_valid()
