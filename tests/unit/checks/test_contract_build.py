"""The contract's generated Dockerfile (the recipe, its final stage named, the check stages appended) and
the reading of what its `type=local` output wrote per platform."""

from __future__ import annotations

import json

import pytest

from baseimages.catalog.dockerfile import parse_dockerfile
from baseimages.checks.contract_build import (
    CHECK_STAGE,
    SERVICE_STAGE,
    check_dockerfile,
    name_final_stage,
    platform_folder,
    read_results,
)
from baseimages.checks.runner import SCRIPT, RunnerCheck


def test_a_final_stage_with_a_name_keeps_it():
    recipe = "FROM a AS builder\nRUN x\nfrom --platform=linux/amd64 b as Runtime\nCMD y\n"
    assert name_final_stage(recipe) == (recipe, "Runtime")


def test_an_unnamed_final_stage_is_named_and_nothing_else_changes():
    recipe = (
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE} AS builder\nRUN make\n\nFROM ${RUNTIME_IMAGE}\nCOPY --from=builder /a /a\n"
    )
    text, name = name_final_stage(recipe)
    assert name == SERVICE_STAGE
    assert text == recipe.replace("FROM ${RUNTIME_IMAGE}\n", f"FROM ${{RUNTIME_IMAGE}} AS {SERVICE_STAGE}\n")


def test_a_final_from_continued_over_lines_is_named_at_its_end():
    recipe = "# escape=`\nFROM a AS one\nFROM `\n  --platform=linux/arm64 `\n  b\nRUN z\n"
    text, _ = name_final_stage(recipe)
    froms = [i.text for i in parse_dockerfile(text).instructions if i.keyword == "FROM"]
    assert froms[-1] == f"--platform=linux/arm64 b AS {SERVICE_STAGE}"


def test_a_recipe_without_from_is_refused():
    with pytest.raises(ValueError, match="no FROM"):
        name_final_stage("ARG BASE_IMAGE\n")


def test_the_appended_stages_run_the_runner_with_its_checks_and_copy_only_the_results():
    text = check_dockerfile("FROM base\n", [RunnerCheck(("python", "/srv/app.py"), "/marker")], "run-1")
    instructions = parse_dockerfile(text).instructions
    assert [(i.keyword, i.text) for i in instructions if i.keyword != "RUN"] == [
        ("FROM", f"base AS {SERVICE_STAGE}"),
        ("FROM", f"{SERVICE_STAGE} AS {CHECK_STAGE}"),
        ("FROM", "scratch"),
        ("COPY", f"--from={CHECK_STAGE} /tmp/baseimages-contract-checks/ /"),
    ]
    [run] = [i for i in instructions if i.keyword == "RUN"]
    argv = json.loads(run.text)  # the exec form: no shell of the image's own in between, exact bytes
    assert argv[:2] == ["sh", "-c"] and argv[3:5] == ["baseimages-contract", "run-1"]
    assert argv[5] == SCRIPT and argv[6:] == ["0", "0", "/marker", "python /srv/app.py"]
    assert argv[2].rstrip().endswith("exit 0")  # a failing check is a result, never a failed build


def test_results_are_read_from_a_folder_per_platform_or_the_folder_itself_for_one(tmp_path):
    (tmp_path / "linux_arm64").mkdir()
    both = ["linux/amd64", "linux/arm64"]
    assert platform_folder(tmp_path, "linux/arm64", both) == tmp_path / "linux_arm64"
    assert platform_folder(tmp_path, "linux/amd64", both) == tmp_path / "linux_amd64"
    assert platform_folder(tmp_path, "linux/amd64", ["linux/amd64"]) == tmp_path
    assert platform_folder(tmp_path, "linux/arm64", ["linux/arm64"]) == tmp_path / "linux_arm64"  # split anyway


def test_reading_results_keeps_exit_code_stdout_and_stderr_and_says_when_they_are_missing(tmp_path):
    (tmp_path / "stdout").write_bytes(b"doc\xff\n")
    (tmp_path / "stderr").write_text("warn\n")
    (tmp_path / "exit").write_text("0\n")
    run = read_results(tmp_path)
    assert (run.exit_code, run.stdout, run.stderr) == (0, "doc\ufffd\n", "warn\n")
    missing = read_results(tmp_path / "linux_s390x")
    assert missing.exit_code == -1 and missing.stdout == "" and "no check results" in missing.stderr
