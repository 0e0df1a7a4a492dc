"""Validation reports every problem in one pass, with suggestions that are true (issue 23 item 8)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from flowengine._loader import read_flow


def write(tmp_path: Path, text: str, name: str = "flow.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def problems(path: Path) -> list[str]:
    flow, found = read_flow(path)
    if flow is not None and not found:
        found = flow.validate(None)
    return [str(p) for p in found]


def test_unknown_type_does_not_hide_other_processors_problems(tmp_path: Path) -> None:
    """An unknown processor type is reported beside the other processors' problems, and
    its good neighbours' connections to it still count as connected."""
    path = write(
        tmp_path,
        """\
        flow: f
        processors:
          gen: {type: GenerateFlowFile, schedule: {max_triggers: 1}}
          mystery: {type: NoSuchThing}
          upd: {type: UpdateAttribute}
          log: {type: LogAttribute}
          other: {type: LogAttribute}
        connections:
          - gen -> mystery
          - mystery -> upd
          - upd -> log
        """,
    )
    got = problems(path)
    assert any("4:19: processor 'mystery': unknown processor type" in p for p in got), (
        got
    )
    # log's success is unconnected; other has no input and an unconnected success.
    assert sum("relationship 'success' is not connected" in p for p in got) == 2, got
    assert any(
        "'other': LogAttribute requires an incoming connection" in p for p in got
    )
    # gen -> mystery connects gen's success; mystery -> upd feeds upd.
    assert not any("'gen'" in p or "'upd'" in p for p in got), got


def test_nifi_types_we_lack_are_named_not_miscorrected(tmp_path: Path) -> None:
    """`flowengine validate` says a NiFi type is not available instead of suggesting an
    unrelated flowengine type; real typos still get a did-you-mean; a type of the other
    kind says so."""
    path = write(
        tmp_path,
        """\
        flow: t
        services:
          grok: {type: GrokReader}
          gen: {type: GenerateFlowFile}
        processors:
          a: {type: RouteOnContent, auto_terminate: [matched]}
          b: {type: GenerateFlowFle, auto_terminate: [success]}
          c: {type: CSVReader}
          d: {type: org.apache.nifi.processors.standard.UpdateAttribute}
        """,
    )
    run = subprocess.run(
        [sys.executable, "-m", "flowengine", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode != 0
    out = run.stdout + run.stderr
    assert (
        "3:16: service 'grok': unknown controller service type 'GrokReader': NiFi's GrokReader is not available in flowengine yet"
        in out
    ), out
    assert "AvroReader" not in out and "RouteOnAttribute" not in out, out
    assert (
        "6:13: processor 'a': unknown processor type 'RouteOnContent': NiFi's RouteOnContent is not available in flowengine yet"
        in out
    ), out
    assert "'GenerateFlowFle' (did you mean 'GenerateFlowFile'?)" in out, out
    assert "'GenerateFlowFile' is a processor, not a controller service" in out, out
    assert "'CSVReader' is a controller service, not a processor" in out, out
    assert "(did you mean 'UpdateAttribute'?)" in out, out
    assert "6 problem(s)" in out, out
