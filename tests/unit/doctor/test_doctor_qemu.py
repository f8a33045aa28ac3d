"""doctor's QEMU check against fake binfmt_misc folders: handlers recognised by their ELF magic, enabled,
with the F flag; each missing piece a failed finding with its fix."""

from __future__ import annotations

from fake_probe import AARCH64_MAGIC, AARCH64_MASK, ARM_MAGIC, doctor_context, write_binfmt

from baseimages.doctor.checkup import Verdict
from baseimages.doctor.qemu import check_qemu, parse_handler


def _qemu(catalog_writer, binfmt, platforms=("linux/amd64", "linux/arm64")):
    catalog_writer.add("uv", platforms=list(platforms))
    return check_qemu(doctor_context(catalog_writer.load(), binfmt_dir=binfmt))


def test_registered_aarch64_handler_with_f_flag_is_ok(catalog_writer, tmp_path):
    (finding,) = _qemu(catalog_writer, write_binfmt(tmp_path / "binfmt"))
    assert (finding.verdict, finding.subject) == (Verdict.OK, "linux/arm64")
    assert "qemu-aarch64" in finding.summary and "flags PF" in finding.summary


def test_handler_is_recognised_by_its_magic_not_its_name(catalog_writer, tmp_path):
    binfmt = write_binfmt(tmp_path / "binfmt", {"my-emulator": (AARCH64_MAGIC, AARCH64_MASK, "POCF", True)})
    (finding,) = _qemu(catalog_writer, binfmt)
    assert finding.verdict is Verdict.OK and "my-emulator" in finding.summary


def test_only_an_arm_handler_does_not_run_arm64(catalog_writer, tmp_path):
    binfmt = write_binfmt(tmp_path / "binfmt", {"qemu-arm": (ARM_MAGIC, AARCH64_MASK, "PF", True)})
    (finding,) = _qemu(catalog_writer, binfmt)
    assert finding.verdict is Verdict.FAIL
    assert "no binfmt handler runs arm64" in finding.summary
    assert "qemu-user-static" in finding.fix and "tonistiigi/binfmt --install arm64" in finding.fix


def test_handler_without_f_flag_fails_because_containers_cannot_find_the_emulator(catalog_writer, tmp_path):
    binfmt = write_binfmt(tmp_path / "binfmt", {"qemu-aarch64": (AARCH64_MAGIC, AARCH64_MASK, "P", True)})
    (finding,) = _qemu(catalog_writer, binfmt)
    assert finding.verdict is Verdict.FAIL
    assert "lacks the F flag" in finding.summary


def test_disabled_handler_fails_with_the_command_that_enables_it(catalog_writer, tmp_path):
    binfmt = write_binfmt(tmp_path / "binfmt", {"qemu-aarch64": (AARCH64_MAGIC, AARCH64_MASK, "PF", False)})
    (finding,) = _qemu(catalog_writer, binfmt)
    assert finding.verdict is Verdict.FAIL
    assert finding.fix == f"echo 1 > {binfmt / 'qemu-aarch64'}"


def test_binfmt_misc_not_mounted_fails_with_mount_fix(catalog_writer, tmp_path):
    (finding,) = _qemu(catalog_writer, tmp_path / "empty")
    assert finding.verdict is Verdict.FAIL
    assert "not mounted" in finding.summary and finding.fix.startswith("mount -t binfmt_misc")


def test_binfmt_misc_disabled_as_a_whole_fails(catalog_writer, tmp_path):
    (finding,) = _qemu(catalog_writer, write_binfmt(tmp_path / "binfmt", status="disabled"))
    assert finding.verdict is Verdict.FAIL and "disabled" in finding.summary


def test_native_platforms_need_no_emulation(catalog_writer, tmp_path):
    (finding,) = _qemu(catalog_writer, tmp_path / "empty", platforms=("linux/amd64",))
    assert finding.verdict is Verdict.OK and "no emulation needed" in finding.summary


def test_each_foreign_platform_gets_its_finding(catalog_writer, tmp_path):
    catalog_writer.add("uv", platforms=["linux/arm64", "linux/s390x"])
    findings = check_qemu(doctor_context(catalog_writer.load(), binfmt_dir=write_binfmt(tmp_path / "binfmt")))
    assert [(f.subject, f.verdict) for f in findings] == [("linux/arm64", Verdict.OK), ("linux/s390x", Verdict.FAIL)]


def test_big_endian_machine_is_read_from_the_magic():
    magic = "7f454c4602020100000000000000000000020016"
    handler = parse_handler(
        "qemu-s390x", f"enabled\ninterpreter /x\nflags: F\noffset 0\nmagic {magic}\nmask {'ff' * 20}\n"
    )
    assert handler.matches("s390x") and not handler.matches("arm64")
