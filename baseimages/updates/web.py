"""GET a URL of an apt archive or a package index through the registry client's HTTP transport: the same CA
bundle, retries and error messages as every registry read, and the proxy of the environment (`https_proxy`,
`http_proxy`, `no_proxy`, which urllib honours). Credentials in a URL (`https://user:token@host/...`) are sent
as a Basic Authorization header and never appear in a message."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

from ..core.errors import RegistryError
from ..core.reference import Reference
from ..registry.http import HttpClient, Response


def redacted(url: str) -> str:
    """URL without the credentials it may carry."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def get(
    client: HttpClient, url: str, limit: int | None = None, headers: Mapping[str, str] | None = None
) -> Response | None:
    """The answer to GET URL (at most LIMIT bytes; None: the client's MAX_BODY), None for a 404; a
    RegistryError naming the host when it cannot be had after retries."""
    parts = urlsplit(url)
    sent = dict(headers or {})
    if parts.username is not None:
        login = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        sent["Authorization"] = "Basic " + base64.b64encode(login.encode()).decode()
    plain = redacted(url)
    ref = Reference(parts.netloc.rpartition("@")[2], "index")
    try:
        answer = client.call("GET", ref, plain, headers=sent, expect=(200, 404), limit=limit)
    except RegistryError as exc:
        if exc.status in (401, 403):
            raise RegistryError(
                f"{ref.domain}: access denied (HTTP {exc.status}) to {plain}; put the credentials in the URL",
                status=exc.status,
            ) from None
        raise
    return None if answer.status == 404 else answer


class FetchBytes:
    """The apt archives' fetch over CLIENT: (url, limit) -> body, None for a 404."""

    def __init__(self, client: HttpClient) -> None:
        self.client = client

    def __call__(self, url: str, limit: int | None) -> bytes | None:
        answer = get(self.client, url, limit)
        return None if answer is None else answer.body
