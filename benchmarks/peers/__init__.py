"""Python peers (bytewax, Apache Beam, streamz), each in its own virtual environment.

``python -m benchmarks.peers setup`` creates one virtual environment per peer under a
cache directory outside the repository (``$FLOWENGINE_BENCH_CACHE``, default
``~/.cache/flowengine-bench``); none of them is a dependency of flowengine, and Beam in
particular needs ``pyarrow < 26``, which conflicts with ours. Workloads call
:func:`peer_variants` to measure every peer whose environment exists (interleaved
with their own variants) and :func:`checked` to keep only peers whose output matches.

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

__all__ = ["PEERS", "cache_dir", "checked", "peer_python", "peer_variants", "setup"]

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


def peer_variants(
    tmp: str, *, n: int, mode: str = "flowfiles", source: str | None = None
) -> dict[str, Any]:
    """A measurement per peer whose environment exists, keyed ``peer: NAME VERSION``.

    Each value is a zero-argument callable returning ``(result, peak RSS MB)`` like
    :func:`benchmarks._harness.measure`, to run interleaved with ours. Peers that are not
    set up are skipped with a note (never installed on the fly, also not in --quick).

    Args:
        tmp: scratch directory for outputs.
        n: number of messages.
        mode: ``flowfiles`` (generated messages) or ``records`` (lines of ``source``).
        source: input file for ``records`` mode.
    """
    from benchmarks import _harness as h

    variants: dict[str, Any] = {}
    if os.environ.get("FLOWENGINE_BENCH_NO_PEERS"):
        print("   peers: skipped (FLOWENGINE_BENCH_NO_PEERS is set)", file=sys.stderr)
        return variants
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

        variants[f"peer: {peer} {version}"] = once
    return variants


def checked(
    name: str,
    outcome: tuple[dict[str, Any], float] | Exception,
    expected: tuple[int, str],
) -> tuple[dict[str, Any], float] | None:
    """The peer's (result, RSS) if it ran and reproduced ``expected``; else None, with a
    note on stderr (its time does not count)."""
    if isinstance(outcome, Exception):
        print(f"   {name}: FAILED {outcome}", file=sys.stderr)
        return None
    got = (outcome[0]["count"], outcome[0]["checksum"])
    if got != expected:
        print(
            f"   {name}: output differs ({got[0]} vs {expected[0]} messages); "
            "its time does not count",
            file=sys.stderr,
        )
        return None
    return outcome
