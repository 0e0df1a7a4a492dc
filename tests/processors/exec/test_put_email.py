"""PutEmail against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import email
import socket
import time
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flowengine.processors.put_email import PutEmail

from flowengine.testing import TestRunner


class _Inbox:
    """aiosmtpd handler keeping (envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.mail: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mail.append(
            (list(envelope.rcpt_tos), email.message_from_bytes(envelope.content))
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=10)
    ctl.start()
    try:
        yield port, inbox
    finally:
        ctl.stop()


def _runner(port: int, **props: str) -> TestRunner:
    runner = TestRunner(PutEmail)
    runner.set_property("SMTP Hostname", "127.0.0.1")
    runner.set_property("SMTP Port", str(port))
    runner.set_property("From", "nifi@example.com")
    runner.set_property("SMTP Timeout", "5 sec")
    for k, v in props.items():
        runner.set_property(k, v)
    return runner


def test_sends_with_expression_language_recipients_and_headers(
    smtp: tuple[int, _Inbox],
) -> None:
    """To/CC/BCC, Subject and Message are EL; BCC only in the envelope; headers added."""
    port, inbox = smtp
    runner = _runner(
        port,
        To="${who}@example.com",
        CC="cc@example.com",
        BCC="hidden@example.com",
        Subject="about ${filename}",
        Message="hello ${who}",
    )
    runner.set_property("X-Custom", "v-${who}")
    runner.enqueue(b"content", {"who": "ann", "filename": "f.txt"})
    runner.run()
    runner.assert_all_transferred("success", 1)
    ((rcpts, msg),) = inbox.mail
    assert sorted(rcpts) == ["ann@example.com", "cc@example.com", "hidden@example.com"]
    assert msg["To"] == "ann@example.com"
    assert msg["Cc"] == "cc@example.com"
    assert msg["Bcc"] is None
    assert msg["Subject"] == "about f.txt"
    assert msg["X-Custom"] == "v-ann"
    assert msg["X-Mailer"] == "NiFi"
    assert msg.get_payload(decode=True).decode().strip() == "hello ann"


def test_attach_file_and_all_attributes(smtp: tuple[int, _Inbox]) -> None:
    """Attach File attaches the content by filename; attributes appended to the body."""
    port, inbox = smtp
    runner = _runner(
        port,
        To="a@example.com",
        Message="see attached",
        **{"Attach File": "true", "Include All Attributes In Message": "true"},
    )
    runner.enqueue(b"\x00\x01data", {"filename": "d.bin", "k": "v"})
    runner.run()
    runner.assert_all_transferred("success", 1)
    _, msg = inbox.mail[0]
    parts = list(msg.walk())
    body = next(p for p in parts if p.get_content_type() == "text/plain")
    text = body.get_payload(decode=True).decode()
    assert "see attached" in text
    assert "k: v" in text
    att = next(p for p in parts if p.get_filename() == "d.bin")
    assert att.get_payload(decode=True) == b"\x00\x01data"


def test_server_down_goes_to_failure_with_reason() -> None:
    """No server listening: failure, penalized, error.message; nothing lost."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    runner = _runner(port, To="a@example.com")
    runner.enqueue(b"keep")
    started = time.monotonic()
    runner.run()
    assert time.monotonic() - started < 10
    runner.assert_all_transferred("failure", 1)
    ff = runner.flowfiles_for("failure")[0]
    ff.assert_content_equals(b"keep")
    assert "email not sent" in (ff.get("error.message") or "")
    assert ff.is_penalized


def test_server_that_never_answers_hits_the_deadline() -> None:
    """A server that accepts but never greets: the SMTP Timeout bounds the wait."""
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        runner = _runner(srv.getsockname()[1], To="a@example.com")
        runner.set_property("SMTP Timeout", "500 ms")
        runner.enqueue(b"keep")
        started = time.monotonic()
        runner.run()
        assert time.monotonic() - started < 5
    runner.assert_all_transferred("failure", 1)


def test_needs_a_recipient() -> None:
    """Validation: at least one of To, CC and BCC."""
    runner = _runner(25)
    assert any("To, CC and BCC" in p for p in runner.validate())
