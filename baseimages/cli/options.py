"""What a command line asked for, parsed: the command, its project, its settings flags and its options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..catalog.changes import RefreshPolicy
from ..core.errors import ConfigError
from ..pipeline.options import RunOptions
from ..settings.config import Settings, load_settings


@dataclass(frozen=True)
class Options:
    command: str
    project: Path
    overrides: Mapping[str, object]  # the settings given as flags, by Settings field, checked
    only: tuple[str, ...]
    platforms: tuple[str, ...]
    dry_run: str | None  # None, or what a dry run prints: plan or commands
    report: Path | None
    json: bool
    ref: str | None
    force: bool
    refresh: str | None
    wait_lock: float
    verbose: bool
    key: Path | None = None
    no_cache: bool = False
    apply: bool = False  # prune: delete, not only say what would go
    local: bool = False  # prune: the engine's BuildKit cache and local images too
    paths: tuple[Path, ...] = ()  # dependents, bump: the service repositories, folders or files
    fail_if_behind: bool = False  # dependents: exit 1 when a pin is behind
    refs: tuple[str, ...] = ()  # diff: REF_A and REF_B
    limit: int = 10  # history: the newest builds read and shown
    images: tuple[str, ...] = ()  # updates: only these catalog images
    fail_if_updates: bool = False  # updates: exit 1 when an update is installable

    def settings(self, environ: Mapping[str, str] | None = None) -> Settings:
        """The project's settings (environment, pyproject.toml, detection, defaults), then the flags."""
        return load_settings(self.project, environ).with_overrides(**self.overrides)

    def run_options(self, settings: Settings) -> RunOptions:
        """The run's options from the flags. --force rebuilds every image whatever --refresh says: the two
        together are refused, as RunOptions refuses force with a refresh policy."""
        if self.force and self.refresh is not None:
            raise ConfigError(
                "--force", "--refresh", "choose one: --force rebuilds every image whatever --refresh says"
            )
        refresh = None
        if self.refresh is not None:
            refresh = RefreshPolicy(self.refresh, settings.refresh_days, updates=settings.refresh_updates)
        try:
            return RunOptions(
                push=self.command == "push",
                force=self.force,
                refresh=refresh,
                no_cache=self.no_cache,
                lock_wait=self.wait_lock,
                report=self.report,
            )
        except ConfigError as exc:  # name the flag and its value, not the library's field
            flag, value = {"report": ("--report", self.report), "lock_wait": ("--wait-lock", self.wait_lock)}.get(
                exc.field, (exc.source, exc.field)
            )
            raise ConfigError(flag, str(value), exc.problem) from None
