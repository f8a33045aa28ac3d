"""baseimages: a base-image factory.

Build a family of multi-arch Docker base images in dependency order, smoke-test every platform,
push by digest and move tags only when everything passed.

    import baseimages
    settings = baseimages.load_settings(".")
    catalog = baseimages.load_catalog(settings.catalog_dir, settings.platforms)
    plan = baseimages.make_plan(catalog, settings, only=["python311-uv"])
    report = baseimages.Factory(settings, catalog).run(plan, baseimages.RunOptions(push=True))

A run does what the CLI does with the same settings: it holds the run lock, writes each image's build
log, the JSON report (`RunOptions(report=...)`), the Markdown and HTML reports, GitHub's summary and
outputs, and the metrics, as the settings ask.

`__all__` is the promise: settings, catalog, plan, the Factory and what it takes (RunOptions, an
Engine, a RegistryClient, stages), results, events and errors. Everything else (doctor, prune, the
registry and engine helpers) is importable by its module path, e.g. `baseimages.prune.pruner`, but
may change.

Importing it starts nothing and loads no Docker library: python-on-whales is imported only when a
run first needs the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .catalog.changes import RefreshPolicy
from .catalog.plan import Plan, PlannedImage, make_plan
from .catalog.spec import Catalog, CommandTest, FileTest, ImageSpec, MetadataTest, SizeBudget, SmokeSpec, load_catalog
from .core.errors import (
    BaseImagesError,
    BuildError,
    CheckFailed,
    ConfigError,
    EngineError,
    PromotionError,
    RegistryError,
    RunCancelled,
)
from .core.events import Event, EventSink, Phase
from .core.interrupts import stop_signals
from .core.lock import LockedError
from .core.results import CheckResult, ImageResult, ImageStatus, PlatformResult, RunReport, Status
from .core.retry import Request, RetryNotice, RetryPolicy
from .core.version import installed_version
from .engine.client import Engine
from .pipeline.factory import DryRun, Factory
from .pipeline.options import RunOptions
from .pipeline.stages import ImageContext, Stage, default_stages
from .registry.client import RegistryClient
from .settings.config import Settings, load_settings

if TYPE_CHECKING:
    __version__: str  # the installed distribution's (pyproject.toml holds the one version)
else:

    def __getattr__(name: str) -> Any:
        if name == "__version__":  # read from the installed metadata when asked (importlib.metadata is slow to load)
            return installed_version()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BaseImagesError",
    "BuildError",
    "Catalog",
    "CheckFailed",
    "CheckResult",
    "CommandTest",
    "ConfigError",
    "DryRun",
    "Engine",
    "EngineError",
    "Event",
    "EventSink",
    "Factory",
    "FileTest",
    "ImageContext",
    "ImageResult",
    "ImageSpec",
    "ImageStatus",
    "LockedError",
    "MetadataTest",
    "Phase",
    "Plan",
    "PlannedImage",
    "PlatformResult",
    "PromotionError",
    "RefreshPolicy",
    "RegistryClient",
    "RegistryError",
    "Request",
    "RetryNotice",
    "RetryPolicy",
    "RunCancelled",
    "RunOptions",
    "RunReport",
    "Settings",
    "SizeBudget",
    "SmokeSpec",
    "Stage",
    "Status",
    "default_stages",
    "load_catalog",
    "load_settings",
    "make_plan",
    "stop_signals",
]
