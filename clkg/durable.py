"""Durable file steps (write, rename, fsync) and the crash points that test them.

A step is durable once its bytes and the directory entry that names them are on disk: a file is
written aside, fsynced, renamed into place, and its directory fsynced. `crashpoint(step)` kills the
process at a named step of a protocol when CLKG_CRASH_AT names that step (the crash-safety tests set
it for a child process); otherwise it is one comparison of two strings.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path

from clkg import config


def crashpoint(step: str) -> None:
    """Die here, as a power cut or `kill -9` would, when CLKG_CRASH_AT names this step."""
    if config.CRASH_AT and config.CRASH_AT == step:
        os.kill(os.getpid(), signal.SIGKILL)


def fsync_dir(path: Path) -> None:
    """Make the directory's entries (a file created, renamed or removed in it) durable."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_tree(path: Path) -> None:
    """Make every file under `path` and the folders that name them durable (a freshly built store)."""
    for folder, _subfolders, files in os.walk(path):
        for name in files:
            descriptor = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        fsync_dir(Path(folder))


def write_file(path: Path, data: bytes, *, crash_step: str = "") -> None:
    """Write `path` all or nothing: aside (`.<name>.tmp`), fsynced, renamed into place, folder fsynced.
    A crash leaves either the old state or the whole new file (and perhaps a `.tmp` to clean up)."""
    aside = aside_of(path)
    try:
        with open(aside, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if crash_step:
            crashpoint(crash_step)
        os.replace(aside, path)
    except BaseException:
        aside.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def aside_of(path: Path) -> Path:
    """Where `write_file` writes before the rename; recovery removes such leftovers."""
    return path.with_name(f".{path.name}.tmp")


def move(source: Path, target: Path) -> None:
    """Rename `source` to `target` (same file system) and make both folders' entries durable."""
    os.replace(source, target)
    fsync_dir(target.parent)
    if source.parent != target.parent:
        fsync_dir(source.parent)
