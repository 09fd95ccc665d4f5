"""The push policy's fallback when MCP_DOCKER_ALLOWED_REGISTRIES is unset: the Docker config file's
logged-in registries. A config file that cannot be read or is not an object allows no registry (a push
is refused, saying which setting or login would allow it), never any registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_docker.config import Settings
from mcp_docker.safety.registries import check_push, logged_in_registries
from mcp_docker.utils.errors import UnsafeOperation

BROKEN = {
    "not-json": "{ this is not json",
    "a-list": '["docker.io"]',
    "a-string": '"docker.io"',
    "not-utf8": b"\xff\xfe{}",
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_an_unreadable_docker_config_allows_no_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    content = BROKEN[case]
    config = tmp_path / "config.json"
    config.write_bytes(content if isinstance(content, bytes) else content.encode())
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert logged_in_registries() == set()
    with pytest.raises(UnsafeOperation) as caught:
        check_push("docker.io/team/app", Settings())
    message = caught.value.message
    assert "'docker.io', which is not allowed (allowed: none" in message
    assert "MCP_DOCKER_ALLOWED_REGISTRIES" in message and "docker login" in message
    assert "nothing was sent" in message


def test_a_config_directory_in_place_of_the_file_allows_no_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.json").mkdir()  # read_text raises IsADirectoryError (an OSError)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert logged_in_registries() == set()


def test_sections_of_the_wrong_type_and_blank_keys_are_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.json").write_text('{"auths": ["ghcr.io"], "credHelpers": {"quay.io": "x", " ": "y"}}')
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert logged_in_registries() == {"quay.io"}
    assert check_push("quay.io/o/app", Settings()) == "quay.io"
    with pytest.raises(UnsafeOperation, match=r"'ghcr\.io', which is not allowed \(allowed: quay\.io"):
        check_push("ghcr.io/o/app", Settings())
