"""load_catalog: strict validation (ConfigError naming file and field, exit code 2) and the parsed specs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from baseimages.catalog.spec import CommandTest, FileTest, load_catalog
from baseimages.core.errors import ConfigError

REAL_IMAGES = Path(__file__).resolve().parents[3] / "images"


def _error(writer) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        writer.load()
    return info.value


# --------------------------------------------------------------------------- rejected catalogs


def test_unknown_top_level_key_in_image_yaml_is_rejected_naming_file_and_field(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("a", colour="blue")
    error = _error(catalog_writer)
    assert_config_error(error, spec_file, "colour")
    assert "unknown key" in error.problem


def test_unknown_key_inside_first_smoke_command_is_rejected_naming_its_index(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("a", smoke={"commands": [{"command": ["true"], "stdot": "x"}]})
    error = _error(catalog_writer)
    assert_config_error(error, spec_file, "smoke.commands[0].stdot")
    assert "unknown key" in error.problem


@pytest.mark.parametrize("version", ["1.0", "v1.2.3", "1.2.3.4", "01.2.3", "latest"])
def test_version_that_is_not_semver_is_rejected_naming_version_field(catalog_writer, assert_config_error, version):
    spec_file = catalog_writer.add("a", version=version)
    error = _error(catalog_writer)
    assert_config_error(error, spec_file, "version")
    assert repr(version) in error.problem


@pytest.mark.parametrize("platform", ["linux/amd65", "amd64", "linux/amd64/", "Linux/amd64"])
def test_bad_platform_string_is_rejected_naming_platforms_field(catalog_writer, assert_config_error, platform):
    spec_file = catalog_writer.add("a", platforms=["linux/arm64", platform])
    error = _error(catalog_writer)
    assert_config_error(error, spec_file, "platforms")
    assert repr(platform) in error.problem


def test_empty_platform_list_is_rejected(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("a", platforms=[])
    assert_config_error(_error(catalog_writer), spec_file, "platforms")


def test_missing_dockerfile_is_rejected_naming_the_dockerfile_path(catalog_writer):
    spec_file = catalog_writer.add("a", dockerfile=False)
    error = _error(catalog_writer)
    dockerfile = spec_file.parent / "Dockerfile"
    assert error.exit_code == 2
    assert error.source == str(dockerfile)
    assert str(error).startswith(f"{dockerfile}: ")
    assert "'a'" in error.problem


def test_name_that_differs_from_its_folder_is_rejected_naming_name_field(catalog_writer, assert_config_error):
    # Two folders claiming the same image name: the one whose folder does not match is reported.
    catalog_writer.add("a")
    spec_file = catalog_writer.add("a", folder="b")
    error = _error(catalog_writer)
    assert_config_error(error, spec_file, "name")
    assert "'b'" in error.problem


def test_invalid_image_name_is_rejected(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("Bad_Name", folder="Bad_Name")
    assert_config_error(_error(catalog_writer), spec_file, "name")


def test_parent_that_is_neither_catalog_image_nor_reference_is_rejected_naming_parent(
    catalog_writer, assert_config_error
):
    catalog_writer.add("base")
    spec_file = catalog_writer.add("child", parent="nosuchimage")
    error = _error(catalog_writer)
    assert_config_error(error, spec_file, "parent")
    assert "'nosuchimage'" in error.problem
    assert "base" in error.problem  # lists the known images


def test_parent_reference_that_is_not_a_valid_reference_is_rejected(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("a", parent="Python:3.11")
    assert_config_error(_error(catalog_writer), spec_file, "parent")


def test_image_that_is_its_own_parent_is_rejected(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("a", parent="a")
    assert_config_error(_error(catalog_writer), spec_file, "parent")


def test_dependency_cycle_is_rejected_naming_parent_field_and_the_cycle(catalog_writer, assert_config_error):
    a_file = catalog_writer.add("a", parent="b")
    catalog_writer.add("b", parent="a")
    error = _error(catalog_writer)
    assert_config_error(error, a_file, "parent")
    assert "a -> b -> a" in error.problem


def test_invalid_regex_in_stdout_is_rejected_naming_the_field(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("a", smoke={"commands": [{"command": ["true"], "stdout": "(unclosed"}]})
    error = _error(catalog_writer)
    assert_config_error(error, spec_file, "smoke.commands[0].stdout")
    assert "regular expression" in error.problem


def test_command_test_restricted_to_a_platform_the_image_does_not_build_is_rejected(
    catalog_writer, assert_config_error
):
    spec_file = catalog_writer.add(
        "a",
        platforms=["linux/amd64"],
        smoke={"commands": [{"command": ["true"]}, {"command": ["true"], "platforms": ["linux/arm64"]}]},
    )
    error = _error(catalog_writer)
    assert_config_error(error, spec_file, "smoke.commands[1].platforms")
    assert "'linux/arm64'" in error.problem


@pytest.mark.parametrize("mode", ["rwxr-xr-x", "0x1ff", "0999", "abc"])
def test_file_mode_that_is_not_octal_is_rejected_naming_the_field(catalog_writer, assert_config_error, mode):
    spec_file = catalog_writer.add("a", smoke={"files": [{"path": "/usr/bin/env"}, {"path": "/x", "mode": mode}]})
    error = _error(catalog_writer)
    assert_config_error(error, spec_file, "smoke.files[1].mode")
    assert "octal" in error.problem


def test_relative_file_test_path_is_rejected(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("a", smoke={"files": [{"path": "usr/bin/env"}]})
    assert_config_error(_error(catalog_writer), spec_file, "smoke.files[0].path")


def test_base_image_build_arg_is_reserved_for_the_factory(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("a", build_args={"PYTHON": "3.11", "BASE_IMAGE": "debian:12"})
    error = _error(catalog_writer)
    assert_config_error(error, spec_file, "build_args.BASE_IMAGE")
    assert "factory" in error.problem


def test_invalid_yaml_is_rejected_naming_file_and_line(catalog_writer):
    spec_file = catalog_writer.add("a", raw="name: a\nversion: [1.0.0\nparent: python:3.11-slim\n")
    error = _error(catalog_writer)
    assert error.exit_code == 2
    assert error.source == str(spec_file)
    assert error.field.startswith("line ")
    assert "not valid YAML" in error.problem
    assert str(error).startswith(f"{spec_file}: line ")


def test_image_yaml_that_is_not_a_mapping_is_rejected(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("a", raw="- name: a\n")
    assert_config_error(_error(catalog_writer), spec_file, "(top level)")


def test_missing_required_version_is_rejected(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("a", version=None)
    error = _error(catalog_writer)
    assert_config_error(error, spec_file, "version")
    assert "required" in error.problem


def test_empty_catalog_directory_is_rejected(tmp_path):
    (tmp_path / "images").mkdir()
    with pytest.raises(ConfigError) as info:
        load_catalog(tmp_path / "images", ["linux/amd64"])
    assert info.value.exit_code == 2
    assert str(tmp_path / "images") in str(info.value)


# --------------------------------------------------------------------------- accepted catalogs


def test_default_platforms_are_applied_when_image_yaml_omits_platforms(catalog_writer):
    catalog_writer.add("a")
    catalog_writer.add("b", platforms=["linux/arm64"])
    catalog = catalog_writer.load(("linux/amd64", "linux/s390x"))
    assert catalog["a"].platforms == ("linux/amd64", "linux/s390x")
    assert catalog["b"].platforms == ("linux/arm64",)


def test_external_parent_reference_is_recognised_as_external(catalog_writer):
    catalog_writer.add("base", parent="python:3.11-slim")
    catalog_writer.add("child", parent="base")
    catalog = catalog_writer.load()
    assert catalog["base"].parent == "python:3.11-slim"
    assert catalog["base"].parent_is_external is True
    assert catalog["child"].parent == "base"
    assert catalog["child"].parent_is_external is False
    assert catalog.names() == ["base", "child"]


def test_string_command_becomes_sh_dash_c(catalog_writer):
    catalog_writer.add(
        "a",
        smoke={"commands": [{"command": "echo hi | grep hi"}, {"command": ["python", "--version"], "exit_code": 3}]},
    )
    commands = catalog_writer.load()["a"].smoke.commands
    assert commands[0].command == ("sh", "-c", "echo hi | grep hi")
    assert commands[0].exit_code == 0
    assert commands[1].command == ("python", "--version")
    assert commands[1].exit_code == 3


def test_smoke_and_build_fields_are_parsed_into_typed_specs(catalog_writer):
    catalog_writer.add(
        "a",
        description="demo",
        platforms=["linux/amd64"],
        skips_allowed={"linux/amd64": "demo reason"},
        build_args={"PYTHON": 3.11},
        size_budget={"max_mb": 100, "max_mb_over_parent": 12.5},
        smoke={
            "commands": [
                {
                    "name": "on amd64",
                    "command": ["uname", "-m"],
                    "stdout": "x86_64",
                    "platforms": ["linux/amd64"],
                    "skip_if_exists": "/etc/skip",
                }
            ],
            "files": [{"path": "/usr/bin/env", "mode": "0755"}, {"path": "/usr/bin/gcc", "exists": False}],
            "metadata": {"env": {"VIRTUAL_ENV": "/opt/venv"}, "workdir": "/app", "user": "app"},
        },
    )
    spec = catalog_writer.load()["a"]
    assert spec.description == "demo"
    assert spec.skips_allowed == {"linux/amd64": "demo reason"}
    assert spec.build_args == {"PYTHON": "3.11"}
    assert spec.size_budget is not None
    assert (spec.size_budget.max_mb, spec.size_budget.max_mb_over_parent) == (100.0, 12.5)
    assert spec.smoke.commands == (
        CommandTest(
            name="on amd64",
            command=("uname", "-m"),
            stdout="x86_64",
            platforms=("linux/amd64",),
            skip_if_exists="/etc/skip",
        ),
    )
    assert spec.smoke.files == (FileTest("/usr/bin/env", True, 0o755), FileTest("/usr/bin/gcc", False, None))
    assert spec.smoke.metadata is not None
    assert dict(spec.smoke.metadata.env) == {"VIRTUAL_ENV": "/opt/venv"}
    assert (spec.smoke.metadata.workdir, spec.smoke.metadata.user) == ("/app", "app")
    assert spec.dockerfile == spec.directory / "Dockerfile"


def test_real_python311_uv_image_yaml_loads(tmp_path):
    # Copied alone: sibling folders of the real catalog may be work in progress.
    shutil.copytree(REAL_IMAGES / "python311-uv", tmp_path / "images" / "python311-uv")
    shutil.copy2(REAL_IMAGES / "contract.Dockerfile", tmp_path / "images" / "contract.Dockerfile")
    catalog = load_catalog(tmp_path / "images", ["linux/amd64", "linux/arm64"])
    spec = catalog["python311-uv"]
    assert spec.parent == "python:3.11-slim"
    assert spec.parent_is_external
    assert spec.platforms == ("linux/amd64", "linux/arm64")
    assert spec.smoke.commands, "the uv image declares command tests"
    assert FileTest("/usr/local/bin/uv", True, 0o755) in spec.smoke.files
    assert spec.smoke.metadata is not None
    assert spec.smoke.metadata.env.get("VIRTUAL_ENV") == "/opt/venv"


@pytest.mark.parametrize("raw_mode", ["0644", "0755", "755"])
def test_unquoted_file_mode_is_rejected_because_yaml_reads_it_as_a_number(
    catalog_writer, assert_config_error, raw_mode
):
    raw = (
        "name: uv\nversion: 1.0.0\nparent: python:3.11-slim\n"
        f"smoke:\n  files:\n    - path: /etc/passwd\n      mode: {raw_mode}\n"
    )
    spec_file = catalog_writer.add("uv", raw=raw)
    with pytest.raises(ConfigError) as info:
        catalog_writer.load()
    assert_config_error(info.value, spec_file, "smoke.files[0].mode")
    assert "quoted" in str(info.value)


def test_quoted_file_mode_is_read_as_octal(catalog_writer):
    catalog_writer.add(
        "uv", smoke={"commands": [{"command": ["true"]}], "files": [{"path": "/etc/passwd", "mode": "0644"}]}
    )
    assert catalog_writer.load()["uv"].smoke.files[0].mode == 0o644


def test_version_whose_tag_would_exceed_128_characters_is_rejected_at_load(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("uv", version="1.0.0-" + "a" * 130)
    with pytest.raises(ConfigError) as info:
        catalog_writer.load()
    assert_config_error(info.value, spec_file, "version")


def test_exit_code_outside_0_to_255_is_rejected(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("uv", smoke={"commands": [{"command": ["true"], "exit_code": 256}]})
    with pytest.raises(ConfigError) as info:
        catalog_writer.load()
    assert_config_error(info.value, spec_file, "smoke.commands[0].exit_code")


def test_relative_skip_if_exists_path_is_rejected(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("uv", smoke={"commands": [{"command": ["true"], "skip_if_exists": "etc/x"}]})
    with pytest.raises(ConfigError) as info:
        catalog_writer.load()
    assert_config_error(info.value, spec_file, "smoke.commands[0].skip_if_exists")


def _contract_dir(catalog_writer, name="uv"):
    folder = catalog_writer.images_dir / name / "contract"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text("ARG BASE_IMAGE\nARG RUNTIME_IMAGE\nFROM ${RUNTIME_IMAGE}\n")
    return folder


def test_contract_is_parsed_with_its_runtime_commands_and_skip_condition(catalog_writer):
    catalog_writer.add(
        "uv",
        skips_allowed={"linux/arm64": "no x for arm64"},
        contract={
            "context": "contract",
            "skip_if_exists": "/usr/share/x",
            "commands": [{"command": ["python", "/srv/app.py"], "stdout": "^ok$"}],
        },
    )
    folder = _contract_dir(catalog_writer)
    contract = catalog_writer.load()["uv"].contract
    assert contract.context == folder.resolve()
    assert contract.runtime == "python:3.11-slim"
    assert contract.skip_if_exists == "/usr/share/x"
    assert contract.commands[0].command == ("python", "/srv/app.py")


def test_contract_without_a_dockerfile_in_its_context_is_rejected(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("uv", contract={"context": "missing", "commands": [{"command": ["true"]}]})
    with pytest.raises(ConfigError) as info:
        catalog_writer.load()
    assert_config_error(info.value, spec_file, "contract.context")


def test_contract_without_commands_is_rejected(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("uv", contract={"context": "contract"})
    _contract_dir(catalog_writer)
    with pytest.raises(ConfigError) as info:
        catalog_writer.load()
    assert_config_error(info.value, spec_file, "contract.commands")


def test_contract_runtime_must_be_an_image_reference(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add(
        "uv", contract={"context": "contract", "runtime": "not a ref", "commands": [{"command": ["true"]}]}
    )
    _contract_dir(catalog_writer)
    with pytest.raises(ConfigError) as info:
        catalog_writer.load()
    assert_config_error(info.value, spec_file, "contract.runtime")


def test_image_without_a_command_test_is_a_catalog_error(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("uv", smoke={"files": [{"path": "/etc/passwd"}]})
    with pytest.raises(ConfigError) as info:
        catalog_writer.load()
    assert_config_error(info.value, spec_file, "smoke.commands")


def test_platform_that_no_command_test_runs_on_is_a_catalog_error(catalog_writer, assert_config_error):
    only_amd64 = {"command": ["true"], "platforms": ["linux/amd64"]}
    spec_file = catalog_writer.add("uv", smoke={"commands": [only_amd64]})
    with pytest.raises(ConfigError) as info:
        catalog_writer.load()
    assert_config_error(info.value, spec_file, "smoke.commands")
    assert "linux/arm64" in str(info.value)


def test_skip_if_exists_without_skips_allowed_is_a_catalog_error(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("uv", smoke={"commands": [{"command": ["true"], "skip_if_exists": "/etc/x"}]})
    with pytest.raises(ConfigError) as info:
        catalog_writer.load()
    assert_config_error(info.value, spec_file, "smoke.commands[0].skip_if_exists")
    assert "skips_allowed" in str(info.value)


def test_skips_allowed_on_a_platform_the_image_does_not_build_is_rejected(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("uv", platforms=["linux/amd64"], skips_allowed={"linux/arm64": "why"})
    with pytest.raises(ConfigError) as info:
        catalog_writer.load()
    assert_config_error(info.value, spec_file, "skips_allowed.linux/arm64")


def test_skips_allowed_without_a_reason_is_rejected(catalog_writer, assert_config_error):
    spec_file = catalog_writer.add("uv", skips_allowed={"linux/arm64": " "})
    with pytest.raises(ConfigError) as info:
        catalog_writer.load()
    assert_config_error(info.value, spec_file, "skips_allowed.linux/arm64")


def test_contract_may_use_a_shared_recipe_beside_the_images(catalog_writer):
    (catalog_writer.images_dir / "service.Dockerfile").write_text("ARG BASE_IMAGE\nARG RUNTIME_IMAGE\n")
    (catalog_writer.images_dir / "uv" / "contract").mkdir(parents=True)
    catalog_writer.add(
        "uv",
        contract={"context": "contract", "dockerfile": "../service.Dockerfile", "commands": [{"command": ["true"]}]},
    )
    contract = catalog_writer.load()["uv"].contract
    assert contract.recipe == (catalog_writer.images_dir / "service.Dockerfile").resolve()
    assert contract.context == (catalog_writer.images_dir / "uv" / "contract").resolve()


def test_contract_recipe_that_does_not_exist_is_rejected_naming_the_dockerfile_field(
    catalog_writer, assert_config_error
):
    (catalog_writer.images_dir / "uv" / "contract").mkdir(parents=True)
    spec_file = catalog_writer.add(
        "uv", contract={"context": "contract", "dockerfile": "../nope.Dockerfile", "commands": [{"command": ["true"]}]}
    )
    with pytest.raises(ConfigError) as info:
        catalog_writer.load()
    assert_config_error(info.value, spec_file, "contract.dockerfile")
