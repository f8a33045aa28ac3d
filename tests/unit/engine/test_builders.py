"""The builders the `builders` setting maps platforms to, checked before anything builds: unknown, or
without the platform mapped to it, is one line and exit 4."""

from __future__ import annotations

import pytest

from baseimages.core.errors import EngineError
from baseimages.engine.builders import check_builders, is_docker_context
from baseimages.engine.probe import BuilderInfo, BuilderNode

NODE2 = BuilderInfo("node2", "docker", False, (BuilderNode("node2", "running", ("linux/amd64", "linux/arm64")),))
AMD_ONLY = BuilderInfo("amd", "docker", False, (BuilderNode("amd", "running", ("linux/amd64", "linux/386")),))


def _inspect(name):
    builders = {"node2": NODE2, "amd": AMD_ONLY}
    if name not in builders:
        raise EngineError(f"`docker buildx inspect --bootstrap {name}` failed: ERROR: no builder {name!r} found")
    return builders[name]


def test_a_builder_that_lists_its_mapped_platform_passes_and_unmapped_platforms_ask_nothing():
    asked = []
    check_builders({"linux/arm64": "node2"}, ["linux/amd64", "linux/arm64"], lambda n: asked.append(n) or NODE2)
    assert asked == ["node2"]
    check_builders({}, ["linux/amd64", "linux/arm64"], _inspect)


def test_a_mapping_for_a_platform_the_run_does_not_build_is_not_checked():
    check_builders({"linux/s390x": "nowhere"}, ["linux/amd64"], _inspect)


def test_an_unknown_builder_is_one_line_exit_4_naming_it_its_platform_and_the_setting():
    with pytest.raises(EngineError) as caught:
        check_builders({"linux/arm64": "nowhere"}, ["linux/amd64", "linux/arm64"], _inspect)
    message = str(caught.value)
    assert caught.value.exit_code == 4 and "\n" not in message
    assert "builder 'nowhere', mapped to linux/arm64 by the `builders` setting" in message
    assert "no builder 'nowhere' found" in message


def test_a_builder_without_the_mapped_platform_is_one_line_exit_4_saying_what_it_has():
    with pytest.raises(EngineError) as caught:
        check_builders({"linux/arm64": "amd"}, ["linux/arm64"], _inspect)
    assert caught.value.exit_code == 4
    assert str(caught.value).startswith("builder 'amd' cannot build linux/arm64 (it lists linux/amd64, linux/386)")


def test_arm64_v8_listed_by_a_builder_is_linux_arm64():
    v8 = BuilderInfo("arm", "remote", False, (BuilderNode("arm0", "running", ("linux/arm64/v8",)),))
    check_builders({"linux/arm64": "arm"}, ["linux/arm64"], lambda name: v8)


def test_a_docker_context_is_known_from_the_clis_context_store_and_default_is_none(tmp_path):
    import hashlib

    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(b"arm64-node").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text('{"Name": "arm64-node"}')
    env = {"DOCKER_CONFIG": str(tmp_path)}
    assert is_docker_context("arm64-node", env)
    assert not is_docker_context("remote-buildkit", env)  # a buildx builder, not a context
    assert not is_docker_context("default", env)
