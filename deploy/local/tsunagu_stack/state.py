"""The state directory (data, logs, secrets, fetched jars), its lock, and how files in it are written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Held locks by path, with their depth: the lock is re-entrant within one process.
_LOCK_DEPTH: dict[Path, tuple[int, int]] = {}


def write_atomic(path: Path, content: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class StateDir:
    """<repo>/.stack (or $STACK_DIR): everything the stack keeps between runs."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def run(self) -> Path:
        return self.path / "run"

    @property
    def cache(self) -> Path:
        return self.path / "cache"

    @property
    def kafka(self) -> Path:
        return self.path / "kafka"

    @property
    def receiver(self) -> Path:
        return self.path / "receiver"

    @property
    def mail(self) -> Path:
        return self.path / "mail"

    @property
    def secrets(self) -> Path:
        return self.path / "secrets.json"

    def prepare(self) -> None:
        for directory in (self.path, self.logs, self.run, self.cache):
            directory.mkdir(parents=True, exist_ok=True)
        # The state holds secrets and personal data of sample consultations: owner only,
        # except that the postgres OS user must be able to pass through (see postgres_install).
        os.chmod(self.path, 0o711)  # noqa: S103 - search only, no listing or reading

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Serialise start/stop across processes (a developer's `up` racing the test suite).

        Re-entrant within one process, because flock on a second descriptor of the same
        file would block against ourselves.
        """
        import fcntl

        path = self.run / "stack.lock"
        held = _LOCK_DEPTH.get(path)
        if held is not None:
            _LOCK_DEPTH[path] = (held[0], held[1] + 1)
            try:
                yield
            finally:
                fd, depth = _LOCK_DEPTH[path]
                _LOCK_DEPTH[path] = (fd, depth - 1)
            return
        self.prepare()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _LOCK_DEPTH[path] = (fd, 1)
            try:
                yield
            finally:
                del _LOCK_DEPTH[path]
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
