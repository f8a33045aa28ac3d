"""How long an update has waited: the first time a look saw it is kept across looks, starts again when the
candidate changes, is forgotten when the update goes; security and any counted apart; the state survives
in its file."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from baseimages.core.errors import ConfigError
from baseimages.updates import (
    DebianUpdate,
    ImageUpdates,
    PlatformUpdates,
    PythonUpdate,
    UpdatesReport,
    WaitingState,
    load_state,
    observe,
    remember,
    waiting,
)

AMD, ARM = "linux/amd64", "linux/arm64"
DAY = dt.timedelta(days=1)
T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def _deb(name: str, candidate: str, security: bool = False) -> DebianUpdate:
    suite = "bookworm-security" if security else "bookworm"
    return DebianUpdate(name, "1.0-1", candidate, suite, security, "http://deb.example/debian")


def _look(when: dt.datetime, *updates: DebianUpdate | PythonUpdate, image: str = "uv", platform: str = AMD,
          error: str | None = None) -> UpdatesReport:  # fmt: skip
    debian = tuple(u for u in updates if isinstance(u, DebianUpdate))
    python = tuple(u for u in updates if isinstance(u, PythonUpdate))
    platforms = (PlatformUpdates(platform, "sha256:" + "a" * 64, debian, python),) if error is None else ()
    found = ImageUpdates(image, f"r/{image}:latest", "sha256:" + "b" * 64, platforms, error, 3 if error else 0)
    return UpdatesReport(when, (found,))


def _series(state: WaitingState, now: dt.datetime) -> dict[tuple[str, str, str], tuple[float, int]]:
    return {(w.image, w.platform, w.kind): (w.seconds, w.count) for w in waiting(state, now)}


def test_the_first_seen_time_of_an_update_is_kept_across_looks():
    state = observe(WaitingState({}), _look(T0, _deb("openssl", "3.0.16-1", security=True)))
    state = observe(state, _look(T0 + DAY, _deb("openssl", "3.0.16-1", security=True)))
    state = observe(state, _look(T0 + 3 * DAY, _deb("openssl", "3.0.16-1", security=True)))
    assert _series(state, T0 + 3 * DAY)[("uv", AMD, "security")] == (3 * 86400, 1)


def test_a_new_candidate_starts_the_wait_again():
    state = observe(WaitingState({}), _look(T0, _deb("openssl", "3.0.16-1")))
    state = observe(state, _look(T0 + 2 * DAY, _deb("openssl", "3.0.17-1")))
    assert _series(state, T0 + 3 * DAY)[("uv", AMD, "any")] == (86400, 1)


def test_an_update_no_longer_found_is_forgotten_and_nothing_waits():
    state = observe(WaitingState({}), _look(T0, _deb("openssl", "3.0.16-1")))
    state = observe(state, _look(T0 + DAY))  # rebuilt with the fix
    series = _series(state, T0 + 2 * DAY)
    assert series[("uv", AMD, "any")] == (0, 0)
    state = observe(state, _look(T0 + 5 * DAY, _deb("openssl", "3.0.16-1")))  # seen again: a new wait
    assert _series(state, T0 + 6 * DAY)[("uv", AMD, "any")] == (86400, 1)


def test_security_counts_only_security_suite_updates_and_any_counts_every_update():
    updates = (_deb("curl", "7.88.1-10+deb12u8"), _deb("libssl3", "3.0.16-1", security=True))
    state = observe(WaitingState({}), _look(T0, updates[0]))
    state = observe(state, _look(T0 + 2 * DAY, *updates, PythonUpdate("/usr/local", "pip", "24.0", "25.3")))
    series = _series(state, T0 + 4 * DAY)
    assert series[("uv", AMD, "any")] == (4 * 86400, 3)
    assert series[("uv", AMD, "security")] == (2 * 86400, 1)


def test_an_image_that_could_not_be_read_keeps_what_was_known_of_it():
    state = observe(WaitingState({}), _look(T0, _deb("openssl", "3.0.16-1")))
    state = observe(state, _look(T0 + DAY, error="deb.example: unreachable"))
    assert _series(state, T0 + 2 * DAY)[("uv", AMD, "any")] == (2 * 86400, 1)


def test_images_and_platforms_are_kept_apart():
    state = observe(WaitingState({}), _look(T0, _deb("openssl", "3.0.16-1"), platform=ARM))
    state = observe(state, _look(T0 + DAY, _deb("openssl", "3.0.16-1"), image="ml"))
    series = _series(state, T0 + 2 * DAY)
    assert series[("uv", ARM, "any")] == (2 * 86400, 1)
    assert series[("ml", AMD, "any")] == (86400, 1)


def test_remember_keeps_the_state_in_its_file_and_gives_each_update_its_first_seen_time(tmp_path):
    path = tmp_path / "cache" / "updates-state.json"
    remember(path, _look(T0, _deb("openssl", "3.0.16-1", security=True)))
    report, state = remember(path, _look(T0 + DAY, _deb("openssl", "3.0.16-1", security=True)))
    (update,) = report.images[0].platforms[0].debian
    assert update.first_seen == T0
    assert report.to_dict()["images"][0]["platforms"][0]["debian"][0]["first_seen"] == "2026-12-01T08:00:00Z"
    assert json.loads(path.read_text())["schema"] == "baseimages.updates-state/v1"
    assert load_state(path) == state


def test_a_state_file_that_is_not_one_is_an_error_naming_it(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"schema": "something else"}')
    with pytest.raises(ConfigError, match=str(path)):
        load_state(path)


def test_the_metric_samples_carry_the_agreed_names_and_labels_with_0_where_nothing_waits():
    from baseimages.updates import metric_samples

    state = observe(WaitingState({}), _look(T0, _deb("curl", "7.88.1-10+deb12u8")))
    samples = {(name, tuple(labels.values())): value for name, labels, value in metric_samples(state, T0 + DAY)}
    assert samples == {
        ("baseimages_update_waiting_seconds", ("uv", AMD, "any")): 86400.0,
        ("baseimages_updates_installable", ("uv", AMD, "any")): 1.0,
        ("baseimages_update_waiting_seconds", ("uv", AMD, "security")): 0.0,
        ("baseimages_updates_installable", ("uv", AMD, "security")): 0.0,
    }


def test_a_look_at_some_platforms_only_keeps_what_was_known_of_the_others():
    from dataclasses import replace

    state = observe(WaitingState({}), _look(T0, _deb("openssl", "3.0.16-1"), platform=ARM))
    state = observe(state, replace(_look(T0 + DAY, platform=AMD), only_platforms=(AMD,)))
    assert _series(state, T0 + 2 * DAY)[("uv", ARM, "any")] == (2 * 86400, 1)
    state = observe(state, _look(T0 + 2 * DAY, platform=AMD))  # every platform looked at: arm64 is gone
    assert ("uv", ARM, "any") not in _series(state, T0 + 2 * DAY)
