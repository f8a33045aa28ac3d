"""The fake registry's faults: answers that are garbage (a client must fail at once, for good) and
failures that heal (a client retries). `FakeRegistry.fault(mode, ...)` switches them on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from fake_image import INDEX_TYPE, canonical_json, make_image, sha256

READS = r"/manifests/|/blobs/sha\d+:"  # the paths faults apply to unless told otherwise
# Answers that are garbage: the same request gets the same answer, so a client must not retry them.
GARBAGE_MODES = (
    "html",  # 200 text/html: a proxy's login or error page
    "truncated-json",  # 200, the right Content-Type, the JSON cut in half (Content-Length agrees), no digest header
    "wrong-content-type",  # 200, the right body and digest, Content-Type text/plain
    "redirect-loop",  # 302 to the same URL, forever
    "huge-header",  # 200 with a 70 000-byte header line (http.client: LineTooLong)
    "wrong-digest-header",  # 200, the right body, a Docker-Content-Digest of something else
    "wrong-body",  # 200, another valid document (digest header agreeing with it): wrong for a digest request
    "missing-fields",  # 200, valid JSON of the right type without the fields read (no manifests, no config)
    "wrong-types",  # 200, valid JSON whose fields have the wrong types (manifests a string, annotations a list)
)
# Failures that heal: a client retries them. Any 3-digit mode (503, 429, 404, ...) answers that status.
TRANSIENT_MODES = ("503", "429", "reset", "incomplete")


@dataclass
class Fault:
    mode: str
    times: int | None  # answers left; None: forever
    methods: tuple[str, ...]
    path: str  # a regex searched in the request path
    hits: int = 0


def check_mode(mode: str) -> None:
    if mode not in GARBAGE_MODES + TRANSIENT_MODES and not re.fullmatch(r"[1-5]\d\d", mode):
        raise ValueError(f"unknown fault mode {mode!r}")


class Answer(Protocol):
    path: str  # of the request, with its query

    def send(self, status: int, body: bytes, headers: dict[str, str], length: int | None = None) -> None: ...
    def error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None: ...
    def reset(self) -> None: ...
    def close_after(self) -> None: ...


CANNED_CONFIG = canonical_json({"architecture": "amd64", "os": "linux", "config": {}})
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Proxy</title></head><body><h1>Sign in to continue</h1></body></html>"


def answer_fault(answer: Answer, mode: str, path: str, stored: tuple[str, bytes] | None) -> None:
    """Answer MODE to a request for PATH, whatever the registry holds there (STORED: its media type and
    body, or None)."""
    media_type, body = stored or _canned(path)
    if re.fullmatch(r"\d{3}", mode):
        answer.error(int(mode), "FAULT", f"fault injected: {mode}", {"Retry-After": "0"})
    elif mode == "reset":
        answer.reset()
    elif mode == "incomplete":
        answer.send(200, body[: len(body) // 2], {"Content-Type": media_type}, length=len(body))
        answer.close_after()
    elif mode == "html":
        answer.send(200, HTML_PAGE, {"Content-Type": "text/html; charset=utf-8"})
    elif mode == "truncated-json":
        answer.send(200, body[: len(body) // 2], {"Content-Type": media_type})
    elif mode == "wrong-content-type":
        answer.send(200, body, {"Content-Type": "text/plain", "Docker-Content-Digest": sha256(body)})
    elif mode == "redirect-loop":
        answer.send(302, b"", {"Location": answer.path})
    elif mode == "huge-header":
        answer.send(200, body, {"Content-Type": media_type, "X-Padding": "a" * 70_000})
    elif mode == "wrong-digest-header":
        answer.send(200, body, {"Content-Type": media_type, "Docker-Content-Digest": sha256(b"something else")})
    else:  # another well-formed answer, its Content-Type and digest header agreeing with it
        blob = "/blobs/" in path
        other = _other_document(mode, blob)
        content_type = "application/octet-stream" if blob else INDEX_TYPE
        answer.send(200, other, {"Content-Type": content_type, "Docker-Content-Digest": sha256(other)})


def _canned(path: str) -> tuple[str, bytes]:
    """A plausible answer for PATH where the registry holds nothing."""
    if "/blobs/" in path:
        return "application/octet-stream", CANNED_CONFIG
    return INDEX_TYPE, make_image("canned").index


def _other_document(mode: str, blob: bool) -> bytes:
    """For a manifest path, an index; for a blob path, an image config; each wrong in MODE's way."""
    manifest, config = {
        "wrong-body": (make_image("other").index, {"architecture": "arm64", "os": "linux", "config": {}}),
        "missing-fields": ({"schemaVersion": 2, "mediaType": INDEX_TYPE}, {"architecture": "amd64"}),
        "wrong-types": (
            {"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": "linux/amd64", "annotations": ["x"]},
            {"architecture": ["amd64"], "os": 7},
        ),
    }[mode]
    document = config if blob else manifest
    return document if isinstance(document, bytes) else canonical_json(document)
