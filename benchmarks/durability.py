"""Workload: what durability costs (issue 5).

1. ``flowfiles``: 1,000,000 FlowFiles through GenerateFlowFile (batch 1000) →
   UpdateAttribute (2 attributes) → RouteOnAttribute → auto-terminated. Variants: durable
   repositories with provenance (the target: at least 50% of the in-memory rate), durable
   without provenance, in memory without provenance. Baseline: the same flow in memory
   with provenance on (in-memory ring), measured in the same run — the same work, only
   the repositories differ. Also durable with ``sync: always`` (an fsync per commit
   group).
2. ``content``: 10 GB of content (10 MB FlowFiles) through GenerateFlowFile →
   UpdateAttribute → auto-terminated with durable repositories; MB/s and peak RSS
   (target < 300 MB). Baseline: a plain Python loop making the same random 10 MB blocks
   and writing them to one file (the pace of the machine's entropy and disk).

Every variant runs in a fresh interpreter (peak RSS of its own) under a scratch
directory; each flow variant reports its best of 2 runs at full size (1 with --quick): other
jobs on a shared machine only ever slow a run down. ``--quick``: 50,000 FlowFiles and
200 MB.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from typing import Any

from benchmarks import _harness as h

WORKLOAD = "durability"
N_FULL = 1_000_000
N_QUICK = 50_000
CONTENT_FULL = 10 * 1024**3
CONTENT_QUICK = 200 * 1024**2
CHUNK = 10 * 1024**2
_MOD = "benchmarks.durability"


def flow_variant(
    n: int,
    durable: bool,
    provenance: bool,
    state_dir: str | None = None,
    sync: str = "normal",
) -> dict[str, Any]:
    """One run of the 1 M-FlowFile flow; seconds of ``Flow.run``.

    Every variant imports the durable layer (and pyarrow) before the clock starts: the
    rows compare throughput, and a one-off ~0.3 s import would otherwise weigh on the
    50,000-FlowFile quick runs only.
    """
    import flowengine
    import flowengine._repository._durable  # imported ahead of the clock: see the docstring

    flow = flowengine.Flow("durability")
    flow.settings["sync"] = sync
    flow.add_processor(
        "generate",
        "GenerateFlowFile",
        {"batch_size": "1000"},
        schedule={"period": "0 sec", "max_triggers": n // 1000},
    )
    flow.add_processor(
        "update", "UpdateAttribute", {"stage": "bench", "size.class": "small"}
    )
    flow.add_processor(
        "route",
        "RouteOnAttribute",
        {"bench": "${stage:equals('bench')}"},
        auto_terminate=["bench", "unmatched"],
    )
    flow.connect("generate", "update")
    flow.connect("update", "route")
    start = time.perf_counter()
    result = flow.run(
        until_drained=True,
        timeout=3600,
        durable=durable,
        state_dir=state_dir,
        provenance=provenance,
        collect_outputs=False,
    )
    seconds = time.perf_counter() - start
    routed = result.status.processor("route").flowfiles_in
    result.close()
    if routed != n or not result.ok:
        raise RuntimeError(
            f"expected {n} FlowFiles routed, got {routed} (ok={result.ok})"
        )
    return {"seconds": seconds, "count": routed}


def content_variant(total: int, state_dir: str) -> dict[str, Any]:
    """``total`` bytes of 10 MB FlowFiles through a durable flow; seconds."""
    import flowengine

    flow = flowengine.Flow("durability-content")
    flow.add_processor(
        "generate",
        "GenerateFlowFile",
        {"file_size": f"{CHUNK} B", "batch_size": "1", "data_format": "Binary"},
        schedule={"period": "0 sec", "max_triggers": total // CHUNK},
    )
    flow.add_processor(
        "update", "UpdateAttribute", {"stage": "bench"}, auto_terminate=["success"]
    )
    flow.connect("generate", "update")
    start = time.perf_counter()
    result = flow.run(
        until_drained=True,
        timeout=3600,
        durable=True,
        state_dir=state_dir,
        collect_outputs=False,
    )
    seconds = time.perf_counter() - start
    moved = result.status.processor("update").bytes_in
    result.close()
    if moved != total:
        raise RuntimeError(f"expected {total} bytes, moved {moved}")
    return {"seconds": seconds, "bytes": moved}


def write_baseline(total: int, path: str) -> dict[str, Any]:
    """The same work by a plain loop: 10 MB of random bytes made (as GenerateFlowFile
    does per trigger) and written to one file, ``total`` bytes in all."""
    start = time.perf_counter()
    with open(path, "wb") as f:
        for _ in range(total // CHUNK):
            f.write(os.urandom(CHUNK))
    seconds = time.perf_counter() - start
    os.unlink(path)
    return {"seconds": seconds, "bytes": total}


def _best_of(
    reps: int, fn: Callable[[], tuple[dict[str, Any], float]]
) -> tuple[dict[str, Any], float]:
    """The fastest of ``reps`` runs (and the highest RSS seen).

    Best-of rather than median: on a shared 2-core machine other jobs only ever slow a
    run down, so the fastest run is the least disturbed measurement of each variant.
    """
    runs = [fn() for _ in range(max(1, reps))]
    best = min(runs, key=lambda r: float(r[0]["seconds"]))
    return best[0], max(r[1] for r in runs)


def run(quick: bool) -> list[dict[str, Any]]:
    """Rows: FlowFiles/s of each flow variant vs in-memory; content MB/s vs a plain write."""
    n = N_QUICK if quick else N_FULL
    reps = 1 if quick else 2
    rows: list[dict[str, Any]] = []
    with h.scratch_dir(WORKLOAD) as tmp:

        def flow(
            durable: bool, provenance: bool, sync: str = "normal"
        ) -> tuple[dict[str, Any], float]:
            state = os.path.join(tmp, f"state-{time.monotonic_ns()}")
            try:
                return h.measure(
                    f"{_MOD}:flow_variant",
                    {
                        "n": n,
                        "durable": durable,
                        "provenance": provenance,
                        "state_dir": state,
                        "sync": sync,
                    },
                )
            finally:
                shutil.rmtree(state, ignore_errors=True)

        base, base_rss = _best_of(reps, lambda: flow(False, True))
        base_rate = n / base["seconds"]
        baseline = "in-memory + provenance"
        rows.append(
            h.row(
                WORKLOAD,
                f"{n} FlowFiles in-memory + provenance",
                base_rate,
                "FlowFiles/s",
                baseline,
                base_rate,
                base_rss,
            )
        )
        for name, durable, prov, sync in (
            ("durable + provenance", True, True, "normal"),
            ("durable + provenance, sync always", True, True, "always"),
            ("durable, no provenance", True, False, "normal"),
            ("in-memory, no provenance", False, False, "normal"),
        ):
            res, rss = _best_of(reps, lambda d=durable, p=prov, y=sync: flow(d, p, y))
            rows.append(
                h.row(
                    WORKLOAD,
                    f"{n} FlowFiles {name}",
                    n / res["seconds"],
                    "FlowFiles/s",
                    baseline,
                    base_rate,
                    rss,
                )
            )

        total = CONTENT_QUICK if quick else CONTENT_FULL
        mb = total / 1024**2
        wb, _ = h.measure(
            f"{_MOD}:write_baseline",
            {"total": total, "path": os.path.join(tmp, "plain.bin")},
        )
        state = os.path.join(tmp, "state-content")
        cv, c_rss = h.measure(
            f"{_MOD}:content_variant", {"total": total, "state_dir": state}
        )
        shutil.rmtree(state, ignore_errors=True)
        rows.append(
            h.row(
                WORKLOAD,
                f"{mb:.0f} MB content durable (10 MB FlowFiles)",
                mb / cv["seconds"],
                "MB/s",
                "plain file write",
                mb / wb["seconds"],
                c_rss,
            )
        )
    return rows


if __name__ == "__main__":
    raise SystemExit(h.main_single(run))
