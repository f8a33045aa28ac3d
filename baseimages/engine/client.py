"""The one place that runs Docker for a run (buildx builds, containers, pulls, loads), through
python-on-whales; other processes (git, cosign) go through `baseimages.core.process`.

Every call is described first as a typed request (`baseimages.engine.requests`) that can render its
exact argv (what `--dry-run` prints) and is then executed here with python-on-whales' own API.
python-on-whales' DockerException is translated here into our errors. Only this module and
`engine_probe` (the read-only questions `doctor` asks) import python_on_whales, and only inside their
functions, which keeps start-up cheap on paths that never touch Docker.
"""

from __future__ import annotations

import contextlib
import json
import signal
import uuid
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..core.errors import BuildError, EngineError, RegistryError
from ..core.process import children_of, signal_children
from ..core.runs import RUN_LABEL, owned_tempdir, this_run
from ..settings.config import Credentials
from .buildx_errors import build_failure, classify_push_failure, is_transient_text
from .requests import BuildRequest, LineSink, PullRequest, RunRequest, RunResult

if TYPE_CHECKING:
    from python_on_whales import DockerClient

__all__ = [
    "BuildRequest",
    "DockerEngine",
    "Engine",
    "LineSink",
    "PullRequest",
    "RunRequest",
    "RunResult",
    "children_of",
    "classify_push_failure",
    "interrupt_children",
    "is_transient_text",
]

LOG_TAIL_LINES = 5000  # kept of a build's output, for the excerpt of a failure (build_logs.error_excerpt)


class Engine(Protocol):
    """What the factory needs from Docker. `DockerEngine` is the real one; tests may pass another."""

    def build(self, request: BuildRequest, image: str, on_line: LineSink | None = None) -> str: ...

    def build_files(self, request: BuildRequest, image: str, on_line: LineSink | None = None) -> None: ...

    def pull(self, request: PullRequest) -> None: ...

    def run(self, request: RunRequest) -> RunResult: ...

    def image_config(self, reference: str) -> dict[str, Any] | None: ...

    def load(self, archive: Path) -> None: ...

    def export_rootfs(self, image: str, platform: str, dest: Path) -> None: ...

    def login(self, server: str, credentials: Credentials) -> None: ...

    def local_digest(self, reference: str) -> str | None: ...

    def architecture(self) -> str: ...


class DockerEngine:
    """The real engine: python-on-whales against the local Docker daemon and buildx."""

    def __init__(self, host: str | None = None, client: DockerClient | None = None) -> None:
        """Talk to the daemon at HOST (default: the current context), or through CLIENT when given."""
        if client is None:
            from python_on_whales import DockerClient

            client = DockerClient(host=host) if host else DockerClient()
        self._docker = client
        self._contexts: dict[str, DockerClient] = {}  # a client per Docker context a build runs on
        self._architecture: str | None = None

    def _client(self, options: dict[str, Any]) -> DockerClient:
        """This engine's client, or one for the Docker context in a request's CLIENT_OPTIONS."""
        if not options.get("context"):
            return self._docker
        from python_on_whales import DockerClient

        return self._contexts.setdefault(options["context"], DockerClient(**options))

    def check(self, platforms: Sequence[str] = ()) -> None:
        """Raise EngineError unless dockerd answers and buildx can build PLATFORMS."""
        from python_on_whales import ClientNotFoundError
        from python_on_whales.exceptions import DockerException

        try:
            self._docker.version()
            builder = self._docker.buildx.inspect()
        except ClientNotFoundError:
            raise EngineError(
                "the docker command is not on PATH: install Docker with buildx (on a bare Debian machine run "
                "`scripts/engine up`)"
            ) from None
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
        with owned_tempdir("build") as tmp:
            metadata = request.metadata_file or Path(tmp) / "metadata.json"
            self._build(request, image, on_line, metadata)
            try:
                data = json.loads(metadata.read_text())
                return str(data["containerimage.digest"])
            except (OSError, ValueError, KeyError) as exc:
                raise BuildError(image, f"buildx wrote no image digest to its metadata file ({exc})") from None

    def build_files(self, request: BuildRequest, image: str, on_line: LineSink | None = None) -> None:
        """Build REQUEST, whose output is files (`type=local`) or nothing (`type=cacheonly`: what its progress
        says is all): nothing goes to the image store, there is no image and so no digest (what the files or
        the lines say is the caller's to check)."""
        if request.output.get("type") not in ("local", "cacheonly"):
            raise BuildError(
                image, f"build_files needs a type=local or cacheonly output, not {request.output.get('type')}"
            )
        self._build(request, image, on_line)

    def _build(self, request: BuildRequest, image: str, on_line: LineSink | None, metadata: Path | None = None) -> None:
        """Run REQUEST (on its Docker context), streaming buildx's lines to ON_LINE; its failure is a BuildError
        (or a RegistryError when it was about talking to a registry) with an excerpt of the log."""
        from python_on_whales.exceptions import DockerException

        tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        try:
            kwargs = request.pow_kwargs() | ({"metadata_file": metadata} if metadata else {})
            for chunk in self._client(request.client_options()).buildx.build(**kwargs):
                for line in str(chunk).splitlines():
                    tail.append(line)
                    if on_line is not None:
                        on_line(line)
        except DockerException as exc:
            raise build_failure(image, exc.return_code, tail) from None

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
        """Run REQUEST's command in a container of its own: create, start, wait for the exit code, then
        read stdout and stderr from the logs. The container is removed however this ends (error or
        Ctrl-C included). A non-zero exit of the command is the result's exit code; Docker failing is
        a BuildError (the image cannot run, e.g. it is not in the local store) or an EngineError."""
        from python_on_whales.exceptions import DockerException

        name = f"baseimages-run-{uuid.uuid4().hex[:12]}"  # known before create: removable even if create is cut short
        try:
            result = self._run_container(request, name)
        except BaseException:
            with contextlib.suppress(DockerException):
                self._docker.container.remove(name, force=True, volumes=True)
            raise
        try:
            self._docker.container.remove(name, force=True, volumes=True)
        except DockerException as exc:
            raise EngineError(
                f"removing the container {name} (a run in {request.image}) failed: {_says(exc)}"
            ) from None
        return result

    def _run_container(self, request: RunRequest, name: str) -> RunResult:
        from python_on_whales.exceptions import DockerException

        containers = self._docker.container
        try:
            containers.create(**request.create_kwargs(name, this_run().label))
        except DockerException as exc:
            if _engine_unreachable(exc):
                raise EngineError(f"the Docker engine is not reachable: {_says(exc)}") from None
            raise BuildError(request.image, f"cannot create a container for {request.platform}: {_says(exc)}") from None
        start_failure = ""
        try:
            containers.start(name)
        except DockerException as exc:
            # The command cannot start (not found, not executable): the daemon records 127 or 126 as the
            # container's exit code, which `wait` returns, as `docker run` would exit.
            start_failure = _says(exc)
        out: list[bytes] = []
        err: list[bytes] = []
        step = "wait"
        try:
            exit_code = int(containers.wait(name))
            step = "logs"
            for source, chunk in containers.logs(name, stream=True):
                (out if source == "stdout" else err).append(chunk)
        except DockerException as exc:
            raise EngineError(f"docker container {step} of a run in {request.image} failed: {_says(exc)}") from None
        if start_failure:
            if exit_code == 0:
                raise EngineError(f"docker container start of a run in {request.image} failed: {start_failure}")
            err.insert(0, start_failure.encode() + b"\n")
        return RunResult(exit_code, b"".join(out).decode(errors="replace"), b"".join(err).decode(errors="replace"))

    def labelled_containers(self, label: str) -> list[tuple[str, str]]:
        """(name, value of LABEL) of every container that carries LABEL, running or not; one that goes
        away while it is listed is left out."""
        from python_on_whales.exceptions import DockerException

        try:
            listed = self._docker.container.list(all=True, filters=[("label", label)])
        except DockerException as exc:
            raise EngineError(f"docker container ls failed: {_says(exc)}") from None
        found = []
        for container in listed:
            with contextlib.suppress(DockerException):
                found.append((container.name, str((container.config.labels or {}).get(label, ""))))
        return found

    def remove_container(self, name: str) -> None:
        """`docker container rm --force --volumes NAME`; one already gone counts as removed."""
        from python_on_whales.exceptions import DockerException, NoSuchContainer

        try:
            self._docker.container.remove(name, force=True, volumes=True)
        except NoSuchContainer:
            return
        except DockerException as exc:
            raise EngineError(f"removing the container {name} failed: {_says(exc)}") from None

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

    def architecture(self) -> str:
        """The daemon's machine as `docker info` names it (x86_64, aarch64), asked once; "" when it does not
        answer (then no platform counts as emulated)."""
        from python_on_whales.exceptions import DockerException

        if self._architecture is None:
            try:
                self._architecture = str(self._docker.system.info().architecture or "")
            except DockerException:
                self._architecture = ""
        return self._architecture

    def login(self, server: str, credentials: Credentials) -> None:
        """`docker login` (password on stdin, never on a command line), for BuildKit and pulls."""
        from python_on_whales.exceptions import DockerException

        try:
            self._docker.login(server=server, username=credentials.username, password=credentials.password)
        except DockerException as exc:
            reason = _first_line(exc.stderr or exc.stdout or "login failed").replace(credentials.password, "***")
            raise RegistryError(f"docker login to {server} failed: {reason}") from None

    def load(self, archive: Path) -> None:
        """`docker image load`: an OCI archive (every platform, under the name its index carries) into the
        local image store, digests unchanged (the containerd image store keeps the index as it is)."""
        from python_on_whales.exceptions import DockerException

        try:
            self._docker.image.load(archive, quiet=True)
        except DockerException as exc:
            reason = _first_line(exc.stderr or str(exc))
            raise BuildError(str(archive), f"docker image load failed: {reason}") from None

    def export_rootfs(self, image: str, platform: str, dest: Path) -> None:
        """Unpack PLATFORM's root filesystem of IMAGE (in the local store) into DEST: `docker create`, then
        `docker export`; the container never starts and is always removed."""
        import tarfile
        import uuid

        from python_on_whales.exceptions import DockerException

        name = f"baseimages-export-{uuid.uuid4().hex[:12]}"
        containers = self._docker.container
        try:
            containers.create(
                image,
                name=name,
                platform=platform,
                pull="never",
                entrypoint="/bin/true",
                labels={RUN_LABEL: this_run().label},
            )
            dest.mkdir(parents=True, exist_ok=True)
            with owned_tempdir("export") as tmp:
                archive = Path(tmp) / "rootfs.tar"
                containers.export(name, archive)
                with tarfile.open(archive) as tar:
                    tar.extractall(dest, filter="tar")
        except DockerException as exc:
            raise BuildError(image, f"cannot export the {platform} root filesystem: {_says(exc)}") from None
        except (OSError, tarfile.TarError) as exc:
            raise BuildError(image, f"cannot unpack the {platform} root filesystem: {exc}") from None
        finally:
            with contextlib.suppress(DockerException):
                containers.remove(name, force=True, volumes=True)

    def local_digest(self, reference: str) -> str | None:
        """The digest (image index) REFERENCE names in the local image store, None when absent."""
        from python_on_whales.exceptions import DockerException

        try:
            return str(self._docker.image.inspect(reference).id)
        except DockerException:
            return None


def interrupt_children() -> None:
    """Send SIGINT to the processes this one started (docker, buildx): they stop their builds and runs."""
    signal_children(signal.SIGINT)


def _says(exc: Any) -> str:
    """What Docker said about a failed command, in one line: the first line of its stderr (a python-on-whales
    DockerException; the daemon's answer comes first, the CLI's summary after it)."""
    lines = [ln.strip() for ln in (exc.stderr or exc.stdout or "").splitlines() if ln.strip()]
    return lines[0] if lines else f"exit code {exc.return_code}"


def _engine_unreachable(exc: Any) -> bool:
    return "cannot connect to the docker daemon" in (exc.stderr or "").lower()


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "(no output)"
