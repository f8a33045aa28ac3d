"""baseimages: a base-image factory.

Build a family of multi-arch Docker base images in dependency order, smoke-test every platform,
push by digest and move tags only when everything passed.

    import baseimages
    settings = baseimages.load_settings(".")
    catalog = baseimages.load_catalog(settings.catalog_dir, settings.platforms)
    plan = baseimages.make_plan(catalog, settings, only=["python311-uv"])
    report = baseimages.Factory(settings, catalog).run(plan, push=True)

Importing it starts nothing and loads no Docker library: python-on-whales is imported only when a
run first needs the engine.
"""

from __future__ import annotations

from .catalog import Catalog, CommandTest, FileTest, ImageSpec, MetadataTest, SizeBudget, SmokeSpec, load_catalog
from .changes import RefreshPolicy
from .config import Settings, load_settings
from .doctor import DoctorReport, Finding, Verdict, run_doctor
from .engine import Engine
from .errors import (
    BaseImagesError,
    BuildError,
    CheckFailed,
    ConfigError,
    EngineError,
    PromotionError,
    RegistryError,
    RunCancelled,
)
from .events import Event, EventSink, Phase
from .factory import DryRun, Factory, registry_client
from .lock import LockedError, RunLock
from .plan import Plan, PlannedImage, make_plan
from .prune import PrunePlan, Pruner, PruneResult, RetentionPolicy
from .registry import RegistryClient
from .report import CheckResult, ImageResult, ImageStatus, PlatformResult, RunReport, Status
from .retry import RetryPolicy
from .stages import ImageContext, Stage, default_stages
from .tags import TagSet, compute_tags

__version__ = "0.1.0"

__all__ = [
    "BaseImagesError",
    "BuildError",
    "Catalog",
    "CheckFailed",
    "CheckResult",
    "CommandTest",
    "ConfigError",
    "DoctorReport",
    "DryRun",
    "Engine",
    "EngineError",
    "Event",
    "EventSink",
    "Factory",
    "FileTest",
    "Finding",
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
    "PrunePlan",
    "PruneResult",
    "Pruner",
    "RefreshPolicy",
    "RegistryClient",
    "RegistryError",
    "RetentionPolicy",
    "RetryPolicy",
    "RunCancelled",
    "RunLock",
    "RunReport",
    "Settings",
    "SizeBudget",
    "SmokeSpec",
    "Stage",
    "Status",
    "TagSet",
    "Verdict",
    "compute_tags",
    "default_stages",
    "load_catalog",
    "load_settings",
    "make_plan",
    "registry_client",
    "run_doctor",
]
