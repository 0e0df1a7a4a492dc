"""Apache Beam: the smallest equivalent program (runs in the Beam environment).

The in-process ``FnApiRunner`` is pinned: Beam's default runner may try to download
and start a job server binary. Input is a generator behind ``Impulse`` (not
``Create``, which would pickle a million elements into the pipeline graph first).
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.peers import _messages as m


def run(n: int, out: str, mode: str, source: str | None = None) -> dict[str, Any]:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    start = time.perf_counter()
    opts = PipelineOptions(["--direct_num_workers=1"])
    with beam.Pipeline(runner=FnApiRunner(), options=opts) as p:
        if mode == "records":
            assert source is not None
            kept = (
                p
                | beam.io.ReadFromText(source)
                | beam.Map(m.record_map)
                | beam.Filter(m.record_keep)
            )
        else:
            kept = (
                p
                | beam.Impulse()
                | beam.FlatMap(lambda _: m.flowfile_messages(n))
                | beam.Map(m.flowfile_map)
                | beam.Filter(m.flowfile_keep)
                | beam.Map(m.flowfile_content)
            )
        _ = kept | beam.io.WriteToText(out, shard_name_template="", num_shards=1)
    return m.result(time.perf_counter() - start, out)
