"""`python -m baseimages updates`: for each catalog image's promoted build (`latest`) and each platform, the
Debian packages its own apt sources have a newer version of (security suites told apart) and the Python
distributions the package index has a newer release of (unless the image's requirements pin them), each with
how long it has waited (`updates-state`). `--json` prints the document of schema baseimages.updates/v1. The
waiting-updates gauges go to the `metrics-file` and the `pushgateway` when they are set (one that cannot be
written or reached is a warning line; the exit code stays the look's).

Exit 0 (a report, updates or not); 1 with `--fail-if-updates` when an update is installable; 2 bad input (an
unknown `--image`, an apt sources file apt would refuse); 3 when an archive, the package index or the
registry cannot be read for an image (one line naming it on stderr; the other images are still reported)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ..settings.config import Settings
    from .options import Options


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
    from ..updates import check_updates, load_state, remember, text_lines
    from ..updates.targets import index_url, selected, target

    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    names = selected(catalog, (*options.images, *options.only))
    targets = [target(settings, catalog, name) for name in names]
    registry = registry_client(
        settings, on_retry=lambda notice: print(f"retrying: {notice.text}", file=err, flush=True)
    )
    load_state(settings.updates_state)  # a state file that is not one is refused before the look, not after
    report = check_updates(registry, targets, index_url(settings), options.platforms or None)
    report, state = remember(settings.updates_state, report)
    warnings: list[str] = []
    if settings.metrics_file is not None or settings.pushgateway:
        from ..outputs.metrics_publish import publish_waiting  # prometheus_client loads only when wanted

        warnings = publish_waiting(settings, report, state)
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
    for warning in warnings:
        print(f"warning: {warning}", file=err)
    if report.exit_code:
        return report.exit_code
    return 1 if options.fail_if_updates and report.installable else 0
