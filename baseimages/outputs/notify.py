"""Notifications when tags move: after an image promotes, one POST per `notify-url` with a JSON body that
says what moved (image, repository, digest, the digest before, tags, platforms), a summary of its
changelog and where the run's reports are. `notify-format = github-dispatch` wraps the body as a GitHub
`repository_dispatch` event. The body's schema is `baseimages.notify/v1` (docs/notify.md).

An observer of the run (`Notifier`): the promotion of an image is known from its result (status
promoted, tags moved). Each POST goes through urllib as the registry client's requests do (the CA
bundle, the environment's proxy), with a timeout, retried while its failure is transient (5xx, 429,
connection errors) and never when an answer means no (any other 4xx). A notification that still fails
never undoes a promotion: it is a warning of the report naming the URL (never its credentials), the
report's `notifications` say it, and the run's exit code is 6 when nothing else failed.

`deliveries` computes the notifications of an image both for a run and for `--dry-run`, which renders the
same `Delivery` records; a bearer token (BASEIMAGES_NOTIFY_TOKEN) is never part of one.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import RegistryError
from ..core.events import Event
from ..core.results import ImageResult, ImageStatus, Notification, RunReport
from ..core.retry import RetryPolicy, call_with_retries
from ..settings.config import Settings

SCHEMA = "baseimages.notify/v1"
EVENT_TYPE = "baseimages-promoted"  # the repository_dispatch event's type
TIMEOUT = 10.0  # seconds per attempt
GITHUB_ACCEPT = "application/vnd.github+json"


def redact(url: str) -> str:
    """URL as it may be shown: without userinfo, and its query's values hidden (they may be secrets)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    query = "&".join(f"{name}=***" for name, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


@dataclass(frozen=True)
class Delivery:
    """One notification of IMAGE's promotion: a POST to URL (as configured: it may carry credentials, never
    shown) with the body in FORMAT (`json` or `github-dispatch`). Rendered by `--dry-run`, sent by the run."""

    image: str
    url: str
    format: str

    @property
    def shown(self) -> str:
        return redact(self.url)

    def summary(self) -> str:
        return f"notify {self.shown} ({self.format})"

    def commands(self) -> list[str]:
        return [f"# POST the promotion of {self.image} to {self.shown} ({self.format}, schema {SCHEMA})"]


def deliveries(settings: Settings, image: str) -> list[Delivery]:
    """The notifications a promotion of IMAGE sends, one per `notify-url`."""
    return [Delivery(image, url, settings.notify_format) for url in settings.notify_url]


def promoted(result: ImageResult) -> bool:
    """Whether RESULT is a promotion that notifies: promoted in this run, tags moved."""
    return result.status is ImageStatus.PROMOTED and bool(result.tags) and result.digest is not None


def changelog_summary(changelog: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What a notification says of a changelog (schema baseimages.changelog/v1): whether it is a first
    promotion, and per platform its state, the counts of Debian package and Python distribution changes
    (added, removed, changed), the number of config changes, the counts of files added, removed and changed,
    and the compressed size before and after."""
    if changelog is None:
        return None
    platforms: dict[str, Any] = {}
    for name, platform in sorted((changelog.get("platforms") or {}).items()):
        size = platform.get("size") or {}
        old, new = size.get("old"), size.get("new")
        platforms[name] = {
            "state": platform.get("state"),
            "packages": _counts(platform.get("packages") or []),
            "python": _counts(platform.get("python") or []),
            "config": len(platform.get("config") or []),
            "files": {k: int((platform.get("files") or {}).get(k, 0)) for k in ("added", "removed", "changed")},
            "size": {"old": old, "new": new, "change": new - old if old is not None and new is not None else None},
        }
    return {"first": bool(changelog.get("first")), "differs": bool(changelog.get("differs")), "platforms": platforms}


def _counts(changes: list[Mapping[str, Any]]) -> dict[str, int]:
    counts = {"added": 0, "removed": 0, "changed": 0}
    for change in changes:
        kind = str(change.get("change"))
        if kind in counts:
            counts[kind] += 1
    return counts


def body(result: ImageResult, reports: Mapping[str, str]) -> dict[str, Any]:
    """The notification of RESULT's promotion (schema baseimages.notify/v1), with the run's REPORTS
    (kind -> path). At most 10 top-level keys: GitHub's limit for a dispatch's client_payload."""
    return {
        "schema": SCHEMA,
        "image": result.name,
        "repository": result.repository,
        "version": result.version,
        "digest": result.digest,
        "previous_digest": result.previous_digest,
        "tags": list(result.tags),
        "platforms": [p.platform for p in result.platforms],
        "changelog": changelog_summary(result.changelog),
        "reports": dict(reports),
    }


def envelope(fmt: str, payload: dict[str, Any]) -> dict[str, Any]:
    """PAYLOAD as FMT sends it: as it is (`json`), or as a GitHub repository_dispatch event."""
    if fmt == "github-dispatch":
        return {"event_type": EVENT_TYPE, "client_payload": payload}
    return payload


class Notifier:
    """The run observer that sends the notifications of each promotion (see the module's docstring)."""

    name = "notify"

    def __init__(
        self,
        settings: Settings,
        report: Path | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy(attempts=settings.retry_attempts, max_seconds=settings.retry_max_seconds)
        self.timeout = timeout
        files = {"json": report, "markdown": settings.report_md, "html": settings.report_html}
        self.reports = {kind: str(path.absolute()) for kind, path in files.items() if path is not None}
        self._context: ssl.SSLContext | None = None

    def event(self, event: Event) -> None:
        """Promotions are read from the finished report; events add nothing."""

    def finished(self, report: RunReport) -> list[str]:
        warnings = []
        for result in (r for r in report.images if promoted(r)):
            payload = body(result, self.reports)
            for delivery in deliveries(self.settings, result.name):
                error = self.send(delivery, envelope(delivery.format, payload))
                report.notifications.append(
                    Notification(result.name, delivery.shown, delivery.format, error is None, error)
                )
                if error is not None:
                    warnings.append(f"notification of {result.name}'s promotion to {delivery.shown} failed: {error}")
        return warnings

    def send(self, delivery: Delivery, document: dict[str, Any]) -> str | None:
        """POST DOCUMENT to DELIVERY's URL, retried while transient; None when delivered, else why not."""
        headers = {"Content-Type": "application/json", "User-Agent": "baseimages"}
        if delivery.format == "github-dispatch":
            headers["Accept"] = GITHUB_ACCEPT
        if self.settings.notify_token:
            headers["Authorization"] = f"Bearer {self.settings.notify_token}"
        data = json.dumps(document).encode()
        what = f"POST {delivery.shown}"
        try:
            call_with_retries(what, lambda: self._post(delivery, data, headers), self.retry)
        except RegistryError as exc:
            return str(exc)
        return None

    def _post(self, delivery: Delivery, data: bytes, headers: dict[str, str]) -> None:
        url, shown = delivery.url, delivery.shown
        parts = urllib.parse.urlsplit(url)
        if parts.username is not None:  # userinfo goes as Basic auth, never in the request line
            login = urllib.parse.unquote(parts.username) + ":" + urllib.parse.unquote(parts.password or "")
            headers = {**headers, "Authorization": headers.get("Authorization") or _basic(login)}
            url = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        request = urllib.request.Request(url, data=data, method="POST", headers=headers)
        try:
            context = self._ssl() if url.startswith("https://") else None
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as answer:
                answer.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            with exc:
                code = exc.code
            transient = code == 429 or code >= 500
            raise RegistryError(f"HTTP {code} {exc.reason} from {shown}", transient=transient, status=code) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            cause: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            cut = isinstance(cause, ssl.SSLEOFError | ssl.SSLZeroReturnError)  # as the registry client judges TLS
            transient = isinstance(cause, OSError) and (cut or not isinstance(cause, ssl.SSLError))
            raise RegistryError(f"{shown}: {cause}", transient=transient) from None

    def _ssl(self) -> ssl.SSLContext | None:
        bundle = self.settings.ca_bundle
        if bundle is None:
            return None
        if self._context is None:
            self._context = ssl.create_default_context(cafile=str(bundle))
        return self._context


def _basic(login: str) -> str:
    return "Basic " + base64.b64encode(login.encode()).decode()
