"""Output models of the file tools (list, read, copy in, copy out)."""

import stat
import tarfile
from datetime import UTC, datetime
from typing import Literal

from pydantic import Field

from mcp_docker.utils.output import Model, clean_text


class FileEntry(Model):
    name: str
    type: Literal["file", "dir", "symlink", "hardlink", "other"]
    size: int
    mode: str = Field(description="Permissions like ls -l shows them, e.g. -rw-r--r--.")
    mtime: str
    target: str | None = Field(None, description="Where a symlink (or hard link) points.")

    @classmethod
    def from_member(cls, name: str, member: tarfile.TarInfo) -> "FileEntry":
        kind: Literal["file", "dir", "symlink", "hardlink", "other"]
        if member.isreg():
            kind = "file"
        elif member.isdir():
            kind = "dir"
        elif member.issym():
            kind = "symlink"
        elif member.islnk():
            kind = "hardlink"
        else:
            kind = "other"
        type_bit = {"dir": stat.S_IFDIR, "symlink": stat.S_IFLNK}.get(kind, stat.S_IFREG)
        return cls(
            name=clean_text(name),
            type=kind,
            size=member.size,
            mode=stat.filemode(type_bit | (member.mode & 0o7777)),
            mtime=datetime.fromtimestamp(member.mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            target=clean_text(member.linkname) if member.linkname else None,
        )


class FileList(Model):
    container: str
    path: str
    entries: list[FileEntry]
    truncated: bool = Field(description="True when reading stopped at `limit` (more entries may exist).")
    note: str | None = None


class FileContent(Model):
    container: str
    path: str
    size: int = Field(description="The file's size in bytes.")
    offset: int
    bytes_read: int
    binary: bool = Field(description="True for a binary file: described, its bytes not returned.")
    kind: str | None = Field(None, description="What a binary file looks like (ELF executable, gzip...).")
    text: str = ""
    truncated: bool = Field(description="True when the file goes on past what was returned.")
    next_offset: int | None = Field(None, description="Offset to pass to read on.")


class CopyResult(Model):
    container: str
    source: str
    destination: str
    files: int
    bytes: int
    directories: int = 0
    links: int = 0
    skipped: list[str] = Field(default_factory=list, description="Special files (devices, pipes) not copied.")
