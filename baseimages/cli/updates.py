"""`python -m baseimages updates`: for each catalog image's promoted build (`latest`) and each platform, the
Debian packages its own apt sources have a newer version of (security suites told apart) and the Python
distributions the package index has a newer release of (unless the image's requirements pin them), each with
how long it has waited (`updates-state`). `--json` prints the document of schema baseimages.updates/v1.

Exit 0 (a report, updates or not); 1 with `--fail-if-updates` when an update is installable; 2 bad input (an
unknown `--image`, an apt sources file apt would refuse); 3 when an archive, the package index or the
registry cannot be read for an image (one line naming it on stderr; the other images are still reported)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..core.errors import ConfigError
from ..core.reference import parse_reference

if TYPE_CHECKING:
    from ..catalog.spec import Catalog
    from ..settings.config import Settings
    from ..updates import Target
    from .options import Options

PIP_INDEX_ENV = "PIP_INDEX_URL"


def add_updates_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register `updates` and its arguments on the CLI's subparsers."""
    updates = sub.add_parser(
        "updates",
        parents=[common],
        help="which Debian packages and Python distributions of each promoted image have an installable update, "
        "per platform, and how long each has waited",
    )
    updates.add_argument(
        "--image", action="append", default=[], metavar="NAME", help="only this catalog image (repeatable)"
    )
    updates.add_argument("--json", action="store_true", help="print the report as JSON (schema baseimages.updates/v1)")
    updates.add_argument(
        "--fail-if-updates", action="store_true", help="exit 1 when an update is installable (for a scheduled check)"
    )


def updates_command(settings: Settings, options: Options, out: TextIO, err: TextIO) -> int:
    from ..catalog.spec import load_catalog
    from ..registry.connect import registry_client
    from ..updates import check_updates, remember, text_lines

    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    targets = [_target(settings, catalog, name) for name in _selected(catalog, (*options.images, *options.only))]
    registry = registry_client(
        settings, on_retry=lambda notice: print(f"retrying: {notice.text}", file=err, flush=True)
    )
    report = check_updates(registry, targets, index_url(settings), options.platforms or None)
    report, _ = remember(settings.updates_state, report)
    if options.report is not None:
        options.report.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    if options.json:
        print(json.dumps(report.to_dict(), indent=2), file=out)
    else:
        for line in text_lines(report):
            print(line, file=out)
    for image in report.images:
        if image.error is not None:
            print(f"error: {image.image}: {image.error}", file=err)
    if report.exit_code:
        return report.exit_code
    return 1 if options.fail_if_updates and report.installable else 0


def index_url(settings: Settings, environ: dict[str, str] | None = None) -> str:
    """The package index the builds use: BASEIMAGES_INDEX_URL (their `index-url` secret), else PIP_INDEX_URL,
    else PyPI."""
    from ..updates.pypi import DEFAULT_INDEX

    env = dict(os.environ) if environ is None else environ
    secret = env.get(settings.index_url_env) if settings.index_url_env else None
    return secret or env.get(PIP_INDEX_ENV) or DEFAULT_INDEX


def _selected(catalog: Catalog, names: tuple[str, ...]) -> list[str]:
    for name in names:
        if name not in catalog.images:
            known = ", ".join(catalog.names()) or "none"
            raise ConfigError("--image", name, f"is not an image of the catalog (known: {known})")
    return list(dict.fromkeys(names)) if names else catalog.names()


def _target(settings: Settings, catalog: Catalog, name: str) -> Target:
    """NAME's promoted build, and the folders whose requirements pin its distributions: its own and its
    catalog parents' (what a parent pins is in the child's image too)."""
    from ..updates import Target

    folders: list[Path] = []
    current: str | None = name
    while current is not None and current in catalog.images and len(folders) <= len(catalog.images):
        spec = catalog[current]
        folders.append(spec.directory)
        current = None if spec.parent_is_external else spec.parent
    return Target(name, parse_reference(f"{settings.repository(name)}:latest"), tuple(folders))
