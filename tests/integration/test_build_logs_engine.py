"""build_logs on real buildx output: a two-platform build on the real engine whose arm64 step fails
while the amd64 step floods the log. The excerpt must hold the failing step and buildx's error block,
and none of the other platform's flood; the log file holds the whole stream. Light: one RUN of a shell
on the stand-in python:3.11-slim, no push, no registry of its own."""

from __future__ import annotations

import re

import pytest

from baseimages.core.errors import BuildError
from baseimages.engine.build_logs import BuildLogs
from baseimages.engine.client import BuildRequest, DockerEngine

DOCKERFILE = """\
FROM python:3.11-slim
RUN if [ "$(uname -m)" = aarch64 ]; then sleep 2; echo "arm64 says: the wheel is missing" >&2; exit 3; fi; \\
    i=0; while [ $i -lt 300 ]; do echo "amd64 flood line $i"; i=$((i+1)); done; sleep 5
"""


def test_a_real_failed_build_shows_the_failing_step_and_the_error_not_the_flood(engine: DockerEngine, tmp_path):
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    logs = BuildLogs(tmp_path / "logs")
    logs.prepare()
    request = BuildRequest(
        context=tmp_path,
        dockerfile=tmp_path / "Dockerfile",
        platforms=["linux/amd64", "linux/arm64"],
        build_args={"CACHE_BUST": tmp_path.name},
    )
    with pytest.raises(BuildError) as info:
        engine.build(request, "logtest", on_line=lambda line: logs.line("logtest", line))
    logs.close()
    excerpt = info.value.log
    whole = (tmp_path / "logs" / "logtest.log").read_text()
    assert "amd64 flood line 299" in whole  # the whole flood is in the file
    assert "arm64 says: the wheel is missing" in excerpt
    assert "ERROR" in excerpt.splitlines()[-1]
    assert not re.search(r"amd64 flood line \d", excerpt), excerpt
    assert len(excerpt.splitlines()) < len(whole.splitlines())
