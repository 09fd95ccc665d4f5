"""Which files a Compose project reads (tools/compose_project.py), found on a real file system before any
CLI runs: includes, extends, env files and `.env`, each checked against the allowed roots; every refusal
says what to change. No engine is needed: nothing here reaches Docker."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_docker.config import Settings
from mcp_docker.tools import compose_project
from mcp_docker.tools.compose_project import default_name, locate, parse_env_file
from mcp_docker.utils.errors import UnsafeOperation, ValidationError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The allowed root: the project lives under `root/app`; `tmp_path/outside` is outside every root."""
    (tmp_path / "root" / "app").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    return (tmp_path / "root").resolve()


@pytest.fixture
def settings(root: Path) -> Settings:
    return Settings(allowed_bind_roots=[str(root)])


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


MAIN = """\
include:
  - path: [inc/a.yml]
    env_file: inc/a.env
    project_directory: inc
  - inc/b.yml
services:
  web:
    image: x
    extends:
      file: base.yml
      service: base
    env_file:
      - path: web.env
        required: false
    label_file: web.labels
  plain: just-a-string
"""


def test_includes_extends_and_env_files_under_the_root_are_all_read(root: Path, settings: Settings) -> None:
    app = root / "app"
    _write(app / "compose.yaml", MAIN)
    _write(app / "inc" / "a.yml", "services:\n  a:\n    image: x\n")
    _write(app / "inc" / "a.env", "A=1\n")
    _write(app / "inc" / "b.yml", "")  # an empty file: YAML null, nothing more to read
    _write(app / "base.yml", "include:\n  - inc/a.yml\nservices:\n  base:\n    image: x\n")  # a.yml again
    _write(app / "web.env", "W=1\n")
    _write(app / "web.labels", "l=1\n")
    project = locate(str(app), None, settings)
    assert project.files == [app / "compose.yaml"]
    # each file read once, in the order Compose would reach them (a.yml named twice is read once)
    assert project.read == [app / "compose.yaml", app / "inc" / "a.yml", app / "inc" / "b.yml", app / "base.yml"]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("include:\n  - path: inc.yml\n    env_file: {out}/secret\n", "include env file"),
        ("include:\n  - path: inc.yml\n    project_directory: {out}\n", "include project directory"),
        ("services:\n  web:\n    image: x\n    extends:\n      file: {out}/base.yml\n", "service 'web' extends file"),
        ("services:\n  web:\n    image: x\n    env_file:\n      - path: {out}/secret\n", "service 'web' env_file"),
    ],
)
def test_a_file_named_outside_the_roots_is_refused(
    root: Path, settings: Settings, tmp_path: Path, text: str, named: str
) -> None:
    outside = tmp_path / "outside"
    _write(outside / "secret", "TOP=secret\n")
    _write(root / "app" / "inc.yml", "")
    _write(root / "app" / "compose.yaml", text.format(out=outside))
    with pytest.raises(UnsafeOperation) as caught:
        locate(str(root / "app"), None, settings)
    assert named in caught.value.message and "outside the allowed roots" in caught.value.message
    assert "MCP_DOCKER_ALLOWED_BIND_ROOTS" in caught.value.hint


def test_a_symlink_out_of_the_root_names_where_it_resolves(root: Path, settings: Settings, tmp_path: Path) -> None:
    outside = _write(tmp_path / "outside" / "real.yml", "services: {}\n")
    (root / "app" / "compose.yaml").symlink_to(outside)
    with pytest.raises(UnsafeOperation) as caught:
        locate(str(root / "app"), None, settings)
    assert f"resolves to {outside.resolve()}" in caught.value.message


def test_a_path_with_a_variable_is_refused_before_compose_expands_it(root: Path, settings: Settings) -> None:
    _write(root / "app" / "compose.yaml", "services:\n  web:\n    image: x\n    env_file: ${HOME}/.env\n")
    with pytest.raises(UnsafeOperation) as caught:
        locate(str(root / "app"), None, settings)
    assert "uses a variable" in caught.value.message and "Write the path out" in caught.value.hint


def test_a_file_that_is_not_a_mapping_is_refused(root: Path, settings: Settings) -> None:
    _write(root / "app" / "compose.yaml", "- just\n- a list\n")
    with pytest.raises(ValidationError, match="is not a mapping of top-level keys"):
        locate(str(root / "app"), None, settings)


def test_invalid_yaml_names_line_and_column_but_never_quotes_the_file(root: Path, settings: Settings) -> None:
    _write(root / "app" / "compose.yaml", "services:\n  web: [unclosed SECRET-TEXT\n")
    with pytest.raises(ValidationError) as caught:
        locate(str(root / "app"), None, settings)
    assert "is not valid YAML (line" in caught.value.message and "column" in caught.value.message
    assert "SECRET-TEXT" not in caught.value.message + caught.value.hint


def test_a_file_too_large_is_refused(root: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compose_project, "MAX_FILE_BYTES", 64)
    _write(root / "app" / "compose.yaml", "services:\n" + "".join(f"  s{i}:\n    image: x\n" for i in range(10)))
    with pytest.raises(ValidationError, match="is larger than 64 bytes"):
        locate(str(root / "app"), None, settings)


def test_a_chain_of_includes_longer_than_the_bound_is_refused(
    root: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compose_project, "MAX_FILES", 3)
    app = root / "app"
    for i in range(5):
        _write(app / f"f{i}.yml", f"include:\n  - f{i + 1}.yml\n")
    _write(app / "f5.yml", "services: {}\n")
    with pytest.raises(ValidationError, match="reads more than 3 files"):
        locate(None, [str(app / "f0.yml")], settings)


def test_files_given_without_project_dir_take_the_first_files_directory(root: Path, settings: Settings) -> None:
    app = root / "app"
    first = _write(app / "one.yml", "services: {}\n")
    second = _write(app / "sub" / "two.yml", "services: {}\n")
    project = locate(None, [str(first), str(second)], settings)
    assert project.directory == app and project.files == [first, second]


def test_the_override_file_is_named_explicitly(root: Path, settings: Settings) -> None:
    app = root / "app"
    _write(app / "docker-compose.yml", "services: {}\n")
    _write(app / "docker-compose.override.yml", "services: {}\n")
    project = locate(str(app), None, settings)
    assert project.files == [app / "docker-compose.yml", app / "docker-compose.override.yml"]


@pytest.mark.parametrize(
    ("project_dir", "files", "message"),
    [
        (None, None, "Give project_dir"),
        ("relative/dir", None, "must be an absolute path"),
        (None, ["compose.yaml"], "is relative: give project_dir"),
    ],
)
def test_bad_locations_say_what_to_give(
    settings: Settings, project_dir: str | None, files: list[str] | None, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        locate(project_dir, files, settings)


def test_a_missing_compose_file_is_named(root: Path, settings: Settings) -> None:
    with pytest.raises(ValidationError, match="does not exist on the server's machine"):
        locate(str(root / "app"), ["nope.yml"], settings)


def test_dotenv_that_would_choose_the_engine_or_files_is_refused(root: Path, settings: Settings) -> None:
    app = root / "app"
    _write(app / "compose.yaml", "services: {}\n")
    _write(app / ".env", "DOCKER_HOST=tcp://evil:2375\nCOMPOSE_FILE=/etc/x.yml\nOK=1\n")
    with pytest.raises(UnsafeOperation) as caught:
        locate(str(app), None, settings)
    assert "COMPOSE_FILE, DOCKER_HOST" in caught.value.message and "Remove those variables" in caught.value.hint


def test_env_file_parsing_and_the_default_name(root: Path, settings: Settings) -> None:
    app = root / "My.App"
    _write(app / "compose.yaml", "services: {}\n")
    env = _write(
        app / ".env",
        '# a comment\n\nexport QUOTED="a b"\nSINGLE=\'x\'\nPLAIN = v \nnot a pair\n1BAD=x\nlone="\n',
    )
    assert parse_env_file(env) == {"QUOTED": "a b", "SINGLE": "x", "PLAIN": "v", "lone": '"'}
    project = locate(str(app), None, settings)
    assert default_name(project) == "myapp"  # the directory's name, lowercased, '.' dropped
    _write(app / ".env", "COMPOSE_PROJECT_NAME=Chosen_Name\n")
    assert default_name(locate(str(app), None, settings)) == "chosen_name"


def test_a_directory_that_is_missing_or_has_no_compose_file_is_named(root: Path, settings: Settings) -> None:
    with pytest.raises(ValidationError, match="is not a directory on the server's machine"):
        locate(str(root / "nope"), None, settings)
    with pytest.raises(ValidationError) as caught:
        locate(str(root / "app"), None, settings)
    assert "No compose file in" in caught.value.message and "pass files=[...]" in caught.value.message
