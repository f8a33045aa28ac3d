"""The settings reference page (docs/settings.md), rendered from the one declaration of the settings
(`config.SETTINGS`), so that the page can never say other than what the code reads. `scripts/docs`
writes it; a unit test fails when the page in the repository is stale."""

from __future__ import annotations

from .config import (
    INDEX_URL_ENV,
    NOTIFY_TOKEN_ENV,
    PASSWORD_ENV,
    SETTINGS,
    SIGN_PASSWORD_ENV,
    USER_ENV,
    settings_table_markdown,
)
from .schema import toml_literal

GENERATED_NOTE = "<!-- Generated from baseimages/settings/config.py by scripts/docs: do not edit by hand. -->"

# The keys the example `[tool.baseimages]` table shows, each with its default (a unit test loads it).
EXAMPLE_KEYS = (
    "registry",
    "namespace",
    "platforms",
    "jobs",
    "retry-attempts",
    "retry-max-seconds",
    "build-cache",
    "lock-dir",
)

_INTRO = """\
# Settings

Project-wide settings live in `[tool.baseimages]` of the project's `pyproject.toml`. Each one can also
be given as its `BASEIMAGES_*` environment variable, and most as a flag of the command line. A value
comes from the first of:

1. its flag;
2. its environment variable;
3. `pyproject.toml`;
4. detection in the operator's environment (only `wheelhouse` and `ca-bundle`);
5. its default.

A key that is not in this table, or a bad value anywhere, is a one-line error naming the file and the
key, the variable, or the flag, with exit code 2, and nothing is built. The `retention.*` settings live
in the sub-table `[tool.baseimages.retention]` and their flags belong to `prune`; `builders` is the
sub-table `[tool.baseimages.builders]`."""

_NOTES = f"""\
## Notes

- In the environment, a list is comma-separated (`BASEIMAGES_PLATFORMS=linux/amd64,linux/arm64`) and a
  table is `KEY=VALUE,...` (`BASEIMAGES_BUILDERS=linux/arm64=arm64-node,linux/amd64=default`). The flag
  `--builder PLATFORM=NAME` is repeatable. A list of URLs (`BASEIMAGES_NOTIFY_URL`) is space- or
  comma-separated, and its flag `--notify-url URL` is repeatable.
- A wheelhouse or CA bundle given to baseimages itself must exist. When none is given, they are detected
  from the operator's environment as pip and uv find them, and a detected path that does not exist is
  skipped. See [operations](operations.md#offline-and-enterprise-inputs).
- A file to write (`metrics-file`, `report-md`, `report-html`) needs an existing folder, or the settings
  are refused before anything is built.

## Inputs that are not settings

These never belong in a file, so they are read from the environment only:

| variable | meaning |
|---|---|
| `{USER_ENV}`, `{PASSWORD_ENV}` | the registry login (both or neither); else the inline `auth` entries of \
`~/.docker/config.json` |
| `{SIGN_PASSWORD_ENV}` | the password of the cosign key that `sign-key` names |
| `{NOTIFY_TOKEN_ENV}` | a token the notifications send as `Authorization: Bearer` (e.g. a GitHub token for \
`notify-format = "github-dispatch"`); never logged, shown in `--dry-run` output or written in a report |
| `{INDEX_URL_ENV}` | a package index URL, which may carry credentials; builds get it as the secret \
`index-url`, and it never appears on a command line, in `--dry-run` output or in a report |"""


def example_table() -> str:
    """A `[tool.baseimages]` table that sets EXAMPLE_KEYS to their defaults."""
    by_key = {setting.key: setting for setting in SETTINGS}
    lines = ["[tool.baseimages]"]
    lines += [f"{key} = {toml_literal(by_key[key].default)}" for key in EXAMPLE_KEYS]
    lines += ["", "[tool.baseimages.builders]", '"linux/arm64" = "arm64-node"']
    retention = [setting for setting in SETTINGS if setting.table == "retention"]
    lines += ["", "[tool.baseimages.retention]"]
    lines += [f"{setting.key.partition('.')[2]} = {toml_literal(setting.default)}" for setting in retention]
    return "\n".join(lines)


def settings_page_markdown() -> str:
    """The whole of docs/settings.md."""
    parts = [
        GENERATED_NOTE,
        _INTRO,
        "## The settings",
        settings_table_markdown(),
        "## Example",
        f"```toml\n{example_table()}\n```",
        _NOTES,
    ]
    return "\n\n".join(parts) + "\n"
