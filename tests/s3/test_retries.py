"""Throttling and 5xx replies are retried with backoff before a FlowFile fails.

A small HTTP proxy in front of the moto server answers the first N object requests with
``503 SlowDown`` (what S3 says when throttling) and forwards everything else."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flowengine.processors.aws import FetchS3Object

from flowengine.testing import TestRunner

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


class ThrottlingProxy:
    """Forwards to ``upstream``; the first ``throttle`` GETs of objects get a 503."""

    def __init__(self, upstream_port: int) -> None:
        self.throttle = 0
        self.throttled = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _relay(self) -> None:
                if self.command == "GET" and "/obj" in self.path and proxy.throttle > 0:
                    proxy.throttle -= 1
                    proxy.throttled += 1
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(SLOW_DOWN)))
                    self.end_headers()
                    self.wfile.write(SLOW_DOWN)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                conn = http.client.HTTPConnection(
                    "127.0.0.1", upstream_port, timeout=30
                )
                conn.request(
                    self.command, self.path, body=body, headers=dict(self.headers)
                )
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in (
                        "content-length",
                        "transfer-encoding",
                        "connection",
                    ):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(moto: Any) -> Iterator[ThrottlingProxy]:
    """A throttling proxy in front of the session's moto server."""
    p = ThrottlingProxy(moto.port)
    yield p
    p.close()


def _runner(
    proxy: ThrottlingProxy, moto: Any, bucket: str, attempts: int
) -> TestRunner:
    r = TestRunner(FetchS3Object)
    props = moto.service_properties(
        endpoint_override_url=proxy.endpoint, max_attempts=str(attempts)
    )
    r.add_service("aws", "AWSCredentialsProviderControllerService", props)
    r.set_property("aws_credentials_provider", "aws")
    r.set_property("bucket", bucket)
    return r


def test_throttled_requests_are_retried_then_succeed(
    proxy: ThrottlingProxy, moto: Any, s3: Any, bucket: str
) -> None:
    """Two 503 SlowDown replies, then success: the FlowFile succeeds (no failure)."""
    s3.put_object(Bucket=bucket, Key="obj1", Body=b"payload")
    proxy.throttle = 2
    r = _runner(proxy, moto, bucket, attempts=3)
    r.enqueue(b"", {"filename": "obj1"})
    r.run()
    r.assert_all_transferred("success", 1)
    r.flowfiles_for("success")[0].assert_content_equals(b"payload")
    assert proxy.throttled == 2


def test_throttling_beyond_the_attempts_fails_with_s3_attributes(
    proxy: ThrottlingProxy, moto: Any, s3: Any, bucket: str
) -> None:
    """Still throttled after every attempt: failure with SlowDown and status 503."""
    s3.put_object(Bucket=bucket, Key="obj2", Body=b"payload")
    proxy.throttle = 10
    r = _runner(proxy, moto, bucket, attempts=2)
    r.enqueue(b"", {"filename": "obj2"})
    r.run()
    r.assert_all_transferred("failure", 1)
    ff = r.flowfiles_for("failure")[0]
    ff.assert_attribute_equals("s3.errorCode", "SlowDown")
    ff.assert_attribute_equals("s3.statusCode", "503")
    assert proxy.throttled == 2
