"""Benchmark: content processors beside the library they call, in the same run.

Issue 14's targets: CompressContent gzip level 1 and zstd, and CryptographicHashContent
SHA-256, each at least 0.9x the library used directly, streaming. One file of
CSV-like text (1 GB; 32 MB with ``--quick``) is fetched into a durable flow
(GenerateFlowFile -> FetchFile -> the processor) and the processor's own trigger time
is the measured value; the baseline reads the same file in 1 MiB chunks through the
same library call (zlib at level 1, cramjam zstd at level 2 = NiFi level 1 x 2, hashlib
SHA-256) and writes the output to a file. Each side runs in a fresh process, so the
peak RSS of each is its own (flat in the size: both stream).
"""

from __future__ import annotations

import hashlib
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from benchmarks._harness import main_single, measure, median_of, row

CHUNK = 1 << 20
WORKLOADS = {
    "compress_gzip_1": ("CompressContent", {"compression_format": "gzip"}),
    "compress_zstd": ("CompressContent", {"compression_format": "zstd"}),
    "hash_sha256": ("CryptographicHashContent", {"hash_algorithm": "SHA-256"}),
}


def _make_file(path: Path, size_mb: int) -> None:
    block = b"".join(
        b"%d,customer-%05d,%d.%02d,eu-west,2024-01-%02d\n"
        % (i, i % 50_000, i % 997, i % 100, 1 + i % 28)
        for i in range(25_000)
    )
    with open(path, "wb") as f:
        written = 0
        while written < size_mb << 20:
            f.write(block)
            written += len(block)


def _flow_side(workload: str, size_mb: int) -> dict[str, Any]:
    """Child: time the processor on the file inside a durable flow."""
    import flowengine

    ptype, props = WORKLOADS[workload]
    with tempfile.TemporaryDirectory(prefix="fe-bench-bytes-") as tmp:
        src = Path(tmp) / "data.csv"
        _make_file(src, size_mb)
        f = flowengine.Flow("bytes")
        f.add_processor(
            "gen",
            "GenerateFlowFile",
            {"absolute.path": tmp, "filename": src.name},
            schedule={"max_triggers": 1},
        )
        f.add_processor(
            "fetch",
            "FetchFile",
            {},
            auto_terminate=["failure", "not.found", "permission.denied"],
        )
        f.add_processor(
            "work",
            ptype,
            {"mode": "compress", **props} if ptype == "CompressContent" else props,
            auto_terminate=["success", "failure"],
        )
        f.connect("gen", "fetch")
        f.connect("fetch", "work", ["success"])
        with f.run(
            durable=True, state_dir=str(Path(tmp) / "state"), provenance=False
        ) as res:
            assert res.drained, "the flow did not drain"
            work = res.counts["work"]
            assert work.relationship_counts.get("success") == 1, work
            return {"seconds": work.trigger_time_s, "bytes": src.stat().st_size}


def _library_side(workload: str, size_mb: int) -> dict[str, Any]:
    """Child: the same work with the library called directly, streamed."""
    import cramjam

    with tempfile.TemporaryDirectory(prefix="fe-bench-bytes-") as tmp:
        src = Path(tmp) / "data.csv"
        _make_file(src, size_mb)
        started = time.perf_counter()
        with open(src, "rb") as fin, open(Path(tmp) / "out", "wb") as fout:
            if workload == "hash_sha256":
                h = hashlib.sha256()
                while chunk := fin.read(CHUNK):
                    h.update(chunk)
                fout.write(h.hexdigest().encode())
            elif workload == "compress_gzip_1":
                z = zlib.compressobj(1, zlib.DEFLATED, 31)
                while chunk := fin.read(CHUNK):
                    fout.write(z.compress(chunk))
                fout.write(z.flush())
            else:
                c = cramjam.zstd.Compressor(level=2)
                while chunk := fin.read(CHUNK):
                    c.compress(chunk)
                    fout.write(bytes(c.flush()))
                fout.write(bytes(c.finish()))
        return {"seconds": time.perf_counter() - started, "bytes": src.stat().st_size}


def run(quick: bool) -> list[dict[str, Any]]:
    size_mb = 32 if quick else 1024
    reps = 1 if quick else 3
    rows: list[dict[str, Any]] = []
    for workload in WORKLOADS:
        args = {"workload": workload, "size_mb": size_mb}
        lib, lib_rss, _ = median_of(
            reps, lambda a=args: measure("benchmarks.bytes:_library_side", a)
        )
        ours, our_rss, _ = median_of(
            reps, lambda a=args: measure("benchmarks.bytes:_flow_side", a)
        )
        lib_rate = lib["bytes"] / 1e6 / lib["seconds"]
        our_rate = ours["bytes"] / 1e6 / ours["seconds"]
        rows.append(
            row(
                workload,
                "library direct",
                lib_rate,
                "MB/s",
                "library",
                lib_rate,
                lib_rss,
            )
        )
        rows.append(
            row(
                workload,
                "processor",
                our_rate,
                "MB/s",
                "library",
                lib_rate,
                our_rss,
                target="ratio >= 0.9",
                size_mb=size_mb,
            )
        )
    return rows


if __name__ == "__main__":
    raise SystemExit(main_single(run))
