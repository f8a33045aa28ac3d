"""The generated reference pages: docs/cli.md, rendered from the argparse parser the CLI runs (every
command, its usage, its flags with their values, defaults and help), and docs/settings.md, rendered from
the settings' declaration. `scripts/docs` (`python -m baseimages.cli.reference`) writes them; a unit test
fails when a page in the repository is stale.

    python -m baseimages.cli.reference [--check] [ROOT]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ..settings.reference import settings_page_markdown
from .main import _parser as cli_parser

GENERATED_NOTE = "<!-- Generated from the parser in baseimages/cli/ by scripts/docs: do not edit by hand. -->"

_INTRO = """\
# Command line

`python -m baseimages COMMAND [flags]`, run from the project root (or with `--project DIR`). Settings
flags override their `BASEIMAGES_*` variable and `[tool.baseimages]`: see [settings](settings.md). The
exit codes are in the [README](../README.md#exit-codes)."""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _value(action: argparse.Action) -> str:
    """The value a flag takes, as `--help` names it: its metavar, its choices, or nothing for a switch."""
    if action.nargs == 0:
        return ""
    if action.metavar is not None:
        name = str(action.metavar)
    elif action.choices is not None:
        name = "{" + ",".join(str(choice) for choice in action.choices) + "}"
    else:
        name = action.dest.upper()
    return f"[{name}]" if action.nargs == "?" else name


def _flag(action: argparse.Action) -> str:
    value = _value(action)
    if not action.option_strings:
        return f"[{value}]" if action.nargs == "?" else value
    flags = ", ".join(action.option_strings)
    return f"{flags} {value}" if value else flags


def _default(action: argparse.Action) -> str:
    default = action.default
    if action.nargs == 0 or default in (None, argparse.SUPPRESS, [], "") or isinstance(default, bool):
        return ""
    return f"`{default}`"


def _help(action: argparse.Action, prog: str) -> str:
    text = action.help or ""
    if "%" in text:  # argparse's own expansion: %(default)s, %(prog)s, ...
        text = text % {**vars(action), "prog": prog}
    return _cell(text)


def _flags_table(actions: Sequence[argparse.Action], prog: str) -> str:
    rows = ["| flag | default | meaning |", "|---|---|---|"]
    rows += [f"| `{_flag(a)}` | {_default(a)} | {_help(a, prog)} |" for a in actions]
    return "\n".join(rows)


def _usage(prog: str, parser: argparse.ArgumentParser) -> str:
    words = [prog, "[flags]"]
    for action in parser._actions:
        if not action.option_strings or action.required:
            words.append(_flag(action))
    return " ".join(words)


def _key(action: argparse.Action) -> tuple[tuple[str, ...], str]:
    return tuple(action.option_strings), action.help or ""


def _shown(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The actions a page lists: every flag and argument but -h/--help."""
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)]


def cli_page_markdown(parser: argparse.ArgumentParser | None = None) -> str:
    """The whole of docs/cli.md, from PARSER (default: the CLI's own)."""
    parser = parser or cli_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    helps = {choice.dest: choice.help or "" for choice in commands._choices_actions}
    subs: dict[str, argparse.ArgumentParser] = dict(commands.choices)
    common = [a for a in _shown(next(iter(subs.values()))) if all(
        _key(a) in {_key(b) for b in _shown(sub)} for sub in subs.values())]  # fmt: skip
    common_keys = {_key(a) for a in common}
    parts = [GENERATED_NOTE, _INTRO, "## Commands", "| command | does |\n|---|---|"]
    parts[-1] += "".join(f"\n| `{name}` | {_cell(helps[name])} |" for name in subs)
    own = _shown(parser)
    if own:
        parts += [f"## Flags of `{parser.prog}` itself", _flags_table(own, parser.prog)]
    parts += ["## Flags every command takes", _flags_table(common, parser.prog)]
    for name, sub in subs.items():
        parts += [f"## `{name}`", f"```text\n{_usage(sub.prog, sub)}\n```", _cell(sub.description or helps[name])]
        extra = [a for a in _shown(sub) if _key(a) not in common_keys]
        if extra:
            parts.append(_flags_table(extra, sub.prog))
    return "\n\n".join(parts) + "\n"


PAGES: dict[str, Callable[[], str]] = {
    "docs/settings.md": settings_page_markdown,
    "docs/cli.md": cli_page_markdown,
}


def stale_pages(root: Path) -> list[str]:
    """The generated pages under ROOT whose content is not what the code renders now."""
    stale = []
    for name, render in PAGES.items():
        path = root / name
        if not path.is_file() or path.read_text() != render():
            stale.append(name)
    return stale


def write_pages(root: Path) -> list[str]:
    """Write every generated page under ROOT; return the ones that changed."""
    changed = stale_pages(root)
    for name in changed:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(PAGES[name]())
    return changed


def main(argv: Sequence[str]) -> int:
    check = "--check" in argv
    rest = [arg for arg in argv if arg != "--check"]
    root = Path(rest[0]) if rest else Path(".")
    names = stale_pages(root) if check else write_pages(root)
    for name in names:
        print(f"{'stale' if check else 'written'}: {name}")
    return 1 if check and names else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
