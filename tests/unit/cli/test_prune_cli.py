"""`python -m baseimages prune`: a dry run by default, `--apply` under the run lock, the retention settings
from `[tool.baseimages.retention]`, the environment and flags, and one-line errors with their exit codes."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from fake_history import History

from baseimages.cli.main import main
from baseimages.core.lock import RunLock
from baseimages.settings.config import SETTINGS

TODAY = dt.date.today()


def _day(days_ago: int) -> str:
    return (TODAY - dt.timedelta(days=days_ago)).isoformat()


def _dated(days_ago: int) -> str:
    return f"1.0.0-{(TODAY - dt.timedelta(days=days_ago)):%Y%m%d}.1"


@pytest.fixture
def project(catalog_writer, clean_env, fake_registry, tmp_path):
    catalog_writer.add("uv")
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.baseimages]\nregistry = "{fake_registry.address}"\nnamespace = "team"\n'
        f'lock-dir = "{tmp_path / "locks"}"\n\n[tool.baseimages.retention]\nkeep-dated = 1\nkeep-dated-months = 1\n'
    )
    history = History(fake_registry, "team/uv")
    old = history.build(_day(400), [_dated(400), "candidate-1.0.0"])
    new = history.build(_day(1), [_dated(1), "1.0.0", "latest"])
    return tmp_path, history, old, new


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_prune_is_a_dry_run_by_default_that_says_what_would_go_and_why(project, fake_registry):
    root, history, _, _ = project
    tags = history.tags()
    code, out, err = run("prune", "--project", str(root))
    assert (code, err) == (0, "")
    assert f"remove {_dated(400)}" in out and "dated: not among the newest 1, older than 1 months" in out
    assert "candidate: its build promoted" in out
    assert out.rstrip().endswith("dry run: nothing changed (--apply makes these changes)")
    assert history.tags() == tags
    assert [r.method for r in fake_registry.requests if r.method not in ("GET", "HEAD")] == []


def test_apply_deletes_and_says_what_it_did(project):
    root, history, old, new = project
    code, out, err = run("prune", "--project", str(root), "--apply")
    assert (code, err) == (0, "")
    assert f"done: delete index {old[:19]}; tags {_dated(400)}, candidate-1.0.0" in out
    assert "applied: 3 changes made, 0 found done or left alone" in out  # the index and its 2 platform manifests
    assert history.tags() == {_dated(1): new, "1.0.0": new, "latest": new}


def test_apply_refuses_while_another_run_holds_the_lock_and_changes_nothing(project, fake_registry):
    root, history, _, _ = project
    tags = history.tags()
    with RunLock(root / "locks", fake_registry.address, "team", what="push"):
        code, out, err = run("prune", "--project", str(root), "--apply")
    assert (code, out) == (5, "")
    assert err.startswith("error: another baseimages run holds") and "push" in err and len(err.splitlines()) == 1
    assert history.tags() == tags


def test_apply_on_a_registry_that_does_not_allow_deletes_is_one_line_with_exit_code_3(project, fake_registry):
    root, history, _, _ = project
    fake_registry.delete_enabled = False
    tags = history.tags()
    code, out, err = run("prune", "--project", str(root), "--apply")
    assert code == 3
    assert err.startswith("error: ") and "does not allow deletes" in err and len(err.splitlines()) == 1
    assert history.tags() == tags and fake_registry.manifest_puts() == []


def test_apply_and_dry_run_together_are_refused_with_exit_code_2(project):
    code, out, err = run("prune", "--project", str(project[0]), "--apply", "--dry-run")
    assert (code, out) == (2, "")
    assert err.startswith("error: --apply: --dry-run: choose one")


def test_a_flag_overrides_the_retention_table_and_the_environment_overrides_the_file(project, monkeypatch):
    root, _, _, _ = project
    code, out, _ = run("prune", "--project", str(root), "--keep-dated", "2")
    assert code == 0 and f"remove {_dated(400)}" not in out
    monkeypatch.setenv("BASEIMAGES_RETENTION_KEEP_DATED", "3")
    code, out, _ = run("prune", "--project", str(root), "--keep-dated-months", "24")
    assert code == 0 and "keep the newest 3 dated tags and those of the last 24 months" in out


def test_an_unknown_key_in_the_retention_table_is_one_line_naming_the_file_and_the_key(tmp_path, clean_env):
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.baseimages.retention]\nkeep-daetd = 3\n")
    code, out, err = run("list", "--project", str(tmp_path))
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {path} [tool.baseimages]: retention.keep-daetd: unknown key")


def test_a_bad_value_in_the_retention_table_names_the_file_and_the_key(tmp_path, clean_env):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.baseimages.retention]\nkeep-storage = "lots"\n')
    code, _, err = run("list", "--project", str(tmp_path))
    assert code == 2
    assert (
        err == f"error: {path} [tool.baseimages]: retention.keep-storage: 'lots' is not a size such as 10GB or 512MB\n"
    )


def test_retention_flags_belong_to_prune_only(project, capsys):
    with pytest.raises(SystemExit):
        main(["prune", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for setting in [s for s in SETTINGS if s.table == "retention"]:
        assert setting.flag_usage in text and setting.env in text
    with pytest.raises(SystemExit) as info:  # argparse's own usage error
        main(["push", "--project", str(project[0]), "--keep-dated", "2"])
    assert info.value.code == 2 and "unrecognized arguments: --keep-dated" in capsys.readouterr().err


def test_the_report_lists_every_tag_with_its_verdict_and_what_was_applied(project, tmp_path):
    root, _, old, _ = project
    report = tmp_path / "prune.json"
    code, _, _ = run("prune", "--project", str(root), "--apply", "--report", str(report))
    data = json.loads(report.read_text())
    assert code == 0 and data["namespace"] == "team"
    (repo,) = data["repositories"]
    assert {t["tag"]: t["keep"] for t in repo["tags"]} == {
        _dated(400): False,
        "candidate-1.0.0": False,
        _dated(1): True,
        "1.0.0": True,
        "latest": True,
    }
    assert [(a["change"], a["outcome"]) for a in data["applied"]][0] == ("delete", "done")
    assert data["applied"][0]["digest"] == old
