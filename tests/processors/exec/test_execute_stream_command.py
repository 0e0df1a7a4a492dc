"""ExecuteStreamCommand: real commands, argv only, streaming, timeout, bad commands."""

from __future__ import annotations

import contextlib
import io
import math
import os
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import psutil
import pytest
from flowengine.processors.execute.stream_command import (
    ExecuteStreamCommand,
    split_arguments,
)

from flowengine.testing import TestRunner

PY = sys.executable


def _runner(command: str, args: str | None = None, **props: str) -> TestRunner:
    runner = TestRunner(ExecuteStreamCommand)
    runner.set_property("Command Path", command)
    if args is not None:
        runner.set_property("Command Arguments", args)
    for k, v in props.items():
        runner.set_property(k, v)
    return runner


@pytest.mark.parametrize(
    ("text", "delim", "expected"),
    [
        ("a;b;c", ";", ["a", "b", "c"]),
        ('a;"b;c";d', ";", ["a", "b;c", "d"]),
        ("-n 3", " ", ["-n", "3"]),
        ("", ";", []),
        ("a;;b", ";", ["a", "b"]),
        ("x::y", "::", ["x", "y"]),
    ],
)
def test_split_arguments(text: str, delim: str, expected: list[str]) -> None:
    """Arguments split on the delimiter outside double quotes, as NiFi's ArgumentUtils."""
    assert split_arguments(text, delim) == expected


def test_cat_passes_content_through() -> None:
    """stdin is the content, stdout the new FlowFile on output stream; original kept."""
    runner = _runner("cat")
    runner.enqueue(b"hello\nworld\n", {"filename": "a.txt"})
    runner.run()
    runner.assert_transfer_count("output stream", 1)
    runner.assert_transfer_count("original", 1)
    out = runner.flowfiles_for("output stream")[0]
    out.assert_content_equals(b"hello\nworld\n")
    out.assert_attribute_equals("execution.status", "0")
    out.assert_attribute_equals("execution.command", "cat")
    out.assert_attribute_equals("filename", "a.txt")
    orig = runner.flowfiles_for("original")[0]
    orig.assert_content_equals(b"hello\nworld\n")
    orig.assert_attribute_equals("execution.status", "0")


def test_arguments_with_expression_language_and_no_shell() -> None:
    """Arguments are EL, split on the delimiter, and passed as argv (no shell expansion)."""
    code = "import sys; print('|'.join(sys.argv[1:]))"
    runner = _runner(PY, f'-c;"{code}";${{who}};$HOME;*;a b')
    runner.enqueue(b"", {"who": "alice"})
    runner.run()
    out = runner.flowfiles_for("output stream")[0]
    assert out.text == "alice|$HOME|*|a b\n"
    out.assert_attribute_equals(
        "execution.command.args", f"-c;{code};alice;$HOME;*;a b"
    )


def test_dynamic_property_arguments_and_environment() -> None:
    """command.argument.N are ordered by N; other dynamic properties are env vars."""
    code = "import os, sys; print(sys.argv[1:], os.environ['GREETING'])"
    runner = _runner(PY, **{"Command Arguments Strategy": "Dynamic Property Arguments"})
    runner.set_property("command.argument.2", "two")
    runner.set_property("command.argument.10", "ten")
    runner.set_property("command.argument.0", "-c")
    runner.set_property("command.argument.1", code)
    runner.set_property("GREETING", "hi ${name}")
    runner.enqueue(b"", {"name": "bob"})
    runner.run()
    out = runner.flowfiles_for("output stream")[0]
    assert out.text == "['two', 'ten'] hi bob\n"


def test_working_directory(tmp_path: Path) -> None:
    """The command runs in Working Directory."""
    runner = _runner(PY, '-c;"import os; print(os.getcwd())"')
    runner.set_property("Working Directory", str(tmp_path))
    runner.enqueue(b"")
    runner.run()
    out = runner.flowfiles_for("output stream")[0]
    assert os.path.realpath(out.text.strip()) == os.path.realpath(tmp_path)


def test_nonzero_status_and_stderr() -> None:
    """A non-zero exit sends stdout to nonzero status with stderr in execution.error."""
    code = "import sys; print('partial'); sys.stderr.write('boom'); sys.exit(3)"
    runner = _runner(PY, f'-c;"{code}"')
    runner.enqueue(b"in")
    runner.run()
    runner.assert_transfer_count("nonzero status", 1)
    runner.assert_transfer_count("original", 1)
    runner.assert_transfer_count("output stream", 0)
    out = runner.flowfiles_for("nonzero status")[0]
    out.assert_content_equals(b"partial\n")
    out.assert_attribute_equals("execution.status", "3")
    out.assert_attribute_equals("execution.error", "boom")


def test_missing_command_goes_to_nonzero_status_with_reason() -> None:
    """A command that does not exist: the FlowFile, unchanged, with the reason."""
    runner = _runner("/no/such/command-xyz")
    runner.enqueue(b"keep me")
    runner.run()
    runner.assert_all_transferred("nonzero status", 1)
    ff = runner.flowfiles_for("nonzero status")[0]
    ff.assert_content_equals(b"keep me")
    ff.assert_attribute_equals("execution.status", "-1")
    assert "No such file or directory" in (ff.get("execution.error") or "")
    assert "/no/such/command-xyz" in (ff.get("execution.error") or "")


def test_hanging_command_killed_at_timeout() -> None:
    """A command that hangs is killed at Command Timeout; nothing is lost."""
    runner = _runner("sleep", "60", **{"Command Timeout": "300 ms"})
    runner.enqueue(b"data")
    started = time.monotonic()
    runner.run()
    assert time.monotonic() - started < 10
    runner.assert_all_transferred("nonzero status", 1)
    ff = runner.flowfiles_for("nonzero status")[0]
    ff.assert_content_equals(b"data")
    assert "Command Timeout" in (ff.get("execution.error") or "")
    assert int(ff["execution.status"]) < 0  # killed by a signal
    me = psutil.Process()
    assert not [p for p in me.children(recursive=True) if "sleep" in p.name()]


def test_output_to_attribute_truncated_at_max_length() -> None:
    """Output Destination Attribute: stdout truncated to Max Attribute Length (NiFi)."""
    runner = _runner(PY, "-c;print('x' * 1000)")
    runner.set_property("Output Destination Attribute", "result")
    runner.set_property("Max Attribute Length", "10")
    runner.enqueue(b"content")
    runner.run()
    runner.assert_all_transferred("original", 1)
    ff = runner.flowfiles_for("original")[0]
    ff.assert_attribute_equals("result", "x" * 10)
    ff.assert_content_equals(b"content")


def test_ignore_stdin_and_mime_type() -> None:
    """Ignore STDIN gives the command empty stdin; Output MIME Type sets mime.type."""
    runner = _runner("cat", **{"Ignore STDIN": "true", "Output MIME Type": "text/x"})
    runner.enqueue(b"not read")
    runner.run()
    out = runner.flowfiles_for("output stream")[0]
    out.assert_content_equals(b"")
    out.assert_attribute_equals("mime.type", "text/x")


def test_command_that_stops_reading_stdin() -> None:
    """A command that exits without reading stdin (head -c) does not break the run."""
    runner = _runner("head", "-c;5")
    runner.enqueue(os.urandom(4 * 1024 * 1024))
    runner.run()
    out = runner.flowfiles_for("output stream")[0]
    assert len(out.content) == 5
    out.assert_attribute_equals("execution.status", "0")


class _Pattern(io.RawIOBase):
    """``size`` bytes of a repeating block, generated as read (no content in memory)."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.block = os.urandom(1 << 20)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = min(len(b), len(self.block), self.left)
        b[:n] = self.block[:n]
        self.left -= n
        return n


class _ContentOnly:
    """The one session call the command's stdin feeder makes: ``open(ff)``."""

    def __init__(self, size: int) -> None:
        self.size = size

    @contextlib.contextmanager
    def open(self, ff: Any) -> Iterator[io.BufferedReader]:
        yield io.BufferedReader(_Pattern(self.size))


def _cat_peak(size: int, sink_path: Path) -> tuple[int, int]:
    """Stream ``size`` bytes through cat into a spool file; (peak alloc, bytes out)."""
    proc = ExecuteStreamCommand()

    sink = open(sink_path, "wb")  # noqa: SIM115 - closed below, outside the loop

    async def go() -> Any:
        with sink:
            return await proc._run(
                _ContentOnly(size),  # type: ignore[arg-type]
                None,  # type: ignore[arg-type]
                ["cat"],
                None,
                dict(os.environ),
                True,
                sink,
                math.inf,
                0,
            )

    tracemalloc.start()
    try:
        outcome = anyio.run(go)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome.status == 0
    assert outcome.error is None
    return peak, sink_path.stat().st_size


def test_large_content_streams_in_bounded_memory(tmp_path: Path) -> None:
    """64 MiB through cat: Python allocations stay far below the content size."""
    size = 64 << 20
    peak, out = _cat_peak(size, tmp_path / "out")
    assert out == size
    assert peak < 8 << 20, peak


@pytest.mark.slow
def test_one_gib_streams_in_bounded_memory(tmp_path: Path) -> None:
    """1 GiB through cat: Python allocations stay under 8 MiB."""
    size = 1 << 30
    peak, out = _cat_peak(size, tmp_path / "out")
    assert out == size
    assert peak < 8 << 20, peak
