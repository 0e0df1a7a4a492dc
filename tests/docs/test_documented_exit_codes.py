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
    from flowengine._loader import read_flow

    path = tmp_path / "oops.yaml"
    path.write_text(CASCADE, encoding="utf-8")
    flow, problems = read_flow(path)
    assert flow is not None and problems == []
    assert [str(p) for p in flow.validate()] == [
        f"{path}:6:38: processor 'route': dynamic property 'big': "
        "parameter #{limit} is not defined"
    ]


def test_a_negative_grace_period_is_a_usage_error(tmp_path: Path) -> None:
    """--grace-period takes seconds >= 0; anything else is exit 2 with the reason."""
    r = run(str(ROOT / "flows" / "hello.yaml"), "--grace-period", "-1", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "--grace-period: expected a number of seconds >= 0, not '-1'" in r.stderr
