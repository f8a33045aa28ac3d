"""The registry client's HTTP transport: one request, its credentials and TLS, its retries, and the
translation of every way it can fail into one RegistryError.

Plain urllib. Each request is retried on its own while its failure is transient (5xx, 429, timeouts,
resets, a body cut short); everything else fails at once: 401/403/404, a TLS certificate nobody
trusts, a redirect loop, an answer that is not HTTP. What the body means is checked one level up
(registry_documents); here a body is bytes.

Local registries (localhost, 127.x) are spoken to over plain HTTP, others over HTTPS with the
operator's CA bundle. Credentials come from the client (login), else ~/.docker/config.json;
bearer-token registries (Docker Hub's anonymous flow included) are supported.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from threading import Event
from typing import Any, Protocol

from ..core.errors import Abandoned, RegistryError
from ..core.reference import DOCKER_HUB, Reference
from ..core.retry import Request, RetryPolicy, RetrySink, call_with_retries

Body = bytes | Callable[[], Iterable[bytes]] | None  # a callable: a fresh stream of chunks per attempt
MAX_BODY = 16 * 1024 * 1024  # no answer we read is larger: manifests are at most 4 MiB, image configs less
CA_HINT = "pass its CA certificates with --ca-bundle FILE or BASEIMAGES_CA_BUNDLE"


class Login(Protocol):
    """A registry login: what the client sends as the Authorization header (Basic)."""

    def header(self) -> str: ...


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes

    @property
    def digest(self) -> str:
        return self.headers.get("docker-content-digest") or "sha256:" + hashlib.sha256(self.body).hexdigest()

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass
class HttpClient:
    """Sends one request at a time to a registry, retried on its own; raises RegistryError only."""

    ca_bundle: Path | None = None
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    on_retry: RetrySink | None = None  # told of each retried request (a RetryNotice with its Request; image None)
    docker_config: Path = field(default_factory=lambda: Path(os.environ.get("DOCKER_CONFIG", "~/.docker")).expanduser())
    credentials: dict[str, Login] = field(default_factory=dict, repr=False)  # registry domain -> login
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)
    _contexts: dict[Path, ssl.SSLContext] = field(default_factory=dict, repr=False)

    def call(
        self,
        method: str,
        ref: Reference,
        path_or_url: str,
        *,
        body: Body = None,
        headers: Mapping[str, str] | None = None,
        scope: str = "pull",
        expect: tuple[int, ...] = (200,),
        cancel: Event | None = None,
        limit: int | None = None,
    ) -> Response:
        """One request, retried on its own while its failure is transient. An expected status comes
        back as a Response (the body of an expected 4xx is dropped); any other raises RegistryError. A body
        longer than LIMIT bytes (default: MAX_BODY, the most any document has) is refused. Once CANCEL is
        set, it raises Abandoned instead of sending, or of waiting for its next attempt."""
        url = path_or_url if "://" in path_or_url else base_url(ref.domain) + path_or_url
        what = f"{method} {url}"

        def attempt() -> Response:
            if cancel is not None and cancel.is_set():
                raise Abandoned(f"{ref.domain}: {what} abandoned")
            return self._call_once(method, ref, url, body, dict(headers or {}), scope, expect, limit)

        request = Request(method, url, ref.repository)
        return call_with_retries(what, attempt, self.retry, self.on_retry, cancel, request=request)

    def _call_once(
        self,
        method: str,
        ref: Reference,
        url: str,
        body: Body,
        headers: dict[str, str],
        scope: str,
        expect: tuple[int, ...],
        limit: int | None = None,
    ) -> Response:
        auth = self._tokens.get((ref.repository, scope)) or self._basic_auth(ref.domain)
        if auth:
            headers["Authorization"] = auth
        answer = self._send(method, ref, url, body, headers, limit)
        challenge = answer.headers.get("www-authenticate", "")
        if answer.status == 401 and challenge.lower().startswith("bearer"):
            token = self._token(ref, challenge, scope)
            if token:
                headers["Authorization"] = token
                answer = self._send(method, ref, url, body, headers, limit)
        if answer.status in expect:
            return answer if answer.status < 400 else Response(answer.status, answer.headers, b"")
        raise http_error(ref, url, answer.status, error_reason(answer))

    def _send(
        self, method: str, ref: Reference, url: str, body: Body, headers: dict[str, str], limit: int | None = None
    ) -> Response:
        """Send once. Every HTTP status comes back as a Response; a failure to get one raises RegistryError."""
        context = self._ssl() if url.startswith("https://") else None
        data: Any = body() if callable(body) else body
        try:
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as resp:
                return Response(resp.status, _lower(resp.headers.items()), _read_body(resp, ref, method, url, limit))
        except urllib.error.HTTPError as exc:
            with exc:
                if 300 <= exc.code < 400:  # urllib follows redirects; this one it would not (a loop, a PUT)
                    raise _redirect_error(ref, method, url, exc) from None
                return Response(exc.code, _lower((exc.headers or {}).items()), _error_body(exc))
        except RegistryError:
            raise
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            raise transport_error(ref, f"{method} {url}", exc, self.ca_bundle) from None
        finally:
            if hasattr(data, "close"):
                data.close()

    def _ssl(self) -> ssl.SSLContext | None:
        if self.ca_bundle is None:
            return None
        if self.ca_bundle not in self._contexts:
            try:
                self._contexts[self.ca_bundle] = ssl.create_default_context(cafile=str(self.ca_bundle))
            except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
                raise RegistryError(
                    f"CA bundle {self.ca_bundle} cannot be used ({exc}); --ca-bundle and BASEIMAGES_CA_BUNDLE "
                    "must name a PEM file of CA certificates"
                ) from None
        return self._contexts[self.ca_bundle]

    def _basic_auth(self, domain: str) -> str | None:
        login = self.credentials.get(domain)
        if login is not None:
            return login.header()
        try:
            config = json.loads((self.docker_config / "config.json").read_text())
        except (OSError, ValueError):
            return None
        auths = config.get("auths", {}) if isinstance(config, dict) else {}
        keys = [domain, f"https://{domain}", f"http://{domain}"]
        if domain == DOCKER_HUB:
            keys.append("https://index.docker.io/v1/")
        for key in keys:
            entry = auths.get(key) if isinstance(auths, dict) else None
            if isinstance(entry, dict) and isinstance(entry.get("auth"), str) and entry["auth"]:
                return f"Basic {entry['auth']}"
        return None

    def _token(self, ref: Reference, challenge: str, scope: str) -> str | None:
        """A bearer token for REF's repository and SCOPE from the realm the 401's challenge names."""
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", None)
        if not realm:
            return None
        params["scope"] = f"repository:{ref.path}:{scope}"
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(params)
        basic = self._basic_auth(ref.domain)
        answer = self._send("GET", ref, url, None, {"Authorization": basic} if basic else {})
        if answer.status != 200:
            raise http_error(ref, realm, answer.status, error_reason(answer))
        try:
            data = json.loads(answer.body)
        except ValueError:
            data = None
        token = (data.get("token") or data.get("access_token")) if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError(
                f"{ref.domain}: the token service {realm} answered {describe_body(answer)}, not a JSON "
                "object with a token; a proxy or a login page may be in the way"
            )
        value = f"Bearer {token}"
        self._tokens[(ref.repository, scope)] = value
        return value


def _lower(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {k.lower(): v for k, v in items}


def _read_body(
    resp: http.client.HTTPResponse, ref: Reference, method: str, url: str, limit: int | None = None
) -> bytes:
    """The whole body, at most LIMIT (default MAX_BODY) bytes; a body shorter than its Content-Length was cut
    short."""
    limit = MAX_BODY if limit is None else limit
    body = resp.read(limit + 1)
    if len(body) > limit:
        raise RegistryError(
            f"{ref.domain}: {method} {url} answered more than {limit} bytes where a document was expected"
        )
    length = resp.headers.get("content-length", "")
    if method != "HEAD" and length.isdigit() and len(body) < int(length):
        raise http.client.IncompleteRead(body, int(length) - len(body))
    return body


def _error_body(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read(64 * 1024)
    except (OSError, http.client.HTTPException):
        return b""


def error_reason(answer: Response) -> str:
    """The registry's own words for an error status (its errors[0] code and message), else the status's name."""
    try:
        errors = json.loads(answer.body).get("errors")
        first = errors[0]
        text = f"{first['code']}: {first.get('message', '')}".rstrip(": ")
    except (ValueError, AttributeError, LookupError, TypeError):
        text = ""
    if text:
        return text[:200]
    try:
        return HTTPStatus(answer.status).phrase
    except ValueError:
        return "unexpected status"


def http_error(ref: Reference, url: str, code: int, reason: object) -> RegistryError:
    if code == 429 or code >= 500:
        return RegistryError(f"{ref.domain}: HTTP {code} {reason} from {url}", transient=True, status=code)
    if code in (401, 403):
        return RegistryError(
            f"{ref.domain}: access denied (HTTP {code}) to {ref.path}; log in (BASEIMAGES_REGISTRY_USER and "
            "BASEIMAGES_REGISTRY_PASSWORD, or `docker login`) or check the credentials",
            status=code,
        )
    return RegistryError(f"{ref.domain}: HTTP {code} {reason} from {url}", status=code)


def _redirect_error(ref: Reference, method: str, url: str, exc: urllib.error.HTTPError) -> RegistryError:
    target = exc.headers.get("location", "?") if exc.headers else "?"
    if "infinite loop" in str(exc.reason):
        what = f"redirects in a loop (HTTP {exc.code} to {target})"
    else:
        what = f"redirects {method} with HTTP {exc.code} to {target}, which is not followed"
    return RegistryError(
        f"{ref.domain}: {method} {url} {what}; check the registry address, or the proxy in front of it",
        status=exc.code,
    )


def transport_error(ref: Reference, request: str, exc: BaseException, ca_bundle: Path | None) -> RegistryError:
    """What went wrong below HTTP (no status to go by), and whether trying again may help."""
    cause: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    where = f"{ref.domain}: {request}"
    if isinstance(cause, ssl.SSLCertVerificationError):
        trusted = f"the CA bundle {ca_bundle} does not" if ca_bundle else "the system's CA certificates do not"
        return RegistryError(
            f"{where}: TLS certificate verification failed ({cause.verify_message}): {trusted} trust the "
            f"certificate it presents; if a TLS-intercepting proxy or a private CA signs it, {CA_HINT}"
        )
    if isinstance(cause, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return RegistryError(f"{where}: TLS connection cut: {cause}", transient=True)
    if isinstance(cause, ssl.SSLError):
        return RegistryError(f"{where}: TLS handshake failed ({cause}); does it speak HTTPS on that port?")
    if isinstance(cause, http.client.IncompleteRead):
        got, more = len(cause.partial), cause.expected
        return RegistryError(f"{where}: connection closed after {got} bytes, {more} more expected", transient=True)
    if isinstance(cause, ConnectionError | TimeoutError):
        return RegistryError(f"{where}: unreachable: {str(cause) or type(cause).__name__}", transient=True)
    if isinstance(cause, http.client.LineTooLong):
        return RegistryError(f"{where}: answered a header line too long to read ({cause}); not a registry answer")
    if isinstance(cause, http.client.HTTPException):
        text = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
        return RegistryError(f"{where}: answered something that is not HTTP ({text}); not a registry answer")
    if isinstance(cause, OSError):
        return RegistryError(f"{where}: unreachable: {cause}", transient=True)
    return RegistryError(f"{where}: cannot send the request: {cause}")


def describe_body(answer: Response) -> str:
    """A few words on what a body looks like, for messages: 'an HTML page (text/html)', '12 bytes of ...'."""
    kind = answer.content_type or "no Content-Type"
    if not answer.body:
        return f"no body ({kind})"
    if answer.body.lstrip()[:1] == b"<":
        return f"an HTML page ({kind})" if b"html" in answer.body[:512].lower() else f"markup ({kind})"
    return f"{len(answer.body)} bytes of {kind}"


def is_local(domain: str) -> bool:
    host = domain.rsplit(":", 1)[0] if domain.count(":") == 1 else domain
    return host in ("localhost", "::1") or host.startswith("127.")


def base_url(domain: str) -> str:
    if domain.startswith(("http://", "https://")):
        return domain.rstrip("/")
    if domain == DOCKER_HUB:
        return "https://registry-1.docker.io"
    return f"{'http' if is_local(domain) else 'https'}://{domain}"
