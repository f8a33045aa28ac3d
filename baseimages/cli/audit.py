"""`python -m baseimages audit`: checks what the registry holds for every selected image (tags that agree,
platforms, with --key signatures and test records, leftover candidates) and prints each problem, or
with --json the whole report. Exit code 0 when everything holds, 1 when something is broken, 3 when
the registry cannot be read."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..catalog.plan import Plan
from ..settings.config import Settings
from .options import Options

if TYPE_CHECKING:
    from ..audit.model import ImageAudit


def add_audit_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register `audit` (the common flags, --json and --key) in the CLI's subcommands SUB."""
    parser = sub.add_parser(
        "audit",
        parents=[common],
        help="check every tag in the registry: tags that agree, every platform, signatures (--key), leftovers",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--key",
        type=Path,
        metavar="PUBLIC_KEY",
        help="the publisher's public key: also check each promoted digest's signature and signed test record",
    )


def audit_command(settings: Settings, plan: Plan, options: Options, out: TextIO) -> int:
    from ..audit.auditor import audit  # loaded by the command that uses it, not by every CLI start
    from ..registry.connect import registry_client

    def show(image: ImageAudit) -> None:
        for problem in image.problems:
            print(problem.line(), file=out, flush=True)

    report = audit(plan, registry_client(settings), options.key, on_image=None if options.json else show)
    if options.json:
        print(json.dumps(report.to_dict(), indent=2), file=out)
    else:
        for image in report.images:
            if not image.tags:
                print(f"note   {image.name}: nothing in the registry at {image.repository}", file=out)
        print(f"audit: {report.summary()}", file=out)
    return report.exit_code
