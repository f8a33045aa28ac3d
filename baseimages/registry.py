"""Talking to registries over the distribution HTTP API: reads, uploads and tag moves.

Plain urllib (no Docker subprocess) so that answering "what is at this tag?" costs one HTTP request,
and so that every request is retried on its own. Docker's and buildx's registry clients retry
nothing: on a registry that drops 3 requests in 10, a whole `docker push` almost never gets through,
while per-request retries do. Transient failures (5xx, 429, timeouts, resets) are retried with
exponential backoff and jitter; 401/403/404 and bad references fail at once.

Local registries (localhost, 127.x) are spoken to over plain HTTP, others over HTTPS with the
operator's CA bundle. Credentials come from the client (login), else ~/.docker/config.json;
bearer-token registries (Docker Hub's anonymous flow included) are supported.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import ssl
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .config import Credentials
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

Body = bytes | Callable[[], IO[bytes]] | None


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


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def digest(self) -> str:
        return self.headers.get("docker-content-digest") or "sha256:" + hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True)
class UploadResult:
    digest: str
    blobs_uploaded: int
    blobs_present: int
    blobs_mounted: int


@dataclass
class RegistryClient:
    ca_bundle: Path | None = None
    mirrors: tuple[str, ...] = ()  # tried first for Docker Hub references, like dockerd's registry-mirrors
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    on_retry: Callable[[str], None] | None = None
    docker_config: Path = field(default_factory=lambda: Path(os.environ.get("DOCKER_CONFIG", "~/.docker")).expanduser())
    credentials: dict[str, Credentials] = field(default_factory=dict, repr=False)  # registry domain -> login
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ reads

    def digest(self, ref: Reference) -> str | None:
        """The digest REF's tag points at, or None when the tag (or repository) does not exist."""
        answer = self._manifest_request("HEAD", ref)
        if answer.status == 404:
            return None
        if answer.headers.get("docker-content-digest"):
            return answer.headers["docker-content-digest"]
        answer = self._manifest_request("GET", ref)
        return None if answer.status == 404 else answer.digest

    def summary(self, ref: Reference) -> tuple[str, dict[str, str]] | None:
        """Digest and annotations of the manifest at REF in one request; None when REF does not exist."""
        answer = self._manifest_request("GET", ref)
        if answer.status == 404:
            return None
        annotations = json.loads(answer.body).get("annotations") or {}
        return answer.digest, {str(k): str(v) for k, v in annotations.items()}

    def index(self, ref: Reference) -> ImageIndex:
        """The index at REF with each platform's manifest digest and compressed size."""
        answer = self._manifest_request("GET", ref)
        if answer.status == 404:
            raise RegistryError(f"{ref}: not found in the registry")
        data = json.loads(answer.body)
        manifests: list[PlatformManifest] = []
        if "manifests" in data:
            for entry in data["manifests"]:
                plat = entry.get("platform") or {}
                if plat.get("os") in (None, "unknown"):
                    continue  # attestation manifests
                key = f"{plat['os']}/{plat['architecture']}" + (f"/{plat['variant']}" if plat.get("variant") else "")
                manifest = self._json(ref, "manifests", entry["digest"])
                manifests.append(_platform_manifest(key, entry["digest"], manifest))
        else:
            config = self.blob_json(ref, data["config"]["digest"])
            key = f"{config.get('os')}/{config.get('architecture')}"
            manifests.append(_platform_manifest(key, answer.digest, data))
        return ImageIndex(reference=str(ref), digest=answer.digest, manifests=tuple(manifests))

    def blob_json(self, ref: Reference, digest: str) -> dict[str, Any]:
        return self._json(ref, "blobs", digest)

    def ping(self, repository: Reference) -> None:
        """Check that the registry answers and accepts our credentials for REPOSITORY (pull and push);
        RegistryError otherwise: transient when unreachable, permanent on wrong credentials."""
        self._call("GET", repository, "/v2/", scope="pull,push", expect=(200,))

    # ------------------------------------------------------------------ writes

    def put_manifest(self, ref: Reference, media_type: str, body: bytes) -> str:
        """PUT BODY as the manifest at REF (a tag or its own digest); returns its digest."""
        target = ref.tag or ref.digest
        answer = self._call(
            "PUT",
            ref,
            f"/v2/{ref.path}/manifests/{target}",
            body=body,
            headers={"Content-Type": media_type},
            scope="pull,push",
            expect=(201, 200),
        )
        return answer.headers.get("docker-content-digest") or "sha256:" + hashlib.sha256(body).hexdigest()

    def copy_tags(self, source: Reference, tags: list[str]) -> None:
        """Point TAGS of SOURCE's repository at the manifest SOURCE names (by digest): the same bytes,
        PUT once per tag (what `imagetools create` does for a single source), each PUT retried."""
        answer = self._manifest_request("GET", source)
        if answer.status == 404:
            raise RegistryError(f"{source}: not found in the registry")
        media_type = answer.headers.get("content-type") or json.loads(answer.body).get("mediaType", INDEX_TYPES[0])
        for tag in tags:
            self.put_manifest(Reference(source.domain, source.path, tag), media_type, answer.body)

    def upload_archive(self, archive: Path, target: Reference, mount_from: tuple[str, ...] = ()) -> UploadResult:
        """Upload an OCI image archive (`docker save`) to TARGET (repository:tag): every blob the archive's
        index reaches, then the manifests, then the index at the tag. Blobs the registry has are skipped;
        blobs in MOUNT_FROM repositories of the same registry are mounted instead of uploaded."""
        with tarfile.open(archive) as tar:
            members = {m.name: m for m in tar.getmembers() if m.isfile()}

            def read(digest: str) -> bytes:
                member = members.get(f"blobs/sha256/{digest.split(':', 1)[1]}")
                if member is None:
                    raise RegistryError(f"{archive}: blob {digest} is missing from the archive")
                handle = tar.extractfile(member)
                assert handle is not None
                return handle.read()

            def opener(digest: str) -> Callable[[], IO[bytes]]:
                member = members[f"blobs/sha256/{digest.split(':', 1)[1]}"]
                return lambda: _must(tar.extractfile(member))

            top = json.loads(_must(tar.extractfile(members["index.json"])).read())["manifests"][0]
            index_body = read(top["digest"])
            index = json.loads(index_body)
            manifests = [(m["digest"], m["mediaType"], read(m["digest"])) for m in index.get("manifests", [])]
            counts = {"uploaded": 0, "present": 0, "mounted": 0}
            seen: set[str] = set()
            for _, _, body in manifests:
                manifest = json.loads(body)
                for blob in [manifest["config"], *manifest.get("layers", [])]:
                    if blob["digest"] in seen:
                        continue
                    seen.add(blob["digest"])
                    how = self._upload_blob(
                        target, blob["digest"], int(blob["size"]), opener(blob["digest"]), mount_from
                    )
                    counts[how] += 1
            for digest, media_type, body in manifests:
                self.put_manifest(Reference(target.domain, target.path, None, digest), media_type, body)
            digest = self.put_manifest(target, top["mediaType"], index_body)
        if digest != top["digest"]:
            raise RegistryError(f"{target}: the registry stored {digest}, expected {top['digest']}")
        return UploadResult(digest, counts["uploaded"], counts["present"], counts["mounted"])

    def _upload_blob(
        self, repo: Reference, digest: str, size: int, open_body: Callable[[], IO[bytes]], mount_from: tuple[str, ...]
    ) -> str:
        path = f"/v2/{repo.path}/blobs/"
        if self._call("HEAD", repo, path + digest, scope="pull,push", expect=(200, 404)).status == 200:
            return "present"
        for source in mount_from:
            query = urllib.parse.urlencode({"mount": digest, "from": source})
            answer = self._call("POST", repo, f"{path}uploads/?{query}", scope="pull,push", expect=(201, 202))
            if answer.status == 201:
                return "mounted"
        # POST then PUT (monolithic upload). A PUT the registry rejects for a broken session starts over.
        for _ in range(3):
            answer = self._call("POST", repo, f"{path}uploads/", scope="pull,push", expect=(202,))
            location = answer.headers.get("location", "")
            if not location:
                raise RegistryError(f"{repo.domain}: upload of {digest} got no Location")
            sep = "&" if "?" in location else "?"
            try:
                self._call(
                    "PUT",
                    repo,
                    f"{location}{sep}digest={urllib.parse.quote(digest)}",
                    body=open_body,
                    headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
                    scope="pull,push",
                    expect=(201,),
                )
                return "uploaded"
            except RegistryError as exc:
                if exc.status not in (400, 404):  # other than "that upload session is gone"
                    raise
        raise RegistryError(f"{repo.domain}: upload of {digest} kept failing")

    # ------------------------------------------------------------------ plumbing

    def _json(self, ref: Reference, kind: str, target: str) -> dict[str, Any]:
        answer = self._read("GET", ref, kind, target)
        if answer.status == 404:
            raise RegistryError(f"{ref.repository}: {kind[:-1]} {target} not found")
        result: dict[str, Any] = json.loads(answer.body)
        return result

    def _manifest_request(self, method: str, ref: Reference) -> Response:
        return self._read(method, ref, "manifests", ref.digest or ref.tag or "latest")

    def _read(self, method: str, ref: Reference, kind: str, target: str) -> Response:
        """HEAD/GET a manifest or blob, trying dockerd's mirrors first for Docker Hub references."""
        mirrors = self.mirrors if ref.domain == DOCKER_HUB else ()
        path = f"/v2/{ref.path}/{kind}/{target}"
        for mirror in mirrors:
            try:
                answer = self._call(
                    method, Reference(mirror, ref.path), path, expect=(200, 404), headers={"Accept": _ACCEPT}
                )
            except RegistryError:
                continue
            if answer.status != 404:
                return answer
        return self._call(method, ref, path, expect=(200, 404), headers={"Accept": _ACCEPT})

    def _call(
        self,
        method: str,
        ref: Reference,
        path_or_url: str,
        *,
        body: Body = None,
        headers: Mapping[str, str] | None = None,
        scope: str = "pull",
        expect: tuple[int, ...] = (200,),
    ) -> Response:
        """One request, retried on its own while its failure is transient."""
        url = path_or_url if "://" in path_or_url else _base_url(ref.domain) + path_or_url
        return call_with_retries(
            f"{method} {url}",
            lambda: self._call_once(method, ref, url, body, dict(headers or {}), scope, expect),
            self.retry,
            self.on_retry,
        )

    def _call_once(
        self,
        method: str,
        ref: Reference,
        url: str,
        body: Body,
        headers: dict[str, str],
        scope: str,
        expect: tuple[int, ...],
    ) -> Response:
        auth = self._tokens.get((ref.repository, scope)) or self._basic_auth(ref.domain)
        if auth:
            headers["Authorization"] = auth
        for attempt in range(2):
            data: Any = body() if callable(body) else body
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout, context=self._ssl()) as resp:
                    answer = Response(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
            except urllib.error.HTTPError as exc:
                challenge = exc.headers.get("www-authenticate", "") if exc.headers else ""
                if exc.code == 401 and attempt == 0 and challenge.lower().startswith("bearer"):
                    token = self._token(ref, challenge, scope)
                    if token:
                        headers["Authorization"] = token
                        continue
                if exc.code in expect:
                    return Response(exc.code, {k.lower(): v for k, v in (exc.headers or {}).items()}, b"")
                raise _http_error(ref, url, exc.code, exc.reason) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                raise RegistryError(
                    f"{ref.domain} unreachable: {method} {url}: {getattr(exc, 'reason', exc)}", transient=True
                ) from None
            finally:
                if hasattr(data, "close"):
                    data.close()
            if answer.status not in expect:
                raise _http_error(ref, url, answer.status, "unexpected status")
            return answer
        raise RegistryError(f"{ref.domain}: authentication failed for {ref.path}")

    def _ssl(self) -> ssl.SSLContext | None:
        if self.ca_bundle is None:
            return None
        return ssl.create_default_context(cafile=str(self.ca_bundle))

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
            entry = auths.get(key)
            if isinstance(entry, dict) and entry.get("auth"):
                return f"Basic {entry['auth']}"
        return None

    def _token(self, ref: Reference, challenge: str, scope: str) -> str | None:
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", None)
        if not realm:
            return None
        params["scope"] = f"repository:{ref.path}:{scope}"
        request = urllib.request.Request(realm + "?" + urllib.parse.urlencode(params))
        basic = self._basic_auth(ref.domain)
        if basic:
            request.add_header("Authorization", basic)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self._ssl()) as resp:
                data = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise _http_error(ref, realm, exc.code, exc.reason) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RegistryError(f"token request to {realm} failed: {exc}", transient=True) from None
        token = data.get("token") or data.get("access_token")
        if not token:
            return None
        value = f"Bearer {token}"
        self._tokens[(ref.repository, scope)] = value
        return value


def _http_error(ref: Reference, url: str, code: int, reason: object) -> RegistryError:
    if code == 429 or code >= 500:
        return RegistryError(f"{ref.domain}: HTTP {code} {reason} from {url}", transient=True, status=code)
    if code in (401, 403):
        return RegistryError(
            f"{ref.domain}: access denied (HTTP {code}) to {ref.path}; log in (BASEIMAGES_REGISTRY_USER and "
            "BASEIMAGES_REGISTRY_PASSWORD, or `docker login`) or check the credentials",
            status=code,
        )
    return RegistryError(f"{ref.domain}: HTTP {code} {reason} from {url}", status=code)


def _must(handle: IO[bytes] | None) -> IO[bytes]:
    if handle is None:
        raise RegistryError("archive member is not a file")
    return handle


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
    if domain == DOCKER_HUB:
        return "https://registry-1.docker.io"
    return f"{'http' if is_local(domain) else 'https'}://{domain}"
