"""Where a run's reports for people go: the Markdown file (`--report-md`), GitHub's job summary and step
outputs when the run is a GitHub Actions step, and the HTML page (`--report-html`).

- `GITHUB_STEP_SUMMARY` set: the Markdown report is appended to that file (the job's summary page).
- `GITHUB_OUTPUT` set: `<image>-digest=sha256:...` per image whose tags name that digest, for later
  steps (`steps.<id>.outputs.<image>-digest`).
A file that cannot be written is a one-line ConfigError naming the flag or the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..core.errors import ConfigError
from ..core.results import RunReport
from ..settings.config import Settings
from .html import render_html
from .markdown import github_outputs, render_markdown

SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
OUTPUT_ENV = "GITHUB_OUTPUT"


def publish(
    report: RunReport,
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    log_files: Mapping[str, Path] | None = None,
) -> list[Path]:
    """Write every report SETTINGS and ENVIRON (else os.environ) ask for; the files written."""
    env = os.environ if environ is None else environ
    written: list[Path] = []
    markdown = render_markdown(report, log_files)
    if settings.report_md is not None:
        written.append(_write(settings.report_md, markdown, "w", "--report-md"))
    if env.get(SUMMARY_ENV):
        written.append(_write(Path(env[SUMMARY_ENV]), markdown, "a", SUMMARY_ENV))
    outputs = github_outputs(report)
    if env.get(OUTPUT_ENV) and outputs:
        written.append(_write(Path(env[OUTPUT_ENV]), "".join(f"{line}\n" for line in outputs), "a", OUTPUT_ENV))
    if settings.report_html is not None:
        written.append(_write(settings.report_html, render_html(report, log_files), "w", "--report-html"))
    return written


def _write(path: Path, text: str, mode: str, where: str) -> Path:
    try:
        with path.open(mode, encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        source = "environment" if where.isupper() else where
        field = where if where.isupper() else str(path)
        raise ConfigError(source, field, f"cannot write {path}: {exc.strerror or exc}") from None
    return path
