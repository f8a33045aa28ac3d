"""DockerEngine.run against a fake python-on-whales client: the container's lifecycle, its output and
its removal in every case. No Docker."""

from __future__ import annotations

import pytest
from python_on_whales.exceptions import DockerException, NoSuchContainer, NoSuchImage

from baseimages.core.errors import BuildError, EngineError
from baseimages.core.runs import this_run
from baseimages.engine.client import DockerEngine, RunRequest

REQUEST = RunRequest("localhost:5000/library/python:3.11-slim", ["sh", "-c", "echo out; echo err >&2"], "linux/arm64")
NO_DAEMON = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"


def _failure(exception: type[DockerException], stderr: str) -> DockerException:
    return exception(["docker", "..."], 1, b"", stderr.encode())


class FakeContainers:
    """python-on-whales' `client.container`, answering from a script.

    FAIL maps a step (create, start, wait, logs, remove) to the exception it raises; LOGS is what
    `logs(stream=True)` yields, EXIT_CODE what `wait` returns. CALLS records (step, container name).
    """

    def __init__(
        self,
        logs: list[tuple[str, bytes]] | None = None,
        exit_code: int = 0,
        fail: dict[str, BaseException] | None = None,
    ) -> None:
        self.logs_chunks = logs if logs is not None else [("stdout", b"out\n"), ("stderr", b"err\n")]
        self.exit_code = exit_code
        self.fail = fail or {}
        self.calls: list[tuple[str, str]] = []
        self.created: dict[str, dict[str, object]] = {}

    def _step(self, step: str, name: str) -> None:
        self.calls.append((step, name))
        if step in self.fail:
            raise self.fail[step]

    def create(self, **kwargs: object) -> str:
        name = str(kwargs["name"])
        self._step("create", name)
        self.created[name] = kwargs
        return "c" * 64

    def start(self, name: str) -> None:
        self._step("start", name)

    def wait(self, name: str) -> int:
        self._step("wait", name)
        return self.exit_code

    def logs(self, name: str, *, stream: bool) -> list[tuple[str, bytes]]:
        assert stream
        self._step("logs", name)
        return self.logs_chunks

    def remove(self, name: str, *, force: bool, volumes: bool) -> None:
        assert force and volumes
        self._step("remove", name)

    def steps(self) -> list[str]:
        return [step for step, _ in self.calls]

    def names(self) -> set[str]:
        return {name for _, name in self.calls}


class FakeClient:
    def __init__(self, containers: FakeContainers) -> None:
        self.container = containers


def _engine(**script: object) -> tuple[DockerEngine, FakeContainers]:
    containers = FakeContainers(**script)
    return DockerEngine(client=FakeClient(containers)), containers


def test_run_returns_stdout_and_stderr_apart_and_the_containers_exit_code():
    engine, containers = _engine(
        logs=[("stdout", b"line 1\n"), ("stderr", b"warning\n"), ("stdout", b"line 2")], exit_code=3
    )
    result = engine.run(REQUEST)
    assert (result.exit_code, result.stdout, result.stderr) == (3, "line 1\nline 2", "warning\n")


def test_run_creates_starts_waits_reads_logs_and_removes_one_container_by_its_name():
    engine, containers = _engine()
    engine.run(REQUEST)
    assert containers.steps() == ["create", "start", "wait", "logs", "remove"]
    (name,) = containers.names()
    assert name.startswith("baseimages-run-")
    assert containers.created[name] == REQUEST.create_kwargs(name, this_run().label)


def test_each_run_gets_a_container_name_of_its_own():
    engine, containers = _engine()
    engine.run(REQUEST)
    engine.run(REQUEST)
    assert len(containers.names()) == 2


def test_a_command_that_exits_non_zero_is_a_result_not_an_error():
    engine, containers = _engine(logs=[("stderr", b"boom\n")], exit_code=1)
    result = engine.run(REQUEST)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "boom\n")
    assert containers.steps()[-1] == "remove"


@pytest.mark.parametrize("step", ["wait", "logs"])
def test_the_container_is_removed_when_wait_or_logs_fails_and_the_error_is_one_line(step):
    engine, containers = _engine(fail={step: _failure(DockerException, NO_DAEMON + "more detail\n")})
    with pytest.raises(EngineError) as info:
        engine.run(REQUEST)
    assert containers.steps()[-1] == "remove"
    message = str(info.value)
    assert "\n" not in message
    assert f"docker container {step}" in message and "Cannot connect to the Docker daemon" in message


@pytest.mark.parametrize("step", ["start", "wait", "logs"])
def test_the_container_is_removed_on_keyboard_interrupt(step):
    engine, containers = _engine(fail={step: KeyboardInterrupt()})
    with pytest.raises(KeyboardInterrupt):
        engine.run(REQUEST)
    assert containers.steps()[-1] == "remove"
    assert len(containers.names()) == 1


def test_an_interrupted_create_still_removes_the_container_by_the_name_it_was_given():
    engine, containers = _engine(fail={"create": KeyboardInterrupt()})
    with pytest.raises(KeyboardInterrupt):
        engine.run(REQUEST)
    assert containers.steps() == ["create", "remove"]
    assert len(containers.names()) == 1


def test_a_failing_removal_does_not_hide_the_original_error():
    engine, containers = _engine(
        fail={"wait": KeyboardInterrupt(), "remove": _failure(NoSuchContainer, "No such container")}
    )
    with pytest.raises(KeyboardInterrupt):
        engine.run(REQUEST)


def test_an_image_missing_from_the_local_store_is_a_build_error_naming_it():
    engine, containers = _engine(
        fail={"create": _failure(NoSuchImage, "Error response from daemon: No such image: x:1\n")}
    )
    with pytest.raises(BuildError) as info:
        engine.run(REQUEST)
    assert str(info.value) == (
        f"{REQUEST.image}: cannot create a container for linux/arm64: Error response from daemon: No such image: x:1"
    )
    assert info.value.exit_code == 1
    assert containers.steps() == ["create", "remove"]


def test_a_daemon_that_is_gone_at_create_is_an_engine_error():
    engine, _ = _engine(fail={"create": _failure(DockerException, NO_DAEMON)})
    with pytest.raises(EngineError) as info:
        engine.run(REQUEST)
    assert info.value.exit_code == 4
    assert str(info.value) == "the Docker engine is not reachable: " + NO_DAEMON.strip()


def test_a_command_that_cannot_start_exits_with_the_code_docker_recorded_and_says_why():
    said = 'Error response from daemon: failed to create task: exec: "uv": executable file not found in $PATH'
    engine, containers = _engine(
        fail={"start": _failure(DockerException, said + "\nError: failed to start containers: x\n")},
        logs=[],
        exit_code=127,
    )
    result = engine.run(REQUEST)
    assert (result.exit_code, result.stdout, result.stderr) == (127, "", said + "\n")
    assert containers.steps() == ["create", "start", "wait", "logs", "remove"]


def test_a_failed_removal_after_a_good_run_is_an_engine_error():
    engine, _ = _engine(fail={"remove": _failure(DockerException, NO_DAEMON)})
    with pytest.raises(EngineError) as info:
        engine.run(REQUEST)
    assert "removing the container baseimages-run-" in str(info.value)


def test_a_missing_docker_command_is_an_engine_error_naming_it_not_an_internal_error(monkeypatch, tmp_path):
    from python_on_whales import DockerClient

    from baseimages.engine.client import DockerEngine

    monkeypatch.setenv("PATH", str(tmp_path))  # no docker binary anywhere on it
    engine = DockerEngine(client=DockerClient())
    with pytest.raises(EngineError) as info:
        engine.check(["linux/amd64"])
    assert info.value.exit_code == 4
    assert str(info.value).startswith("the docker command is not on PATH") and "\n" not in str(info.value)
