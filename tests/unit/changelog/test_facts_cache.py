"""The layer facts cache (changelog.facts_cache): what a changelog read of a layer, kept by digest in a
folder, so that the next run does not read that layer again; never a reason for a changelog to fail."""

from __future__ import annotations

import hashlib
import io
import os
import time

from fake_layers import OPAQUE, Symlink, dist_info, layer, status

from baseimages.changelog.facts_cache import KEEP_DAYS, FactsCache
from baseimages.changelog.layers import read_facts

SITE = "opt/venv/lib/python3.11/site-packages"


def _facts():
    files = {
        "var/lib/dpkg/status": status(("bash", "5.2.15-2"), ("libc6", "2.36-9", "amd64")),
        "etc/apt/sources.list.d/debian.sources": b"Types: deb\n",
        "usr/bin/sh": Symlink("dash"),
        "opt/old/.wh.gone": b"",
        f"opt/keep/{OPAQUE}": b"",
        **dist_info(SITE, "rich", "13.7.1"),
    }
    blob = layer(files)
    digest = "sha256:" + hashlib.sha256(blob.blob).hexdigest()
    return read_facts(io.BytesIO(blob.blob), blob.media_type, digest)


def test_facts_written_by_one_run_are_read_back_by_the_next_equal_to_what_was_read(tmp_path):
    facts = _facts()
    FactsCache(tmp_path)[facts.digest] = facts
    again = FactsCache(tmp_path)  # the next run
    assert facts.digest in again
    assert again[facts.digest] == facts
    assert len(list(tmp_path.glob("*.json"))) == 1


def test_a_damaged_or_foreign_file_is_as_if_the_layer_had_not_been_read(tmp_path):
    facts = _facts()
    FactsCache(tmp_path)[facts.digest] = facts
    [path] = tmp_path.glob("*.json")
    path.write_text("{not json")
    assert facts.digest not in FactsCache(tmp_path)
    path.write_text('{"format": 99}')
    assert facts.digest not in FactsCache(tmp_path)


def test_a_folder_that_cannot_be_written_keeps_the_facts_for_the_run_and_fails_nothing(tmp_path):
    facts = _facts()
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    cache = FactsCache(blocked / "layers")
    cache[facts.digest] = facts
    assert cache[facts.digest] == facts
    assert facts.digest not in FactsCache(blocked / "layers")


def test_files_no_run_used_for_the_keep_days_are_removed_and_those_read_are_kept(tmp_path):
    facts = _facts()
    FactsCache(tmp_path)[facts.digest] = facts
    [used] = tmp_path.glob("*.json")
    stale = tmp_path / ("0" * 64 + ".json")
    stale.write_text("{}")
    old = time.time() - (KEEP_DAYS + 1) * 86400
    for path in (used, stale):
        os.utime(path, (old, old))
    assert FactsCache(tmp_path)[facts.digest] == facts  # read: kept, its time renewed
    assert not stale.exists() and used.exists() and used.stat().st_mtime > old


def test_without_a_folder_the_cache_holds_the_facts_for_the_run_only(tmp_path):
    facts = _facts()
    cache = FactsCache(None)
    cache[facts.digest] = facts
    assert cache[facts.digest] == facts and list(cache) == [facts.digest]
    assert facts.digest not in FactsCache(None)
