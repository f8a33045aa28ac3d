"""An in-process fake registry for unit tests: no Docker, no network, 127.0.0.1 only.

It speaks enough of the distribution API for baseimages' client: manifests GET/HEAD/PUT by tag and
digest, blobs HEAD/GET, uploads POST (with `?mount=&from=`) and PUT `?digest=`, bearer tokens. It
stores what it receives, checks what a real registry checks (digests, referenced blobs), records
every request, and can answer garbage or fail on purpose (`fault`, see fake_faults.py).

    with FakeRegistry() as registry:                     # or the `fake_registry` fixture (conftest.py)
        registry.preload("team/tiny", make_image(), tag="1.0.0")
        registry.fault("html")                             # every manifest/blob read answers an HTML page
        ...
        assert registry.manifest_puts() == []

`make_image()` (fake_image.py) builds a small two-platform image; `image.write_archive(path)` writes it
as `docker image save` does. Both modules' names are importable from here too.
"""

from __future__ import annotations

import base64
import re
import socket
import ssl
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fake_faults import GARBAGE_MODES, READS, TRANSIENT_MODES, Fault, answer_fault, check_mode
from fake_image import INDEX_TYPE, MANIFEST_TYPE, FakeImage, canonical_json, make_image, sha256
from fake_store import RegistryStore

from baseimages.core.reference import Reference, parse_reference

TLS_CERT = Path(__file__).parent / "data" / "fake_registry_cert.pem"  # self-signed for 127.0.0.1: its own CA
TLS_KEY = Path(__file__).parent / "data" / "fake_registry_key.pem"

__all__ = [
    "GARBAGE_MODES",
    "INDEX_TYPE",
    "MANIFEST_TYPE",
    "TLS_CERT",
    "TLS_KEY",
    "TRANSIENT_MODES",
    "FakeImage",
    "FakeRegistry",
    "Fault",
    "Recorded",
    "RegistryStore",
    "make_image",
    "sha256",
]


@dataclass
class Recorded:
    """One request the fake registry received (recorded before it answers), and the status it answered
    (0: none yet, or none at all: the connection was cut)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: bytes
    status: int = 0

    @property
    def kind(self) -> str:
        """manifest, blob, upload, token or other."""
        if self.path == "/token":
            return "token"
        if "/blobs/uploads/" in self.path:
            return "upload"
        return next((k for k in ("manifest", "blob") if f"/{k}s/" in self.path), "other")

    @property
    def reference(self) -> str:
        """The tag or digest of a manifest request; the digest of a blob request."""
        return self.path.rsplit("/", 1)[-1]


@dataclass
class FakeRegistry(RegistryStore):
    """A registry on 127.0.0.1:<free port>; with TLS, it presents tests/unit/data's self-signed certificate.
    What it stores, and how it answers the distribution API, is RegistryStore's (fake_store.py)."""

    tls: bool = False
    requests: list[Recorded] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    tokens_issued: list[str] = field(default_factory=list)  # the scope of each token request
    latency: float = 0.0  # seconds each request takes before it is answered (to see requests overlap)
    in_flight: int = 0  # requests being served now
    max_in_flight: int = 0  # the most requests served at once so far
    _token_login: tuple[str, str] | None = None
    _tokens: set[str] | None = None  # None: no token needed
    _server: ThreadingHTTPServer | None = None

    # ---------------------------------------------------------------- life

    def start(self) -> FakeRegistry:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.registry = self  # type: ignore[attr-defined]
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(TLS_CERT, TLS_KEY)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, args=(0.01,), name="fake-registry", daemon=True).start()
        self._server = server
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeRegistry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def address(self) -> str:
        """host:port, what `--registry` takes."""
        assert self._server is not None, "start() the registry first"
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.address}"

    def ref(self, text: str) -> Reference:
        """`team/tiny:1.0.0` on this registry, as the client takes it (https:// in the domain with TLS)."""
        ref = parse_reference(f"{self.address}/{text}")
        return replace(ref, domain=self.url) if self.tls else ref

    # ---------------------------------------------------------------- faults, auth, records

    def fault(
        self, mode: str, *, times: int | None = None, methods: Iterable[str] = ("GET", "HEAD"), path: str = READS
    ) -> Fault:
        """Answer MODE (GARBAGE_MODES, TRANSIENT_MODES or a status such as "404") to the next TIMES requests
        (None: all) whose method is in METHODS and whose path matches the regex PATH. Faults added first
        are used first; a used-up fault steps aside."""
        check_mode(mode)
        fault = Fault(mode, times, tuple(methods), path)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def require_token(self, username: str | None = None, password: str | None = None) -> None:
        """Answer 401 with a Bearer challenge (realm <url>/token) to /v2/ requests without a token it issued.
        With USERNAME and PASSWORD, the token service wants that Basic login."""
        self._tokens = set()
        self._token_login = (username, password) if username is not None and password is not None else None

    def manifest_puts(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "PUT" and r.kind == "manifest"]

    def tag_puts(self) -> list[Recorded]:
        """Manifest PUTs by tag (not by digest): the requests that move a tag."""
        return [r for r in self.manifest_puts() if ":" not in r.reference]

    def count(self, method: str | None = None, kind: str | None = None) -> int:
        return sum(1 for r in self.requests if method in (None, r.method) and kind in (None, r.kind))

    # ---------------------------------------------------------------- serving

    def _take_fault(self, method: str, path: str) -> str | None:
        with self._lock:
            for fault in self.faults:
                if method in fault.methods and re.search(fault.path, path) and fault.times != 0:
                    fault.hits += 1
                    if fault.times is not None:
                        fault.times -= 1
                    return fault.mode
        return None

    def _serve(self, handler: _Handler) -> None:
        """Serve one request; it counts as in flight from its arrival until its answer starts (the
        client may send its next request as soon as it has the answer, before this thread ends)."""
        answered = threading.Event()

        def leave() -> None:
            with self._lock:
                if not answered.is_set():
                    answered.set()
                    self.in_flight -= 1

        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            self._serve_one(handler, leave)
        finally:
            leave()

    def _serve_one(self, handler: _Handler, leave: Callable[[], None]) -> None:
        method = handler.command
        split = urlsplit(handler.path)
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        query = dict(parse_qsl(split.query))
        record = Recorded(method, split.path, query, headers, body)
        with self._lock:
            self.requests.append(record)
        answer = _Answer(handler, record, leave)
        mode = self._take_fault(method, split.path)
        if mode is not None:
            answer_fault(answer, mode, split.path, self.stored(split.path))
        elif self._authorised(answer, split.path, headers):
            self.route(answer, method, split.path, query, headers.get("content-type", ""), body)

    def _authorised(self, answer: _Answer, path: str, headers: dict[str, str]) -> bool:
        if path == "/token":
            return self._issue_token(answer, headers)
        if self._tokens is None or headers.get("authorization", "").removeprefix("Bearer ") in self._tokens:
            return True
        match = re.match(r"/v2/(.+)/(manifests|blobs)/", path)
        scope = f',scope="repository:{match[1]}:pull"' if match else ""
        challenge = f'Bearer realm="{self.url}/token",service="fake-registry"{scope}'
        answer.error(401, "UNAUTHORIZED", "authentication required", {"WWW-Authenticate": challenge})
        return False

    def _issue_token(self, answer: _Answer, headers: dict[str, str]) -> bool:
        query = dict(parse_qsl(urlsplit(answer.path).query))
        if self._token_login is not None:
            expected = "Basic " + base64.b64encode(":".join(self._token_login).encode()).decode()
            if headers.get("authorization") != expected:
                answer.error(401, "UNAUTHORIZED", "bad login")
                return False
        token = f"token-{uuid.uuid4().hex}"
        with self._lock:
            self.tokens_issued.append(query.get("scope", ""))
            if self._tokens is not None:
                self._tokens.add(token)
        answer.send(200, canonical_json({"token": token, "expires_in": 300}), {"Content-Type": "application/json"})
        return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _any(self) -> None:
        self.server.registry._serve(self)  # type: ignore[attr-defined]

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _any

    def log_message(self, *args: Any) -> None:  # quiet
        pass


class _Answer:
    """Writes one answer on a handler's connection, its status recorded before a byte of it is sent."""

    def __init__(self, handler: _Handler, record: Recorded, leave: Callable[[], None]) -> None:
        self.leave = leave  # called before the first byte of the answer
        self.handler = handler
        self.record = record
        self.path = handler.path

    def close_after(self) -> None:
        self.handler.close_connection = True

    def send(self, status: int, body: bytes, headers: dict[str, str], length: int | None = None) -> None:
        self.record.status = status
        self.leave()
        handler = self.handler
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body) if length is None else length))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    def error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        body = canonical_json({"errors": [{"code": code, "message": message}]})
        self.send(status, body, {"Content-Type": "application/json", **(headers or {})})

    def reset(self) -> None:
        """Cut the connection with a TCP reset, answering nothing."""
        self.leave()
        connection = self.handler.connection
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.handler.close_connection = True
        connection.close()
