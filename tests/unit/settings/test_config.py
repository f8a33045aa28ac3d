"""Project settings: the one table (config.SETTINGS), the page that documents it (docs/settings.md), and load_settings
reading pyproject.toml, the environment and detection in that order."""

from __future__ import annotations

import io
import os
import re
import tomllib
from pathlib import Path

import pytest

from baseimages.cli.main import main
from baseimages.core.errors import ConfigError
from baseimages.settings.config import (
    SETTINGS,
    SETTINGS_TABLE_HEADER,
    Credentials,
    Settings,
    load_settings,
    settings_table_markdown,
)
from baseimages.settings.reference import settings_page_markdown

ROOT = Path(__file__).resolve().parents[3]
SETTINGS_PAGE = ROOT / "docs" / "settings.md"
NO_PIP_CONFIG = {"PIP_CONFIG_FILE": os.devnull}
BY_KEY = {setting.key: setting for setting in SETTINGS}


def _documented_settings() -> dict[str, tuple[str, ...]]:
    """docs/settings.md's table: key -> its cells (key | environment variable | flag | type | default | meaning)."""
    lines = SETTINGS_PAGE.read_text().splitlines()
    start = lines.index(SETTINGS_TABLE_HEADER)
    rows: dict[str, tuple[str, ...]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = tuple(cell.strip() for cell in line.strip().strip("|").split("|"))
        rows[cells[0].strip("`")] = cells
    return rows


def _documented_example() -> str:
    """docs/settings.md's example of a `[tool.baseimages]` table (with its sub-tables)."""
    match = re.search(r"```toml\n(\[tool\.baseimages\]\n.*?)```", SETTINGS_PAGE.read_text(), re.DOTALL)
    assert match, "docs/settings.md shows an example [tool.baseimages] table"
    return match.group(1)


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------- docs/settings.md and the table


@pytest.mark.parametrize("key", sorted(_documented_settings()))
def test_every_key_the_settings_page_documents_loads_from_pyproject_toml(key, tmp_path, pyproject):
    _, _, _, kind, default, _ = _documented_settings()[key]
    if default.startswith("`"):
        value = default.strip("`")
    elif kind == "existing directory":
        (tmp_path / "given").mkdir()
        value = f'"{tmp_path / "given"}"'
    elif kind in ("directory (created when absent)", "file to write (its folder must exist)"):
        value = f'"{tmp_path / "given"}"'
    else:
        assert kind == "existing file", f"the test knows no valid value of type {kind!r}"
        (tmp_path / "given").write_text("x")
        value = f'"{tmp_path / "given"}"'
    pyproject(tmp_path, f"{key} = {value}\n")
    settings = load_settings(tmp_path, environ=NO_PIP_CONFIG)
    expected = BY_KEY[key].check(tomllib.loads(f"v = {value}")["v"])
    assert getattr(settings, BY_KEY[key].attr) == expected


def test_the_settings_page_documents_every_declared_setting_as_declared():
    documented = _documented_settings()
    message = f"docs/settings.md's table must read (run scripts/docs):\n{settings_table_markdown()}"
    assert set(documented) == {setting.key for setting in SETTINGS}, message
    for setting in SETTINGS:
        _, env, flag, _, default, _ = documented[setting.key]
        assert (env, flag, default) == (
            f"`{setting.env}`",
            f"`{setting.flag}`" if setting.flag else "none",
            setting.default_doc(),
        )
        assert documented[setting.key] == setting.doc_row(), message


def test_a_key_the_settings_page_does_not_document_is_refused_with_exit_2_naming_it(tmp_path, pyproject, clean_env):
    assert "retry-attempt" not in _documented_settings()
    path = pyproject(tmp_path, "retry-attempt = 3\n")
    code, out, err = _run("list", "--project", str(tmp_path))
    assert (code, out) == (2, "")
    assert err.splitlines() == [err.rstrip("\n")]
    assert err.startswith(f"error: {path} [tool.baseimages]: retry-attempt: unknown key")


def test_the_settings_page_example_table_loads_every_key_it_sets(tmp_path, pyproject):
    example = _documented_example().removeprefix("[tool.baseimages]\n")
    pyproject(tmp_path, example)
    settings = load_settings(tmp_path, environ=NO_PIP_CONFIG)
    shown: dict[str, object] = {}
    table = tomllib.loads(_documented_example())["tool"]["baseimages"]
    for key, value in table.items():  # a sub-table's keys are the settings `table.key`
        if key in BY_KEY:
            shown[key] = value
        else:
            shown |= {f"{key}.{sub}": item for sub, item in value.items()}
    assert {"registry", "builders", "retention.keep-dated"} <= set(shown)
    for key, value in shown.items():
        assert getattr(settings, BY_KEY[key].attr) == BY_KEY[key].check(value), key


def test_the_settings_page_is_what_the_declaration_renders():
    assert SETTINGS_PAGE.read_text() == settings_page_markdown(), "docs/settings.md is stale: run scripts/docs"


def test_a_settings_field_defaults_to_the_declared_default_for_every_setting(tmp_path):
    settings = Settings(root=tmp_path)
    for setting in SETTINGS:
        assert getattr(settings, setting.attr) == setting.default_value()
    assert settings.lock_dir == Path.home() / ".cache" / "baseimages" / "locks"


def test_every_declared_environment_variable_is_baseimages_and_the_key():
    for setting in SETTINGS:  # a sub-table's key is `table.key`: BASEIMAGES_TABLE_KEY, and the flag --key
        assert setting.env == "BASEIMAGES_" + setting.key.upper().replace("-", "_").replace(".", "_")
        name = setting.key.rpartition(".")[2]
        switch_prefix = "no-" if setting.kind.flag_const == "false" else ""  # a switch's flag that turns it off
        flag = f"--{switch_prefix}{name}"
        # A repeatable flag is named for one value: --builder PLATFORM=NAME for the setting `builders`.
        assert setting.flag in (None, flag.removesuffix("s") if setting.kind.repeatable else flag)


# --------------------------------------------------------------------------- where a value comes from


def test_load_settings_reads_tool_baseimages_table(tmp_path, pyproject):
    pyproject(
        tmp_path,
        'registry = "reg.example:5000/"\nnamespace = "/team/"\nplatforms = ["linux/arm64"]\n'
        'images-dir = "catalog"\njobs = 4\nretry-attempts = 3\nretry-max-seconds = 20\n',
    )
    settings = load_settings(tmp_path, environ=NO_PIP_CONFIG)
    assert settings.root == tmp_path.resolve()
    assert (settings.registry, settings.namespace) == ("reg.example:5000", "team")
    assert settings.platforms == ("linux/arm64",)
    assert (settings.jobs, settings.retry_attempts, settings.retry_max_seconds) == (4, 3, 20)
    assert settings.catalog_dir == tmp_path.resolve() / "catalog"
    assert settings.repository("uv") == "reg.example:5000/team/uv"


def test_load_settings_defaults_without_pyproject(tmp_path):
    settings = load_settings(tmp_path, environ=NO_PIP_CONFIG)
    assert settings.registry == "localhost:5000"
    assert settings.namespace == "baseimages"
    assert settings.platforms == ("linux/amd64", "linux/arm64")
    assert settings.catalog_dir == tmp_path.resolve() / "images"
    assert (settings.retry_attempts, settings.retry_max_seconds) == (8, 300)
    assert (settings.ca_bundle, settings.wheelhouse, settings.index_url_env, settings.credentials) == (None,) * 4


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.key)
def test_the_environment_variable_overrides_pyproject_for_every_setting(setting, tmp_path, pyproject, setting_samples):
    sample = setting_samples[setting.key]
    pyproject(tmp_path, f"{setting.key} = {sample.toml}\n")
    from_file = load_settings(tmp_path, environ=NO_PIP_CONFIG)
    assert getattr(from_file, setting.attr) == setting.from_toml(tomllib.loads(f"v = {sample.toml}")["v"], "")
    settings = load_settings(tmp_path, environ={**NO_PIP_CONFIG, setting.env: sample.text})
    assert getattr(settings, setting.attr) == sample.loaded
    assert getattr(settings, setting.attr) != getattr(from_file, setting.attr)


def test_the_samples_cover_every_declared_setting(setting_samples):
    assert set(setting_samples) == {setting.key for setting in SETTINGS}


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.key)
def test_a_bad_pyproject_value_is_one_line_naming_file_and_key_for_every_setting(
    setting, tmp_path, pyproject, setting_samples, clean_env
):
    path = pyproject(tmp_path, f"{setting.key} = {setting_samples[setting.key].bad_toml}\n")
    code, out, err = _run("list", "--project", str(tmp_path))
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: {path} [tool.baseimages]: {setting.key}: ")


ANY_TEXT = ("images-dir", "source", "lock-dir", "updates-state", "layer-cache")  # settings that take any text


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.key not in ANY_TEXT])
def test_a_bad_environment_value_is_one_line_naming_the_variable_for_every_setting(
    setting, tmp_path, setting_samples, clean_env
):
    bad = setting_samples[setting.key].bad_text
    assert bad is not None
    clean_env.setenv(setting.env, bad)
    code, out, err = _run("list", "--project", str(tmp_path))
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: environment: {setting.env}: ")


def test_every_text_is_valid_for_the_settings_left_out_of_the_bad_environment_test(setting_samples):
    assert {key for key, sample in setting_samples.items() if sample.bad_text is None} == set(ANY_TEXT)


def test_a_bad_pyproject_value_is_refused_even_when_the_environment_overrides_it(tmp_path, pyproject):
    pyproject(tmp_path, "jobs = 0\n")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={"BASEIMAGES_JOBS": "3"})
    assert (info.value.field, info.value.problem) == ("jobs", "must be at least 1")


@pytest.mark.parametrize(("table", "problem"), [("jobs = true\n", "True"), ("jobs = 2.5\n", "2.5")])
def test_an_integer_setting_takes_only_a_toml_integer(tmp_path, pyproject, table, problem):
    pyproject(tmp_path, table)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={})
    assert info.value.problem == f"must be a whole number, got {problem}"


def test_unknown_key_in_tool_baseimages_is_a_config_error_naming_the_key(tmp_path, pyproject, assert_config_error):
    path = pyproject(tmp_path, 'registry = "r"\nregsitry = "typo"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={})
    assert_config_error(info.value, path, "regsitry")
    assert f"(known: {', '.join(sorted(BY_KEY))})" in str(info.value)


def test_invalid_toml_is_a_config_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.baseimages\n")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={})
    assert info.value.exit_code == 2
    assert str(tmp_path / "pyproject.toml") in str(info.value)


# --------------------------------------------------------------------------- overrides from the library


def test_with_overrides_checks_a_declared_setting_naming_settings_and_the_field(tmp_path):
    with pytest.raises(ConfigError) as info:
        Settings(root=tmp_path).with_overrides(retry_attempts=0)
    assert (info.value.source, info.value.field, info.value.problem) == (
        "settings",
        "retry_attempts",
        "must be at least 1",
    )
    with pytest.raises(ConfigError) as info:
        Settings(root=tmp_path).with_overrides(namespace="Team")
    assert (info.value.source, info.value.field) == ("settings", "namespace")


def test_with_overrides_normalises_declared_settings_and_passes_others_through(tmp_path):
    other = tmp_path / "other"
    settings = Settings(root=tmp_path).with_overrides(registry="reg.example:5000/", jobs=None, root=other)
    assert (settings.registry, settings.jobs, settings.root) == ("reg.example:5000", 2, other)


# --------------------------------------------------------------------------- offline inputs and the login


def test_explicit_wheelhouse_and_ca_bundle_win_over_detection(tmp_path, pyproject):
    wheels, pip_wheels, bundle, ssl_bundle = (
        tmp_path / "wheels",
        tmp_path / "pip",
        tmp_path / "a.pem",
        tmp_path / "b.pem",
    )
    wheels.mkdir()
    pip_wheels.mkdir()
    bundle.write_text("1")
    ssl_bundle.write_text("2")
    pyproject(tmp_path, f'wheelhouse = "{wheels}"\nca-bundle = "{bundle}"\n')
    settings = load_settings(tmp_path, environ={"PIP_FIND_LINKS": str(pip_wheels), "SSL_CERT_FILE": str(ssl_bundle)})
    assert (settings.wheelhouse, settings.ca_bundle) == (wheels.resolve(), bundle.resolve())


def test_an_empty_wheelhouse_or_ca_bundle_variable_leaves_them_to_detection(tmp_path):
    wheels, bundle = tmp_path / "wheels", tmp_path / "ca.pem"
    wheels.mkdir()
    bundle.write_text("x")
    env = {
        "BASEIMAGES_WHEELHOUSE": "",
        "BASEIMAGES_CA_BUNDLE": "",
        "UV_FIND_LINKS": str(wheels),
        "PIP_CERT": str(bundle),
    }
    settings = load_settings(tmp_path, environ={**NO_PIP_CONFIG, **env})
    assert (settings.wheelhouse, settings.ca_bundle) == (wheels.resolve(), bundle.resolve())


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


def test_a_detected_ca_bundle_naming_a_missing_file_is_skipped(tmp_path):
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


def test_load_settings_detects_wheelhouse_from_environment(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    settings = load_settings(tmp_path, environ={"PIP_FIND_LINKS": f"https://x.example {wheels}"})
    assert settings.wheelhouse == wheels.resolve()


def test_index_url_is_kept_as_a_variable_name_never_its_value(tmp_path):
    url = "https://user:s3cr3t-pass@pypi.example/simple"
    settings = load_settings(tmp_path, environ={"BASEIMAGES_INDEX_URL": url})
    assert settings.index_url_env == "BASEIMAGES_INDEX_URL"
    assert "s3cr3t-pass" not in repr(settings)


def test_registry_login_comes_from_the_environment_and_never_shows_the_password(tmp_path):
    env = {"BASEIMAGES_REGISTRY_USER": "bot", "BASEIMAGES_REGISTRY_PASSWORD": "s3cr3t-pass"}
    settings = load_settings(tmp_path, environ=env)
    assert settings.credentials == Credentials("bot", "s3cr3t-pass")
    assert settings.credentials.header() == "Basic Ym90OnMzY3IzdC1wYXNz"
    assert "s3cr3t-pass" not in repr(settings) + repr(settings.credentials)


def test_a_registry_user_without_a_password_is_an_error_naming_the_missing_variable(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={"BASEIMAGES_REGISTRY_USER": "bot"})
    assert (info.value.source, info.value.field) == ("environment", "BASEIMAGES_REGISTRY_PASSWORD")
