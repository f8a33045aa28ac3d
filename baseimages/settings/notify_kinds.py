"""The value types of the notification settings (`notify-url`, `notify-format`), as `config.SETTINGS`
declares them: checked when the settings load, so that a bad URL is a one-line ConfigError before anything
is built, never a failure after a promotion."""

from __future__ import annotations

import re
import urllib.parse

from .kinds import Invalid, Kind, Text

FORMATS = ("json", "github-dispatch")


class UrlList(Kind[tuple[str, ...]]):
    """Zero or more http(s) URLs (TOML: a list of strings; text: space- or comma-separated; the flag is
    repeatable). A URL may carry userinfo; it is never shown (see `outputs.notify.redact`)."""

    name = "list of http(s) URLs (space- or comma-separated in the environment)"
    metavar = "URL"
    repeatable = True

    def check(self, value: object) -> tuple[str, ...]:
        if not isinstance(value, list | tuple) or not all(isinstance(url, str) for url in value):
            raise Invalid("must be a list of http(s) URLs")
        return tuple(dict.fromkeys(_url(url.strip()) for url in value if url.strip()))

    def from_text(self, text: str) -> tuple[str, ...]:
        return self.check(tuple(part for part in re.split(r"[\s,]+", text) if part))

    def from_toml(self, value: object) -> tuple[str, ...]:
        return self.check(value)


def _url(text: str) -> str:
    try:
        url = urllib.parse.urlsplit(text)
        url.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.hostname or url.fragment:
        shown = text if url is None else urllib.parse.urlunsplit(url._replace(netloc=url.hostname or ""))
        raise Invalid(f"{shown!r} is not an http(s) URL, e.g. https://hooks.example.com/baseimages")
    return text


NOTIFY_FORMAT = Text(
    "json or github-dispatch",
    "FORMAT",
    re.compile(r"^(?:json|github-dispatch)$"),
    "is not a notification format: json or github-dispatch",
    strip=" ",
    required=True,
)
