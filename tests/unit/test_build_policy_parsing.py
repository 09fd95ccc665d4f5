"""The Dockerfile policy's parsing at its edges: a Dockerfile over the size bound, files made only of
parser directives (and unknown directives), a continuation left open at the end of the file, ADD
arguments a shell could not split, and a JSON form that is not JSON. Each edge either refuses with a
message that says what to do, or reads the instructions as Docker would (so nothing hides behind it).

tests/unit/test_build_policy.py has the main attacks; tests/integration/test_build_safety.py runs them
through the build tool on the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_docker.config import Settings
from mcp_docker.safety.build_policy import MAX_DOCKERFILE_BYTES, check_build, check_dockerfile, parse
from mcp_docker.utils.errors import UnsafeOperation, ValidationError

DEFAULT = Settings()


def test_a_dockerfile_over_the_size_bound_is_refused_before_it_is_read(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM base\n" + "# padding\n" * (MAX_DOCKERFILE_BYTES // 10 + 1))
    with pytest.raises(ValidationError, match=rf"The Dockerfile 'Dockerfile' is over {MAX_DOCKERFILE_BYTES} bytes"):
        check_build(tmp_path, None, DEFAULT)
    (tmp_path / "Small").write_text("FROM base\n")
    assert check_build(tmp_path, "Small", DEFAULT) == (tmp_path / "Small").resolve()


def test_a_missing_dockerfile_names_the_argument_to_pass(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"No Dockerfile 'Nope' in .*Pass dockerfile= with its name"):
        check_build(tmp_path, "Nope", DEFAULT)


def test_a_file_of_directives_only_is_read_to_its_end() -> None:
    check_dockerfile("# syntax=docker/dockerfile:1\n# escape=`", DEFAULT)
    with pytest.raises(UnsafeOperation, match=r"'# syntax=evil/frontend' names a custom build frontend"):
        check_dockerfile("# escape=`\n# syntax=evil/frontend", DEFAULT)


def test_unknown_directives_are_skipped_and_the_next_ones_still_count() -> None:
    text = "# check=skip=all\n# syntax=evil/frontend\nFROM base\n"
    with pytest.raises(UnsafeOperation, match="custom build frontend"):
        check_dockerfile(text, DEFAULT)
    # the escape directive after an unknown one still changes how continuations join
    text = "# foo=bar\n# escape=`\nFROM base\nADD a.txt `\n  http://example.com/x /x\n"
    with pytest.raises(UnsafeOperation, match="ADD fetches URLs"):
        check_dockerfile(text, DEFAULT)


def test_a_continuation_open_at_the_end_of_the_file_is_still_an_instruction() -> None:
    text = "FROM base\nADD https://example.com/x \\\n  /x \\"
    assert [(i.line, i.keyword, i.args) for i in parse(text)] == [
        (1, "FROM", "base"),
        (2, "ADD", "https://example.com/x  /x"),
    ]
    with pytest.raises(UnsafeOperation, match=r"line 2: ADD https://example.com/x"):
        check_dockerfile(text, DEFAULT)


def test_add_words_a_shell_could_not_split_are_read_by_whitespace() -> None:
    with pytest.raises(UnsafeOperation, match="ADD fetches URLs") as caught:
        check_dockerfile('FROM base\nADD "unclosed https://example.com/x /x\n', DEFAULT)
    assert "COPY files from the context instead" in caught.value.message
    assert "MCP_DOCKER_ALLOW_BUILD_NETWORK=true" in caught.value.message
    check_dockerfile('FROM base\nADD "unclosed local.txt /x\n', DEFAULT)


def test_a_json_form_that_is_not_json_is_read_as_shell_words() -> None:
    """Docker reads a broken JSON form as the shell form: a bare URL among its words is fetched."""
    with pytest.raises(UnsafeOperation, match=r"ADD https://example.com/x, \(ADD fetches URLs"):
        check_dockerfile('FROM base\nADD ["a.txt", https://example.com/x, "/x"]\n', DEFAULT)
    with pytest.raises(UnsafeOperation, match="a variable source could be a URL"):
        check_dockerfile('FROM base\nADD ["a.txt", $SRC, "/x"\n', DEFAULT)
    # words that start with '[' or a quote are local file names to Docker too: nothing is fetched
    check_dockerfile('FROM base\nADD ["https://example.com/x", "/x"\n', DEFAULT)
    check_dockerfile('FROM base\nADD ["a.txt", "b.txt", "/x/"]\n', DEFAULT)
