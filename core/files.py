"""The files acct reads and writes: what a path is, said in the user's words, before it is opened.

A data file is read only when it is a regular file: a named pipe would block the reader, a
symlink loop is not "no such file". An output (`acct import -o`, `--plot`) is checked before
any work is done, so that a command never fails after its work, nor writes over its own input.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Iterable, Optional, Union

from acct.errors import ConfigError

PathLike = Union[str, Path]


def kind_of(path: PathLike) -> Optional[str]:
    """What is at `path` when it is not a regular file one can read, in words ('a named pipe
    (FIFO)', 'a symlink loop', ...); None for a regular file. Never opens the path."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "a symbolic link to a missing file" if os.path.islink(path) else "missing"
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a symlink loop"
        if error.errno == errno.ENOTDIR:
            return "missing"  # a part of the path is a file, not a folder
        if error.errno == errno.ENAMETOOLONG:
            return "a path too long for the system"
        return f"unreadable ({error.strerror or error})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def open_regular(path: PathLike) -> int:
    """A descriptor reading the regular file `path`: opened without blocking (a pipe swapped
    in after a check cannot hang the reader) and checked again once open."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise ConfigError(f"{path}: is not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def check_output(path: Path, option: str, force: bool, inputs: Iterable[PathLike] = ()) -> None:
    """Refuse, before any work, an output acct must not write: one of the command's `inputs`
    under any name (./x, a symbolic link, a hard link: the same device and inode), a folder,
    a symbolic link, anything but a regular file, an existing file without `force`, a file in
    a folder that does not exist."""
    where = f"{option} {path}"
    try:
        status: Optional[os.stat_result] = os.lstat(path)
    except FileNotFoundError:
        status = None
    except OSError as error:
        if error.errno == errno.ENOTDIR:
            raise ConfigError(f"{where}: a part of the path is a file, not a folder") from None
        raise ConfigError(f"{where}: cannot be written: {error.strerror or error}") from None
    if status is None:
        folder = path.parent
        problem = kind_of(folder)
        if problem == "missing":
            raise ConfigError(f"{where}: the folder {folder} does not exist; create it first")
        if problem is not None and problem != "a folder":
            raise ConfigError(f"{where}: {folder} is {problem}, not a folder")
        return
    if stat.S_ISLNK(status.st_mode):
        raise ConfigError(f"{where}: is a symbolic link; acct writes only to a plain file, never through a link")
    if stat.S_ISDIR(status.st_mode):
        raise ConfigError(f"{where}: is a folder; name the file to write")
    if not stat.S_ISREG(status.st_mode):
        raise ConfigError(f"{where}: is {kind_of(path) or 'not a plain file'}; acct writes only to a plain file")
    for source in inputs:
        try:
            read = os.stat(source)
        except (OSError, ValueError):
            continue  # an input that is not there is refused where it is read
        if (read.st_dev, read.st_ino) == (status.st_dev, status.st_ino):
            same = "" if os.path.abspath(source) == os.path.abspath(path) else f" ({source})"
            raise ConfigError(f"{where}: is the command's own input{same}; acct never writes over what it "
                              "reads: name another file")
    if not force:
        raise ConfigError(f"{where}: already exists; add --force to replace it")
