"""Workload: CSV → Parquet through ConvertRecord, beside the hand-written pyarrow floor.

A generated CSV of 10 mixed columns (ints, floats, booleans, text, ISO timestamps,
dates) goes through a durable flow ``ListFile → FetchFile → ConvertRecord(CSVReader →
ParquetRecordSetWriter) → PutFile``. The floor is what a data engineer would write by
hand: ``pyarrow.csv.open_csv`` → batches accumulated to ~1 M rows → ``ParquetWriter``
(the same row-group size and codec), measured in the same run, each in its own
interpreter so peak RSS is its own. Rows:

* ``convert flow``: MB of CSV per second of the whole flow run (fetching the file into
  the content repository and writing the result out included), vs the floor;
* ``convert flow, FetchFile link``: the same with FetchFile's Import Strategy ``link``
  (the file is hard-linked into the content repository instead of copied);
* ``ConvertRecord trigger``: the same MB over the time ConvertRecord's triggers took
  (the record layer alone), vs the floor;
* ``query flow``: the same flow with ``QueryRecord`` (a filter in SQL, DuckDB over the
  Arrow batches) instead of ConvertRecord, vs the floor with the same filter in
  ``pyarrow.compute``;
* (full run) ``memory 4 GB vs 1 GB``: peak RSS of the convert flow on 4 GB over its peak
  on 1 GB — flat memory means ~1.0.

The 1 GB (``--quick``: ~50 MB) measurements are interleaved three times and the medians
reported; the 4 GB pair runs once. ``--quick`` skips the 4 GB check.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import Any

from benchmarks import _harness as h

WORKLOAD = "csv_to_parquet"
_MOD = "benchmarks.csv_to_parquet"
MB = 1024**2
FILTER_SQL = "SELECT * FROM FLOWFILE WHERE qty > 50"
ROW_GROUP = 1_000_000


def generate(path: str, size: int) -> dict[str, Any]:
    """Write a CSV of about ``size`` bytes with 10 mixed columns; returns rows written."""
    import random

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    rnd = random.Random(42)
    n = 200_000
    words = [
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
        "foxtrot",
        "golf",
        "hotel",
        "ünïcode",
    ]
    base = pa.table(
        {
            "id": pa.array(range(n), pa.int64()),
            "ts": pa.array(
                [1_700_000_000_000_000 + rnd.randrange(10**13) for _ in range(n)],
                pa.timestamp("us", tz="UTC"),
            ),
            "day": pa.array(
                [19_000 + rnd.randrange(2000) for _ in range(n)], pa.date32()
            ),
            "category": pa.array([words[rnd.randrange(4)] for _ in range(n)]),
            "name": pa.array(
                [f"{rnd.choice(words)}{rnd.randrange(10**6)}" for _ in range(n)]
            ),
            "amount": pa.array([round(rnd.gauss(100, 50), 2) for _ in range(n)]),
            "qty": pa.array([rnd.randrange(100) for _ in range(n)], pa.int64()),
            "ratio": pa.array([rnd.random() for _ in range(n)]),
            "flag": pa.array([rnd.random() < 0.5 for _ in range(n)]),
            "code": pa.array([f"C-{rnd.randrange(5000)}" for _ in range(n)]),
        }
    )
    rows = 0
    with pcsv.CSVWriter(path, base.schema) as w:
        while os.path.getsize(path) < size:
            w.write_table(base.set_column(0, "id", pc.add(base.column("id"), rows)))
            rows += n
    return {"rows": rows, "bytes": os.path.getsize(path)}


def floor(csv_path: str, out_path: str, filtered: bool = False) -> dict[str, Any]:
    """The hand-written streaming script (optionally with the benchmark's filter)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    start = time.perf_counter()
    reader = pcsv.open_csv(csv_path)
    writer = None
    pending: list[pa.RecordBatch] = []
    pending_rows = rows = 0

    def flush() -> None:
        nonlocal writer, pending, pending_rows
        if writer is None:
            writer = pq.ParquetWriter(out_path, reader.schema)
        # one row group per flush (~1 M rows; pyarrow's default caps a group at 1 Mi)
        writer.write_table(pa.Table.from_batches(pending, reader.schema))
        pending, pending_rows = [], 0

    for batch in reader:
        if filtered:
            batch = batch.filter(pc.greater(batch.column("qty"), 50))
        pending.append(batch)
        pending_rows += batch.num_rows
        rows += batch.num_rows
        if pending_rows >= ROW_GROUP:
            flush()
    flush()
    assert writer is not None
    writer.close()
    return {"seconds": time.perf_counter() - start, "rows": rows}


def engine(
    csv_path: str,
    out_dir: str,
    state_dir: str,
    query: bool = False,
    import_strategy: str = "copy",
) -> dict[str, Any]:
    """The durable flow; seconds of the run, and the record processor's trigger time."""
    import pyarrow.parquet as pq

    import flowengine

    flow = flowengine.Flow("bench-csv-to-parquet")
    flow.add_service("csv", "CSVReader", {})
    flow.add_service("parquet", "ParquetRecordSetWriter", {})
    flow.add_processor(
        "list",
        "ListFile",
        {"input_directory": os.path.dirname(csv_path), "file_filter": r".*\.csv"},
    )
    flow.add_processor(
        "fetch",
        "FetchFile",
        {"completion_strategy": "None", "import_strategy": import_strategy},
        auto_terminate=["not.found", "permission.denied", "failure"],
    )
    if query:
        flow.add_processor(
            "records",
            "QueryRecord",
            {
                "record_reader": "csv",
                "record_writer": "parquet",
                "filtered": FILTER_SQL,
            },
            auto_terminate=["original", "failure"],
        )
        rel = "filtered"
    else:
        flow.add_processor(
            "records",
            "ConvertRecord",
            {"record_reader": "csv", "record_writer": "parquet"},
            auto_terminate=["failure"],
        )
        rel = "success"
    flow.add_processor(
        "put",
        "PutFile",
        {"directory": out_dir, "conflict_resolution_strategy": "replace"},
        auto_terminate=["success", "failure"],
    )
    flow.connect("list", "fetch")
    flow.connect("fetch", "records")
    flow.connect("records", "put", [rel])
    # Like the floor (which imports pyarrow before its clock starts), resolve and import
    # every component type first: the clock measures the run, not module imports.
    problems = flow.validate()
    if problems:
        raise RuntimeError(f"invalid benchmark flow: {problems}")
    import pyarrow.csv
    import pyarrow.parquet  # noqa: F401

    start = time.perf_counter()
    result = flow.run(
        until_drained=True,
        timeout=7200,
        durable=True,
        state_dir=state_dir,
        collect_outputs=False,
    )
    seconds = time.perf_counter() - start
    status = result.status.processor("records")
    ok = result.ok
    result.close()
    outs = [os.path.join(out_dir, f) for f in os.listdir(out_dir)]
    if not ok or len(outs) != 1:
        raise RuntimeError(f"the flow failed (ok={ok}, outputs={outs})")
    rows = pq.ParquetFile(outs[0]).metadata.num_rows
    return {"seconds": seconds, "trigger_seconds": status.trigger_time_s, "rows": rows}


def _median(
    runs: list[tuple[dict[str, Any], float]], key: str = "seconds"
) -> tuple[dict[str, Any], float]:
    """The run with the median ``key`` and the highest peak RSS of all (a high-water
    mark is not averaged away)."""
    ordered = sorted(runs, key=lambda r: float(r[0][key]))
    return ordered[(len(ordered) - 1) // 2][0], max(r[1] for r in runs)


def run(quick: bool) -> list[dict[str, Any]]:
    """Rows: MB/s and peak RSS of the flows vs the floor (and memory flatness)."""
    sizes = [50 * MB] if quick else [1024 * MB, 4096 * MB]
    rows: list[dict[str, Any]] = []
    peaks: dict[int, float] = {}
    with h.scratch_dir(WORKLOAD) as tmp:
        for size in sizes:
            in_dir = os.path.join(tmp, f"in-{size}")
            os.makedirs(in_dir)
            csv_path = os.path.join(in_dir, "data.csv")
            gen = generate(csv_path, size)
            mb = gen["bytes"] / MB
            label = f"{mb:.0f} MB CSV"

            def floor_run(
                filtered: bool, csv_path: str = csv_path
            ) -> tuple[dict[str, Any], float]:
                out = os.path.join(tmp, "floor.parquet")
                try:
                    return h.measure(
                        f"{_MOD}:floor",
                        {"csv_path": csv_path, "out_path": out, "filtered": filtered},
                    )
                finally:
                    if os.path.exists(out):
                        os.unlink(out)

            def engine_run(
                query: bool, csv_path: str = csv_path, import_strategy: str = "copy"
            ) -> tuple[dict[str, Any], float]:
                out, state = os.path.join(tmp, "out"), os.path.join(tmp, "state")
                os.makedirs(out, exist_ok=True)
                try:
                    return h.measure(
                        f"{_MOD}:engine",
                        {
                            "csv_path": csv_path,
                            "out_dir": out,
                            "state_dir": state,
                            "query": query,
                            "import_strategy": import_strategy,
                        },
                    )
                finally:
                    shutil.rmtree(out, ignore_errors=True)
                    shutil.rmtree(state, ignore_errors=True)

            # Interleaved (floor, flow, floor, flow...) so that load from other work on a
            # shared machine hits both sides alike; medians of the repetitions.
            first = size == sizes[0]
            reps = 3 if first else 1
            runs: dict[str, list[tuple[dict[str, Any], float]]] = {
                "floor": [],
                "flow": [],
                "qfloor": [],
                "qflow": [],
                "lflow": [],
            }
            for _ in range(reps):
                runs["floor"].append(floor_run(False))
                runs["flow"].append(engine_run(False))
                if first:
                    runs["lflow"].append(engine_run(False, import_strategy="link"))
                    runs["qfloor"].append(floor_run(True))
                    runs["qflow"].append(engine_run(True))
            base, base_rss = _median(runs["floor"])
            conv, conv_rss = _median(runs["flow"])
            if conv["rows"] != gen["rows"] or base["rows"] != gen["rows"]:
                raise RuntimeError(
                    f"row counts differ: {gen['rows']} generated, {conv['rows']} converted, {base['rows']} floor"
                )
            peaks[size] = conv_rss
            floor_name = "pyarrow open_csv → ParquetWriter"
            rows.append(
                h.row(
                    WORKLOAD,
                    f"{label} convert flow (durable)",
                    mb / conv["seconds"],
                    "MB/s",
                    floor_name,
                    mb / base["seconds"],
                    conv_rss,
                    baseline_rss_mb=base_rss,
                    reps=reps,
                )
            )
            trig, _ = _median(runs["flow"], "trigger_seconds")
            rows.append(
                h.row(
                    WORKLOAD,
                    f"{label} ConvertRecord trigger",
                    mb / trig["trigger_seconds"],
                    "MB/s",
                    floor_name,
                    mb / base["seconds"],
                    conv_rss,
                    baseline_rss_mb=base_rss,
                    reps=reps,
                )
            )
            if first:
                linked, linked_rss = _median(runs["lflow"])
                rows.append(
                    h.row(
                        WORKLOAD,
                        f"{label} convert flow (durable, FetchFile link)",
                        mb / linked["seconds"],
                        "MB/s",
                        floor_name,
                        mb / base["seconds"],
                        linked_rss,
                        baseline_rss_mb=base_rss,
                        reps=reps,
                    )
                )
                qbase, qbase_rss = _median(runs["qfloor"])
                query, query_rss = _median(runs["qflow"])
                rows.append(
                    h.row(
                        WORKLOAD,
                        f"{label} QueryRecord filter flow (durable)",
                        mb / query["seconds"],
                        "MB/s",
                        "pyarrow open_csv → filter → ParquetWriter",
                        mb / qbase["seconds"],
                        query_rss,
                        baseline_rss_mb=qbase_rss,
                        reps=reps,
                    )
                )
            os.unlink(csv_path)
        if len(sizes) > 1:
            small, big = peaks[sizes[0]], peaks[sizes[-1]]
            rows.append(
                h.row(
                    WORKLOAD,
                    "convert flow peak RSS, 4 GB vs 1 GB",
                    big,
                    "MB",
                    "peak RSS at 1 GB",
                    small,
                    big,
                )
            )
    return rows


if __name__ == "__main__":
    raise SystemExit(h.main_single(run))
