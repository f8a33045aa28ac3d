"""engine_probe through python-on-whales against a stand-in `docker` command that answers what Docker 26 and
buildx 0.13 answer: the facts, builders and cache are read from it; a daemon that does not answer is an
EngineError in Docker's own words; nothing but read-only commands is ever run."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from baseimages.core.errors import EngineError
from baseimages.engine.probe import DockerProbe

INFO = {
    "ServerVersion": "26.1.5+dfsg1",
    "Driver": "overlayfs",
    "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]],
    "DockerRootDir": "/var/lib/docker",
    "Architecture": "x86_64",
    "RegistryConfig": {"Mirrors": ["http://localhost:5000/"]},
}
BUILDERS = [
    {
        "Name": "default",
        "Driver": "docker",
        "Nodes": [
            {
                "Name": "default",
                "Status": "running",
                "Version": "v0.0.0+unknown",
                "Platforms": ["linux/amd64", "linux/arm64"],
            }
        ],
    },
    {"Name": "multi", "Driver": "docker-container", "Nodes": [{"Name": "multi0", "Status": "inactive"}]},
]
DF = [
    {"Type": "Images", "TotalCount": "65", "Active": "1", "Size": "10.72GB", "Reclaimable": "9.788GB (91%)"},
    {"Type": "Containers", "TotalCount": "1", "Active": "1", "Size": "53.25kB", "Reclaimable": "0B (0%)"},
    {"Type": "Local Volumes", "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"},
    {"Type": "Build Cache", "TotalCount": "216", "Active": "0", "Size": "1.635GB", "Reclaimable": "1.635GB"},
]
DOWN = "Cannot connect to the Docker daemon at unix:///tmp/none.sock. Is the docker daemon running?"

SCRIPT = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open({log!r}, "a") as log:
    log.write(" ".join(args) + "\\n")
if args[:2] == ["--host", "unix:///tmp/none.sock"]:
    args = args[2:]
    if args[:2] != ["buildx", "version"]:
        sys.stderr.write({down!r} + "\\n")
        sys.exit(1)
answers = {answers!r}
if os.environ.get("FAKE_DF_FLAKY") and args[:2] == ["system", "df"] and not os.path.exists({log!r} + ".df"):
    open({log!r} + ".df", "w").close()
    sys.stderr.write("Error response from daemon: failed to retrieve container list: rw layer snapshot not found\\n")
    sys.exit(1)
print(answers[" ".join(args[:2])])
"""


@pytest.fixture
def fake_docker(tmp_path: Path) -> tuple[list[str], Path]:
    """A `docker` stand-in (its client_call) and the file where it logs each command line it was given."""
    log = tmp_path / "docker.log"
    answers = {
        "buildx version": "github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3",
        "system info": json.dumps(INFO),
        "buildx inspect": "Name:          default\nDriver:        docker\n",
        "buildx ls": "\n".join(json.dumps(b) for b in BUILDERS),
        "system df": "\n".join(json.dumps(row) for row in DF),
    }
    script = tmp_path / "docker"
    script.write_text(SCRIPT.format(python=sys.executable, log=str(log), down=DOWN, answers=answers))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return [str(script)], log


def test_facts_builders_and_cache_are_read_from_docker(fake_docker):
    call, _ = fake_docker
    probe = DockerProbe(client_call=call)
    assert probe.buildx_version() == "github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3"
    facts = probe.facts()
    assert (facts.server_version, facts.driver_type, str(facts.root_dir)) == (
        "26.1.5+dfsg1",
        "io.containerd.snapshotter.v1",
        "/var/lib/docker",
    )
    assert facts.mirrors == ("http://localhost:5000",)
    default, multi = probe.builders()
    assert (default.name, default.current, default.platforms) == ("default", True, ("linux/amd64", "linux/arm64"))
    assert (multi.name, multi.current, multi.nodes[0].status) == ("multi", False, "inactive")
    cache = probe.cache_usage()
    assert (cache.size, cache.entries) == (1_635_000_000, 216)


def test_a_dead_daemon_is_an_engine_error_in_dockers_words_and_buildx_version_still_answers(fake_docker):
    call, _ = fake_docker
    probe = DockerProbe(host="unix:///tmp/none.sock", client_call=call)
    assert probe.host == "unix:///tmp/none.sock"
    assert probe.buildx_version().startswith("github.com/docker/buildx")
    with pytest.raises(EngineError) as caught:
        probe.facts()
    assert str(caught.value) == f"`docker info` failed: {DOWN}"


def test_system_df_racing_a_container_is_asked_again(fake_docker, monkeypatch):
    call, _ = fake_docker
    monkeypatch.setenv("FAKE_DF_FLAKY", "1")
    assert DockerProbe(client_call=call).cache_usage().entries == 216


def test_the_host_comes_from_docker_host_when_not_given(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://builder.example:2376")
    assert DockerProbe().host == "tcp://builder.example:2376"
    monkeypatch.delenv("DOCKER_HOST")
    assert DockerProbe().host == "unix:///var/run/docker.sock"


def test_a_missing_docker_command_is_an_engine_error(tmp_path):
    with pytest.raises(EngineError) as caught:
        DockerProbe(client_call=[str(tmp_path / "no-docker")]).buildx_version()
    assert "docker CLI is not installed" in str(caught.value)


def test_only_read_only_commands_are_run(fake_docker):
    call, log = fake_docker
    probe = DockerProbe(client_call=call)
    probe.buildx_version(), probe.facts(), probe.builders(), probe.cache_usage()
    commands = {" ".join(line.split()[:2]) for line in log.read_text().splitlines()}
    assert commands == {"buildx version", "system info", "buildx inspect", "buildx ls", "system df"}


def test_a_named_builder_is_inspected_booted_so_that_it_lists_its_platforms(fake_docker):
    call, log = fake_docker
    builder = DockerProbe(client_call=call).builder("default")
    assert (builder.name, builder.driver, builder.platforms) == ("default", "docker", ("linux/amd64", "linux/arm64"))
    assert "buildx inspect default --bootstrap" in log.read_text().splitlines()
