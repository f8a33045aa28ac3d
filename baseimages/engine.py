"""The one place that runs processes: Docker (buildx builds, containers, pulls, saves) through
python-on-whales, and git for the revision labels.

Every call is described first as a typed request that can render its exact argv (what `--dry-run`
prints) and is then executed with python-on-whales' own API. python-on-whales' DockerException is
translated here, and only here, into our errors. Nothing else in baseimages imports python_on_whales,
which keeps start-up cheap on paths that never touch Docker.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .build_logs import error_excerpt
from .config import Credentials
from .errors import BuildError, EngineError, RegistryError

LineSink = Callable[[str], None]
LOG_TAIL_LINES = 5000  # kept of a build's output, for the excerpt of a failure (build_logs.error_excerpt)

# An error line of buildx that names a registry request: the build itself succeeded, pushing failed.
_PUSH_FAILURE = re.compile(
    r"failed to push|failed to resolve source metadata|unexpected status from (HEAD|GET|PUT|POST|PATCH) request|"
    r"failed to do request|failed to authorize|pushing .* with docker|connection (refused|reset)",
    re.IGNORECASE,
)
_PERMANENT = re.compile(r"\b(401|403)\b|unauthorized|denied|manifest unknown|invalid reference", re.IGNORECASE)
_TRANSIENT = re.compile(
    r"(?<![\w.:-])(50[0-4]|429)(?![\w.-])|Service Unavailable|Too Many Requests|Bad Gateway|"
    r"connection (refused|reset)|timeout|timed out|\bEOF\b|broken pipe|TLS handshake",
    re.IGNORECASE,
)


def is_transient_text(text: str) -> bool:
    """Whether a registry error message describes a failure worth retrying."""
    return not _PERMANENT.search(text) and bool(_TRANSIENT.search(text))


def classify_push_failure(image: str, error_line: str) -> RegistryError | None:
    """A RegistryError for a buildx error line that is about talking to a registry, else None."""
    if not _PUSH_FAILURE.search(error_line):
        return None
    action = "resolving an image in the registry" if "resolve" in error_line else "pushing to the registry"
    return RegistryError(f"{image}: {action} failed: {error_line}", transient=is_transient_text(error_line))


@dataclass(frozen=True)
class BuildRequest:
    """One `docker buildx build` of one image for all its platforms."""

    context: Path
    dockerfile: Path
    platforms: Sequence[str]
    build_args: Mapping[str, str] = field(default_factory=dict)
    build_contexts: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    secrets: Sequence[str] = ()  # buildx --secret values: id=..,src=.. or id=..,env=..
    output: Mapping[str, str] = field(default_factory=dict)
    metadata_file: Path | None = None
    builder: str | None = None

    def argv(self) -> list[str]:
        """The exact command python-on-whales runs for this request (flag order included)."""
        cmd = ["docker", "buildx", "build", "--progress", "plain"]
        cmd += _repeat("--build-arg", [f"{k}={v}" for k, v in self.build_args.items()])
        cmd += _repeat("--build-context", [f"{k}={v}" for k, v in self.build_contexts.items()])
        if self.builder:
            cmd += ["--builder", self.builder]
        cmd += _repeat("--label", [f"{k}={v}" for k, v in self.labels.items()])
        if self.metadata_file is not None:
            cmd += ["--metadata-file", str(self.metadata_file)]
        cmd += ["--file", str(self.dockerfile)]
        cmd += _repeat("--secret", list(self.secrets))
        if self.output:
            cmd += ["--output", ",".join(f"{k}={v}" for k, v in self.output.items())]
        cmd += ["--platform", ",".join(self.platforms)]
        cmd.append(str(self.context))
        return cmd

    def pow_kwargs(self) -> dict[str, Any]:
        return {
            "context_path": self.context,
            "file": self.dockerfile,
            "platforms": list(self.platforms),
            "build_args": dict(self.build_args),
            "build_contexts": dict(self.build_contexts),
            "labels": dict(self.labels),
            "secrets": list(self.secrets),
            "output": dict(self.output),
            "metadata_file": self.metadata_file,
            "builder": self.builder,
            "progress": "plain",
            "stream_logs": True,
        }


@dataclass(frozen=True)
class PullRequest:
    """`docker image pull` of one platform of an image from its registry."""

    image: str
    platform: str

    def argv(self) -> list[str]:
        return ["docker", "image", "pull", "--quiet", f"--platform={self.platform}", self.image]


@dataclass(frozen=True)
class RunRequest:
    """One `docker run --rm` of a command in an image for one platform; entrypoint replaced.

    The image must be in the local store already (pulled per platform first, or built locally):
    `--pull never` keeps a run from fetching anything behind the factory's back.
    """

    image: str
    command: Sequence[str]
    platform: str

    def argv(self) -> list[str]:
        return [
            "docker",
            "container",
            "run",
            "--entrypoint",
            self.command[0],
            "--platform",
            self.platform,
            "--pull",
            "never",
            "--rm",
            self.image,
            *self.command[1:],
        ]


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    stdout: str
    stderr: str


def _repeat(flag: str, values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        out += [flag, value]
    return out


class Engine(Protocol):
    """What the factory needs from Docker. `DockerEngine` is the real one; tests may pass another."""

    def build(self, request: BuildRequest, image: str, on_line: LineSink | None = None) -> str: ...

    def pull(self, request: PullRequest) -> None: ...

    def run(self, request: RunRequest) -> RunResult: ...

    def image_config(self, reference: str) -> dict[str, Any] | None: ...

    def save(self, reference: str, output: Path) -> None: ...

    def login(self, server: str, credentials: Credentials) -> None: ...

    def local_digest(self, reference: str) -> str | None: ...


class DockerEngine:
    """The real engine: python-on-whales against the local Docker daemon and buildx."""

    def __init__(self, host: str | None = None) -> None:
        from python_on_whales import DockerClient

        self._docker = DockerClient(host=host) if host else DockerClient()

    def check(self, platforms: Sequence[str] = ()) -> None:
        """Raise EngineError unless dockerd answers and buildx can build PLATFORMS."""
        from python_on_whales.exceptions import DockerException

        try:
            self._docker.version()
            builder = self._docker.buildx.inspect()
        except DockerException as exc:
            raise EngineError(
                "the Docker engine or buildx is not usable (on a bare Debian machine run `scripts/engine up`): "
                + _first_line(exc.stderr or str(exc))
            ) from None
        available = {str(p) for node in builder.nodes for p in (node.platforms or [])}
        missing = [p for p in platforms if available and p not in available]
        if missing:
            raise EngineError(
                f"builder {builder.name!r} cannot build {', '.join(missing)} (it has {', '.join(sorted(available))}); "
                "register QEMU binfmt handlers (`scripts/engine up` does)"
            )

    def build(self, request: BuildRequest, image: str, on_line: LineSink | None = None) -> str:
        """Build; return the digest of the resulting image index (from buildx's metadata file)."""
        from python_on_whales.exceptions import DockerException

        tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        with tempfile.TemporaryDirectory(prefix="baseimages-") as tmp:
            metadata = request.metadata_file or Path(tmp) / "metadata.json"
            kwargs = request.pow_kwargs() | {"metadata_file": metadata}
            try:
                for chunk in self._docker.buildx.build(**kwargs):
                    for line in str(chunk).splitlines():
                        tail.append(line)
                        if on_line is not None:
                            on_line(line)
            except DockerException as exc:
                log = error_excerpt(tail)
                registry_error = classify_push_failure(image, _last_error(tail))
                if registry_error is not None:
                    raise registry_error from None
                raise BuildError(
                    image, f"docker buildx build failed (exit {exc.return_code}): {_last_error(tail)}", log=log
                ) from None
            try:
                data = json.loads(metadata.read_text())
                return str(data["containerimage.digest"])
            except (OSError, ValueError, KeyError) as exc:
                raise BuildError(image, f"buildx wrote no image digest to its metadata file ({exc})") from None

    def pull(self, request: PullRequest) -> None:
        from python_on_whales.exceptions import DockerException

        try:
            self._docker.image.pull(request.image, quiet=True, platform=request.platform)
        except DockerException as exc:
            reason = _first_line(exc.stderr or exc.stdout or str(exc))
            raise RegistryError(
                f"pulling {request.image} for {request.platform} failed: {reason}", transient=is_transient_text(reason)
            ) from None

    def run(self, request: RunRequest) -> RunResult:
        from python_on_whales.exceptions import DockerException

        out: list[bytes] = []
        err: list[bytes] = []
        try:
            stream = self._docker.run(
                request.image,
                list(request.command[1:]),
                entrypoint=request.command[0],
                platform=request.platform,
                pull="never",
                remove=True,
                stream=True,
            )
            for source, chunk in stream:
                (out if source == "stdout" else err).append(chunk)
            code = 0
        except DockerException as exc:
            code = exc.return_code
        return RunResult(code, b"".join(out).decode(errors="replace"), b"".join(err).decode(errors="replace"))

    def image_config(self, reference: str) -> dict[str, Any] | None:
        """The config section (Env, Labels, User, WorkingDir) of a local image, None when absent."""
        from python_on_whales.exceptions import DockerException

        try:
            config = self._docker.image.inspect(reference).config
        except DockerException:
            return None
        return {
            "Env": list(config.env or []),
            "Labels": dict(config.labels or {}),
            "User": config.user or "",
            "WorkingDir": str(config.working_dir or ""),
        }

    def login(self, server: str, credentials: Credentials) -> None:
        """`docker login` (password on stdin, never on a command line), for BuildKit and pulls."""
        from python_on_whales.exceptions import DockerException

        try:
            self._docker.login(server=server, username=credentials.username, password=credentials.password)
        except DockerException as exc:
            reason = _first_line(exc.stderr or exc.stdout or "login failed").replace(credentials.password, "***")
            raise RegistryError(f"docker login to {server} failed: {reason}") from None

    def save(self, reference: str, output: Path) -> None:
        """`docker image save`: an OCI archive of every platform of REFERENCE, digests unchanged."""
        from python_on_whales.exceptions import DockerException

        try:
            self._docker.image.save(reference, output=output)
        except DockerException as exc:
            raise BuildError(reference, f"docker image save failed: {_first_line(exc.stderr or str(exc))}") from None

    def local_digest(self, reference: str) -> str | None:
        """The digest (image index) REFERENCE names in the local image store, None when absent."""
        from python_on_whales.exceptions import DockerException

        try:
            return str(self._docker.image.inspect(reference).id)
        except DockerException:
            return None


def git_output(root: Path, *args: str) -> str:
    """`git -C ROOT ARGS` stdout, or "" outside a git checkout (labels are then left out)."""
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def children_of(pid: int) -> list[int]:
    """The process ids whose parent is PID (read from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid):
            out.append(int(stat.parent.name))
    return out


def interrupt_children() -> None:
    """Send SIGINT to the processes this one started (docker, buildx): they stop their builds and runs."""
    for child in children_of(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGINT)


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "(no output)"


def _last_error(tail: Sequence[str]) -> str:
    for line in reversed(tail):
        if "ERROR" in line or "error" in line:
            return line.strip()
    return tail[-1].strip() if tail else "(no output)"
