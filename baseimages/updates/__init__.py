"""Which updates are installable for the promoted images, per platform: Debian packages of which the image's
own apt sources offer a newer version (security suites told apart), and Python distributions of which the
package index has a newer release, unless the image's requirements pin them (`check_updates`); and how long
each has been waiting (`remember`, `waiting`)."""

from .compute import Target, check_updates, debian_arch
from .model import (
    KINDS,
    SCHEMA,
    DebianUpdate,
    ImageUpdates,
    PinnedDistribution,
    PlatformUpdates,
    PythonUpdate,
    UpdatesReport,
)
from .render import text_lines
from .store import (
    INSTALLABLE_METRIC,
    WAITING_METRIC,
    Waiting,
    WaitingState,
    found,
    load_state,
    metric_samples,
    observe,
    remember,
    save_state,
    waiting,
)

__all__ = [
    "INSTALLABLE_METRIC",
    "KINDS",
    "SCHEMA",
    "DebianUpdate",
    "ImageUpdates",
    "PinnedDistribution",
    "PlatformUpdates",
    "PythonUpdate",
    "Target",
    "UpdatesReport",
    "WAITING_METRIC",
    "Waiting",
    "WaitingState",
    "check_updates",
    "debian_arch",
    "found",
    "load_state",
    "metric_samples",
    "observe",
    "remember",
    "save_state",
    "text_lines",
    "waiting",
]
