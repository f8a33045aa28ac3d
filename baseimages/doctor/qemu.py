"""doctor's QEMU check: for every platform the images build that this machine cannot run natively, a
binfmt_misc handler (/proc/sys/fs/binfmt_misc) that is enabled and carries the F flag.

A handler is recognised by what it matches, not by its name (Debian names it qemu-aarch64, tonistiigi/binfmt
the same, others differ): the ELF class, byte order and machine of its magic. The F ("fix binary") flag
makes the kernel open the emulator when the handler is registered, so that it works inside build
containers, where the emulator's path does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..engine.platforms import MACHINES, runs_natively
from .model import DoctorContext, Finding, Verdict

# docker arch -> (ELF class: 1 32-bit, 2 64-bit; byte order: 1 little, 2 big; e_machine)
ELF: dict[str, tuple[int, int, int]] = {
    "amd64": (2, 1, 0x3E),
    "arm64": (2, 1, 0xB7),
    "arm": (1, 1, 0x28),
    "386": (1, 1, 0x03),
    "ppc64le": (2, 1, 0x15),
    "s390x": (2, 2, 0x16),
    "riscv64": (2, 1, 0xF3),
    "mips64le": (2, 1, 0x08),
}
INSTALL = (
    "install and register QEMU: apt-get install qemu-user-static binfmt-support (Debian; `scripts/engine up` "
    "does it), or docker run --privileged --rm tonistiigi/binfmt --install {arch}"
)


@dataclass(frozen=True)
class Handler:
    name: str
    enabled: bool
    interpreter: str
    flags: str
    offset: int
    magic: bytes
    mask: bytes

    def matches(self, arch: str) -> bool:
        """Whether the handler runs ARCH's ELF executables (class, byte order and machine of its magic)."""
        elf_class, order, machine = ELF[arch]
        want = {4: elf_class, 5: order}
        want.update({18: machine & 0xFF, 19: machine >> 8} if order == 1 else {18: machine >> 8, 19: machine & 0xFF})
        if self.offset != 0 or len(self.magic) < 20 or not self.magic.startswith(b"\x7fELF"):
            return False
        mask = self.mask if len(self.mask) >= 20 else b"\xff" * 20
        return all(self.magic[i] & mask[i] == value & mask[i] for i, value in want.items()) and mask[18] != 0


def read_handlers(directory: Path) -> list[Handler]:
    handlers = []
    for path in sorted(directory.iterdir()):
        if path.name in ("register", "status") or not path.is_file():
            continue
        try:
            handlers.append(parse_handler(path.name, path.read_text()))
        except (OSError, ValueError):
            continue  # not a handler we can read (or one being removed): it cannot be ours
    return handlers


def parse_handler(name: str, text: str) -> Handler:
    fields: dict[str, str] = {}
    enabled = False
    for line in text.splitlines():
        if line.strip() in ("enabled", "disabled"):
            enabled = line.strip() == "enabled"
            continue
        key, _, value = line.partition(" ")
        fields[key.rstrip(":")] = value.strip()
    return Handler(
        name=name,
        enabled=enabled,
        interpreter=fields.get("interpreter", ""),
        flags=fields.get("flags", ""),
        offset=int(fields.get("offset", "0")),
        magic=bytes.fromhex(fields.get("magic", "")),
        mask=bytes.fromhex(fields.get("mask", "")),
    )


def check_qemu(ctx: DoctorContext) -> Sequence[Finding]:
    host = MACHINES.get(ctx.host_arch, ctx.host_arch)
    foreign = [p for p in ctx.platforms if not runs_natively(p, ctx.host_arch)]
    if not foreign:
        return [Finding("qemu", Verdict.OK, f"no emulation needed: {host} runs {', '.join(ctx.platforms)} natively")]
    directory = ctx.binfmt_dir
    status = directory / "status"
    if not status.is_file():
        return [
            Finding(
                "qemu",
                Verdict.FAIL,
                f"binfmt_misc is not mounted at {directory}: {', '.join(foreign)} cannot run on this {host} machine",
                fix=f"mount -t binfmt_misc binfmt_misc {directory}, then " + INSTALL.format(arch="all"),
            )
        ]
    if status.read_text().strip() != "enabled":
        return [Finding("qemu", Verdict.FAIL, "binfmt_misc is disabled", fix=f"echo 1 > {status}")]
    handlers = read_handlers(directory)
    return [_platform_finding(platform, handlers, directory) for platform in foreign]


def _platform_finding(platform: str, handlers: list[Handler], directory: Path) -> Finding:
    arch = platform.split("/")[1]
    if arch not in ELF:
        return Finding("qemu", Verdict.WARN, f"no rule to recognise a handler for {arch}", subject=platform)
    found = [h for h in handlers if h.matches(arch)]
    if not found:
        return Finding(
            "qemu",
            Verdict.FAIL,
            f"no binfmt handler runs {arch} executables: {platform} builds and smoke tests cannot run",
            fix=INSTALL.format(arch=arch),
            subject=platform,
        )
    handler = next((h for h in found if h.enabled), found[0])
    where = f"{handler.name}: {handler.interpreter} (flags {handler.flags or 'none'})"
    if not handler.enabled:
        return Finding(
            "qemu", Verdict.FAIL, f"{where} is disabled", fix=f"echo 1 > {directory / handler.name}", subject=platform
        )
    if "F" not in handler.flags:
        return Finding(
            "qemu",
            Verdict.FAIL,
            f"{where} lacks the F flag: the kernel looks the emulator up inside each build container, where it "
            "is not, so RUN steps fail with `exec format error`",
            fix=f"echo -1 > {directory / handler.name}, then register it again with the F flag: "
            + INSTALL.format(arch=arch),
            subject=platform,
        )
    return Finding("qemu", Verdict.OK, where, subject=platform)
