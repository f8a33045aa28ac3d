"""What a command line asked for, parsed: the command, its project, its settings flags and its options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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
