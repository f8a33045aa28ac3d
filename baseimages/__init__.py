"""baseimages: a base-image factory.

Build a family of multi-arch Docker base images in dependency order, smoke-test every platform,
push by digest and move tags only when everything passed.

    import baseimages
    settings = baseimages.load_settings(".")
    catalog = baseimages.load_catalog(settings.catalog_dir, settings.platforms)
    plan = baseimages.make_plan(catalog, settings, only=["python311-uv"])
    report = baseimages.Factory(settings, catalog).run(plan, push=True)
"""

from __future__ import annotations

from .catalog import Catalog, CommandTest, FileTest, ImageSpec, MetadataTest, SizeBudget, SmokeSpec, load_catalog
from .config import Settings, load_settings
from .errors import (
    BaseImagesError,
    BuildError,
    ConfigError,
    EngineError,
    PromotionError,
    RegistryError,
    RunCancelled,
)
from .plan import Plan, PlannedImage, make_plan
from .report import CheckResult, ImageResult, ImageStatus, PlatformResult, RunReport, Status
from .tags import TagSet, compute_tags

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # The factory pulls in python-on-whales; load it only when asked for.
    if name in ("Factory", "Event", "Phase", "DryRun"):
        from . import factory

        return getattr(factory, name)
    raise AttributeError(name)


__all__ = [
    "BaseImagesError",
    "BuildError",
    "Catalog",
    "CheckResult",
    "CommandTest",
    "ConfigError",
    "DryRun",
    "EngineError",
    "Event",
    "Factory",
    "FileTest",
    "ImageResult",
    "ImageSpec",
    "ImageStatus",
    "MetadataTest",
    "Phase",
    "Plan",
    "PlannedImage",
    "PlatformResult",
    "PromotionError",
    "RegistryError",
    "RunCancelled",
    "RunReport",
    "Settings",
    "SizeBudget",
    "SmokeSpec",
    "Status",
    "TagSet",
    "compute_tags",
    "load_catalog",
    "load_settings",
    "make_plan",
]
