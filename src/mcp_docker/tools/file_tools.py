"""File tools: list and read files in a container, copy files in and out (the engine's archive API:
stopped containers and images without a shell work too; host paths follow the bind-root policy)."""

import posixpath
import tarfile
from typing import Annotated

from pydantic import Field

from mcp_docker.docker.archive import PathNotFound, PathStat, container_id, head_stat, open_archive, put_archive
from mcp_docker.safety.copy_policy import check_destination, pack_host_path, unpack_into
from mcp_docker.safety.levels import Level
from mcp_docker.state import Ctx, engine, settings
from mcp_docker.tools.declare import docker_tool
from mcp_docker.tools.file_models import CopyResult, FileContent, FileEntry, FileList
from mcp_docker.tools.params import ContainerRef
from mcp_docker.utils import validation
from mcp_docker.utils.errors import MCPDockerError, ValidationError
from mcp_docker.utils.output import clean_text

PathInContainer = Annotated[str, Field(description="Absolute path in the container.", min_length=1)]
_SNIFF = 8192
_MAGIC = (
    (b"\x7fELF", "ELF executable or library"),
    (b"\x1f\x8b", "gzip data"),
    (b"PK\x03\x04", "zip archive"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"%PDF", "PDF document"),
    (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ", "xz data"),
    (b"\x28\xb5\x2f\xfd", "zstd data"),
    (b"SQLite format 3", "SQLite database"),
    (b"\xca\xfe\xba\xbe", "Java class or Mach-O"),
)


def _follow(api: object, cid: str, path: str, name: str) -> tuple[str, PathStat]:
    """`path` with a final symlink followed when it leads to a directory (a trailing '/' makes the engine
    follow it), and that path's stat. Asked with a trailing '/', the engine answers a file with a bare
    500, so the path's own stat comes first."""
    stat = head_stat(api, cid, path, name)
    if not stat.is_symlink or path == "/":
        return path, stat
    followed = path.rstrip("/") + "/"
    try:
        target = head_stat(api, cid, followed, name)
    except MCPDockerError:  # a link to a file, or dangling: the link itself
        return path, stat
    return (followed, target) if target.is_dir else (path, stat)


def _kind(head: bytes) -> str:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar archive"
    return "binary data"


def _is_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head) - 3  # a character cut at the end of the sample is fine
    return False


@docker_tool(Level.SAFE, "files", title="List files", subject="container")
def docker_list_files(
    ctx: Ctx,
    container: ContainerRef,
    path: PathInContainer = "/",
    limit: Annotated[int, Field(description="Most entries to return.", ge=1, le=1000)] = 200,
) -> FileList:
    """List a directory in a container (also stopped ones): name, type, size, mode, mtime, link target."""
    validation.container_path(path, "path")
    api = engine(ctx).api
    cid, name = container_id(api, container)
    target, _ = _follow(api, cid, path, container)
    entries: list[FileEntry] = []
    truncated = False
    with open_archive(api, cid, target, container) as (stat, body):
        tar = tarfile.open(fileobj=body, mode="r|")  # noqa: SIM115 - closed with the HTTP body
        top: str | None = None
        for member in tar:
            member_name = member.name.lstrip("/").removeprefix("./")
            if top is None:
                top = "" if member_name in ("", ".") else member_name
                if not stat.is_dir:
                    entries.append(FileEntry.from_member(posixpath.basename(path.rstrip("/")) or "/", member))
                    break
                continue
            rel = member_name[len(top) + 1 :] if top else member_name
            if not rel or "/" in rel.rstrip("/"):
                continue  # deeper than the directory's own entries
            if len(entries) >= limit:
                truncated = True
                break
            entries.append(FileEntry.from_member(rel.rstrip("/"), member))
    return FileList(
        container=name,
        path=path,
        entries=entries,
        truncated=truncated,
        note=f"Stopped at limit={limit}; more entries exist." if truncated else None,
    )


@docker_tool(Level.SAFE, "files", title="Read file", subject="container")
def docker_read_file(
    ctx: Ctx,
    container: ContainerRef,
    path: PathInContainer,
    offset: Annotated[int, Field(description="Byte offset to start at.", ge=0)] = 0,
    max_bytes: Annotated[
        int | None, Field(description="Most bytes to return (default and cap: the server's output bound).", ge=1)
    ] = None,
) -> FileContent:
    """Read a text file in a container (also stopped ones), bounded; binary files are described, not dumped."""
    validation.container_path(path, "path")
    bound = min(max_bytes or settings(ctx).max_output_bytes, settings(ctx).max_output_bytes)
    api = engine(ctx).api
    cid, name = container_id(api, container)
    target = path
    for _ in range(8):  # follow symlinks, like cat would
        try:
            stat = head_stat(api, cid, target, container)
        except PathNotFound as exc:
            if target == path:
                raise
            raise PathNotFound(
                f"{path!r} in container {container!r} is a symbolic link to {target!r}, which does not exist there.",
                exc.hint,
            ) from exc
        if not stat.is_symlink:
            break
        target = posixpath.normpath(posixpath.join(posixpath.dirname(target), stat.link_target))
    if stat.is_dir:
        raise ValidationError(f"{path!r} is a directory in {container!r}.", "List it with docker_list_files.")
    if not stat.is_file:
        raise ValidationError(f"{path!r} in {container!r} is not a regular file (a device, pipe or link loop).")
    with open_archive(api, cid, target, container) as (_, body):
        tar = tarfile.open(fileobj=body, mode="r|")  # noqa: SIM115 - closed with the HTTP body
        member = tar.next()
        data_file = tar.extractfile(member) if member is not None and member.isreg() else None
        if member is None or data_file is None:
            raise ValidationError(f"{path!r} in {container!r} is not a regular file.")
        size = member.size
        head = data_file.read(min(_SNIFF, size))
        if _is_binary(head):
            return FileContent(
                container=name,
                path=path,
                size=size,
                offset=offset,
                bytes_read=0,
                binary=True,
                kind=_kind(head),
                truncated=False,
            )
        skip = offset - len(head)
        while skip > 0:  # stream past the offset, never holding more than a chunk
            chunk = data_file.read(min(skip, 1 << 16))
            if not chunk:
                break
            skip -= len(chunk)
        data = head[offset : offset + bound] if offset < len(head) else b""
        if len(data) < bound:
            data += data_file.read(bound - len(data))
    end = min(offset, size) + len(data)
    truncated = end < size
    return FileContent(
        container=name,
        path=path,
        size=size,
        offset=offset,
        bytes_read=len(data),
        binary=False,
        text=clean_text(data.decode("utf-8", "replace")),
        truncated=truncated,
        next_offset=end if truncated else None,
    )


@docker_tool(Level.MODERATE, "files", title="Copy into container", subject="container")
def docker_copy_to_container(
    ctx: Ctx,
    container: ContainerRef,
    source: Annotated[str, Field(description="Host file or directory (under an allowed bind root).")],
    destination: Annotated[str, Field(description="Existing directory in the container to copy into.")],
) -> CopyResult:
    """Copy a host file or directory into a container directory. The host path must be under
    MCP_DOCKER_ALLOWED_BIND_ROOTS; symlinks are copied as links, never followed."""
    validation.container_path(destination, "destination")
    api = engine(ctx).api
    cid, name = container_id(api, container)
    _, stat = _follow(api, cid, destination.rstrip("/") or "/", container)  # a link to a directory is one
    if not stat.is_dir:
        raise ValidationError(f"The destination {destination!r} in {container!r} is not a directory.")
    packed = pack_host_path(source, settings(ctx))
    with packed.file:
        put_archive(api, cid, destination, packed.file, container)
    return CopyResult(
        container=name,
        source=source,
        destination=destination,
        files=packed.files,
        bytes=packed.bytes,
        directories=packed.dirs,
        links=packed.links,
        skipped=packed.skipped,
    )


@docker_tool(Level.MODERATE, "files", title="Copy from container", subject="container")
def docker_copy_from_container(
    ctx: Ctx,
    container: ContainerRef,
    source: PathInContainer,
    destination: Annotated[str, Field(description="Existing host directory (under an allowed bind root).")],
    overwrite: Annotated[bool, Field(description="Replace host files that already exist.")] = False,
) -> CopyResult:
    """Copy a file or directory out of a container into a host directory under MCP_DOCKER_ALLOWED_BIND_ROOTS.
    Unsafe archive members (absolute, '..', links out, devices) refuse the whole copy; size is bounded."""
    validation.container_path(source, "source")
    dest = check_destination(destination, settings(ctx))
    api = engine(ctx).api
    cid, name = container_id(api, container)
    with open_archive(api, cid, source, container) as (_, body):
        done = unpack_into(body, dest, settings(ctx), overwrite)
    return CopyResult(
        container=name,
        source=source,
        destination=destination,
        files=done.files,
        bytes=done.bytes,
        directories=done.dirs,
        links=done.links,
    )
