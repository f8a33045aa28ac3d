"""baseimages.outputs.notify: after an image promotes, one POST per notify URL (json, or a GitHub
repository_dispatch event), retried like a registry request; a notification that fails is a warning, a
line of the Markdown report and exit code 6, and never undoes the promotion; no credential is ever shown."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fake_hook import FakeHook
from fakes import FakeEngine, MemoryRegistry

from baseimages.catalog.plan import make_plan
from baseimages.core.results import ImageResult, ImageStatus, Notification, PlatformResult, RunReport
from baseimages.core.retry import RetryPolicy
from baseimages.outputs.markdown import render_markdown
from baseimages.outputs.notify import Notifier, changelog_summary, redact
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.settings.config import Settings

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
FAST = RetryPolicy(attempts=4, max_seconds=10, initial_wait=0.01, max_wait=0.02)
OLD, NEW = "sha256:" + "a" * 64, "sha256:" + "b" * 64
CHANGELOG = {
    "schema": "baseimages.changelog/v1",
    "old": {"reference": "r/t/uv:1.0.0-20261128.1", "digest": OLD},
    "new": {"reference": "r/t/uv:1.0.0-20261129.1", "digest": NEW},
    "first": False,
    "differs": True,
    "platforms": {
        "linux/amd64": {
            "state": "changed",
            "old_digest": "sha256:1",
            "new_digest": "sha256:2",
            "size": {"old": 1000, "new": 1300},
            "packages": [
                {"name": "openssl", "change": "changed", "old": "3.0.1", "new": "3.0.2"},
                {"name": "curl", "change": "added", "old": None, "new": "8.0"},
            ],
            "python": [{"environment": "/opt/venv", "name": "uv", "change": "removed", "old": "0.1", "new": None}],
            "config": [],
            "files": {"added": 40, "removed": 2, "changed": 7, "paths": []},
        },
        "linux/arm64": {
            "state": "unchanged",
            "old_digest": "sha256:3",
            "new_digest": "sha256:3",
            "size": {"old": 900, "new": 900},
            "packages": [],
            "python": [],
            "config": [],
        },
    },
}


def _promoted(name: str = "uv") -> ImageResult:
    result = ImageResult(name, f"registry.test:5000/t/{name}", ImageStatus.PROMOTED, version="1.0.0", digest=NEW)
    result.previous_digest = OLD
    result.tags = ["1.0.0-20261129.1", "1.0.0", "1.0", "1", "2026.11", "latest"]
    result.platforms = [PlatformResult("linux/amd64"), PlatformResult("linux/arm64")]
    result.changelog = CHANGELOG
    return result


def _report(*images: ImageResult) -> RunReport:
    return RunReport("push", "registry.test:5000", NOW, NOW, images=list(images))


def _settings(tmp_path, urls, **fields):
    return Settings(root=tmp_path, notify_url=tuple(urls), lock_dir=tmp_path / "locks", **fields)


def test_a_promotion_posts_one_json_body_per_url_naming_digest_previous_digest_tags_platforms_and_reports(tmp_path):
    with FakeHook() as first, FakeHook() as second:
        settings = _settings(tmp_path, [f"{first.url}/hook", f"{second.url}/other"], report_md=tmp_path / "r.md")
        report = _report(_promoted(), ImageResult("ml", "r/t/ml", ImageStatus.UNCHANGED, digest=OLD))
        warnings = Notifier(settings, report=tmp_path / "r.json", retry=FAST).finished(report)
    assert warnings == [] and report.exit_code == 0
    assert [r.path for r in first.received] == ["/hook"] and [r.path for r in second.received] == ["/other"]
    sent = first.received[0]
    assert sent.headers["content-type"] == "application/json" and "authorization" not in sent.headers
    assert sent.json == {
        "schema": "baseimages.notify/v1",
        "image": "uv",
        "repository": "registry.test:5000/t/uv",
        "version": "1.0.0",
        "digest": NEW,
        "previous_digest": OLD,
        "tags": ["1.0.0-20261129.1", "1.0.0", "1.0", "1", "2026.11", "latest"],
        "platforms": ["linux/amd64", "linux/arm64"],
        "changelog": changelog_summary(CHANGELOG),
        "reports": {"json": str(tmp_path / "r.json"), "markdown": str(tmp_path / "r.md")},
    }
    assert second.received[0].json == sent.json  # the unchanged image notifies nobody
    assert [(n.image, n.delivered) for n in report.notifications] == [("uv", True), ("uv", True)]


def test_the_changelog_summary_counts_changes_per_platform_with_the_size_change_and_flags_a_first_promotion():
    summary = changelog_summary(CHANGELOG)
    assert summary == {
        "first": False,
        "differs": True,
        "platforms": {
            "linux/amd64": {
                "state": "changed",
                "packages": {"added": 1, "removed": 0, "changed": 1},
                "python": {"added": 0, "removed": 1, "changed": 0},
                "config": 0,
                "files": {"added": 40, "removed": 2, "changed": 7},
                "size": {"old": 1000, "new": 1300, "change": 300},
            },
            "linux/arm64": {
                "state": "unchanged",
                "packages": {"added": 0, "removed": 0, "changed": 0},
                "python": {"added": 0, "removed": 0, "changed": 0},
                "config": 0,
                "files": {"added": 0, "removed": 0, "changed": 0},  # a document without files: none
                "size": {"old": 900, "new": 900, "change": 0},
            },
        },
    }
    first = {**CHANGELOG, "first": True, "old": None}
    first["platforms"] = {"linux/amd64": {**CHANGELOG["platforms"]["linux/amd64"], "state": "first"}}
    first["platforms"]["linux/amd64"]["size"] = {"old": None, "new": 1300}
    assert changelog_summary(first)["first"] is True
    assert changelog_summary(first)["platforms"]["linux/amd64"]["size"]["change"] is None
    assert changelog_summary(None) is None


def test_github_dispatch_wraps_the_body_as_a_repository_dispatch_event_with_the_bearer_token(tmp_path):
    with FakeHook() as hook:
        settings = _settings(tmp_path, [hook.url + "/repos/o/r/dispatches"], notify_format="github-dispatch")
        settings = settings.with_overrides(notify_token="ghp_s3cret")
        report = _report(_promoted())
        assert Notifier(settings, retry=FAST).finished(report) == []
    sent = hook.received[0]
    assert sent.headers["accept"] == "application/vnd.github+json"
    assert sent.headers["authorization"] == "Bearer ghp_s3cret"
    document = sent.json
    assert document["event_type"] == "baseimages-promoted" and set(document) == {"event_type", "client_payload"}
    assert document["client_payload"]["digest"] == NEW
    assert len(document["client_payload"]) <= 10  # GitHub refuses a client_payload of more top-level keys
    assert "ghp_s3cret" not in json.dumps(report.to_dict())


def test_a_5xx_or_429_is_retried_until_the_hook_accepts(tmp_path):
    with FakeHook(statuses=[503, 429, 502, 200]) as hook:
        report = _report(_promoted())
        warnings = Notifier(_settings(tmp_path, [hook.url]), retry=FAST).finished(report)
    assert len(hook.received) == 4
    assert warnings == [] and report.notifications[0].delivered and report.exit_code == 0


@pytest.mark.parametrize("status", [404, 401, 403, 400])
def test_an_answer_that_means_no_is_not_retried_and_fails_the_notification_at_once(tmp_path, status):
    with FakeHook(statuses=[status, 204]) as hook:
        report = _report(_promoted())
        warnings = Notifier(_settings(tmp_path, [hook.url + "/hook"]), retry=FAST).finished(report)
    assert len(hook.received) == 1
    assert len(warnings) == 1
    assert warnings[0].startswith(f"notification of uv's promotion to {hook.url}/hook failed: HTTP {status} ")
    [note] = report.notifications
    assert (note.url, note.delivered) == (f"{hook.url}/hook", False) and note.error.startswith(f"HTTP {status} ")
    assert report.exit_code == 6


def test_a_hook_that_keeps_failing_gives_up_after_the_retry_budget(tmp_path):
    with FakeHook(statuses=[500]) as hook:
        report = _report(_promoted())
        warnings = Notifier(_settings(tmp_path, [hook.url]), retry=FAST).finished(report)
    assert len(hook.received) == FAST.attempts
    assert "HTTP 500" in warnings[0] and f"gave up after {FAST.attempts} attempts" in warnings[0]


def test_an_unreachable_hook_is_retried_then_a_warning(tmp_path):
    with FakeHook() as hook:
        url = hook.url  # nothing listens there once the hook is stopped
    report = _report(_promoted())
    warnings = Notifier(_settings(tmp_path, [url]), retry=FAST).finished(report)
    assert len(warnings) == 1 and url in warnings[0] and f"after {FAST.attempts} attempts" in warnings[0]


def test_a_failed_notification_is_exit_code_6_only_when_everything_else_succeeded():
    failed_note = Notification("uv", "http://h/x", "json", False, "HTTP 500")
    report = _report(_promoted())
    report.notifications = [failed_note]
    assert report.exit_code == 6 and report.ok
    broken = ImageResult("ml", "r/t/ml", ImageStatus.FAILED, exit_code=3)
    report.images.append(broken)
    assert report.exit_code == 3  # a failure's own code wins
    broken.exit_code = 1
    assert report.exit_code == 1
    assert "**failed**: HTTP 500" in render_markdown(_report_with(failed_note))


def _report_with(note: Notification) -> RunReport:
    report = _report(_promoted())
    report.notifications = [note]
    return report


def test_credentials_in_a_url_are_never_shown_but_sent_as_basic_auth(tmp_path):
    assert (
        redact("https://user:pw@hooks.example:8443/h/x?token=abc&x=1")
        == "https://hooks.example:8443/h/x?token=***&x=***"
    )
    with FakeHook() as hook:
        url = hook.url.replace("http://", "http://bot:pa55@") + "/hook?sig=abc"
        report = _report(_promoted())
        Notifier(_settings(tmp_path, [url]), retry=FAST).finished(report)
    assert hook.received[0].headers["authorization"] == "Basic Ym90OnBhNTU="  # bot:pa55
    assert hook.received[0].path == "/hook?sig=abc"
    assert report.notifications[0].url == f"{hook.url}/hook?sig=***"


@pytest.fixture
def family(catalog_writer):
    catalog_writer.add("uv")
    catalog_writer.add("ml", parent="uv")
    return catalog_writer


def _factory(family, tmp_path, urls, **fields):
    settings = Settings(
        root=family.root, registry="registry.test:5000", namespace="t", lock_dir=tmp_path / "locks",
        notify_url=tuple(urls), retry_attempts=2, **fields,
    )  # fmt: skip
    catalog = family.load()
    factory = Factory(settings, catalog, engine=FakeEngine(), registry=MemoryRegistry())
    return factory, make_plan(catalog, settings, now=NOW)


def test_a_run_whose_notification_fails_keeps_its_promotion_and_says_so_in_report_summary_and_exit_code(
    family, tmp_path
):
    with FakeHook(statuses=[500]) as hook:
        factory, plan = _factory(family, tmp_path, [hook.url + "/hook"], report_md=tmp_path / "r.md")
        report = factory.run(plan, RunOptions(push=True, report=tmp_path / "r.json"))
    assert [i.status for i in report.images] == [ImageStatus.PROMOTED, ImageStatus.PROMOTED]
    assert all(i.tags and i.digest for i in report.images)
    assert len(hook.received) == 4  # two images, two attempts each
    assert report.exit_code == 6
    written = json.loads((tmp_path / "r.json").read_text())
    assert written["exit_code"] == 6 and [n["delivered"] for n in written["notifications"]] == [False, False]
    assert any(f"to {hook.url}/hook failed: HTTP 500" in warning for warning in written["warnings"])
    markdown = (tmp_path / "r.md").read_text()
    assert markdown.startswith("## baseimages push: 2 promoted (exit 6)")
    assert f"- uv to `{hook.url}/hook` (json): **failed**" in markdown


def test_a_run_notifies_each_promoted_image_with_its_digest_and_never_shows_the_token(family, tmp_path):
    with FakeHook() as hook:
        url = hook.url.replace("http://", "http://bot:pa55@") + "/hook?sig=abc"
        factory, plan = _factory(family, tmp_path, [url], notify_token="tok-s3cret")
        dry = factory.dry_run(plan, RunOptions(push=True))
        report = factory.run(plan, RunOptions(push=True, report=tmp_path / "r.json"))
    assert {r.json["image"]: r.json["digest"] for r in hook.received} == {i.name: i.digest for i in report.images}
    assert all(r.headers["authorization"] == "Bearer tok-s3cret" for r in hook.received)
    assert report.exit_code == 0
    shown = f"{hook.url}/hook?sig=***"
    lines = dry.lines()
    assert f"  notify {shown} (json)" in lines and lines.count(f"  notify {shown} (json)") == 2
    everything = "\n".join([*lines, *dry.lines("commands"), (tmp_path / "r.json").read_text()])
    for secret in ("tok-s3cret", "pa55", "sig=abc"):
        assert secret not in everything


def test_a_dry_run_without_push_or_without_urls_shows_no_notification(family, tmp_path):
    factory, plan = _factory(family, tmp_path, [])
    assert not any("notify" in line for line in factory.dry_run(plan, RunOptions(push=True)).lines())
    factory, plan = _factory(family, tmp_path, ["http://127.0.0.1:9/x"])
    assert not any("notify" in line for line in factory.dry_run(plan, RunOptions(push=False)).lines())
