"""An HTTP proxy on 127.0.0.1 in front of the moto server, for fault-injection tests.

It forwards every request to the server and its reply back, and records what passed
(method, path and query, body size). A test can

* **count** requests (e.g. which UploadPart part numbers a restarted run sent),
* **hold** a request: it is not forwarded, the proxy signals the test and waits until
  the client goes away (so a process can be killed with a part deterministically in
  flight, not yet on the server),
* **corrupt** a request body: a function gets the request and returns the body to send
  instead; Content-Length is fixed to match, so the server takes it as sent,
* **rewrite reply headers** (e.g. the ``Date``, to give the server another clock).

A real component, not a mock: the processors talk HTTP to it exactly as to S3 (the
endpoint URL is the proxy's), and moto answers. Bodies sent with
``Transfer-Encoding: chunked`` are de-chunked and forwarded with a Content-Length.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

__all__ = ["ProxyRequest", "S3Proxy"]

#: hop-by-hop headers (RFC 9110 7.6.1) and the framing the proxy recomputes
_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "content-length",
    }
)


@dataclass
class ProxyRequest:
    """One request as the proxy received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: dict[str, list[str]] = field(default_factory=dict)

    @property
    def part_number(self) -> int | None:
        """The part number of an UploadPart request, else None."""
        if self.method != "PUT" or "uploadId" not in self.query:
            return None
        n = self.query.get("partNumber")
        return int(n[0]) if n else None

    @property
    def is_put_object(self) -> bool:
        """A plain PutObject (no sub-resource such as ?tagging or ?uploadId)."""
        return (
            self.method == "PUT"
            and not self.query
            and "x-amz-copy-source" not in self.headers
            and self.path.count("/") >= 2  # /bucket/key (not CreateBucket's /bucket)
        )


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]
        # a client that went away (a cancelled part, a killed process) is no error


class S3Proxy:
    """A threaded forwarding proxy (see the module docstring); use as a context manager
    or call :meth:`stop`."""

    def __init__(
        self,
        upstream_port: int,
        *,
        corrupt: Callable[[ProxyRequest], bytes | None] | None = None,
        hold: Callable[[ProxyRequest], bool] | None = None,
        reply_headers: Callable[[str, str], str] | None = None,
    ) -> None:
        self.upstream_port = upstream_port
        self.corrupt = corrupt
        self.hold = hold
        self.reply_headers = reply_headers
        self.requests: list[ProxyRequest] = []
        self.held = threading.Event()  # set when a request is being held
        self.corrupted: list[ProxyRequest] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet

            def _body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    out = bytearray()
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            return bytes(out)
                        out += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _forward(self) -> None:
                body = self._body()
                url = urlsplit(self.path)
                req = ProxyRequest(
                    self.command,
                    url.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    parse_qs(url.query, keep_blank_values=True),
                )
                with proxy._lock:
                    proxy.requests.append(req)
                if proxy.hold is not None and proxy.hold(req):
                    proxy.held.set()
                    # never forwarded: wait for the test (or the client to vanish)
                    proxy._release.wait(60)
                    self.close_connection = True
                    return
                if proxy.corrupt is not None:
                    changed = proxy.corrupt(req)
                    if changed is not None:
                        body = changed
                        with proxy._lock:
                            proxy.corrupted.append(req)
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in _HOP
                }
                headers["Content-Length"] = str(len(body))
                conn = http.client.HTTPConnection(
                    "127.0.0.1", proxy.upstream_port, timeout=30
                )
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    self.send_response_only(resp.status, resp.reason)
                    for k, v in resp.getheaders():
                        if k.lower() not in _HOP:
                            if proxy.reply_headers is not None:
                                v = proxy.reply_headers(k, v)
                            self.send_header(k, v)
                    # a HEAD reply's Content-Length is the object's, not this body's
                    length = resp.getheader("Content-Length") or "0"
                    if self.command != "HEAD":
                        length = str(len(data))
                    self.send_header("Content-Length", length)
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def part_numbers(self) -> list[int]:
        """Part numbers of the UploadPart requests received, in order."""
        with self._lock:
            return [n for r in self.requests if (n := r.part_number) is not None]

    def release(self) -> None:
        """Stop holding: the held request is dropped (its client is gone or will time
        out); requests from now on are forwarded."""
        self.hold = None
        self._release.set()

    def reset(self) -> None:
        """Forget the requests recorded so far."""
        with self._lock:
            self.requests.clear()
            self.corrupted.clear()

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> S3Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
