"""Attachment files on disk: random names, written whole before any row names them.

Layout under the data folder: attachments/ab/abcdef… (the name's first two characters fan the
files out), attachments/incoming/ for files being written. Nothing here is under static/ and no
URL maps to a path: downloads look a row up by its id and open the file its stored_name names.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

STORED_NAME = re.compile(r"[0-9a-f]{32}")
INCOMING = "incoming"


class AttachmentStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, stored_name: str) -> Path:
        if not STORED_NAME.fullmatch(stored_name):  # never a path from outside
            raise ValueError(f"not a stored name: {stored_name!r}")
        return self.root / stored_name[:2] / stored_name

    def save(self, data: bytes) -> str:
        """Write the bytes durably under a new random name and return the name. The file is
        complete and synced before its name is returned, so a row naming it never dangles."""
        name = secrets.token_hex(16)
        final = self.path(name)
        incoming = self.root / INCOMING / name
        incoming.parent.mkdir(parents=True, exist_ok=True)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(incoming, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(incoming, final)
        except BaseException:
            incoming.unlink(missing_ok=True)
            raise
        fsync_path(final.parent)  # the rename is durable only once the folder is synced
        return name

    def read(self, stored_name: str) -> bytes:
        return self.path(stored_name).read_bytes()

    def delete(self, stored_name: str) -> None:
        self.path(stored_name).unlink(missing_ok=True)

    def stored_names(self, older_than: float) -> Iterator[str]:
        """Names of files last changed more than older_than seconds ago; incoming files that
        old (a crash mid-write) are removed on the way."""
        if not self.root.is_dir():
            return
        cutoff = time.time() - older_than
        for folder in self.root.iterdir():
            if not folder.is_dir():
                continue
            for file in folder.iterdir():
                try:
                    if file.stat().st_mtime >= cutoff:
                        continue
                except FileNotFoundError:
                    continue
                if folder.name == INCOMING:
                    file.unlink(missing_ok=True)
                elif STORED_NAME.fullmatch(file.name):
                    yield file.name


def fsync_path(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
