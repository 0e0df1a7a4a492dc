"""ExtractGrok and the standard Grok pattern names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flowengine.processors.grok._grok import Grok
from flowengine.processors.grok.extract_grok import ExtractGrok

from flowengine.testing import TestRunner

APACHE = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"'


def _run(content: str, **props: str) -> TestRunner:
    runner = TestRunner(ExtractGrok)
    for k, v in props.items():
        runner.set_property(k.replace("_", " "), v)
    runner.enqueue(content.encode())
    runner.run()
    return runner


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        ("IPV4", "192.168.1.254", "256.1.1.1"),
        ("IPV6", "2001:db8::8a2e:370:7334", "2001:db8:::1"),
        ("IP", "::1", "hello"),
        ("NUMBER", "-3.25", "abc"),
        ("INT", "+42", "x"),
        ("WORD", "hello_1", "!!"),
        ("TIMESTAMP_ISO8601", "2024-02-29T23:59:60.5+01:00", "2024/02/29"),
        ("HTTPDATE", "10/Oct/2000:13:55:36 -0700", "10-10-2000"),
        ("LOGLEVEL", "WARNING", "verbose"),
        ("UUID", "123e4567-e89b-12d3-a456-426614174000", "123e4567"),
        ("MAC", "00:1A:2b:3C:4d:5E", "00:1A:2b"),
        ("EMAILADDRESS", "a.b@example.com", "no-at-sign"),
    ],
)
def test_standard_pattern_names(pattern: str, good: str, bad: str) -> None:
    grok = Grok(f"^%{{{pattern}:v}}$", named_only=True)
    assert grok.match(good) == {"v": good}
    assert grok.match(bad) is None


def test_combined_apache_log_to_attributes() -> None:
    runner = _run(
        APACHE, Grok_Expression="%{COMBINEDAPACHELOG}", Named_captures_only="true"
    )
    out = runner.flowfiles_for("matched")[0]
    assert out["grok.clientip"] == "127.0.0.1"
    assert out["grok.verb"] == "GET"
    assert out["grok.response"] == "200"
    assert out["grok.agent"] == '"Mozilla/4.08 [en] (Win98; I ;Nav)"'
    assert out.get("grok.IPV4") is None
    assert out.content == APACHE.encode()


def test_unnamed_patterns_are_captured_unless_named_only() -> None:
    out = _run("10.1.2.3 x", Grok_Expression="%{IP} %{WORD:w}").flowfiles_for(
        "matched"
    )[0]
    assert (
        out["grok.IP"] == "10.1.2.3"
        and out["grok.IPV4"] == "10.1.2.3"
        and out["grok.w"] == "x"
    )


def test_syslog_line_to_content_and_empty_captures() -> None:
    line = "Mar  7 00:13:44 host sshd[123]: Accepted publickey"
    runner = _run(
        line,
        Grok_Expression="%{SYSLOGLINE}",
        Named_captures_only="true",
        Destination="flowfile-content",
    )
    doc = json.loads(runner.flowfiles_for("matched")[0].content)
    assert (
        doc["program"] == "sshd"
        and doc["pid"] == "123"
        and doc["message"] == "Accepted publickey"
    )
    assert doc["facility"] is None
    runner = _run(
        line,
        Grok_Expression="%{SYSLOGLINE}",
        Named_captures_only="true",
        Destination="flowfile-content",
        Keep_Empty_Captures="false",
    )
    assert "facility" not in json.loads(runner.flowfiles_for("matched")[0].content)


def test_unmatched_and_typed_captures() -> None:
    assert (
        _run("nothing here", Grok_Expression="%{IPV4:ip}").transfer_count("unmatched")
        == 1
    )
    runner = _run(
        "n=42 f=1.5",
        Grok_Expression="n=%{INT:n:int} f=%{NUMBER:f:float}",
        Named_captures_only="true",
        Destination="flowfile-content",
    )
    assert json.loads(runner.flowfiles_for("matched")[0].content) == {"n": 42, "f": 1.5}


def test_custom_pattern_file_and_inline_definitions(tmp_path: Path) -> None:
    path = tmp_path / "patterns"
    path.write_text("# mine\nTICKET [A-Z]+-[0-9]+\n", encoding="utf-8")
    out = _run(
        "see ABC-12", Grok_Expression="%{TICKET:t}", Grok_Patterns=str(path)
    ).flowfiles_for("matched")[0]
    assert out["grok.t"] == "ABC-12"
    out = _run(
        "see ABC-12",
        Grok_Expression="%{TICKET:t}",
        Grok_Patterns="TICKET [A-Z]+-[0-9]+\n",
    ).flowfiles_for("matched")[0]
    assert out["grok.t"] == "ABC-12"


def test_unknown_pattern_rejected_at_validation_with_column_and_hint() -> None:
    runner = TestRunner(ExtractGrok)
    runner.set_property("Grok Expression", "%{IP:ip} %{NOPE:x}")
    problems = runner.validate()
    assert (
        problems
        and "%{NOPE}" in problems[0]
        and "column 10" in problems[0]
        and "hint" in problems[0]
    )


def test_maximum_buffer_size_limits_what_is_read() -> None:
    runner = _run(
        "x" * 2000 + " 10.0.0.1",
        Grok_Expression="%{IPV4:ip}",
        Maximum_Buffer_Size="1 KB",
    )
    assert runner.transfer_count("unmatched") == 1
