"""Benchmark: DetectDuplicate beside a floor doing the same cache work directly.

1,000,000 unique ids (20,000 with ``--quick``) in batches of 1,000 (GenerateFlowFile ->
DetectDuplicate keyed on ``${uuid}``). The measured value is DetectDuplicate's own
trigger time, as ids per second.

* embedded: the EmbeddedDistributedMapCacheService persisted in a directory, against a
  Python ``set`` that pays the same persistence cost (one SQLite transaction per batch
  of 1,000 inserting the new ids into the same table layout, WAL, synchronous=NORMAL);
* redis: the RedisDistributedMapCacheClientService against redis-py called directly
  with pipelined ``SET id value NX GET``, 1,000 per pipeline. Needs ``redis-server``
  (a private one on a free port is started); without it the rows are left out.
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks._harness import main_single, measure, row

BATCH = 1000


def _flow_side(count: int, kind: str, port: int = 0) -> dict[str, Any]:
    """Child: DetectDuplicate over ``count`` unique ids in a flow."""
    import flowengine

    with tempfile.TemporaryDirectory(prefix="fe-bench-dedupe-") as tmp:
        f = flowengine.Flow("dedupe")
        if kind == "embedded":
            f.add_service(
                "cache",
                "EmbeddedDistributedMapCacheService",
                {
                    "persistence_directory": str(Path(tmp) / "cache"),
                    "maximum_cache_entries": str(count * 2),
                },
            )
        else:
            f.add_service(
                "pool",
                "RedisConnectionPoolService",
                {"connection_string": f"127.0.0.1:{port}"},
            )
            f.add_service(
                "cache",
                "RedisDistributedMapCacheClientService",
                {"redis_connection_pool": "pool"},
            )
        f.add_processor(
            "gen",
            "GenerateFlowFile",
            {"batch_size": BATCH},
            schedule={"period": "0 sec", "max_triggers": count // BATCH},
        )
        f.add_processor(
            "dedupe",
            "DetectDuplicate",
            {"distributed_cache_service": "cache", "cache_entry_identifier": "${uuid}"},
            auto_terminate=["duplicate", "non-duplicate", "failure"],
            schedule={"batch_size": BATCH},
        )
        f.connect("gen", "dedupe")
        with f.run(provenance=False, timeout=3600) as res:
            assert res.drained, "the flow did not drain"
            c = res.counts["dedupe"]
            assert c.relationship_counts.get("non-duplicate") == count, c
            return {"seconds": c.trigger_time_s, "count": count}


def _floor_side(count: int, kind: str, port: int = 0) -> dict[str, Any]:
    """Child: the same ids through a set + SQLite, or redis-py pipelines."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    value = '[0,""]'
    with tempfile.TemporaryDirectory(prefix="fe-bench-dedupe-") as tmp:
        started = time.perf_counter()
        fresh = 0
        if kind == "embedded":
            db = sqlite3.connect(str(Path(tmp) / "floor.sqlite"), isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE cache (key TEXT PRIMARY KEY, value TEXT, revision INTEGER,"
                " seq INTEGER)"
            )
            seen: set[str] = set()
            seq = 0
            for i in range(0, count, BATCH):
                db.execute("BEGIN")
                rows = []
                for key in ids[i : i + BATCH]:
                    if key not in seen:
                        seen.add(key)
                        seq += 1
                        rows.append((key, value, 1, seq))
                db.executemany("INSERT INTO cache VALUES (?, ?, ?, ?)", rows)
                db.execute("COMMIT")
                fresh += len(rows)
            db.close()
        else:
            import redis

            client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
            for i in range(0, count, BATCH):
                pipe = client.pipeline(transaction=False)
                for key in ids[i : i + BATCH]:
                    pipe.set(key, value, nx=True, get=True)
                fresh += sum(r is None for r in pipe.execute())
            client.close()
        seconds = time.perf_counter() - started
    assert fresh == count
    return {"seconds": seconds, "count": count}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _redis_server(port: int, directory: str) -> subprocess.Popen[bytes] | None:
    exe = shutil.which("redis-server")
    if exe is None:
        return None
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", directory],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    return None


def run(quick: bool) -> list[dict[str, Any]]:
    count = 20_000 if quick else 1_000_000
    rows: list[dict[str, Any]] = []

    def pair(kind: str, floor_name: str, port: int = 0) -> None:
        args = {"count": count, "kind": kind, "port": port}
        floor, floor_rss = measure("benchmarks.detect_duplicate:_floor_side", args)
        ours, our_rss = measure("benchmarks.detect_duplicate:_flow_side", args)
        floor_rate = count / floor["seconds"]
        rows.append(row(f"dedupe_{kind}", floor_name, floor_rate, "ids/s", floor_name, floor_rate, floor_rss))  # fmt: skip
        rows.append(row(f"dedupe_{kind}", "DetectDuplicate", count / ours["seconds"], "ids/s", floor_name, floor_rate, our_rss, ids=count))  # fmt: skip

    pair("embedded", "set + same SQLite writes")
    with tempfile.TemporaryDirectory(prefix="fe-bench-redis-") as tmp:
        port = _free_port()
        server = _redis_server(port, tmp)
        if server is not None:
            try:
                pair("redis", "redis-py pipelined SET NX GET", port)
            finally:
                server.kill()
                server.wait()
    return rows


if __name__ == "__main__":
    raise SystemExit(main_single(run))
