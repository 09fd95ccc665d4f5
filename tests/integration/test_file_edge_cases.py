"""The file tools on the edges a real container has: hard links and pipes listed for what they are, link
loops and devices refused for reading, binary files told apart from text (a tar, bytes that are not
UTF-8, a character cut at the end of the sample), reading past the end, and copying into a file or into a
directory removed meanwhile."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from mcp_docker.config import Settings
from mcp_docker.docker.archive import PathNotFound, container_id, put_archive
from tests.conftest import allow_settings, error_text, structured

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    root = tmp_path / "root"
    root.mkdir()
    (root / "hello.txt").write_text("hi\n")
    return allow_settings(allowed_bind_roots=[str(root)], max_output_bytes=1024)


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _sh(container: Any, script: str) -> None:
    result = container.exec_run(["sh", "-c", script])
    assert result.exit_code == 0, result.output


async def test_hard_links_and_pipes_are_listed_for_what_they_are(
    client: Client, run_container: Callable[..., Any]
) -> None:
    c = run_container()
    _sh(c, "mkdir /tmp/d && echo hi > /tmp/d/a && ln /tmp/d/a /tmp/d/b && mkfifo /tmp/d/p && chmod 600 /tmp/d/p")
    data = structured(await client.call_tool("docker_list_files", {"container": c.name, "path": "/tmp/d"}))
    kinds = {e["name"]: e for e in data["entries"]}
    assert set(kinds) == {"a", "b", "p"}
    # Two names of one file: the archive carries the second as a link to the first.
    first, second = sorted(("a", "b"), key=lambda n: kinds[n]["type"] != "file")
    assert kinds[first]["type"] == "file" and kinds[first]["size"] == 3
    assert kinds[second]["type"] == "hardlink" and kinds[second]["target"].endswith(f"d/{first}")
    assert kinds["p"]["type"] == "other" and kinds["p"]["mode"] == "-rw-------"


async def test_pipes_are_not_read_and_a_link_chain_is_followed(
    client: Client, run_container: Callable[..., Any]
) -> None:
    c = run_container()
    chain = " && ".join(f"ln -s /tmp/l{i + 1} /tmp/l{i}" for i in range(1, 10))
    _sh(c, f"echo end > /tmp/l10 && {chain} && mkfifo /tmp/pipe && ln -s /tmp/pipe /tmp/pipe-link")
    data = structured(await client.call_tool("docker_read_file", {"container": c.name, "path": "/tmp/l1"}))
    assert data["text"] == "end\n" and data["path"] == "/tmp/l1"  # nine links, like cat
    for path in ("/tmp/pipe", "/tmp/pipe-link"):
        text = error_text(await client.call_tool("docker_read_file", {"container": c.name, "path": path}))
        assert f"{path!r} in {c.name!r} is not a regular file (a device, pipe or link loop)" in text, text


async def test_paths_the_engine_cannot_resolve_or_see_are_told_apart(
    client: Client, run_container: Callable[..., Any], settings: Settings
) -> None:
    """A link loop, a link through itself and a '/' after a file name get the engine's reason, not a bare
    500 that says the call may be retried; /proc and /dev (mounted inside the container, unseen by the
    archive API) and a link to them say to use exec; nothing is copied out of any of them."""
    c = run_container()
    _sh(c, "cd /tmp && ln -s l2 l1 && ln -s l1 l2 && ln -s self/x self && echo hi > f && ln -s /dev/null nl")
    dest = Path(settings.allowed_bind_roots[0]) / "out"
    dest.mkdir()
    calls = {
        "docker_read_file": lambda p: {"container": c.name, "path": p},
        "docker_list_files": lambda p: {"container": c.name, "path": p},
        "docker_copy_from_container": lambda p: {"container": c.name, "source": p, "destination": str(dest)},
    }
    for tool, args in calls.items():
        for path, reason in (("/tmp/l1", "too many"), ("/tmp/self/x", "too many"), ("/tmp/f/", "")):
            text = error_text(await client.call_tool(tool, args(path)))
            assert f"The engine could not resolve {path!r} in container {c.name!r}" in text, (tool, text)
            assert reason in text and "retrying will not help" in text and "may be retried" not in text, text
            assert "/merged/" not in text, text  # the engine's host path of the container's files is cut
        for path in ("/proc/1/status", "/dev/null"):
            text = error_text(await client.call_tool(tool, args(path)))
            assert f"No such path {path!r}" in text and "docker_exec_command" in text, (tool, text)
    text = error_text(await client.call_tool("docker_read_file", {"container": c.name, "path": "/tmp/nl"}))
    assert "'/tmp/nl' in container" in text and "is a symbolic link to '/dev/null', which does not exist" in text
    assert "docker_exec_command" in text, text
    assert list(dest.iterdir()) == []


async def test_binary_files_are_described_not_dumped(client: Client, run_container: Callable[..., Any]) -> None:
    c = run_container()
    cut_char = b"x" * 8191 + "é".encode() + b" and on\n"  # the sample (8192 bytes) ends inside the 'é'
    assert c.put_archive(
        "/tmp",
        _tar(
            {
                "bundle.tar": _tar({"inner.txt": b"text inside\n"}),
                "noise.bin": b"\x01\x02\x00\x03" * 64,
                "latin1.txt": "café au lait, crème brûlée\n".encode("latin-1"),
                "cut.txt": cut_char,
            }
        ),
    )
    kinds = {}
    for name in ("bundle.tar", "noise.bin", "latin1.txt"):
        data = structured(await client.call_tool("docker_read_file", {"container": c.name, "path": f"/tmp/{name}"}))
        assert data["binary"] is True and data["text"] == "" and data["bytes_read"] == 0
        kinds[name] = data["kind"]
    assert kinds == {"bundle.tar": "tar archive", "noise.bin": "binary data", "latin1.txt": "binary data"}

    # A multi-byte character cut by the sample's end is still text.
    data = structured(
        await client.call_tool("docker_read_file", {"container": c.name, "path": "/tmp/cut.txt", "offset": 8190})
    )
    assert data["binary"] is False and data["text"] == "xé and on\n" and data["size"] == len(cut_char)


async def test_reading_past_the_end_returns_nothing_more(client: Client, run_container: Callable[..., Any]) -> None:
    c = run_container()
    body = b"".join(b"row %05d\n" % i for i in range(2000))  # 20000 bytes, past the 8192-byte sample
    assert c.put_archive("/tmp", _tar({"rows.txt": body}))
    data = structured(
        await client.call_tool("docker_read_file", {"container": c.name, "path": "/tmp/rows.txt", "offset": 50_000})
    )
    assert (data["text"], data["bytes_read"], data["truncated"], data["next_offset"]) == ("", 0, False, None)
    assert data["size"] == 20000
    data = structured(
        await client.call_tool("docker_read_file", {"container": c.name, "path": "/tmp/rows.txt", "offset": 19990})
    )
    assert data["text"] == "row 01999\n" and data["truncated"] is False


async def test_copying_into_a_file_or_a_vanished_directory_is_refused(
    client: Client, run_container: Callable[..., Any], settings: Settings, docker_client: Any
) -> None:
    c = run_container()
    source = f"{settings.allowed_bind_roots[0]}/hello.txt"
    text = error_text(
        await client.call_tool(
            "docker_copy_to_container", {"container": c.name, "source": source, "destination": "/etc/passwd"}
        )
    )
    assert "The destination '/etc/passwd'" in text and "is not a directory" in text, text
    text = error_text(
        await client.call_tool(
            "docker_copy_to_container", {"container": c.name, "source": source, "destination": "/etc/passwd/"}
        )
    )
    assert "is not a directory" in text, text  # a trailing '/' too
    # A link to a directory is a directory to copy into; a link to a file is not.
    c.exec_run(["sh", "-c", "mkdir -p /tmp/into && ln -s /tmp/into /tmp/dirlink && ln -s /etc/passwd /tmp/filelink"])
    linked = await client.call_tool(
        "docker_copy_to_container", {"container": c.name, "source": source, "destination": "/tmp/dirlink"}
    )
    assert not linked.is_error, error_text(linked)
    assert c.exec_run(["cat", "/tmp/into/hello.txt"]).exit_code == 0
    text = error_text(
        await client.call_tool(
            "docker_copy_to_container", {"container": c.name, "source": source, "destination": "/tmp/filelink"}
        )
    )
    assert "is not a directory" in text, text
    assert c.exec_run(["cat", "/etc/passwd"]).output.startswith(b"root:")

    # The directory checked, then removed before the archive arrives: the put says which path is missing.
    cid, _ = container_id(docker_client.api, c.name)
    with pytest.raises(PathNotFound) as caught:
        put_archive(docker_client.api, cid, "/tmp/gone", io.BytesIO(_tar({"x": b"x"})), c.name)
    assert f"No such path '/tmp/gone' in container {c.name!r}" in caught.value.message
    assert "docker_list_files" in caught.value.hint
    assert b"gone" not in c.exec_run(["ls", "/tmp"]).output
