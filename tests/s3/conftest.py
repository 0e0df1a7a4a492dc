"""A real S3-protocol server for the S3 tests: moto's server mode, as a subprocess.

The server runs as moto's ``moto.server`` main (through ``_moto_backdated.py``, which
lets a test create objects dated in the past, as real S3 does for multipart uploads) on
127.0.0.1 and a free port (a subprocess
does not compete for our GIL, so it is faster than the threaded server). Objects written
by the processors are verified with an independent boto3 client.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

ACCESS_KEY = "testing-access-key"
_LAUNCHER = Path(__file__).with_name("_moto_backdated.py")
SECRET_KEY = "testing-secret-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MotoServer:
    """A running moto server and how to reach it."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def boto3(self, key: str = ACCESS_KEY, secret: str = SECRET_KEY) -> Any:
        """An independent boto3 client (not the engine's aiobotocore one)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 1}),
        )

    def service_properties(self, **extra: str) -> dict[str, str]:
        """Properties of an AWSCredentialsProviderControllerService for this server."""
        props = {
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
            "endpoint_override_url": self.endpoint,
            "use_path_style_access": "true",
            "max_attempts": "2",
        }
        props.update(extra)
        return props

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def start_moto(env: dict[str, str] | None = None, *, stock: bool = False) -> MotoServer:
    """Start a moto server subprocess and wait until it answers.

    ``stock``: moto's own server, unpatched (its multipart ``Initiated`` is a fixed
    2010 date, as it was when the age-off aborted a resumable upload)."""
    port = free_port()
    penv = dict(os.environ, AWS_DEFAULT_REGION="us-east-1", **(env or {}))
    main = ["-m", "moto.server"] if stock else [str(_LAUNCHER)]
    proc = subprocess.Popen(
        [sys.executable, *main, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        # FLOWENGINE_MOTO_LOG=1 shows the server's log (tracebacks of its 500s)
        stderr=None if os.environ.get("FLOWENGINE_MOTO_LOG") else subprocess.DEVNULL,
        env=penv,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return MotoServer(proc, port)
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("moto server exited during start") from None
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("moto server did not start within 30 s")


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    """One moto server for the whole S3 test session."""
    server = start_moto()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_factory() -> Any:
    """``moto_factory()`` starts a dedicated server (the test stops it)."""
    return start_moto


@pytest.fixture
def s3(moto: MotoServer) -> Any:
    """The independent boto3 client."""
    return moto.boto3()


@pytest.fixture
def bucket(s3: Any) -> str:
    """A fresh, empty bucket for one test."""
    name = f"b-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def runner_for(moto: MotoServer) -> Any:
    """``runner_for(ProcessorClass, **properties)``: a TestRunner wired to the server."""
    from flowengine.testing import TestRunner

    def make(cls: Any, **props: Any) -> TestRunner:
        r = TestRunner(cls)
        r.add_service(
            "aws", "AWSCredentialsProviderControllerService", moto.service_properties()
        )
        r.set_property("aws_credentials_provider", "aws")
        for k, v in props.items():
            r.set_property(k, v)
        return r

    return make
