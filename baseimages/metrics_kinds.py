"""The value types of the metrics settings (`metrics-file`, `pushgateway`), as `config.SETTINGS` declares
them: checked when the settings load, so that a bad path or URL is a one-line ConfigError before anything
is built, never a failure at the end of a run."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from .schema import Invalid, Kind


class OutputFile(Kind[Path | None]):
    """A file baseimages writes: its directory must exist and it must not be a directory. Relative paths
    are taken from the working directory. Empty means none."""

    name = "file path (its directory must exist); empty for none"
    metavar = "FILE"

    def check(self, value: object) -> Path | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str | Path):
            raise Invalid(f"must be a path, got {type(value).__name__}")
        path = Path(value).expanduser().absolute()
        if path.is_dir():
            raise Invalid(f"is a directory, not a file: {path}")
        if not path.parent.is_dir():
            raise Invalid(f"no such directory: {path.parent}")
        return path


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
