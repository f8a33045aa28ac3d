"""The value type of the `pushgateway` setting, as `config.SETTINGS` declares it: checked when the settings
load, so that a bad URL is a one-line ConfigError before anything is built, never a failure at the end of
a run. (`metrics-file` is an `OutputPath`, like the reports.)"""

from __future__ import annotations

import urllib.parse

from .kinds import Invalid, Kind


class PushgatewayUrl(Kind[str]):
    """The base URL of a Prometheus Pushgateway: http(s)://host[:port][/path], without query or fragment.
    Empty means none."""

    name = "http(s) URL; empty for none"
    metavar = "URL"

    def check(self, value: object) -> str:
        if not isinstance(value, str):
            raise Invalid(f"must be a string, got {type(value).__name__}")
        text = value.strip().rstrip("/")
        if not text:
            return ""
        try:
            url = urllib.parse.urlsplit(text)
            url.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
            raise Invalid(f"{text!r} is not a Pushgateway URL, e.g. http://localhost:9091")
        return text
