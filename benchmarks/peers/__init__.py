"""Python peers (bytewax, Apache Beam, streamz), each in its own virtual environment.

``python -m benchmarks.peers setup`` creates one virtual environment per peer under a
cache directory outside the repository (``$FLOWENGINE_BENCH_CACHE``, default
``~/.cache/flowengine-bench``); none of them is a dependency of flowengine, and Beam in
particular needs ``pyarrow < 26``, which conflicts with ours. Workloads call
:func:`peer_rows`, which runs every peer whose environment exists and skips the others
with a note.

Each peer program (``benchmarks/peers/<peer>_peer.py``) is the smallest equivalent
program: the same messages (:mod:`benchmarks.peers._messages`), the same map and filter,
written to one file. Its output must match ours (count and checksum) before its time
counts. A program runs in the peer's interpreter via ``benchmarks._child`` and imports
nothing of flowengine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["PEERS", "cache_dir", "peer_python", "peer_rows", "setup"]

#: peer → (pip requirements, the pinned version shown in results)
PEERS: dict[str, tuple[list[str], str]] = {
    "bytewax": (["bytewax==0.21.1"], "0.21.1"),
    # FnApiRunner is pinned in the program: the default runner may fetch a binary.
    "beam": (["apache-beam==2.77.0", "pyarrow<26"], "2.77.0"),
    "streamz": (["streamz==0.6.6"], "0.6.6"),
}
#: per-peer knobs for fairness (see README): bytewax's FileSink fsyncs every batch.
BYTEWAX_BATCH = 1000


def cache_dir() -> Path:
    """Where the peers' virtual environments live (outside the repository)."""
    base = os.environ.get("FLOWENGINE_BENCH_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "flowengine-bench"
    )
    return Path(base) / "peers"


def peer_python(peer: str) -> Path | None:
    """The interpreter of a peer's environment, or None when it is not set up."""
    py = cache_dir() / peer / "bin" / "python"
    marker = cache_dir() / peer / ".ready"
    return py if py.exists() and marker.exists() else None


def setup(peers: list[str] | None = None) -> int:
    """Create (or complete) each peer's virtual environment; returns failures."""
    failures = 0
    for peer in peers or list(PEERS):
        reqs, _ = PEERS[peer]
        venv = cache_dir() / peer
        print(f"setting up {peer} in {venv} ...", flush=True)
        start = time.monotonic()
        try:
            if not (venv / "bin" / "python").exists():
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
            subprocess.run([*pip, "--upgrade", "pip"], check=True)
            subprocess.run([*pip, *reqs], check=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            failures += 1
            print(f"  {peer}: FAILED ({exc})", flush=True)
            continue
        (venv / ".ready").write_text(" ".join(reqs) + "\n")
        print(f"  {peer}: ready in {time.monotonic() - start:.0f} s", flush=True)
    return failures


def peer_rows(
    workload: str,
    quick: bool,
    tmp: str,
    *,
    baseline: tuple[str, float],
    expected: tuple[int, str],
    mode: str = "flowfiles",
    source: str | None = None,
    n: int,
    reps: int,
) -> list[dict[str, Any]]:
    """Rows for every peer whose environment exists (same messages, same output).

    Args:
        workload: the workload name of the rows.
        quick: peers run only when already set up (never installed on the fly).
        tmp: scratch directory for outputs.
        baseline: (name, value) of the baseline measured in this run.
        expected: (count, checksum) every peer must reproduce before its time counts.
        mode: ``flowfiles`` (generated messages) or ``records`` (lines of ``source``).
        source: input file for ``records`` mode.
        n: number of messages.
        reps: repetitions (median).
    """
    from benchmarks import _harness as h

    rows: list[dict[str, Any]] = []
    if os.environ.get("FLOWENGINE_BENCH_NO_PEERS"):
        print("   peers: skipped (FLOWENGINE_BENCH_NO_PEERS is set)", file=sys.stderr)
        return rows
    for peer, (_, version) in PEERS.items():
        py = peer_python(peer)
        if py is None:
            print(
                f"   peer {peer}: skipped (run `python -m benchmarks.peers setup`)",
                file=sys.stderr,
            )
            continue
        out = os.path.join(tmp, f"peer-{peer}.out")
        args: dict[str, Any] = {"n": n, "out": out, "mode": mode, "source": source}
        if peer == "bytewax":
            args["batch"] = BYTEWAX_BATCH
        target = f"benchmarks.peers.{peer}_peer:run"

        def once(
            a: dict[str, Any] = args, p: Path = py, t: str = target
        ) -> tuple[dict[str, Any], float]:
            return h.measure(t, a, python=str(p))

        try:
            res, rss, _ = h.median_of(reps, once)
        except h.ChildError as exc:
            print(f"   peer {peer}: FAILED {exc}", file=sys.stderr)
            continue
        got = (res["count"], res["checksum"])
        if got != expected:
            print(
                f"   peer {peer}: output differs ({got[0]} vs {expected[0]} messages); "
                "its time does not count",
                file=sys.stderr,
            )
            continue
        rows.append(
            h.row(
                workload,
                f"peer: {peer} {version}",
                n / res["seconds"],
                "records/s" if mode == "records" else "FlowFiles/s",
                baseline[0],
                baseline[1],
                rss,
                note=res.get("note"),
            )
        )
    return rows
