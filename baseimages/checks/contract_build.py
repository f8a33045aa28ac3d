"""The contract's checks run inside the service's own build: the Dockerfile baseimages builds is the
service recipe with two stages appended,

    FROM <the recipe's final stage> AS baseimages-contract-checks
    RUN ["sh", "-c", <wrapper>, ..., <the check runner>, <its arguments>...]
    FROM scratch
    COPY --from=baseimages-contract-checks /tmp/baseimages-contract-checks/ /

built with `--output type=local,dest=DIR`: the service is never exported to the image store, and only
the runner's document (and its stderr and exit code) comes out, one folder per platform. The RUN always
succeeds, so a failing check is a result, not a failed build. It gets a new run id each time, so that
BuildKit never answers it from its cache: the checks run in every build, like a container did.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ..catalog.dockerfile import parse_dockerfile
from ..engine.client import RunResult
from .runner import SCRIPT, RunnerCheck, runner_args

CHECK_STAGE = "baseimages-contract-checks"
SERVICE_STAGE = "baseimages-contract-service"  # the recipe's final stage, when it has no name of its own
APPENDED_MARK = "# Appended by baseimages:"
RESULTS = "/tmp/baseimages-contract-checks"  # in the check stage: the runner's stdout, stderr and exit code

# $1: the run id (only there to make the step new), $2: the runner script, then its arguments.
_WRAPPER = (
    f'd={RESULTS}; mkdir -p "$d" && script=$2 && shift 2 && '
    'sh -c "$script" baseimages-checks "$@" >"$d/stdout" 2>"$d/stderr"; echo $? >"$d/exit"; exit 0'
)


def name_final_stage(recipe: str) -> tuple[str, str]:
    """RECIPE with its last FROM named (`AS baseimages-contract-service` added when it has no name), and
    that name."""
    dockerfile = parse_dockerfile(recipe)
    froms = [i for i in dockerfile.instructions if i.keyword == "FROM"]
    if not froms:
        raise ValueError("it has no FROM instruction")
    last = froms[-1]
    words = [w for w in last.text.split() if not w.startswith("--")]
    if len(words) >= 3 and words[-2].lower() == "as":
        return recipe, words[-1]
    lines = recipe.split("\n")
    escape = dockerfile.directives.get("escape", "\\")[:1] or "\\"
    end = last.line - 1
    while lines[end].rstrip().endswith(escape) and end + 1 < len(lines):
        end += 1
    lines[end] = f"{lines[end].rstrip()} AS {SERVICE_STAGE}"
    return "\n".join(lines), SERVICE_STAGE


def check_dockerfile(recipe: str, checks: Sequence[RunnerCheck], run_id: str) -> str:
    """The Dockerfile of a contract build: RECIPE, then the stage that runs CHECKS in its final stage,
    then the stage that holds only their results."""
    text, final = name_final_stage(recipe)
    run = ["sh", "-c", _WRAPPER, "baseimages-contract", run_id, SCRIPT, *runner_args([], [], checks)]
    appended = [
        "",
        f"{APPENDED_MARK} the contract checks run in the service, their results are the output.",
        f"FROM {final} AS {CHECK_STAGE}",
        f"RUN {json.dumps(run)}",
        "FROM scratch",
        f"COPY --from={CHECK_STAGE} {RESULTS}/ /",
        "",
    ]
    return text.rstrip("\n") + "\n" + "\n".join(appended)


def platform_folder(dest: Path, platform: str, platforms: Sequence[str]) -> Path:
    """Where `type=local` wrote PLATFORM's files: a folder per platform (linux_arm64) when several were
    built, DEST itself for one."""
    split = dest / platform.replace("/", "_")
    return split if len(platforms) > 1 or split.is_dir() else dest


def read_results(folder: Path) -> RunResult:
    """The runner's exit code, stdout and stderr as the build wrote them into FOLDER; a missing file is
    an incomplete run (the parser then says so)."""
    try:
        stdout = (folder / "stdout").read_bytes().decode(errors="replace")
    except OSError:
        return RunResult(-1, "", f"the build wrote no check results to {folder.name or folder}")
    stderr = _read(folder / "stderr")
    code = _read(folder / "exit").strip()
    return RunResult(int(code) if code.lstrip("-").isdigit() else -1, stdout, stderr)


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode(errors="replace")
    except OSError:
        return ""
