"""Record batches held for later writing, in memory up to a limit, then in temp files.

The session writes one FlowFile's content at a time (``session.write(ff, callback)``),
so a processor producing several outputs from one pass (PartitionRecord, the invalid
records of ValidateRecord) keeps all but one of them here. Past ``memory_limit`` bytes,
batches go to Arrow IPC files in a temporary directory, so memory stays bounded whatever
the input size.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Hashable, Iterator
from typing import Any

import pyarrow as pa

__all__ = ["Spool"]


class Spool:
    """Batches grouped by key, spilled to disk past ``memory_limit`` bytes."""

    def __init__(self, memory_limit: int = 64 << 20) -> None:
        self._limit = memory_limit
        self._mem: dict[Hashable, list[pa.RecordBatch]] = {}
        self._rows: dict[Hashable, int] = {}
        self._files: dict[Hashable, tuple[str, Any, Any]] = {}
        self._bytes = 0
        self._dir: str | None = None

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def groups(self) -> list[Hashable]:
        """Keys in the order they were first added."""
        return list(self._rows)

    def rows(self, key: Hashable) -> int:
        return self._rows.get(key, 0)

    def add(self, key: Hashable, batch: pa.RecordBatch) -> None:
        self._rows[key] = self._rows.get(key, 0) + batch.num_rows
        spilled = self._files.get(key)
        if spilled is not None:
            spilled[2].write_batch(batch)
            return
        self._mem.setdefault(key, []).append(batch)
        self._bytes += batch.nbytes
        if self._bytes > self._limit:
            self._spill()

    def _spill(self) -> None:
        if self._dir is None:
            self._dir = tempfile.mkdtemp(prefix="flowengine-spool-")
        for key, batches in self._mem.items():
            if not batches:
                continue
            path = f"{self._dir}/{len(self._files)}.arrow"
            sink = pa.OSFile(path, "wb")
            writer = pa.ipc.new_stream(sink, batches[0].schema)
            for b in batches:
                writer.write_batch(b)
            self._files[key] = (path, sink, writer)
        self._mem = {}
        self._bytes = 0

    def batches(self, key: Hashable) -> Iterator[pa.RecordBatch]:
        """The batches of ``key`` in the order added (read back from disk if spilled)."""
        spilled = self._files.get(key)
        if spilled is None:
            yield from self._mem.get(key, [])
            return
        path, sink, writer = spilled
        writer.close()
        sink.close()
        with pa.memory_map(path) as source:
            reader = pa.ipc.open_stream(source)
            yield from reader

    def close(self) -> None:
        for _, sink, writer in self._files.values():
            try:
                writer.close()
                sink.close()
            except (OSError, pa.ArrowException):
                pass
        self._files = {}
        self._mem = {}
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
