"""The Dockerfile reader: parser directives, logical lines with their first line number, COPY/ADD flags and
sources, stages. What doctor's trap checks stand on."""

from __future__ import annotations

from pathlib import Path

import pytest

from baseimages.catalog.dockerfile import parse_dockerfile, read_dockerfile
from baseimages.core.errors import ConfigError


def test_directives_are_read_only_at_the_top_with_their_line():
    dockerfile = parse_dockerfile("# syntax=docker/dockerfile:1.7\n# escape=\\\nFROM scratch\n# syntax=late/ignored\n")
    assert dockerfile.directives == {"syntax": "docker/dockerfile:1.7", "escape": "\\"}
    assert dockerfile.directive_lines == {"syntax": 1, "escape": 2}


def test_a_comment_before_the_directive_makes_it_a_comment():
    dockerfile = parse_dockerfile("# a comment first\n# syntax=docker/dockerfile:1\nFROM scratch\n")
    assert dockerfile.directives == {}


def test_continued_lines_join_into_one_instruction_numbered_by_its_first_line_and_comments_inside_are_dropped():
    text = (
        "FROM python:3.11-slim\n\nRUN set -eu; \\\n    # a comment inside\n    pip install x \\\n    && true\n"
        "WORKDIR /app\n"
    )
    instructions = parse_dockerfile(text).instructions
    assert [(i.keyword, i.line) for i in instructions] == [("FROM", 1), ("RUN", 3), ("WORKDIR", 7)]
    assert instructions[1].text == "set -eu; pip install x && true"


def test_escape_directive_changes_the_continuation_character():
    instructions = parse_dockerfile("# escape=`\nFROM scratch\nRUN a `\n  b\n").instructions
    assert instructions[1].text == "a b"


def test_a_heredoc_body_is_not_read_as_instructions():
    text = "FROM scratch\nRUN <<EOF\nCOPY . /not-an-instruction\nEOF\nCOPY a.txt /a\n"
    assert [(i.keyword, i.line) for i in parse_dockerfile(text).instructions] == [
        ("FROM", 1),
        ("RUN", 2),
        ("COPY", 5),
    ]


def test_copy_flags_sources_and_destination_in_shell_and_json_form():
    text = 'FROM scratch\nCOPY --chown=1:1 --link a.txt b/ /dst/\nADD ["x y.txt", "/dst/"]\nCOPY --from=builder /o /o\n'
    copy, add, from_stage = parse_dockerfile(text).instructions[1:]
    assert copy.flags == {"chown": "1:1", "link": ""}
    assert copy.sources == ("a.txt", "b/") and copy.words[-1] == "/dst/"
    assert add.sources == ("x y.txt",)
    assert copy.from_context and add.from_context and not from_stage.from_context


def test_stages_start_at_each_from():
    text = "ARG BASE\nFROM a AS one\nRUN x\nFROM b\nCOPY --from=one /x /x\n"
    stages = list(parse_dockerfile(text).stages())
    assert [[i.keyword for i in stage] for stage in stages] == [["ARG"], ["FROM", "RUN"], ["FROM", "COPY"]]


def test_an_unreadable_dockerfile_is_a_config_error_naming_it(tmp_path: Path):
    with pytest.raises(ConfigError) as caught:
        read_dockerfile(tmp_path / "missing" / "Dockerfile")
    assert str(tmp_path / "missing" / "Dockerfile") in str(caught.value)


def test_the_catalog_dockerfiles_parse_with_their_copy_of_requirements_before_the_install():
    root = Path(__file__).resolve().parents[3] / "images"
    for name in ("python311-uv", "python311-ml", "python311-security"):
        instructions = read_dockerfile(root / name / "Dockerfile").instructions
        copies = [i for i in instructions if i.keyword == "COPY" and i.from_context]
        assert copies and copies[0].sources == ("requirements.txt",), name
