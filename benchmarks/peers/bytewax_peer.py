"""bytewax: the smallest equivalent program (runs in the bytewax environment).

Unfairness noted: bytewax's ``FileSink`` flushes and ``fsync``s after every batch, so
the input batch size (``batch``) also sets how often it fsyncs; we use large batches.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from benchmarks.peers import _messages as m


def run(
    n: int, out: str, mode: str, source: str | None = None, batch: int = 1000
) -> dict[str, Any]:
    import bytewax.operators as op
    from bytewax.connectors.files import FileSink, FileSource
    from bytewax.dataflow import Dataflow
    from bytewax.testing import TestingSource, run_main

    start = time.perf_counter()
    flow = Dataflow("peer")
    if mode == "records":
        assert source is not None
        lines = op.input("in", flow, FileSource(Path(source), batch_size=batch))
        kept = op.filter("keep", op.map("upper", lines, m.record_map), m.record_keep)
    else:
        msgs = op.input(
            "in", flow, TestingSource(m.flowfile_messages(n), batch_size=batch)
        )
        kept = op.map(
            "content",
            op.filter("keep", op.map("update", msgs, m.flowfile_map), m.flowfile_keep),
            m.flowfile_content,
        )
    keyed = op.key_on("key", kept, lambda _: "all")
    open(out, "w").close()  # FileSink appends
    op.output("out", keyed, FileSink(Path(out)))
    run_main(flow)
    return m.result(time.perf_counter() - start, out, note=f"input batch {batch}")
