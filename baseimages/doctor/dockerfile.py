"""doctor's Dockerfile check: the known traps in each image's Dockerfile and its contract recipe.

- `# syntax=` names a frontend image that BuildKit pulls before the first step: when nothing serves it
  (Docker Hub unreachable, no mirror has it), every build fails. A fail.
- `COPY .` (the whole context) before the dependency install in the same stage: a change to any file
  re-runs the install. A warning.
- a wildcard source in a COPY or ADD from the context: a new or changed file that matches re-runs the step
  and every one after it. A warning, naming what it matches today.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..catalog.dockerfile import Dockerfile, read_dockerfile
from ..catalog.fingerprint import context_files
from ..core.errors import ConfigError
from .model import DoctorContext, Finding, Verdict
from .registry import where_served

_INSTALL = re.compile(
    r"\b(pip3?\s+install|python3?\s+-m\s+pip\s+install|uv\s+(pip\s+(install|sync)|sync)|poetry\s+install|"
    r"pipenv\s+(install|sync)|npm\s+(ci|install)|yarn\s+install|pnpm\s+install|go\s+mod\s+download|"
    r"cargo\s+(fetch|build)|bundle\s+install|composer\s+install|apt-get\s+install|apk\s+add)\b"
)
_WHOLE_CONTEXT = {".", "./"}
_GLOB = re.compile(r"[*?\[]")
SHOWN = 5


def check_dockerfiles(ctx: DoctorContext) -> Sequence[Finding]:
    found: list[Finding] = []
    for image in ctx.plan.images:
        spec = image.spec
        recipes = [(spec.name, spec.dockerfile, spec.directory)]
        if spec.contract is not None:
            recipes.append((f"{spec.name} contract", spec.contract.recipe, spec.contract.context))
        for subject, path, context in recipes:
            found += _recipe_findings(ctx, subject, path, context)
    return found


def _recipe_findings(ctx: DoctorContext, subject: str, path: Path, context: Path) -> list[Finding]:
    try:
        dockerfile = read_dockerfile(path)
    except ConfigError as exc:
        return [Finding("dockerfile", Verdict.FAIL, str(exc), fix="restore the file", subject=subject)]
    traps = [*_syntax(ctx, dockerfile), *_copy_order(dockerfile), *_wildcards(dockerfile, context)]
    problems = [trap for trap in traps if trap[0] is not Verdict.OK]
    if problems:
        return [Finding("dockerfile", v, summary, fix, subject, details) for v, summary, fix, details in problems]
    return [
        Finding(
            "dockerfile",
            Verdict.OK,
            f"no known trap in {path.parent.name}/{path.name} (`# syntax=` frontend, `COPY .` before the "
            "dependency install, wildcard COPY)",
            subject=subject,
            details=tuple(summary for _, summary, _, _ in traps),
        )
    ]


Trap = tuple[Verdict, str, str, tuple[str, ...]]  # verdict, summary, fix, details


def _syntax(ctx: DoctorContext, dockerfile: Dockerfile) -> Iterator[Trap]:
    frontend = dockerfile.directives.get("syntax")
    if frontend is None:
        return
    line = dockerfile.directive_lines["syntax"]
    served = where_served(ctx, frontend)
    if served.source is not None:
        yield Verdict.OK, f"the frontend {frontend} (`# syntax=`, line {line}) is served by {served.source}", "", ()
        return
    yield (
        Verdict.FAIL,
        f"line {line}: `# syntax={frontend}` names a frontend image nothing serves: every build fails before its "
        "first step",
        f"remove the line (the engine's built-in frontend then reads the Dockerfile), or make Docker Hub or a "
        f"registry mirror serve {frontend}",
        served.notes,
    )


def _copy_order(dockerfile: Dockerfile) -> Iterator[Trap]:
    for stage in dockerfile.stages():
        whole = next((i for i in stage if i.from_context and _WHOLE_CONTEXT & set(i.sources)), None)
        if whole is None:
            continue
        later = [i for i in stage if i.line > whole.line and i.keyword == "RUN" and _INSTALL.search(i.text)]
        if not later:
            continue
        install = later[0]
        step = _INSTALL.search(install.text)
        assert step is not None
        yield (
            Verdict.WARN,
            f"line {whole.line}: `{whole.keyword} {whole.text}` comes before the dependency install at line "
            f"{install.line} (`{step.group(0)}`): a change to any file of the context re-runs the install",
            f"copy the dependency files first (e.g. COPY requirements.txt ./), install, then `{whole.keyword} "
            f"{whole.text}`",
            (),
        )


def _wildcards(dockerfile: Dockerfile, context: Path) -> Iterator[Trap]:
    files: list[str] | None = None
    for instruction in dockerfile.instructions:
        if not instruction.from_context:
            continue
        patterns = [s for s in instruction.sources if _GLOB.search(s) and s not in _WHOLE_CONTEXT]
        if not patterns:
            continue
        if files is None:
            files = context_files(context) if context.is_dir() else []
        matched = [rel for rel in files if any(_glob_matches(p, rel) for p in patterns)]
        today = ", ".join(matched[:SHOWN]) + (f" and {len(matched) - SHOWN} more" if len(matched) > SHOWN else "")
        yield (
            Verdict.WARN,
            f"line {instruction.line}: `{instruction.keyword} {instruction.text}` copies whatever matches "
            f"{', '.join(patterns)} (today: {today or 'nothing'}): a new or changed match re-runs this step and "
            "every one after it",
            f"name the files in the {instruction.keyword}, or keep other matches out of the context with "
            f"{context / '.dockerignore'}",
            (),
        )


def _glob_matches(pattern: str, rel: str) -> bool:
    """Docker's COPY source match (Go's filepath.Match per path segment); a matched folder takes all below."""
    pattern = pattern.removeprefix("./").strip("/")
    regex = ""
    for char in pattern:
        regex += {"*": "[^/]*", "?": "[^/]"}.get(char, char if char in "[]!^-" else re.escape(char))
    regex = regex.replace("[!", "[^")
    compiled = re.compile(regex + r"(/.*)?\Z")
    return compiled.match(rel) is not None
