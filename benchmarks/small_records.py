"""Workload 1b, small-records: the same 1,000,000 messages as lines of one file.

The NiFi way to move small events at volume: one FlowFile holds all the records.
ListFile → FetchFile → QueryRecord (CSVReader over the lines; SQL upper-cases each line
and keeps the even ones) → PutFile. Baseline: a plain Python loop (read lines, upper,
filter, write) in the same run; peers (bytewax, Beam, streamz) read the same file. Every
output must match the baseline (line count and order-independent SHA-256).

Target: at least 5M records/s and faster than every Python peer.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import time
from typing import Any

from benchmarks import _harness as h
from benchmarks.peers import _messages as msgs

#: this module by name (``__name__`` is ``__main__`` under ``python -m``)
_MOD = "benchmarks.small_records"

WORKLOAD = "small_records"
N_FULL = 1_000_000
N_QUICK = 20_000
REPS_FULL = 3
REPS_QUICK = 1
BASELINE = "baseline: python loop"
COLD = "in-memory: QueryRecord"
WARM = "in-memory: QueryRecord, warm process"
QUERY = (
    "SELECT UPPER(line) AS line FROM FLOWFILE "
    "WHERE CAST(SUBSTR(line, 1, 9) AS BIGINT) % 2 = 0"
)


def _flow(source: str, out_dir: str) -> Any:
    """ListFile → FetchFile → QueryRecord → PutFile over one input file."""
    import flowengine

    in_dir, name = os.path.split(source)
    flow = flowengine.Flow(WORKLOAD)
    flow.add_service(
        "lines",
        "CSVReader",
        {
            "schema_access_strategy": "schema-text-property",
            "schema_text": "line: string",
            "treat_first_line_as_header": "false",
            "value_separator": "\\t",
        },
    )
    flow.add_service(
        "out",
        "CSVRecordSetWriter",
        {"include_header_line": "false", "quote_mode": "none"},
    )
    flow.add_processor(
        "list", "ListFile", {"input_directory": in_dir, "file_filter": name}
    )
    flow.add_processor(
        "fetch",
        "FetchFile",
        {},
        auto_terminate=["failure", "not.found", "permission.denied"],
    )
    flow.add_processor(
        "query",
        "QueryRecord",
        {"record_reader": "lines", "record_writer": "out", "kept": QUERY},
        auto_terminate=["original", "failure"],
    )
    flow.add_processor(
        "put", "PutFile", {"directory": out_dir}, auto_terminate=["success", "failure"]
    )
    flow.connect("list", "fetch")
    flow.connect("fetch", "query")
    flow.connect("query", "put", ["kept"])
    return flow


def flowengine_variant(
    n: int, source: str, out_dir: str, warm: bool = False
) -> dict[str, Any]:
    """Run the records flow over ``source``; seconds of ``Flow.run``.

    ``warm``: first run the same flow over a 1,000-line file in this process, so the
    measured run no longer pays for imports (DuckDB, Arrow) and first-use set-up: the
    steady state of a long-lived service or a batch job that runs flows repeatedly.
    """
    if warm:
        warm_dir = out_dir + ".warm"
        os.makedirs(os.path.join(warm_dir, "in"))
        os.makedirs(os.path.join(warm_dir, "out"))
        warm_src = os.path.join(warm_dir, "in", "warm.txt")
        msgs.write_records_input(warm_src, 1000)
        _flow(warm_src, os.path.join(warm_dir, "out")).run(
            until_drained=True,
            timeout=600,
            durable=False,
            provenance=False,
            collect_outputs=False,
        )
    flow = _flow(source, out_dir)
    start = time.perf_counter()
    result = flow.run(
        until_drained=True,
        timeout=3600,
        durable=False,
        provenance=False,
        collect_outputs=False,
    )
    seconds = time.perf_counter() - start
    outs = [os.path.join(out_dir, f) for f in os.listdir(out_dir)]
    if len(outs) != 1 or not result.ok:
        raise RuntimeError(f"expected one output file, got {outs} ({result!r})")
    return msgs.result(seconds, outs[0], n=n)


def baseline_variant(n: int, source: str, out: str) -> dict[str, Any]:
    """The hand-written floor: read lines, upper-case, keep the even ones, write."""
    start = time.perf_counter()
    with open(source) as inp, open(out, "w", buffering=1 << 20) as f:
        write = f.write
        for line in inp:
            up = line.upper()
            if int(up[:9]) % 2 == 0:
                write(up)
    return msgs.result(time.perf_counter() - start, out, n=n)


def run(quick: bool) -> list[dict[str, Any]]:
    """Baseline, flowengine and peers over the same input file, interleaved."""
    n = N_QUICK if quick else N_FULL
    reps = REPS_QUICK if quick else REPS_FULL
    rows: list[dict[str, Any]] = []
    with h.scratch_dir(WORKLOAD) as tmp:
        os.mkdir(os.path.join(tmp, "in"))
        source = os.path.join(tmp, "in", "messages.txt")
        msgs.write_records_input(source, n)

        def once(warm: bool) -> tuple[dict[str, Any], float]:
            out_dir = os.path.join(tmp, f"out-{time.monotonic_ns()}")
            os.mkdir(out_dir)
            try:
                return h.measure(
                    f"{_MOD}:flowengine_variant",
                    {"n": n, "source": source, "out_dir": out_dir, "warm": warm},
                )
            finally:
                shutil.rmtree(out_dir, ignore_errors=True)
                shutil.rmtree(out_dir + ".warm", ignore_errors=True)

        ours = {
            COLD: functools.partial(once, False),
            WARM: functools.partial(once, True),
        }
        variants: dict[str, Any] = {
            BASELINE: lambda: h.measure(
                f"{_MOD}:baseline_variant",
                {"n": n, "source": source, "out": os.path.join(tmp, "base.txt")},
            ),
            **ours,
        }
        from benchmarks.peers import checked, peer_variants

        peers = peer_variants(tmp, n=n, mode="records", source=source)
        variants.update(peers)
        results = h.interleaved(variants, reps)

        base_outcome = results[BASELINE]
        if isinstance(base_outcome, Exception):
            raise base_outcome
        base, base_rss = base_outcome
        rate = n / base["seconds"]
        expected = (base["count"], base["checksum"])
        rows.append(
            h.row(WORKLOAD, BASELINE, rate, "records/s", "python loop", rate, base_rss)
        )
        for name in ours:
            outcome = results[name]
            if isinstance(outcome, Exception):
                raise outcome
            res, rss = outcome
            if (res["count"], res["checksum"]) != expected:
                raise RuntimeError(
                    f"{WORKLOAD}/{name}: output differs from the baseline "
                    f"({res['count']} vs {expected[0]} lines)"
                )
            rows.append(
                h.row(
                    WORKLOAD,
                    name,
                    n / res["seconds"],
                    "records/s",
                    "python loop",
                    rate,
                    rss,
                )
            )
        for name in peers:
            ok = checked(name, results[name], expected)
            if ok is not None:
                rows.append(
                    h.row(
                        WORKLOAD,
                        name,
                        n / ok[0]["seconds"],
                        "records/s",
                        "python loop",
                        rate,
                        ok[1],
                        note=ok[0].get("note"),
                    )
                )
    return rows


if __name__ == "__main__":
    sys.exit(h.main_single(run))
