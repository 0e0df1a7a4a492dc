"""A measured subprocess: ``python -m benchmarks._child MOD:FN KWARGS OUT``.

Imports ``MOD``, calls ``FN(**json.loads(KWARGS))`` and writes its JSON-able result
to ``OUT``. Kept free of flowengine imports so peers' virtual environments can use it
too (the repository root is on ``PYTHONPATH``; nothing else of ours is imported unless
the target does).
"""

from __future__ import annotations

import importlib
import json
import sys


def peak_rss_kb() -> int | None:
    """This process's own high-water RSS (``VmHWM``), None where /proc is missing.

    Not ``ru_maxrss`` as seen by the parent: Linux carries the pre-``exec`` memory of
    the forked child (a copy of the parent's) into it, so a large parent inflates it.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def main(argv: list[str]) -> int:
    target, raw_kwargs, out = argv
    module_name, _, fn_name = target.partition(":")
    fn = getattr(importlib.import_module(module_name), fn_name)
    result = fn(**json.loads(raw_kwargs))
    with open(out, "w") as f:
        json.dump({"result": result, "peak_rss_kb": peak_rss_kb()}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
