"""doctor's context check: each image's build context after `.dockerignore` (the guide's `du -sh .`), with
its largest files. The files are the ones the input fingerprint hashes (`fingerprint.context_files`), so a
large one costs every plan and push a read, and a COPY of the folder sends it to BuildKit."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..catalog.fingerprint import context_files
from .model import DoctorContext, Finding, Verdict

MB = 10**6
WARN_CONTEXT = 10 * MB
FAIL_CONTEXT = 100 * MB
LARGEST = 5


@dataclass(frozen=True)
class ContextSize:
    directory: Path
    files: tuple[tuple[str, int], ...]  # (path relative to the folder, bytes), largest first
    folder_bytes: int  # everything in the folder, .dockerignore or not
    folder_files: int

    @property
    def total(self) -> int:
        return sum(size for _, size in self.files)


def measure_context(directory: Path) -> ContextSize:
    sent = [(rel, (directory / rel).lstat().st_size) for rel in context_files(directory)]
    sent.sort(key=lambda item: (-item[1], item[0]))
    count = size = 0
    for root, _, names in os.walk(directory):
        for name in names:
            count += 1
            size += Path(root, name).lstat().st_size
    return ContextSize(directory, tuple(sent), size, count)


def check_contexts(ctx: DoctorContext) -> Sequence[Finding]:
    found = []
    for image in ctx.plan.images:
        try:
            found.append(_finding(image.name, measure_context(image.spec.directory)))
        except OSError as exc:
            found.append(
                Finding(
                    "context",
                    Verdict.FAIL,
                    f"the build context cannot be read: {exc}",
                    fix="make every file of the image's folder readable, or exclude it in .dockerignore",
                    subject=image.name,
                )
            )
    return found


def _finding(name: str, context: ContextSize) -> Finding:
    total = context.total
    ignored = context.folder_files - len(context.files)
    summary = f"{_size(total)} in {len(context.files)} files after .dockerignore"
    if ignored:
        summary += f" (the folder holds {_size(context.folder_bytes)} in {context.folder_files})"
    largest = tuple(f"{_size(size):>10}  {rel}" for rel, size in context.files[:LARGEST])
    if total < WARN_CONTEXT:
        return Finding("context", Verdict.OK, summary, subject=name, details=largest)
    big = [rel for rel, size in context.files if size >= WARN_CONTEXT // 2][:LARGEST] or [context.files[0][0]]
    verdict = Verdict.FAIL if total >= FAIL_CONTEXT else Verdict.WARN
    limit = FAIL_CONTEXT if verdict is Verdict.FAIL else WARN_CONTEXT
    return Finding(
        "context",
        verdict,
        f"{summary}: over {_size(limit)}; every plan and push hashes it, and a COPY of the folder sends it to BuildKit",
        fix=f"add {', '.join(big)} to {context.directory / '.dockerignore'}, or move "
        f"{'them' if len(big) > 1 else 'it'} out of the image's folder",
        subject=name,
        details=largest,
    )


def _size(size: int) -> str:
    if size >= MB:
        return f"{size / MB:.1f} MB"
    if size >= 1000:
        return f"{size / 1000:.1f} kB"
    return f"{size} B"
