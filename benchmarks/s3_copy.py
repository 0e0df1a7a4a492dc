"""Workload s3_copy: copy objects within a bucket on a local S3 server (moto).

* ``small-objects``: 10,000 x 10 KB objects (quick: 200) through ListS3 → FetchS3Object
  → PutS3Object, against a hand-written s3fs async copy (list, then ``_cat_file`` +
  ``_pipe_file`` per object) with the same number of requests in flight. objects/s.
  A second row compares the same flow with a copy written directly on the aiobotocore
  client (GetObject + PutObject), which skips s3fs's per-call layers.
* ``large-object``: one 1 GB object (quick: 16 MB) through the same flow (multipart
  upload, durable repositories when available so content is on disk), against s3fs
  alone (``_get_file`` to a local file, then ``_put_file``, s3fs's own multipart). MB/s.

Both sides run in fresh interpreters (their own peak RSS) against the same moto server
started here, in the same run, interleaved (baseline, flowengine, baseline, ...; medians
of 2 runs each, 1 with --quick); each copy is checked (count, sizes) before its time
counts. moto is CPU-bound on this 2-core machine, so absolute numbers mostly measure the
server; the ratio is what compares the engine with the hand-written client.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from typing import Any

from benchmarks import _harness as h

WORKLOAD = "s3_copy"
MODULE = (
    "benchmarks.s3_copy"  # the children import it by name, even when run as __main__
)
#: requests in flight on both sides (flowengine: Fetch and Put each get half)
CONCURRENCY = 16
SMALL = 10 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = dict(os.environ, AWS_DEFAULT_REGION="us-east-1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("moto server did not start")


def _fs(endpoint: str, **kw: Any) -> Any:
    import s3fs

    return s3fs.S3FileSystem(
        key="bench",
        secret="bench",
        endpoint_url=endpoint,
        skip_instance_cache=True,
        config_kwargs={"s3": {"addressing_style": "path"}, "max_pool_connections": 64},
        **kw,
    )


async def _populate(endpoint: str, bucket: str, n: int, size: int) -> None:
    fs = _fs(endpoint, asynchronous=True)
    await fs.set_session()
    await fs._mkdir(bucket)
    sem = asyncio.Semaphore(32)
    body = os.urandom(size) if size <= (64 << 20) else None

    async def one(i: int) -> None:
        async with sem:
            await fs._pipe_file(
                f"{bucket}/src/o{i:06d}", body if body is not None else b""
            )

    if body is not None:
        await asyncio.gather(*(one(i) for i in range(n)))
    else:  # one large object, written from a temporary file in parts by s3fs
        with h.scratch_dir("s3-populate") as tmp:
            path = os.path.join(tmp, "big")
            with open(path, "wb") as f:  # noqa: ASYNC230 - setup, not measured
                for _ in range(size >> 20):
                    f.write(os.urandom(1 << 20))
            await fs._put_file(path, f"{bucket}/src/o000000")
    await fs._s3.close()


async def _check(endpoint: str, bucket: str, prefix: str, n: int, size: int) -> None:
    fs = _fs(endpoint, asynchronous=True)
    await fs.set_session()
    found = await fs._find(f"{bucket}/{prefix}", detail=True)
    await fs._s3.close()
    sizes = [int(v["size"]) for v in found.values()]
    if len(sizes) != n or any(s != size for s in sizes):
        raise RuntimeError(
            f"{prefix}: {len(sizes)} objects copied (expected {n} of {size} B)"
        )


# -- measured in subprocesses ----------------------------------------------------------
def baseline_variant(
    endpoint: str, bucket: str, dest: str, concurrency: int, large: bool
) -> dict[str, Any]:
    """Hand-written s3fs async copy: list, then copy each object with a semaphore."""
    import tempfile

    async def go() -> int:
        fs = _fs(endpoint, asynchronous=True)
        await fs.set_session()
        keys = sorted(await fs._find(f"{bucket}/src/"))
        sem = asyncio.Semaphore(concurrency)

        async def copy(key: str) -> None:
            target = f"{bucket}/{dest}{key.split('/src/', 1)[1]}"
            async with sem:
                if large:
                    with tempfile.TemporaryDirectory() as tmp:
                        local = os.path.join(tmp, "obj")
                        await fs._get_file(key, local)
                        await fs._put_file(local, target)
                else:
                    await fs._pipe_file(target, await fs._cat_file(key))

        await asyncio.gather(*(copy(k) for k in keys))
        await fs._s3.close()
        return len(keys)

    start = time.perf_counter()
    n = asyncio.run(go())
    return {"seconds": time.perf_counter() - start, "count": n}


def client_variant(
    endpoint: str, bucket: str, dest: str, concurrency: int, large: bool
) -> dict[str, Any]:
    """Hand-written aiobotocore copy (what the processors use underneath): list with the
    paginator, then GetObject + PutObject per object with a semaphore."""

    async def go() -> int:
        fs = _fs(endpoint, asynchronous=True)
        client = await fs.set_session()
        keys: list[str] = []
        async for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix="src/"
        ):
            keys += [o["Key"] for o in page.get("Contents") or []]
        sem = asyncio.Semaphore(concurrency)

        async def copy(key: str) -> None:
            async with sem:
                r = await client.get_object(Bucket=bucket, Key=key)
                async with r["Body"] as body:
                    data = await body.read()
                target = f"{dest}{key.split('src/', 1)[1]}"
                await client.put_object(Bucket=bucket, Key=target, Body=data)

        await asyncio.gather(*(copy(k) for k in keys))
        await client.close()
        return len(keys)

    start = time.perf_counter()
    n = asyncio.run(go())
    return {"seconds": time.perf_counter() - start, "count": n}


def flowengine_variant(
    endpoint: str,
    bucket: str,
    dest: str,
    concurrency: int,
    large: bool,
    state_dir: str | None = None,
) -> dict[str, Any]:
    """ListS3 → FetchS3Object → PutS3Object, run until drained."""
    import flowengine

    half = str(max(1, concurrency // 2))
    flow = flowengine.Flow(WORKLOAD)
    flow.add_service(
        "aws",
        "AWSCredentialsProviderControllerService",
        {
            "access_key_id": "bench",
            "secret_access_key": "bench",
            "endpoint_override_url": endpoint,
            "use_path_style_access": "true",
        },
    )
    common = {"aws_credentials_provider": "aws"}
    flow.add_processor(
        "list",
        "ListS3",
        {
            **common,
            "bucket": bucket,
            "prefix": "src/",
            "listing_lag": "0 sec",
            "listing_batch_size": "500",
        },
    )
    flow.add_processor(
        "fetch",
        "FetchS3Object",
        {**common, "concurrent_requests": half},
        schedule={"batch_size": 500},
        auto_terminate=["failure"],
    )
    flow.add_processor(
        "put",
        "PutS3Object",
        {
            **common,
            "object_key": f"{dest}${{filename:substringAfter('src/')}}",
            "concurrent_requests": half,
            "multipart_part_size": "16 MB",
            "multipart_concurrency": "4",
        },
        schedule={"batch_size": 500},
        auto_terminate=["success", "failure"],
    )
    flow.connect("list", "fetch")
    flow.connect("fetch", "put", ["success"])
    start = time.perf_counter()
    result = flow.run(
        until_drained=True,
        timeout=3600,
        provenance=False,
        durable=state_dir is not None,
        state_dir=state_dir,
    )
    seconds = time.perf_counter() - start
    if not result.ok:
        raise RuntimeError(f"flow failed: {result.failures}")
    return {"seconds": seconds, "count": result.status.processor("put").flowfiles_in}


# -- the workload -----------------------------------------------------------------------
def _pair(
    kw: dict[str, Any], reps: int, n: int, size: int, state_root: str | None
) -> dict[str, tuple[dict[str, Any], float]]:
    """Baseline and flowengine, interleaved ``reps`` times (load on a shared machine
    drifts; interleaving spreads it over both); medians of seconds, max RSS."""
    sides = ("base", "fe", "client") if not kw["large"] else ("base", "fe")
    runs: dict[str, list[tuple[dict[str, Any], float]]] = {s: [] for s in sides}
    for rep in range(reps):
        for side in sides:
            dest = f"{side}{rep}/"
            args = {**kw, "dest": dest}
            if side == "fe" and state_root is not None:
                args["state_dir"] = os.path.join(state_root, f"state{rep}")
            fn = {"base": "baseline_variant", "fe": "flowengine_variant"}.get(
                side, "client_variant"
            )
            runs[side].append(h.measure(f"{MODULE}:{fn}", args))
            asyncio.run(_check(kw["endpoint"], kw["bucket"], dest, n, size))
    out: dict[str, tuple[dict[str, Any], float]] = {}
    for side in sides:
        ordered = sorted(runs[side], key=lambda r: float(r[0]["seconds"]))
        out[side] = (ordered[(len(ordered) - 1) // 2][0], max(r[1] for r in ordered))
    return out


def run(quick: bool) -> list[dict[str, Any]]:
    n = 200 if quick else 10_000
    big = (16 if quick else 1024) << 20
    reps = 1 if quick else 2
    proc, endpoint = _start_moto()
    rows: list[dict[str, Any]] = []
    try:
        asyncio.run(_populate(endpoint, "small", n, SMALL))
        asyncio.run(_populate(endpoint, "large", 1, big))
        kw: dict[str, Any] = {
            "endpoint": endpoint,
            "bucket": "small",
            "concurrency": CONCURRENCY,
            "large": False,
        }
        got = _pair(kw, reps, n, SMALL, None)
        (base, base_rss), (fe, fe_rss), (cl, cl_rss) = (
            got["base"],
            got["fe"],
            got["client"],
        )
        rows.append(
            h.row(
                WORKLOAD,
                f"small-objects ({n} x 10 KB, {CONCURRENCY} in flight)",
                fe["count"] / fe["seconds"],
                "objects/s",
                "s3fs async copy",
                base["count"] / base["seconds"],
                fe_rss,
                baseline_rss_mb=base_rss,
                reps=reps,
            )
        )
        rows.append(
            h.row(
                WORKLOAD,
                f"small-objects ({n} x 10 KB, {CONCURRENCY} in flight)",
                fe["count"] / fe["seconds"],
                "objects/s",
                "aiobotocore client copy",
                cl["count"] / cl["seconds"],
                fe_rss,
                baseline_rss_mb=cl_rss,
                reps=reps,
            )
        )
        kw = {"endpoint": endpoint, "bucket": "large", "concurrency": 1, "large": True}
        with h.scratch_dir(WORKLOAD) as tmp:
            durable = h.durable_available()
            got = _pair(kw, reps, 1, big, tmp if durable else None)
        (base, base_rss), (fe, fe_rss) = got["base"], got["fe"]
        mb = big / (1 << 20)
        rows.append(
            h.row(
                WORKLOAD,
                f"large-object ({mb:.0f} MB, {'durable' if durable else 'in-memory'})",
                mb / fe["seconds"],
                "MB/s",
                "s3fs _get_file + _put_file",
                mb / base["seconds"],
                fe_rss,
                baseline_rss_mb=base_rss,
                reps=reps,
            )
        )
    finally:
        proc.kill()
        proc.wait(10)
    return rows


if __name__ == "__main__":
    sys.exit(h.main_single(run))
