"""Reading registries over the distribution HTTP API: digests, indexes, configs, sizes.

Plain urllib (no Docker subprocess) so that answering "what is at this tag?" costs one HTTP
request. Local registries (localhost, 127.x) are spoken to over plain HTTP, others over HTTPS with
the operator's CA bundle. Docker Hub's anonymous token flow and basic credentials from
~/.docker/config.json are supported. Transient failures (5xx, 429, timeouts, resets) are retried
with exponential backoff and jitter; 401/403/404 and bad references fail at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import RegistryError
from .reference import DOCKER_HUB, Reference
from .retry import RetryPolicy, call_with_retries

INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
_ACCEPT = ", ".join(INDEX_TYPES + MANIFEST_TYPES)


@dataclass(frozen=True)
class PlatformManifest:
    platform: str
    digest: str
    compressed_size: int  # bytes: config + layers as stored in the registry
    config_digest: str


@dataclass(frozen=True)
class ImageIndex:
    reference: str
    digest: str
    manifests: tuple[PlatformManifest, ...]

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(m.platform for m in self.manifests)

    def for_platform(self, platform: str) -> PlatformManifest | None:
        return next((m for m in self.manifests if m.platform == platform), None)


@dataclass
class RegistryClient:
    ca_bundle: Path | None = None
    mirrors: tuple[str, ...] = ()  # tried first for Docker Hub references, like dockerd's registry-mirrors
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    on_retry: Callable[[str], None] | None = None
    docker_config: Path = field(default_factory=lambda: Path(os.environ.get("DOCKER_CONFIG", "~/.docker")).expanduser())
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ public

    def digest(self, ref: Reference) -> str | None:
        """The digest REF's tag points at, or None when the tag (or repository) does not exist."""
        status, headers, body = self._request("HEAD", ref, "manifests", ref.digest or ref.tag or "latest")
        if status == 404:
            return None
        digest = headers.get("docker-content-digest")
        if digest:
            return digest
        status, headers, body = self._request("GET", ref, "manifests", ref.digest or ref.tag or "latest")
        if status == 404:
            return None
        return "sha256:" + hashlib.sha256(body).hexdigest()

    def summary(self, ref: Reference) -> tuple[str, dict[str, str]] | None:
        """Digest and annotations of the manifest at REF in one request; None when REF does not exist."""
        status, headers, body = self._request("GET", ref, "manifests", ref.digest or ref.tag or "latest")
        if status == 404:
            return None
        digest = headers.get("docker-content-digest") or "sha256:" + hashlib.sha256(body).hexdigest()
        data = json.loads(body)
        annotations = data.get("annotations") or {}
        return digest, {str(k): str(v) for k, v in annotations.items()}

    def index(self, ref: Reference) -> ImageIndex:
        """The index at REF with each platform's manifest digest and compressed size."""
        target = ref.digest or ref.tag or "latest"
        status, headers, body = self._request("GET", ref, "manifests", target)
        if status == 404:
            raise RegistryError(f"{ref}: not found in the registry")
        data = json.loads(body)
        digest = headers.get("docker-content-digest") or "sha256:" + hashlib.sha256(body).hexdigest()
        media = data.get("mediaType") or headers.get("content-type", "")
        manifests: list[PlatformManifest] = []
        if media in INDEX_TYPES or "manifests" in data:
            for entry in data.get("manifests", []):
                plat = entry.get("platform") or {}
                if plat.get("os") in (None, "unknown"):
                    continue  # attestation manifests
                key = f"{plat['os']}/{plat['architecture']}" + (f"/{plat['variant']}" if plat.get("variant") else "")
                manifest = self._json(ref, "manifests", entry["digest"])
                manifests.append(_platform_manifest(key, entry["digest"], manifest))
        else:
            config = self.blob_json(ref, data["config"]["digest"])
            key = f"{config.get('os')}/{config.get('architecture')}"
            manifests.append(_platform_manifest(key, digest, data))
        return ImageIndex(reference=str(ref), digest=digest, manifests=tuple(manifests))

    def blob_json(self, ref: Reference, digest: str) -> dict[str, Any]:
        return self._json(ref, "blobs", digest)

    # ------------------------------------------------------------------ plumbing

    def _json(self, ref: Reference, kind: str, target: str) -> dict[str, Any]:
        status, _, body = self._request("GET", ref, kind, target)
        if status == 404:
            raise RegistryError(f"{ref.repository}: {kind[:-1]} {target} not found")
        result: dict[str, Any] = json.loads(body)
        return result

    def _request(self, method: str, ref: Reference, kind: str, target: str) -> tuple[int, Mapping[str, str], bytes]:
        if ref.domain == DOCKER_HUB and self.mirrors:
            for mirror in self.mirrors:
                try:
                    answer = self._request_retrying(
                        method, Reference(mirror, ref.path, ref.tag, ref.digest), kind, target
                    )
                except RegistryError:
                    continue
                if answer[0] != 404:
                    return answer
        return self._request_retrying(method, ref, kind, target)

    def _request_retrying(
        self, method: str, ref: Reference, kind: str, target: str
    ) -> tuple[int, Mapping[str, str], bytes]:
        return call_with_retries(
            f"{method} {ref.repository} {kind}/{target}",
            lambda: self._request_once(method, ref, kind, target),
            self.retry,
            self.on_retry,
        )

    def _request_once(
        self, method: str, ref: Reference, kind: str, target: str
    ) -> tuple[int, Mapping[str, str], bytes]:
        url = f"{_base_url(ref.domain)}/v2/{ref.path}/{kind}/{target}"
        headers = {"Accept": _ACCEPT}
        auth = self._tokens.get(ref.repository) or self._basic_auth(ref.domain)
        if auth:
            headers["Authorization"] = auth
        for _ in range(2):
            request = urllib.request.Request(url, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout, context=self._ssl()) as resp:
                    return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
            except urllib.error.HTTPError as exc:
                if (
                    exc.code == 401
                    and "Authorization" not in headers
                    or (
                        exc.code == 401
                        and headers.get("Authorization", "").startswith("Basic")
                        and "bearer" in exc.headers.get("www-authenticate", "").lower()
                    )
                ):
                    token = self._token(ref, exc.headers.get("www-authenticate", ""))
                    if token:
                        headers["Authorization"] = token
                        continue
                if exc.code == 404:
                    return 404, {}, b""
                if exc.code in (429,) or exc.code >= 500:
                    raise RegistryError(f"{ref.domain}: HTTP {exc.code} from {url}", transient=True) from None
                if exc.code in (401, 403):
                    raise RegistryError(
                        f"{ref.domain}: access denied (HTTP {exc.code}) to {ref.path}; "
                        "log in with `docker login` or check the credentials"
                    ) from None
                raise RegistryError(f"{url}: HTTP {exc.code} {exc.reason}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                raise RegistryError(
                    f"{ref.domain} unreachable: {url}: {getattr(exc, 'reason', exc)}", transient=True
                ) from None
        raise RegistryError(f"{ref.domain}: authentication failed for {ref.path}")

    def _ssl(self) -> ssl.SSLContext | None:
        if self.ca_bundle is None:
            return None
        return ssl.create_default_context(cafile=str(self.ca_bundle))

    def _basic_auth(self, domain: str) -> str | None:
        try:
            config = json.loads((self.docker_config / "config.json").read_text())
        except (OSError, ValueError):
            return None
        auths = config.get("auths", {}) if isinstance(config, dict) else {}
        keys = [domain, f"https://{domain}", f"http://{domain}"]
        if domain == "docker.io":
            keys.append("https://index.docker.io/v1/")
        for key in keys:
            entry = auths.get(key)
            if isinstance(entry, dict) and entry.get("auth"):
                return f"Basic {entry['auth']}"
        return None

    def _token(self, ref: Reference, challenge: str) -> str | None:
        if not challenge.lower().startswith("bearer"):
            return None
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", None)
        if not realm:
            return None
        params.setdefault("scope", f"repository:{ref.path}:pull")
        request = urllib.request.Request(realm + "?" + urllib.parse.urlencode(params))
        basic = self._basic_auth(ref.domain)
        if basic:
            request.add_header("Authorization", basic)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self._ssl()) as resp:
                data = json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RegistryError(f"token request to {realm} failed: {exc}", transient=True) from None
        token = data.get("token") or data.get("access_token")
        if not token:
            return None
        value = f"Bearer {token}"
        self._tokens[ref.repository] = value
        return value


def _platform_manifest(platform: str, digest: str, manifest: Mapping[str, Any]) -> PlatformManifest:
    size = int(manifest.get("config", {}).get("size", 0)) + sum(
        int(layer.get("size", 0)) for layer in manifest.get("layers", [])
    )
    return PlatformManifest(platform, digest, size, str(manifest.get("config", {}).get("digest", "")))


def is_local(domain: str) -> bool:
    host = domain.rsplit(":", 1)[0] if domain.count(":") == 1 else domain
    return host in ("localhost", "::1") or host.startswith("127.")


def _base_url(domain: str) -> str:
    if domain.startswith(("http://", "https://")):
        return domain.rstrip("/")
    if domain == "docker.io":
        return "https://registry-1.docker.io"
    return f"{'http' if is_local(domain) else 'https'}://{domain}"
