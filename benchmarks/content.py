"""Workload: the text content processors beside plain-Python floors (issue 14).

Rows (1 GB of generated CSV-like text; ``--quick``: 20 MB), each floor measured in the
same run, every side in its own interpreter so peak RSS is its own:

* ``SplitText 10,000-line splits``: a durable flow ``ListFile → FetchFile (link) →
  SplitText`` (splits auto-terminated), MB/s of the whole run, vs a plain Python loop
  that reads the file line by line and joins every 10,000 lines into one bytes object.
  The splits are byte ranges of the input's claim, so the flow writes no split data;
  peak RSS shows that memory does not follow the input size. Target ratio >= 0.5.
* ``ReplaceText line-by-line regex``: ``ListFile → FetchFile (link) → ReplaceText``
  (Regex Replace ``^(\\d+),([^,]*),`` → ``$2,$1,``, Line-by-Line), MB/s of the whole
  run, vs a loop that reads the decoded lines and writes ``re.sub`` of each to a file.
  Target ratio >= 0.8.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from typing import Any

from benchmarks import _harness as h

WORKLOAD = "content"
_MOD = "benchmarks.content"
MB = 1024**2
SPLIT_LINES = 10_000
SEARCH = r"^(\d+),([^,]*),"
REPLACEMENT = "$2,$1,"


def generate(path: str, size: int) -> dict[str, Any]:
    """Write about ``size`` bytes of ``id,name,value,text`` lines; returns the counts."""
    names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"]
    block = "".join(
        f"{i},{names[i % 7]},{i * 7 % 1000}.{i % 100:02d},some free text number {i}\n"
        for i in range(20_000)
    ).encode()
    lines_per_block = 20_000
    written = lines = 0
    with open(path, "wb") as f:
        while written < size:
            f.write(block)
            written += len(block)
            lines += lines_per_block
    return {"bytes": written, "lines": lines}


def _engine(path: str, state_dir: str, processor: str) -> dict[str, Any]:
    import flowengine

    flow = flowengine.Flow(f"bench-{processor}")
    flow.add_processor("list", "ListFile", {"input_directory": os.path.dirname(path)})
    flow.add_processor(
        "fetch",
        "FetchFile",
        {"completion_strategy": "None", "import_strategy": "link"},
        auto_terminate=["not.found", "permission.denied", "failure"],
    )
    if processor == "SplitText":
        flow.add_processor(
            "proc",
            "SplitText",
            {"line_split_count": str(SPLIT_LINES)},
            auto_terminate=["splits", "original", "failure"],
        )
    else:
        flow.add_processor(
            "proc",
            "ReplaceText",
            {
                "search_value": SEARCH,
                "replacement_value": REPLACEMENT,
                "maximum_buffer_size": "16 KB",
            },
            auto_terminate=["success", "failure"],
        )
    flow.connect("list", "fetch")
    flow.connect("fetch", "proc")
    problems = flow.validate()
    if problems:
        raise RuntimeError(f"invalid benchmark flow: {problems}")
    start = time.perf_counter()
    result = flow.run(
        until_drained=True,
        timeout=7200,
        durable=True,
        state_dir=state_dir,
        collect_outputs=False,
    )
    seconds = time.perf_counter() - start
    status = result.status.processor("proc")
    ok = result.ok
    result.close()
    if not ok:
        raise RuntimeError("the benchmark flow failed")
    return {
        "seconds": seconds,
        "trigger_seconds": status.trigger_time_s,
        "out": dict(status.relationship_counts),
        "bytes_written": status.bytes_written,
    }


def engine_split(path: str, state_dir: str) -> dict[str, Any]:
    """Child: the SplitText flow."""
    return _engine(path, state_dir, "SplitText")


def engine_replace(path: str, state_dir: str) -> dict[str, Any]:
    """Child: the ReplaceText flow."""
    return _engine(path, state_dir, "ReplaceText")


def floor_split(path: str) -> dict[str, Any]:
    """Child: read lines, join every 10,000 (what a hand-written splitter does)."""
    start = time.perf_counter()
    splits = 0
    batch: list[bytes] = []
    with open(path, "rb") as f:
        for line in f:
            batch.append(line)
            if len(batch) == SPLIT_LINES:
                b"".join(batch)
                batch.clear()
                splits += 1
    if batch:
        b"".join(batch)
        splits += 1
    return {"seconds": time.perf_counter() - start, "out": splits}


def floor_replace(path: str, out_path: str) -> dict[str, Any]:
    """Child: ``re.sub`` on every decoded line, written to a file."""
    pattern = re.compile(SEARCH)
    repl = r"\2,\1,"
    start = time.perf_counter()
    with (
        open(path, encoding="utf-8", newline="") as src,
        open(out_path, "w", encoding="utf-8", newline="") as dst,
    ):
        for line in src:
            dst.write(pattern.sub(repl, line))
    return {"seconds": time.perf_counter() - start}


def run(quick: bool) -> list[dict[str, Any]]:
    size = 20 * MB if quick else 1024 * MB
    reps = 1 if quick else 3
    rows: list[dict[str, Any]] = []
    with h.scratch_dir(WORKLOAD) as tmp:
        in_dir = os.path.join(tmp, "in")
        os.makedirs(in_dir)
        path = os.path.join(in_dir, "data.txt")
        gen = generate(path, size)
        mb = gen["bytes"] / MB
        label = f"{mb:.0f} MB"
        state = os.path.join(tmp, "state")
        out_path = os.path.join(tmp, "floor.out")

        def flow(target: str) -> tuple[dict[str, Any], float]:
            try:
                return h.measure(f"{_MOD}:{target}", {"path": path, "state_dir": state})
            finally:
                shutil.rmtree(state, ignore_errors=True)

        def floor_r() -> tuple[dict[str, Any], float]:
            try:
                return h.measure(
                    f"{_MOD}:floor_replace", {"path": path, "out_path": out_path}
                )
            finally:
                if os.path.exists(out_path):
                    os.unlink(out_path)

        got = h.interleaved(
            {
                "split floor": lambda: h.measure(f"{_MOD}:floor_split", {"path": path}),
                "split flow": lambda: flow("engine_split"),
                "replace floor": floor_r,
                "replace flow": lambda: flow("engine_replace"),
            },
            reps,
        )
        for value in got.values():
            if isinstance(value, Exception):
                raise value
        expected_splits = -(-gen["lines"] // SPLIT_LINES)
        (sf, sf_rss), (sp, sp_rss) = got["split floor"], got["split flow"]  # type: ignore[misc]
        if sp["out"].get("splits") != expected_splits or sf["out"] != expected_splits:
            raise RuntimeError(
                f"split counts differ: {expected_splits} expected, flow {sp['out']}, "
                f"floor {sf['out']}"
            )
        rows.append(
            h.row(
                WORKLOAD,
                f"{label} SplitText 10,000-line splits (durable)",
                mb / sp["seconds"],
                "MB/s",
                "Python readline loop + join",
                mb / sf["seconds"],
                sp_rss,
                target="ratio >= 0.5",
                floor_peak_rss_mb=sf_rss,
            )
        )
        (rf, rf_rss), (rp, rp_rss) = got["replace floor"], got["replace flow"]  # type: ignore[misc]
        if rp["out"].get("success") != 1:
            raise RuntimeError(f"ReplaceText did not succeed: {rp['out']}")
        rows.append(
            h.row(
                WORKLOAD,
                f"{label} ReplaceText line-by-line regex (durable)",
                mb / rp["seconds"],
                "MB/s",
                "Python re.sub per line to a file",
                mb / rf["seconds"],
                rp_rss,
                target="ratio >= 0.8",
                floor_peak_rss_mb=rf_rss,
            )
        )
    return rows


if __name__ == "__main__":
    raise SystemExit(h.main_single(run))
