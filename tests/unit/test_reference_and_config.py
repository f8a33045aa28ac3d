"""Image reference normalisation, and settings from pyproject.toml, the environment and auto-detection."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from baseimages.config import detect_wheelhouse, load_settings
from baseimages.errors import ConfigError
from baseimages.reference import Reference, parse_reference

DIGEST = "sha256:" + "ab" * 32


# --------------------------------------------------------------------------- references


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


# --------------------------------------------------------------------------- settings


def _pyproject(root: Path, table: str) -> Path:
    path = root / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n\n[tool.baseimages]\n' + table)
    return path


def test_load_settings_reads_tool_baseimages_table(tmp_path):
    _pyproject(
        tmp_path,
        'registry = "reg.example:5000/"\nnamespace = "/team/"\nplatforms = ["linux/arm64"]\n'
        'images-dir = "catalog"\njobs = 4\n',
    )
    settings = load_settings(tmp_path, environ={})
    assert settings.root == tmp_path.resolve()
    assert settings.registry == "reg.example:5000"
    assert settings.namespace == "team"
    assert settings.platforms == ("linux/arm64",)
    assert settings.jobs == 4
    assert settings.catalog_dir == tmp_path.resolve() / "catalog"
    assert settings.repository("uv") == "reg.example:5000/team/uv"


def test_load_settings_defaults_without_pyproject(tmp_path):
    settings = load_settings(tmp_path, environ={"PIP_CONFIG_FILE": os.devnull})
    assert settings.registry == "localhost:5000"
    assert settings.namespace == "baseimages"
    assert settings.platforms == ("linux/amd64", "linux/arm64")
    assert settings.catalog_dir == tmp_path.resolve() / "images"
    assert (settings.ca_bundle, settings.wheelhouse, settings.index_url_env) == (None, None, None)


def test_environment_overrides_pyproject(tmp_path):
    _pyproject(tmp_path, 'registry = "reg.example:5000"\nplatforms = ["linux/arm64"]\njobs = 4\n')
    settings = load_settings(
        tmp_path,
        environ={
            "BASEIMAGES_REGISTRY": "other.example:6000",
            "BASEIMAGES_PLATFORMS": "linux/amd64, linux/s390x",
            "BASEIMAGES_JOBS": "3",
        },
    )
    assert settings.registry == "other.example:6000"
    assert settings.platforms == ("linux/amd64", "linux/s390x")
    assert settings.jobs == 3


def test_unknown_key_in_tool_baseimages_is_a_config_error_naming_the_key(tmp_path):
    path = _pyproject(tmp_path, 'registry = "r"\nregsitry = "typo"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={})
    assert info.value.exit_code == 2
    assert info.value.field == "regsitry"
    assert str(path) in str(info.value)
    assert ": regsitry: unknown key" in str(info.value)


@pytest.mark.parametrize(
    ("table", "field"),
    [('platforms = ["linux/amd65"]\n', "platforms"), ("registry = 5\n", "registry"), ("jobs = 0\n", "jobs")],
)
def test_bad_values_in_tool_baseimages_are_config_errors(tmp_path, table, field):
    _pyproject(tmp_path, table)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={})
    assert info.value.exit_code == 2
    assert info.value.field == field


def test_bad_platform_in_environment_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={"BASEIMAGES_PLATFORMS": "linux/amd65"})
    assert (info.value.source, info.value.field) == ("environment", "BASEIMAGES_PLATFORMS")


def test_invalid_toml_is_a_config_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.baseimages\n")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={})
    assert info.value.exit_code == 2
    assert str(tmp_path / "pyproject.toml") in str(info.value)


def test_ca_bundle_is_auto_detected_from_ssl_cert_file(tmp_path):
    bundle = tmp_path / "corp-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    settings = load_settings(tmp_path, environ={"SSL_CERT_FILE": str(bundle)})
    assert settings.ca_bundle == bundle.resolve()


def test_ca_bundle_and_wheelhouse_fall_back_to_pip_configuration(tmp_path):
    bundle, wheels = tmp_path / "pip-ca.pem", tmp_path / "wheels"
    bundle.write_text("x")
    wheels.mkdir()
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\ncert = {bundle}\nfind-links = {wheels}\n")
    settings = load_settings(tmp_path, environ={"PIP_CONFIG_FILE": str(conf), "HOME": str(tmp_path)})
    assert settings.ca_bundle == bundle.resolve()
    assert settings.wheelhouse == wheels.resolve()


def test_ca_bundle_skips_variables_naming_missing_files(tmp_path):
    bundle = tmp_path / "pip-ca.pem"
    bundle.write_text("x")
    env = {"SSL_CERT_FILE": str(tmp_path / "missing.pem"), "PIP_CERT": str(bundle)}
    assert load_settings(tmp_path, environ=env).ca_bundle == bundle.resolve()


def test_explicit_ca_bundle_variable_wins_over_ssl_cert_file(tmp_path):
    first, second = tmp_path / "first.pem", tmp_path / "second.pem"
    first.write_text("1")
    second.write_text("2")
    env = {"BASEIMAGES_CA_BUNDLE": str(first), "SSL_CERT_FILE": str(second)}
    assert load_settings(tmp_path, environ=env).ca_bundle == first.resolve()


def test_index_url_is_kept_as_a_variable_name_never_its_value(tmp_path):
    url = "https://user:s3cr3t-pass@pypi.example/simple"
    settings = load_settings(tmp_path, environ={"BASEIMAGES_INDEX_URL": url})
    assert settings.index_url_env == "BASEIMAGES_INDEX_URL"
    assert "s3cr3t-pass" not in repr(settings)


# --------------------------------------------------------------------------- wheelhouse


def test_wheelhouse_is_first_existing_local_directory_of_pip_find_links(tmp_path):
    wheels, other = tmp_path / "wheels", tmp_path / "other"
    wheels.mkdir()
    other.mkdir()
    env = {
        "PIP_FIND_LINKS": f"https://pypi.example/wheels {tmp_path / 'missing'} {wheels}",
        "UV_FIND_LINKS": str(other),
    }
    assert detect_wheelhouse(env) == wheels.resolve()


def test_wheelhouse_falls_back_to_uv_find_links_and_ignores_http_urls(tmp_path):
    wheels = tmp_path / "uv-wheels"
    wheels.mkdir()
    env = {"PIP_FIND_LINKS": "http://mirror.example/wheels,https://other.example/", "UV_FIND_LINKS": str(wheels)}
    assert detect_wheelhouse(env) == wheels.resolve()


def test_wheelhouse_accepts_file_urls(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    assert detect_wheelhouse({"PIP_FIND_LINKS": f"file://{wheels}"}) == wheels.resolve()


def test_no_wheelhouse_when_only_urls_or_missing_directories(tmp_path):
    env = {"PIP_FIND_LINKS": "https://pypi.example/wheels", "UV_FIND_LINKS": str(tmp_path / "missing")}
    assert detect_wheelhouse(env) is None
    assert detect_wheelhouse({}) is None


def test_a_wheelhouse_file_is_not_a_directory(tmp_path):
    not_dir = tmp_path / "wheel.whl"
    not_dir.write_text("")
    assert detect_wheelhouse({"PIP_FIND_LINKS": str(not_dir)}) is None


def test_configured_and_explicit_wheelhouse_take_precedence(tmp_path):
    explicit, configured, pip = (tmp_path / n for n in ("explicit", "configured", "pip"))
    for d in (explicit, configured, pip):
        d.mkdir()
    env = {"PIP_FIND_LINKS": str(pip)}
    assert detect_wheelhouse(env, str(configured)) == configured.resolve()
    assert detect_wheelhouse({**env, "BASEIMAGES_WHEELHOUSE": str(explicit)}, str(configured)) == explicit.resolve()


def test_load_settings_detects_wheelhouse_from_environment(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    settings = load_settings(tmp_path, environ={"PIP_FIND_LINKS": f"https://x.example {wheels}"})
    assert settings.wheelhouse == wheels.resolve()


def test_http_find_links_url_is_never_taken_as_a_path_even_if_it_would_resolve(tmp_path, monkeypatch):
    # "http://mirror.example/wheels" read as a relative path is http:/mirror.example/wheels; make it exist.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "http:" / "mirror.example" / "wheels").mkdir(parents=True)
    assert detect_wheelhouse({"PIP_FIND_LINKS": "http://mirror.example/wheels"}) is None
