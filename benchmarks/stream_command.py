"""Benchmark: ExecuteStreamCommand running ``cat`` beside ``cat`` through a pipe.

Issue 15's target: ExecuteStreamCommand ``cat`` on 1 GB (32 MB with ``--quick``) next
to the floor, the same file written in 1 MiB chunks into ``cat``'s stdin pipe by Python
with ``cat``'s stdout going to a file. The flow side fetches the file into a durable
flow (GenerateFlowFile -> FetchFile -> ExecuteStreamCommand) and measures the
processor's own trigger time, so it includes spooling stdout and importing it into the
content repository. Each side runs in a fresh process; the peak RSS of each is its own
(flat in the size: both stream).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._harness import main_single, measure, median_of, row

CHUNK = 1 << 20


def _make_file(path: Path, size_mb: int) -> None:
    block = b"".join(
        b"%d,customer-%05d,eu-west\n" % (i, i % 50_000) for i in range(40_000)
    )
    with open(path, "wb") as f:
        written = 0
        while written < size_mb << 20:
            f.write(block)
            written += len(block)


def _flow_side(size_mb: int) -> dict[str, Any]:
    """Child: time ExecuteStreamCommand ``cat`` on the file inside a durable flow."""
    import flowengine

    with tempfile.TemporaryDirectory(prefix="fe-bench-esc-") as tmp:
        src = Path(tmp) / "data.csv"
        _make_file(src, size_mb)
        f = flowengine.Flow("esc")
        f.add_processor(
            "gen",
            "GenerateFlowFile",
            {"absolute.path": tmp, "filename": src.name},
            schedule={"max_triggers": 1},
        )
        f.add_processor(
            "fetch",
            "FetchFile",
            {},
            auto_terminate=["failure", "not.found", "permission.denied"],
        )
        f.add_processor(
            "work",
            "ExecuteStreamCommand",
            {"command_path": "cat"},
            auto_terminate=["original", "output stream", "nonzero status"],
        )
        f.connect("gen", "fetch")
        f.connect("fetch", "work", ["success"])
        with f.run(
            durable=True, state_dir=str(Path(tmp) / "state"), provenance=False
        ) as res:
            assert res.drained, "the flow did not drain"
            work = res.counts["work"]
            assert work.relationship_counts.get("output stream") == 1, work
            return {"seconds": work.trigger_time_s, "bytes": src.stat().st_size}


def _pipe_side(size_mb: int) -> dict[str, Any]:
    """Child: the file written into ``cat``'s stdin pipe, its stdout to a file."""
    with tempfile.TemporaryDirectory(prefix="fe-bench-esc-") as tmp:
        src = Path(tmp) / "data.csv"
        _make_file(src, size_mb)
        started = time.perf_counter()
        with open(src, "rb") as fin, open(Path(tmp) / "out", "wb") as fout:
            proc = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=fout)
            assert proc.stdin is not None
            while chunk := fin.read(CHUNK):
                proc.stdin.write(chunk)
            proc.stdin.close()
            assert proc.wait() == 0
        return {"seconds": time.perf_counter() - started, "bytes": src.stat().st_size}


def run(quick: bool) -> list[dict[str, Any]]:
    size_mb = 32 if quick else 1024
    reps = 1 if quick else 3
    args = {"size_mb": size_mb}
    pipe, pipe_rss, _ = median_of(
        reps, lambda: measure("benchmarks.stream_command:_pipe_side", args)
    )
    ours, our_rss, _ = median_of(
        reps, lambda: measure("benchmarks.stream_command:_flow_side", args)
    )
    pipe_rate = pipe["bytes"] / 1e6 / pipe["seconds"]
    our_rate = ours["bytes"] / 1e6 / ours["seconds"]
    return [
        row(
            "execute_stream_command_cat",
            "cat through a pipe",
            pipe_rate,
            "MB/s",
            "pipe",
            pipe_rate,
            pipe_rss,
        ),
        row(
            "execute_stream_command_cat",
            "ExecuteStreamCommand",
            our_rate,
            "MB/s",
            "pipe",
            pipe_rate,
            our_rss,
            size_mb=size_mb,
        ),
    ]


if __name__ == "__main__":
    raise SystemExit(main_single(run))
