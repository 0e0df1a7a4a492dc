"""Stopping a run with a trigger stuck in a blocking call (issue 13, issue 24 item 2).

A sync trigger runs on a worker thread that cannot be interrupted. A stop waits the grace
period for it, then abandons it: its session is rolled back and fenced, so the thread can
never commit afterwards, and a durable rerun processes its FlowFile exactly once. A second
signal skips the grace period. Tested in process (the fence itself) and against a real
``flowengine run`` whose trigger waits on a socket that accepts and never answers.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import flowengine
from flowengine import (
    ControllerService,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)
from flowengine._errors import TerminatedTaskError

from .conftest import Collect, Source, content_files, referenced, run_flow

pytestmark = pytest.mark.faults

#: Stuck processors block until their key's event is set
BLOCK: dict[str, threading.Event] = {}
#: set when a Stuck trigger has taken its FlowFile and blocks
ENTERED: dict[str, threading.Event] = {}
#: what a Stuck trigger could still do once released: (operation, outcome)
AFTER: list[tuple[str, str]] = []
#: set when a released Stuck trigger is done trying
LEFT = threading.Event()


class Stuck(Processor):
    """Takes a FlowFile, rewrites its content, then blocks (a stand-in for a request
    that never returns) until ``BLOCK[key]`` is set; then tries to go on."""

    input_requirement = InputRequirement.REQUIRED
    KEY = PropertyDescriptor("key", required=True)
    SUCCESS = Relationship("success")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        key = context.property(self.KEY).value or ""
        ff = session.get()
        if ff is None:
            return
        ff = session.write(ff, session.read(ff) + b" (stuck)")
        released = BLOCK[key]
        if not released.is_set():
            ENTERED[key].set()
            released.wait(60)
            self._try_to_go_on(context, session, ff)
            return
        session.transfer(ff, self.SUCCESS)

    def _try_to_go_on(
        self, context: ProcessContext, session: ProcessSession, ff: Any
    ) -> None:
        steps = (
            ("transfer", lambda: session.transfer(ff, self.SUCCESS)),
            ("get", lambda: session.get()),
            ("state", lambda: context.state.set({"late": "yes"})),
            ("commit", session.commit),
        )
        try:
            for name, step in steps:
                try:
                    step()
                    AFTER.append((name, "done"))
                except TerminatedTaskError:
                    AFTER.append((name, "TerminatedTaskError"))
        finally:
            LEFT.set()


class Recorder(ControllerService):
    """Notes when it is disabled (the stop must disable services even when it gives up
    on a trigger)."""

    disabled: list[float] = []

    def on_disabled(self) -> None:
        Recorder.disabled.append(time.monotonic())


@pytest.fixture
def stuck() -> Iterator[threading.Event]:
    """BLOCK['s'] (closed: Stuck blocks) and a fresh ENTERED/AFTER; released at the end
    so no thread outlives the test."""
    release, entered = threading.Event(), threading.Event()
    BLOCK["s"], ENTERED["s"] = release, entered
    AFTER.clear()
    LEFT.clear()
    yield release
    release.set()
    LEFT.wait(10)
    BLOCK.pop("s", None)
    ENTERED.pop("s", None)


def _flow() -> flowengine.Flow:
    f = flowengine.Flow("stuck")
    f.add_processor("src", Source, {"total": "1"})
    f.add_processor("stuck", Stuck, {"key": "s"})
    f.add_processor("sink", Collect, {"key": "out"})
    f.connect("src", "stuck")
    f.connect("stuck", "sink")
    return f


def _rerun_processes_it_exactly_once(
    tmp_path: Path, release: threading.Event, records: dict[str, Any]
) -> None:
    """The abandoned trigger, released, can do nothing with its session; the next run
    of the state directory delivers the FlowFile once, and nothing is left behind."""
    assert referenced(tmp_path)[0] == 1  # the FlowFile is still queued for 'stuck'
    release.set()
    assert LEFT.wait(10)
    assert AFTER == [
        ("transfer", "TerminatedTaskError"),
        ("get", "TerminatedTaskError"),
        ("state", "TerminatedTaskError"),
        ("commit", "TerminatedTaskError"),
    ]
    with run_flow(_flow(), tmp_path) as second:
        assert second.ok, second
        assert second.status.processor("stuck").flowfiles_in == 1
    assert [(a["n"], body) for a, body in records["out"]] == [("0", b"item-0- (stuck)")]
    assert referenced(tmp_path) == (0, set())
    assert content_files(tmp_path) == set()  # the abandoned write was released


def test_timeout_abandons_a_stuck_trigger_after_the_grace_period(
    tmp_path: Path, stuck: threading.Event, records: dict[str, Any]
) -> None:
    """--timeout with a trigger stuck: the run ends after the grace period, names the
    processor, and the fenced session never commits; the rerun does the FlowFile once."""
    started = time.monotonic()
    result = run_flow(_flow(), tmp_path, timeout=0.5, grace_period=0.3)
    took = time.monotonic() - started
    with result:
        assert result.timed_out and not result.ok and result.exit_code == 4
        assert not result.stopped_at_once
        assert [str(a) for a in result.abandoned] == [
            "stopped with 1 trigger still running in 'stuck' after 0.3 s grace; "
            "its session was rolled back (1 FlowFile(s) back in their queues)"
        ]
        assert "trigger abandoned at stop" in result.status.bulletins[-1].message
    assert 0.8 <= took < 0.8 + 2.0, took
    assert AFTER == []  # still blocked: the run did not wait for it
    _rerun_processes_it_exactly_once(tmp_path, stuck, records)


def test_stop_immediately_skips_the_grace_period(
    tmp_path: Path, stuck: threading.Event, records: dict[str, Any]
) -> None:
    """request_stop() waits the grace period; request_stop(immediately=True) meanwhile
    (the CLI's second signal) ends the run at once, the session rolled back."""
    stopped_at: list[float] = []
    Recorder.disabled.clear()
    flow = _flow()
    flow.add_service("recorder", Recorder, {})

    def on_start(runtime: Any) -> None:
        def stop() -> None:
            assert ENTERED["s"].wait(10)
            runtime.request_stop()
            time.sleep(0.2)
            stopped_at.append(time.monotonic())
            runtime.request_stop(immediately=True)

        threading.Thread(target=stop, daemon=True).start()

    result = flow.run(
        durable=True,
        state_dir=str(tmp_path),
        until_drained=False,
        timeout=60,
        grace_period=60,
        on_start=on_start,
    )
    took = time.monotonic() - stopped_at[0]
    assert len(Recorder.disabled) == 1 and Recorder.disabled[0] > stopped_at[0]
    with result:
        assert result.stopped_at_once and not result.timed_out and not result.ok
        assert [str(a) for a in result.abandoned] == [
            "stopped at once with 1 trigger still running in 'stuck'; "
            "its session was rolled back (1 FlowFile(s) back in their queues)"
        ]
    assert took < 1.5, took
    _rerun_processes_it_exactly_once(tmp_path, stuck, records)


def test_a_trigger_that_finishes_within_the_grace_period_commits(
    tmp_path: Path, stuck: threading.Event, records: dict[str, Any]
) -> None:
    """The grace period is for finishing: a trigger that returns within it commits as
    usual and nothing is abandoned."""

    def on_start(runtime: Any) -> None:
        def stop() -> None:
            assert ENTERED["s"].wait(10)
            runtime.request_stop()
            time.sleep(0.2)
            stuck.set()

        threading.Thread(target=stop, daemon=True).start()

    with _flow().run(
        durable=True,
        state_dir=str(tmp_path),
        until_drained=False,
        timeout=60,
        grace_period=30,
        on_start=on_start,
    ) as result:
        assert result.abandoned == [] and result.ok
        assert result.status.processor("stuck").flowfiles_out == 1
    assert LEFT.wait(10)
    assert AFTER == [
        ("transfer", "done"),
        ("get", "done"),
        ("state", "done"),
        ("commit", "done"),
    ]


class Busy(Processor):
    """While ``BLOCK[key]`` is not set, one trigger keeps taking and rewriting FlowFiles
    in a single session for seconds (the fence lands in the middle of that work);
    once it is set, FlowFiles pass through."""

    input_requirement = InputRequirement.REQUIRED
    KEY = PropertyDescriptor("key", required=True)
    SUCCESS = Relationship("success")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        key = context.property(self.KEY).value or ""
        if BLOCK[key].is_set():
            session.transfer(session.get(100), self.SUCCESS)
            return
        ENTERED[key].set()
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                ff = session.get()
                if ff is None:
                    time.sleep(0.0005)
                    continue
                ff = session.write(ff, session.read(ff) + b"!")
                session.transfer(ff, self.SUCCESS)
        except TerminatedTaskError:
            AFTER.append(("busy", "TerminatedTaskError"))
            raise
        finally:
            LEFT.set()


def test_the_fence_lands_safely_in_the_middle_of_work(
    tmp_path: Path, stuck: threading.Event, records: dict[str, Any]
) -> None:
    """A trigger busy taking and writing FlowFiles when it is abandoned: its next use of
    the session raises, nothing it took is lost, no content claim leaks, and the rerun
    delivers every FlowFile exactly once."""
    f = flowengine.Flow("busy")
    f.add_processor("src", Source, {"total": "300", "per_trigger": "10"})
    f.add_processor("busy", Busy, {"key": "s"})
    f.add_processor("sink", Collect, {"key": "out"}, schedule={"batch_size": 100})
    f.connect("src", "busy")
    f.connect("busy", "sink")
    with run_flow(f, tmp_path, timeout=0.4, grace_period=0.1) as first:
        assert [a.processor for a in first.abandoned] == ["busy"]
        assert first.abandoned[0].flowfiles > 0
    assert LEFT.wait(10)  # the abandoned thread ran into the fence and left
    assert AFTER == [("busy", "TerminatedTaskError")]
    assert records.get("out", []) == []
    stuck.set()
    with run_flow(f, tmp_path) as second:
        assert second.ok, second
    got = sorted(int(a["n"]) for a, _ in records["out"])
    assert got == list(range(300))
    assert all(body.endswith(b"-") for _, body in records["out"])  # not rewritten
    assert referenced(tmp_path) == (0, set())
    assert content_files(tmp_path) == set()


class Binner(Processor):
    """Holds its input in a session of its own (``context.new_session()``, as binning
    processors do) and blocks before committing it."""

    input_requirement = InputRequirement.REQUIRED
    KEY = PropertyDescriptor("key", required=True)
    SUCCESS = Relationship("success")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        key = context.property(self.KEY).value or ""
        bin_session = context.new_session()
        ff = bin_session.get()
        if ff is None:
            return
        bin_session.transfer(ff, self.SUCCESS)
        if not BLOCK[key].is_set():
            ENTERED[key].set()
            BLOCK[key].wait(60)
            try:
                bin_session.commit()
                AFTER.append(("bin commit", "done"))
            except TerminatedTaskError:
                AFTER.append(("bin commit", "TerminatedTaskError"))
            finally:
                LEFT.set()
            return
        bin_session.commit()


def test_a_session_the_processor_made_itself_is_fenced_too(
    tmp_path: Path, stuck: threading.Event, records: dict[str, Any]
) -> None:
    """NiFi makes every session of a terminated processor unusable: a session from
    context.new_session() that the abandoned trigger commits late is refused too."""
    f = flowengine.Flow("binner")
    f.add_processor("src", Source, {"total": "1"})
    f.add_processor("binner", Binner, {"key": "s"})
    f.add_processor("sink", Collect, {"key": "out"})
    f.connect("src", "binner")
    f.connect("binner", "sink")
    with run_flow(f, tmp_path, timeout=0.4, grace_period=0.1) as first:
        assert [a.processor for a in first.abandoned] == ["binner"]
    stuck.set()
    assert LEFT.wait(10)
    assert AFTER == [("bin commit", "TerminatedTaskError")]
    with run_flow(f, tmp_path) as second:
        assert second.ok, second
    assert [a["n"] for a, _ in records["out"]] == ["0"]
    assert referenced(tmp_path) == (0, set())


def test_grace_period_must_not_be_negative(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="grace_period"):
        _flow().run(grace_period=-1)


# -- a real `flowengine run`, a real socket that never answers -------------------------------

PLUGIN = '''\
"""A processor whose request to a server may never return (no read deadline on
purpose: the fault under test)."""

import socket

from flowengine import InputRequirement, Processor, PropertyDescriptor, Relationship


class Stuck(Processor):
    input_requirement = InputRequirement.REQUIRED
    PORT = PropertyDescriptor("port", required=True)
    SUCCESS = Relationship("success")

    def on_trigger(self, context, session):
        ff = session.get()
        if ff is None:
            return
        port = int(context.property(self.PORT).value)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.settimeout(None)
            sock.sendall(b"?")
            if sock.recv(1) != b"k":
                raise OSError("the server hung up")
        session.transfer(ff, self.SUCCESS)
'''

FLOW = """\
flow: stuck
processors:
  get:
    type: GetFile
    properties: {{input_directory: "{inbox}", polling_interval: 0 sec}}
    schedule: {{period: 0 sec}}
  put:
    type: stuckplug:Stuck
    properties: {{port: "{port}"}}
  write:
    type: PutFile
    properties: {{directory: "{outbox}"}}
    auto_terminate: [success, failure]
connections:
  - get -> put
  - put -> write
"""


class SilentServer:
    """Accepts connections on 127.0.0.1; answers them only once ``answer`` is set."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = threading.Event()
        self.answer = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)
            self.accepted.set()
            if self.answer.is_set():
                threading.Thread(target=self._reply, args=(conn,), daemon=True).start()

    @staticmethod
    def _reply(conn: socket.socket) -> None:
        conn.settimeout(10)
        if conn.recv(1):
            conn.sendall(b"k")

    def close(self) -> None:
        self.sock.close()
        for c in self.connections:
            c.close()


@pytest.fixture
def server() -> Iterator[SilentServer]:
    s = SilentServer()
    yield s
    s.close()


def _cli(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    env = dict(
        os.environ,
        PYTHONPATH=f"{tmp_path}{os.pathsep}" + os.environ.get("PYTHONPATH", ""),
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flowengine",
            "run",
            str(tmp_path / "flow.yaml"),
            "--state-dir",
            str(tmp_path / "state"),
            "--log-format",
            "json",
            *extra,
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _setup(tmp_path: Path, port: int) -> bytes:
    (tmp_path / "stuckplug.py").write_text(PLUGIN, encoding="utf-8")
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    data = os.urandom(3000)
    (inbox / "in-1").write_bytes(data)
    (tmp_path / "flow.yaml").write_text(
        FLOW.format(inbox=inbox, outbox=outbox, port=port), encoding="utf-8"
    )
    return data


def _events(stderr: str) -> list[dict[str, Any]]:
    return [json.loads(ln) for ln in stderr.splitlines() if ln.startswith("{")]


def _rerun_delivers_once(tmp_path: Path, server: SilentServer, data: bytes) -> None:
    """The same state directory, the server answering now: one more request, the
    FlowFile written once, intact; nothing left queued."""
    server.answer.set()
    before = len(server.connections)
    proc = _cli(tmp_path, "--until-drained", "--timeout", "60")
    _out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    assert len(server.connections) == before + 1  # processed exactly once more
    written = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert written == ["in-1"]
    got = (tmp_path / "outbox" / "in-1").read_bytes()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    assert list((tmp_path / "inbox").iterdir()) == []
    assert referenced(tmp_path / "state")[0] == 0


def test_cli_timeout_ends_a_run_with_a_stuck_request_after_the_grace_period(
    tmp_path: Path, server: SilentServer
) -> None:
    """`--timeout` with a request that never returns: exit 4 after timeout + grace, the
    stuck processor named; the rerun delivers the file exactly once."""
    data = _setup(tmp_path, server.port)
    started = time.monotonic()
    proc = _cli(tmp_path, "--until-drained", "--timeout", "3", "--grace-period", "1")
    _out, err = proc.communicate(timeout=60)
    took = time.monotonic() - started
    assert proc.returncode == 4, err
    assert server.accepted.is_set()
    assert 4.0 <= took < 4.0 + 6.0, took  # + interpreter start-up on a busy machine
    line = (
        "flowengine run: stopped with 1 trigger still running in 'put' after 1 s "
        "grace; its session was rolled back (1 FlowFile(s) back in their queues)"
    )
    assert line in err.splitlines()
    finished = [e for e in _events(err) if e["event"] == "flow_finished"]
    assert finished and finished[0]["exit_code"] == 4
    assert "Traceback" not in err
    _rerun_delivers_once(tmp_path, server, data)


@pytest.mark.parametrize(
    ("signals", "grace", "code", "bound"),
    [
        pytest.param([signal.SIGTERM], "1", 143, (1.0, 3.0), id="SIGTERM-grace-ends"),
        pytest.param(
            [signal.SIGTERM, signal.SIGTERM], "60", 143, (0.0, 2.0), id="SIGTERMx2"
        ),
        pytest.param(
            [signal.SIGINT, signal.SIGINT], "60", 130, (0.0, 2.0), id="SIGINTx2"
        ),
    ],
)
def test_cli_signals_end_a_run_with_a_stuck_request(
    tmp_path: Path,
    server: SilentServer,
    signals: list[signal.Signals],
    grace: str,
    code: int,
    bound: tuple[float, float],
) -> None:
    """A service with a request that never returns: one signal stops it once the grace
    period is over, a second one at once; exit 128 + the signal, the stuck processor
    named, repositories closed; the rerun loses nothing and duplicates nothing."""
    data = _setup(tmp_path, server.port)
    proc = _cli(tmp_path, "--grace-period", grace)
    try:
        assert server.accepted.wait(60), "the trigger never reached the server"
        time.sleep(0.2)  # the trigger is inside recv() now
        for i, sig in enumerate(signals):
            if i:
                time.sleep(0.3)
            proc.send_signal(sig)
            sent = time.monotonic()
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    took = time.monotonic() - sent
    assert proc.returncode == code, err
    assert bound[0] <= took < bound[1], took
    events = _events(err)
    names = [e["event"] for e in events]
    assert "stop_requested" in names
    assert ("stop_requested_at_once" in names) == (len(signals) > 1)
    finished = [e for e in events if e["event"] == "flow_finished"]
    assert finished and finished[0]["exit_code"] == code
    assert finished[0]["abandoned"] and "in 'put'" in finished[0]["abandoned"][0]
    assert "Traceback" not in err
    _rerun_delivers_once(tmp_path, server, data)
