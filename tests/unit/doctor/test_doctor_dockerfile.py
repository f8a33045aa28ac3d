"""doctor's Dockerfile traps: a `# syntax=` frontend nothing serves, `COPY .` before the dependency install,
a wildcard COPY from the context; the contract recipe checked like the image's own."""

from __future__ import annotations

from fake_probe import FakeProbe, doctor_context
from fake_registry import make_image

from baseimages.core.retry import RetryPolicy
from baseimages.doctor.checkup import Verdict
from baseimages.doctor.dockerfile import check_dockerfiles
from baseimages.doctor.engine import check_engine
from baseimages.registry.client import RegistryClient

FAST = RetryPolicy(attempts=1, max_seconds=5)


def _findings(catalog_writer, dockerfile: str, files=(), ctx_setup=None, **fields):
    catalog_writer.add("uv", **fields)
    folder = catalog_writer.images_dir / "uv"
    (folder / "Dockerfile").write_text(dockerfile)
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(name)
    ctx = doctor_context(catalog_writer.load())
    if ctx_setup is not None:
        ctx_setup(ctx)
    return check_dockerfiles(ctx)


def test_catalog_style_dockerfile_has_no_known_trap(catalog_writer):
    dockerfile = (
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY requirements.txt /tmp/\nRUN pip install -r /tmp/requirements.txt\n"
    )
    (finding,) = _findings(catalog_writer, dockerfile, files=["requirements.txt"])
    assert (finding.verdict, finding.subject) == (Verdict.OK, "uv")
    assert finding.summary.startswith("no known trap in uv/Dockerfile")


def test_copy_everything_before_the_install_warns_naming_both_lines(catalog_writer):
    dockerfile = (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . /app\n"
        "RUN --mount=type=cache,target=/c \\\n  pip install -r requirements.txt\n"
    )
    (finding,) = _findings(catalog_writer, dockerfile)
    assert finding.verdict is Verdict.WARN
    assert finding.summary.startswith(
        "line 3: `COPY . /app` comes before the dependency install at line 4 (`pip install`)"
    )
    assert "COPY requirements.txt" in finding.fix


def test_copy_everything_after_the_install_is_the_right_order(catalog_writer):
    dockerfile = "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN uv pip sync requirements.txt\nCOPY . .\n"
    (finding,) = _findings(catalog_writer, dockerfile, files=["requirements.txt"])
    assert finding.verdict is Verdict.OK


def test_copy_everything_in_an_earlier_stage_does_not_count_against_a_later_install(catalog_writer):
    dockerfile = "FROM scratch AS src\nCOPY . /src\nFROM python:3.11-slim\nRUN apt-get install -y curl\n"
    (finding,) = _findings(catalog_writer, dockerfile)
    assert finding.verdict is Verdict.OK


def test_wildcard_copy_warns_and_names_what_it_matches_today(catalog_writer):
    dockerfile = "FROM python:3.11-slim\nCOPY requirements*.txt /tmp/\nRUN pip install -r /tmp/requirements.txt\n"
    (finding,) = _findings(catalog_writer, dockerfile, files=["requirements.txt", "requirements-dev.txt", "other.txt"])
    assert finding.verdict is Verdict.WARN
    assert "requirements*.txt (today: requirements-dev.txt, requirements.txt)" in finding.summary
    assert ".dockerignore" in finding.fix


def test_wildcard_does_not_cross_folders_and_a_matched_folder_brings_its_files(catalog_writer):
    dockerfile = "FROM scratch\nCOPY src/* /app/\n"
    (finding,) = _findings(catalog_writer, dockerfile, files=["src/a.py", "src/pkg/b.py", "top.py"])
    assert "(today: src/a.py, src/pkg/b.py)" in finding.summary


def test_wildcard_from_another_stage_is_not_the_context(catalog_writer):
    dockerfile = "FROM python:3.11-slim AS b\nRUN true\nFROM scratch\nCOPY --from=b /usr/lib/*.so /lib/\n"
    (finding,) = _findings(catalog_writer, dockerfile)
    assert finding.verdict is Verdict.OK


def _with_clients(fake_registry, tmp_path):
    def setup(ctx):
        ctx.engine = FakeProbe(mirrors=(fake_registry.url,))
        check_engine(ctx)
        ctx.registry = lambda mirrors: RegistryClient(retry=FAST, docker_config=tmp_path / "none", mirrors=mirrors)

    return setup


def test_syntax_line_with_a_frontend_nothing_serves_fails(catalog_writer, fake_registry, tmp_path):
    dockerfile = f"# syntax={fake_registry.address}/docker/dockerfile:1\nFROM scratch\n"
    (finding,) = _findings(catalog_writer, dockerfile, ctx_setup=_with_clients(fake_registry, tmp_path))
    assert finding.verdict is Verdict.FAIL
    assert f"line 1: `# syntax={fake_registry.address}/docker/dockerfile:1`" in finding.summary
    assert finding.fix.startswith("remove the line")
    assert any("has no docker/dockerfile:1" in line for line in finding.details)


def test_syntax_line_with_a_frontend_the_registry_serves_is_ok(catalog_writer, fake_registry, tmp_path):
    fake_registry.preload("docker/dockerfile", make_image("frontend"), tag="1")
    dockerfile = f"# syntax={fake_registry.address}/docker/dockerfile:1\nFROM scratch\n"
    (finding,) = _findings(catalog_writer, dockerfile, ctx_setup=_with_clients(fake_registry, tmp_path))
    assert finding.verdict is Verdict.OK
    assert any("is served by" in line for line in finding.details)


def test_the_contract_recipe_is_checked_too(catalog_writer, tmp_path):
    contract = catalog_writer.images_dir / "uv" / "contract"
    contract.mkdir(parents=True)
    (contract / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY . .\nRUN uv pip sync requirements.txt\n"
    )
    findings = _findings(
        catalog_writer,
        "FROM scratch\n",
        contract={"context": "contract", "commands": [{"command": ["true"]}]},
    )
    assert [(f.subject, f.verdict) for f in findings] == [("uv", Verdict.OK), ("uv contract", Verdict.WARN)]
