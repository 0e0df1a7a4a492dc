"""Embedding flows in Python batch jobs: inputs, outputs, repeated runs, async."""

from __future__ import annotations

import gc
import textwrap
from pathlib import Path

import anyio
import psutil
import pytest

import flowengine

FLOW = """\
flow: embed
input_ports: [in]
output_ports: [out, rejected]
processors:
  tag:
    type: UpdateAttribute
    properties: {length: "${fileSize}", upper: "${filename:toUpper()}"}
  route:
    type: RouteOnAttribute
    properties: {ok: "${length:gt(0)}"}
connections:
  - in -> tag
  - tag -> route
  - route:ok -> out
  - route:unmatched -> rejected
"""


@pytest.fixture
def flow(tmp_path: Path) -> flowengine.Flow:
    path = tmp_path / "embed.yaml"
    path.write_text(FLOW)
    return flowengine.load(path)


def test_inputs_in_outputs_out_with_content(flow: flowengine.Flow) -> None:
    """Root input ports take bytes or (bytes, attrs); outputs carry readable content."""
    with flow.run(
        inputs={
            "in": [
                b"abc",
                (b"", {"filename": "empty"}),
                ("text", {"filename": "t.txt"}),
            ]
        },
        timeout=30,
    ) as res:
        assert res.ok and res.drained
        out = sorted(res.outputs["out"], key=lambda f: f["length"])
        assert [res.read(f) for f in out] == [b"abc", b"text"]
        assert out[1]["upper"] == "T.TXT"
        with res.open(out[0]) as stream:
            assert stream.read() == b"abc"
        assert [f["filename"] for f in res.outputs["rejected"]] == ["empty"]
        assert res.counts["tag"].flowfiles_in == 3


def test_result_content_is_released_on_close(flow: flowengine.Flow) -> None:
    """After close() the content is gone and reading says so."""
    res = flow.run(inputs={"in": [b"x"]}, timeout=30)
    ff = res.outputs["out"][0]
    res.close()
    with pytest.raises(flowengine.FlowEngineError, match="closed"):
        res.read(ff)


def test_unknown_input_port_is_an_error(flow: flowengine.Flow) -> None:
    """Feeding a port that does not exist fails before anything runs."""
    with pytest.raises(
        flowengine.FlowEngineError, match="no root input port named 'nope'"
    ):
        flow.run(inputs={"nope": [b"x"]})


def test_run_100_times_in_one_process_without_growing(flow: flowengine.Flow) -> None:
    """The same flow runs 100 times; memory stays flat."""
    proc = psutil.Process()
    batch = [(b"x" * 1000, {"filename": f"f{i}"}) for i in range(200)]

    def once() -> None:
        with flow.run(inputs={"in": batch}, timeout=30, provenance=False) as res:
            assert len(res.outputs["out"]) == 200

    for _ in range(10):
        once()
    gc.collect()
    base = proc.memory_info().rss
    for _ in range(90):
        once()
    gc.collect()
    grown = proc.memory_info().rss - base
    assert grown < 20 * 1024 * 1024, f"RSS grew by {grown / 1e6:.1f} MB over 90 runs"


def test_run_async_inside_an_event_loop(flow: flowengine.Flow) -> None:
    """run_async works for callers that already have an event loop."""

    async def main2() -> list[bytes]:
        res = await flow.run_async(inputs={"in": [b"a", b"b"]}, timeout=30)
        with res:
            return sorted(res.read(f) for f in res.outputs["out"])

    assert anyio.run(main2) == [b"a", b"b"]


def test_programmatic_flow_without_yaml() -> None:
    """A flow built in Python (no YAML) runs the same way."""
    f = flowengine.Flow("code")
    f.add_input_port("in")
    f.add_output_port("out")
    f.add_processor("tag", "UpdateAttribute", {"seen": "yes"})
    f.connect("in", "tag")
    f.connect("tag", "out")
    with f.run(inputs={"in": [b"1", b"2"]}) as res:
        assert [x["seen"] for x in res.outputs["out"]] == ["yes", "yes"]


def test_status_snapshot_and_bulletins(tmp_path: Path) -> None:
    """The result's frozen status has per-processor and per-connection counters."""
    text = textwrap.dedent(
        """\
        flow: st
        input_ports: [in]
        processors:
          fetch: {type: FetchFile, properties: {file_to_fetch: /nonexistent/x}, auto_terminate: [success, not.found, permission.denied, failure]}
        connections: [in -> fetch]
        """
    )
    (tmp_path / "st.yaml").write_text(text)
    with flowengine.load(tmp_path / "st.yaml").run(
        inputs={"in": [b"a", b"b"]}, timeout=30
    ) as res:
        st = res.status.processor("fetch")
        assert (st.flowfiles_in, st.relationship_counts["not.found"]) == (2, 2)
        assert res.status.connections[0].flowfiles_in == 2
        assert res.failures and res.failures[0].relationship == "not.found"
