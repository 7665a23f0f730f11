"""Real HTTP servers on 127.0.0.1 for the ``--online`` tests: no mock of httpx, no internet.

A :class:`Recorded` server answers from a list of exchanges shaped like GitHub's or PyPI's
documented answers: each names a path (with its query, or ``path*`` for any query), the
status, headers and a JSON (``json``) or raw (``body``) body; ``times`` limits how often it
answers (then the next exchange for that path answers: 500 then 200), ``delay`` sleeps
before answering (timeouts), ``size`` sends that many bytes. Every request is recorded with
its headers; a request no exchange matches is answered 599 and listed in ``unmatched``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    path: str
    headers: dict[str, str]


@dataclass
class Recorded:
    exchanges: list[dict[str, Any]]
    requests: list[Request] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    url: str = ""
    _used: dict[int, int] = field(default_factory=dict)

    def answer(self, path: str) -> dict[str, Any] | None:
        bare = path.split("?", 1)[0]
        for number, exchange in enumerate(self.exchanges):
            want = str(exchange["path"])
            hit = want == path or (want.endswith("*") and bare == want[:-1]) or (
                "?" not in want and not want.endswith("*") and want == bare)
            if not hit:
                continue
            times = exchange.get("times")
            if times is not None and self._used.get(number, 0) >= int(times):
                continue
            self._used[number] = self._used.get(number, 0) + 1
            return exchange
        return None

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


def _handler(server: Recorded) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            server.requests.append(Request(self.path, {k.lower(): v for k, v in
                                                       self.headers.items()}))
            exchange = server.answer(self.path)
            if exchange is None:
                server.unmatched.append(self.path)
                exchange = {"status": 599, "json": {"message": "no exchange recorded"}}
            if exchange.get("delay"):
                time.sleep(float(exchange["delay"]))
            headers = {str(k): str(v).replace("{url}", server.url)
                       for k, v in (exchange.get("headers") or {}).items()}
            status = int(exchange.get("status", 200))
            etag = headers.get("ETag") or headers.get("etag")
            if etag and self.headers.get("If-None-Match") == etag:
                status, body = 304, b""
            elif "size" in exchange:
                body = b"[" + b" " * int(exchange["size"]) + b"]"
            elif "body" in exchange:
                body = str(exchange["body"]).encode()
            elif "json" in exchange:
                body = json.dumps(exchange["json"]).replace("{url}", server.url).encode()
                headers.setdefault("Content-Type", "application/json; charset=utf-8")
            else:
                body = b""
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if exchange.get("omit_length"):
                self.send_header("Connection", "close")
            else:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

    return Handler


@contextmanager
def serve(exchanges: list[dict[str, Any]]) -> Iterator[Recorded]:
    recorded = Recorded(list(exchanges))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorded))
    httpd.daemon_threads = True
    recorded.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield recorded
    finally:
        httpd.shutdown()
        httpd.server_close()
