"""What one run takes besides the settings: `RunOptions`, the second argument of `Factory.run`.

Settings (`baseimages.settings`) are what a project configures once: registry, jobs, where reports and
metrics go. Run options are what a caller chooses per run: push or only build, rebuild everything, the
refresh policy, no cache, how long to wait for the run lock, and where the JSON report goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..catalog.changes import RefreshPolicy
from ..core.errors import ConfigError
from ..settings.kinds import Invalid, OutputPath

REFRESH_MODES = ("window", "monthly", "updates")
SOURCE = "RunOptions"  # what a refused option's ConfigError names


@dataclass(frozen=True)
class RunOptions:
    """One run's choices; `RunOptions()` is a build that pushes nothing.

    - PUSH: push every image that passed, sign it and move its tags (else build and test only).
    - FORCE: rebuild every image, unchanged ones too (an immutable tag never moves: a new build gets
      the next one).
    - REFRESH: when an unchanged image is rebuilt anyway; None: the `window` policy over the
      settings' `refresh_days`. FORCE and REFRESH together are refused (a ConfigError naming both):
      FORCE rebuilds every image whatever the policy says, so one of them would be ignored.
    - NO_CACHE: builds run every step again (with FORCE: a rebuild that must come out the same).
    - LOCK_WAIT: seconds to wait for another run on the same registry and namespace (0: refuse at once).
    - REPORT: where the JSON report goes (None: nowhere); its folder must exist.
    """

    push: bool = False
    force: bool = False
    refresh: RefreshPolicy | None = None
    no_cache: bool = False
    lock_wait: float = 0.0
    report: Path | None = None

    def __post_init__(self) -> None:
        if self.force and self.refresh is not None:
            raise ConfigError(
                SOURCE,
                "force",
                f"and refresh={self.refresh!r} are both given: force rebuilds every image whatever the refresh "
                "policy says; pass one of them",
            )
        if self.refresh is not None and self.refresh.mode not in REFRESH_MODES:
            raise ConfigError(SOURCE, "refresh", f"mode {self.refresh.mode!r} is not one of {', '.join(REFRESH_MODES)}")
        if not self.lock_wait >= 0:  # NaN too
            raise ConfigError(SOURCE, "lock_wait", f"is {self.lock_wait}; seconds to wait must be 0 or more")
        if self.report is not None:
            try:
                object.__setattr__(self, "report", OutputPath(directory=False).check(self.report))
            except Invalid as exc:
                raise ConfigError(SOURCE, "report", str(exc)) from None

    @property
    def command(self) -> str:
        """The run's name in its report and its lock: push or build."""
        return "push" if self.push else "build"

    def refresh_policy(self, days: int) -> RefreshPolicy:
        """The policy decisions follow: REFRESH as given, else the window of DAYS (the `refresh-days`
        setting), forced with FORCE."""
        return self.refresh or RefreshPolicy(days=days, force=self.force)
