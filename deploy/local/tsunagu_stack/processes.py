"""The stack's own processes: spawning them into a log, pid files, stopping them, reading their logs."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from tsunagu_stack.core import StackError, say, warn
from tsunagu_stack.state import StateDir, write_atomic

# Set in every process we launch, so a pid file can never make us signal a stranger that
# happened to inherit a recycled pid.
MARKER_ENV: Final = "TSUNAGU_STACK_DIR"
START_BANNER: Final = "stack: starting"


def _proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces and parentheses; the state follows the last ')'.
    return stat.rsplit(")", 1)[-1].split()[0]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    # A process started from this interpreter (the test suite's crash test) stays a zombie
    # until its Popen is polled; kill(pid, 0) alone would call it alive.
    return _proc_state(pid) not in ("Z", "X")


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _environ_has(pid: int, key: str, value: str) -> bool:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"{key}={value}".encode() in raw.split(b"\0")


def read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().split()
    except OSError:
        return None
    if not text or not text[0].isdigit():
        return None
    return int(text[0])


def signal_process(pid: int, sig: int) -> None:
    # Our components lead their own session; signalling the group also reaches any workers.
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return not pid_alive(pid)


def tail(path: Path, lines: int = 40, since_start: bool = False) -> str:
    """The last lines of a log; with since_start, none from before the latest launch."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read().decode(errors="replace")
    except OSError:
        return f"(no log at {path})"
    all_lines = data.splitlines()
    if since_start:
        for index in range(len(all_lines) - 1, -1, -1):
            if START_BANNER in all_lines[index] and all_lines[index].startswith("====="):
                all_lines = all_lines[index + 1 :]
                break
    return "\n".join(all_lines[-lines:]) or "(the log is empty)"


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    input_text: str | None = None,
    timeout: float | None = 600.0,
    check: bool = True,
    what: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run a short-lived command and return its combined output.

    Output goes through a temporary file rather than a pipe: some of these commands (pg_ctl)
    leave a daemon behind, and a daemon holding our pipe open would make us wait forever.
    """
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as out:
        try:
            proc = subprocess.run(
                list(argv),
                env=dict(env) if env is not None else None,
                cwd=cwd,
                input=input_text,
                stdin=None if input_text is not None else subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            raise StackError(f"{what or argv[0]}: command not found: {argv[0]}") from exc
        except subprocess.TimeoutExpired as exc:
            out.seek(0)
            raise StackError(
                f"{what or argv[0]}: timed out after {timeout:.0f}s\n{out.read()[-4000:]}"
            ) from exc
        out.seek(0)
        output = out.read()
    result = subprocess.CompletedProcess(list(argv), proc.returncode, output, "")
    if check and proc.returncode != 0:
        raise StackError(f"{what or argv[0]} failed (exit {proc.returncode}):\n{output[-4000:].rstrip()}")
    return result


class Processes:
    """The long-running components we launch ourselves, one pid file and one log each."""

    def __init__(self, state: StateDir) -> None:
        self.state = state
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    def pid_file(self, name: str) -> Path:
        return self.state.run / f"{name}.pid"

    def log_path(self, name: str) -> Path:
        return self.state.logs / f"{name}.log"

    def started_at(self, name: str) -> float | None:
        """When a component was spawned (its pid file's time), or None if it has no pid file."""
        try:
            return self.pid_file(name).stat().st_mtime
        except FileNotFoundError:
            return None

    def running_pid(self, name: str) -> int | None:
        """The pid of our own live process for a component, or None."""
        pid = read_pid(self.pid_file(name))
        if pid is None or not pid_alive(pid):
            return None
        return pid if _environ_has(pid, MARKER_ENV, str(self.state.path)) else None

    def launch(self, name: str, where: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> int:
        """Spawn a component, first saying where it starts and where its log is; its pid."""
        say(f"{name}: starting on {where} (log: {self.log_path(name)})")
        return self.spawn(name, argv, env, cwd).pid

    def spawn(
        self, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path
    ) -> subprocess.Popen[bytes]:
        self.state.prepare()
        log = self.log_path(name)
        stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        with log.open("ab") as fh:
            fh.write(f"\n===== {stamp} {START_BANNER} {name} =====\n".encode())
            full_env = dict(env)
            full_env[MARKER_ENV] = str(self.state.path)
            # A new session: Ctrl-C in the terminal that ran `up` must not take the stack down,
            # and stop() can signal the whole process group.
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                env=full_env,
                cwd=cwd,
                start_new_session=True,
                close_fds=True,
            )
        write_atomic(self.pid_file(name), f"{proc.pid}\n")
        self._children[name] = proc
        return proc

    def exited(self, name: str, pid: int) -> int | None:
        """Exit code if the process launched for this component has died, else None."""
        child = self._children.get(name)
        if child is not None and child.pid == pid:
            return child.poll()
        return None if pid_alive(pid) else -1

    def _collect(self, name: str) -> None:
        # Poll our own Popen so a killed child does not linger as a zombie.
        child = self._children.pop(name, None)
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=1)

    def stop(self, name: str, pid: int, sig: int, grace: float) -> None:
        signal_process(pid, sig)
        if not wait_exit(pid, grace):
            warn(f"{name} (pid {pid}) did not exit within {grace:.0f}s; sending SIGKILL")
            signal_process(pid, signal.SIGKILL)
            if not wait_exit(pid, 10):
                raise StackError(f"{name} (pid {pid}) survived SIGKILL")
        self._collect(name)
        with contextlib.suppress(FileNotFoundError):
            self.pid_file(name).unlink()

    def kill(self, name: str) -> None:
        pid = self.running_pid(name)
        if pid is None:
            return
        signal_process(pid, signal.SIGKILL)
        # Only the kernel's cleanup is awaited, so the port is free for a restart.
        wait_exit(pid, 10)
        self._collect(name)
        self.pid_file(name).unlink(missing_ok=True)
