"""Retries for registry operations: exponential backoff with jitter, bounded in attempts and time.

Only errors marked transient are retried (5xx, 429, timeouts, connection resets); permanent ones
(401/403, unknown manifest, invalid reference) fail at once. Every retry is reported with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from threading import Event
from typing import TypeVar

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


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, RegistryError | BuildError) and exc.transient


def call_with_retries(
    what: str,
    func: Callable[[], T],
    policy: RetryPolicy,
    on_retry: Callable[[str], None] | None = None,
    wake: Event | None = None,
) -> T:
    """Call FUNC; retry transient RegistryErrors per POLICY. The last error is raised, marked final.
    Setting WAKE cuts a wait between attempts short (FUNC then decides whether to go on)."""

    def before_sleep(state: RetryCallState) -> None:
        if on_retry is not None and state.outcome is not None:
            on_retry(f"{what}: attempt {state.attempt_number} failed, retrying: {state.outcome.exception()}")

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
