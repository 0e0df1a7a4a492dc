"""Where small-flowfiles spends its time: ``python -m benchmarks._layers [N]``.

Runs the small-flowfiles flow in this process (in memory, no provenance) and prints

* per processor: triggers, FlowFiles per trigger and trigger time per FlowFile (what
  ``Node`` measures around ``on_trigger`` + commit, so session, queue and content work
  done for that processor is included);
* the garbage collector's share of the run (``gc.callbacks``), per generation;
* the same run with fewer young-generation collections, to show the collector's cost.

For a line-level picture, run it under py-spy:
``py-spy record -f raw --gil -o out.txt -- python -m benchmarks._layers 400000``.
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
from typing import Any

from benchmarks.small_flowfiles import GC_TUNED, flowengine_variant


class _GcTimer:
    """Accumulates time spent in collections, per generation."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            g = info["generation"]
            self.seconds[g] += time.perf_counter() - self._start
            self.count[g] += 1


def _one(n: int, out: str, tuned: bool) -> None:
    timer = _GcTimer()
    old = gc.get_threshold()
    if tuned:
        gc.set_threshold(*GC_TUNED)
    box: dict[str, Any] = {}
    gc.callbacks.append(timer)
    try:
        res = flowengine_variant(n, out, on_start=lambda rt: box.update(rt=rt))
    finally:
        gc.callbacks.remove(timer)
        gc.set_threshold(*old)
    secs = res["seconds"]
    label = f"gc.set_threshold{GC_TUNED}" if tuned else f"default gc {old}"
    print(f"\n{label}: {n:,} FlowFiles in {secs:.2f} s = {n / secs:,.0f}/s")
    print(f"{'processor':10} {'triggers':>9} {'FF/trigger':>10} {'µs/FF':>8}")
    for node in box["rt"].nodes.values():
        moved = max(node.flowfiles_in, node.flowfiles_out, 1)
        print(
            f"{node.id:10} {node.triggers:9,} {moved / max(node.triggers, 1):10.0f} "
            f"{node.trigger_ns / 1e3 / moved:8.2f}"
        )
    total = sum(timer.seconds)
    print(
        f"gc: {total:.2f} s ({100 * total / secs:.0f}% of the run); "
        + ", ".join(
            f"gen{g} {timer.count[g]}x {timer.seconds[g]:.2f} s" for g in range(3)
        )
    )


def main(argv: list[str]) -> int:
    """Print the breakdown for N FlowFiles (default 200,000)."""
    n = int(argv[0]) if argv else 200_000
    with tempfile.TemporaryDirectory(prefix="fe-bench-layers-") as tmp:
        out = f"{tmp}/out.bin"
        flowengine_variant(2000, out)  # imports and first-use set-up out of the way
        _one(n, out, tuned=False)
        _one(n, out, tuned=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
