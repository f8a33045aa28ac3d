"""Which updates are installable for the promoted images, per platform: Debian packages of which the image's
own apt sources offer a newer version (security suites told apart), and Python distributions of which the
package index has a newer release, unless the image's requirements pin them (`check_updates`); and how long
each has been waiting (`remember`, `waiting`).

`check_updates`, `Target` and `debian_arch` are loaded from `.compute` when first used: it loads the readers
of package indexes and archives (python-debian, packaging), which a run that looks for no update never needs."""

from typing import TYPE_CHECKING

from ..core.lazy import lazy_names
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

if TYPE_CHECKING:
    from .compute import Target, check_updates, debian_arch
else:
    __getattr__ = lazy_names(__name__, ".compute", ("Target", "check_updates", "debian_arch"))

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
