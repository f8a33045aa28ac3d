"""Where a run's reports go: the JSON report (`RunOptions.report`, `--report`), the Markdown file
(`--report-md`), GitHub's job summary and step outputs when the run is a GitHub Actions step, and the
HTML page (`--report-html`). Two run observers write them once the report is complete (`ReportFiles`,
`JsonReport`; see `observers`), for a library run and the CLI alike.

- `GITHUB_STEP_SUMMARY` set: the Markdown report is appended to that file (the job's summary page).
- `GITHUB_OUTPUT` set: `<image>-digest=sha256:...` per image whose tags name that digest, for later
  steps (`steps.<id>.outputs.<image>-digest`).
A file that cannot be written is a one-line ConfigError naming the flag or the variable (`publish`);
the observers make it a warning of the report instead, and write the other files all the same.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ConfigError
from ..core.events import Event
from ..core.results import ImageStatus, RunReport
from ..settings.config import Settings

SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
OUTPUT_ENV = "GITHUB_OUTPUT"
_OUTPUT_NAME = re.compile(r"[^A-Za-z0-9_-]")  # GitHub output names: letters, digits, - and _
_PUBLISHED = (ImageStatus.PROMOTED, ImageStatus.UNCHANGED, ImageStatus.TESTED)


@dataclass(frozen=True)
class _File:
    path: Path
    text: Callable[[], str]
    mode: str  # "w": replaced; "a": appended
    where: str  # the flag or the environment variable that asked for it


def _files(
    report: RunReport, settings: Settings, env: Mapping[str, str], log_files: Mapping[str, Path] | None
) -> list[_File]:
    """The files SETTINGS and ENV ask for, in the order they are written; their text made when written
    (the renderers are imported then too: a run that asks for no report does not load them)."""
    from .html import render_html
    from .markdown import render_markdown

    markdown = functools.cache(lambda: render_markdown(report, log_files))  # rendered once, when needed
    outputs = github_outputs(report)
    files: list[_File] = []
    if settings.report_md is not None:
        files.append(_File(settings.report_md, markdown, "w", "--report-md"))
    if env.get(SUMMARY_ENV):
        files.append(_File(Path(env[SUMMARY_ENV]), markdown, "a", SUMMARY_ENV))
    if env.get(OUTPUT_ENV) and outputs:
        files.append(_File(Path(env[OUTPUT_ENV]), lambda: "".join(f"{line}\n" for line in outputs), "a", OUTPUT_ENV))
    if settings.report_html is not None:
        files.append(_File(settings.report_html, lambda: render_html(report, log_files), "w", "--report-html"))
    return files


def github_outputs(report: RunReport) -> list[str]:
    """`<image>-digest=sha256:...` for each image whose digest is what its tags name (promoted, unchanged,
    or built and tested in a build run); a failed image's candidate is no output."""
    return [
        f"{_OUTPUT_NAME.sub('_', image.name)}-digest={image.digest}"
        for image in report.images
        if image.digest and image.status in _PUBLISHED
    ]


def publish(
    report: RunReport,
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    log_files: Mapping[str, Path] | None = None,
) -> list[Path]:
    """Write every report SETTINGS and ENVIRON (else os.environ) ask for; the files written. The first
    that cannot be written raises its ConfigError."""
    env = os.environ if environ is None else environ
    return [_write(f.path, f.text(), f.mode, f.where) for f in _files(report, settings, env, log_files)]


class ReportFiles:
    """A run observer: once the run is done, writes the reports for people that SETTINGS and ENVIRON
    (else os.environ) ask for, with the build logs the report names (`RunReport.logs`). A file that
    cannot be written is a warning; the others are written all the same."""

    name = "reports"

    def __init__(self, settings: Settings, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.environ = environ

    def event(self, event: Event) -> None:
        return None

    def finished(self, report: RunReport) -> list[str]:
        env = os.environ if self.environ is None else self.environ
        warnings: list[str] = []
        for file in _files(report, self.settings, env, report.logs):
            try:
                _write(file.path, file.text(), file.mode, file.where)
            except ConfigError as exc:
                warnings.append(f"{exc}; not written")
        return warnings


class JsonReport:
    """A run observer: writes the finished report as JSON to PATH (`RunOptions.report`), with every
    warning the observers before it gave."""

    name = "report"

    def __init__(self, path: Path) -> None:
        self.path = path

    def event(self, event: Event) -> None:
        return None

    def finished(self, report: RunReport) -> list[str]:
        try:
            report.write(self.path)
        except OSError as exc:
            return [f"report {self.path}: not written ({exc.strerror or exc})"]
        return []


def _write(path: Path, text: str, mode: str, where: str) -> Path:
    try:
        with path.open(mode, encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        source = "environment" if where.isupper() else where
        field = where if where.isupper() else str(path)
        raise ConfigError(source, field, f"cannot write {path}: {exc.strerror or exc}") from None
    return path
