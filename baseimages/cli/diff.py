"""`python -m baseimages diff REF_A REF_B`: what changed from one image to another, per platform (Debian
packages, Python distributions, config, size), read from the registry alone. Exit 0 when nothing differs,
1 when something does (as `diff`), 2 for a bad reference or platform, 3 when a registry fails."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

from ..core.errors import ConfigError
from ..core.reference import Reference, parse_reference

if TYPE_CHECKING:
    from ..settings.config import Settings
    from .options import Options


def add_diff_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register `diff` and its arguments on the CLI's subparsers."""
    diff = sub.add_parser(
        "diff",
        parents=[common],
        help="what changed from REF_A to REF_B per platform: Debian packages, Python distributions, config, size "
        "(exit 0: no difference, 1: they differ)",
    )
    diff.add_argument("ref_a", metavar="REF_A", help="the old image: a reference by tag or digest")
    diff.add_argument("ref_b", metavar="REF_B", help="the new image: a reference by tag or digest")
    diff.add_argument(
        "--json", action="store_true", help="print the changelog as JSON (schema baseimages.changelog/v1)"
    )


def diff_command(settings: Settings, options: Options, out: TextIO, err: TextIO) -> int:
    from ..changelog import changelog, text_lines
    from ..registry.connect import registry_client

    old, new = (_reference(name, text) for name, text in zip(("REF_A", "REF_B"), options.refs, strict=True))
    registry = registry_client(
        settings, on_retry=lambda notice: print(f"retrying: {notice.text}", file=err, flush=True)
    )
    log = changelog(registry, old, new, options.platforms or None)
    if options.report is not None:
        options.report.write_text(json.dumps(log.to_dict(), indent=2) + "\n")
    if options.json:
        print(json.dumps(log.to_dict(), indent=2), file=out)
    else:
        for line in text_lines(log):
            print(line, file=out)
    return 1 if log.differs else 0


def _reference(name: str, text: str) -> Reference:
    try:
        return parse_reference(text)
    except ValueError:
        raise ConfigError(name, text, "not an image reference ([registry/]repository[:tag][@sha256:digest])") from None
