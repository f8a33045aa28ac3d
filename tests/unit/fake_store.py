"""What the fake registry stores, and how it answers the distribution API: manifests by tag and digest,
blobs linked into repositories, upload sessions and cross-repository mounts. Like a real registry it
checks digests and refuses a manifest whose blobs or manifests it does not hold."""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field

from fake_faults import Answer
from fake_image import INDEX_TYPE, MANIFEST_TYPE, FakeImage, sha256


@dataclass
class RegistryStore:
    blobs: dict[str, bytes] = field(default_factory=dict)  # digest -> bytes, shared by every repository
    repo_blobs: dict[str, set[str]] = field(default_factory=dict)  # repository -> digests linked into it
    manifests: dict[str, dict[str, tuple[str, bytes]]] = field(default_factory=dict)  # repo -> digest -> type, body
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # repository -> tag -> digest
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
        elif match := re.fullmatch(r"/v2/(.+)/manifests/([^/]+)", path):
            self._manifest(answer, method, match[1], match[2], content_type, body)
        elif match := re.fullmatch(r"/v2/(.+)/blobs/uploads/([^/]*)", path):
            self._upload(answer, method, match[1], match[2], query, body)
        elif match := re.fullmatch(r"/v2/(.+)/blobs/([^/]+)", path):
            self._blob(answer, method, match[1], match[2])
        else:
            answer.error(404, "NOT_FOUND", f"no route for {method} {path}")

    def _manifest(self, answer: Answer, method: str, repo: str, ref: str, content_type: str, body: bytes) -> None:
        if method == "PUT":
            self._put_manifest(answer, repo, ref, content_type, body)
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
