"""A registry proxy of the test's own, on 127.0.0.1, that can hold or refuse chosen kinds of request.

It sits between a run and a test registry and forwards every request on a connection of its own
(`Connection: close`), byte for byte, so that it sees each request's method and path and knows when
its answer was delivered. A test tells it to:

- **hold** every request of a kind once N of that kind were answered: the request is neither forwarded
  nor answered until `reset()`, so the run is stopped exactly there (e.g. between the 3rd and the 4th
  tag PUT of a promotion, or in the middle of the upload);
- **refuse** every request of a kind with a status (403 to the PUT of cosign's signature manifest).

Kinds of request (`kind_of`): `tag` (a manifest PUT to a tag the promotion moves), `candidate`,
`signature` (`sha256-<hex>.sig`), `attestation` (`sha256-<hex>.att`/`.sbom`), `referrers`,
`manifest-by-digest`, `blob-upload` (POST/PATCH/PUT under `/blobs/uploads/`), `cache`, `other`.
A TLS ClientHello is answered the way Go's net/http answers one on a plain-HTTP port, so that Go
clients (cosign) fall back to HTTP.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

GO_TLS_ANSWER = b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
_MANIFEST = re.compile(r"^/v2/(?P<repo>.+)/manifests/(?P<ref>[^/?]+)")
_COSIGN_TAG = re.compile(r"^sha256-[0-9a-f]{64}\.(?P<suffix>\w+)$")


def kind_of(method: str, path: str) -> tuple[str, str]:
    """(kind, ref) of a request: the manifest reference for manifest requests, else the path."""
    manifest = _MANIFEST.match(path)
    if manifest is not None and method == "PUT":
        ref = manifest.group("ref")
        cosign = _COSIGN_TAG.match(ref)
        if ref.startswith("sha256:"):
            return "manifest-by-digest", ref
        if cosign is not None:
            return ("signature" if cosign.group("suffix") == "sig" else "attestation"), ref
        if ref.startswith("candidate-"):
            return "candidate", ref
        if ref.startswith(("buildcache", "cache")):
            return "cache", ref
        return "tag", ref
    if "/referrers/" in path:
        return "referrers", path
    if "/blobs/uploads" in path and method in ("POST", "PATCH", "PUT"):
        return "blob-upload", path
    return "other", path


@dataclass
class Seen:
    kind: str
    ref: str
    status: int  # the registry's answer; 0 when held or cut
    at: float = field(default_factory=time.monotonic)


class GateProxy:
    """Forwards 127.0.0.1:PORT to UPSTREAM_PORT on 127.0.0.1; `address` is what a run pushes to."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream = ("127.0.0.1", upstream_port)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.address = f"localhost:{self.port}"
        self._lock = threading.Condition()
        self._holds: dict[str, int] = {}  # kind -> answered count after which the kind is held
        self._refusals: dict[str, int] = {}  # kind -> status answered instead of forwarding
        self._release = threading.Event()
        self.answered: dict[str, list[Seen]] = defaultdict(list)
        self.held: list[Seen] = []
        self.refused: list[Seen] = []
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    # ------------------------------------------------------------------ what the test sets and reads

    def hold(self, kind: str, after: int = 0) -> None:
        with self._lock:
            self._holds[kind] = len(self._ok(kind)) + after

    def refuse(self, kind: str, status: int = 403) -> None:
        with self._lock:
            self._refusals[kind] = status

    def reset(self) -> None:
        """No holds, no refusals; every held request is let go unanswered (its connection closed)."""
        with self._lock:
            self._holds.clear()
            self._refusals.clear()
            self._release.set()
            self._release = threading.Event()
            self.held.clear()
            self.refused.clear()
            self.answered.clear()

    def wait_held(self, kind: str, timeout: float) -> Seen | None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = next((s for s in self.held if s.kind == kind), None)
                left = deadline - time.monotonic()
                if found is not None or left <= 0:
                    return found
                self._lock.wait(min(left, 0.5))

    def tags_answered(self) -> list[str]:
        with self._lock:
            return [s.ref for s in self._ok("tag")]

    def stop(self) -> None:
        self._stopped = True
        self.reset()
        with contextlib.suppress(OSError):
            self._server.close()

    def _ok(self, kind: str) -> list[Seen]:
        return [s for s in self.answered[kind] if 200 <= s.status < 300]

    # ------------------------------------------------------------------ the proxy itself

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        with contextlib.closing(client):
            try:
                head = _read_head(client)
            except OSError:
                return
            if head is None:
                return
            if head.startswith(b"\x16"):
                client.sendall(GO_TLS_ANSWER)
                return
            method, path, headers = _parse(head.split(b"\r\n\r\n", 1)[0])
            kind, ref = kind_of(method, path)
            decision, release = self._decide(kind, ref)
            if decision == "hold":
                release.wait()  # until reset(): then closed unanswered
                return
            if decision:
                _refuse(client, head, headers, int(decision))
                return
            status = _forward(client, head, self._upstream)
            with self._lock:
                self.answered[kind].append(Seen(kind, ref, status))
                self._lock.notify_all()

    def _decide(self, kind: str, ref: str) -> tuple[str, threading.Event]:
        with self._lock:
            if kind in self._refusals:
                self.refused.append(Seen(kind, ref, self._refusals[kind]))
                return str(self._refusals[kind]), self._release
            if kind in self._holds and len(self._ok(kind)) >= self._holds[kind]:
                self.held.append(Seen(kind, ref, 0))
                self._lock.notify_all()
                return "hold", self._release
            return "", self._release


def _read_head(sock: socket.socket) -> bytes | None:
    """The request line and headers (and whatever of the body came with them); None on a closed socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
        if data.startswith(b"\x16"):
            return data
    return data


def _parse(head: bytes) -> tuple[str, str, dict[str, str]]:
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, path, _ = request_line.split(" ", 2)
    headers = {}
    for line in lines:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return method, path, headers


def _refuse(client: socket.socket, head: bytes, headers: dict[str, str], status: int) -> None:
    """Read the request's body (so that the client sees the answer, not a reset), then answer STATUS."""
    body_left = int(headers.get("content-length", "0") or 0) - len(head.split(b"\r\n\r\n", 1)[1])
    while body_left > 0:
        chunk = client.recv(min(body_left, 65536))
        if not chunk:
            break
        body_left -= len(chunk)
    body = b'{"errors":[{"code":"DENIED","message":"refused by the test proxy"}]}'
    client.sendall(
        f"HTTP/1.1 {status} Refused\r\nContent-Type: application/json\r\nConnection: close\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def _forward(client: socket.socket, head: bytes, upstream: tuple[str, int]) -> int:
    """Send the request upstream with `Connection: close` and pump the answer back; its status."""
    header_part, _, body_start = head.partition(b"\r\n\r\n")
    lines = [ln for ln in header_part.split(b"\r\n") if not ln.lower().startswith(b"connection:")]
    with socket.create_connection(upstream, timeout=300) as up:
        up.sendall(b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n" + body_start)
        threading.Thread(target=_pump, args=(client, up), daemon=True).start()
        status, first = 0, True
        while chunk := _recv(up):
            if first:
                with contextlib.suppress(ValueError, IndexError):
                    status = int(chunk.split(b" ", 2)[1])
                first = False
            try:
                client.sendall(chunk)
            except OSError:
                return 0
    return status


def _pump(src: socket.socket, dst: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while chunk := src.recv(65536):
            dst.sendall(chunk)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""
