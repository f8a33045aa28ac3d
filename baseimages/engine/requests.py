"""What baseimages asks of Docker, as typed requests that describe themselves.

Each request renders the exact argv python-on-whales runs for it (what `--dry-run` prints) and the
python-on-whales arguments that run it, from the same fields, so that the two cannot drift apart
(tests/unit/test_engine_argv.py checks the parity). `baseimages.engine.client` executes them.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.runs import RUN_LABEL

LineSink = Callable[[str], None]

# What `--dry-run` shows for the name of a run's container; a real run names it baseimages-run-<12 hex>.
RUN_NAME_PLACEHOLDER = "baseimages-run-<id>"
# What `--dry-run` shows for the run identity a container is labelled with; a real run's is PID@HOST:STARTED.
RUN_OWNER_PLACEHOLDER = "<pid>@<host>:<started>"
# The log driver of a run's container: it keeps all the output, stdout and stderr apart, for `docker logs`.
RUN_LOG_DRIVER = "json-file"


@dataclass(frozen=True)
class BuildRequest:
    """One `docker buildx build` of one image for PLATFORMS."""

    context: Path
    dockerfile: Path
    platforms: Sequence[str]
    build_args: Mapping[str, str] = field(default_factory=dict)
    build_contexts: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    secrets: Sequence[str] = ()  # buildx --secret values: id=..,src=.. or id=..,env=..
    output: Mapping[str, str] = field(default_factory=dict)
    metadata_file: Path | None = None
    builder: str | None = None  # a buildx builder (`--builder`)
    docker_context: str | None = None  # a Docker context (`docker --context`): its engine's `docker` driver builds
    provenance: Mapping[str, str] | None = None  # e.g. {"mode": "max"}: BuildKit's provenance attestation
    attest: Mapping[str, str] | None = None  # one more attestation, e.g. {"type": "sbom", "generator": IMAGE}
    no_cache: bool = False  # every step runs again (a rebuild that checks reproducibility)
    cache_from: Mapping[str, str] | None = None  # e.g. {"type": "registry", "ref": ...}: see build_cache
    cache_to: Mapping[str, str] | None = None  # e.g. {"type": "registry", "ref": ..., "mode": "max"}

    def argv(self) -> list[str]:
        """The exact command python-on-whales runs for this request (flag order included)."""
        cmd = ["docker", *(["--context", self.docker_context] if self.docker_context else [])]
        cmd += ["buildx", "build", "--progress", "plain"]
        if self.attest:
            cmd += ["--attest", _buildx_dict(self.attest)]
        cmd += _repeat("--build-arg", [f"{k}={v}" for k, v in self.build_args.items()])
        cmd += _repeat("--build-context", [f"{k}={v}" for k, v in self.build_contexts.items()])
        if self.builder:
            cmd += ["--builder", self.builder]
        cmd += _repeat("--label", [f"{k}={v}" for k, v in self.labels.items()])
        if self.provenance:
            cmd += ["--provenance", _buildx_dict(self.provenance)]
        if self.metadata_file is not None:
            cmd += ["--metadata-file", str(self.metadata_file)]
        cmd += ["--file", str(self.dockerfile)]
        if self.cache_from:
            cmd += ["--cache-from", _buildx_dict(self.cache_from)]
        if self.cache_to:
            cmd += ["--cache-to", _buildx_dict(self.cache_to)]
        cmd += _repeat("--secret", list(self.secrets))
        if self.output:
            cmd += ["--output", ",".join(f"{k}={v}" for k, v in self.output.items())]
        cmd += ["--platform", ",".join(self.platforms)]
        if self.no_cache:
            cmd.append("--no-cache")
        cmd.append(str(self.context))
        return cmd

    def pow_kwargs(self) -> dict[str, Any]:
        """python-on-whales' `buildx.build` arguments (the Docker context is the client's: `client_options`)."""
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
            "provenance": dict(self.provenance) if self.provenance else None,
            "attest": dict(self.attest) if self.attest else None,
            "cache": not self.no_cache,
            "cache_from": dict(self.cache_from) if self.cache_from else None,
            "cache_to": dict(self.cache_to) if self.cache_to else None,
        }

    def client_options(self) -> dict[str, Any]:
        """python-on-whales' `DockerClient` arguments the build needs: its Docker context, if any."""
        return {"context": self.docker_context} if self.docker_context else {}

    def recipe(self) -> str:
        """A hash of what shapes the exported image besides its steps' results: labels, build args (the
        parent's pinned digest is in its labels; how BASE_IMAGE names it is left out), output options (the
        archive's path left out), attestations, platforms and the names of the build contexts. Two
        requests with the same recipe whose steps all come from the same cache export the same image."""
        shaping = {
            "labels": dict(self.labels),
            "build_args": {k: v for k, v in self.build_args.items() if k != "BASE_IMAGE"},
            "output": {k: v for k, v in self.output.items() if k != "dest"},
            "provenance": dict(self.provenance or {}),
            "attest": dict(self.attest or {}),
            "platforms": list(self.platforms),
            "contexts": sorted(self.build_contexts),
        }
        return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class PullRequest:
    """`docker image pull` of one platform of an image from its registry."""

    image: str
    platform: str

    def argv(self) -> list[str]:
        return ["docker", "image", "pull", "--quiet", f"--platform={self.platform}", self.image]


@dataclass(frozen=True)
class RunRequest:
    """One run of a command in an image for one platform, with the entrypoint replaced.

    It runs as one container, named per run, in five steps: `docker create` (the argv below), then
    `docker container start`, `wait` (the exit code), `logs` (stdout and stderr, apart, from the log
    driver) and `rm --force --volumes`, which always runs. The output is read only once the container
    has exited, so a short-lived container cannot exit before its output is collected.

    The image must be in the local store already (pulled per platform first, or built locally):
    `--pull never` keeps a run from fetching anything behind the factory's back.
    """

    image: str
    command: Sequence[str]
    platform: str

    def create_kwargs(self, name: str, owner: str = RUN_OWNER_PLACEHOLDER) -> dict[str, Any]:
        """python-on-whales' `container.create` arguments for the container NAME of the run OWNER (its
        identity, the label `io.baseimages.run`: the next run removes it if this one is killed)."""
        return {
            "image": self.image,
            "command": list(self.command[1:]),
            "entrypoint": self.command[0],
            "labels": {RUN_LABEL: owner},
            "log_driver": RUN_LOG_DRIVER,
            "name": name,
            "platform": self.platform,
            "pull": "never",
        }

    def argv(self, name: str = RUN_NAME_PLACEHOLDER, owner: str = RUN_OWNER_PLACEHOLDER) -> list[str]:
        """The exact `docker create` python-on-whales runs for `create_kwargs(NAME, OWNER)` (flag order included)."""
        return [
            "docker",
            "create",
            "--entrypoint",
            self.command[0],
            "--label",
            f"{RUN_LABEL}={owner}",
            "--log-driver",
            RUN_LOG_DRIVER,
            "--name",
            name,
            "--platform",
            self.platform,
            "--pull",
            "never",
            self.image,
            *self.command[1:],
        ]

    def describe(self) -> str:
        """The `--dry-run` line: the create command, and the steps that follow it as a shell comment."""
        steps = f"then docker container start, wait, logs, rm --force --volumes {RUN_NAME_PLACEHOLDER}"
        return f"{shlex.join(self.argv())}  # {steps}"


@dataclass(frozen=True)
class RunResult:
    """A finished run: the container's exit code and its whole stdout and stderr."""

    exit_code: int
    stdout: str
    stderr: str


def _buildx_dict(values: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in values.items())


def _repeat(flag: str, values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        out += [flag, value]
    return out
