"""Input fingerprints and the build/skip decision with its reasons."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from baseimages.catalog.changes import Action, Current, RefreshPolicy, decide
from baseimages.catalog.fingerprint import (
    BASE_DIGEST_KEY,
    CREATED_KEY,
    FINGERPRINT_KEY,
    INPUTS_KEY,
    compute_inputs,
    context_files,
    is_ignored,
)

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
BASE = "sha256:" + "1" * 64
OTHER_BASE = "sha256:" + "2" * 64


@pytest.fixture
def image(catalog_writer):
    catalog_writer.add("uv")
    folder = catalog_writer.images_dir / "uv"
    (folder / "requirements.txt").write_text("uv==0.13.9\n")
    (folder / ".dockerignore").write_text("*.log\ncache/\n!keep.log\n")
    return catalog_writer


def _inputs(writer, parent_digest=BASE, args=None):
    spec = writer.load()["uv"]
    return compute_inputs(spec, spec.platforms, args if args is not None else spec.build_args, parent_digest)


def _current(inputs, created=NOW - dt.timedelta(days=1), base=BASE, fingerprint=None):
    notes = {
        FINGERPRINT_KEY: fingerprint or inputs.fingerprint,
        INPUTS_KEY: inputs.encoded(),
        CREATED_KEY: created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        BASE_DIGEST_KEY: base,
    }
    return Current("sha256:" + "c" * 64, notes)


def _decide(inputs, current, policy=None, parent_rebuilt=False, external=True):
    return decide(
        inputs,
        current,
        "1.0.0",
        "python:3.11-slim" if external else "uv",
        external,
        parent_rebuilt,
        policy or RefreshPolicy(),
        NOW,
    )


def test_dockerignore_excludes_matching_files_and_directories_and_honours_exceptions():
    patterns = [(False, "*.log"), (False, "cache"), (True, "keep.log"), (False, "**/__pycache__")]
    assert is_ignored("build.log", patterns)
    assert not is_ignored("keep.log", patterns)
    assert is_ignored("cache/x/y.txt", patterns)
    assert is_ignored("a/b/__pycache__/m.pyc", patterns)
    assert not is_ignored("requirements.txt", patterns)


def test_context_files_are_what_dockerignore_lets_through(image):
    folder = image.images_dir / "uv"
    (folder / "noise.log").write_text("x")
    (folder / "keep.log").write_text("x")
    (folder / "cache").mkdir()
    (folder / "cache" / "blob").write_text("x")
    assert context_files(folder) == [".dockerignore", "Dockerfile", "image.yaml", "keep.log", "requirements.txt"]


def test_fingerprint_is_stable_for_unchanged_inputs(image):
    assert _inputs(image).fingerprint == _inputs(image).fingerprint


def test_ignored_file_does_not_change_the_fingerprint(image):
    before = _inputs(image).fingerprint
    (image.images_dir / "uv" / "debug.log").write_text("noise")
    assert _inputs(image).fingerprint == before


@pytest.mark.parametrize(
    ("change", "part"),
    [
        (lambda d: (d / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nENV X=1\n"), "Dockerfile"),
        (lambda d: (d / "requirements.txt").write_text("uv==0.13.8\n"), "context files"),
    ],
)
def test_changed_input_rebuilds_and_names_the_part_that_changed(image, change, part):
    old = _inputs(image)
    change(image.images_dir / "uv")
    decision = _decide(_inputs(image), _current(old))
    assert decision.action is Action.BUILD
    assert decision.reasons == (f"inputs changed: {part}",)


def test_changed_build_args_are_named(image):
    old = _inputs(image)
    decision = _decide(_inputs(image, args={"TORCH_VERSION": "2.14.0"}), _current(old))
    assert decision.reasons == ("inputs changed: build args",)


def test_new_base_digest_rebuilds_saying_the_base_has_a_new_digest(image):
    old = _inputs(image, parent_digest=BASE)
    decision = _decide(_inputs(image, parent_digest=OTHER_BASE), _current(old, base=BASE))
    assert decision.action is Action.BUILD
    assert decision.reasons == ("base python:3.11-slim has a new digest",)


def test_unchanged_and_fresh_image_is_skipped(image):
    inputs = _inputs(image)
    decision = _decide(inputs, _current(inputs))
    assert decision.action is Action.SKIP
    assert decision.reasons == ("unchanged",)
    assert decision.current_digest == "sha256:" + "c" * 64


def test_unchanged_image_older_than_the_window_is_rebuilt(image):
    inputs = _inputs(image)
    decision = _decide(inputs, _current(inputs, created=NOW - dt.timedelta(days=31)))
    assert decision.action is Action.BUILD
    assert decision.reasons[0].startswith("older than 30 days")


def test_monthly_refresh_rebuilds_what_was_built_before_this_month_only(image):
    inputs = _inputs(image)
    monthly = RefreshPolicy(mode="monthly")
    last_month = _decide(inputs, _current(inputs, created=dt.datetime(2026, 10, 31, tzinfo=dt.UTC)), monthly)
    this_month = _decide(inputs, _current(inputs, created=dt.datetime(2026, 11, 1, tzinfo=dt.UTC)), monthly)
    assert last_month.action is Action.BUILD and "before this month" in last_month.reasons[0]
    assert this_month.action is Action.SKIP


def test_monthly_refresh_skips_an_image_whose_month_tag_names_it_after_a_rebuild_found_nothing_changed(image):
    inputs = _inputs(image)
    monthly = RefreshPolicy(mode="monthly")
    found = _current(inputs, created=dt.datetime(2026, 10, 31, tzinfo=dt.UTC))
    settled = _decide(inputs, dataclasses.replace(found, month_digest=found.digest), monthly)
    other = _decide(inputs, dataclasses.replace(found, month_digest="sha256:" + "d" * 64), monthly)
    window = _decide(inputs, dataclasses.replace(found, month_digest=found.digest), RefreshPolicy(days=7))
    assert settled.action is Action.SKIP and "refreshed this month (the month's tag names it" in settled.reasons[0]
    assert other.action is Action.BUILD and window.action is Action.BUILD


def test_rebuilt_parent_rebuilds_the_child(image):
    inputs = _inputs(image)
    decision = _decide(inputs, _current(inputs), parent_rebuilt=True, external=False)
    assert decision.action is Action.BUILD
    assert decision.reasons == ("parent uv rebuilt",)


def test_force_rebuilds_an_unchanged_image(image):
    inputs = _inputs(image)
    assert _decide(inputs, _current(inputs), RefreshPolicy(force=True)).action is Action.BUILD


def test_image_missing_from_the_registry_is_built_as_new(image):
    decision = _decide(_inputs(image), None)
    assert decision.action is Action.BUILD
    assert decision.reasons == ("new: 1.0.0 is not in the registry",)
