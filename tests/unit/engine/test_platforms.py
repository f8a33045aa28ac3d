"""Which platforms a machine runs natively, as doctor's QEMU check and the build's order read it."""

from __future__ import annotations

import pytest

from baseimages.engine.platforms import native_architectures, runs_natively


@pytest.mark.parametrize(
    ("platform", "machine", "native"),
    [
        ("linux/amd64", "x86_64", True),
        ("linux/arm64", "x86_64", False),
        ("linux/386", "x86_64", True),
        ("linux/arm64", "aarch64", True),
        ("linux/arm64/v8", "arm64", True),
        ("linux/amd64", "aarch64", False),
        ("linux/riscv64", "riscv64", True),
        ("linux", "x86_64", False),
    ],
)
def test_a_platform_runs_natively_on_the_machines_of_its_architecture_only(platform, machine, native):
    assert runs_natively(platform, machine) is native


def test_docker_and_uname_names_of_a_machine_mean_the_same_architectures():
    assert native_architectures("x86_64") == native_architectures("amd64") == {"amd64", "386"}
    assert native_architectures("aarch64") == native_architectures("arm64") == {"arm64"}
