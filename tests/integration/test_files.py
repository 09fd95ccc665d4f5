"""The file tools against the real engine: list, read, copy in and out; the host-path policy attacked."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from mcp import Client

from mcp_docker.config import Settings
from tests.conftest import TEST_LABELS, allow_settings, error_text, structured
from tests.engine import PREFIX, TEST_LABEL, TEST_LABEL_VALUE

pytestmark = [pytest.mark.anyio, pytest.mark.engine]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    r.mkdir()
    return r


@pytest.fixture
def settings(root: Path) -> Settings:
    return allow_settings(allowed_bind_roots=[str(root)], max_output_bytes=1024, max_copy_bytes=4 * 1024 * 1024)


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _entry(name: str, kind: bytes = tarfile.REGTYPE, data: bytes | None = None, link: str = "") -> Any:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.linkname = link
    return info, data


@pytest.fixture(scope="module")
def shell_less_image(docker_client: docker.DockerClient) -> str:
    """An image with one static file (busybox as /tool) and no shell at all."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    ref = f"{PREFIX}noshell:latest"
    data = _tar([(tarfile.TarInfo("tool"), Path(busybox).read_bytes())])
    docker_client.api.import_image_from_data(
        data,
        repository=ref.split(":")[0],
        tag="latest",
        changes=['CMD ["/tool"]', f"LABEL {TEST_LABEL}={TEST_LABEL_VALUE}"],
    )
    return ref


def _put(container: Any, path: str, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> None:
    assert container.put_archive(path, _tar(members))


async def test_list_running_stopped_and_shell_less(
    client: Client,
    run_container: Callable[..., Any],
    docker_client: docker.DockerClient,
    shell_less_image: str,
    unique: Callable[[str], str],
) -> None:
    running = run_container(["sh", "-c", "mkdir -p /data/sub; echo hi > /data/a.txt; ln -s a.txt /data/l; sleep 300"])
    time.sleep(0.5)
    data = structured(await client.call_tool("docker_list_files", {"container": running.name, "path": "/data"}))
    by_name = {e["name"]: e for e in data["entries"]}
    assert by_name["a.txt"]["type"] == "file" and by_name["a.txt"]["size"] == 3
    assert by_name["sub"]["type"] == "dir"
    assert by_name["l"]["type"] == "symlink" and by_name["l"]["target"] == "a.txt"
    assert by_name["a.txt"]["mode"] == "-rw-r--r--"

    running.stop(timeout=0)
    data = structured(await client.call_tool("docker_list_files", {"container": running.name, "path": "/data"}))
    assert {e["name"] for e in data["entries"]} == {"a.txt", "sub", "l"}

    bare = docker_client.containers.create(shell_less_image, name=unique("noshell"), labels=TEST_LABELS)
    data = structured(await client.call_tool("docker_list_files", {"container": bare.name, "path": "/"}))
    names = {e["name"] for e in data["entries"]}
    assert "tool" in names and "bin" not in names  # no shell in there: the listing came through the archive API

    # A symlink to a directory is followed; the limit stops reading and says so.
    data = structured(
        await client.call_tool("docker_list_files", {"container": running.name, "path": "/bin", "limit": 3})
    )
    assert len(data["entries"]) == 3 and data["truncated"] is True and "limit=3" in data["note"]


async def test_read_text_binary_large_missing_dir(client: Client, run_container: Callable[..., Any]) -> None:
    c = run_container()
    _put(
        c,
        "/tmp",
        [
            _entry("note.txt", data=b"hello \x1b[31mred\x1b[0m world\n"),
            _entry("big.txt", data=b"".join(b"line %05d\n" % i for i in range(1000))),
            _entry("blob.gz", data=b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4),
        ],
    )
    data = structured(await client.call_tool("docker_read_file", {"container": c.name, "path": "/tmp/note.txt"}))
    assert data["text"] == "hello red world\n" and data["binary"] is False and data["truncated"] is False

    data = structured(await client.call_tool("docker_read_file", {"container": c.name, "path": "/tmp/blob.gz"}))
    assert data["binary"] is True and data["kind"] == "gzip data" and data["size"] == 1028 and data["text"] == ""

    data = structured(await client.call_tool("docker_read_file", {"container": c.name, "path": "/tmp/big.txt"}))
    assert data["size"] == 11000 and data["bytes_read"] == 1024 and data["truncated"] is True
    assert data["text"].startswith("line 00000\n") and data["next_offset"] == 1024
    data = structured(
        await client.call_tool("docker_read_file", {"container": c.name, "path": "/tmp/big.txt", "offset": 10989})
    )
    assert data["text"] == "line 00999\n" and data["truncated"] is False

    text = error_text(await client.call_tool("docker_read_file", {"container": c.name, "path": "/tmp/nope"}))
    assert "No such path '/tmp/nope'" in text and "docker_list_files" in text
    text = error_text(await client.call_tool("docker_read_file", {"container": c.name, "path": "/tmp"}))
    assert "is a directory" in text
    text = error_text(await client.call_tool("docker_read_file", {"container": f"{PREFIX}nobody", "path": "/x"}))
    assert "No such container" in text


async def test_copy_in_and_out_bytes_match(client: Client, run_container: Callable[..., Any], root: Path) -> None:
    c = run_container()
    src = root / "in"
    (src / "deep").mkdir(parents=True)
    payload = os.urandom(200_000)
    (src / "deep" / "blob.bin").write_bytes(payload)
    (src / "hello.txt").write_text("hi\n")
    (src / "deep" / "to-hello").symlink_to("../hello.txt")
    data = structured(
        await client.call_tool(
            "docker_copy_to_container", {"container": c.name, "source": str(src), "destination": "/tmp"}
        )
    )
    # What was sent is what is counted: in/, in/deep/, two files and a link (reported as 0 and 0 before).
    assert data["files"] == 2 and data["bytes"] == 200_003
    assert data["directories"] == 2 and data["links"] == 1, data
    link = structured(
        await client.call_tool("docker_list_files", {"container": c.name, "path": "/tmp/in/deep/to-hello"})
    )
    assert (link["entries"][0]["type"], link["entries"][0]["target"]) == ("symlink", "../hello.txt")
    out = c.exec_run(["cat", "/tmp/in/deep/blob.bin"]).output
    assert out == payload
    # The root itself may be copied, and a single file too.
    structured(
        await client.call_tool(
            "docker_copy_to_container", {"container": c.name, "source": str(root), "destination": "/tmp"}
        )
    )
    assert c.exec_run(["cat", "/tmp/root/in/hello.txt"]).output == b"hi\n"
    structured(
        await client.call_tool(
            "docker_copy_to_container", {"container": c.name, "source": str(src / "hello.txt"), "destination": "/"}
        )
    )
    assert c.exec_run(["cat", "/hello.txt"]).output == b"hi\n"
    # A link to a file is listed as the link; read_file follows it.
    assert c.exec_run(["sh", "-c", "ln -s /hello.txt /tmp/hello-link"]).exit_code == 0
    data = structured(await client.call_tool("docker_list_files", {"container": c.name, "path": "/tmp/hello-link"}))
    assert data["entries"][0]["type"] == "symlink" and data["entries"][0]["target"] == "/hello.txt"
    data = structured(await client.call_tool("docker_read_file", {"container": c.name, "path": "/tmp/hello-link"}))
    assert data["text"] == "hi\n"

    dest = root / "out"
    dest.mkdir()
    data = structured(
        await client.call_tool(
            "docker_copy_from_container", {"container": c.name, "source": "/tmp/in", "destination": str(dest)}
        )
    )
    assert data["files"] == 2
    assert (dest / "in" / "deep" / "blob.bin").read_bytes() == payload
    assert not [p for p in dest.iterdir() if p.name.startswith(".mcp-docker-copy")]

    # Never over an existing file unless overwrite=true.
    (dest / "in" / "hello.txt").write_text("mine\n")
    text = error_text(
        await client.call_tool(
            "docker_copy_from_container", {"container": c.name, "source": "/tmp/in", "destination": str(dest)}
        )
    )
    assert "overwrite=true" in text
    assert (dest / "in" / "hello.txt").read_text() == "mine\n"
    structured(
        await client.call_tool(
            "docker_copy_from_container",
            {"container": c.name, "source": "/tmp/in/hello.txt", "destination": str(dest / "in"), "overwrite": True},
        )
    )
    assert (dest / "in" / "hello.txt").read_text() == "hi\n"


async def test_copy_in_refusals_copy_nothing(
    client: Client, run_container: Callable[..., Any], root: Path, tmp_path: Path
) -> None:
    c = run_container()
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "key").write_text("private\n")
    (root / "escape").symlink_to(outside)
    (root / "dir").mkdir()
    (root / "dir" / "ok.txt").write_text("ok\n")
    (root / "dir" / "out").symlink_to(outside / "key")
    for source in (str(outside), str(root / "escape"), f"{root}/../secret", "/etc/passwd"):
        text = error_text(
            await client.call_tool(
                "docker_copy_to_container", {"container": c.name, "source": source, "destination": "/tmp"}
            )
        )
        assert "Refused" in text and "MCP_DOCKER_ALLOWED_BIND_ROOTS" in text, text
    listing = c.exec_run(["ls", "/tmp"]).output.decode()
    assert "secret" not in listing and "key" not in listing and "passwd" not in listing
    # A link inside the copied directory that points out is sent as a link, never followed.
    structured(
        await client.call_tool(
            "docker_copy_to_container", {"container": c.name, "source": str(root / "dir"), "destination": "/tmp"}
        )
    )
    assert f"out -> {outside / 'key'}" in c.exec_run(["ls", "-l", "/tmp/dir"]).output.decode()
    assert b"private" not in c.exec_run(["cat", "/tmp/dir/out"]).output
    text = error_text(
        await client.call_tool(
            "docker_copy_to_container", {"container": c.name, "source": str(root / "dir"), "destination": "/nowhere"}
        )
    )
    assert "No such path '/nowhere' in container" in text  # the destination as given


HOSTILE = [
    ("abs-link", [_entry("root", tarfile.SYMTYPE, link="/")]),
    ("up-link", [_entry("ok.txt", data=b"fine\n"), _entry("up", tarfile.SYMTYPE, link="../../..")]),
]


@pytest.mark.parametrize(("case", "members"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_copy_out_refuses_links_out_of_a_real_container(
    client: Client,
    docker_client: docker.DockerClient,
    unique: Callable[[str], str],
    root: Path,
    tmp_path: Path,
    case: str,
    members: list[Any],
) -> None:
    """A real container whose files include links out of the copy (crafted archives the engine cannot hold,
    '../../x' or a file through a link, are refused by the same code: tests/unit/test_copy_policy.py)."""
    ref = f"{PREFIX}hostile-{case}:latest"
    evil = [_entry("evil", tarfile.DIRTYPE, None)]
    for info, data in members:
        info.name = "evil/" + info.name
        evil.append((info, data))
    docker_client.api.import_image_from_data(
        _tar(evil),
        repository=ref.split(":")[0],
        tag="latest",
        changes=[f"LABEL {TEST_LABEL}={TEST_LABEL_VALUE}", 'CMD ["/x"]'],
    )
    bad = docker_client.containers.create(ref, name=unique("hostile"), labels=TEST_LABELS)
    dest = root / "dest"
    dest.mkdir()
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    text = error_text(
        await client.call_tool(
            "docker_copy_from_container", {"container": bad.name, "source": "/evil", "destination": str(dest)}
        )
    )
    assert "Refused" in text and "outside the destination" in text
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before  # nothing written, staging removed


async def test_copy_out_destination_policy(
    client: Client, run_container: Callable[..., Any], root: Path, tmp_path: Path
) -> None:
    c = run_container()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    for dest in (str(outside), str(root / "link"), f"{root}/../elsewhere"):
        text = error_text(
            await client.call_tool(
                "docker_copy_from_container", {"container": c.name, "source": "/etc", "destination": dest}
            )
        )
        assert "Refused: copy into host path" in text, text  # it had read "copy to of host path"
    assert list(outside.iterdir()) == []
    text = error_text(
        await client.call_tool(
            "docker_copy_from_container", {"container": c.name, "source": "/nope", "destination": str(root)}
        )
    )
    assert "No such path '/nope'" in text
    assert [p.name for p in root.iterdir()] == ["link"]
