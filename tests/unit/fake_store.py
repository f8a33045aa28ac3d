"""What the fake registry stores, and how it answers the distribution API: manifests by tag and digest,
blobs linked into repositories, upload sessions and cross-repository mounts, tag and repository lists
(paginated with a Link header when `page_size` is set), manifest DELETE by digest (405 UNSUPPORTED unless
`delete_enabled`, as distribution without storage.delete.enabled) and, with `referrers_api`, the OCI
referrers API. Like a real registry it checks digests and refuses a manifest whose blobs or manifests it
does not hold."""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from fake_faults import Answer
from fake_image import INDEX_TYPE, MANIFEST_TYPE, FakeImage, sha256


@dataclass
class RegistryStore:
    blobs: dict[str, bytes] = field(default_factory=dict)  # digest -> bytes, shared by every repository
    repo_blobs: dict[str, set[str]] = field(default_factory=dict)  # repository -> digests linked into it
    manifests: dict[str, dict[str, tuple[str, bytes]]] = field(default_factory=dict)  # repo -> digest -> type, body
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # repository -> tag -> digest
    page_size: int | None = None  # tags/list and _catalog answer pages of this many, with a Link to the next
    delete_enabled: bool = True
    referrers_api: bool = False  # answer GET /v2/<repo>/referrers/<digest> (else 404, as distribution 2.8)
    _uploads: dict[str, str] = field(default_factory=dict)  # upload session -> repository
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_blob(self, repo: str, body: bytes) -> str:
        digest = sha256(body)
        with self._lock:
            self.blobs[digest] = body
            self.repo_blobs.setdefault(repo, set()).add(digest)
        return digest

    def add_manifest(self, repo: str, body: bytes, media_type: str = MANIFEST_TYPE, tag: str | None = None) -> str:
        """Store BODY as is (no check of what it references) under its digest, and at TAG."""
        digest = sha256(body)
        with self._lock:
            self.manifests.setdefault(repo, {})[digest] = (media_type, body)
            if tag is not None:
                self.tags.setdefault(repo, {})[tag] = digest
        return digest

    def preload(self, repo: str, image: FakeImage, tag: str | None = None) -> str:
        """IMAGE in REPO (its blobs, manifests and index), at TAG when given; returns the index digest."""
        for body in image.blobs.values():
            self.add_blob(repo, body)
        for body in image.manifests.values():
            self.add_manifest(repo, body)
        return self.add_manifest(repo, image.index, INDEX_TYPE, tag)

    def tag_digest(self, repo: str, tag: str) -> str | None:
        return self.tags.get(repo, {}).get(tag)

    def stored(self, path: str) -> tuple[str, bytes] | None:
        """What a GET of PATH would answer (media type, body), when the registry holds something there."""
        if match := re.fullmatch(r"/v2/(.+)/blobs/([^/]+)", path):
            blob = self.blobs.get(match[2])
            return None if blob is None else ("application/octet-stream", blob)
        if match := re.fullmatch(r"/v2/(.+)/manifests/([^/]+)", path):
            repo, ref = match[1], match[2]
            digest = ref if ":" in ref else self.tags.get(repo, {}).get(ref, "")
            return self.manifests.get(repo, {}).get(digest)
        return None

    def route(
        self, answer: Answer, method: str, path: str, query: dict[str, str], content_type: str, body: bytes
    ) -> None:
        """Answer one request of the distribution API."""
        if re.fullmatch(r"/v2/?", path):
            answer.send(200, b"{}", {"Content-Type": "application/json"})
        elif path == "/v2/_catalog" and method == "GET":
            self._listing(answer, path, query, "repositories", sorted(r for r, m in self.manifests.items() if m))
        elif (match := re.fullmatch(r"/v2/(.+)/tags/list", path)) and method == "GET":
            if match[1] not in self.manifests:
                answer.error(404, "NAME_UNKNOWN", f"repository name not known to registry: {match[1]}")
            else:
                self._listing(answer, path, query, "tags", sorted(self.tags.get(match[1], {})), {"name": match[1]})
        elif (match := re.fullmatch(r"/v2/(.+)/referrers/([^/]+)", path)) and self.referrers_api:
            self._referrers(answer, match[1], match[2])
        elif match := re.fullmatch(r"/v2/(.+)/manifests/([^/]+)", path):
            self._manifest(answer, method, match[1], match[2], content_type, body)
        elif match := re.fullmatch(r"/v2/(.+)/blobs/uploads/([^/]*)", path):
            self._upload(answer, method, match[1], match[2], query, body)
        elif match := re.fullmatch(r"/v2/(.+)/blobs/([^/]+)", path):
            self._blob(answer, method, match[1], match[2])
        else:
            answer.error(404, "NOT_FOUND", f"no route for {method} {path}")

    def _listing(
        self,
        answer: Answer,
        path: str,
        query: dict[str, str],
        key: str,
        items: list[str],
        extra: dict[str, str] | None = None,
    ) -> None:
        """One page of ITEMS after `last`, of `n` (or page_size) items, with a Link to the next page."""
        items = [item for item in items if item > query.get("last", "")]
        size = int(query["n"]) if "n" in query else self.page_size
        page, rest = (items[:size], items[size:]) if size else (items, [])
        headers = {"Content-Type": "application/json"}
        if rest:
            headers["Link"] = f'<{path}?{urlencode({"last": page[-1], "n": size})}>; rel="next"'
        answer.send(200, json.dumps({**(extra or {}), key: page}).encode(), headers)

    def _referrers(self, answer: Answer, repo: str, digest: str) -> None:
        entries = []
        for ref_digest, (media_type, body) in sorted(self.manifests.get(repo, {}).items()):
            doc = json.loads(body)
            if (doc.get("subject") or {}).get("digest") == digest:
                entry = {"mediaType": media_type, "digest": ref_digest, "size": len(body)}
                entries.append(entry | ({"artifactType": doc["artifactType"]} if "artifactType" in doc else {}))
        index = {"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": entries}
        answer.send(200, json.dumps(index).encode(), {"Content-Type": INDEX_TYPE})

    def _delete_manifest(self, answer: Answer, repo: str, ref: str) -> None:
        """DELETE by digest, as distribution does: the manifest and every tag pointing at it go."""
        if not self.delete_enabled:
            answer.error(405, "UNSUPPORTED", "The operation is unsupported.")
        elif ":" not in ref:
            answer.error(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
        elif ref not in self.manifests.get(repo, {}):
            answer.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        else:
            with self._lock:
                del self.manifests[repo][ref]
                tags = self.tags.get(repo, {})
                for tag in [t for t, d in tags.items() if d == ref]:
                    del tags[tag]
            answer.send(202, b"", {})

    def _manifest(self, answer: Answer, method: str, repo: str, ref: str, content_type: str, body: bytes) -> None:
        if method == "PUT":
            self._put_manifest(answer, repo, ref, content_type, body)
            return
        if method == "DELETE":
            self._delete_manifest(answer, repo, ref)
            return
        digest = ref if ":" in ref else self.tags.get(repo, {}).get(ref, "")
        stored = self.manifests.get(repo, {}).get(digest)
        if method not in ("GET", "HEAD"):
            answer.error(405, "UNSUPPORTED", method)
        elif stored is None:
            answer.error(404, "MANIFEST_UNKNOWN", f"manifest unknown: {repo}:{ref}")
        else:
            media_type, content = stored
            answer.send(200, content, {"Content-Type": media_type, "Docker-Content-Digest": digest})

    def _put_manifest(self, answer: Answer, repo: str, ref: str, media_type: str, body: bytes) -> None:
        digest = sha256(body)
        if ":" in ref and ref != digest:
            answer.error(400, "DIGEST_INVALID", f"manifest digest {digest} is not {ref}")
            return
        try:
            doc = json.loads(body)
            wanted = [m["digest"] for m in doc["manifests"]] if "manifests" in doc else []
            blobs = [] if "manifests" in doc else [doc["config"]["digest"], *(x["digest"] for x in doc["layers"])]
        except (ValueError, KeyError, TypeError):
            answer.error(400, "MANIFEST_INVALID", "manifest invalid")
            return
        missing = [d for d in wanted if d not in self.manifests.get(repo, {})]
        missing += [d for d in blobs if d not in self.repo_blobs.get(repo, set())]
        if missing:
            answer.error(400, "MANIFEST_BLOB_UNKNOWN", f"blob unknown to registry: {missing[0]}")
            return
        self.add_manifest(repo, body, media_type, None if ":" in ref else ref)
        answer.send(201, b"", {"Location": f"/v2/{repo}/manifests/{digest}", "Docker-Content-Digest": digest})

    def _blob(self, answer: Answer, method: str, repo: str, digest: str) -> None:
        if digest not in self.repo_blobs.get(repo, set()):
            answer.error(404, "BLOB_UNKNOWN", f"blob unknown to registry: {digest}")
        else:
            headers = {"Content-Type": "application/octet-stream", "Docker-Content-Digest": digest}
            answer.send(200, self.blobs[digest], headers)

    def _upload(self, answer: Answer, method: str, repo: str, session: str, query: dict[str, str], body: bytes) -> None:
        if method == "POST":
            source = query.get("from")
            if "mount" in query and source and query["mount"] in self.repo_blobs.get(source, set()):
                self.add_blob(repo, self.blobs[query["mount"]])
                location = f"/v2/{repo}/blobs/{query['mount']}"
                answer.send(201, b"", {"Location": location, "Docker-Content-Digest": query["mount"]})
                return
            session = uuid.uuid4().hex
            with self._lock:
                self._uploads[session] = repo
            location = f"/v2/{repo}/blobs/uploads/{session}?_state={session[:8]}"
            answer.send(202, b"", {"Location": location, "Docker-Upload-UUID": session, "Range": "0-0"})
        elif method == "PUT":
            if self._uploads.get(session) != repo:
                answer.error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
            elif sha256(body) != query.get("digest"):
                answer.error(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
            else:
                self._uploads.pop(session, None)
                digest = self.add_blob(repo, body)
                answer.send(201, b"", {"Location": f"/v2/{repo}/blobs/{digest}", "Docker-Content-Digest": digest})
        else:
            answer.error(405, "UNSUPPORTED", f"{method} on an upload")
