"""Every results file's metadata (benchmarks/results_meta.py): commit, date, machine, Docker and buildx."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from results_meta import commit, describe, memory_gib, metadata, tool_versions, write_results  # noqa: E402

OUTPUTS = {
    ("git", "rev-parse"): "0123456789abcdef0123456789abcdef01234567",
    ("git", "status"): " M benchmarks/run.py",
    ("docker", "version", "{{.Client.Version}}"): "26.1.5+dfsg1",
    ("docker", "version", "{{.Server.Version}}"): "26.1.4",
    ("docker", "buildx"): "github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3",
}


def fake_run(outputs: dict[tuple[str, ...], str | None]):  # type: ignore[no-untyped-def]
    def run(argv: Sequence[str]) -> str | None:
        for key, value in outputs.items():
            if argv[0] == key[0] and all(part in argv for part in key[1:]):
                return value
        return None

    return run


def test_commit_is_head_and_dirty_when_tracked_files_changed() -> None:
    assert commit(fake_run(OUTPUTS)) == {"sha": "0123456789abcdef0123456789abcdef01234567", "dirty": True}
    clean = OUTPUTS | {("git", "status"): ""}
    assert commit(fake_run(clean))["dirty"] is False


def test_commit_outside_a_git_checkout_says_unknown_instead_of_failing() -> None:
    assert commit(fake_run({})) == {"sha": "?", "dirty": None}


def test_versions_are_docker_client_and_server_and_buildx_version_word() -> None:
    assert tool_versions(fake_run(OUTPUTS)) == {
        "docker_client": "26.1.5+dfsg1",
        "docker_server": "26.1.4",
        "buildx": "0.13.1+ds1",
    }
    assert tool_versions(fake_run({}))["docker_server"] == "?"


def test_memory_is_memtotal_in_gib() -> None:
    assert memory_gib("MemFree: 1 kB\nMemTotal:       24117248 kB\n") == 23.0
    assert memory_gib("nothing") is None


def test_metadata_has_commit_utc_date_machine_and_versions(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 2097152 kB\n")
    moment = dt.datetime(2026, 12, 6, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    meta = metadata(fake_run(OUTPUTS), now=moment, meminfo_path=meminfo)
    assert meta["date"] == "2026-12-06T07:30:00Z"
    assert meta["commit"]["sha"].startswith("0123456789ab")
    assert set(meta["machine"]) == {"hostname", "cores", "memory_gib", "kernel"}
    assert meta["machine"]["memory_gib"] == 2.0
    assert meta["versions"]["buildx"] == "0.13.1+ds1"


def test_written_results_carry_the_metadata_first_and_the_line_names_the_commit(tmp_path: Path) -> None:
    meta = metadata(fake_run(OUTPUTS), now=dt.datetime(2026, 12, 6, tzinfo=dt.UTC))
    path = write_results(tmp_path / "deep" / "results.json", {"scenarios": []}, meta)
    data = json.loads(path.read_text())
    assert list(data) == ["meta", "scenarios"]
    line = describe(data)
    assert "commit 0123456789ab with uncommitted changes" in line
    assert "Docker client 26.1.5+dfsg1, server 26.1.4, buildx 0.13.1+ds1" in line


def test_a_file_written_before_the_metadata_is_said_to_record_no_commit() -> None:
    old = {"machine": {"date": "2026-11-29 11:40 UTC", "cores": 2, "memory_gib": 23, "docker": "26", "buildx": "0.13"}}
    assert describe(old).endswith("this file records no commit.")
