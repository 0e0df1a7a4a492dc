"""Workload 1, small-flowfiles: 1,000,000 100-byte FlowFiles through four processors.

GenerateFlowFile → UpdateAttribute (2 attributes: ``seq = ${nextInt()}``, a literal)
→ RouteOnAttribute (``even = ${seq:mod(2):equals(0)}``) → AppendToFile (the matched
ones into one file; ``unmatched`` auto-terminated). Variants: in-memory repositories,
durable repositories, durable + provenance. Baseline: a plain Python loop doing the
same work (per message: the 100-byte content, an attribute dict with a sequence number
and a literal, the parity test, the write) in the same run. Peers (bytewax,
Beam, streamz) run the same messages when their virtual environments exist
(``python -m benchmarks.peers setup``).

Every variant must produce the same file as the baseline (count and SHA-256) before its
time counts.

Until the Expression Language has ``nextInt``/``mod``, the flow numbers FlowFiles with a
different rule that existing functions can express; see :func:`_expressions`.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from typing import Any

from benchmarks import _harness as h
from benchmarks.peers import _messages as msgs

#: this module by name (``__name__`` is ``__main__`` under ``python -m``)
_MOD = "benchmarks.small_flowfiles"

WORKLOAD = "small_flowfiles"
N_FULL = 1_000_000
N_QUICK = 20_000
REPS_FULL = 3
REPS_QUICK = 1
BATCH = 1000
GC_TUNED = (50_000, 20, 100)
BASELINE = "baseline: python loop"
#: 100 bytes, the same for every message (GenerateFlowFile's non-unique mode)
PAYLOAD = msgs.PAYLOAD


def _expressions() -> tuple[dict[str, str], str]:
    """UpdateAttribute's properties and the RouteOnAttribute condition.

    Prefers NiFi's own idiom (``nextInt()`` counter, ``mod``); falls back to string
    functions over a literal when the EL lacks them (then every FlowFile matches and the
    count check still holds: the baseline follows the same rule).
    """
    from flowengine.expression import compile as el_compile

    try:
        el_compile("${nextInt()}")
        el_compile("${seq:mod(2):equals(0)}")
    except Exception:
        return {"seq": "0", "stage": "bench"}, "${seq:equals('0')}"
    return {"seq": "${nextInt()}", "stage": "bench"}, "${seq:mod(2):equals(0)}"


# -- measured in a subprocess --------------------------------------------------------
def flowengine_variant(
    n: int,
    out: str,
    durable: bool = False,
    provenance: bool = False,
    state_dir: str | None = None,
    gc_threshold: list[int] | None = None,
    on_start: Any = None,
    inline_sink: bool = False,
) -> dict[str, Any]:
    """Run the flow once: seconds of ``Flow.run`` (plan, build, run, stop), output."""
    import flowengine
    from benchmarks._sink import AppendToFile, InlineAppendToFile

    update, condition = _expressions()
    flow = flowengine.Flow(WORKLOAD)
    flow.add_processor(
        "generate",
        "GenerateFlowFile",
        {"custom_text": PAYLOAD.decode(), "batch_size": str(BATCH)},
        schedule={"period": "0 sec", "max_triggers": n // BATCH},
    )
    flow.add_processor("update", "UpdateAttribute", update)
    flow.add_processor(
        "route", "RouteOnAttribute", {"even": condition}, auto_terminate=["unmatched"]
    )
    sink = InlineAppendToFile if inline_sink else AppendToFile
    flow.add_processor("sink", sink, {"path": out}, auto_terminate=["success"])
    flow.connect("generate", "update")
    flow.connect("update", "route")
    flow.connect("route", "sink", ["even"])
    if gc_threshold:
        import gc

        gc.set_threshold(*gc_threshold)
    start = time.perf_counter()
    result = flow.run(
        until_drained=True,
        timeout=3600,
        durable=durable,
        state_dir=state_dir,
        provenance=provenance,
        collect_outputs=False,
        on_start=on_start,
    )
    seconds = time.perf_counter() - start
    count, sha = msgs.digest(out)
    return {
        "seconds": seconds,
        "count": count,
        "checksum": sha,
        "ok": result.ok,
        "drained": result.drained,
    }


def baseline_variant(n: int, out: str) -> dict[str, Any]:
    """The hand-written floor: the same work as a plain Python loop."""
    update, _ = _expressions()
    counter = "nextInt" in update["seq"]
    literal = update["stage"]
    start = time.perf_counter()
    with open(out, "wb", buffering=1 << 20) as f:
        write = f.write
        for i in range(n):
            content = PAYLOAD
            attrs = {"seq": str(i) if counter else "0", "stage": literal}
            if (int(attrs["seq"]) % 2 == 0) if counter else attrs["seq"] == "0":
                write(content)
    seconds = time.perf_counter() - start
    count, sha = msgs.digest(out)
    return {
        "seconds": seconds,
        "count": count,
        "checksum": sha,
        "ok": True,
        "drained": True,
    }


# -- orchestration -------------------------------------------------------------------
def run(quick: bool) -> list[dict[str, Any]]:
    """Baseline, our variants and the peers, interleaved; FlowFiles/s rows."""
    n = N_QUICK if quick else N_FULL
    reps = REPS_QUICK if quick else REPS_FULL
    rows: list[dict[str, Any]] = []
    with h.scratch_dir(WORKLOAD) as tmp:
        out = os.path.join(tmp, "out.bin")
        ours: list[tuple[str, dict[str, Any]]] = [
            ("in-memory", {}),
            ("durable", {"durable": True}),
            ("durable+provenance", {"durable": True, "provenance": True}),
            # What the collector costs: the same run with fewer young-generation
            # collections (FlowFiles outlive gen 0/1 in queues and trigger full ones).
            (
                f"in-memory, gc.set_threshold{GC_TUNED}",
                {"gc_threshold": list(GC_TUNED)},
            ),
            # What the worker-thread hop of a plain sync sink costs (GIL hand-offs).
            ("in-memory, sink run_inline", {"inline_sink": True}),
            (
                f"in-memory, sink run_inline + gc.set_threshold{GC_TUNED}",
                {"inline_sink": True, "gc_threshold": list(GC_TUNED)},
            ),
        ]
        if not h.durable_available():
            print(
                "   durable variants: skipped (durable repositories are not available)",
                file=sys.stderr,
            )
            ours = [(name, kw) for name, kw in ours if not kw.get("durable")]

        def flow(kw: dict[str, Any]) -> tuple[dict[str, Any], float]:
            args = {"n": n, "out": out, **kw}
            if kw.get("durable"):
                args["state_dir"] = os.path.join(tmp, f"state-{time.monotonic_ns()}")
            return h.measure(f"{_MOD}:flowengine_variant", args)

        variants: dict[str, Any] = {
            BASELINE: lambda: h.measure(
                f"{_MOD}:baseline_variant", {"n": n, "out": out}
            ),
        }
        variants.update({name: functools.partial(flow, kw) for name, kw in ours})
        from benchmarks.peers import checked, peer_variants

        peers = peer_variants(tmp, n=n)
        variants.update(peers)
        # Durable runs take minutes at full size: one repetition each.
        slow = {name: 1 for name, kw in ours if kw.get("durable") and not quick}
        results = h.interleaved(variants, reps, slow)

        base_outcome = results[BASELINE]
        if isinstance(base_outcome, Exception):
            raise base_outcome
        base, base_rss = base_outcome
        base_rate = n / base["seconds"]
        expected = (base["count"], base["checksum"])
        rows.append(
            h.row(
                WORKLOAD,
                BASELINE,
                base_rate,
                "FlowFiles/s",
                "python loop",
                base_rate,
                base_rss,
            )
        )
        for name, _ in ours:
            outcome = results[name]
            if isinstance(outcome, Exception):
                raise outcome
            res, rss = outcome
            _same_output(name, res, expected)
            rows.append(
                h.row(
                    WORKLOAD,
                    name,
                    n / res["seconds"],
                    "FlowFiles/s",
                    "python loop",
                    base_rate,
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
                        "FlowFiles/s",
                        "python loop",
                        base_rate,
                        ok[1],
                        note=ok[0].get("note"),
                    )
                )
    return rows


def _same_output(name: str, res: dict[str, Any], expected: tuple[int, str]) -> None:
    if not res.get("drained"):
        raise RuntimeError(f"{WORKLOAD}/{name}: the flow did not drain")
    if (res["count"], res["checksum"]) != expected:
        raise RuntimeError(
            f"{WORKLOAD}/{name}: output differs from the baseline "
            f"({res['count']} vs {expected[0]} messages)"
        )


if __name__ == "__main__":
    sys.exit(h.main_single(run))
