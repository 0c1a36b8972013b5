"""Files in the sandbox's home: private from the moment they exist, replaced atomically.

The home holds a bearer token, a private key and the cluster's state, so it is 0700 and
its files 0600. Modes are given when a file is created (os.open), never applied after
the content is written: a chmod afterwards leaves a window in which others can read it.
"""
from __future__ import annotations

import os
from pathlib import Path

PRIVATE = 0o600


def ensure_home(home: Path) -> Path:
    """Create `home` (and missing parents) 0700; tighten a home an older version left 0755."""
    missing = []
    for part in [home, *home.parents]:
        if part.exists():
            break
        missing.append(part)
    for part in reversed(missing):
        try:
            os.mkdir(part, 0o700)
        except FileExistsError:       # another process made it meanwhile
            pass
    if not home.is_dir():
        raise NotADirectoryError(20, "not a directory", str(home))
    st = home.stat()
    if st.st_uid == os.getuid() and st.st_mode & 0o077:
        os.chmod(home, 0o700)
    return home


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in `path` survive a power loss."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes | str, *, durable: bool = False) -> None:
    """Replace `path` with `data` atomically (a reader sees the old or the new file), mode 0600.

    With `durable`, the data and the rename are on disk when this returns.
    """
    if isinstance(data, str):
        data = data.encode()
    tmp = _written_beside(path, data, durable)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def create_once(path: Path, data: bytes | str) -> bytes:
    """Write `data` to `path` unless it exists; return what the file holds.

    Two processes racing here agree on one content: the file appears whole (a link of a
    finished temporary file) or not at all.
    """
    if isinstance(data, str):
        data = data.encode()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    tmp = _written_beside(path, data, durable=True)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes()


def open_private(path: Path, flags: int) -> int:
    """os.open with mode 0600 for a file that may not exist yet."""
    return os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, PRIVATE)


def _written_beside(path: Path, data: bytes, durable: bool) -> Path:
    """A private temporary file next to `path` holding `data` (on disk when `durable`)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, PRIVATE)
    try:
        _write_all(fd, data)
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
