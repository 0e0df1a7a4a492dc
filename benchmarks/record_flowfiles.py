"""Workload 1c, record-flowfiles: 100,000 one-record JSON FlowFiles through record processors.

The per-FlowFile cost of a record processor (issue 23, item 11): GenerateFlowFile (one
JSON object per FlowFile) → ConvertRecord (JsonTreeReader → JsonRecordSetWriter, one
line per object) → AppendToFile, and the same with PartitionRecord (``kind = /kind``)
instead of ConvertRecord. Baseline, in the same run: the same reader and writer
services called directly in a loop (``create_reader`` → ``copy_records``), which is the
floor a processor can reach. Every output must match the baseline (line count and
order-independent SHA-256). Target: at least 10,000 FlowFiles/s per processor.
"""

from __future__ import annotations

import io
import os
import sys
import time
from typing import Any

from benchmarks import _harness as h
from benchmarks.peers import _messages as msgs

_MOD = "benchmarks.record_flowfiles"
WORKLOAD = "record_flowfiles"
N_FULL = 100_000
N_QUICK = 5_000
REPS_FULL = 3
REPS_QUICK = 1
BATCH = 1000
RECORD = '{"id": 1, "kind": "a", "name": "n1", "v": 1.5}\n'
BASELINE = "baseline: reader + writer in a loop"
CONVERT = "in-memory: ConvertRecord"
PARTITION = "in-memory: PartitionRecord"
READER = ("JsonTreeReader", {})
WRITER = ("JsonRecordSetWriter", {"output_grouping": "output-oneline"})


def flowengine_variant(n: int, out: str, processor: str) -> dict[str, Any]:
    """GenerateFlowFile → ``processor`` → AppendToFile; seconds of ``Flow.run``."""
    import flowengine
    from benchmarks._sink import AppendToFile

    flow = flowengine.Flow(WORKLOAD)
    flow.add_service("reader", *READER)
    flow.add_service("writer", *WRITER)
    flow.add_processor(
        "generate",
        "GenerateFlowFile",
        {"custom_text": RECORD, "batch_size": str(BATCH)},
        schedule={"period": "0 sec", "max_triggers": n // BATCH},
    )
    props = {"record_reader": "reader", "record_writer": "writer"}
    if processor == "PartitionRecord":
        props["kind"] = "/kind"
        terminate = ["failure", "original"]
    else:
        terminate = ["failure"]
    flow.add_processor("records", processor, props, auto_terminate=terminate)
    flow.add_processor("sink", AppendToFile, {"path": out}, auto_terminate=["success"])
    flow.connect("generate", "records")
    flow.connect("records", "sink", ["success"])
    start = time.perf_counter()
    result = flow.run(
        until_drained=True,
        timeout=3600,
        durable=False,
        provenance=False,
        collect_outputs=False,
    )
    seconds = time.perf_counter() - start
    if not result.ok:
        raise RuntimeError(f"{processor} flow failed: {result!r}")
    return msgs.result(seconds, out)


def baseline_variant(n: int, out: str) -> dict[str, Any]:
    """The same services, enabled as a flow enables them, called in a plain loop (inside
    one trigger of a bare processor: services are only enabled while it runs)."""
    from flowengine.processors.records._common import (
        RECORD_READER,
        RECORD_WRITER,
        copy_records,
        services,
    )

    from flowengine import Processor, PropertyDescriptor
    from flowengine.testing import TestRunner

    data = RECORD.encode()
    timing: list[float] = []

    class Loop(Processor):
        """Times ``n`` conversions with the configured reader and writer."""

        READER: PropertyDescriptor = RECORD_READER
        WRITER: PropertyDescriptor = RECORD_WRITER

        def on_trigger(self, context: Any, session: Any) -> None:
            reader_f, writer_f = services(context)
            start = time.perf_counter()
            with open(out, "wb", buffering=1 << 20) as f:
                for _ in range(n):
                    sink = io.BytesIO()
                    with reader_f.create_reader(io.BytesIO(data), {}) as reader:
                        copy_records(reader, reader.schema, writer_f, sink, {})
                    f.write(sink.getvalue())
            timing.append(time.perf_counter() - start)

    runner = TestRunner(Loop)
    runner.add_service("reader", READER[0], dict(READER[1]))
    runner.add_service("writer", WRITER[0], dict(WRITER[1]))
    runner.set_property("record_reader", "reader")
    runner.set_property("record_writer", "writer")
    runner.run()
    return msgs.result(timing[0], out)


def run(quick: bool) -> list[dict[str, Any]]:
    """Baseline and both processors over n one-record FlowFiles, interleaved."""
    n = N_QUICK if quick else N_FULL
    reps = REPS_QUICK if quick else REPS_FULL
    rows: list[dict[str, Any]] = []
    with h.scratch_dir(WORKLOAD) as tmp:

        def target(name: str, **kw: Any) -> Any:
            def go() -> tuple[dict[str, Any], float]:
                out = os.path.join(tmp, f"out-{time.monotonic_ns()}.jsonl")
                try:
                    return h.measure(f"{_MOD}:{name}", {"n": n, "out": out, **kw})
                finally:
                    if os.path.exists(out):
                        os.remove(out)

            return go

        variants = {
            BASELINE: target("baseline_variant"),
            CONVERT: target("flowengine_variant", processor="ConvertRecord"),
            PARTITION: target("flowengine_variant", processor="PartitionRecord"),
        }
        results = h.interleaved(variants, reps)
        base_outcome = results[BASELINE]
        if isinstance(base_outcome, Exception):
            raise base_outcome
        base, base_rss = base_outcome
        rate = n / base["seconds"]
        expected = (base["count"], base["checksum"])
        if base["count"] != n:
            raise RuntimeError(f"baseline wrote {base['count']} records, not {n}")
        rows.append(
            h.row(
                WORKLOAD,
                BASELINE,
                rate,
                "FlowFiles/s",
                "reader+writer loop",
                rate,
                base_rss,
            )
        )
        for name in (CONVERT, PARTITION):
            outcome = results[name]
            if isinstance(outcome, Exception):
                raise outcome
            res, rss = outcome
            if (res["count"], res["checksum"]) != expected:
                raise RuntimeError(
                    f"{WORKLOAD}/{name}: output differs from the baseline "
                    f"({res['count']} vs {expected[0]} lines)"
                )
            per_ff_ms = res["seconds"] / n * 1000
            rows.append(
                h.row(
                    WORKLOAD,
                    name,
                    n / res["seconds"],
                    "FlowFiles/s",
                    "reader+writer loop",
                    rate,
                    rss,
                    note=f"{per_ff_ms:.3f} ms per FlowFile",
                )
            )
    return rows


if __name__ == "__main__":
    sys.exit(h.main_single(run))
