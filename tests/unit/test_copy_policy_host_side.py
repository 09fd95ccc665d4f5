"""The host side of the copy tools on a real file system (tmp_path): packing a host path (missing
paths, special files, the size bound, a directory swapped for a link while packing) and unpacking into
a destination that already holds files and directories (merge, overwrite, refusals, all or nothing).

tests/unit/test_copy_policy.py attacks the unpacking with hostile archives; tests/integration/test_files.py
runs both directions through the copy tools on the engine."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from mcp_docker.config import Settings
from mcp_docker.safety import copy_policy
from mcp_docker.safety.copy_policy import check_destination, pack_host_path, unpack_into
from mcp_docker.utils.errors import UnsafeOperation, ValidationError
from tests.unit.test_copy_policy import _tar


def _names(packed: copy_policy.Packed) -> dict[str, bytes | None]:
    with tarfile.open(fileobj=packed.file, mode="r|") as tar:
        out: dict[str, bytes | None] = {}
        for member in tar:
            data = tar.extractfile(member) if member.isreg() else None
            out[member.name] = data.read() if data is not None else None
        return out


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): ("dir" if p.is_dir() and not p.is_symlink() else p.read_text())
        for p in sorted(root.rglob("*"))
    }


# -- packing (copy in) --------------------------------------------------------------------------------


def test_a_missing_host_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist") as caught:
        pack_host_path(str(tmp_path / "nope"), Settings(allowed_bind_roots=[str(tmp_path)]))
    assert str(tmp_path / "nope") in caught.value.message


def test_special_files_are_skipped_and_named(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.txt").write_text("a")
    os.mkfifo(src / "sub" / "pipe")
    packed = pack_host_path(str(src), Settings(allowed_bind_roots=[str(tmp_path)]))
    try:
        assert packed.skipped == ["src/sub/pipe"]
        assert (packed.files, packed.bytes) == (1, 1)
        assert _names(packed) == {"src": None, "src/sub": None, "src/sub/a.txt": b"a"}
    finally:
        packed.file.close()


def test_packing_stops_at_the_size_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("a", "b", "c"):
        (src / name).write_bytes(b"x" * 600)
    closed: list[bool] = []
    real_temp = copy_policy.tempfile.TemporaryFile

    def tracked() -> object:
        handle = real_temp()
        real_close = handle.close

        def close() -> None:
            closed.append(True)
            real_close()

        handle.close = close  # type: ignore[method-assign]
        return handle

    monkeypatch.setattr(copy_policy.tempfile, "TemporaryFile", tracked)
    with pytest.raises(UnsafeOperation, match=r"larger than MCP_DOCKER_MAX_COPY_BYTES \(1024 bytes\)"):
        pack_host_path(str(src), Settings(allowed_bind_roots=[str(tmp_path)], max_copy_bytes=1024))
    assert closed == [True]  # the half-written temporary tar is closed (and so deleted)


def test_a_directory_swapped_for_a_link_while_packing_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: the tree is listed, then a directory in it is replaced by a link to outside the roots
    before its files are read. Each file's directory is resolved again at the moment it is read."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "src" / "sub").mkdir(parents=True)
    (root / "src" / "sub" / "f").write_text("mine")
    outside.mkdir()
    (outside / "f").write_text("secret")
    listed = copy_policy._walk

    def walk_then_swap(real: str, base: str) -> list[tuple[str, str]]:
        entries = listed(real, base)
        os.rename(root / "src" / "sub", root / "moved")
        (root / "src" / "sub").symlink_to(outside)
        return entries

    monkeypatch.setattr(copy_policy, "_walk", walk_then_swap)
    with pytest.raises(UnsafeOperation, match="is no longer under an allowed root"):
        pack_host_path(str(root / "src"), Settings(allowed_bind_roots=[str(root)]))


# -- unpacking (copy out) -----------------------------------------------------------------------------


def test_the_destination_must_be_an_existing_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    settings = Settings(allowed_bind_roots=[str(tmp_path)])
    for name in ("file", "missing"):
        with pytest.raises(ValidationError, match="is not an existing directory"):
            check_destination(str(tmp_path / name), settings)
    assert check_destination(str(tmp_path), settings) == str(tmp_path.resolve())


def test_members_without_their_directories_land_in_new_directories(tmp_path: Path) -> None:
    done = unpack_into(_tar(("a/b/c.txt", tarfile.REGTYPE, "", b"deep")), str(tmp_path), Settings(), False)
    assert _tree(tmp_path) == {"a": "dir", "a/b": "dir", "a/b/c.txt": "deep"}
    assert (done.files, done.dirs, done.written) == (1, 0, [str(tmp_path / "a")])


def test_unpacking_merges_into_existing_directories(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "old.txt").write_text("old")
    archive = _tar(("sub", tarfile.DIRTYPE, "", None), ("sub/new.txt", tarfile.REGTYPE, "", b"new"))
    done = unpack_into(archive, str(tmp_path), Settings(), False)
    assert _tree(tmp_path) == {"sub": "dir", "sub/new.txt": "new", "sub/old.txt": "old"}
    assert done.written == [str(tmp_path / "sub" / "new.txt")]


def test_an_existing_file_is_replaced_only_with_overwrite(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")

    def archive() -> io.BytesIO:
        return _tar(("a.txt", tarfile.REGTYPE, "", b"A"), ("keep.txt", tarfile.REGTYPE, "", b"theirs"))

    with pytest.raises(UnsafeOperation, match=r"exists \(pass overwrite=true to replace it\)"):
        unpack_into(archive(), str(tmp_path), Settings(), False)
    assert _tree(tmp_path) == {"keep.txt": "mine"}  # nothing moved, not even a.txt
    unpack_into(archive(), str(tmp_path), Settings(), True)
    assert _tree(tmp_path) == {"a.txt": "A", "keep.txt": "theirs"}


def test_a_file_never_replaces_an_existing_directory(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x").write_text("x")
    with pytest.raises(UnsafeOperation, match="exists and is a directory"):
        unpack_into(_tar(("data", tarfile.REGTYPE, "", b"flat")), str(tmp_path), Settings(), True)
    assert _tree(tmp_path) == {"data": "dir", "data/x": "x"}


def test_a_directory_member_never_replaces_a_file_or_link_of_the_same_archive(tmp_path: Path) -> None:
    cases = [
        [("x", tarfile.REGTYPE, "", b"f"), ("x", tarfile.DIRTYPE, "", None)],
        [("x", tarfile.SYMTYPE, "y", None), ("x", tarfile.DIRTYPE, "", None)],
    ]
    for members in cases:
        with pytest.raises(UnsafeOperation, match="replaces a non-directory"):
            unpack_into(_tar(*members), str(tmp_path), Settings(), True)
        assert list(tmp_path.iterdir()) == []


def test_a_symlink_given_twice_is_refused(tmp_path: Path) -> None:
    archive = _tar(("l", tarfile.SYMTYPE, "a", None), ("l", tarfile.SYMTYPE, "b", None))
    with pytest.raises(UnsafeOperation, match="the archive has 'l' twice"):
        unpack_into(archive, str(tmp_path), Settings(), True)
    assert list(tmp_path.iterdir()) == []


def test_a_repeated_directory_member_is_fine(tmp_path: Path) -> None:
    archive = _tar(
        ("d", tarfile.DIRTYPE, "", None), ("d", tarfile.DIRTYPE, "", None), ("d/f", tarfile.REGTYPE, "", b"1")
    )
    done = unpack_into(archive, str(tmp_path), Settings(), False)
    assert _tree(tmp_path) == {"d": "dir", "d/f": "1"}
    assert done.dirs == 2
