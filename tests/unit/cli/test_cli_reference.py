"""The generated reference pages: docs/cli.md renders every command and flag the parser has, docs/settings.md
the settings' declaration, and a stale page in the repository fails here (run scripts/docs)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from baseimages.cli.main import _parser
from baseimages.cli.reference import PAGES, cli_page_markdown, stale_pages, write_pages

ROOT = Path(__file__).resolve().parents[3]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(commands.choices)


def test_no_generated_page_in_the_repository_is_stale():
    assert stale_pages(ROOT) == [], "a generated page is stale: run scripts/docs"


def test_the_cli_page_has_every_command_with_its_usage_and_every_flag_with_its_help():
    page = cli_page_markdown()
    for name, sub in _subparsers(_parser()).items():
        assert f"## `{name}`\n\n```text\npython -m baseimages {name} [flags]" in page
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            for flag in action.option_strings:
                assert f"`{flag}" in page or f", {flag}" in page, (name, flag)
            if action.help and "%" not in action.help:
                assert action.help.replace("|", "\\|") in page, (name, action.help)
    assert "`verify`" in page and "python -m baseimages verify [flags] REF --key PUBLIC_KEY" in page
    assert "| `--wait-lock SECONDS` | `0.0` |" in page  # a default argparse holds is shown
    assert "| `--refresh {window,monthly,updates}` |" in page  # choices stand for the value


def test_flags_every_command_takes_are_listed_once_and_a_commands_own_flags_under_it():
    page = cli_page_markdown()
    assert page.count("`--registry HOST[:PORT]`") == 1
    plan = page[page.index("## `plan`") : page.index("## `build`")]
    assert "`--json`" in plan
    prune = page[page.index("## `prune`") :]
    assert "`--apply`" in prune and "`--keep-dated N`" in prune


def test_the_page_renders_whatever_the_parser_has_a_top_level_flag_and_an_optional_value():
    parser = argparse.ArgumentParser(prog="tool")
    parser.add_argument("--version", action="version", version="1.0", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    for name in ("build", "push"):
        one = sub.add_parser(name, help=f"{name} the images")
        one.add_argument("--dry-run", nargs="?", const="plan", choices=["plan", "commands"], help="say, do not do")
    push = sub.choices["push"]
    push.add_argument("--jobs", type=int, default=2, help="at once (default: %(default)s)")
    page = cli_page_markdown(parser)
    assert "## Flags of `tool` itself" in page and "| `--version` |  | print the version and exit |" in page
    assert "| `--dry-run [{plan,commands}]` |  | say, do not do |" in page
    push_part = page[page.index("## `push`") :]
    assert "| `--jobs JOBS` | `2` | at once (default: 2) |" in push_part
    assert "--jobs" not in page[: page.index("## `push`")]


def test_write_pages_writes_a_stale_page_and_then_none_is_stale(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "cli.md").write_text("old\n")
    assert set(stale_pages(tmp_path)) == set(PAGES)
    assert set(write_pages(tmp_path)) == set(PAGES)
    assert stale_pages(tmp_path) == [] and write_pages(tmp_path) == []
    assert (tmp_path / "docs" / "cli.md").read_text() == cli_page_markdown()


def test_scripts_docs_check_passes_on_the_repository_and_fails_on_a_stale_page(tmp_path):
    script = ROOT / "scripts" / "docs"
    assert os.access(script, os.X_OK)
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run([script, "--check"], env=env, capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, ""), done.stderr
    stale = subprocess.run(
        [sys.executable, "-m", "baseimages.cli.reference", "--check", str(tmp_path)], capture_output=True, text=True
    )
    assert stale.returncode == 1 and "stale: docs/cli.md" in stale.stdout
