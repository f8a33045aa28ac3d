"""The changelog for people: text grouped per platform (packages, python, config, files, size) and Markdown."""

from __future__ import annotations

from baseimages.changelog import (
    Changelog,
    ConfigChange,
    FileChanges,
    ImageVersion,
    PackageChange,
    PlatformChangelog,
    PythonChange,
    State,
    markdown,
    text_lines,
)

OLD = ImageVersion("reg/team/x:1", "sha256:" + "a" * 64)
NEW = ImageVersion("reg/team/x:2", "sha256:" + "b" * 64)
CHANGED = PlatformChangelog(
    "linux/amd64", State.CHANGED, "sha256:" + "c" * 64, "sha256:" + "d" * 64, 40_000_000, 41_500_000,
    (PackageChange("curl", "7.88.1-10", "7.88.1-10+deb12u5"), PackageChange("jq", None, "1.6-2.1")),
    (PythonChange("/opt/venv", "rich", "13.7.0", None),),
    (ConfigChange("label", "a|b", "1", "2"),),
    FileChanges(1, 0, 2, (("added", "usr/bin/jq"), ("changed", "usr/bin/curl"))),
)  # fmt: skip


def test_text_groups_each_platforms_changes_with_marks():
    lines = text_lines(Changelog(OLD, NEW, {"linux/amd64": CHANGED}))
    assert lines == [
        "reg/team/x:1 (aaaaaaaaaaaa) -> reg/team/x:2 (bbbbbbbbbbbb)",
        "linux/amd64: changed",
        "  packages:",
        "    ~ curl 7.88.1-10 -> 7.88.1-10+deb12u5",
        "    + jq 1.6-2.1",
        "  python (/opt/venv):",
        "    - rich 13.7.0",
        "  config:",
        "    ~ label a|b: 1 -> 2",
        "  files: 1 added, 0 removed, 2 changed",
        "    + usr/bin/jq",
        "    ~ usr/bin/curl",
        "    ... and 1 more",
        "  size: 40.0 MB -> 41.5 MB (+1.5 MB)",
    ]


def test_a_first_promotion_says_so_with_what_the_image_holds_not_a_list():
    first = PlatformChangelog(
        "linux/arm64", State.FIRST, None, "sha256:" + "d" * 64, None, 12_300_000,
        (PackageChange("bash", None, "5.2"),), (PythonChange("/usr/local", "pip", None, "24.0"),),
    )  # fmt: skip
    log = Changelog(None, NEW, {"linux/arm64": first})
    assert text_lines(log) == [
        "reg/team/x:2: first promotion (bbbbbbbbbbbb)",
        "linux/arm64: first promotion: 1 Debian packages, 1 Python distributions in /usr/local, 12.3 MB",
    ]
    assert log.to_dict()["first"] is True and log.to_dict()["old"] is None


def test_removed_and_rebuilt_platforms_are_one_line_each():
    removed = PlatformChangelog("linux/arm64", State.REMOVED, "sha256:" + "e" * 64, None, 5_000, None)
    rebuilt = PlatformChangelog("linux/amd64", State.REBUILT, "sha256:" + "c" * 64, "sha256:" + "d" * 64, 9, 9)
    lines = text_lines(Changelog(OLD, NEW, {"linux/arm64": removed, "linux/amd64": rebuilt}))[1:]
    assert lines == [
        "linux/amd64: rebuilt: the same packages, Python distributions, files and config "
        "(only the build labels differ)",
        "linux/arm64: only in the old image (5.0 kB)",
    ]


def test_markdown_has_a_table_per_group_with_pipes_escaped():
    text = markdown(Changelog(OLD, NEW, {"linux/amd64": CHANGED}))
    assert text.startswith("## Changelog: reg/team/x:1")
    assert "### linux/amd64: changed" in text
    assert "| ~ | `curl` | `7.88.1-10` | `7.88.1-10+deb12u5` |" in text
    assert "| - | `rich (/opt/venv)` | `13.7.0` |  |" in text
    assert "| ~ | `label a\\|b` | `1` | `2` |" in text
    assert "**Files**: 1 added, 0 removed, 2 changed" in text
    assert "- + `usr/bin/jq`\n- ~ `usr/bin/curl`\n- ... and 1 more" in text
    assert "**Size**: 40.0 MB -> 41.5 MB (+1.5 MB)" in text


def test_the_json_document_reads_back_as_the_same_changelog_and_anything_else_is_refused():
    import pytest

    log = Changelog(OLD, NEW, {"linux/amd64": CHANGED})
    assert Changelog.from_dict(log.to_dict()) == log
    first = Changelog(None, NEW, {})
    assert Changelog.from_dict(first.to_dict()) == first
    with pytest.raises(ValueError, match="baseimages.changelog/v1"):
        Changelog.from_dict({"schema": "other/v1"})
    with pytest.raises(ValueError, match="not a baseimages.changelog/v1 document"):
        Changelog.from_dict({"schema": "baseimages.changelog/v1", "platforms": {}})


def test_markdown_headings_start_at_the_level_asked_for_a_report_section():
    text = markdown(Changelog(OLD, NEW, {"linux/amd64": CHANGED}), level=4)
    assert text.startswith("#### Changelog: reg/team/x:1") and "\n##### linux/amd64: changed" in text
