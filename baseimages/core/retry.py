"""Retries for registry operations: exponential backoff with jitter, bounded in attempts and time.

Only errors marked transient are retried (5xx, 429, timeouts, connection resets); permanent ones
(401/403, unknown manifest, invalid reference) fail at once. Every retry is reported as a typed
`RetryNotice`: what was retried (a registry request's method, URL and repository, when it is one), the
attempt that failed, why, and the catalog image concerned when the caller knows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from threading import Event
from typing import TypeVar
from urllib.parse import urlsplit

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay
from tenacity.nap import sleep, sleep_using_event
from tenacity.wait import wait_exponential_jitter

from .errors import BuildError, RegistryError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    max_seconds: float = 120.0
    initial_wait: float = 0.5
    max_wait: float = 10.0


@dataclass(frozen=True)
class Request:
    """A registry request: its METHOD, its URL and the REPOSITORY (host/path) it concerns."""

    method: str
    url: str
    repository: str

    @property
    def path(self) -> str:
        """The URL's path, e.g. /v2/team/uv/manifests/1.0.0."""
        return urlsplit(self.url).path


@dataclass(frozen=True)
class RetryNotice:
    """One failed attempt that is tried again: WHAT was tried (in words), the ATTEMPT that failed (from 1)
    and the REASON (the error's message); IMAGE, the catalog image it concerns (None: no image, e.g. an
    external base's digest); REQUEST, the registry request when it is one."""

    what: str
    attempt: int
    reason: str
    image: str | None = None
    request: Request | None = None

    @property
    def text(self) -> str:
        """The notice in one line, for people: `<what>: attempt N failed, retrying: <reason>`."""
        return f"{self.what}: attempt {self.attempt} failed, retrying: {self.reason}"


RetrySink = Callable[[RetryNotice], None]


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, RegistryError | BuildError) and exc.transient


def call_with_retries(
    what: str,
    func: Callable[[], T],
    policy: RetryPolicy,
    on_retry: RetrySink | None = None,
    wake: Event | None = None,
    *,
    image: str | None = None,
    request: Request | None = None,
) -> T:
    """Call FUNC; retry transient RegistryErrors per POLICY, telling ON_RETRY of each retry of WHAT (on IMAGE,
    by REQUEST) with a RetryNotice. The last error is raised, marked final. Setting WAKE cuts a wait between
    attempts short (FUNC then decides whether to go on)."""

    def before_sleep(state: RetryCallState) -> None:
        if on_retry is not None and state.outcome is not None:
            reason = str(state.outcome.exception())
            on_retry(RetryNotice(what, state.attempt_number, reason, image=image, request=request))

    retrying = Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(policy.attempts) | stop_after_delay(policy.max_seconds),
        wait=wait_exponential_jitter(multiplier=policy.initial_wait, max=policy.max_wait),
        before_sleep=before_sleep,
        sleep=sleep if wake is None else sleep_using_event(wake),
        reraise=True,
    )
    try:
        return retrying(func)
    except RegistryError as exc:
        attempts = retrying.statistics.get("attempt_number", 1)
        if exc.transient and attempts > 1:
            # Final now: callers further up must not retry it again.
            raise RegistryError(f"{exc} (gave up after {attempts} attempts)", status=exc.status) from None
        raise
