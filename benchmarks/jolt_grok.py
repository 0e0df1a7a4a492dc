"""Workloads jolt_record and grok_reader (issue 16).

jolt_record: JSON lines as records through JoltTransformRecord (JsonTreeReader →
shift → JsonRecordSetWriter, ListFile → FetchFile → JoltTransformRecord → PutFile),
against the same shift called directly on each line (json.loads, transform,
json.dumps). Target ≥ 0.8x. Full: 1,000,000 lines (~100 MB); quick: 20,000.

grok_reader: Apache combined access-log lines read by GrokReader (ConvertRecord to
CSV, through the same file flow), against the same compiled regex in a plain loop
(search + groupdict per line). Target ≥ 0.7x; peak RSS must stay flat between the
quick and full sizes. Full: ~1 GB; quick: 20,000 lines.

Both outputs are checked against the baseline's record count.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from typing import Any

from benchmarks import _harness as h

_MOD = "benchmarks.jolt_grok"
SPEC = {"id": "key", "name": "person.name", "n": "stats.n"}
GROK = "%{COMBINEDAPACHELOG}"
JOLT_FULL, JOLT_QUICK = 1_000_000, 20_000
GROK_FULL_BYTES, GROK_QUICK_LINES = 1 << 30, 20_000
_LINE = '{i}.0.0.{j} - user{j} [10/Oct/2000:13:55:36 -0700] "GET /a/{i}.gif HTTP/1.0" 200 {i} "http://example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"\n'


def _write_jolt_input(path: str, n: int) -> None:
    with open(path, "w", buffering=1 << 20) as f:
        for i in range(n):
            f.write(
                json.dumps({"id": i, "name": f"name-{i}", "n": i * 3, "pad": "x" * 40})
                + "\n"
            )


def _write_grok_input(path: str, lines: int | None, size: int | None) -> int:
    count = 0
    written = 0
    with open(path, "w", buffering=1 << 20) as f:
        while (lines is not None and count < lines) or (
            size is not None and written < size
        ):
            line = _LINE.format(i=count % 250, j=count % 7)
            f.write(line)
            written += len(line)
            count += 1
    return count


def _file_flow(
    source: str,
    out_dir: str,
    processor: str,
    props: dict[str, Any],
    services: dict[str, tuple[str, dict[str, str]]],
    rels: list[str],
) -> Any:
    import flowengine

    in_dir, name = os.path.split(source)
    flow = flowengine.Flow("jolt_grok")
    for sid, (kind, sprops) in services.items():
        flow.add_service(sid, kind, sprops)
    flow.add_processor(
        "list", "ListFile", {"input_directory": in_dir, "file_filter": name}
    )
    flow.add_processor(
        "fetch",
        "FetchFile",
        {},
        auto_terminate=["failure", "not.found", "permission.denied"],
    )
    flow.add_processor("work", processor, props, auto_terminate=rels)
    flow.add_processor(
        "put", "PutFile", {"directory": out_dir}, auto_terminate=["success", "failure"]
    )
    flow.connect("list", "fetch")
    flow.connect("fetch", "work")
    flow.connect("work", "put", ["success"])
    return flow


def _run_flow(
    flow: Any, out_dir: str, state_dir: str | None = None
) -> tuple[float, str]:
    """Run to completion; with ``state_dir`` the content repository is on disk (a
    1 GB input does not sit in memory), else in memory."""
    start = time.perf_counter()
    result = flow.run(
        until_drained=True,
        timeout=7200,
        durable=state_dir is not None,
        state_dir=state_dir,
        provenance=False,
        collect_outputs=False,
    )
    seconds = time.perf_counter() - start
    outs = [os.path.join(out_dir, f) for f in os.listdir(out_dir)]
    if len(outs) != 1 or not result.ok:
        raise RuntimeError(f"expected one output file, got {outs} ({result!r})")
    return seconds, outs[0]


def jolt_flowengine(source: str, out_dir: str) -> dict[str, Any]:
    flow = _file_flow(
        source,
        out_dir,
        "JoltTransformRecord",
        {
            "record_reader": "in",
            "record_writer": "out",
            "jolt_transform": "jolt-transform-shift",
            "jolt_spec": json.dumps(SPEC),
        },
        {
            "in": ("JsonTreeReader", {}),
            "out": ("JsonRecordSetWriter", {"output_grouping": "output-oneline"}),
        },
        ["original", "failure"],
    )
    seconds, out = _run_flow(flow, out_dir)
    with open(out, "rb") as f:
        count = sum(1 for line in f if line.strip())
    return {"seconds": seconds, "count": count}


def jolt_direct(source: str, out: str) -> dict[str, Any]:
    from flowengine.processors.jolt._jolt import compile_spec

    run = compile_spec("jolt-transform-shift", SPEC)
    start = time.perf_counter()
    count = 0
    with open(source) as inp, open(out, "w", buffering=1 << 20) as f:
        for line in inp:
            f.write(json.dumps(run(json.loads(line), None)) + "\n")
            count += 1
    return {"seconds": time.perf_counter() - start, "count": count}


def grok_flowengine(source: str, out_dir: str, state_dir: str) -> dict[str, Any]:
    flow = _file_flow(
        source,
        out_dir,
        "ConvertRecord",
        {"record_reader": "grok", "record_writer": "csv"},
        {
            "grok": ("GrokReader", {"grok_expression": GROK}),
            "csv": ("CSVRecordSetWriter", {"include_header_line": "false"}),
        },
        ["failure"],
    )
    seconds, out = _run_flow(flow, out_dir, state_dir)
    with open(out, "rb") as f:
        count = sum(1 for _ in f)
    return {"seconds": seconds, "count": count}


def grok_direct(source: str) -> dict[str, Any]:
    from flowengine.processors.grok import Grok

    regex = Grok(GROK, named_only=True).regex
    start = time.perf_counter()
    count = 0
    with open(source) as inp:
        search = regex.search
        for line in inp:
            m = search(line)
            if m is not None:
                m.groupdict()
                count += 1
    return {"seconds": time.perf_counter() - start, "count": count}


def run(quick: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with h.scratch_dir("jolt_grok") as tmp:
        os.mkdir(os.path.join(tmp, "in"))
        # -- jolt_record
        n = JOLT_QUICK if quick else JOLT_FULL
        src = os.path.join(tmp, "in", "records.jsonl")
        _write_jolt_input(src, n)
        out_dir = os.path.join(tmp, "out-jolt")
        os.mkdir(out_dir)
        ours, rss = h.measure(
            f"{_MOD}:jolt_flowengine", {"source": src, "out_dir": out_dir}
        )
        base, base_rss = h.measure(
            f"{_MOD}:jolt_direct",
            {"source": src, "out": os.path.join(tmp, "direct.jsonl")},
        )
        if ours["count"] != base["count"]:
            raise RuntimeError(
                f"jolt_record: {ours['count']} records vs {base['count']}"
            )
        rows.append(
            h.row(
                "jolt_record",
                "baseline: transform called directly",
                n / base["seconds"],
                "records/s",
                "transform direct",
                n / base["seconds"],
                base_rss,
            )
        )
        rows.append(
            h.row(
                "jolt_record",
                "JoltTransformRecord (JSON lines)",
                n / ours["seconds"],
                "records/s",
                "transform direct",
                n / base["seconds"],
                rss,
            )
        )
        os.remove(src)
        shutil.rmtree(out_dir)
        # -- grok_reader
        src = os.path.join(tmp, "in", "access.log")
        lines = _write_grok_input(
            src, GROK_QUICK_LINES if quick else None, None if quick else GROK_FULL_BYTES
        )
        out_dir = os.path.join(tmp, "out-grok")
        os.mkdir(out_dir)
        ours, rss = h.measure(
            f"{_MOD}:grok_flowengine",
            {"source": src, "out_dir": out_dir, "state_dir": os.path.join(tmp, "st")},
            timeout=7200,
        )
        base, base_rss = h.measure(f"{_MOD}:grok_direct", {"source": src}, timeout=7200)
        if ours["count"] != base["count"] or base["count"] != lines:
            raise RuntimeError(
                f"grok_reader: {ours['count']} records vs {base['count']} of {lines}"
            )
        rows.append(
            h.row(
                "grok_reader",
                "baseline: regex in a plain loop",
                lines / base["seconds"],
                "lines/s",
                "regex loop",
                lines / base["seconds"],
                base_rss,
            )
        )
        rows.append(
            h.row(
                "grok_reader",
                "GrokReader (ConvertRecord to CSV)",
                lines / ours["seconds"],
                "lines/s",
                "regex loop",
                lines / base["seconds"],
                rss,
            )
        )
    return rows
