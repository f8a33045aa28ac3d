"""doctor's look at what killed runs left on this machine: containers labelled with a dead run, and the
temporary folders of dead runs (a run's work folder holds its OCI archives: gigabytes). The next `push`
or `build` removes them (`baseimages.engine.leftovers`); each finding also names the command that does
it now."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from ..engine.leftovers import Leftover, dead_containers, dead_folders, human_size
from .model import DoctorContext, Finding, Verdict

NEXT_RUN = "the next `push` or `build` removes them"


def check_leftovers(ctx: DoctorContext) -> Sequence[Finding]:
    """A finding for the containers of dead runs (when dockerd answered), one for their folders."""
    findings = []
    if ctx.facts is not None:
        findings.append(_containers(dead_containers(ctx.engine, ctx.started_of)))
    findings.append(_folders(dead_folders(ctx.temp_dir, ctx.started_of)))
    return findings


def _containers(found: list[Leftover]) -> Finding:
    if not found:
        return Finding("leftovers", Verdict.OK, "no container of a killed run", subject="containers")
    names = [item.name for item in found]
    return Finding(
        "leftovers",
        Verdict.WARN,
        f"{len(found)} container(s) of killed runs",
        fix=f"{NEXT_RUN}; now: docker container rm --force --volumes {shlex.join(names)}",
        subject="containers",
        details=tuple(item.describe() for item in found),
    )


def _folders(found: list[Leftover]) -> Finding:
    if not found:
        return Finding("leftovers", Verdict.OK, "no temporary folder of a killed run", subject="folders")
    total = sum(item.size for item in found)
    return Finding(
        "leftovers",
        Verdict.WARN,
        f"{len(found)} temporary folder(s) of killed runs hold {human_size(total)}",
        fix=f"{NEXT_RUN}; now: rm -rf {shlex.join(item.name for item in found)}",
        subject="folders",
        details=tuple(item.describe() for item in found),
    )
