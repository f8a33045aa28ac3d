"""Which platforms a machine runs natively, and which it runs under emulation (QEMU through binfmt_misc):
what `doctor` checks the emulator for, and what the build starts first (`pipeline.stages.build`)."""

from __future__ import annotations

MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm"}
NATIVE_ALSO = {"amd64": {"386"}}  # what a CPU runs without emulation besides its own


def native_architectures(machine: str) -> frozenset[str]:
    """The architectures (`amd64`, `arm64`...) that MACHINE (as `uname -m` or `docker info` name it: x86_64,
    aarch64) runs without emulation."""
    host = MACHINES.get(machine, machine)
    return frozenset({host} | NATIVE_ALSO.get(host, set()))


def runs_natively(platform: str, machine: str) -> bool:
    """Whether MACHINE runs PLATFORM (`os/arch[/variant]`) without emulation."""
    parts = platform.split("/")
    return len(parts) > 1 and parts[1] in native_architectures(machine)
