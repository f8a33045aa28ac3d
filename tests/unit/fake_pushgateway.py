"""An in-process stand-in for a Prometheus Pushgateway on 127.0.0.1: it records every push (method, path,
body parsed as the text format) and answers 200, or the status a test sets. The real Pushgateway is
tested in tests/integration/test_metrics_prometheus.py."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from prometheus_client.parser import text_string_to_metric_families


@dataclass
class Push:
    method: str
    path: str
    series: dict[tuple[str, tuple[tuple[str, str], ...]], float]  # (name, sorted labels) -> value

    def value(self, name: str, **labels: str) -> float:
        return self.series[(name, tuple(sorted(labels.items())))]


@dataclass
class FakePushgateway:
    status: int = 200  # what every push is answered with
    pushes: list[Push] = field(default_factory=list)

    def __post_init__(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                series = {
                    (s.name, tuple(sorted(s.labels.items()))): s.value
                    for family in text_string_to_metric_families(body)
                    for s in family.samples
                }
                gateway.pushes.append(Push(self.command, self.path, series))
                self.send_response(gateway.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_PUT = do_POST = _record

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakePushgateway:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def push_to(self, path: str) -> Push:
        (push,) = [p for p in self.pushes if p.path == path]
        return push
