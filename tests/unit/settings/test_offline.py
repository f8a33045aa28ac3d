"""Detection of the offline inputs in the operator's environment: the wheelhouse, the CA bundle and
dockerd's registry mirrors. A detected path that does not exist, or a remote URL, is skipped."""

from __future__ import annotations

import json

from baseimages.settings.offline import detect_ca_bundle, detect_registry_mirrors, detect_wheelhouse, pip_setting

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


def test_http_find_links_url_is_never_taken_as_a_path_even_if_it_would_resolve(tmp_path, monkeypatch):
    # "http://mirror.example/wheels" read as a relative path is http:/mirror.example/wheels; make it exist.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "http:" / "mirror.example" / "wheels").mkdir(parents=True)
    assert detect_wheelhouse({"PIP_FIND_LINKS": "http://mirror.example/wheels"}) is None


def test_wheelhouse_falls_back_to_find_links_of_pip_configuration(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[install]\nfind-links = https://x.example {wheels}\n")
    assert detect_wheelhouse({"PIP_CONFIG_FILE": str(conf)}) == wheels.resolve()


# --------------------------------------------------------------------------- CA bundle


def test_ca_bundle_is_the_first_variable_naming_an_existing_file(tmp_path):
    first, second = tmp_path / "first.pem", tmp_path / "second.pem"
    first.write_text("1")
    second.write_text("2")
    env = {"SSL_CERT_FILE": str(tmp_path / "missing.pem"), "PIP_CERT": str(first), "REQUESTS_CA_BUNDLE": str(second)}
    assert detect_ca_bundle(env) == first.resolve()
    assert detect_ca_bundle({"REQUESTS_CA_BUNDLE": str(second), "PIP_CONFIG_FILE": "/dev/null"}) == second.resolve()


def test_no_ca_bundle_when_nothing_names_a_file(tmp_path):
    assert detect_ca_bundle({"SSL_CERT_FILE": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null"}) is None


# --------------------------------------------------------------------------- pip configuration and mirrors


def test_pip_setting_takes_the_last_file_and_dev_null_turns_files_off(tmp_path):
    home_conf = tmp_path / ".config" / "pip" / "pip.conf"
    home_conf.parent.mkdir(parents=True)
    home_conf.write_text("[global]\ncert = /home.pem\n")
    own = tmp_path / "own.conf"
    own.write_text("[global]\ncert = /own.pem\n")
    assert pip_setting("cert", {"HOME": str(tmp_path)}) == "/home.pem"
    assert pip_setting("cert", {"HOME": str(tmp_path), "PIP_CONFIG_FILE": str(own)}) == "/own.pem"
    assert pip_setting("cert", {"HOME": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null"}) is None


def test_registry_mirrors_come_from_daemon_json_without_trailing_slashes(tmp_path):
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text(json.dumps({"registry-mirrors": ["http://127.0.0.1:5000/", 5]}))
    assert detect_registry_mirrors(daemon_json) == ("http://127.0.0.1:5000",)
    assert detect_registry_mirrors(tmp_path / "absent.json") == ()
