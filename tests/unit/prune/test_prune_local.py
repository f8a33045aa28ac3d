"""`prune --local`: the exact commands it runs on the engine, and which local images it removes."""

from __future__ import annotations

from dataclasses import dataclass, field

from fake_history import NOW

from baseimages.prune.local import LocalAction, LocalKind, plan_local
from baseimages.prune.pruner import Pruner
from baseimages.settings.config import Settings


@dataclass
class FakeLocalStore:
    """Local images by repository; records the actions it runs."""

    images: dict[str, list[str]] = field(default_factory=dict)  # repository -> tags
    ran: list[LocalAction] = field(default_factory=list)

    def image_tags(self, repository: str) -> list[str]:
        return [f"{repository}:{tag}" for tag in self.images.get(repository, [])]

    def run(self, action: LocalAction) -> None:
        self.ran.append(action)


def test_the_builder_cache_is_pruned_down_to_the_size_to_keep_with_the_exact_command():
    (action,) = plan_local(FakeLocalStore(), {}, "5GB")
    assert action.argv() == ["docker", "builder", "prune", "--force", "--keep-storage", "5GB"]
    assert action.describe() == "docker builder prune --force --keep-storage 5GB  # BuildKit cache above 5GB"


def test_local_candidates_and_contract_services_of_catalog_images_are_removed_and_nothing_else():
    store = FakeLocalStore(
        {
            "reg.test/team/uv": ["candidate-1.0.0", "candidate-1.1.0", "1.0.0", "latest"],
            "reg.test/team/ml": ["candidate-2.0.0"],
            "reg.test/other/uv": ["candidate-1.0.0"],
            "baseimages-contract/uv": ["candidate"],
            "baseimages-contract/someone-else": ["candidate"],
        }
    )
    actions = plan_local(store, {"uv": "reg.test/team/uv"}, "10GB")
    removed = [a.argv() for a in actions if a.kind is LocalKind.REMOVE_IMAGE]
    assert removed == [
        ["docker", "image", "rm", "reg.test/team/uv:candidate-1.0.0"],
        ["docker", "image", "rm", "reg.test/team/uv:candidate-1.1.0"],
        ["docker", "image", "rm", "baseimages-contract/uv:candidate"],
    ]


def test_a_local_prune_runs_its_actions_after_the_registry_and_without_local_nothing_touches_the_engine(
    fake_registry, make_client, catalog_writer, tmp_path
):
    catalog_writer.add("uv")
    settings = Settings(root=tmp_path, registry=fake_registry.address, namespace="team")
    store = FakeLocalStore({settings.repository("uv"): ["candidate-1.0.0"]})
    pruner = Pruner(settings, catalog_writer.load(), registry=make_client(), local=store)
    assert pruner.plan(now=NOW).local == []
    plan = pruner.plan(local=True, now=NOW)
    assert [a.kind for a in plan.local] == [LocalKind.BUILDER_PRUNE, LocalKind.REMOVE_IMAGE]
    assert "local engine" in plan.lines() and store.ran == []  # planning runs nothing
    pruner.apply(plan)
    assert store.ran == plan.local
