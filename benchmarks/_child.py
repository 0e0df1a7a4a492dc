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


def main(argv: list[str]) -> int:
    target, raw_kwargs, out = argv
    module_name, _, fn_name = target.partition(":")
    fn = getattr(importlib.import_module(module_name), fn_name)
    result = fn(**json.loads(raw_kwargs))
    with open(out, "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
