"""Watching a run without the terminal table (issue 23 item 10): periodic status lines,
the failure table's reason, and the embedding API's on_status."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import flowengine
from flowengine._status import FlowStatus

SLOW = """\
flow: slow
processors:
  gen:
    type: GenerateFlowFile
    properties: {custom_text: hi}
    schedule: {period: 100 ms, max_triggers: 15}
  log:
    type: LogAttribute
    properties: {log_level: debug}
    auto_terminate: [success]
connections:
  - gen -> log
"""


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowengine", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_status_line_every_interval_when_not_a_tty(tmp_path: Path) -> None:
    """Off a TTY, `run` logs flow_status lines at --status-interval with each
    processor's in/out, queued totals and errors; 0 turns them off."""
    (tmp_path / "slow.yaml").write_text(SLOW)
    run = run_cli(
        tmp_path, "run", "slow.yaml", "--until-drained", "--in-memory",
        "--status-interval", "0.3",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = [json.loads(x) for x in run.stderr.splitlines() if x.startswith("{")]
    status = [x for x in lines if x["event"] == "flow_status"]
    assert len(status) >= 3, run.stderr  # ~1.5 s of run at 0.3 s
    assert {"processors", "queued", "queued_bytes", "in_flight", "errors"} <= set(
        status[0]
    )
    outs = [int(s["processors"].split()[0].split("=")[1].split("/")[1]) for s in status]
    assert outs == sorted(outs) and outs[-1] > outs[0], status  # gen=in/out moves on
    assert all(s["errors"] == 0 for s in status)
    quiet = run_cli(
        tmp_path, "run", "slow.yaml", "--until-drained", "--in-memory",
        "--status-interval", "0",
    )  # fmt: skip
    assert quiet.returncode == 0 and "flow_status" not in quiet.stderr


def test_failure_table_shows_the_reason_attribute(tmp_path: Path) -> None:
    """A record processor routes to failure with record.error.message and no bulletin:
    the summary's failure table and flow_finished show that reason."""
    (tmp_path / "rec.yaml").write_text(
        textwrap.dedent(
            """\
            flow: rec
            services:
              r: {type: JsonTreeReader}
              w: {type: JsonRecordSetWriter}
            processors:
              gen:
                type: GenerateFlowFile
                properties: {custom_text: "{not json"}
                schedule: {max_triggers: 1}
              conv:
                type: ConvertRecord
                properties: {record_reader: r, record_writer: w}
                auto_terminate: [success, failure]
            connections:
              - gen -> conv
            """
        )
    )
    run = run_cli(tmp_path, "run", "rec.yaml", "--until-drained", "--in-memory")
    assert run.returncode == 3, run.stderr
    table = run.stderr.split("failures")[1]
    assert "invalid JSON at line 1" in table, run.stderr
    finished = next(
        json.loads(x) for x in run.stderr.splitlines() if '"flow_finished"' in x
    )
    assert "last error: invalid JSON at line 1" in finished["failures"][0]


def test_embedding_on_status_sees_the_run_move(tmp_path: Path) -> None:
    """Flow.run(on_status=...) gets snapshots during the run and the final one; a
    callback that raises is dropped and the run still completes."""
    (tmp_path / "slow.yaml").write_text(SLOW)
    flow = flowengine.load(tmp_path / "slow.yaml")
    seen: list[FlowStatus] = []
    with flow.run(on_status=seen.append, status_interval=0.2) as result:
        assert result.ok
    assert len(seen) >= 4
    outs = [s.processor("gen").flowfiles_out for s in seen]
    assert outs == sorted(outs) and outs[0] < 15 and outs[-1] == 15, outs
    assert seen[-1] == result.status

    calls = []

    def broken(status: FlowStatus) -> None:
        calls.append(status)
        raise RuntimeError("boom")

    with flow.run(on_status=broken, status_interval=0.1) as result:
        assert result.ok
    assert len(calls) == 1


def test_provenance_accepts_a_unique_uuid_prefix(tmp_path: Path) -> None:
    """`provenance --uuid/--lineage` take a unique prefix; an ambiguous one is a clear
    error (exit 2) listing the candidates."""
    (tmp_path / "gen.yaml").write_text(
        textwrap.dedent(
            """\
            flow: gen
            processors:
              gen:
                type: GenerateFlowFile
                properties: {custom_text: hi, batch_size: 20}
                schedule: {max_triggers: 1}
                auto_terminate: [success]
            """
        )
    )
    state = tmp_path / "state"
    run = run_cli(
        tmp_path, "run", "gen.yaml", "--until-drained", "--state-dir", str(state)
    )
    assert run.returncode == 0, run.stderr
    listed = run_cli(tmp_path, "provenance", str(state), "--component", "gen", "--json")
    uuids = sorted({e["flowfile_uuid"] for e in json.loads(listed.stdout)})
    assert len(uuids) == 20
    # 20 uuids over 16 hex digits: two share a first character (pigeonhole).
    shared = next(c for c in "0123456789abcdef" if sum(u[0] == c for u in uuids) > 1)
    target = uuids[0]
    k = next(
        k for k in range(1, 37) if sum(u.startswith(target[:k]) for u in uuids) == 1
    )
    for flag in ("--uuid", "--lineage"):
        one = run_cli(
            tmp_path, "provenance", str(state), flag, target[:k].upper(), "--json"
        )
        assert one.returncode == 0, one.stderr
        assert {e["flowfile_uuid"] for e in json.loads(one.stdout)} == {target}
    amb = run_cli(tmp_path, "provenance", str(state), "--uuid", shared)
    assert amb.returncode == 2 and amb.stdout == ""
    candidates = [u for u in uuids if u.startswith(shared)]
    assert (
        f"uuid prefix {shared!r} is ambiguous: {len(candidates)} FlowFiles match"
        in amb.stderr
    )
    assert all(u in amb.stderr for u in candidates[:10]), amb.stderr


def test_live_table_fits_the_terminal_width_without_truncating_names(
    tmp_path: Path,
) -> None:
    """At 80 columns the live table drops byte/task columns before it shortens
    processor names (it used to print `proce…`, `Gener…`); wide terminals show all."""
    import io

    from rich.console import Console

    from flowengine._cli._live import status_tables

    (tmp_path / "long.yaml").write_text(
        SLOW.replace("gen", "generate_greetings_for_everyone")
        .replace("log:", "log_every_single_greeting:")
        .replace("-> log", "-> log_every_single_greeting")
    )
    seen: list[FlowStatus] = []
    flowengine.load(tmp_path / "long.yaml").run(on_status=seen.append).close()

    def render(width: int) -> str:
        buf = io.StringIO()
        Console(file=buf, width=width).print(status_tables(seen[-1], width=width))
        return buf.getvalue()

    narrow = render(80)
    assert "generate_greetings_for_everyone" in narrow, narrow
    assert "log_every_single_greeting" in narrow, narrow
    assert "bytes in" not in narrow and "errors" in narrow and " out " in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 80
    wide = render(200)
    assert "bytes in" in wide and "GenerateFlowFile" in wide
    assert (
        "generate_greetings_for_everyone -(success)-> log_every_single_greeting" in wide
    )
