"""The CLI: main(argv, out, err) returns the exit code; list/plan/dry-run never touch Docker."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import tomllib

import pytest
from fake_runner import decode_args

from baseimages.cli.main import main, parse_args
from baseimages.settings.config import SETTINGS

PASSWORD = "s3cr3t-Pa55"
INDEX_URL = f"https://build-bot:{PASSWORD}@pypi.corp.example/simple"
FLAGGED = [setting for setting in SETTINGS if setting.flag is not None]
VALUED = [setting for setting in FLAGGED if setting.kind.flag_const is None]  # flags that take a value
SWITCHES = [setting for setting in FLAGGED if setting.kind.flag_const is not None]


def _command(setting: object) -> str:
    """The command a setting's flag belongs to: a sub-table's (`retention.*`: prune), else any (plan)."""
    return "prune" if getattr(setting, "table", "") else "plan"


@pytest.fixture
def project(catalog_writer, clean_env):
    """A project in tmp_path: uv FROM python:3.11-slim, ml and security FROM uv; no ambient settings."""
    (catalog_writer.root / "pyproject.toml").write_text(
        '[tool.baseimages]\nregistry = "registry.test:5000"\nnamespace = "team"\n'
    )
    catalog_writer.add(
        "uv", smoke={"commands": [{"command": ["uv", "--version"]}, {"command": "true", "platforms": ["linux/arm64"]}]}
    )
    catalog_writer.add("ml", parent="uv", version="2.0.0")
    catalog_writer.add("security", parent="uv", version="0.1.0")
    return catalog_writer


@pytest.fixture
def served(catalog_writer, clean_env, fake_registry):
    """The same family, pushed to the in-process fake registry, uv FROM a base that registry serves:
    `plan` asks it, and only it (no DNS, no network)."""
    from fake_image import make_image

    fake_registry.preload("library/python", make_image("base"), tag="3.11-slim")
    (catalog_writer.root / "pyproject.toml").write_text(
        f'[tool.baseimages]\nregistry = "{fake_registry.address}"\nnamespace = "team"\n'
    )
    catalog_writer.add("uv", parent=f"{fake_registry.address}/library/python:3.11-slim")
    catalog_writer.add("ml", parent="uv", version="2.0.0")
    catalog_writer.add("security", parent="uv", version="0.1.0")
    return catalog_writer


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_plan_json_prints_documented_shape_in_build_order_with_each_decision(served, fake_registry):
    code, out, err = run("plan", "--json", "--project", str(served.root))
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert list(data) == ["images"]
    assert [(i["name"], i["wave"]) for i in data["images"]] == [("uv", 0), ("ml", 1), ("security", 1)]
    for item in data["images"]:
        assert {"name", "version", "parent", "platforms", "tags", "wave"} <= set(item)
        assert item["platforms"] == ["linux/amd64", "linux/arm64"]
    ml = data["images"][1]
    assert (ml["version"], ml["parent"]) == ("2.0.0", "uv")
    assert {"2.0.0", "2.0", "2", "latest"} <= set(ml["tags"])
    # Nothing is in the registry yet: every image builds, and says why.
    assert [(i["action"], i["reasons"]) for i in data["images"]] == [
        ("build", ["new: 1.0.0 is not in the registry"]),
        ("build", ["parent uv rebuilt"]),
        ("build", ["parent uv rebuilt"]),
    ]
    assert fake_registry.manifest_puts() == []  # plan changes nothing


def test_plan_json_with_only_and_platform_flags(served):
    code, out, _ = run("plan", "--json", "--project", str(served.root), "--only", "ml", "--platform", "linux/arm64")
    assert code == 0
    images = json.loads(out)["images"]
    assert [i["name"] for i in images] == ["uv", "ml"]
    assert all(i["platforms"] == ["linux/arm64"] for i in images)


def test_plan_text_lists_waves_and_tags(served, fake_registry):
    code, out, _ = run("plan", "--project", str(served.root))
    assert code == 0
    assert f"registry: {fake_registry.address}  namespace: team" in out
    assert "build: new: 1.0.0 is not in the registry" in out
    assert out.index("wave 1:") < out.index("  uv 1.0.0") < out.index("wave 2:") < out.index("  ml 2.0.0")


def test_bad_catalog_returns_2_with_one_error_line_naming_file_and_field(project):
    spec_file = project.add("security", parent="uv", colour="red")
    code, out, err = run("plan", "--project", str(project.root))
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {spec_file}: colour: unknown key")


def test_unknown_platform_flag_returns_2(project):
    code, out, err = run("list", "--project", str(project.root), "--platform", "linux/amd65")
    assert code == 2
    assert out == ""
    assert err.startswith("error: --platform: ")
    assert "'linux/amd65'" in err


def test_unknown_only_name_returns_2(project):
    code, _, err = run("plan", "--project", str(project.root), "--only", "nope")
    assert code == 2
    assert err.startswith("error: --only: nope: unknown image")


def test_bad_pyproject_setting_returns_2(project):
    (project.root / "pyproject.toml").write_text('[tool.baseimages]\nregistyr = "x"\n')
    code, _, err = run("list", "--project", str(project.root))
    assert code == 2
    assert ": registyr: unknown key" in err


def test_list_names_each_image(project):
    code, out, err = run("list", "--project", str(project.root))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["uv", "ml", "security"]
    assert re.match(r"^ml\s+2\.0\.0\s+FROM uv\s+linux/amd64,linux/arm64$", lines[1])


def _build_lines(out: str) -> list[list[str]]:
    """The builds that export an image (a child's cache warm-ups, `type=cacheonly`, left out)."""
    return [argv for argv in _all_builds(out) if "type=cacheonly" not in argv]


def _warm_lines(out: str) -> list[list[str]]:
    """A child's cache warm-ups: its build FROM its parent's output of a platform, exporting nothing."""
    return [argv for argv in _all_builds(out) if "type=cacheonly" in argv]


def _all_builds(out: str) -> list[list[str]]:
    return [shlex.split(line) for line in out.splitlines() if line.startswith("docker buildx build")]


def test_push_dry_run_passes_ca_bundle_and_index_url_as_secrets_without_leaking_the_url(project, tmp_path, monkeypatch):
    bundle = tmp_path / "corp-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.setenv("BASEIMAGES_INDEX_URL", INDEX_URL)
    code, out, err = run("push", "--dry-run=commands", "--project", str(project.root))
    assert code == 0
    assert PASSWORD not in out and PASSWORD not in err
    assert "pypi.corp.example" not in out
    builds = _build_lines(out)
    assert len(builds) == 6  # one per image and platform
    assert len(_warm_lines(out)) == 4  # ml's and security's, of each platform
    for argv in _all_builds(out):
        assert f"--secret id=ca-bundle,src={bundle.resolve()}" in shlex.join(argv)
        assert "id=index-url,env=BASEIMAGES_INDEX_URL" in argv
    assert any(line.startswith("# tag ") for line in out.splitlines())


def test_push_dry_run_without_offline_inputs_has_no_secrets(project):
    code, out, _ = run("push", "--dry-run=commands", "--project", str(project.root))
    assert code == 0
    assert "--secret" not in out
    contexts = [argv[i + 1] for argv in _all_builds(out) for i, word in enumerate(argv) if word == "--build-context"]
    assert contexts and all(c.startswith("baseimages-parent=oci-layout://<tmp>/uv.linux-") for c in contexts)


def test_upload_jobs_flag_sets_how_many_blobs_the_upload_sends_at_once(project):
    code, out, _ = run(
        "push", "--dry-run=commands", "--project", str(project.root), "--only", "ml", "--upload-jobs", "2"
    )
    assert code == 0
    assert "registry.test:5000/team/ml:candidate-2.0.0 (registry API: blobs 2 at once, manifests, index)" in out


def test_push_dry_run_builds_children_from_the_parent_candidate_and_uploads_candidates(project):
    code, out, _ = run("push", "--dry-run=commands", "--project", str(project.root), "--only", "ml")
    assert code == 0
    uv_amd64, uv_arm64, ml_amd64, ml_arm64 = _build_lines(out)
    assert "BASE_IMAGE=python:3.11-slim@<digest of python:3.11-slim>" in uv_amd64
    # One build per platform, each into its own OCI archive, timestamps rewritten (reproducible), with provenance.
    for argv, platform in [(uv_amd64, "linux/amd64"), (uv_arm64, "linux/arm64")]:
        assert argv[argv.index("--platform") + 1] == platform
    ml = ml_arm64
    assert ml[ml.index("--platform") + 1] == "linux/arm64"
    # The parent built in this run: its candidate uploaded to the registry, by digest (any builder pulls it).
    assert "BASE_IMAGE=registry.test:5000/team/uv:candidate-1.0.0@<digest of uv>" in ml
    assert "--build-context" not in ml
    output = ml[ml.index("--output") + 1]
    assert output == (
        "type=oci,dest=<tmp>/ml.linux-arm64.oci.tar,name=registry.test:5000/team/ml:candidate-2.0.0,"
        "rewrite-timestamp=true,compression=gzip,compression-level=1"
    )
    assert "--builder" not in ml  # no mapping: the default builder
    assert ml[ml.index("--provenance") + 1] == "mode=max"
    assert "SOURCE_DATE_EPOCH=" in " ".join(ml)
    # Before that, while uv's other platform still builds, ml's steps warmed FROM uv's output of each platform.
    for argv, platform in zip(_warm_lines(out), ("amd64", "arm64"), strict=True):
        assert "BASE_IMAGE=baseimages-parent" in argv and argv[argv.index("--output") + 1] == "type=cacheonly"
        context = f"baseimages-parent=oci-layout://<tmp>/uv.linux-{platform}.oci@<digest of uv linux/{platform}>"
        assert argv[argv.index("--build-context") + 1] == context and "--cache-to" not in argv
    # Then merged into one index, with the annotations change detection reads back; loaded into the local store.
    merge = next(line for line in out.splitlines() if line.startswith("# merge") and "<tmp>/ml.oci.tar" in line)
    assert "org.opencontainers.image.base.digest=<digest of uv>" in merge
    lines = out.splitlines()
    assert "docker image load --quiet --input '<tmp>/ml.oci.tar'" in lines
    assert "# upload <tmp>/ml.oci.tar to registry.test:5000/team/ml:candidate-2.0.0" in out
    # One container per image and platform runs the check runner; uv's command tests run on their platforms
    # only (`true` is restricted to linux/arm64); ml's on both.
    runs = [shlex.split(line, comments=True) for line in out.splitlines() if line.startswith("docker create")]
    checks = sorted(
        (argv[argv.index("--platform") + 1], argv[argv.index("--entrypoint") + 1], check[0])
        for argv in runs
        for _, check in decode_args(argv[argv.index("-c") + 3 :])[2]
    )
    assert len(runs) == 4
    assert checks == [
        ("linux/amd64", "sh", "python"),
        ("linux/amd64", "sh", "uv"),
        ("linux/arm64", "sh", "python"),
        ("linux/arm64", "sh", "sh"),  # `true`, a string, runs as sh -c true
        ("linux/arm64", "sh", "uv"),
    ]


def test_build_dry_run_does_not_push(project):
    code, out, _ = run("build", "--dry-run=commands", "--project", str(project.root))
    assert code == 0
    assert "push=true" not in out
    assert "docker image save" not in out and "# upload" not in out and "# tag" not in out
    assert len(_build_lines(out)) == 6


def test_dry_run_uses_the_wheelhouse_detected_from_pip_find_links(project, tmp_path, monkeypatch):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    monkeypatch.setenv("PIP_FIND_LINKS", f"https://pypi.example/wheels {wheels}")
    code, out, _ = run("build", "--dry-run=commands", "--project", str(project.root), "--only", "uv")
    assert code == 0
    for argv in _build_lines(out):
        assert f"wheelhouse={wheels.resolve()}" in argv


def test_push_dry_run_prints_the_plan_a_person_reads_from_what_the_registry_holds(served, fake_registry):
    code, out, err = run("push", "--dry-run", "--project", str(served.root))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("push --dry-run: 3 image(s), nothing runs")
    registry = fake_registry.address
    assert f"uv 1.0.0  FROM {registry}/library/python:3.11-slim  ({registry}/team/uv)" in lines
    assert "  why: build: new: 1.0.0 is not in the registry" in lines
    assert lines.count("  why: build: parent uv rebuilt") == 2
    assert f"    linux/arm64 on default, FROM {registry}/team/uv:candidate-1.0.0@<digest of uv>" in lines
    assert (
        f"  upload <tmp>/ml.oci.tar to {registry}/team/ml:candidate-2.0.0 (4 blobs at once, blobs mounted from team/uv)"
        in lines
    )
    assert any(line.startswith("    latest") and line.endswith("new -> <digest of ml>") for line in lines)
    assert not any(line.startswith(("docker ", "cosign ")) for line in lines)
    # It only read the registry.
    assert fake_registry.count("PUT") == fake_registry.count("POST") == fake_registry.count("DELETE") == 0


def test_dry_run_equals_commands_prints_the_command_lines_of_the_same_plan(served, fake_registry):
    code, out, err = run("push", "--dry-run=commands", "--project", str(served.root), "--only", "uv")
    assert (code, err) == (0, "")
    assert len(_build_lines(out)) == 2  # one per platform
    assert f"BASE_IMAGE={fake_registry.address}/library/python:3.11-slim@sha256:" in out  # resolved as a run does
    assert any(
        line.startswith(f"# tag {fake_registry.address}/team/uv@<digest of uv> as ") for line in out.splitlines()
    )


def test_dry_run_before_a_ref_keeps_the_ref_and_an_unknown_mode_is_refused(project, capsys):
    ref = "registry.test:5000/team/uv:1.0.0"
    code, out, _ = run("test", "--dry-run", ref, "--project", str(project.root))
    assert code == 0
    assert out == f"smoke-test {ref} (uv) on every platform of its index\n"
    with pytest.raises(SystemExit) as info:
        main(["push", "--dry-run=shell", "--project", str(project.root)])
    assert info.value.code == 2
    assert "invalid choice: 'shell'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flag", "value"), [("--namespace", "Team"), ("--namespace", "a b"), ("--registry", "local host")]
)
def test_invalid_registry_or_namespace_flag_is_rejected_naming_the_flag(project, flag, value):
    code, out, err = run("plan", "--project", str(project.root), flag, value)
    assert code == 2
    assert err.startswith(f"error: {flag}: ")


def test_bake_file_chains_children_to_their_parent_target_with_the_same_tags_and_secrets(
    project, tmp_path, monkeypatch
):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    code, out, _ = run("bake-file", "--project", str(project.root))
    assert code == 0
    bake = json.loads(out)
    assert bake["group"]["default"]["targets"] == ["uv", "ml", "security"]
    uv, ml = bake["target"]["uv"], bake["target"]["ml"]
    assert uv["args"]["BASE_IMAGE"] == "python:3.11-slim"
    assert ml["args"]["BASE_IMAGE"] == "baseimages-parent"
    assert ml["contexts"]["baseimages-parent"] == "target:uv"
    assert "registry.test:5000/team/ml:latest" in ml["tags"]
    assert ml["secret"] == [f"id=ca-bundle,src={bundle.resolve()}"]
    assert ml["platforms"] == ["linux/amd64", "linux/arm64"]


def test_bake_file_gives_each_target_the_registry_build_cache_unless_it_is_off(project):
    code, out, _ = run("bake-file", "--project", str(project.root))
    ml = json.loads(out)["target"]["ml"]
    assert code == 0
    assert ml["cache-from"] == ["type=registry,ref=registry.test:5000/team/ml:buildcache"]
    assert ml["cache-to"] == ["type=registry,ref=registry.test:5000/team/ml:buildcache,mode=max,ignore-error=true"]
    code, out, _ = run("bake-file", "--project", str(project.root), "--no-build-cache")
    assert code == 0
    assert "cache-to" not in json.loads(out)["target"]["ml"]


def test_an_unexpected_error_is_one_line_and_exit_70_never_a_traceback(project, monkeypatch):
    import baseimages.cli.main

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(baseimages.cli.main, "load_catalog", broken)
    code, out, err = run("list", "--project", str(project.root))
    assert code == 70
    assert err == "error: baseimages: internal error (please report it): KeyError: 'boom'\n"
    assert "Traceback" not in out + err


# --------------------------------------------------------------------------- settings flags


def test_retry_settings_have_flags():
    assert {"--retry-attempts", "--retry-max-seconds"} <= {setting.flag for setting in FLAGGED}


@pytest.mark.parametrize("place", ["pyproject", "environment"])
@pytest.mark.parametrize("setting", VALUED, ids=lambda s: s.key)
def test_every_setting_flag_overrides_the_value_set_elsewhere(setting, place, tmp_path, pyproject, setting_samples):
    sample = setting_samples[setting.key]
    env = {"PIP_CONFIG_FILE": os.devnull}
    if place == "pyproject":
        pyproject(tmp_path, f"{setting.key} = {sample.toml}\n")
    else:
        given = tomllib.loads(f"v = {sample.toml}")["v"]
        if isinstance(given, dict):
            given = [f"{key}={value}" for key, value in given.items()]
        env[setting.env] = ",".join(given) if isinstance(given, list) else str(given)
    command = _command(setting)
    without_flag = parse_args([command, "--project", str(tmp_path)]).settings(environ=env)
    with_flag = parse_args([command, "--project", str(tmp_path), str(setting.flag), sample.text]).settings(environ=env)
    assert getattr(with_flag, setting.attr) == sample.loaded
    assert getattr(without_flag, setting.attr) not in (sample.loaded, setting.default_value())


@pytest.mark.parametrize("place", ["pyproject", "environment"])
@pytest.mark.parametrize("setting", SWITCHES, ids=lambda s: s.key)
def test_every_switch_flag_overrides_the_opposite_value_set_elsewhere(setting, place, tmp_path, pyproject):
    flag_value = setting.kind.from_text(str(setting.kind.flag_const))
    other = "false" if flag_value else "true"
    env = {"PIP_CONFIG_FILE": os.devnull}
    if place == "pyproject":
        pyproject(tmp_path, f"{setting.key} = {other}\n")
    else:
        env[setting.env] = other
    command = _command(setting)
    without_flag = parse_args([command, "--project", str(tmp_path)]).settings(environ=env)
    with_flag = parse_args([command, "--project", str(tmp_path), str(setting.flag)]).settings(environ=env)
    assert getattr(without_flag, setting.attr) is not flag_value
    assert getattr(with_flag, setting.attr) is flag_value


def test_no_build_cache_turns_the_registry_cache_off_and_it_is_on_by_default(project):
    assert parse_args(["push", "--project", str(project.root)]).settings().build_cache is True
    assert parse_args(["push", "--project", str(project.root), "--no-build-cache"]).settings().build_cache is False


ANY_PATH = ("lock-dir", "updates-state", "layer-cache")  # any text is a path


@pytest.mark.parametrize("setting", [s for s in VALUED if s.key not in ANY_PATH], ids=lambda s: s.key)
def test_a_bad_flag_value_is_one_line_naming_the_flag_and_the_value(setting, project, setting_samples):
    bad = setting_samples[setting.key].bad_text
    assert bad is not None
    code, out, err = run(_command(setting), "--project", str(project.root), str(setting.flag), bad)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: {setting.flag}: {bad}: ")


def test_retry_flags_reach_the_settings_of_the_run(project):
    options = parse_args(["push", "--project", str(project.root), "--retry-attempts", "2", "--retry-max-seconds", "9"])
    settings = options.settings()
    assert (settings.retry_attempts, settings.retry_max_seconds) == (2, 9)
    assert (settings.registry, settings.namespace) == ("registry.test:5000", "team")  # the rest from pyproject.toml


def test_help_lists_every_setting_flag_with_its_variable_and_default(project, capsys):
    with pytest.raises(SystemExit) as info:
        main(["plan", "--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for setting in [s for s in FLAGGED if _command(s) == "plan"]:
        assert setting.flag_usage in text
        assert setting.env in text
    assert "default: 8)" in text and "default: 300)" in text


def test_plan_says_unknown_with_the_reason_when_the_registry_cannot_be_asked(served, fake_registry):
    fake_registry.fault("503")
    code, out, _ = run("plan", "--json", "--project", str(served.root))
    assert code == 0
    for image in json.loads(out)["images"]:
        assert image["action"] == "unknown"
        assert image["reasons"][0].startswith("registry not asked: ")


def test_force_with_a_refresh_mode_is_refused_naming_both_flags_before_anything_runs(project):
    code, out, err = run("push", "--project", str(project.root), "--force", "--refresh", "monthly")
    assert code == 2
    assert out == ""
    problem = "choose one: --force rebuilds every image whatever --refresh says"
    assert err.splitlines() == [f"error: --force: --refresh: {problem}"]
