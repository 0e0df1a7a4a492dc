"""Errors raised while a flow starts end with the exit codes docs/flow-format.md lists."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

NO_CONDITIONS = """\
flow: r
processors:
  gen: {type: GenerateFlowFile, schedule: {max_triggers: 1}}
  route: {type: RouteOnAttribute, auto_terminate: [unmatched]}
connections:
  - gen -> route
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``flowengine run`` as a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "flowengine", "run", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_custom_validation_failure_is_exit_2_with_the_message(tmp_path: Path) -> None:
    """A processor's own check failing at start is an invalid flow: message, exit 2."""
    (tmp_path / "r.yaml").write_text(NO_CONDITIONS, encoding="utf-8")
    r = run("r.yaml", "--until-drained", "--in-memory", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "r.yaml:4:3: processor 'route': at least one condition" in r.stderr
    assert "Traceback" not in r.stderr


def test_state_directory_in_use_is_exit_1_with_the_reason(tmp_path: Path) -> None:
    """A second run on a locked state directory fails cleanly with exit 1."""
    state = tmp_path / "state"
    state.mkdir()
    fd = os.open(state / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = run(
            str(ROOT / "flows" / "hello.yaml"),
            "--until-drained",
            "--state-dir",
            str(state),
            cwd=tmp_path,
        )
    finally:
        os.close(fd)
    assert r.returncode == 1, r.stderr
    assert "is in use by another run" in r.stderr
    assert "Traceback" not in r.stderr


NESTED = """\
flow: nested
processors:
  gen: {type: GenerateFlowFile, schedule: {max_triggers: 1}}
groups:
  inner:
    input_ports: [in]
    processors:
      route: {type: RouteOnAttribute, auto_terminate: [unmatched]}
    connections:
      - in -> route
connections:
  - gen -> inner.in
"""


def test_validate_reports_processors_own_checks_with_location(tmp_path: Path) -> None:
    """`validate` runs custom_validate too, locating its problems like the others."""
    (tmp_path / "r.yaml").write_text(NO_CONDITIONS, encoding="utf-8")
    (tmp_path / "nested.yaml").write_text(NESTED, encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "flowengine", "validate", "r.yaml", "nested.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "r.yaml:4:3: processor 'route': at least one condition (dynamic property) is required",
        "r.yaml: 1 problem(s)",
        "nested.yaml:8:7: processor 'inner.route': at least one condition (dynamic property) is required",
        "nested.yaml: 1 problem(s)",
    ]


CASCADE = """\
flow: oops
processors:
  gen: {type: GenerateFlowFile, schedule: {max_triggers: 1}}
  route:
    type: RouteOnAttribute
    properties: {big: "${fileSize:gt(#{limit})}"}
    auto_terminate: [unmatched]
  log: {type: LogAttribute, auto_terminate: [success]}
connections:
  - gen -> route
  - route:big -> log
"""


def test_a_bad_condition_is_reported_once(tmp_path: Path) -> None:
    """A RouteOnAttribute condition with a mistake still names its relationship."""
    from flowengine._flow._loader import read_flow

    path = tmp_path / "oops.yaml"
    path.write_text(CASCADE, encoding="utf-8")
    flow, problems = read_flow(path)
    assert flow is not None and problems == []
    assert [str(p) for p in flow.validate()] == [
        f"{path}:6:38: processor 'route': dynamic property 'big': "
        "parameter #{limit} is not defined"
    ]


def _documented_exit_codes() -> dict[int, str]:
    """The rows of the "Exit codes" table of docs/flow-format.md's CLI section."""
    text = (ROOT / "docs" / "flow-format.md").read_text(encoding="utf-8")
    table = text.split("**Exit codes**", 1)[1].split("\n\n", 2)[1]
    rows = {}
    for line in table.splitlines()[2:]:
        code, meaning = line.strip("|").split("|", 1)
        rows[int(code)] = meaning.strip()
    return rows


def test_every_exit_code_constant_is_documented_and_nothing_else() -> None:
    """The CLI's EXIT_* constants and the documented table list the same codes, and
    the help epilog names each of them."""
    from flowengine import _exit_codes
    from flowengine._cli import _cli

    constants = {
        value: name
        for name, value in vars(_exit_codes).items()
        if name.startswith("EXIT_")
    }
    documented = _documented_exit_codes()
    assert sorted(documented) == sorted(constants)
    assert constants[5] == "EXIT_CONFIG"
    assert "cannot work as configured" in documented[5]
    epilog = _cli._parser().epilog or ""
    for code in constants:
        assert f"{code} " in epilog, code


MISSING_CONFIG = """\
flow: halts
processors:
  gen: {type: GenerateFlowFile, schedule: {max_triggers: 1}}
  bad:
    type: tests.docs.test_documented_exit_codes:AlwaysMisconfigured
    schedule: {yield_duration: 10 ms}
    auto_terminate: [success]
connections:
  - gen -> bad
"""


def test_configuration_error_is_exit_5_with_the_reason(tmp_path: Path) -> None:
    """A plugin raising ConfigurationError ends a drained run with exit 5; the summary
    names the processor, the code, the resource and the hint; nothing is lost."""
    (tmp_path / "halts.yaml").write_text(MISSING_CONFIG, encoding="utf-8")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowengine",
            "run",
            "halts.yaml",
            "--until-drained",
            "--in-memory",
            "--timeout",
            "60",
        ],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 5, r.stderr
    assert "stopped: processor 'bad' cannot work as configured" in r.stderr
    assert "error: NoSuchThing: the thing is missing" in r.stderr
    assert "where: thing://x" in r.stderr
    assert "check: the thing property" in r.stderr
    assert "Traceback" not in r.stderr


from flowengine import (  # noqa: E402 - the plugin the flow above loads by module:Class
    ConfigurationError,
    ProcessContext,
    Processor,
    ProcessSession,
    Relationship,
)


class AlwaysMisconfigured(Processor):
    """A plugin that can never work as configured."""

    SUCCESS = Relationship("success")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        if session.get(10):
            raise ConfigurationError(
                "the thing is missing",
                code="NoSuchThing",
                resource="thing://x",
                hint="the thing property",
            )


def test_a_negative_grace_period_is_a_usage_error(tmp_path: Path) -> None:
    """--grace-period takes seconds >= 0; anything else is exit 2 with the reason."""
    r = run(str(ROOT / "flows" / "hello.yaml"), "--grace-period", "-1", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "--grace-period: expected a number of seconds >= 0, not '-1'" in r.stderr
