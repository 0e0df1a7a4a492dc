"""The flowengine command, tested as a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOWS = ROOT / "flows"


def cli(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "flowengine", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=timeout,
    )


def write(tmp_path: Path, text: str, name: str = "flow.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_hello_until_drained_writes_the_files_and_exits_0(tmp_path: Path) -> None:
    """The README's hello flow writes 5 English and 5 French greetings and exits 0."""
    r = cli(
        "run",
        str(FLOWS / "hello.yaml"),
        "--until-drained",
        "--state-dir",
        str(tmp_path / "state"),
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    en = sorted((tmp_path / "out" / "en").iterdir())
    fr = sorted((tmp_path / "out" / "fr").iterdir())
    assert len(en) == 5 and len(fr) == 5
    assert {p.read_text() for p in en} == {"hello, world"}
    assert {p.read_text() for p in fr} == {"bonjour, le monde"}
    assert r.stdout == ""  # logs and the summary go to stderr


def test_logs_are_json_lines_on_stderr_when_not_a_tty(tmp_path: Path) -> None:
    """Without a TTY every log line on stderr is JSON."""
    r = cli(
        "run", str(FLOWS / "hello.yaml"), "--until-drained", "--in-memory", cwd=tmp_path
    )
    events = [
        json.loads(line)["event"]
        for line in r.stderr.splitlines()
        if line.startswith("{")
    ]
    assert "flow_starting" in events and "flow_finished" in events


def test_validate_reports_five_located_errors_and_exits_2(tmp_path: Path) -> None:
    """validate prints one file:line:col line per mistake."""
    path = write(
        tmp_path,
        """\
        flow: five
        processors:
          gen: {type: GenerateFlowFil}
          tag: {type: UpdateAttribute, properties: {delete_attributes_expression: "(["}}
          route:
            type: RouteOnAttribute
            properties: {ok: "${x}", routing_strategy: sideways}
            auto_terminate: [unmatched, ok]
        connections:
          - tag -> route
          - route:ok -> nowhere
          - tag:failure -> route
        """,
    )
    r = cli("validate", str(path), str(FLOWS / "hello.yaml"))
    assert r.returncode == 2
    located = [ln for ln in r.stderr.splitlines() if ln.startswith(f"{path}:")]
    errors = [ln for ln in located if not ln.endswith("problem(s)")]
    assert len(errors) == 5, r.stderr
    assert all(
        ln.split(":")[1].isdigit() and ln.split(":")[2].isdigit() for ln in errors
    )
    assert f"{FLOWS / 'hello.yaml'}: valid" in r.stderr


def test_usage_errors_exit_2() -> None:
    """Unknown subcommands and bad options are usage errors (exit 2)."""
    assert cli("frobnicate").returncode == 2
    assert cli("run").returncode == 2
    assert cli("run", "x.yaml", "--timeout", "soon").returncode == 2


def test_unexpected_error_exits_1(tmp_path: Path) -> None:
    """A controller service that cannot be enabled is an unexpected error (exit 1)."""
    (tmp_path / "brokensvc.py").write_text(
        textwrap.dedent(
            """\
            from flowengine import ControllerService
            class Broken(ControllerService):
                def on_enabled(self, context):
                    raise OSError("database unreachable")
            """
        )
    )
    path = write(
        tmp_path,
        "flow: e\nservices:\n  db: {type: 'brokensvc:Broken'}\nprocessors:\n  gen: {type: GenerateFlowFile, auto_terminate: [success], schedule: {max_triggers: 1}}\n",
    )
    r = cli(
        "run",
        str(path),
        "--until-drained",
        "--in-memory",
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert r.returncode == 1, r.stderr
    assert "database unreachable" in r.stderr


def test_failures_auto_terminated_exit_3(tmp_path: Path) -> None:
    """FlowFiles reaching an auto-terminated failure relationship make exit code 3."""
    path = write(
        tmp_path,
        """\
        flow: fails
        processors:
          gen: {type: GenerateFlowFile, properties: {batch_size: 2}, schedule: {max_triggers: 1}}
          fetch:
            type: FetchFile
            properties: {file_to_fetch: '/nonexistent/${uuid}'}
            auto_terminate: [success, not.found, permission.denied, failure]
        connections: [gen -> fetch]
        """,
    )
    r = cli("run", str(path), "--until-drained", "--in-memory")
    assert r.returncode == 3, r.stderr
    assert "not.found" in r.stderr


def test_timeout_exits_4(tmp_path: Path) -> None:
    """A flow that never drains is stopped by --timeout with exit code 4."""
    path = write(
        tmp_path,
        "flow: t\nprocessors:\n  gen: {type: GenerateFlowFile, auto_terminate: [success], schedule: {period: 50 ms}}\n",
    )
    started = time.monotonic()
    r = cli("run", str(path), "--until-drained", "--timeout", "1", "--in-memory")
    assert r.returncode == 4, r.stderr
    assert time.monotonic() - started < 30


def test_sigterm_stops_a_service_cleanly(tmp_path: Path) -> None:
    """SIGTERM during a service run finishes in-flight work and exits 0."""
    path = write(
        tmp_path,
        """\
        flow: svc
        processors:
          gen: {type: GenerateFlowFile, properties: {custom_text: x, batch_size: 10}, schedule: {period: 20 ms}}
          write: {type: PutFile, properties: {directory: ./written, conflict_resolution_strategy: replace}, auto_terminate: [success, failure]}
        connections: [gen -> write]
        """,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowengine", "run", str(path), "--in-memory"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list((tmp_path / "written").glob("*")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    events = [json.loads(ln) for ln in err.splitlines() if ln.startswith("{")]
    assert any(
        e["event"] == "stop_requested" and e["signal"] == "SIGTERM" for e in events
    )
    assert any(e["event"] == "flow_finished" for e in events)
    assert "Traceback" not in err
    assert not list((tmp_path / "written").glob(".*.tmp"))  # no half-written file


def test_processors_json_and_describe() -> None:
    """processors --json and describe --json print only data on stdout."""
    r = cli("processors", "--json")
    data = json.loads(r.stdout)
    names = {p["type"] for p in data["processors"]}
    assert {
        "GenerateFlowFile",
        "UpdateAttribute",
        "RouteOnAttribute",
        "ListFile",
        "PutFile",
    } <= names
    d = json.loads(cli("describe", "PutFile", "--json").stdout)
    assert d["type"] == "PutFile" and {r["name"] for r in d["relationships"]} == {
        "success",
        "failure",
    }
    text = cli("describe", "UpdateAttribute").stdout
    assert "Delete Attributes Expression" in text
    bad = cli("describe", "PutFiel")
    assert bad.returncode == 2 and "did you mean 'PutFile'" in bad.stderr


def test_describe_flow_and_logs_mask_sensitive_parameters(tmp_path: Path) -> None:
    """A sensitive parameter never appears in describe output or logs."""
    path = write(
        tmp_path,
        """\
        flow: secret
        parameters:
          token: {value: hunter2-secret, sensitive: true}
          plain: visible-value
        processors:
          gen: {type: GenerateFlowFile, properties: {custom_text: "#{plain}"}, schedule: {max_triggers: 1}, auto_terminate: [success]}
        """,
    )
    d = cli("describe", str(path))
    assert d.returncode == 0, d.stderr
    assert "hunter2" not in d.stdout and "********" in d.stdout
    r = cli(
        "run",
        str(path),
        "--until-drained",
        "--in-memory",
        "--log-level",
        "debug",
        "--param",
        "token=hunter2-other",
    )
    assert r.returncode == 0, r.stderr
    assert "hunter2" not in r.stderr + r.stdout
    assert "visible-value" in r.stderr


def test_schema_is_json_and_checked_in_copy_is_current() -> None:
    """flowengine schema prints the schema; flows/flow.schema.json matches it."""
    r = cli("schema")
    schema = json.loads(r.stdout)
    assert schema["additionalProperties"] is False and schema["required"] == ["flow"]
    checked_in = json.loads((FLOWS / "flow.schema.json").read_text())
    assert checked_in == schema, (
        "regenerate: flowengine schema > flows/flow.schema.json"
    )


def test_processors_doc_is_current() -> None:
    """docs/processors.md is generated from the declarations and up to date."""
    r = cli("docs")
    assert (ROOT / "docs" / "processors.md").read_text() == r.stdout, (
        "regenerate: flowengine docs --output docs/processors.md"
    )


def test_example_flows_validate_against_the_schema() -> None:
    """Every example flow is valid per the JSON Schema (editors agree with the loader)."""
    import jsonschema
    import yaml

    schema = json.loads((FLOWS / "flow.schema.json").read_text())
    for path in sorted(FLOWS.glob("*.yaml")) + sorted(
        (FLOWS / "groups").glob("*.yaml")
    ):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)


def test_el_subcommand_prints_only_the_value() -> None:
    """flowengine el evaluates with --attr and prints the result alone."""
    r = cli(
        "el",
        "${filename:substringBeforeLast('.'):toUpper()}",
        "--attr",
        "filename=report.csv",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "REPORT"


def test_help_and_module_entry_point() -> None:
    """--help works through python -m flowengine."""
    r = cli("--help")
    assert r.returncode == 0 and "run" in r.stdout


@pytest.mark.parametrize("flow", ["hello.yaml", "nested_group.yaml"])
def test_example_flows_run(tmp_path: Path, flow: str) -> None:
    """The runnable examples drain and exit 0 from any directory."""
    r = cli("run", str(FLOWS / flow), "--until-drained", "--in-memory", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert list((tmp_path / "out").rglob("*.txt"))


def test_watch_directory_flow_sorts_files(tmp_path: Path) -> None:
    """The directory-watcher example lists, fetches and sorts files by extension."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("a.csv", "b.JSON", "c.txt"):
        (inbox / name).write_text(name)
    old = time.time() - 10
    for p in inbox.iterdir():
        os.utime(p, (old, old))
    r = cli(
        "run",
        str(FLOWS / "watch_directory.yaml"),
        "--until-drained",
        "--in-memory",
        "--param",
        f"in_dir={inbox}",
        "--param",
        f"out_dir={tmp_path / 'sorted'}",
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "sorted" / "csv" / "a.csv").read_text() == "a.csv"
    assert (tmp_path / "sorted" / "json" / "b.JSON").exists()
    assert (tmp_path / "sorted" / "other" / "c.txt").exists()


def test_sigterm_then_rerun_loses_nothing(tmp_path: Path) -> None:
    """Durable mode: SIGTERM mid-run, then a drain run delivers every input file."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in range(300):
        (inbox / f"f{i:03}.txt").write_text(f"payload {i}")
    old = time.time() - 10
    for p in inbox.iterdir():
        os.utime(p, (old, old))
    path = write(
        tmp_path,
        f"""\
        flow: resume
        processors:
          list: {{type: ListFile, properties: {{input_directory: '{inbox}'}}, schedule: {{period: 1 sec}}}}
          fetch: {{type: FetchFile, auto_terminate: [not.found, permission.denied, failure], schedule: {{batch_size: 5}}}}
          slow: {{type: LogMessage, properties: {{log_message: x, log_level: debug}}, schedule: {{period: 20 ms, batch_size: 5}}}}
          write: {{type: PutFile, properties: {{directory: ./written, conflict_resolution_strategy: replace}}, auto_terminate: [success, failure]}}
        connections: [list -> fetch, fetch -> slow, slow -> write]
        """,
    )
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flowengine",
            "run",
            str(path),
            "--state-dir",
            str(state),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    written = tmp_path / "written"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(written.glob("f*"))) < 20:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    first = len(list(written.glob("f*")))
    assert 0 < first < 300
    r = cli(
        "run",
        str(path),
        "--state-dir",
        str(state),
        "--until-drained",
        cwd=tmp_path,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    out = sorted(p.name for p in written.glob("f*"))
    assert out == sorted(p.name for p in inbox.iterdir())
    assert all((written / n).read_text() == (inbox / n).read_text() for n in out)
