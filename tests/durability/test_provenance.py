"""The Parquet provenance repository: lineage DAG, queries, retention, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import flowengine
from flowengine._api._provenance import ProvenanceEvent, ProvenanceEventType
from flowengine._repository._durable import ParquetProvenanceRepository

from .conftest import Merge3, Source, Split3, run_flow


def _split_merge(tmp_path: Path) -> tuple[str, str]:
    """Run source → split into 3 → merge back → drop; (source uuid, merged uuid)."""
    f = flowengine.Flow("lineage")
    f.add_processor("src", Source, {"total": "1", "size": "90"})
    f.add_processor("split", Split3)
    f.add_processor("merge", Merge3, auto_terminate=["merged"])
    f.connect("src", "split")
    f.connect("split", "merge", ["splits"])
    run_flow(f, tmp_path).close()
    repo = ParquetProvenanceRepository(tmp_path / "provenance", read_only=True)
    (create,) = repo.query(event_type="CREATE")
    (join,) = repo.query(event_type="JOIN")
    return create.flowfile_uuid, join.flowfile_uuid


def test_lineage_of_split_and_merge_is_the_full_dag(tmp_path: Path) -> None:
    """Lineage from either end shows parent → 3 children (FORK) → merged child (JOIN) → DROP."""
    root, merged = _split_merge(tmp_path)
    repo = ParquetProvenanceRepository(tmp_path / "provenance", read_only=True)
    for start in (root, merged):
        events = repo.lineage(start)
        (fork,) = [e for e in events if e.event_type == ProvenanceEventType.FORK]
        (join,) = [e for e in events if e.event_type == ProvenanceEventType.JOIN]
        assert fork.flowfile_uuid == root and len(fork.child_uuids) == 3
        assert join.flowfile_uuid == merged and set(join.parent_uuids) == set(
            fork.child_uuids
        )
        uuids = {e.flowfile_uuid for e in events}
        assert uuids == {root, merged, *fork.child_uuids}
        drops = {
            e.flowfile_uuid for e in events if e.event_type == ProvenanceEventType.DROP
        }
        assert {merged, *fork.child_uuids, root} <= drops
    assert repo.query(uuid=merged)[0].attributes["uuid"] == merged


def test_queries_by_uuid_component_type_and_time(tmp_path: Path) -> None:
    """Queries filter by FlowFile, component, type and time range; attributes as of commit."""
    repo = ParquetProvenanceRepository(tmp_path, flush_events=10)
    t0 = int(time.time() * 1000)
    shared = {"uuid": "a", "k": "v"}
    events = [
        ProvenanceEvent(
            ProvenanceEventType.CREATE,
            "a",
            "gen",
            "Gen",
            timestamp_ms=t0,
            attributes=shared,
        ),
        ProvenanceEvent(
            ProvenanceEventType.ROUTE,
            "a",
            "route",
            "Route",
            timestamp_ms=t0 + 10,
            attributes=shared,
            relationship="x",
        ),
        ProvenanceEvent(
            ProvenanceEventType.DROP,
            "a",
            "route",
            "Route",
            timestamp_ms=t0 + 20,
            attributes=shared,
        ),
        ProvenanceEvent(
            ProvenanceEventType.CREATE,
            "b",
            "gen",
            "Gen",
            timestamp_ms=t0 + 30,
            attributes={"uuid": "b"},
        ),
    ]
    repo.register(events[:2])
    repo.flush()
    repo.register(events[2:])  # still buffered: queries see it too
    assert [e.event_type for e in repo.query(uuid="a")] == ["CREATE", "ROUTE", "DROP"]
    assert {e.flowfile_uuid for e in repo.query(component="gen")} == {"a", "b"}
    assert [
        e.flowfile_uuid for e in repo.query(event_type="CREATE", since_ms=t0 + 1)
    ] == ["b"]
    assert [e.event_type for e in repo.query(until_ms=t0 + 10)] == ["CREATE", "ROUTE"]
    assert all(e.attributes == shared for e in repo.query(uuid="a"))
    assert repo.query(uuid="a")[1].relationship == "x"
    repo.close()
    again = ParquetProvenanceRepository(tmp_path)
    assert [e.event_id for e in again.events()] == [0, 1, 2, 3]
    again.register([ProvenanceEvent(ProvenanceEventType.CREATE, "c", "gen", "Gen")])
    assert again.query(uuid="c")[0].event_id == 4  # ids continue across restarts
    again.close()


def test_retention_by_size_and_age(tmp_path: Path) -> None:
    """The oldest segments go when the size or age limit is passed; the newest stays."""
    repo = ParquetProvenanceRepository(tmp_path, max_size=1, flush_interval=3600)
    for i in range(3):
        repo.register(
            [ProvenanceEvent(ProvenanceEventType.CREATE, f"u{i}", "gen", "Gen")]
        )
        repo.flush()
    assert len(repo.segments()) == 1
    assert [e.flowfile_uuid for e in repo.events()] == ["u2"]
    repo.close()
    aged = ParquetProvenanceRepository(
        tmp_path / "aged", max_age=60, flush_interval=3600
    )
    for i in range(2):
        aged.register(
            [ProvenanceEvent(ProvenanceEventType.CREATE, f"a{i}", "gen", "Gen")]
        )
        aged.flush()
    old = aged.segments()[0]
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert aged.apply_retention() == 1
    assert [e.flowfile_uuid for e in aged.events()] == ["a1"]
    aged.close()


def test_cli_prints_lineage_as_json_and_table(tmp_path: Path) -> None:
    """``flowengine provenance STATE --lineage U --json`` prints the DAG's events on stdout."""
    root, merged = _split_merge(tmp_path)
    cmd = [sys.executable, "-m", "flowengine", "provenance", str(tmp_path)]
    out = subprocess.run(
        [*cmd, "--lineage", merged, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    events = json.loads(out.stdout)
    assert {"CREATE", "FORK", "JOIN", "DROP"} <= {e["event_type"] for e in events}
    assert root in {e["flowfile_uuid"] for e in events}
    table = subprocess.run(
        [*cmd, "--uuid", root], capture_output=True, text=True, timeout=60
    )
    assert table.returncode == 0 and "FORK" in table.stdout and root in table.stdout
    comp = subprocess.run(
        [*cmd, "--component", "merge", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert {e["component_id"] for e in json.loads(comp.stdout)} == {"merge"}
    none = subprocess.run(
        [*cmd, "--uuid", "no-such"], capture_output=True, text=True, timeout=60
    )
    assert none.returncode == 1 and none.stdout == ""
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowengine",
            "provenance",
            str(tmp_path / "nope"),
            "--uuid",
            "x",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2
