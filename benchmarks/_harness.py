"""The benchmark harness: discovery, repetitions, per-variant peak RSS, table and JSON.

A workload is a module ``benchmarks/<name>.py`` exposing
``run(quick: bool) -> list[dict]``; each dict is one row with the keys of
:data:`ROW_KEYS` (the DESIGN.md "Benchmark JSON" contract). This module gives workloads
the pieces they share:

* :func:`measure` runs one variant in a fresh interpreter
  (``python -m benchmarks._child``) so its peak RSS is its own: the parent reaps the
  child with :func:`os.wait4` and reads ``ru_maxrss`` of exactly that process. The child
  returns a JSON-able dict (e.g. a count, a checksum and the seconds it measured).
* :func:`median_of` repeats a measurement and keeps the median (shared machines are
  noisy).
* :func:`row` builds a result row with ``ratio = value / baseline_value`` (same run).
* :func:`main` is ``python -m benchmarks``; :func:`main_single` is
  ``python -m benchmarks.<name>``.

Why subprocesses: peak RSS is a high-water mark; measuring a second variant in a
process that already ran the first would report the first one's peak. Fresh
interpreters also keep one variant's garbage from slowing the next.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import pkgutil
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "ROW_KEYS",
    "ChildError",
    "commit",
    "discover",
    "durable_available",
    "interleaved",
    "machine",
    "main",
    "main_single",
    "measure",
    "median_of",
    "print_table",
    "row",
    "run_command",
    "scratch_dir",
]

ROW_KEYS = (
    "workload",
    "variant",
    "value",
    "unit",
    "baseline",
    "baseline_value",
    "ratio",
    "peak_rss_mb",
)
REPO = Path(__file__).resolve().parent.parent
#: modules under benchmarks/ that are not workloads
NOT_WORKLOADS = frozenset({"peers"})


class ChildError(RuntimeError):
    """A measured subprocess failed; carries its stderr tail for the report."""


# -- measuring -----------------------------------------------------------------------
def measure(
    target: str,
    kwargs: Mapping[str, Any] | None = None,
    *,
    python: str | None = None,
    timeout: float = 1800.0,
    env: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], float]:
    """Run ``module:function(**kwargs)`` in a fresh interpreter.

    Returns:
        (the function's result, the child's peak RSS in MB).


    Args:
        target: ``"package.module:function"``; the function returns a JSON-able dict.
        kwargs: JSON-able keyword arguments.
        python: the interpreter (a peer's virtual environment); default this one.
        timeout: seconds before the child is killed and :class:`ChildError` raised.
        env: extra environment variables for the child.

    The peak RSS is the child's own ``VmHWM`` (``ru_maxrss`` from ``wait4`` where /proc
    is missing: on Linux that one also counts the parent's memory copied at fork).
    """
    with tempfile.TemporaryDirectory(prefix="fe-bench-child-") as tmp:
        out = Path(tmp) / "result.json"
        err = Path(tmp) / "stderr.txt"
        cmd = [
            python or sys.executable,
            "-m",
            "benchmarks._child",
            target,
            json.dumps(dict(kwargs or {})),
            str(out),
        ]
        child_env = dict(os.environ)
        child_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO), child_env.get("PYTHONPATH", "")) if p
        )
        child_env.update(env or {})
        with open(err, "wb") as errf:
            proc = subprocess.Popen(
                cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=errf, env=child_env
            )
            status, rusage = _wait_with_timeout(proc, timeout)
        if status != 0 or not out.exists():
            tail = err.read_text(errors="replace")[-2000:]
            raise ChildError(f"{target} failed (status {status}):\n{tail}")
        doc = json.loads(out.read_text())
        result: dict[str, Any] = doc["result"]
        own = doc.get("peak_rss_kb")
        peak = round(own / 1024, 1) if own else _maxrss_mb(rusage)
        return result, peak


def run_command(
    cmd: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300.0,
) -> tuple[float, float, int, str]:
    """Run a command; (wall seconds, its peak RSS MB, exit code, stderr tail).

    Wall time runs from just before ``fork``/``exec`` to the reaping of the process, so
    it includes interpreter start-up: what a user waits for. Peak RSS is the command's
    ``VmHWM`` polled every 10 ms from /proc (the last reading before it exits), since
    ``ru_maxrss`` would include the parent's memory copied at fork.
    """
    with tempfile.TemporaryFile() as errf:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=errf,
            env=None if env is None else {**os.environ, **env},
        )
        hwm = _HighWater(proc.pid)
        status, rusage = _wait_with_timeout(proc, timeout)
        seconds = time.perf_counter() - start
        peak = hwm.stop()
        errf.seek(0)
        tail = errf.read()[-2000:].decode(errors="replace")
    return seconds, peak if peak else _maxrss_mb(rusage), status, tail


class _HighWater:
    """Polls ``/proc/<pid>/status`` for ``VmHWM`` until stopped (keeps the peak)."""

    def __init__(self, pid: int) -> None:
        self._path = f"/proc/{pid}/status"
        self._done = threading.Event()
        self.kb = 0
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while True:
            try:
                with open(self._path) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            self.kb = max(self.kb, int(line.split()[1]))
            except (OSError, ValueError):
                return
            if self._done.wait(0.01):
                return

    def stop(self) -> float:
        """Stop polling; the peak in MB (0 when nothing was read)."""
        self._done.set()
        self._thread.join()
        return round(self.kb / 1024, 1)


def _wait_with_timeout(
    proc: subprocess.Popen[bytes], timeout: float
) -> tuple[int, Any]:
    """Reap ``proc`` with a blocking wait4 (its own rusage, no polling delay).

    A timer kills it after ``timeout`` seconds (the status is then -9).
    """
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        _, status, rusage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, rusage


def _maxrss_mb(rusage: Any) -> float:
    # Linux reports KiB, macOS bytes.
    scale = 1 / (1024 * 1024) if sys.platform == "darwin" else 1 / 1024
    return round(float(rusage.ru_maxrss) * scale, 1)


def median_of(
    reps: int, fn: Callable[[], tuple[dict[str, Any], float]], key: str = "seconds"
) -> tuple[dict[str, Any], float, list[float]]:
    """Run ``fn`` ``reps`` times; (result with the median ``key``, max RSS, all keys).

    ``fn`` returns ``(result, peak_rss_mb)`` as :func:`measure` does. The reported RSS
    is the highest seen: a high-water mark should not be averaged away.
    """
    runs = [fn() for _ in range(max(1, reps))]
    runs.sort(key=lambda r: float(r[0][key]))
    mid = runs[(len(runs) - 1) // 2]
    return mid[0], max(r[1] for r in runs), [float(r[0][key]) for r in runs]


Measure = Callable[[], tuple[dict[str, Any], float]]


def interleaved(
    variants: Mapping[str, Measure],
    reps: int,
    reps_for: Mapping[str, int] | None = None,
) -> dict[str, tuple[dict[str, Any], float] | Exception]:
    """Run every variant once per round, ``reps`` rounds; per variant (median result,
    max RSS), or the exception that stopped it.

    Interleaving spreads load that drifts during a run (shared machines) over all
    variants instead of penalizing whichever ran during a busy spell. ``reps_for`` caps
    the repetitions of slow variants. A variant that fails is not retried.
    """
    runs: dict[str, list[tuple[dict[str, Any], float]]] = {
        name: [] for name in variants
    }
    failed: dict[str, Exception] = {}
    for r in range(max(1, reps)):
        for name, fn in variants.items():
            if name in failed or r >= (reps_for or {}).get(name, reps):
                continue
            try:
                runs[name].append(fn())
            except ChildError as exc:
                failed[name] = exc
    out: dict[str, tuple[dict[str, Any], float] | Exception] = dict(failed)
    for name, got in runs.items():
        if name in failed or not got:
            continue
        got.sort(key=lambda g: float(g[0]["seconds"]))
        out[name] = (got[(len(got) - 1) // 2][0], max(g[1] for g in got))
    return out


def row(
    workload: str,
    variant: str,
    value: float,
    unit: str,
    baseline: str,
    baseline_value: float,
    peak_rss_mb: float | None,
    **extra: Any,
) -> dict[str, Any]:
    """One result row; ``ratio = value / baseline_value`` (both from the same run)."""
    ratio = value / baseline_value if baseline_value else float("nan")
    r: dict[str, Any] = {
        "workload": workload,
        "variant": variant,
        "value": round(value, 4),
        "unit": unit,
        "baseline": baseline,
        "baseline_value": round(baseline_value, 4),
        "ratio": float(f"{ratio:.5g}"),
        "peak_rss_mb": None if peak_rss_mb is None else round(peak_rss_mb, 1),
    }
    r.update(extra)
    return r


def durable_available() -> bool:
    """True once the durable repositories exist (``Flow.run(durable=True)`` works)."""
    # flowengine._repository._durable may exist half-written: ask for its entry point.
    try:
        from flowengine._repository._durable import open_durable_repositories  # noqa: F401
    except ImportError:
        return False
    return True


def scratch_dir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A temporary directory for generated inputs (never inside the repository).

    ``FLOWENGINE_BENCH_TMP`` picks the parent directory (default: the system temp dir).
    """
    return tempfile.TemporaryDirectory(
        prefix=f"fe-bench-{prefix}-", dir=os.environ.get("FLOWENGINE_BENCH_TMP")
    )


# -- context of a run ----------------------------------------------------------------
def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
    }
    with contextlib.suppress(OSError):
        info["load_avg_1m"] = round(os.getloadavg()[0], 2)
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def commit() -> str:
    """The checked-out commit (``+dirty`` when tracked files are modified)."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{sha}+dirty" if dirty else sha


# -- discovery -----------------------------------------------------------------------
def discover() -> list[str]:
    """Workload module names (``benchmarks/<name>.py``, not starting with ``_``)."""
    here = Path(__file__).resolve().parent
    names = [
        m.name
        for m in pkgutil.iter_modules([str(here)])
        if not m.name.startswith("_") and not m.ispkg and m.name not in NOT_WORKLOADS
    ]
    return sorted(names)


def _load(name: str) -> Callable[[bool], list[dict[str, Any]]] | None:
    module = importlib.import_module(f"benchmarks.{name}")
    fn = getattr(module, "run", None)
    return fn if callable(fn) else None


# -- output --------------------------------------------------------------------------
def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if v != v:  # NaN
            return "-"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def print_table(rows: Sequence[Mapping[str, Any]], file: Any = None) -> None:
    """A plain-text table of rows (also fine to paste into Markdown)."""
    out = file or sys.stdout
    cols = [
        "workload",
        "variant",
        "value",
        "unit",
        "baseline",
        "baseline_value",
        "ratio",
        "peak_rss_mb",
    ]
    head = [
        "workload",
        "variant",
        "value",
        "unit",
        "baseline",
        "baseline",
        "ratio",
        "RSS MB",
    ]
    cells = [[_fmt(r.get(c)) for c in cols] for r in rows]
    widths = [
        max(len(h), *(len(c[i]) for c in cells)) if cells else len(h)
        for i, h in enumerate(head)
    ]
    numeric = {2, 5, 6, 7}

    def line(values: Iterable[str]) -> str:
        parts = []
        for i, v in enumerate(values):
            parts.append(v.rjust(widths[i]) if i in numeric else v.ljust(widths[i]))
        return "| " + " | ".join(parts) + " |"

    print(line(head), file=out)
    print(
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if i in numeric else "-" * (w + 2)
            for i, w in enumerate(widths)
        )
        + "|",
        file=out,
    )
    for c in cells:
        print(line(c), file=out)
    for r in rows:
        if r.get("note"):
            print(f"  note ({r['workload']}/{r['variant']}): {r['note']}", file=out)
    out.flush()


def _check(rows: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(rows, list):
        raise TypeError(
            f"benchmarks.{name}.run() returned {type(rows).__name__}, not a list"
        )
    for r in rows:
        missing = [k for k in ROW_KEYS if k not in r]
        if missing:
            raise TypeError(f"benchmarks.{name}: a row lacks {missing}: {r}")
    return rows


def run_workloads(
    names: Sequence[str], quick: bool, log: Any = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Run each workload; (all rows, error messages). One failing workload does not stop
    the others."""
    log = log or sys.stderr
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    for name in names:
        print(f"== {name}{' (quick)' if quick else ''}", file=log, flush=True)
        start = time.monotonic()
        try:
            fn = _load(name)
            if fn is None:
                print(f"   skipped: benchmarks.{name} has no run()", file=log)
                continue
            got = _check(fn(quick), name)
        except Exception as exc:
            msg = f"{name}: {type(exc).__name__}: {exc}"
            errors.append(msg)
            print(f"   FAILED {msg}", file=log, flush=True)
            continue
        rows.extend(got)
        print(
            f"   {len(got)} row(s) in {time.monotonic() - start:.1f} s",
            file=log,
            flush=True,
        )
    return rows, errors


def document(rows: list[dict[str, Any]], errors: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON document of a run (DESIGN.md "Benchmark JSON")."""
    doc: dict[str, Any] = {"machine": machine(), "commit": commit(), "results": rows}
    doc["machine"]["date_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if errors:
        doc["machine"]["errors"] = list(errors)
    return doc


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks [--quick] [--only NAME]... [--json OUT] [--list]``."""
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    ap.add_argument(
        "--quick", action="store_true", help="small sizes, seconds per workload"
    )
    ap.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this workload (repeatable; comma-separated allowed)",
    )
    ap.add_argument("--json", metavar="OUT", help="write the results document here")
    ap.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = ap.parse_args(argv)
    names = discover()
    if args.list:
        print("\n".join(names))
        return 0
    if args.only:
        wanted = [n.strip().replace("-", "_") for o in args.only for n in o.split(",")]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            print(
                f"unknown workload(s): {', '.join(unknown)}; have: {', '.join(names)}",
                file=sys.stderr,
            )
            return 2
        names = wanted
    start = time.monotonic()
    rows, errors = run_workloads(names, args.quick)
    print()
    print_table(rows)
    print(
        f"\n{len(rows)} row(s) in {time.monotonic() - start:.1f} s; commit {commit()}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(document(rows, errors), indent=2) + "\n")
    if errors:
        print("errors:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 1
    return 0


def main_single(
    run: Callable[[bool], list[dict[str, Any]]], argv: Sequence[str] | None = None
) -> int:
    """``python -m benchmarks.<name> [--quick] [--json OUT]`` (one workload)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", metavar="OUT")
    args = ap.parse_args(argv)
    rows = run(args.quick)
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(document(rows), indent=2) + "\n")
    return 0
