"""docs/dependents.md shows what `dependents` and `bump` print for a sample service repository: each
example there is this test's output, so that the page cannot drift from the code."""

from __future__ import annotations

import json
from pathlib import Path

from fake_family import FAMILY, FamilyTags

from baseimages.dependents.bump import plan_bump
from baseimages.dependents.check import check_dependents

DOC = Path(__file__).resolve().parents[3] / "docs" / "dependents.md"
UV = "registry.example.com/team/python311-uv"
OLD = "1.2.3-20260101.1"


def _sample(root: Path, tags: FamilyTags) -> None:
    old = tags.build("python311-uv", "1.2.3", "20260101")
    tags.build("python311-uv", "1.2.3", "20260301")
    tags.build("python311", "1.2.0", "20260301")
    svc = root / "svc"
    svc.mkdir()
    (svc / "Dockerfile").write_text(
        f"# syntax=docker/dockerfile:1\nARG BASE={UV}:{OLD}\nFROM ${{BASE}} AS builder\nRUN uv sync --frozen\n\n"
        "FROM registry.example.com/team/python311:1.2 AS runtime\nCOPY --from=builder /app /app\n"
    )
    (svc / "docker-bake.hcl").write_text(
        f'target "worker" {{\n  dockerfile = "Dockerfile"\n  args = {{\n    BASE = "{UV}:{OLD}@{old}"\n  }}\n}}\n'
    )
    (svc / "compose.yaml").write_text(f"services:\n  api:\n    image: {UV}@{old}\n")


def _outputs(root: Path) -> dict[str, str]:
    tags = FamilyTags()
    _sample(root, tags)
    changes = lambda a, b: f"(the changelog from {a.split('/')[-1][:30]}... to {b.split('/')[-1][:30]}...)"  # noqa: E731
    report = check_dependents([Path("svc")], FAMILY, tags, describe_change=changes)
    plan = plan_bump(report)
    title, body = plan.pull_request()
    return {
        "text": "\n".join(report.lines()),
        "json": json.dumps(report.to_dict()["pins"][0], indent=2),
        "diff": plan.diff().rstrip("\n"),
        "pull request": f"{title}\n\n{body}".rstrip("\n"),
    }


def test_every_example_of_the_page_is_what_the_code_prints(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    page = DOC.read_text()
    for name, text in _outputs(tmp_path).items():
        assert f"```\n{text}\n```" in page, f"docs/dependents.md: the {name} example is stale; it is now:\n{text}"
