"""A blob read as a stream: a layer is read a chunk at a time, never held in memory, and checked as it is
read. The bytes are hashed on the way through; at the end of the body its size and digest must be the
blob's, or the read fails with a RegistryError (a body cut short is transient: the whole read may be tried
again; a body that hashes to another digest is not). Opening the stream is retried like any request
(5xx, 429, resets); a failure in the middle of the body is for the caller to retry from the start, since
what it made of the bytes so far is to be thrown away.
"""

from __future__ import annotations

import hashlib
import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import RegistryError
from ..core.reference import Reference
from ..core.retry import Request, call_with_retries
from ..oci.documents import check_digest_syntax
from .http import HttpClient, Response, error_reason, http_error, transport_error

CHUNK = 1024 * 1024


@dataclass
class StreamedBlob:
    """The body of a blob GET, read with `read(n)` (a file object for gzip, zstandard and tarfile). Reaching
    the end checks the size and digest; `finish()` reads what is left and checks them."""

    response: Any  # http.client.HTTPResponse, or the HTTPError a mirror answered 200 with (never)
    url: str
    ref: Reference
    digest: str
    size: int
    read_bytes: int = 0
    checked: bool = False
    _hash: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._hash = hashlib.new(check_digest_syntax(self.digest, self.url, "the blob's digest"))

    def read(self, n: int = -1) -> bytes:
        if self.checked:
            return b""
        want = CHUNK if n is None or n < 0 else n
        try:
            data: bytes = self.response.read(want) if want else b""
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise transport_error(self.ref, f"GET {self.url}", exc, None) from None
        self.read_bytes += len(data)
        self._hash.update(data)
        if self.read_bytes > self.size:
            raise RegistryError(
                f"{self.url}: answered more than the blob's {self.size} bytes; a proxy may be in the way"
            )
        if not data and want:
            self._check()
        return data

    def finish(self) -> None:
        """Read the rest of the body (what a reader left unread: a tar's padding) and check size and digest."""
        while not self.checked:
            self.read(CHUNK)

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> StreamedBlob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check(self) -> None:
        if self.read_bytes < self.size:
            raise RegistryError(
                f"{self.ref.domain}: GET {self.url}: connection closed after {self.read_bytes} bytes, "
                f"{self.size - self.read_bytes} more expected",
                transient=True,
            )
        actual = f"{self.digest.partition(':')[0]}:{self._hash.hexdigest()}"
        if actual != self.digest:
            raise RegistryError(
                f"{self.url}: answered {self.size} bytes whose digest is {actual}, not the blob's {self.digest}; "
                "a proxy may have altered it"
            )
        self.checked = True


def open_blob(client: HttpClient, ref: Reference, url: str, digest: str, size: int) -> StreamedBlob:
    """GET the blob DIGEST of SIZE bytes at URL (a blob URL of REF's repository, or of a mirror), retried until
    its body starts; a 404 is a RegistryError naming the blob."""

    def attempt() -> StreamedBlob:
        response = _open_authorised(client, ref, url)
        status = _status(response)
        if status == 200:
            header = response.headers.get("docker-content-digest", "")
            if header and header != digest:
                response.close()
                raise RegistryError(f"{url}: asked for blob {digest}, its Docker-Content-Digest header says {header}")
            return StreamedBlob(response, url, ref, digest, size)
        with response:
            answer = Response(status, {k.lower(): v for k, v in response.headers.items()}, _small(response))
        if status == 404:
            raise RegistryError(f"{ref.repository}: blob {digest} not found")
        raise http_error(ref, url, status, error_reason(answer))

    request = Request("GET", url, ref.repository)
    return call_with_retries(f"GET {url}", attempt, client.retry, client.on_retry, request=request)


def _open_authorised(client: HttpClient, ref: Reference, url: str) -> Any:
    """The open answer to GET URL, with the client's credentials, a bearer token fetched when challenged."""
    headers = {"Accept": "*/*"}
    auth = client._tokens.get((ref.repository, "pull")) or client._basic_auth(ref.domain)
    if auth:
        headers["Authorization"] = auth
    response = _open(client, ref, url, headers)
    challenge = response.headers.get("www-authenticate", "") if response.headers else ""
    if _status(response) == 401 and challenge.lower().startswith("bearer"):
        response.close()
        token = client._token(ref, challenge, "pull")
        if token:
            headers["Authorization"] = token
        response = _open(client, ref, url, headers)
    return response


def _open(client: HttpClient, ref: Reference, url: str, headers: dict[str, str]) -> Any:
    context = client._ssl() if url.startswith("https://") else None
    request = urllib.request.Request(url, method="GET", headers=headers)
    try:
        return urllib.request.urlopen(request, timeout=client.timeout, context=context)
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            exc.close()
            what = f"redirects with HTTP {exc.code}, which is not followed"
            raise RegistryError(f"{ref.domain}: GET {url} {what}") from None
        return exc
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        raise transport_error(ref, f"GET {url}", exc, client.ca_bundle) from None


def _status(response: Any) -> int:
    return int(response.code if isinstance(response, urllib.error.HTTPError) else response.status)


def _small(response: Any) -> bytes:
    try:
        return bytes(response.read(64 * 1024))
    except (OSError, http.client.HTTPException):
        return b""
