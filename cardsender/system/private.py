"""Files that hold customer data: created readable by their owner only, whatever the umask.

On POSIX every such file is 0600 and every folder cardsender creates for them is 0700.
``os.open`` and ``mkdir`` apply the umask to the mode they are given, which can only
take permissions away, so the mode is set again explicitly after creation.  On Windows
the modes mean little and the files inherit the folder's access list.

Temporary files are named ``.NAME.PID.tmp`` so that a later run can tell the leftovers
of a process that was killed (and remove them) from the files of one still running.
"""

from __future__ import annotations

import contextlib
import io
import logging.handlers
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from cardsender.system.processes import process_exists

FILE_MODE = 0o600
FOLDER_MODE = 0o700
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)(?:\.[0-9a-z]+)?\.tmp$")


def _posix() -> bool:
    return sys.platform != "win32"


def private_folder(path: Path) -> Path:
    """Create a folder (and any missing parents) as 0700; a folder that already exists is left as it is."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    if _posix():
        for folder in missing:
            with contextlib.suppress(OSError):
                folder.chmod(FOLDER_MODE)
    return path


def make_private(path: Path) -> None:
    """Set an existing file to 0600 (POSIX)."""
    if _posix():
        with contextlib.suppress(FileNotFoundError):
            path.chmod(FILE_MODE)


def open_private(path: Path, mode: str = "w", **options: Any) -> IO[Any]:
    """Open a file for writing (``w``, ``wb``, ``a``, ``ab``, ``x``, ``xb``) created as 0600, truncating for ``w``."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0)
    if mode.startswith("w"):
        flags |= os.O_TRUNC
    elif mode.startswith("a"):
        flags |= os.O_APPEND
    elif mode.startswith("x"):
        flags |= os.O_EXCL
    else:
        raise ValueError(f"open_private writes only, not mode {mode!r}")
    descriptor = os.open(path, flags, FILE_MODE)
    try:
        if _posix():
            os.fchmod(descriptor, FILE_MODE)
        plain = mode[0] + ("b" if "b" in mode else "")
        return os.fdopen(descriptor, plain.replace("x", "w"), **options)
    except BaseException:
        os.close(descriptor)
        raise


def write_private_bytes(path: Path, data: bytes) -> None:
    """Write a whole file created as 0600."""
    with open_private(path, "wb") as fh:
        fh.write(data)


def reserve_private(path: Path) -> Path:
    """Create (or empty) a file as 0600 for a writer that opens it next: truncating keeps that mode."""
    open_private(path, "wb").close()
    return path


def create_private_file(path: Path) -> bool:
    """Create an empty file as 0600 unless it exists; return whether it was created."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), FILE_MODE)
    except FileExistsError:
        return False
    try:
        if _posix():
            os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)
    return True


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file is 0600: a rotation renames the file, which keeps its mode."""

    def _open(self) -> io.TextIOWrapper:
        stream = open_private(Path(self.baseFilename), self.mode, encoding=self.encoding, errors=self.errors)
        assert isinstance(stream, io.TextIOWrapper)  # a text mode, as the handler always opens its file
        return stream


def temp_name(final: Path, tag: str = "") -> Path:
    """Return the temporary name a file is written under before it replaces ``final``: ``.NAME.PID.tmp``."""
    suffix = f".{tag}" if tag else ""
    return final.with_name(f".{final.name}.{os.getpid()}{suffix}.tmp")


def stale_temp_files(folder: Path) -> Iterator[Path]:
    """Yield the temporary files in a folder left by processes that no longer run."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        found = _TEMP_NAME.match(entry.name)
        if found and entry.is_file() and not process_exists(int(found["pid"])):
            yield entry


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete the temporary files a killed process left in a folder; return them."""
    removed = []
    for path in stale_temp_files(folder):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed
