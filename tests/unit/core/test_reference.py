"""Image reference normalisation, the way Docker does it."""

from __future__ import annotations

import pytest

from baseimages.core.reference import Reference, parse_reference

DIGEST = "sha256:" + "ab" * 32


def test_official_image_is_normalised_to_docker_hub_library():
    ref = parse_reference("python:3.11-slim")
    assert ref == Reference("docker.io", "library/python", "3.11-slim", None)
    assert str(ref) == "docker.io/library/python:3.11-slim"
    assert ref.repository == "docker.io/library/python"


def test_registry_with_port_keeps_its_domain():
    ref = parse_reference("localhost:5000/a/b:t")
    assert (ref.domain, ref.path, ref.tag) == ("localhost:5000", "a/b", "t")
    assert str(ref) == "localhost:5000/a/b:t"


def test_localhost_without_port_is_a_domain():
    assert parse_reference("localhost/a:1").domain == "localhost"


def test_user_repository_is_on_docker_hub_without_library_prefix():
    ref = parse_reference("user/repo:tag")
    assert (ref.domain, ref.path, ref.tag) == ("docker.io", "user/repo", "tag")


def test_docker_hub_aliases_are_normalised():
    assert parse_reference("index.docker.io/python:3").repository == "docker.io/library/python"
    assert parse_reference("registry-1.docker.io/user/repo:1").repository == "docker.io/user/repo"


def test_digest_reference_keeps_tag_and_digest_and_prints_both():
    ref = parse_reference(f"ghcr.io/org/img:1.0@{DIGEST}")
    assert (ref.domain, ref.path, ref.tag, ref.digest) == ("ghcr.io", "org/img", "1.0", DIGEST)
    assert str(parse_reference(f"python:3.11@{DIGEST}")) == f"docker.io/library/python:3.11@{DIGEST}"


@pytest.mark.parametrize("text", ["Python:3", "a b", "python:", "python:-x", "repo@sha256:short", ""])
def test_invalid_reference_raises_value_error(text):
    with pytest.raises(ValueError):
        parse_reference(text)
