"""build_logs: the excerpt of a failed build that a person reads, and each image's whole log in a file."""

from __future__ import annotations

import pytest
from report_family import NOISE_LINES, buildx_log

from baseimages.core.errors import ConfigError
from baseimages.engine.build_logs import MAX_LINES, BuildLogs, error_excerpt


def test_the_excerpt_keeps_the_failing_step_and_the_error_block_and_drops_the_other_steps_stream():
    lines = buildx_log(failing=True)
    excerpt = error_excerpt(lines).splitlines()
    assert excerpt[0] == "#5 [linux/amd64 2/3] RUN pip install torch==9.9.9"  # the failing step's header
    assert "#5 3.402 ERROR: No matching distribution found for torch==9.9.9" in excerpt
    assert "   4 | >>> RUN pip install torch==9.9.9" in excerpt  # the Dockerfile line buildx points at
    assert excerpt[-1].startswith("ERROR: failed to solve:")
    assert not [line for line in excerpt if line.startswith("#6 ")]  # the other platform's downloads
    assert len(excerpt) < len(lines) - NOISE_LINES


def test_the_excerpt_keeps_only_the_last_lines_of_a_long_failing_step():
    lines = ["#7 [2/2] RUN make"] + [f"#7 {i}.0 compiling unit {i}" for i in range(500)]
    lines += ["#7 501.0 error: boom", '#7 ERROR: process "/bin/sh -c make" did not complete successfully']
    excerpt = error_excerpt(lines).splitlines()
    assert excerpt[0] == "#7 [2/2] RUN make"
    assert "#7 501.0 error: boom" in excerpt
    assert "#7 10.0 compiling unit 10" not in excerpt
    assert len(excerpt) <= MAX_LINES


def test_without_a_failing_step_the_excerpt_is_the_lines_around_the_last_error():
    lines = [f"line {i}" for i in range(100)] + ["ERROR: failed to push: 500 Internal Server Error", "after"]
    excerpt = error_excerpt(lines).splitlines()
    assert excerpt[-2:] == ["ERROR: failed to push: 500 Internal Server Error", "after"]
    assert "line 10" not in excerpt and "line 99" in excerpt


def test_build_logs_write_each_images_lines_to_its_own_file_and_a_new_run_overwrites_them(tmp_path):
    logs = BuildLogs(tmp_path / "logs")
    logs.prepare()
    logs.line("uv", "#1 uv line")
    logs.line("ml", "#1 ml line\n")
    logs.line("uv", "#2 uv again")
    logs.close()
    assert logs.written() == {"uv": tmp_path / "logs" / "uv.log", "ml": tmp_path / "logs" / "ml.log"}
    assert (tmp_path / "logs" / "uv.log").read_text() == "#1 uv line\n#2 uv again\n"
    assert (tmp_path / "logs" / "ml.log").read_text() == "#1 ml line\n"
    again = BuildLogs(tmp_path / "logs")
    again.line("uv", "second run")
    assert again.written() == {"uv": tmp_path / "logs" / "uv.log"}
    again.close()
    assert (tmp_path / "logs" / "uv.log").read_text() == "second run\n"


def test_a_log_directory_that_cannot_be_made_is_a_config_error_naming_the_flag(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError) as info:
        BuildLogs(tmp_path / "file" / "logs").prepare()
    assert info.value.source == "--log-dir" and str(tmp_path / "file" / "logs") in str(info.value)


def test_cached_steps_counts_the_dockerfile_steps_buildkit_found_cached_leaving_from_out():
    from baseimages.engine.build_logs import cached_steps

    lines = [
        "#1 [internal] load build definition from Dockerfile",
        "#1 DONE 0.0s",
        "#5 [builder 1/3] FROM docker.io/library/python:3.11-slim@sha256:31225cc7",
        "#5 DONE 0.0s",
        "#7 [builder 2/3] COPY requirements.txt /tmp/uv-requirements.txt",
        "#7 CACHED",
        "#8 [builder 3/3] RUN pip install -r /tmp/uv-requirements.txt",
        "#8 CACHED",
        "#9 [stage-1 2/5] COPY --from=builder /opt/uv-tool/bin/uv /usr/local/bin/",
        "#9 0.212 copying",
        "#9 DONE 0.3s",
        "#8 [builder 3/3] RUN pip install -r /tmp/uv-requirements.txt",  # a header may come again
    ]
    assert cached_steps(lines) == (2, 3)
    assert cached_steps([line for line in lines if not line.startswith("#9")]) == (2, 2)
    assert cached_steps(["#1 [internal] load .dockerignore", "#1 DONE 0.0s"]) == (0, 0)
