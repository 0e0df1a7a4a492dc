"""Memory does not grow with content size: ConvertRecord in a durable flow, in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CHILD = textwrap.dedent(
    """
    import json, os, sys
    import flowengine

    size, work = int(sys.argv[1]), sys.argv[2]
    src = os.path.join(work, "in", "data.csv")
    os.makedirs(os.path.dirname(src))
    row = b"12345,2024-01-02T03:04:05Z,some text value,3.25,true,abc-def-ghi\\n"
    with open(src, "wb") as f:
        f.write(b"id,ts,text,amount,flag,code\\n")
        block = row * 10_000
        while f.tell() < size:
            f.write(block)
    flow = flowengine.Flow("mem")
    flow.add_service("csv", "CSVReader", {})
    flow.add_service("parquet", "ParquetRecordSetWriter", {"row_group_size": "50000"})
    flow.add_processor("list", "ListFile", {"input_directory": os.path.dirname(src)})
    flow.add_processor("fetch", "FetchFile", {"completion_strategy": "None"},
                       auto_terminate=["not.found", "permission.denied", "failure"])
    flow.add_processor("convert", "ConvertRecord", {"record_reader": "csv", "record_writer": "parquet"},
                       auto_terminate=["success", "failure"])
    flow.connect("list", "fetch")
    flow.connect("fetch", "convert")
    before = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
    r = flow.run(until_drained=True, timeout=300, durable=True, state_dir=os.path.join(work, "state"))
    peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
    print(json.dumps({"ok": r.ok, "converted": r.status.processor("convert").bytes_in, "growth_kb": peak - before}))
    """
)


def growth(size: int, work: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(size), str(work)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="peak RSS is read from /proc"
)
def test_peak_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    """80 MB more CSV raises the flow's peak memory by far less than 80 MB (bounded by
    batches and one row group; with in-memory content the same check fails)."""
    small = growth(16 << 20, tmp_path / "small")
    big = growth(96 << 20, tmp_path / "big")
    assert small["ok"] and big["ok"]
    assert int(big["converted"]) >= 96 << 20  # type: ignore[call-overload]
    extra_kb = int(big["growth_kb"]) - int(small["growth_kb"])  # type: ignore[call-overload]
    assert extra_kb < 45_000, (small, big)
