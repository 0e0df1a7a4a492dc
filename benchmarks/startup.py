"""Workload 4, startup: how long a user waits for the CLI.

Wall time (and peak RSS) of real subprocesses, as a user runs them:
``flowengine --help``, ``flowengine validate flows/hello.yaml`` and
``flowengine run flows/hello.yaml --until-drained`` (durable, the default, and
``--in-memory``), each from a fresh temporary working directory (hello writes
``./out``).
Baseline: ``python -c pass``, the interpreter's own start-up, measured in the same run;
the ratio says how many interpreter start-ups each command costs.

Targets: ``--help`` < 0.3 s; hello end to end < 1 s.
"""

from __future__ import annotations

import shutil
import statistics
import sys
from pathlib import Path
from typing import Any

from benchmarks import _harness as h

WORKLOAD = "startup"
HELLO = h.REPO / "flows" / "hello.yaml"
REPS_FULL = 7
REPS_QUICK = 2


def _flowengine_cmd() -> list[str] | None:
    """The console script next to this interpreter (not a pyenv/asdf shim, which adds
    its own start-up), else ``python -m flowengine``; None when the CLI is missing."""
    try:
        import flowengine._cli._cli  # noqa: F401
    except ImportError:
        return None
    script = Path(sys.executable).parent / "flowengine"
    if script.exists():
        return [str(script)]
    found = shutil.which("flowengine")
    return [found] if found else [sys.executable, "-m", "flowengine"]


def _median_command(
    cmd: list[str], reps: int, fresh_cwd: bool
) -> tuple[float, float, int, str]:
    """Median wall seconds over ``reps`` runs, max RSS, last exit code and stderr."""
    times: list[float] = []
    rss = 0.0
    code, err = 0, ""
    for _ in range(reps):
        with h.scratch_dir(WORKLOAD) as tmp:
            cwd = tmp if fresh_cwd else str(h.REPO)
            seconds, peak, code, err = h.run_command(cmd, cwd=cwd, timeout=120)
            if code not in (0, 3):
                break
            times.append(seconds)
            rss = max(rss, peak)
    return (statistics.median(times) if times else float("nan")), rss, code, err


def _reason(stderr: str) -> str:
    """The most telling line of a failed command's stderr."""
    lines = [ln.strip(" |+-") for ln in stderr.splitlines() if ln.strip(" |+-")]
    errors = [ln for ln in lines if "Error" in ln or "error" in ln]
    return ((errors or lines or [""])[-1])[:200]


def run(quick: bool) -> list[dict[str, Any]]:
    """Rows of seconds per command, ratio to ``python -c pass``."""
    reps = REPS_QUICK if quick else REPS_FULL
    base, base_rss, _, _ = _median_command([sys.executable, "-c", "pass"], reps, False)
    rows = [
        h.row(
            WORKLOAD,
            "baseline: python -c pass",
            base,
            "s",
            "python -c pass",
            base,
            base_rss,
        )
    ]
    cli = _flowengine_cmd()
    if cli is None:
        print(
            "   skipped: CLI not available (flowengine._cli._cli is missing)",
            file=sys.stderr,
        )
        return rows
    commands: list[tuple[str, list[str], bool]] = [
        ("flowengine --help", ["--help"], False)
    ]
    if HELLO.exists():
        hello = str(HELLO)
        commands += [
            ("validate hello.yaml", ["validate", hello], False),
            ("run hello.yaml --until-drained", ["run", hello, "--until-drained"], True),
            (
                "run hello.yaml --until-drained --in-memory",
                ["run", hello, "--until-drained", "--in-memory"],
                True,
            ),
        ]
    else:
        print(f"   hello flow skipped: {HELLO} does not exist yet", file=sys.stderr)
    for name, args, fresh in commands:
        seconds, rss, code, err = _median_command([*cli, *args], reps, fresh)
        if seconds != seconds:  # NaN: the command failed
            print(f"   {name}: skipped (exit {code}: {_reason(err)})", file=sys.stderr)
            continue
        rows.append(h.row(WORKLOAD, name, seconds, "s", "python -c pass", base, rss))
    return rows


if __name__ == "__main__":
    sys.exit(h.main_single(run))
