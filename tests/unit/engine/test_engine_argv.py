"""The argv our requests render (what --dry-run prints) equals what python-on-whales actually runs.

python-on-whales' process launchers are replaced by recorders, so nothing reaches Docker. Its docker
binary lookup is pinned to plain "docker" so that the comparison does not depend on the PATH.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import python_on_whales.client_config
import python_on_whales.components.buildx.cli_wrapper as buildx_wrapper
import python_on_whales.components.buildx.imagetools.cli_wrapper as imagetools_wrapper
import python_on_whales.components.container.cli_wrapper as container_wrapper
import python_on_whales.components.image.cli_wrapper as image_wrapper
from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from baseimages.core.errors import BuildError, RegistryError
from baseimages.core.runs import this_run
from baseimages.engine.client import (
    BuildRequest,
    DockerEngine,
    PullRequest,
    RunRequest,
    classify_push_failure,
)

DIGEST = "sha256:" + "ab" * 32

FULL_BUILD = BuildRequest(
    context=Path("/work/images/uv"),
    dockerfile=Path("/work/images/uv/Dockerfile"),
    platforms=["linux/amd64", "linux/arm64"],
    build_args={"BASE_IMAGE": f"python:3.11-slim@{DIGEST}", "UV_VERSION": "0.13.9"},
    build_contexts={"wheelhouse": "/opt/wheels"},
    labels={"org.opencontainers.image.title": "uv", "org.opencontainers.image.version": "1.0.0"},
    secrets=["id=ca-bundle,src=/etc/ssl/ca.pem", "id=index-url,env=BASEIMAGES_INDEX_URL"],
    output={"type": "image", "name": "localhost:5000/baseimages/uv:candidate-1.0.0", "push": "true"},
    metadata_file=Path("/tmp/metadata.json"),
    builder="multiarch",
    provenance={"mode": "max"},
    attest={"type": "sbom", "generator": "localhost:5000/tools/sbom:1"},
    no_cache=True,
    cache_from={"type": "registry", "ref": "localhost:5000/baseimages/uv:buildcache-amd64"},
    cache_to={
        "type": "registry",
        "ref": "localhost:5000/baseimages/uv:buildcache-amd64",
        "mode": "max",
        "ignore-error": "true",
    },
)
MINIMAL_BUILD = BuildRequest(
    context=Path("/work/images/uv"), dockerfile=Path("/work/images/uv/Dockerfile"), platforms=["linux/amd64"]
)


@pytest.fixture
def recorder(monkeypatch):
    """Replace every process python-on-whales would start; returns the dict the commands land in."""
    calls: dict[str, list[str]] = {}
    monkeypatch.setattr(python_on_whales.client_config.ClientConfig, "_get_docker_path", lambda self: "docker")

    def buildx_logs(full_cmd, env=None):
        calls["build"] = [str(x) for x in full_cmd]
        return iter([])

    def container_run(full_cmd, *args, **kwargs):
        calls.setdefault("container", []).append([str(x) for x in full_cmd])
        return "0123456789ab" * 5 + "cdef"  # `docker create` prints the new container's id

    def imagetools_run(full_cmd, *args, **kwargs):
        calls["imagetools"] = [str(x) for x in full_cmd]
        return ""

    def no_pull(self, image):
        calls["pull_if_necessary"] = [image]

    monkeypatch.setattr(buildx_wrapper, "stream_buildx_logs", buildx_logs)
    monkeypatch.setattr(container_wrapper, "run", container_run)
    monkeypatch.setattr(imagetools_wrapper, "run", imagetools_run)
    monkeypatch.setattr(image_wrapper.ImageCLI, "_pull_if_necessary", no_pull)
    return calls


ON_CONTEXT = BuildRequest(
    context=Path("/work/images/uv"),
    dockerfile=Path("/work/images/uv/Dockerfile"),
    platforms=["linux/arm64"],
    docker_context="arm64-node",
)


@pytest.mark.parametrize("request_", [FULL_BUILD, MINIMAL_BUILD, ON_CONTEXT], ids=["full", "minimal", "context"])
def test_build_request_argv_equals_python_on_whales_buildx_build(recorder, request_):
    list(DockerClient(**request_.client_options()).buildx.build(**request_.pow_kwargs()))
    assert recorder["build"] == request_.argv()


def test_a_build_on_a_docker_context_names_it_before_buildx_and_passes_no_builder():
    argv = ON_CONTEXT.argv()
    assert argv[:5] == ["docker", "--context", "arm64-node", "buildx", "build"]
    assert "--builder" not in argv


def test_build_request_argv_renders_every_input():
    argv = FULL_BUILD.argv()
    assert argv[:3] == ["docker", "buildx", "build"]
    assert argv[-1] == "/work/images/uv"
    pairs = list(zip(argv, argv[1:], strict=False))
    assert ("--build-arg", f"BASE_IMAGE=python:3.11-slim@{DIGEST}") in pairs
    assert ("--secret", "id=index-url,env=BASEIMAGES_INDEX_URL") in pairs
    assert ("--build-context", "wheelhouse=/opt/wheels") in pairs
    assert ("--platform", "linux/amd64,linux/arm64") in pairs
    assert ("--output", "type=image,name=localhost:5000/baseimages/uv:candidate-1.0.0,push=true") in pairs
    assert ("--provenance", "mode=max") in pairs
    assert ("--attest", "type=sbom,generator=localhost:5000/tools/sbom:1") in pairs
    assert "--no-cache" in argv
    assert ("--cache-from", "type=registry,ref=localhost:5000/baseimages/uv:buildcache-amd64") in pairs
    cache_to = "type=registry,ref=localhost:5000/baseimages/uv:buildcache-amd64,mode=max,ignore-error=true"
    assert ("--cache-to", cache_to) in pairs


def test_a_build_request_without_a_registry_cache_has_no_cache_flags():
    argv = MINIMAL_BUILD.argv()
    assert "--cache-from" not in argv and "--cache-to" not in argv
    kwargs = MINIMAL_BUILD.pow_kwargs()
    assert (kwargs["cache_from"], kwargs["cache_to"]) == (None, None)


RUNS = [
    RunRequest(f"localhost:5000/baseimages/uv@{DIGEST}", ["sh", "-c", "echo hi && exit 3"], "linux/arm64"),
    RunRequest("python:3.11-slim", ["python"], "linux/amd64"),
]


@pytest.mark.parametrize("request_", RUNS, ids=["with-args", "no-args"])
def test_run_request_argv_equals_python_on_whales_container_create(recorder, request_):
    DockerClient().container.create(**request_.create_kwargs("baseimages-run-0a1b2c3d4e5f"))
    assert recorder["container"] == [request_.argv("baseimages-run-0a1b2c3d4e5f")]


def test_run_request_dry_run_line_is_the_create_command_then_the_steps_that_follow():
    line = RUNS[0].describe()
    create, _, steps = line.partition("  # ")
    assert shlex.split(create) == RUNS[0].argv()
    assert shlex.split(create)[:2] == ["docker", "create"]
    assert ("--pull", "never") in zip(RUNS[0].argv(), RUNS[0].argv()[1:], strict=False)
    assert steps == "then docker container start, wait, logs, rm --force --volumes baseimages-run-<id>"


# --------------------------------------------------------------------------- DockerEngine itself


def test_docker_engine_build_runs_request_argv_and_returns_metadata_digest(monkeypatch, recorder, tmp_path):
    metadata = tmp_path / "metadata.json"
    request = BuildRequest(
        context=tmp_path, dockerfile=tmp_path / "Dockerfile", platforms=["linux/amd64"], metadata_file=metadata
    )

    def buildx_logs(full_cmd, env=None):
        recorder["build"] = [str(x) for x in full_cmd]
        metadata.write_text(json.dumps({"containerimage.digest": DIGEST}))
        yield "#1 DONE\n"

    monkeypatch.setattr(buildx_wrapper, "stream_buildx_logs", buildx_logs)
    lines: list[str] = []
    assert DockerEngine().build(request, "uv", on_line=lines.append) == DIGEST
    assert recorder["build"] == request.argv()
    assert lines == ["#1 DONE"]


def _failing_build(lines):
    def buildx_logs(full_cmd, env=None):
        yield from lines
        raise DockerException([str(x) for x in full_cmd], 1, b"", b"")

    return buildx_logs


def test_docker_engine_build_turns_a_push_failure_into_a_transient_registry_error(monkeypatch, recorder, tmp_path):
    line = "ERROR: failed to push localhost:5000/x:candidate-1.0.0: unexpected status from PUT request: 503"
    monkeypatch.setattr(buildx_wrapper, "stream_buildx_logs", _failing_build(["#9 pushing\n", line + "\n"]))
    with pytest.raises(RegistryError) as info:
        DockerEngine().build(MINIMAL_BUILD, "uv")
    assert info.value.transient is True
    assert info.value.exit_code == 3


def test_docker_engine_build_turns_a_step_failure_into_a_build_error_with_log(monkeypatch, recorder):
    line = 'ERROR: failed to solve: process "/bin/sh -c false" did not complete successfully: exit code: 1'
    monkeypatch.setattr(buildx_wrapper, "stream_buildx_logs", _failing_build(["#5 RUN false\n", line + "\n"]))
    with pytest.raises(BuildError) as info:
        DockerEngine().build(MINIMAL_BUILD, "uv")
    assert not isinstance(info.value, RegistryError)
    assert info.value.exit_code == 1
    assert "did not complete successfully" in str(info.value)
    assert info.value.log.splitlines() == ["#5 RUN false", line]


def test_docker_engine_build_marks_a_session_buildkit_lost_after_the_export_as_transient(monkeypatch, recorder):
    line = "ERROR: failed to solve: DeadlineExceeded: context deadline exceeded"
    monkeypatch.setattr(
        buildx_wrapper, "stream_buildx_logs", _failing_build(["#16 sending tarball 103.1s done\n", line])
    )
    with pytest.raises(BuildError) as info:
        DockerEngine().build(MINIMAL_BUILD, "uv")
    assert info.value.transient is True
    assert "DeadlineExceeded" in str(info.value)


def test_docker_engine_build_failure_of_a_step_is_not_transient(monkeypatch, recorder):
    line = 'ERROR: failed to solve: process "/bin/sh -c false" did not complete successfully: exit code: 1'
    monkeypatch.setattr(buildx_wrapper, "stream_buildx_logs", _failing_build([line]))
    with pytest.raises(BuildError) as info:
        DockerEngine().build(MINIMAL_BUILD, "uv")
    assert info.value.transient is False


def test_docker_engine_run_creates_starts_waits_reads_logs_and_removes_one_named_container(monkeypatch, recorder):
    request = RunRequest(
        f"localhost:5000/baseimages/uv@{DIGEST}", ["sh", "-c", "echo out; echo err >&2; exit 3"], "linux/arm64"
    )
    commands: list[list[str]] = []

    def container_run(full_cmd, *args, **kwargs):
        cmd = [str(x) for x in full_cmd]
        commands.append(cmd)
        if cmd[1:3] == ["container", "wait"]:
            return "3"
        if cmd[1:3] == ["container", "inspect"]:
            return json.dumps([{"Id": "c" * 64}])
        return "c" * 64

    def container_stream(full_cmd, pass_fds=(), **kwargs):
        commands.append([str(x) for x in full_cmd])
        yield "stdout", b"out\n"
        yield "stderr", b"err\n"

    monkeypatch.setattr(container_wrapper, "run", container_run)
    monkeypatch.setattr(container_wrapper, "stream_stdout_and_stderr", container_stream)
    result = DockerEngine().run(request)
    assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")
    name = commands[0][commands[0].index("--name") + 1]
    assert name.startswith("baseimages-run-")
    assert commands == [
        request.argv(name, this_run().label),  # labelled with its run: the next run removes it if this one is killed
        ["docker", "container", "start", name],
        ["docker", "container", "wait", name],
        ["docker", "container", "inspect", name],  # python-on-whales checks the container exists before `logs`
        ["docker", "container", "logs", name],
        ["docker", "container", "rm", "--force", "--volumes", name],
    ]


# --------------------------------------------------------------------------- push failure classification


def test_503_push_failure_is_transient():
    line = (
        "ERROR: failed to push localhost:5000/baseimages/uv:candidate-1.0.0: unexpected status from PUT request "
        "to http://localhost:5000/v2/baseimages/uv/manifests/candidate-1.0.0: 503 Service Unavailable"
    )
    error = classify_push_failure("uv", line)
    assert isinstance(error, RegistryError)
    assert error.transient is True
    assert error.exit_code == 3
    assert "uv" in str(error)


def test_429_and_connection_refused_push_failures_are_transient():
    for line in (
        "ERROR: failed to push r.example/uv:candidate-1.0.0: unexpected status from POST request: "
        "429 Too Many Requests",
        'ERROR: failed to push r.example/uv:candidate-1.0.0: failed to do request: Head "https://r.example/v2/": '
        "dial tcp 10.0.0.1:443: connect: connection refused",
    ):
        error = classify_push_failure("uv", line)
        assert error is not None and error.transient is True, line


def test_401_unauthorized_push_failure_is_not_transient():
    for line in (
        "ERROR: failed to push localhost:5000/baseimages/uv:candidate-1.0.0: unexpected status from HEAD request "
        "to http://localhost:5000/v2/baseimages/uv/blobs/" + DIGEST + ": 401 Unauthorized",
        "ERROR: failed to push localhost:5000/baseimages/uv:candidate-1.0.0: failed to authorize: "
        "failed to fetch anonymous token: unauthorized: authentication required",
    ):
        error = classify_push_failure("uv", line)
        assert isinstance(error, RegistryError), line
        assert error.transient is False, line


def test_build_step_error_is_not_a_registry_failure():
    line = 'ERROR: failed to solve: process "/bin/sh -c false" did not complete successfully: exit code: 1'
    assert classify_push_failure("uv", line) is None


def test_401_on_a_tag_that_contains_500_is_not_transient():
    line = (
        "ERROR: failed to push localhost:5000/baseimages/uv:candidate-1.0.500: unexpected status from HEAD request "
        "to http://localhost:5000/v2/baseimages/uv/manifests/candidate-1.0.500: 401 Unauthorized"
    )
    error = classify_push_failure("uv", line)
    assert error is not None and error.transient is False


def test_503_while_resolving_a_base_is_a_transient_resolve_failure_not_a_push_failure():
    line = (
        "ERROR: failed to solve: python:3.11-slim: failed to resolve source metadata for "
        "docker.io/library/python:3.11-slim: unexpected status from HEAD request: 503 Service Unavailable"
    )
    error = classify_push_failure("uv", line)
    assert error is not None and error.transient is True
    assert "resolving" in str(error) and "pushing" not in str(error)


def test_pull_request_argv_equals_python_on_whales_pull(monkeypatch):
    from python_on_whales.components.image import cli_wrapper as image_wrapper

    captured = {}
    monkeypatch.setattr(image_wrapper, "run", lambda cmd, **kwargs: captured.setdefault("argv", [str(x) for x in cmd]))
    monkeypatch.setattr(image_wrapper, "Image", lambda *args, **kwargs: None)  # no inspect after the pull
    request = PullRequest(f"localhost:5000/baseimages/uv@{DIGEST}", "linux/arm64")
    DockerClient().image.pull(request.image, quiet=True, platform=request.platform)
    assert Path(captured["argv"][0]).name == "docker"
    assert captured["argv"][1:] == request.argv()[1:]


def test_docker_engine_build_files_runs_a_local_output_build_that_has_no_digest(monkeypatch, recorder, tmp_path):
    request = BuildRequest(
        context=tmp_path,
        dockerfile=tmp_path / "Dockerfile",
        platforms=["linux/amd64", "linux/arm64"],
        output={"type": "local", "dest": str(tmp_path / "out")},
    )

    def buildx_logs(full_cmd, env=None):
        recorder["build"] = [str(x) for x in full_cmd]
        yield "#1 exporting to client directory\n"

    monkeypatch.setattr(buildx_wrapper, "stream_buildx_logs", buildx_logs)
    lines: list[str] = []
    assert DockerEngine().build_files(request, "uv contract service", on_line=lines.append) is None
    assert recorder["build"] == request.argv()
    assert lines == ["#1 exporting to client directory"]


def test_docker_engine_build_files_refuses_an_image_output_and_build_still_needs_its_digest(
    monkeypatch, recorder, tmp_path
):
    with pytest.raises(BuildError, match="type=local"):
        DockerEngine().build_files(MINIMAL_BUILD, "uv")
    assert "build" not in recorder  # nothing ran
    with pytest.raises(BuildError, match="no image digest"):
        DockerEngine().build(MINIMAL_BUILD, "uv")  # the digest check of image builds is unchanged


def test_docker_engine_build_files_failure_is_a_build_error_with_log(monkeypatch, recorder, tmp_path):
    line = "ERROR: failed to solve: process did not complete successfully: exit code: 1"
    monkeypatch.setattr(buildx_wrapper, "stream_buildx_logs", _failing_build(["#7 RUN uv pip sync\n", line + "\n"]))
    request = BuildRequest(
        context=tmp_path, dockerfile=tmp_path / "Dockerfile", platforms=["linux/amd64"], output={"type": "local"}
    )
    with pytest.raises(BuildError) as info:
        DockerEngine().build_files(request, "uv contract service")
    assert info.value.log.splitlines() == ["#7 RUN uv pip sync", line]


def test_a_build_requests_recipe_changes_with_what_shapes_the_image_and_not_with_paths_or_how_base_is_named(
    tmp_path,
):
    from baseimages.engine.requests import BuildRequest

    def request(**changes):
        fields = {
            "context": tmp_path / "ctx",
            "dockerfile": tmp_path / "ctx" / "Dockerfile",
            "platforms": ["linux/amd64"],
            "build_args": {"BASE_IMAGE": "reg/uv:candidate-1.0.0@sha256:p", "SOURCE_DATE_EPOCH": "1796515200"},
            "labels": {"org.opencontainers.image.created": "2026-12-06T00:00:00Z"},
            "output": {"type": "oci", "dest": str(tmp_path / "a.tar"), "compression-level": "1"},
        }
        return BuildRequest(**{**fields, **changes})

    base = request().recipe()
    assert request(output={"type": "oci", "dest": str(tmp_path / "b.tar"), "compression-level": "1"}).recipe() == base
    assert request(build_args={"BASE_IMAGE": "reg/uv@sha256:p", "SOURCE_DATE_EPOCH": "1796515200"}).recipe() == base
    assert request(context=tmp_path / "elsewhere").recipe() == base
    assert request(labels={"org.opencontainers.image.created": "2026-12-07T00:00:00Z"}).recipe() != base
    assert request(build_args={"BASE_IMAGE": "x", "SOURCE_DATE_EPOCH": "1796601600"}).recipe() != base
    assert request(output={"type": "oci", "dest": str(tmp_path / "a.tar"), "compression-level": "6"}).recipe() != base
    assert request(platforms=["linux/arm64"]).recipe() != base
