"""streamz: the smallest equivalent program (runs in the streamz environment)."""

from __future__ import annotations

import time
from typing import Any

from benchmarks.peers import _messages as m


def run(n: int, out: str, mode: str, source: str | None = None) -> dict[str, Any]:
    from streamz import Stream

    start = time.perf_counter()
    src = Stream()
    with open(out, "w", buffering=1 << 20) as f:
        write = f.write
        if mode == "records":
            src.map(m.record_map).filter(m.record_keep).sink(lambda s: write(s + "\n"))
            assert source is not None
            with open(source) as inp:
                for line in inp:
                    src.emit(line.rstrip("\n"))
        else:
            src.map(m.flowfile_map).filter(m.flowfile_keep).map(
                m.flowfile_content
            ).sink(lambda s: write(s + "\n"))
            for msg in m.flowfile_messages(n):
                src.emit(msg)
    return m.result(time.perf_counter() - start, out)
