"""Host side of the copy tools: what may leave the host (copy in) and what may land on it (copy out).

Copy in: the source must be under an allowed bind root (`check_bind_source`); a directory is packed
without following any symlink (links are sent as links, so nothing outside the root is read), and
only regular files, directories and symlinks are sent.

Copy out: the destination must be an existing directory under an allowed root. The container's tar
is unpacked into a fresh staging directory inside the destination, member by member, refusing
absolute names, `..`, hard links, devices, pipes, symlinks that point outside the destination and
any write through a symlink; the total size is bounded. Only when the whole archive passed are the
entries moved into place (never over an existing file unless overwrite=true); on any refusal the
staging directory is removed and nothing is left behind.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
import uuid
from dataclasses import dataclass, field
from typing import IO

from mcp_docker.config import Settings
from mcp_docker.safety.host_paths import check_bind_source, resolve, under
from mcp_docker.utils.errors import UnsafeOperation, ValidationError

_CHUNK = 1 << 16


def _refused(what: str) -> UnsafeOperation:
    return UnsafeOperation(f"Refused: {what}. Nothing was copied.")


@dataclass
class Packed:
    """A tar of a host path, on disk (never in memory), ready to be sent."""

    file: IO[bytes]
    files: int = 0
    bytes: int = 0
    dirs: int = 0
    links: int = 0
    skipped: list[str] = field(default_factory=list)


def pack_host_path(source: str, settings: Settings) -> Packed:
    """Tar `source` (file or directory) for PUT /archive; refuses before reading anything outside the roots."""
    check_bind_source(source, settings, how="copy of")
    real = resolve(source)
    if not os.path.lexists(real):
        raise ValidationError(f"The host path {source!r} does not exist.")
    limit = settings.max_copy_bytes
    packed = Packed(file=tempfile.TemporaryFile())  # noqa: SIM115 - returned to the caller, who closes it
    roots = settings.allowed_bind_roots
    try:
        with tarfile.open(fileobj=packed.file, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            base = posixpath.basename(real.rstrip("/")) or "root"
            for path, arcname in _walk(real, base):
                if path != real and not under(resolve(os.path.dirname(path)), roots):
                    raise _refused(f"{path!r} is no longer under an allowed root")  # a directory swapped for a link
                info = os.lstat(path)
                if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode) or stat.S_ISLNK(info.st_mode)):
                    packed.skipped.append(arcname)
                    continue
                member = tar.gettarinfo(path, arcname)
                member.uid = member.gid = 0
                member.uname = member.gname = ""
                if member.isreg():
                    packed.files += 1
                    packed.bytes += member.size
                    if packed.bytes > limit:
                        raise _refused(f"{source!r} is larger than MCP_DOCKER_MAX_COPY_BYTES ({limit} bytes)")
                    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
                    with os.fdopen(fd, "rb") as fh:
                        tar.addfile(member, fh)
                else:
                    packed.dirs += member.isdir()
                    packed.links += member.issym()
                    tar.addfile(member)
        packed.file.seek(0)
    except BaseException:
        packed.file.close()
        raise
    return packed


def _walk(real: str, base: str) -> list[tuple[str, str]]:
    """(host path, archive name) of `real` and, for a directory, everything below it; links not followed."""
    out = [(real, base)]
    if os.path.islink(real) or not os.path.isdir(real):
        return out
    for dirpath, dirnames, filenames in os.walk(real, followlinks=False):
        dirnames.sort()
        rel = os.path.relpath(dirpath, real)
        prefix = base if rel == "." else posixpath.join(base, rel)
        for name in sorted(dirnames + filenames):
            out.append((os.path.join(dirpath, name), posixpath.join(prefix, name)))
    return out


def check_destination(destination: str, settings: Settings) -> str:
    """The host directory a copy-out writes into: under an allowed root, existing, a directory."""
    check_bind_source(destination, settings, how="copy into")
    real = resolve(destination)
    if not os.path.isdir(real):
        raise ValidationError(f"The host destination {destination!r} is not an existing directory.")
    return real


@dataclass
class Unpacked:
    files: int = 0
    dirs: int = 0
    links: int = 0
    bytes: int = 0
    written: list[str] = field(default_factory=list)


def _member_name(name: str) -> str:
    """A member's path relative to the destination; absolute names and '..' are refused."""
    if name.startswith("/") or "\\" in name or "\x00" in name:
        raise _refused(f"the archive member {name!r} has an absolute or odd path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise _refused(f"the archive member {name!r} would land outside the destination")
    return "/".join(parts)


def _inside(dest: str, rel: str) -> bool:
    full = posixpath.normpath(posixpath.join(dest, rel))
    return full == dest or full.startswith(dest.rstrip("/") + "/")


def _real_parent(root: str, rel: str) -> str:
    """The directory `rel` goes into under `root`, every component a real directory (never a symlink)."""
    path = root
    for part in rel.split("/")[:-1]:
        path = os.path.join(path, part)
        info = os.lstat(path) if os.path.lexists(path) else None
        if info is None:
            os.mkdir(path, 0o755)
        elif not stat.S_ISDIR(info.st_mode):
            raise _refused(f"the archive writes {rel!r} through {part!r}, which is not a directory (a link?)")
    return path


def unpack_into(stream: IO[bytes], dest: str, settings: Settings, overwrite: bool) -> Unpacked:
    """Unpack a container's tar stream into `dest` (checked with `check_destination`), all or nothing."""
    limit = settings.max_copy_bytes
    staging = os.path.join(dest, f".mcp-docker-copy-{uuid.uuid4().hex[:12]}")
    os.mkdir(staging, 0o700)
    done = Unpacked()
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                rel = _member_name(member.name)
                parent = _real_parent(staging, rel)
                target = os.path.join(parent, rel.rsplit("/", 1)[-1])
                if member.isdir():
                    if not os.path.lexists(target):
                        os.mkdir(target, 0o755)
                    elif not os.path.isdir(target) or os.path.islink(target):
                        raise _refused(f"the archive member {rel!r} replaces a non-directory")
                    done.dirs += 1
                elif member.isreg():
                    done.bytes += member.size
                    if done.bytes > limit:
                        raise _refused(f"the copy is larger than MCP_DOCKER_MAX_COPY_BYTES ({limit} bytes)")
                    source = tar.extractfile(member)
                    assert source is not None
                    try:
                        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                    except FileExistsError:
                        raise _refused(f"the archive has {rel!r} twice (or over a link)") from None
                    with os.fdopen(fd, "wb") as out:
                        shutil.copyfileobj(source, out, _CHUNK)
                    os.chmod(target, member.mode & 0o777)
                    done.files += 1
                elif member.issym():
                    link = member.linkname
                    where = posixpath.dirname(rel)
                    if link.startswith("/") or not _inside("/d", posixpath.join(where, link)):
                        raise _refused(f"the archive member {rel!r} is a symlink to {link!r}, outside the destination")
                    try:
                        os.symlink(link, target)
                    except FileExistsError:
                        raise _refused(f"the archive has {rel!r} twice") from None
                    done.links += 1
                elif member.islnk():
                    raise _refused(f"the archive member {rel!r} is a hard link")
                else:
                    raise _refused(f"the archive member {rel!r} is a device, pipe or other special file")
                if not member.issym():
                    os.utime(target, (member.mtime, member.mtime), follow_symlinks=False)
        _move_into_place(staging, dest, overwrite, done)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return done


def _move_into_place(staging: str, dest: str, overwrite: bool, done: Unpacked) -> None:
    """Check every entry against what exists, then move them; nothing moves if one would be refused."""
    moves: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(staging, followlinks=False):
        rel_dir = os.path.relpath(dirpath, staging)
        for name in sorted(dirnames + filenames):
            src = os.path.join(dirpath, name)
            rel = name if rel_dir == "." else os.path.join(rel_dir, name)
            final = os.path.join(dest, rel)
            here = os.lstat(src)
            there = os.lstat(final) if os.path.lexists(final) else None
            if stat.S_ISDIR(here.st_mode) and not os.path.islink(src):
                if there is None:
                    moves.append((src, final))
                    dirnames.remove(name)  # moved whole: do not descend
                elif not stat.S_ISDIR(there.st_mode):
                    raise _refused(f"{final!r} exists and is not a directory")
                continue
            if there is not None:
                if stat.S_ISDIR(there.st_mode):
                    raise _refused(f"{final!r} exists and is a directory")
                if not overwrite:
                    raise _refused(f"{final!r} exists (pass overwrite=true to replace it)")
            moves.append((src, final))
    for src, final in moves:
        os.replace(src, final)
        done.written.append(final)
