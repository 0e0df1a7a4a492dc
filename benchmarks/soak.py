"""Workload 5, back-pressure soak: 10 GB through a slow sink in bounded memory.

GenerateFlowFile (1 MiB binary FlowFiles) → UpdateAttribute → SlowSink (streams each
content to nowhere and spends ``DELAY`` seconds per FlowFile, slower than the producer).
Back pressure must hold the producer back, so RSS reaches a plateau and stays there:
the target is RSS at the end within 10% of RSS after the first tenth (1 GB of 10 GB).
The run samples its own RSS (``/proc/self/statm``) against the bytes the sink has taken.

Rows: the RSS plateau (value: RSS over the last tenth, baseline: RSS at the first
tenth, ratio: growth, target ≤ 1.10) and throughput (MB/s, baseline: a plain loop doing
the same generate → read → delay, so the ratio is the engine's cost under a slow sink).
Quick: 200 MB with smaller back-pressure thresholds so the plateau comes early.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

from benchmarks import _harness as h

#: this module by name (``__name__`` is ``__main__`` under ``python -m``)
_MOD = "benchmarks.soak"

WORKLOAD = "soak"
MIB = 1 << 20
FILE_SIZE = MIB
BATCH = 10  # FlowFiles per GenerateFlowFile trigger
DELAY = 0.002  # sink seconds per FlowFile: ~500 MB/s at most
FULL: dict[str, Any] = {"total": 10 * 1024 * MIB, "back_pressure": "256 MB"}
QUICK: dict[str, Any] = {"total": 200 * MIB, "back_pressure": "8 MB"}


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


def flowengine_variant(
    total: int, back_pressure: str, state_dir: str | None = None
) -> dict[str, Any]:
    """Run the soak flow once; RSS samples as (bytes through the sink, RSS MB)."""
    import flowengine
    from benchmarks._sink import SlowSink

    flow = flowengine.Flow(WORKLOAD)
    flow.add_processor(
        "generate",
        "GenerateFlowFile",
        {
            "file_size": f"{FILE_SIZE}B",
            "data_format": "Binary",
            "batch_size": str(BATCH),
        },
        schedule={"period": "0 sec", "max_triggers": total // (FILE_SIZE * BATCH)},
    )
    flow.add_processor("update", "UpdateAttribute", {"soak": "yes"})
    flow.add_processor(
        "sink",
        SlowSink,
        {"delay": str(DELAY)},
        schedule={"batch_size": BATCH},
        auto_terminate=["success"],
    )
    flow.connect("generate", "update", back_pressure_size=back_pressure)
    flow.connect("update", "sink", back_pressure_size=back_pressure)
    samples: list[tuple[int, float]] = []
    box: dict[str, Any] = {}
    done = threading.Event()

    def sampler() -> None:
        while not done.wait(0.05):
            node = box.get("sink")
            samples.append((node.bytes_in if node is not None else 0, _rss_mb()))

    def on_start(runtime: Any) -> None:
        box["sink"] = runtime.nodes["sink"]

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    start = time.perf_counter()
    result = flow.run(
        until_drained=True,
        timeout=3600,
        provenance=False,
        durable=state_dir is not None,
        state_dir=state_dir,
        collect_outputs=False,
        on_start=on_start,
    )
    seconds = time.perf_counter() - start
    done.set()
    thread.join()
    node = result.counts["sink"]
    return {
        "seconds": seconds,
        "bytes": node.bytes_in,
        "samples": samples,
        "drained": result.drained,
    }


def baseline_variant(total: int, back_pressure: str) -> dict[str, Any]:
    """The same work as a plain loop: make the bytes, read them back, wait the delay."""
    del back_pressure  # the loop holds one FlowFile at a time
    start = time.perf_counter()
    done = 0
    payload = b""
    for i in range(total // FILE_SIZE):
        if i % BATCH == 0:
            payload = os.urandom(FILE_SIZE)
        content = bytes(bytearray(payload))  # a fresh copy, as a content write makes
        view = memoryview(content)
        for off in range(0, len(content), MIB):
            _ = view[off : off + MIB]
        done += len(content)
        if i % BATCH == BATCH - 1:
            time.sleep(DELAY * BATCH)
    return {
        "seconds": time.perf_counter() - start,
        "bytes": done,
        "samples": [],
        "drained": True,
    }


def plateau(samples: list[tuple[int, float]], total: int) -> tuple[float, float]:
    """(RSS when the first tenth had gone through, max RSS over the last tenth)."""
    early = [rss for done, rss in samples if done >= total * 0.1]
    late = [rss for done, rss in samples if done >= total * 0.9]
    if not early or not late:
        return float("nan"), float("nan")
    return early[0], max(late)


def run(quick: bool) -> list[dict[str, Any]]:
    """RSS plateau and throughput rows per repository kind (one repetition: a soak is
    long)."""
    cfg = QUICK if quick else FULL
    total: int = cfg["total"]
    base, _ = h.measure(f"{_MOD}:baseline_variant", cfg)
    base_mbps = total / MIB / base["seconds"]
    size = (
        f"{total / (1024 * MIB):.3g} GB"
        if total >= 1024 * MIB
        else f"{total // MIB} MB"
    )
    rows: list[dict[str, Any]] = []
    kinds = ["in-memory", "durable"]
    for kind in kinds:
        if kind == "durable" and not h.durable_available():
            print(
                "   durable: skipped (durable repositories are not available yet)",
                file=sys.stderr,
            )
            continue
        with h.scratch_dir(WORKLOAD) as tmp:
            args = dict(
                cfg, state_dir=os.path.join(tmp, "state") if kind == "durable" else None
            )
            res, rss = h.measure(f"{_MOD}:flowengine_variant", args)
        if not res["drained"] or res["bytes"] != total:
            raise RuntimeError(
                f"soak/{kind}: {res['bytes']} of {total} bytes went through"
            )
        first, last = plateau(res["samples"], total)
        rows.append(
            h.row(
                WORKLOAD,
                f"{kind} {size}: RSS over the last tenth",
                last,
                "MB",
                "RSS after the first tenth",
                first,
                rss,
                note=f"back pressure {cfg['back_pressure']}/connection; target ≤ 1.10",
            )
        )
        rows.append(
            h.row(
                WORKLOAD,
                f"{kind} {size}: throughput",
                total / MIB / res["seconds"],
                "MB/s",
                "plain loop, same delay",
                base_mbps,
                rss,
            )
        )
    return rows


if __name__ == "__main__":
    sys.exit(h.main_single(run))
