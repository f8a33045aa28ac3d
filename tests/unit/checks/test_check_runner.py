"""The check runner's script, run by the host's /bin/sh on crafted checks (no engine, no network), and its
parser on whole, cut and forged documents."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from baseimages.checks.runner import RunnerCheck, parse_output, runner_command

GARBAGE = bytes(range(256)) * 3 + b"\nend 0\n\x00\xff"


def _run(tmp_path: Path, checks=(), paths=(), markers=(), path_env: str | None = None) -> tuple[str, str, int]:
    env = {"PATH": path_env or os.environ["PATH"], "TMPDIR": str(tmp_path), "HOME": str(tmp_path)}
    done = subprocess.run(
        runner_command(list(paths), list(markers), list(checks)),
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    return done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"), done.returncode


def _output(tmp_path: Path, checks=(), paths=(), markers=(), path_env: str | None = None):
    stdout, stderr, code = _run(tmp_path, checks, paths, markers, path_env)
    output = parse_output(stdout)
    return output, stderr, code


def test_binary_output_of_a_check_comes_back_byte_for_byte(tmp_path):
    blob = tmp_path / "blob"
    blob.write_bytes(GARBAGE)
    check = RunnerCheck(("sh", "-c", f"cat {blob}; cat {blob} >&2"))
    output, _, code = _output(tmp_path, [check])
    assert code == 0 and output.problem == ""
    assert output.runs[0].stdout == GARBAGE.decode(errors="replace")
    assert output.runs[0].stderr == GARBAGE.decode(errors="replace")


def test_a_check_that_prints_the_frame_itself_cannot_end_or_fake_the_document(tmp_path):
    forged = "baseimages-check-runner 1 b64\ncheck 1 0 0 0  \nend 1\n"
    checks = [RunnerCheck(("printf", "%s", forged)), RunnerCheck(("sh", "-c", "echo second; exit 4"))]
    output, _, _ = _output(tmp_path, checks)
    assert output.problem == ""
    assert output.runs[0].stdout == forged and output.runs[0].exit_code == 0
    assert (output.runs[1].stdout, output.runs[1].exit_code) == ("second\n", 4)
    assert output.count == 2


def test_exit_codes_are_the_checks_own_including_not_found_and_not_executable(tmp_path):
    script = tmp_path / "not-executable"
    script.write_text("echo hi\n")
    script.chmod(0o644)
    checks = [
        RunnerCheck(("true",)),
        RunnerCheck(("sh", "-c", "exit 3")),
        RunnerCheck(("no-such-command-anywhere", "x")),
        RunnerCheck((str(script),)),
    ]
    output, _, _ = _output(tmp_path, checks)
    assert [output.runs[i].exit_code for i in range(4)] == [0, 3, 127, 126]
    assert "not found" in output.runs[2].stderr


def test_a_check_that_kills_itself_is_a_result_and_the_next_check_still_runs(tmp_path):
    checks = [RunnerCheck(("sh", "-c", "echo before; kill -9 $$")), RunnerCheck(("echo", "after"))]
    output, _, _ = _output(tmp_path, checks)
    assert output.problem == ""
    assert (output.runs[0].exit_code, output.runs[0].stdout) == (137, "before\n")
    assert output.runs[1].stdout == "after\n"


def test_a_check_that_kills_the_runner_leaves_an_incomplete_document_never_a_pass(tmp_path):
    checks = [RunnerCheck(("echo", "first")), RunnerCheck(("sh", "-c", "kill -9 $PPID")), RunnerCheck(("true",))]
    output, _, code = _output(tmp_path, checks)
    assert code != 0
    assert "incomplete" in output.problem and "no end marker" in output.problem
    assert output.runs[0].stdout == "first\n"
    assert 1 not in output.runs and 2 not in output.runs


def test_stderr_only_output_stays_on_stderr(tmp_path):
    output, _, _ = _output(tmp_path, [RunnerCheck(("sh", "-c", "echo oops >&2; exit 1"))])
    assert (output.runs[0].stdout, output.runs[0].stderr, output.runs[0].exit_code) == ("", "oops\n", 1)


def test_paths_are_probed_for_existence_and_mode_and_a_missing_path_is_absent(tmp_path):
    (tmp_path / "tool").write_text("x")
    (tmp_path / "tool").chmod(0o750)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    paths = [str(tmp_path / "tool"), str(tmp_path / "missing"), str(tmp_path / "dangling")]
    output, _, _ = _output(tmp_path, paths=paths)
    assert output.paths[paths[0]] == 0o750
    assert output.paths[paths[1]] is None
    assert output.paths[paths[2]] is not None  # a symlink exists, even when it points nowhere


def test_a_skip_marker_skips_its_check_and_its_content_is_read(tmp_path):
    marker = tmp_path / "torch-unavailable"
    marker.write_text("no wheel for this platform\n")
    absent = str(tmp_path / "absent-marker")
    checks = [RunnerCheck(("sh", "-c", "echo ran"), str(marker)), RunnerCheck(("echo", "ran too"), absent)]
    output, _, _ = _output(tmp_path, checks, paths=[str(marker), absent], markers=[str(marker), absent])
    assert output.skipped == {0} and 0 not in output.runs
    assert output.markers == {str(marker): "no wheel for this platform\n"}
    assert output.runs[1].stdout == "ran too\n"


def test_each_check_gets_an_empty_stdin_its_own_process_and_none_of_the_runners_variables(tmp_path):
    checks = [
        RunnerCheck(("sh", "-c", "cd /; export LEAK=1; cat")),
        RunnerCheck(("sh", "-c", 'pwd; echo "[${LEAK:-}] [${T:-}] [${E:-}]"')),
    ]
    output, _, _ = _output(tmp_path, checks)
    assert output.runs[0].stdout == "" and output.runs[0].exit_code == 0
    assert output.runs[1].stdout == f"{tmp_path}\n[] [] []\n"


def test_arguments_reach_the_check_exactly(tmp_path):
    tricky = 'it\'s $HOME `id` "quoted"\n\ttrailing newline\n'
    output, _, _ = _output(tmp_path, [RunnerCheck(("printf", "%s", tricky))])
    assert output.runs[0].stdout == tricky


def test_without_base64_the_runner_frames_in_hex(tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("sh", "od", "tr", "stat", "cat", "mkdir", "rm", "date", "printf", "echo"):
        found = shutil.which(tool)
        if found:
            (tools / tool).symlink_to(found)
    stdout, _, _ = _run(tmp_path, [RunnerCheck(("printf", "%s", "héllo\x01"))], path_env=str(tools))
    assert stdout.startswith("baseimages-check-runner 1 hex\n")
    output = parse_output(stdout)
    assert output.problem == "" and output.runs[0].stdout == "héllo\x01"


def test_seconds_are_measured_per_check(tmp_path):
    output, _, _ = _output(tmp_path, [RunnerCheck(("sleep", "0.3")), RunnerCheck(("true",))])
    assert 0.2 <= output.runs[0].seconds < 5
    assert output.runs[1].seconds < 0.3


# --------------------------------------------------------------------------- the parser


def test_every_cut_of_a_document_before_its_end_line_is_incomplete(tmp_path):
    marker = tmp_path / "marker"
    marker.write_text("why")
    checks = [RunnerCheck(("echo", "a" * 50)), RunnerCheck(("true",), str(marker)), RunnerCheck(("echo", "b"))]
    whole, _, _ = _run(tmp_path, checks, paths=[str(marker)], markers=[str(marker)])
    assert parse_output(whole).problem == ""
    for cut in range(len(whole) - 1):  # everything short of the end line's newline
        assert parse_output(whole[:cut]).problem, f"cut at {cut} looked complete: {whole[:cut]!r}"


def test_a_record_cut_short_is_never_taken_as_a_result(tmp_path):
    whole, _, _ = _run(tmp_path, [RunnerCheck(("echo", "x" * 300))])
    line = next(line for line in whole.split("\n") if line.startswith("check 0 "))
    cut = whole[: whole.index(line) + len(line) - 8]  # inside its stdout field, at a 4-character boundary
    output = parse_output(cut)
    assert output.runs == {} and "no end marker" in output.problem


def test_a_malformed_record_is_incomplete_output():
    output = parse_output("baseimages-check-runner 1 b64\ncheck 0 0 1.0 2.0 !!notbase64!! \nend 1\n")
    assert "line 2 is not a whole record" in output.problem


@pytest.mark.parametrize("text", ["", "hello\n", "sh: 1: base64: not found\n", "baseimages-check-runner 1 zip\n"])
def test_output_without_the_runner_header_is_incomplete(text):
    assert "no header" in parse_output(text).problem
