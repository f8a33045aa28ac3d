"""The run lock and the retry policy, without Docker."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pytest

from baseimages.core.errors import RegistryError
from baseimages.core.lock import LockedError, RunLock
from baseimages.core.retry import Request, RetryPolicy, call_with_retries

FAST = RetryPolicy(attempts=4, max_seconds=10, initial_wait=0.01, max_wait=0.02)


def _hold(directory, ready, release):
    with RunLock(directory, "localhost:5000", "team", what="push"):
        ready.set()
        release.wait(10)


@pytest.fixture
def held_lock(tmp_path):
    ready, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(tmp_path, ready, release))
    holder.start()
    assert ready.wait(10)
    yield holder, release
    release.set()
    holder.join(10)


def test_second_run_on_the_same_registry_and_namespace_is_refused_naming_the_holder(tmp_path, held_lock):
    holder, _ = held_lock
    with pytest.raises(LockedError) as info, RunLock(tmp_path, "localhost:5000", "team"):
        pass
    assert f"pid {holder.pid}" in str(info.value) and "push" in str(info.value)
    assert info.value.exit_code == 5


def test_a_run_on_another_namespace_is_not_blocked(tmp_path, held_lock):
    with RunLock(tmp_path, "localhost:5000", "other"):
        pass


def test_waiting_run_gets_the_lock_when_the_first_ends(tmp_path, held_lock):
    _, release = held_lock
    started = time.monotonic()
    multiprocessing.Process(target=lambda: (time.sleep(0.5), release.set())).start()
    with RunLock(tmp_path, "localhost:5000", "team", wait=10):
        assert time.monotonic() - started >= 0.4


def test_transient_registry_errors_are_retried_until_success():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise RegistryError("HTTP 503", transient=True)
        return "ok"

    retries = []
    assert call_with_retries("GET x", flaky, FAST, retries.append) == "ok"
    assert len(calls) == 3
    assert [(r.what, r.attempt, r.reason, r.image, r.request) for r in retries] == [
        ("GET x", 1, "HTTP 503", None, None),
        ("GET x", 2, "HTTP 503", None, None),
    ]
    assert retries[0].text == "GET x: attempt 1 failed, retrying: HTTP 503"  # for people; never parsed


def test_a_retry_notice_carries_the_image_and_the_request_it_was_given():
    attempts = iter([RegistryError("HTTP 502", transient=True), None])

    def flaky():
        error = next(attempts)
        if error is not None:
            raise error

    retries = []
    url = "http://registry.test:5000/v2/team/uv/blobs/uploads/1?digest=sha256:ab"
    request = Request("PUT", url, "registry.test:5000/team/uv")
    call_with_retries("PUT blob", flaky, FAST, retries.append, image="uv", request=request)
    (notice,) = retries
    assert (notice.image, notice.attempt, notice.reason) == ("uv", 1, "HTTP 502")
    assert notice.request is request and notice.request.path == "/v2/team/uv/blobs/uploads/1"


def test_permanent_registry_errors_fail_at_once():
    calls = []

    def denied():
        calls.append(1)
        raise RegistryError("HTTP 401 access denied")

    with pytest.raises(RegistryError, match="401"):
        call_with_retries("GET x", denied, FAST)
    assert len(calls) == 1


def test_exhausted_retries_say_how_many_attempts_and_become_final():
    def down():
        raise RegistryError("HTTP 503", transient=True)

    with pytest.raises(RegistryError) as info:
        call_with_retries("GET x", down, FAST)
    assert "gave up after 4 attempts" in str(info.value)
    assert info.value.transient is False
    assert info.value.exit_code == 3


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = multiprocessing.Process(target=time.sleep, args=(0,))
    child.start()
    child.join(10)
    return int(child.pid or 0)


def test_a_lock_file_whose_holder_died_is_taken_at_once_not_waited_for(tmp_path):
    # What a SIGKILLed run leaves: the lock file, naming a pid that no longer exists. flock died with it.
    lock = RunLock(tmp_path, "localhost:5000", "team")
    tmp_path.mkdir(exist_ok=True)
    lock.path.write_text(json.dumps({"pid": _dead_pid(), "started": time.time() - 60, "run": "push"}))
    started = time.monotonic()
    with RunLock(tmp_path, "localhost:5000", "team", wait=30):
        assert time.monotonic() - started < 1
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()  # the holder info is ours now


def test_a_lock_held_by_a_process_killed_with_sigkill_is_free_at_once(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from baseimages.core.lock import RunLock\n"
            f"with RunLock(Path({str(tmp_path)!r}), 'localhost:5000', 'team', what='push'):\n"
            "    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError) as info, RunLock(tmp_path, "localhost:5000", "team"):
            pass
        assert f"pid {holder.pid}" in str(info.value)  # a live holder is named
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        started = time.monotonic()
        with RunLock(tmp_path, "localhost:5000", "team", wait=30):
            assert time.monotonic() - started < 1
    finally:
        holder.kill()
        holder.wait()
