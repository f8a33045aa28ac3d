"""`python -m baseimages history IMAGE`: each immutable tag of IMAGE (a catalog image's name, or a
repository reference), newest first, with its digest, creation date, platforms and what changed since the
build before it. `--json` prints the document of schema baseimages.history/v1; `--limit N` bounds the
registry reads. Exit 0; 2 for an unknown image or a bad limit; 3 when a registry fails."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

from ..core.errors import ConfigError
from ..core.reference import Reference, parse_reference

if TYPE_CHECKING:
    from ..changelog.history import History
    from ..settings.config import Settings
    from .options import Options


def add_history_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register `history` and its arguments on the CLI's subparsers."""
    from ..changelog.history import DEFAULT_LIMIT

    history = sub.add_parser(
        "history",
        parents=[common],
        help="each immutable tag of IMAGE, newest first: digest, creation date, platforms, and what changed since "
        "the build before it",
    )
    history.add_argument(
        "ref", metavar="IMAGE", help="a catalog image's name, or a repository reference (e.g. localhost:5000/team/uv)"
    )
    history.add_argument("--json", action="store_true", help="print the history as JSON (schema baseimages.history/v1)")
    history.add_argument(
        "--limit",
        type=int,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"read and show only the newest N builds (default: {DEFAULT_LIMIT})",
    )


def history_command(settings: Settings, options: Options, out: TextIO, err: TextIO) -> int:
    from ..changelog.history import history
    from ..registry.connect import registry_client

    assert options.ref is not None
    repository = _repository(settings, options.ref)
    registry = registry_client(
        settings, on_retry=lambda notice: print(f"retrying: {notice.text}", file=err, flush=True)
    )
    found = history(registry, repository, options.limit)
    if options.report is not None:
        options.report.write_text(json.dumps(found.to_dict(), indent=2) + "\n")
    if options.json:
        print(json.dumps(found.to_dict(), indent=2), file=out)
    else:
        for line in history_lines(found, options.limit):
            print(line, file=out)
    return 0


def history_lines(found: History, limit: int) -> list[str]:
    """The history for people: a line per build, then its changelog against the build before it, indented."""
    from ..changelog import text_lines

    more = f" (the newest {len(found.builds)}; --limit {limit})" if len(found.builds) < found.total else ""
    lines = [f"{found.repository}: {found.total} immutable tag(s), newest first{more}"]
    for build in found.builds:
        created = f"{build.created:%Y-%m-%d %H:%M} UTC" if build.created else "created unknown"
        lines += ["", f"{build.tag}  {build.digest}  {created}  {', '.join(build.platforms)}"]
        since = f"since {build.previous}:" if build.previous else "the first promotion:"
        lines += [f"  {since}", *(f"    {line}" for line in text_lines(build.changelog)[1:])]
    return lines


def _repository(settings: Settings, text: str) -> Reference:
    """IMAGE as a repository: a catalog image's repository under the settings' registry and namespace, or
    the repository a reference names (its tag or digest dropped)."""
    if "/" not in text:
        from ..catalog.spec import load_catalog

        catalog = load_catalog(settings.catalog_dir, settings.platforms)
        if text not in catalog.images:
            known = ", ".join(sorted(catalog.images)) or "none"
            raise ConfigError(
                "IMAGE", text, f"is not an image of the catalog (known: {known}) nor a repository reference"
            )
        text = settings.repository(text)
    try:
        ref = parse_reference(text)
    except ValueError:
        raise ConfigError("IMAGE", text, "is not a catalog image nor a repository reference") from None
    return Reference(ref.domain, ref.path)
