"""`python -m baseimages dependents PATH...` and `bump PATH...`: which references to the family the
service repositories below PATH hold, which are behind, and the rewrite that brings them up to date.

Neither reads the catalog: the family is every repository under the settings' registry and namespace,
so a service's CI runs them with `--registry` and `--namespace` alone. Exit codes: 0; 1 with
`--fail-if-behind` when a pin is behind; 2 a PATH that does not exist or a file that cannot be read;
3 the registry.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..settings.config import SETTINGS, Settings

if TYPE_CHECKING:
    from ..dependents.model import DependentsReport, DescribeChange
    from ..registry.client import RegistryClient
    from .options import Options

COMMANDS = ("dependents", "bump")


def _settings_flags() -> argparse.ArgumentParser:
    """--project and the settings' flags (the registry and namespace name the family)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--project", type=Path, default=Path("."), help="project root holding pyproject.toml")
    for setting in SETTINGS:
        if setting.flag is not None and not setting.table:
            parent.add_argument(setting.flag, **setting.flag_arguments())
    return parent


def add_dependents_parsers(sub: Any) -> None:
    """Register `dependents` and `bump` on the CLI's subparsers. Their namespaces carry the defaults of
    the run flags they do not take, so that one Options holds every command's answer."""
    parent = _settings_flags()
    unused: dict[str, Any] = {"only": [], "platform": [], "report": None, "force": False, "refresh": None,
                              "wait_lock": 0.0, "no_cache": False, "verbose": False}  # fmt: skip
    paths = {"nargs": "+", "type": Path, "metavar": "PATH", "help": "a service repository, folder or file"}
    check = sub.add_parser(
        "dependents",
        parents=[parent],
        help="list the references to the family in service repositories (Dockerfiles, bake and compose files), "
        "how each is pinned, and which are behind what their tag line promotes now",
    )
    check.add_argument("paths", **paths)
    check.add_argument("--json", action="store_true", help="print the references as JSON")
    check.add_argument("--fail-if-behind", action="store_true", help="exit 1 when a pin is behind (for a service's CI)")
    check.set_defaults(dry_run=None, **unused)
    bump = sub.add_parser(
        "bump",
        parents=[parent],
        help="rewrite behind immutable-tag and digest pins to the promoted builds, in place, and print a "
        "pull request's text; rolling tags are left alone",
    )
    bump.add_argument("paths", **paths)
    # The CLI spells a bare `--dry-run` as `--dry-run=plan` (see main.parse_args): the one value taken here.
    bump.add_argument(
        "--dry-run", choices=["plan"], metavar="", help="print the edits as a unified diff; write nothing"
    )
    bump.set_defaults(**unused)


def dependents_command(
    settings: Settings, options: Options, out: TextIO, err: TextIO, describe_change: DescribeChange | None = None
) -> int:
    """Run `dependents` or `bump` as OPTIONS say; DESCRIBE_CHANGE writes a behind pin's changelog."""
    report = _report(settings, options, err, describe_change)
    if options.command == "dependents":
        if options.json:
            print(json.dumps(report.to_dict(), indent=2), file=out)
        else:
            for line in report.lines():
                print(line, file=out)
        return 1 if options.fail_if_behind and report.behind else 0
    return _bump(report, options, out)


def _report(
    settings: Settings, options: Options, err: TextIO, describe_change: DescribeChange | None
) -> DependentsReport:
    from ..dependents.check import check_dependents
    from ..dependents.model import Family
    from ..registry.connect import registry_client

    registry = registry_client(settings, on_retry=lambda notice: print(f"retrying: {notice.text}", file=err))
    family = Family.of(settings.registry, settings.namespace)
    return check_dependents(options.paths, family, registry, describe_change or _changelog_of(registry))


def _changelog_of(registry: RegistryClient) -> DescribeChange:
    """A behind pin's changelog: what changed from the pinned build to the promoted one, per platform, as
    text (read from the registry's layers; layers the family shares are read once)."""
    from ..changelog import changelog, text_lines
    from ..core.reference import parse_reference

    cache: dict[str, Any] = {}

    def describe(pinned: str, promoted: str) -> str:
        log = changelog(registry, parse_reference(pinned), parse_reference(promoted), cache=cache)
        return "\n".join(text_lines(log))

    return describe


def _bump(report: DependentsReport, options: Options, out: TextIO) -> int:
    from ..dependents.bump import plan_bump

    plan = plan_bump(report)
    if not plan.edits:
        print("nothing to bump: every immutable-tag and digest pin is current", file=out)
        for pin in plan.stuck:
            print(f"{pin.use.file}:{pin.use.line}: behind, but not rewritable in place", file=out)
        return 0
    if options.dry_run:
        print(plan.diff(), end="", file=out)
        return 0
    written = plan.apply()
    title, body = plan.pull_request()
    print(f"bumped {len(plan.edits)} pins in {len(written)} files", file=out)
    print("", file=out)
    print(title, file=out)
    print("", file=out)
    print(body, end="", file=out)
    return 0
