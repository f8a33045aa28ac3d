"""In-memory stand-ins for the engine and the registry client, for tests of the scheduler and the
factory: no Docker, no network. They record what was asked of them and fail where a test says."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fake_image import MANIFEST_TYPE, make_image
from fake_runner import answer, answer_build, is_runner

from baseimages.core.errors import BuildError, RegistryError
from baseimages.core.process import Finished
from baseimages.core.reference import Reference
from baseimages.core.retry import RetryPolicy
from baseimages.engine.buildx_errors import build_failure
from baseimages.engine.client import BuildRequest, PullRequest, RunRequest, RunResult
from baseimages.oci.archive import archive_index
from baseimages.registry.client import ImageIndex, PlatformManifest, UploadResult
from baseimages.registry.documents import INDEX_TYPES, Manifest

BASE_DIGEST = "sha256:" + "b" * 64


def digest_of(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass
class FakeEngine:
    """Builds succeed (a digest per build), checks answer `python --version` and `ok` to anything else; the
    paths the check runner probes exist (but not the skip markers).

    fail_build: image names whose build raises BuildError; fail_runs: parts of image references (or of a
    contract build's name, "uv contract") whose checks exit 1 (e.g. "/uv:");
    interrupt_build: an image name whose build raises KeyboardInterrupt (Ctrl-C in the middle of a stage);
    build_seconds: how long a build takes (to see parallelism); slow: image names whose build takes 0.5 s."""

    fail_build: set[str] = field(default_factory=set)
    lose_session: set[str] = field(default_factory=set)  # image names whose first build BuildKit loses (transient)
    fail_runs: set[str] = field(default_factory=set)
    interrupt_build: str | None = None
    build_seconds: float = 0.0
    reproducible: bool = False  # the same image manifests for the same build request (the index still differs)
    slow: set[str] = field(default_factory=set)
    # image name -> the files of its layer (a dpkg status, METADATA files), as a changelog reads them; such an
    # image's config holds only its build's labels, so that two builds of the same files differ in those only.
    # Every other image's layer is a tar of its seed, and its config an Env of it (every build differs).
    contents: dict[str, dict[str, bytes]] = field(default_factory=dict)
    slow_contract: set[str] = field(default_factory=set)  # image names whose contract build takes 0.5 s
    slow_runs: set[str] = field(default_factory=set)  # parts of image references whose check runs take 0.5 s
    platform_files: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)  # platform -> more FILES
    flaky_contract: set[str] = field(default_factory=set)  # image names whose first contract build gets a 503
    log: list[str] = field(default_factory=list)  # "build NAME" as a build starts, "contract NAME done" as one ends
    builds: list[str] = field(default_factory=list)  # the image of each build (one per platform)
    warmups: list[tuple[str, str]] = field(default_factory=list)  # (image, platform) of each cache warm-up done
    warm_seconds: float = 0.0  # how long a cache warm-up takes
    fail_warm: set[str] = field(default_factory=set)  # image names whose cache warm-up fails
    platform_seconds: dict[str, float] = field(default_factory=dict)  # platform -> how long its builds take
    machine: str = ""  # what `docker info` names the engine's machine ("": unknown, nothing emulated)
    started: dict[tuple[str, str], float] = field(default_factory=dict)  # (image, platform) -> its build's start
    platform_builds: list[tuple[str, str, str | None]] = field(default_factory=list)  # (image, platform, builder)
    by_platform: dict[tuple[str, str], BuildRequest] = field(default_factory=dict)  # (image, platform) -> request
    loaded: list[str] = field(default_factory=list)  # archives `docker image load` was given
    exported: list[tuple[str, str]] = field(default_factory=list)  # (image, platform) root filesystems exported
    requests: dict[str, BuildRequest] = field(default_factory=dict)  # image name -> its last build request
    runs: list[RunRequest] = field(default_factory=list)
    files: dict[str, tuple[int, str]] = field(default_factory=dict)
    local: dict[str, str] = field(default_factory=dict)  # output name -> digest
    platforms: dict[str, list[str]] = field(default_factory=dict)
    most_concurrent: int = 0  # images building at once
    most_concurrent_of_image: int = 0  # builds of one image (its platforms) at once
    _building: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def build(self, request: BuildRequest, image: str, on_line: Any = None) -> str:
        name = image.split(" ")[0]
        with self._lock:
            self.builds.append(name)
            self.log.append(f"build {name}")
            self.platform_builds += [(name, platform, request.builder) for platform in request.platforms]
            self.started[(name, ",".join(request.platforms))] = time.monotonic()
            self.requests[name] = request
            self.by_platform[(name, ",".join(request.platforms))] = request
            self._building[name] = self._building.get(name, 0) + 1
            self.most_concurrent = max(self.most_concurrent, len(self._building))
            self.most_concurrent_of_image = max(self.most_concurrent_of_image, self._building[name])
        try:
            seconds = self.platform_seconds.get(request.platforms[0], self.build_seconds)
            time.sleep(0.5 if name in self.slow else seconds)
            if name == self.interrupt_build:
                raise KeyboardInterrupt
            if name in self.fail_build:
                raise BuildError(image, "docker buildx build failed (exit 1): ERROR: boom", log="ERROR: boom")
            if name in self.lose_session:
                self.lose_session.discard(name)
                lost = "ERROR: failed to solve: DeadlineExceeded: context deadline exceeded"
                raise BuildError(image, f"docker buildx build failed (exit 1): {lost}", log=lost, transient=True)
            output = request.output["name"]
            # Every build a new digest (as if not reproducible), written where buildx writes its OCI archive.
            # Reproducible: what goes into the image (its parent's digest, its args; not how BASE_IMAGE names it).
            inputs = sorted((k, v) for k, v in {**request.build_args, **request.labels}.items() if k != "BASE_IMAGE")
            seed = f"{output}|{inputs}" if self.reproducible else f"{output}|{uuid.uuid4()}"
            prefix = "annotation-index."
            notes = {k[len(prefix) :]: v for k, v in request.output.items() if k.startswith(prefix)}
            image = make_image(
                seed,
                platforms=request.platforms,
                annotations=notes,
                attestation=True,
                run=str(uuid.uuid4()),
                files=self.contents.get(name, {}),
                config={"Labels": dict(request.labels)} if name in self.contents else None,
            )
            if "dest" in request.output:
                image.write_archive(Path(request.output["dest"]), name=output)
            with self._lock:
                self.platforms.setdefault(output, [])
                self.platforms[output] += [p for p in request.platforms if p not in self.platforms[output]]
            return image.digest
        finally:
            with self._lock:
                self._building[name] -= 1
                if not self._building[name]:
                    del self._building[name]

    def pull(self, request: PullRequest) -> None:
        return None

    def build_files(self, request: BuildRequest, image: str, on_line: Any = None) -> None:
        """A contract build: its checks answered as `run` answers them (FAIL_RUNS matched on IMAGE); a cache
        warm-up (`type=cacheonly` FROM the parent's output) recorded in WARMUPS, its layout checked."""
        if request.output.get("type") == "cacheonly" and "baseimages-parent" in request.build_contexts:
            return self._warm_up(request, image)
        with self._lock:
            self.builds.append(image)
        name = image.split(" ")[0]
        time.sleep(0.5 if name in self.slow | self.slow_contract else self.build_seconds)
        with self._lock:
            self.log.append(f"contract {name} done")
        if name in self.flaky_contract:
            self.flaky_contract.discard(name)
            line = f"ERROR: failed to solve: {name}: failed to resolve source metadata: 503 Service Unavailable"
            raise build_failure(f"{name} contract service", 1, [line])
        if name in self.fail_build:
            raise BuildError(image, "docker buildx build failed (exit 1): ERROR: boom", log="ERROR: boom")
        failing = any(part in image for part in self.fail_runs)
        dest = Path(request.output["dest"])
        answer_build(request.dockerfile, dest, request.platforms, lambda _, argv: self._respond(argv, failing))

    def _warm_up(self, request: BuildRequest, image: str) -> None:
        name = image.split(" ")[0]
        [platform] = request.platforms
        layout, _, digest = request.build_contexts["baseimages-parent"].removeprefix("oci-layout://").partition("@")
        assert (Path(layout) / "blobs" / digest.replace(":", "/", 1)).is_file(), (layout, digest)
        with self._lock:
            self.log.append(f"warm {name} {platform}")
        time.sleep(self.warm_seconds)
        if name in self.fail_warm:
            raise BuildError(image, "docker buildx build failed (exit 1): ERROR: boom", log="ERROR: boom")
        with self._lock:
            self.warmups.append((name, platform))

    def run(self, request: RunRequest) -> RunResult:
        """A run of the check runner: each check answered by `_respond`, paths probed in FILES."""
        with self._lock:
            self.runs.append(request)
            self.log.append(f"run {request.image} {request.platform}")
        if any(part in request.image for part in self.slow_runs):
            time.sleep(0.5)
        failing = any(part in request.image for part in self.fail_runs)
        if not is_runner(request.command):
            return self._respond(tuple(request.command), failing)
        files = self.files | self.platform_files.get(request.platform or "", {})
        return answer(request.command, lambda argv: self._respond(argv, failing), files)

    @staticmethod
    def _respond(command: tuple[str, ...], failing: bool) -> RunResult:
        if failing:
            return RunResult(1, "", "it broke")
        if command == ("python", "--version"):
            return RunResult(0, "Python 3.11.2\n", "")
        return RunResult(0, "ok\n", "")

    def image_config(self, reference: str) -> dict[str, Any] | None:
        return {"Env": [], "Labels": {}, "User": "", "WorkingDir": ""}

    def load(self, archive: Path) -> None:
        """`docker image load`: the archive's index under the name its index.json gives it."""
        self.loaded.append(archive.name)
        with tarfile.open(archive) as tar:
            handle = tar.extractfile("index.json")
            assert handle is not None
            top = json.loads(handle.read())["manifests"][0]
        self.local[top["annotations"]["io.containerd.image.name"]] = top["digest"]

    def export_rootfs(self, image: str, platform: str, dest: Path) -> None:
        """A root filesystem with a dpkg status and one Python distribution, as the image would have."""
        (dest / "var/lib/dpkg").mkdir(parents=True, exist_ok=True)
        (dest / "var/lib/dpkg/status").write_text("Package: libc6\nStatus: install ok installed\nVersion: 2.36\n")
        self.exported.append((image, platform))

    def login(self, server: str, credentials: Any) -> None:
        return None

    def local_digest(self, reference: str) -> str | None:
        return self.local.get(reference)

    def architecture(self) -> str:
        return self.machine


class TagTable(dict[str, dict[str, str]]):
    """repository -> tag -> digest; called with a repository reference, its sorted tag list (the client's
    `tags`)."""

    def __call__(self, repository: Reference) -> list[str]:
        return sorted(self.get(repository.repository, {}))


@dataclass
class MemoryRegistry:
    """The registry client's surface, in memory: tags per repository, uploaded indexes.

    fail_upload / fail_tags: repository names (the image name) whose upload or tag move raises."""

    fail_upload: set[str] = field(default_factory=set)
    fail_tags: set[str] = field(default_factory=set)
    blobs_read: list[str] = field(default_factory=list)  # the digest of each blob opened (layers a changelog read)
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(attempts=1, max_seconds=1))
    tags: TagTable = field(default_factory=TagTable)  # repository -> tag -> digest; `tags(ref)` lists them
    indexes: dict[str, list[str]] = field(default_factory=dict)  # digest -> platforms
    platform_digests: dict[str, dict[str, str]] = field(default_factory=dict)  # digest -> platform -> manifest
    annotations: dict[str, dict[str, str]] = field(default_factory=dict)  # digest -> annotations
    tag_moves: list[tuple[str, str, str]] = field(default_factory=list)  # (repository, tag, digest)
    blobs: dict[str, bytes] = field(default_factory=dict)  # digest -> every manifest and blob uploaded
    on_retry: Any = None  # the client's retry sink (a changelog's layer reads are retried through it)
    caches: dict[str, dict[str, Any]] = field(default_factory=dict)  # "repository:tag" -> a build cache's index

    def digest(self, ref: Reference) -> str | None:
        if ref.digest:
            return ref.digest
        if ref.path.endswith("python"):
            return BASE_DIGEST
        return self.tags.get(ref.repository, {}).get(ref.tag or "latest")

    def summary(self, ref: Reference) -> tuple[str, dict[str, str]] | None:
        digest = self.digest(ref)
        return None if digest is None else (digest, self.annotations.get(digest, {}))

    def index(self, ref: Reference) -> ImageIndex:
        digest = self.digest(ref)
        if digest is None or digest not in self.indexes:
            raise RegistryError(f"{ref}: not found in the registry")
        manifests = tuple(
            PlatformManifest(p, d, 1_000_000, self._config_of(d, p)) for p, d in self.platform_digests[digest].items()
        )
        return ImageIndex(str(ref), digest, manifests)

    def _config_of(self, manifest: str, platform: str) -> str:
        """The config digest of an uploaded image manifest (a made-up one for a manifest never uploaded)."""
        body = self.blobs.get(manifest)
        return str(json.loads(body)["config"]["digest"]) if body else digest_of("config" + platform)

    def blob_json(self, ref: Reference, digest: str, size: int | None = None) -> dict[str, Any]:
        return json.loads(self.blobs[digest]) if digest in self.blobs else {"config": {}}

    def manifest(self, ref: Reference) -> Manifest | None:
        """An uploaded manifest, by digest (what a changelog reads), or a build cache's index, by tag."""
        cache = self.caches.get(f"{ref.path}:{ref.tag}")
        if cache is not None and not ref.digest:
            body = json.dumps(cache).encode()
            return Manifest(digest_of(body.decode()), INDEX_TYPES[0], body, cache)
        body = self.blobs.get(ref.digest or "")
        if body is None:
            return None
        doc = json.loads(body)
        return Manifest(ref.digest or "", str(doc.get("mediaType", MANIFEST_TYPE)), body, doc)

    def open_blob(self, ref: Reference, digest: str, size: int) -> _Blob:
        self.blobs_read.append(digest)
        if digest not in self.blobs:
            raise RegistryError(f"{ref.repository}@{digest}: blob unknown")
        return _Blob(self.blobs[digest])

    def upload_archive(
        self, archive: Path, target: Reference, mount_from: tuple[str, ...] = (), jobs: int = 1
    ) -> UploadResult:
        if target.path.rsplit("/", 1)[-1] in self.fail_upload:
            raise RegistryError(f"{target.domain}: HTTP 500 Internal Server Error (gave up after 1 attempts)")
        digest, platforms = archive_index(archive)
        self.blobs.update(_archive_blobs(archive))
        self.annotations[digest] = _index_annotations(archive, digest)
        self.indexes[digest] = list(platforms)
        self.platform_digests[digest] = platforms
        self.tags.setdefault(target.repository, {})[target.tag or "latest"] = digest
        return UploadResult(digest, 2, 0, 0)

    def copy_tags(self, source: Reference, tags: list[str]) -> None:
        if source.path.rsplit("/", 1)[-1] in self.fail_tags:
            raise RegistryError(f"{source.domain}: HTTP 403 Forbidden")
        for tag in tags:
            assert source.digest is not None
            self.tags.setdefault(source.repository, {})[tag] = source.digest
            self.tag_moves.append((source.repository, tag, source.digest))


@dataclass
class CosignRunner:
    """Stands in for the cosign binary: records each call (argv, env, the predicate it was given) and
    fails the calls whose reference contains one of FAIL_ON."""

    fail_on: set[str] = field(default_factory=set)
    calls: list[tuple[list[str], dict[str, str] | None, Any]] = field(default_factory=list)

    def __call__(self, argv: Any, env: Any) -> Finished:
        argv = list(argv)
        predicate = None
        if "--predicate" in argv:
            predicate = json.loads(Path(argv[argv.index("--predicate") + 1]).read_text())
        self.calls.append((argv, dict(env) if env else None, predicate))
        if any(part in argv[-1] for part in self.fail_on):
            return Finished(tuple(argv), 1, "", "Error: signing: registry refused the signature")
        return Finished(tuple(argv), 0, "", "")

    def verbs(self) -> list[tuple[str, str]]:
        return [(argv[1], argv[-1]) for argv, _, _ in self.calls]


class AttestingCosign(CosignRunner):
    """cosign that verifies a signature and a passing test record for the digests in PASSED (each platform
    of the index passed: PLATFORMS_OF gives a digest's platform -> manifest digest), and fails to verify
    any other digest."""

    def __init__(self, platforms_of: Any, passed: set[str] | None = None) -> None:
        super().__init__()
        self.platforms_of = platforms_of
        self.passed = passed or set()

    def __call__(self, argv: Any, env: Any) -> Finished:
        done = super().__call__(argv, env)
        argv = list(argv)
        digest = argv[-1].rsplit("@", 1)[-1]
        if argv[1] in ("verify", "verify-attestation") and digest not in self.passed:
            return Finished(tuple(argv), 1, "", "Error: no matching signatures")
        if argv[1] == "verify-attestation":
            platforms = self.platforms_of(digest)
            record = {"digest": digest, "passed": True, "platforms": [
                {"platform": p, "digest": d, "status": "passed"} for p, d in platforms.items()
            ]}  # fmt: skip
            statement = {"predicateType": argv[argv.index("--type") + 1], "predicate": record,
                         "subject": [{"digest": {"sha256": digest.removeprefix("sha256:")}}]}  # fmt: skip
            payload = base64.b64encode(json.dumps(statement).encode()).decode()
            return Finished(tuple(argv), 0, json.dumps({"payload": payload}) + "\n", "")
        return done


class _Blob(io.BytesIO):
    """A blob as the registry client streams it: read, then `finish` (checked), closed by `with`."""

    def finish(self) -> None:
        return None


def _archive_blobs(archive: Path) -> dict[str, bytes]:
    """Every blob of the OCI archive ARCHIVE, by digest."""
    with tarfile.open(archive) as tar:
        found = {}
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith("blobs/sha256/"):
                handle = tar.extractfile(member)
                assert handle is not None
                found["sha256:" + member.name.rsplit("/", 1)[-1]] = handle.read()
        return found


def _index_annotations(archive: Path, digest: str) -> dict[str, str]:
    """The annotations of the image index DIGEST in the OCI archive ARCHIVE."""
    import tarfile

    with tarfile.open(archive) as tar:
        handle = tar.extractfile(f"blobs/sha256/{digest.split(':', 1)[1]}")
        assert handle is not None
        return dict(json.loads(handle.read()).get("annotations") or {})
