"""Local stack orchestrator: PostgreSQL, Kafka, Zipkin, the four services and a sample partner."""

# Standard library only at import time: this file must run before the project venv exists
# (it is what a newcomer runs first) and the test suite imports it without side effects.
# Project code (eventkit) is imported lazily, in-process if possible, else through the venv.

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import http.client
import importlib
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

SERVICES: Final = ("intake", "referral", "directory", "notify", "web")
# The HTTP APIs; "web" serves the screens (and signs people in) rather than an API.
API_SERVICES: Final = ("intake", "referral", "directory", "notify")
WEB: Final = "web"
INFRA: Final = ("postgres", "kafka", "zipkin")
RECEIVER: Final = "receiver"
MAIL: Final = "mail"  # a local SMTP sink for notify's e-mail alerts (deploy/local/mail_sink.py)
# A local stand-in for LINE's Messaging API, where intake sends chat replies (never the internet).
LINE_API: Final = "line-api"
COMPONENTS: Final = (*INFRA, *SERVICES, RECEIVER, MAIL, LINE_API)

# Acknowledgement deadlines of the local stack, in seconds: short on purpose, so that a newcomer
# sees an ignored handoff move to the next organisation (S3) and the e2e suite stays fast (its
# escalation test uses S4). The service's own defaults are the issue's: 600 / 1800 / one business day.
DEMO_DEADLINES: Final[Mapping[str, str]] = {
    "REFERRAL_DEADLINE_S4_S": "20",
    "REFERRAL_DEADLINE_S3_S": "120",
}

ZIPKIN_VERSION: Final = "3.5.1"
ZIPKIN_JAR: Final = f"zipkin-server-{ZIPKIN_VERSION}-exec.jar"

DEFAULT_PORTS: Final[Mapping[str, int]] = {
    "postgres": 54329,
    "kafka": 19092,
    "kafka-controller": 19093,
    "zipkin": 9411,
    "intake": 8101,
    "referral": 8102,
    "directory": 8103,
    "notify": 8104,
    "web": 8100,
    "receiver": 8109,
    "mail": 8025,
    "line-api": 8108,
}
PORT_ENV: Final[Mapping[str, str]] = {
    "postgres": "STACK_PG_PORT",
    "kafka": "STACK_KAFKA_PORT",
    "kafka-controller": "STACK_KAFKA_CONTROLLER_PORT",
    "zipkin": "STACK_ZIPKIN_PORT",
    "intake": "STACK_INTAKE_PORT",
    "referral": "STACK_REFERRAL_PORT",
    "directory": "STACK_DIRECTORY_PORT",
    "notify": "STACK_NOTIFY_PORT",
    "web": "STACK_WEB_PORT",
    "receiver": "STACK_RECEIVER_PORT",
    "mail": "STACK_MAIL_PORT",
    "line-api": "STACK_LINE_API_PORT",
}

LOOPBACK: Final = "127.0.0.1"
SERVICE_READY_TIMEOUT: Final = 60.0
SERVICE_STOP_GRACE: Final = 20.0
KAFKA_READY_TIMEOUT: Final = 90.0
# A broker that is killed mid-write recovers its logs on the next start, which is slower than
# a clean shutdown, so Kafka gets more time than the Python services before SIGKILL.
KAFKA_STOP_GRACE: Final = 60.0
ZIPKIN_READY_TIMEOUT: Final = 90.0
PG_READY_TIMEOUT: Final = 60.0
TOKEN_TTL_HOURS: Final = 8

# Set in every process we launch, so a pid file can never make us signal a stranger that
# happened to inherit a recycled pid.
MARKER_ENV: Final = "TSUNAGU_STACK_DIR"


class StackError(RuntimeError):
    """A component could not be brought to the requested state; the message says what to do."""


def _emit(text: str) -> None:
    """Print, tolerating a reader that leaves early (`stack.py status | head`): the caller's
    exit code must still reach the shell."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def warn(message: str) -> None:
    print(f"[stack] WARNING: {message}", flush=True)


# --------------------------------------------------------------------------------------------
# Process and port helpers
# --------------------------------------------------------------------------------------------


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


def _cmdline(pid: int) -> list[str]:
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


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().split()
    except OSError:
        return None
    if not text or not text[0].isdigit():
        return None
    return int(text[0])


def _write_atomic(path: Path, content: str, mode: int = 0o644) -> None:
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


def port_in_use(port: int, host: str = LOOPBACK) -> bool:
    # Binding (not connecting) also catches a listener on 0.0.0.0 and one that accepts slowly.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def port_holder(port: int) -> str | None:
    """Best effort 'pid N (command)' of whoever listens on a TCP port, from /proc."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fds = list((proc / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target in wanted:
                command = " ".join(_cmdline(int(proc.name)))[:120]
                return f"pid {proc.name} ({command})"
    return None


def _signal_process(pid: int, sig: int) -> None:
    # Our components lead their own session; signalling the group also reaches any workers.
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return not pid_alive(pid)


START_BANNER: Final = "stack: starting"


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


# --------------------------------------------------------------------------------------------
# HTTP helpers (http.client rather than urllib: no proxies from the environment, loopback only)
# --------------------------------------------------------------------------------------------


def http_request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 5.0,
) -> tuple[int, bytes]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise ValueError(f"only plain http URLs are used locally: {url}")
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn.request(method, path, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        status, _ = http_request("GET", url, timeout=timeout)
    except (OSError, http.client.HTTPException):
        return False
    return status == 200


def http_json(
    method: str, url: str, payload: Any | None, token: str | None, timeout: float = 10.0
) -> tuple[int, Any]:
    headers = {"Accept": "application/json"}
    body = None
    if payload is not None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, raw = http_request(method, url, body=body, headers=headers, timeout=timeout)
    try:
        data: Any = json.loads(raw) if raw else None
    except ValueError:
        data = raw.decode(errors="replace")
    return status, data


def _route_missing(status: int, reply: Any) -> bool:
    """A service that does not have the endpoint yet (as opposed to rejecting this request)."""
    if status == 405:
        return True
    # FastAPI's answer for an unknown path; an application 404 carries its own detail.
    return status == 404 and (not isinstance(reply, dict) or reply.get("detail") == "Not Found")


# --------------------------------------------------------------------------------------------
# Kafka readiness over the wire protocol (no JVM start-up per probe)
# --------------------------------------------------------------------------------------------


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        chunks.extend(chunk)
    return bytes(chunks)


def _kafka_call(sock: socket.socket, api_key: int, version: int, correlation: int, payload: bytes) -> bytes:
    client_id = b"tsunagu-stack"
    # Request header v1 (non-flexible): api_key, api_version, correlation_id, client_id.
    header = struct.pack(">hhih", api_key, version, correlation, len(client_id)) + client_id
    message = header + payload
    sock.sendall(struct.pack(">i", len(message)) + message)
    (size,) = struct.unpack(">i", _recv_exact(sock, 4))
    response = _recv_exact(sock, size)
    (got,) = struct.unpack_from(">i", response, 0)
    if got != correlation:
        raise ConnectionError("out-of-order Kafka response")
    return response[4:]


def kafka_cluster_id(port: int, host: str = LOOPBACK, timeout: float = 3.0) -> str | None:
    """The cluster id once the broker answers ApiVersions and a Metadata request listing
    at least one live broker; None while it is not (yet) able to serve clients."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            body = _kafka_call(sock, api_key=18, version=0, correlation=1, payload=b"")
            error, count = struct.unpack_from(">hi", body, 0)
            if error != 0:
                return None
            metadata_versions: tuple[int, int] | None = None
            offset = 6
            for _ in range(count):
                key, low, high = struct.unpack_from(">hhh", body, offset)
                offset += 6
                if key == 3:
                    metadata_versions = (low, high)
            # Kafka 4 removed Metadata v0-3; v4 is the oldest left and still non-flexible.
            if metadata_versions is None or not metadata_versions[0] <= 4 <= metadata_versions[1]:
                return None
            # Metadata v4: empty topic list (brokers only), allow_auto_topic_creation=false.
            body = _kafka_call(sock, 3, 4, 2, struct.pack(">ib", 0, 0))
            offset = 4  # throttle_time_ms
            (brokers,) = struct.unpack_from(">i", body, offset)
            offset += 4
            if brokers < 1:
                return None
            for _ in range(brokers):
                offset += 4  # node_id
                (host_len,) = struct.unpack_from(">h", body, offset)
                offset += 2 + host_len + 4  # host, port
                (rack_len,) = struct.unpack_from(">h", body, offset)
                offset += 2 + max(rack_len, 0)
            (id_len,) = struct.unpack_from(">h", body, offset)
            if id_len < 0:
                return None
            cluster: str = body[offset + 2 : offset + 2 + id_len].decode()
            return cluster
    except (OSError, struct.error, UnicodeDecodeError):
        return None


# --------------------------------------------------------------------------------------------
# The stack
# --------------------------------------------------------------------------------------------

_LOCK_DEPTH: dict[Path, tuple[int, int]] = {}

# Run by the venv interpreter when this one lacks eventkit. A ValueError (a bad role, say)
# comes back as one JSON line so the caller can report it without a traceback.
_EVENTKIT_BRIDGE = (
    "import importlib, json, sys\n"
    "a = json.load(sys.stdin)\n"
    "f = getattr(importlib.import_module(a['module']), a['func'])\n"
    "try:\n"
    "    r = f(*a['args'], **a['kwargs'])\n"
    "except ValueError as e:\n"
    "    sys.exit(json.dumps({'value_error': str(e)}))\n"
    "json.dump(r, sys.stdout)\n"
)


class Stack:
    """Everything a developer or the e2e tests need to run Tsunagu on one machine."""

    def __init__(self, root: Path | None = None, state_dir: Path | None = None) -> None:
        self.root = (root or Path(__file__).resolve().parents[2]).resolve()
        env_dir = os.environ.get("STACK_DIR")
        if state_dir is None:
            state_dir = Path(env_dir) if env_dir else self.root / ".stack"
        self.state_dir = state_dir.resolve()
        self.ports: dict[str, int] = {name: self._port_from_env(name) for name in DEFAULT_PORTS}
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._pg_bin_dir: Path | None = None

    # ---- paths ---------------------------------------------------------------------------

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def cache_dir(self) -> Path:
        return self.state_dir / "cache"

    @property
    def kafka_dir(self) -> Path:
        return self.state_dir / "kafka"

    @property
    def receiver_dir(self) -> Path:
        return self.state_dir / "receiver"

    @property
    def secrets_path(self) -> Path:
        return self.state_dir / "secrets.json"

    @property
    def sample_dir(self) -> Path:
        return Path(__file__).resolve().parent / "sample"

    def _pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_path(self, name: str) -> Path:
        if name == "postgres":
            return self._pg_log()
        return self.logs_dir / f"{name}.log"

    @staticmethod
    def _port_from_env(name: str) -> int:
        raw = os.environ.get(PORT_ENV[name])
        if not raw:
            return DEFAULT_PORTS[name]
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise StackError(f"{PORT_ENV[name]}={raw!r} is not a TCP port number")
        return int(raw)

    @property
    def python(self) -> str:
        """The interpreter of the project venv, which has every service package installed."""
        override = os.environ.get("STACK_PYTHON")
        if override:
            return override
        venv = self.root / ".venv"
        if sys.prefix != sys.base_prefix and Path(sys.prefix).resolve() == venv.resolve():
            return sys.executable
        candidate = venv / "bin" / "python"
        return str(candidate) if candidate.exists() else sys.executable

    def _prepare_dirs(self) -> None:
        for directory in (self.state_dir, self.logs_dir, self.run_dir, self.cache_dir):
            directory.mkdir(parents=True, exist_ok=True)
        # The state holds secrets and personal data of sample consultations: owner only,
        # except that the postgres OS user must be able to pass through (see _pg_dir).
        os.chmod(self.state_dir, 0o711)  # noqa: S103 - search only, no listing or reading

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise start/stop across processes (a developer's `up` racing the test suite).

        Re-entrant within one process, because flock on a second descriptor of the same
        file would block against ourselves.
        """
        import fcntl

        path = self.run_dir / "stack.lock"
        held = _LOCK_DEPTH.get(path)
        if held is not None:
            _LOCK_DEPTH[path] = (held[0], held[1] + 1)
            try:
                yield
            finally:
                fd, depth = _LOCK_DEPTH[path]
                _LOCK_DEPTH[path] = (fd, depth - 1)
            return
        self._prepare_dirs()
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

    # ---- secrets -------------------------------------------------------------------------

    def _load_secrets(self) -> dict[str, Any]:
        try:
            data = json.loads(self.secrets_path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise StackError(f"{self.secrets_path} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise StackError(f"{self.secrets_path} should hold a JSON object")
        return data

    def _secret(self, section: str, key: str, make: Any) -> Any:
        """One generated secret, created on first use and kept forever after."""
        value = self._load_secrets().get(section, {}).get(key)
        if value is not None:
            return value
        with self._lock():
            data = self._load_secrets()
            value = data.get(section, {}).get(key)
            if value is None:
                value = make()
                data.setdefault(section, {})[key] = value
                _write_atomic(self.secrets_path, json.dumps(data, indent=2) + "\n", mode=0o600)
            return value

    def _db_password(self, role: str) -> str:
        password: str = self._secret("postgres", role, lambda: secrets.token_urlsafe(24))
        return password

    def _auth_keys(self) -> tuple[str, str]:
        def make() -> dict[str, str]:
            private, public = self._eventkit("eventkit.auth", "generate_signing_keypair")
            return {"private_key": str(private), "public_key": str(public)}

        keys: dict[str, str] = self._secret("auth", "signing_keypair", make)
        return keys["private_key"], keys["public_key"]

    def _link_keys(self) -> tuple[str, str]:
        """notify signs acknowledgement links with the private half; referral verifies them."""

        def make() -> dict[str, str]:
            private, public = self._eventkit("eventkit.auth", "generate_signing_keypair")
            return {"private_key": str(private), "public_key": str(public)}

        keys: dict[str, str] = self._secret("links", "signing_keypair", make)
        return keys["private_key"], keys["public_key"]

    def _channel_secret(self, name: str) -> str:
        """What intake shares with the voice provider and LINE (auth token, channel secret,
        access token): generated once, like every other secret of the stack."""
        value: str = self._secret("channels", name, lambda: secrets.token_urlsafe(24))
        return value

    def _encryption_keys(self, service: str) -> str:
        def make() -> str:
            return str(self._eventkit("eventkit.crypto", "generate_keyring_entry"))

        keyring: str = self._secret("encryption_keys", service, make)
        return keyring

    def _eventkit(self, module: str, func: str, *args: Any, **kwargs: Any) -> Any:
        """Call into eventkit: in-process when this interpreter has it, else via the venv."""
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            if self.python == sys.executable:
                raise StackError(
                    f"cannot import {module} ({exc}); run this from the project venv "
                    "(make install, then .venv/bin/python deploy/local/stack.py ...)"
                ) from exc
            mod = None
        if mod is None:
            return self._eventkit_via_venv(module, func, args, kwargs)
        function = getattr(mod, func, None)
        if function is None:
            raise StackError(f"{module} has no {func}() yet")
        return function(*args, **kwargs)

    def _eventkit_via_venv(
        self, module: str, func: str, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> Any:
        python = self.python
        result = run(
            [python, "-c", _EVENTKIT_BRIDGE],
            input_text=json.dumps({"module": module, "func": func, "args": args, "kwargs": kwargs}),
            cwd=self.root,
            timeout=60,
            check=False,
            what=f"{module}.{func} (via {python})",
        )
        last = (result.stdout.strip().splitlines() or [""])[-1]
        try:
            reply: Any = json.loads(last)
        except ValueError:
            reply = None
        if result.returncode == 0 and reply is not None:
            return reply
        if isinstance(reply, dict) and "value_error" in reply:
            raise ValueError(reply["value_error"])
        raise StackError(
            f"{module}.{func} (via {python}) failed (exit {result.returncode}):\n"
            f"{result.stdout[-4000:].rstrip()}"
        )

    def mint_token(self, role: str, subject: str, organisation_id: str | None = None) -> str:
        private, _ = self._auth_keys()
        try:
            token = self._eventkit(
                "eventkit.auth",
                "mint_token",
                private,
                role=role,
                subject=subject,
                organisation_id=organisation_id,
                ttl_seconds=TOKEN_TTL_HOURS * 3600,
            )
        except ValueError as exc:
            raise StackError(f"cannot mint a {role} token: {exc}") from exc
        return str(token)

    # ---- component bookkeeping -----------------------------------------------------------

    def _spawn_marker_ok(self, pid: int) -> bool:
        return _environ_has(pid, MARKER_ENV, str(self.state_dir))

    def running_pid(self, name: str) -> int | None:
        """The pid of our own live process for a component, or None."""
        if name == "postgres":
            return self._pg_pid()
        pid = _read_pid(self._pid_file(name))
        if pid is None or not pid_alive(pid):
            return None
        return pid if self._spawn_marker_ok(pid) else None

    def _check_port_free(self, name: str, port_key: str | None = None) -> None:
        key = port_key or name
        port = self.ports[key]
        if not port_in_use(port):
            return
        holder = port_holder(port)
        by = f" by {holder}" if holder else ""
        raise StackError(
            f"port {port} is needed for {name} but is already in use{by}. "
            f"Stop that process, or choose another port: {PORT_ENV[key]}=<port> "
            f"(the same variable must be set for every stack command)."
        )

    def _spawn(
        self, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path
    ) -> subprocess.Popen[bytes]:
        self._prepare_dirs()
        log = self.log_path(name)
        stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        with log.open("ab") as fh:
            fh.write(f"\n===== {stamp} {START_BANNER} {name} =====\n".encode())
            full_env = dict(env)
            full_env[MARKER_ENV] = str(self.state_dir)
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
        _write_atomic(self._pid_file(name), f"{proc.pid}\n")
        self._children[name] = proc
        return proc

    def _exited(self, name: str, pid: int) -> int | None:
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

    def _stop_pid(self, name: str, pid: int, sig: int, grace: float) -> None:
        _signal_process(pid, sig)
        if not _wait_exit(pid, grace):
            warn(f"{name} (pid {pid}) did not exit within {grace:.0f}s; sending SIGKILL")
            _signal_process(pid, signal.SIGKILL)
            if not _wait_exit(pid, 10):
                raise StackError(f"{name} (pid {pid}) survived SIGKILL")
        self._collect(name)
        with contextlib.suppress(FileNotFoundError):
            self._pid_file(name).unlink()

    def _wait_ready(
        self,
        name: str,
        pid: int,
        probe: Callable[[], bool],
        timeout: float,
        hint: str = "",
    ) -> None:
        deadline = time.monotonic() + timeout
        log = self.log_path(name)
        while True:
            if probe():
                return
            code = self._exited(name, pid)
            if code is not None:
                raise StackError(
                    f"{name} exited during start-up (exit code {code}). "
                    f"Last lines of {log}:\n{tail(log, since_start=True)}"
                )
            if time.monotonic() > deadline:
                raise StackError(
                    f"{name} (pid {pid}) was not ready after {timeout:.0f}s{hint}; it is left "
                    f"running for inspection. Last lines of {log}:\n{tail(log, since_start=True)}"
                )
            time.sleep(0.25)

    # ---- PostgreSQL ----------------------------------------------------------------------

    def _pg_os_user(self) -> tuple[int, int] | None:
        """uid/gid to run PostgreSQL as when we are root (it refuses to run as root)."""
        if os.geteuid() != 0:
            return None
        import pwd

        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            say("postgres: creating the system user 'postgres' (PostgreSQL refuses to run as root)")
            run(
                [
                    "useradd",
                    "--system",
                    "--user-group",
                    "--home-dir",
                    "/var/lib/postgresql",
                    "--shell",
                    "/usr/sbin/nologin",
                    "postgres",
                ],
                what="useradd postgres",
            )
            entry = pwd.getpwnam("postgres")
        return entry.pw_uid, entry.pw_gid

    def _as_pg(self, argv: Sequence[str]) -> list[str]:
        if self._pg_os_user() is None:
            return list(argv)
        return ["runuser", "-u", "postgres", "--", *argv]

    def _chown_pg(self, path: Path) -> None:
        owner = self._pg_os_user()
        if owner is not None:
            os.chown(path, *owner)

    def _pg_bin(self, install: bool = True) -> Path | None:
        if self._pg_bin_dir is not None:
            return self._pg_bin_dir
        override = os.environ.get("STACK_PG_BIN")
        candidates = [Path(override)] if override else []

        def version(path: Path) -> tuple[int, ...]:
            parts = path.parent.name.split(".")
            return tuple(int(p) for p in parts if p.isdigit())

        debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
        candidates.extend(debian)
        on_path = shutil.which("pg_ctl")
        if on_path:
            candidates.append(Path(on_path).resolve().parent)
        for candidate in candidates:
            if (candidate / "pg_ctl").exists() and (candidate / "initdb").exists():
                self._pg_bin_dir = candidate
                return candidate
        if not install:
            return None
        self._install_postgres()
        return self._pg_bin(install=False) or self._fail_no_postgres()

    @staticmethod
    def _fail_no_postgres() -> Path:
        raise StackError(
            "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and "
            "PATH). Install the 'postgresql' package, or set STACK_PG_BIN to the directory "
            "holding pg_ctl and initdb."
        )

    def _install_postgres(self) -> None:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            self._fail_no_postgres()
        self._prepare_dirs()
        log = self.logs_dir / "apt.log"
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        say(f"postgres: not installed; running apt-get update (log: {log})")
        output = run(["apt-get", "update"], env=env, timeout=900, what="apt-get update").stdout
        say("postgres: apt-get install -y postgresql")
        output += run(
            ["apt-get", "install", "-y", "postgresql"],
            env=env,
            timeout=1800,
            what="apt-get install postgresql",
        ).stdout
        log.write_text(output)
        self._retire_debian_cluster()
        say("postgres: installed")

    @staticmethod
    def _retire_debian_cluster() -> None:
        # The Debian package creates and starts a 'main' cluster on 5432. We never use it;
        # stop it and mark it manual so it does not compete for memory or come back at boot.
        if shutil.which("pg_lsclusters") is None:
            return
        listing = run(["pg_lsclusters", "--no-header"], check=False).stdout
        for line in listing.splitlines():
            fields = line.split()
            if len(fields) < 4:
                continue
            version, cluster, status = fields[0], fields[1], fields[3]
            if status == "online":
                say(f"postgres: stopping the Debian default cluster {version}/{cluster}")
                run(["pg_ctlcluster", version, cluster, "stop"], check=False)
            start_conf = Path("/etc/postgresql") / version / cluster / "start.conf"
            if start_conf.exists():
                start_conf.write_text("# set by Tsunagu's deploy/local/stack.py: not used\nmanual\n")

    def _pg_location_file(self) -> Path:
        return self.state_dir / "pg.location"

    def _pg_dir(self) -> Path:
        """Where PostgreSQL's files live: <state>/pg unless the postgres OS user cannot reach
        the state dir (the repository sits under a private home, say); then under /var/lib.
        The choice is recorded at initdb so data never silently moves."""
        recorded = self._pg_location_file()
        if recorded.exists():
            return Path(recorded.read_text().strip())
        preferred = self.state_dir / "pg"
        if os.geteuid() != 0:
            return preferred
        import pwd

        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            return preferred
        probe = self.state_dir if self.state_dir.exists() else self.state_dir.parent
        if self._traversable(probe, entry.pw_uid, entry.pw_gid):
            return preferred
        digest = hashlib.sha256(str(self.state_dir).encode()).hexdigest()[:12]
        return Path("/var/lib/tsunagu") / digest

    @staticmethod
    def _traversable(path: Path, uid: int, gid: int) -> bool:
        import pwd

        try:
            groups = set(os.getgrouplist(pwd.getpwuid(uid).pw_name, gid))
        except KeyError:
            groups = {gid}
        for directory in (path, *path.parents):
            st = directory.stat()
            if st.st_uid == uid:
                ok = bool(st.st_mode & 0o100)
            elif st.st_gid in groups:
                ok = bool(st.st_mode & 0o010)
            else:
                ok = bool(st.st_mode & 0o001)
            if not ok:
                return False
        return True

    @property
    def pg_data_dir(self) -> Path:
        return self._pg_dir() / "data"

    def _pg_log(self) -> Path:
        pg_dir = self._pg_dir()
        if pg_dir.is_relative_to(self.state_dir):
            return self.logs_dir / "postgres.log"
        return pg_dir / "postgres.log"

    def _pg_socket_dir(self) -> Path:
        preferred = self._pg_dir() / "run"
        # Unix socket paths are limited to 107 bytes; deep test state dirs would exceed it.
        if len(str(preferred / f".s.PGSQL.{self.ports['postgres']}")) < 100:
            return preferred
        digest = hashlib.sha256(str(self.state_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"tsunagu-pg-{digest}"

    def _pg_pid(self) -> int | None:
        pid = _read_pid(self.pg_data_dir / "postmaster.pid")
        if pid is None or not pid_alive(pid):
            return None
        command = " ".join(_cmdline(pid))
        return pid if "postgres" in command or "postmaster" in command else None

    def _pg_env(self, with_password: bool = True) -> dict[str, str]:
        # A developer's own PGHOST/PGUSER/... must not redirect our admin commands.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if with_password:
            env["PGPASSWORD"] = self._db_password("superuser")
        env["PGCONNECT_TIMEOUT"] = "5"
        return env

    def _pg_ready(self) -> bool:
        bin_dir = self._pg_bin(install=False)
        if bin_dir is None:
            return False
        result = run(
            [
                str(bin_dir / "pg_isready"),
                "-q",
                "-h",
                LOOPBACK,
                "-p",
                str(self.ports["postgres"]),
                "-d",
                "postgres",
                "-U",
                "postgres",
                "-t",
                "2",
            ],
            env=self._pg_env(with_password=False),
            timeout=10,
            check=False,
        )
        return result.returncode == 0

    def _pg_init(self, bin_dir: Path) -> None:
        data = self.pg_data_dir
        if (data / "PG_VERSION").exists():
            if "superuser" not in self._load_secrets().get("postgres", {}):
                raise StackError(
                    f"{self.secrets_path} lost the PostgreSQL superuser password but the "
                    f"cluster in {data} still exists. Restore the file, or delete {data} "
                    "to start with empty databases."
                )
            return
        pg_dir = self._pg_dir()
        if not pg_dir.is_relative_to(self.state_dir):
            say(
                f"postgres: the postgres OS user cannot reach {self.state_dir}; "
                f"keeping PostgreSQL data in {pg_dir} instead"
            )
        _write_atomic(self._pg_location_file(), f"{pg_dir}\n")
        pg_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(pg_dir, 0o700)
        self._chown_pg(pg_dir)
        say(f"postgres: initdb into {data} (once)")
        staging = pg_dir / "data.init"
        if staging.exists():
            shutil.rmtree(staging)
        pwfile = pg_dir / "superuser.pw"
        _write_atomic(pwfile, self._db_password("superuser") + "\n", mode=0o600)
        self._chown_pg(pwfile)
        locales = run(["locale", "-a"], check=False).stdout.lower().split()
        locale = "C.UTF-8" if {"c.utf8", "c.utf-8"} & set(locales) else "C"
        try:
            # initdb into a staging dir and rename: a half-initialised data dir would make
            # every later attempt fail with "directory not empty".
            run(
                self._as_pg(
                    [
                        str(bin_dir / "initdb"),
                        "-D",
                        str(staging),
                        "--username=postgres",
                        f"--pwfile={pwfile}",
                        "--auth=scram-sha-256",
                        "--encoding=UTF8",
                        f"--locale={locale}",
                    ]
                ),
                cwd=pg_dir,
                timeout=300,
                what="initdb",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with (staging / "postgresql.conf").open("a", encoding="utf-8") as fh:
            fh.write("\n# Tsunagu local stack settings, rewritten on every start\n")
            fh.write("include_if_exists = 'tsunagu.conf'\n")
        staging.rename(data)

    def _pg_write_conf(self) -> None:
        socket_dir = self._pg_socket_dir()
        socket_dir.mkdir(parents=True, exist_ok=True)
        self._chown_pg(socket_dir)
        conf = self.pg_data_dir / "tsunagu.conf"
        _write_atomic(
            conf,
            "# Written by deploy/local/stack.py on every start: edit it there.\n"
            f"listen_addresses = '{LOOPBACK}'\n"
            f"port = {self.ports['postgres']}\n"
            f"unix_socket_directories = '{socket_dir}'\n"
            "max_connections = 200\n",
            mode=0o600,
        )
        self._chown_pg(conf)

    def _start_postgres(self) -> None:
        if self._pg_pid() is not None:
            self._wait_pg_ready()
            return
        bin_dir = self._pg_bin()
        assert bin_dir is not None
        self._prepare_dirs()
        self._pg_init(bin_dir)
        self._pg_write_conf()
        log = self._pg_log()
        log.touch(exist_ok=True)
        self._chown_pg(log)
        say(f"postgres: starting on {LOOPBACK}:{self.ports['postgres']} (log: {log})")
        run(
            self._as_pg(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(self.pg_data_dir),
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    str(int(PG_READY_TIMEOUT)),
                    "start",
                ]
            ),
            cwd=self._pg_dir(),
            timeout=PG_READY_TIMEOUT + 30,
            what=f"pg_ctl start (log: {log})",
        )
        self._wait_pg_ready()

    def _wait_pg_ready(self) -> None:
        deadline = time.monotonic() + PG_READY_TIMEOUT
        while not self._pg_ready():
            if time.monotonic() > deadline:
                raise StackError(
                    f"PostgreSQL is not accepting connections on port {self.ports['postgres']}."
                    f" Last lines of {self._pg_log()}:\n{tail(self._pg_log())}"
                )
            time.sleep(0.5)

    def _pg_provision(self) -> None:
        bin_dir = self._pg_bin()
        assert bin_dir is not None
        script: list[str] = []
        for name in SERVICES:
            password = self._db_password(name)
            # Generated by token_urlsafe; checked so it can sit inside a SQL literal.
            if not password.replace("-", "").replace("_", "").isalnum():
                raise StackError(f"unexpected characters in the stored password for {name}")
            script.append(
                "DO $$BEGIN\n"
                f"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN\n"
                f"    CREATE ROLE {name} LOGIN PASSWORD '{password}';\n"
                "  ELSE\n"
                f"    ALTER ROLE {name} LOGIN PASSWORD '{password}';\n"
                "  END IF;\n"
                "END$$;\n"
                f"SELECT 'CREATE DATABASE {name} OWNER {name} ENCODING ''UTF8'' "
                "TEMPLATE template0'\n"
                f"  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{name}')\\gexec\n"
                # Each service's data is its own: no other role may even connect.
                f"REVOKE CONNECT, TEMPORARY ON DATABASE {name} FROM PUBLIC;\n"
                f"GRANT CONNECT, TEMPORARY ON DATABASE {name} TO {name};\n"
            )
        try:
            run(
                [
                    str(bin_dir / "psql"),
                    "-X",
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-h",
                    LOOPBACK,
                    "-p",
                    str(self.ports["postgres"]),
                    "-U",
                    "postgres",
                    "-d",
                    "postgres",
                    "-f",
                    "-",
                ],
                env=self._pg_env(),
                input_text="".join(script),
                timeout=60,
                what="creating service roles and databases",
            )
        except StackError as exc:
            if "password authentication failed" in str(exc):
                raise StackError(
                    f"{exc}\nThe superuser password in {self.secrets_path} does not match the "
                    f"cluster in {self.pg_data_dir}: restore the file that created it, or "
                    "`stack.py down` and delete that data directory to start empty."
                ) from exc
            raise

    def _stop_postgres(self) -> None:
        pid = self._pg_pid()
        if pid is None:
            return
        bin_dir = self._pg_bin(install=False)
        say(f"postgres: stopping (pid {pid})")
        if bin_dir is not None:
            result = run(
                self._as_pg(
                    [
                        str(bin_dir / "pg_ctl"),
                        "-D",
                        str(self.pg_data_dir),
                        "-m",
                        "fast",
                        "-w",
                        "-t",
                        "60",
                        "stop",
                    ]
                ),
                cwd=self._pg_dir(),
                timeout=90,
                check=False,
            )
            if result.returncode == 0 and _wait_exit(pid, 10):
                return
        # pg_ctl failed or is gone: SIGINT is PostgreSQL's own "fast shutdown".
        _signal_process(pid, signal.SIGINT)
        if not _wait_exit(pid, 60):
            raise StackError(f"PostgreSQL (pid {pid}) did not stop; see {self._pg_log()}")

    def admin_database_url(self) -> str:
        password = self._db_password("superuser")
        return f"postgresql://postgres:{password}@{LOOPBACK}:{self.ports['postgres']}/postgres"

    def database_url(self, service: str) -> str:
        password = self._db_password(service)
        return f"postgresql://{service}:{password}@{LOOPBACK}:{self.ports['postgres']}/{service}"

    # ---- Java helpers --------------------------------------------------------------------

    @staticmethod
    def _java() -> str:
        java_home = os.environ.get("JAVA_HOME")
        if java_home and (Path(java_home) / "bin" / "java").exists():
            return str(Path(java_home) / "bin" / "java")
        found = shutil.which("java")
        if found is None:
            raise StackError("java not found: Kafka and Zipkin need a Java 17+ runtime on PATH")
        return found

    @staticmethod
    def _mvn() -> str:
        found = shutil.which("mvn")
        if found is None:
            raise StackError(
                "mvn (Apache Maven) not found: it fetches the Kafka and Zipkin jars from Maven "
                "Central once. Install it (Debian: apt-get install maven) and retry."
            )
        return found

    def _fetch_into(self, target: Path, argv_for: Callable[[Path], list[str]], what: str, stamp: str) -> None:
        """Fetch into a staging dir, then rename: an interrupted download never looks done."""
        staging = target.with_name(target.name + ".partial")
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        run(argv_for(staging), cwd=staging, timeout=1800, what=what)
        (staging / ".complete").write_text(stamp)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)

    @staticmethod
    def _fetched(target: Path, stamp: str) -> bool:
        try:
            return (target / ".complete").read_text() == stamp
        except OSError:
            return False

    # ---- Kafka ---------------------------------------------------------------------------

    @property
    def kafka_lib(self) -> Path:
        return self.cache_dir / "kafka-lib"

    @property
    def kafka_props(self) -> Path:
        return self.kafka_dir / "server.properties"

    def _ensure_kafka_jars(self) -> None:
        pom = Path(__file__).resolve().parent / "jars" / "pom.xml"
        # Keyed on the pom's content, so editing it (a Kafka upgrade) refetches by itself.
        stamp = f"pom-sha256={hashlib.sha256(pom.read_bytes()).hexdigest()}\n"
        if self._fetched(self.kafka_lib, stamp):
            return
        mvn = self._mvn()
        if self.kafka_lib.exists():
            say("kafka: deploy/local/jars/pom.xml changed; fetching the jars again")
        else:
            say("kafka: fetching Kafka jars from Maven Central (once)…")
        self._fetch_into(
            self.kafka_lib,
            lambda out: [
                mvn,
                "-q",
                "-B",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={out}",
                "-DincludeScope=runtime",
            ],
            "fetching the Kafka jars with Maven",
            stamp,
        )

    def _kafka_java(self, main: str, *args: str, what: str) -> str:
        return run(
            [self._java(), "-cp", f"{self.kafka_lib}/*", main, *args],
            cwd=self.kafka_dir,
            timeout=180,
            what=what,
        ).stdout

    def _kafka_cluster_id(self) -> str:
        path = self.kafka_dir / "cluster-id"
        if path.exists():
            return path.read_text().strip()
        output = self._kafka_java("kafka.tools.StorageTool", "random-uuid", what="kafka-storage random-uuid")
        cluster_id = output.strip().splitlines()[-1].strip()
        _write_atomic(path, cluster_id + "\n")
        return cluster_id

    def _write_kafka_config(self) -> None:
        port = self.ports["kafka"]
        controller = self.ports["kafka-controller"]
        data = self.kafka_dir / "data"
        properties = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{LOOPBACK}:{controller}",
            "listeners": f"PLAINTEXT://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{controller}",
            "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(data),
            "num.partitions": "3",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "min.insync.replicas": "1",
            "default.replication.factor": "1",
            "group.initial.rebalance.delay.ms": "0",
            # Topics are created by eventkit.topics with their intended partitioning and
            # retention; a typo in a topic name must fail loudly, not create a stray topic.
            "auto.create.topics.enable": "false",
        }
        lines = ["# Written by deploy/local/stack.py on every start: edit it there."]
        lines += [f"{key}={value}" for key, value in properties.items()]
        _write_atomic(self.kafka_props, "\n".join(lines) + "\n")
        log = self.logs_dir / "kafka.log"
        _write_atomic(
            self.kafka_dir / "log4j2.properties",
            "\n".join(
                [
                    "# Written by deploy/local/stack.py: everything into one file for `logs kafka`.",
                    "status = warn",
                    "name = tsunagu-kafka",
                    "appender.file.type = File",
                    "appender.file.name = FILE",
                    f"appender.file.fileName = {log}",
                    "appender.file.append = true",
                    "appender.file.layout.type = PatternLayout",
                    "appender.file.layout.pattern = [%d] %p %m (%c)%n",
                    "rootLogger.level = INFO",
                    "rootLogger.appenderRef.file.ref = FILE",
                    # Per-request and state-change chatter drowns the lines a developer needs.
                    "logger.request.name = kafka.request.logger",
                    "logger.request.level = WARN",
                    "logger.statechange.name = state.change.logger",
                    "logger.statechange.level = WARN",
                    "logger.cleaner.name = kafka.log.LogCleaner",
                    "logger.cleaner.level = WARN",
                    "",
                ]
            ),
        )

    def _start_kafka(self) -> int:
        pid = self.running_pid("kafka")
        if pid is not None:
            return pid
        self._check_port_free("kafka")
        self._check_port_free("kafka", "kafka-controller")
        self._ensure_kafka_jars()
        self.kafka_dir.mkdir(parents=True, exist_ok=True)
        self._write_kafka_config()
        if not (self.kafka_dir / "data" / "meta.properties").exists():
            cluster_id = self._kafka_cluster_id()
            say(f"kafka: formatting storage (once) with cluster id {cluster_id}")
            self._kafka_java(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(self.kafka_props),
                "--ignore-formatted",
                what="kafka-storage format",
            )
        log = self.logs_dir / "kafka.log"
        say(f"kafka: starting on {LOOPBACK}:{self.ports['kafka']} (log: {log})")
        proc = self._spawn(
            "kafka",
            [
                self._java(),
                "-Xms256m",
                "-Xmx768m",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={self.kafka_dir / 'log4j2.properties'}",
                f"-Dkafka.logs.dir={self.logs_dir}",
                "-cp",
                f"{self.kafka_lib}/*",
                "kafka.Kafka",
                str(self.kafka_props),
            ],
            os.environ,
            self.kafka_dir,
        )
        return proc.pid

    def _wait_kafka(self, pid: int) -> None:
        expected = self._kafka_cluster_id()
        port = self.ports["kafka"]

        def probe() -> bool:
            found = kafka_cluster_id(port)
            if found is not None and found != expected:
                raise StackError(
                    f"the Kafka broker on port {port} belongs to cluster {found}, not ours "
                    f"({expected}); set {PORT_ENV['kafka']} to a free port"
                )
            return found == expected

        if not probe():
            say("kafka: waiting for the broker to accept metadata requests…")
            self._wait_ready("kafka", pid, probe, KAFKA_READY_TIMEOUT)
        say(f"kafka: ready on {LOOPBACK}:{port}")

    # ---- Zipkin --------------------------------------------------------------------------

    @property
    def zipkin_jar(self) -> Path:
        return self.cache_dir / "zipkin" / ZIPKIN_JAR

    def _ensure_zipkin_jar(self) -> None:
        stamp = f"zipkin-server={ZIPKIN_VERSION}\n"
        if self._fetched(self.zipkin_jar.parent, stamp) and self.zipkin_jar.exists():
            return
        mvn = self._mvn()
        say(f"zipkin: fetching zipkin-server {ZIPKIN_VERSION} from Maven Central (once, 130 MB)…")
        self._fetch_into(
            self.zipkin_jar.parent,
            lambda out: [
                mvn,
                "-q",
                "-B",
                "dependency:copy",
                f"-Dartifact=io.zipkin:zipkin-server:{ZIPKIN_VERSION}:jar:exec",
                f"-DoutputDirectory={out}",
            ],
            "fetching the Zipkin server jar with Maven",
            stamp,
        )

    def _zipkin_health_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports['zipkin']}/health"

    def _start_zipkin(self) -> int:
        pid = self.running_pid("zipkin")
        if pid is not None:
            return pid
        self._check_port_free("zipkin")
        self._ensure_zipkin_jar()
        port = self.ports["zipkin"]
        # Zipkin maps many environment variables onto collectors and storage (a stray
        # KAFKA_BOOTSTRAP_SERVERS would make it consume from our broker), so it gets a
        # minimal environment rather than ours.
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "JAVA_HOME", "USER")
        env = {key: os.environ[key] for key in keep if key in os.environ}
        # A case makes about 70 spans: 200k spans keep the last ~3k cases within a 1 GiB heap.
        env.update(QUERY_PORT=str(port), STORAGE_TYPE="mem", MEM_MAX_SPANS="200000")
        log = self.logs_dir / "zipkin.log"
        say(f"zipkin: starting on {LOOPBACK}:{port} (log: {log})")
        # Zipkin serves through Armeria configured by Spring Boot; a list property replaces the
        # whole list, so the port entry is restated in full with ip= to bind loopback only.
        proc = self._spawn(
            "zipkin",
            [
                self._java(),
                "-Xmx1g",
                "-XX:+ExitOnOutOfMemoryError",
                "-jar",
                str(self.zipkin_jar),
                f"--armeria.ports[0].ip={LOOPBACK}",
                f"--armeria.ports[0].port={port}",
                "--armeria.ports[0].protocols[0]=http",
            ],
            env,
            self.zipkin_jar.parent,
        )
        return proc.pid

    def _wait_zipkin(self, pid: int) -> None:
        url = self._zipkin_health_url()
        if not http_ok(url):
            say("zipkin: waiting for /health…")
            self._wait_ready("zipkin", pid, lambda: http_ok(url), ZIPKIN_READY_TIMEOUT)
        say(f"zipkin: ready, UI at {self.zipkin_ui_url()} (traces kept in memory only)")

    def zipkin_ui_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports['zipkin']}/zipkin/"

    # ---- infrastructure ------------------------------------------------------------------

    def ensure_infra(self) -> None:
        """PostgreSQL, Kafka and Zipkin running and ready; reuses whatever already runs."""
        with self._lock():
            self._prepare_dirs()
            # Fail before starting anything if a foreign process holds one of our ports.
            if self._pg_pid() is None:
                self._check_port_free("postgres")
            if self.running_pid("kafka") is None:
                self._check_port_free("kafka")
                self._check_port_free("kafka", "kafka-controller")
            if self.running_pid("zipkin") is None:
                self._check_port_free("zipkin")
            # Both JVMs take seconds to boot on two cores: launch them, then set up
            # PostgreSQL while they warm up, then wait for each.
            kafka_pid = self._start_kafka()
            zipkin_pid = self._start_zipkin()
            self._start_postgres()
            self._pg_provision()
            say(f"postgres: ready on {LOOPBACK}:{self.ports['postgres']} (data: {self.pg_data_dir})")
            self._wait_kafka(kafka_pid)
            self._wait_zipkin(zipkin_pid)

    def ensure_topics(self) -> None:
        env = dict(os.environ)
        env["KAFKA_BOOTSTRAP_SERVERS"] = f"{LOOPBACK}:{self.ports['kafka']}"
        say("kafka: creating topics (python -m eventkit.topics)")
        result = run(
            [self.python, "-m", "eventkit.topics"],
            env=env,
            cwd=self.root,
            timeout=180,
            what="python -m eventkit.topics",
        )
        for line in result.stdout.strip().splitlines():
            print(f"    {line}")

    # ---- services ------------------------------------------------------------------------

    def service_url(self, name: str) -> str:
        if name not in self.ports or name in ("postgres", "kafka", "kafka-controller"):
            raise ValueError(f"{name} has no HTTP URL")
        return f"http://{LOOPBACK}:{self.ports[name]}"

    def service_env(self, name: str) -> dict[str, str]:
        if name not in SERVICES:
            raise ValueError(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
        # One service must never pick up another's settings (its database URL above all).
        foreign = tuple(f"{other.upper()}_" for other in SERVICES if other != name)
        env = {k: v for k, v in os.environ.items() if not k.startswith(foreign)}
        prefix = name.upper()
        _, public_key = self._auth_keys()
        env.update(
            {
                f"{prefix}_DATABASE_URL": self.database_url(name),
                f"{prefix}_KAFKA_BOOTSTRAP_SERVERS": f"{LOOPBACK}:{self.ports['kafka']}",
                f"{prefix}_HTTP_HOST": LOOPBACK,
                f"{prefix}_HTTP_PORT": str(self.ports[name]),
                f"{prefix}_AUTH_PUBLIC_KEY": public_key,
                "OTEL_SERVICE_NAME": name,
                "OTEL_TRACES_EXPORTER": "zipkin",
                "OTEL_EXPORTER_ZIPKIN_ENDPOINT": (f"http://{LOOPBACK}:{self.ports['zipkin']}/api/v2/spans"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if name == "intake":
            env["INTAKE_ENCRYPTION_KEYS"] = self._encryption_keys("intake")
            env["INTAKE_TWILIO_AUTH_TOKEN"] = self._channel_secret("twilio_auth_token")
            env["INTAKE_LINE_CHANNEL_SECRET"] = self._channel_secret("line_channel_secret")
            env["INTAKE_LINE_CHANNEL_ACCESS_TOKEN"] = self._channel_secret("line_channel_access_token")
            env["INTAKE_LINE_API_BASE_URL"] = self.service_url(LINE_API)
            # The URL the providers' signatures cover; here intake's own.
            env["INTAKE_PUBLIC_BASE_URL"] = self.service_url("intake")
        if name == "referral":
            env["REFERRAL_LINK_VERIFY_KEY"] = self._link_keys()[1]
            env.update(DEMO_DEADLINES)
        if name == "notify":
            env["NOTIFY_ENCRYPTION_KEYS"] = self._encryption_keys("notify")
            env["NOTIFY_PUBLIC_BASE_URL"] = self.service_url("notify")
            env["NOTIFY_LINK_SIGNING_KEY"] = self._link_keys()[0]
            env["NOTIFY_REFERRAL_PUBLIC_URL"] = self.service_url("referral")
            env["NOTIFY_SMTP_HOST"] = LOOPBACK
            env["NOTIFY_SMTP_PORT"] = str(self.ports[MAIL])
            env["NOTIFY_SMTP_FROM"] = "Tsunagu (local) <noreply@tsunagu.invalid>"
        if name == WEB:
            # The screens are the identity provider: the one process that holds the private key.
            env["WEB_AUTH_SIGNING_KEY"] = self._auth_keys()[0]
            for api in API_SERVICES:
                env[f"WEB_{api.upper()}_URL"] = self.service_url(api)
            env["WEB_TRACE_URL_TEMPLATE"] = f"{self.zipkin_ui_url()}traces/{{trace_id}}"
        return env

    def _ready_url(self, name: str) -> str:
        return f"{self.service_url(name)}/readyz"

    def start_service(self, name: str, settings: Mapping[str, str] | None = None) -> None:
        """Start a service unless it runs; `settings` adds to (or overrides) its environment."""
        if name not in SERVICES:
            raise ValueError(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
        with self._lock():
            url = self._ready_url(name)
            pid = self.running_pid(name)
            if pid is None:
                self._check_port_free(name)
                env = self.service_env(name) | dict(settings or {})
                say(f"{name}: starting on {self.service_url(name)} (log: {self.log_path(name)})")
                pid = self._spawn(name, [self.python, "-m", name], env, self.root).pid
            if not http_ok(url):
                self._wait_ready(
                    name,
                    pid,
                    lambda: http_ok(url),
                    SERVICE_READY_TIMEOUT,
                    hint=f" (GET {url} never returned 200)",
                )
            say(f"{name}: ready at {self.service_url(name)}")

    def stop_service(self, name: str, sig: int = signal.SIGTERM) -> None:
        if name not in (*SERVICES, RECEIVER, MAIL, LINE_API, "kafka", "zipkin"):
            raise ValueError(f"unknown service {name!r}")
        with self._lock():
            pid = self.running_pid(name)
            if pid is None:
                self._pid_file(name).unlink(missing_ok=True)
                return
            grace = KAFKA_STOP_GRACE if name == "kafka" else SERVICE_STOP_GRACE
            say(f"{name}: stopping (pid {pid})")
            self._stop_pid(name, pid, sig, grace)

    def kill_service(self, name: str) -> None:
        pid = self.running_pid(name)
        if pid is None:
            return
        _signal_process(pid, signal.SIGKILL)
        # Only the kernel's cleanup is awaited, so the port is free for a restart.
        _wait_exit(pid, 10)
        self._collect(name)
        self._pid_file(name).unlink(missing_ok=True)

    # ---- sample partner receiver ---------------------------------------------------------

    def start_receiver(self) -> None:
        with self._lock():
            url = f"{self.service_url(RECEIVER)}/readyz"
            pid = self.running_pid(RECEIVER)
            if pid is None:
                self._check_port_free(RECEIVER)
                self.receiver_dir.mkdir(parents=True, exist_ok=True)
                script = Path(__file__).resolve().parent / "partner_receiver.py"
                say(
                    f"receiver: starting sample partner webhook receiver on "
                    f"{self.service_url(RECEIVER)} (log: {self.log_path(RECEIVER)})"
                )
                argv = [
                    sys.executable,
                    str(script),
                    "--host",
                    LOOPBACK,
                    "--port",
                    str(self.ports[RECEIVER]),
                    "--state-dir",
                    str(self.state_dir),
                ]
                env = dict(os.environ, PYTHONUNBUFFERED="1")
                pid = self._spawn(RECEIVER, argv, env, self.root).pid
            if not http_ok(url):
                self._wait_ready(RECEIVER, pid, lambda: http_ok(url), 15)

    @property
    def mail_dir(self) -> Path:
        return self.state_dir / "mail"

    def _mail_ready(self) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.ports[MAIL]), timeout=2) as sock:
                return sock.recv(3) == b"220"
        except OSError:
            return False

    def start_mail_sink(self) -> None:
        """The SMTP sink that keeps notify's e-mail alerts as files in <state>/mail/."""
        with self._lock():
            pid = self.running_pid(MAIL)
            if pid is None:
                self._check_port_free(MAIL)
                script = Path(__file__).resolve().parent / "mail_sink.py"
                say(
                    f"mail: starting the SMTP sink on {LOOPBACK}:{self.ports[MAIL]}, messages in "
                    f"{self.mail_dir} (log: {self.log_path(MAIL)})"
                )
                argv = [
                    self.python,  # aiosmtpd is in the project venv
                    str(script),
                    "--host",
                    LOOPBACK,
                    "--port",
                    str(self.ports[MAIL]),
                    "--state-dir",
                    str(self.state_dir),
                ]
                env = dict(os.environ, PYTHONUNBUFFERED="1")
                pid = self._spawn(MAIL, argv, env, self.root).pid
            if not self._mail_ready():
                self._wait_ready(MAIL, pid, self._mail_ready, 15)

    def start_line_api(self) -> None:
        """The LINE Messaging API stand-in (services/intake/scripts/line_api_stub.py)."""
        with self._lock():
            url = f"{self.service_url(LINE_API)}/readyz"
            pid = self.running_pid(LINE_API)
            if pid is None:
                self._check_port_free(LINE_API)
                script = self.root / "services" / "intake" / "scripts" / "line_api_stub.py"
                say(
                    f"line-api: starting the LINE Messaging API stand-in on {self.service_url(LINE_API)} "
                    f"(sent messages: {self.service_url(LINE_API)}/sent)"
                )
                argv = [sys.executable, str(script), "--host", LOOPBACK, "--port", str(self.ports[LINE_API])]
                token = self._channel_secret("line_channel_access_token")
                env = dict(os.environ, PYTHONUNBUFFERED="1", LINE_API_STUB_ACCESS_TOKEN=token)
                pid = self._spawn(LINE_API, argv, env, self.root).pid
            if not http_ok(url):
                self._wait_ready(LINE_API, pid, lambda: http_ok(url), 15)

    def _channel_examples(self, intake: str) -> list[str]:
        """Signed example requests of the phone and LINE channels (intake.examples signs them)."""
        call_sid = "CA" + secrets.token_hex(16)
        try:
            token = self._channel_secret("twilio_auth_token")
            sign = "phone_curl"
            call = self._eventkit("intake.examples", sign, token, intake, call_sid=call_sid)
            digit = self._eventkit("intake.examples", sign, token, intake, digits="9", call_sid=call_sid)
            secret = self._channel_secret("line_channel_secret")
            chat = self._eventkit("intake.examples", "line_curl", secret, intake, text="話を聞いてほしいです")
        except (StackError, OSError, ValueError) as exc:
            return [f"(channel examples unavailable: {exc})", ""]

        def indent(text: str) -> list[str]:
            return ["    " + line for line in str(text).splitlines()]

        return [
            "Phone channel — a call as the voice provider posts it (signed with X-Twilio-Signature);",
            "the answer is TwiML reading the voice menu in Japanese:",
            *indent(call),
            "  the caller presses 9 (same CallSid) and is connected to the desk:",
            *indent(digit),
            "LINE channel — a message as LINE posts it (signed with X-Line-Signature); the bot's quick",
            f"reply goes to the LINE stand-in: curl -sS {self.service_url(LINE_API)}/sent",
            *indent(chat),
            '  Counsellors: GET /v1/channels/phone/legs and GET /v1/chats (README "Channels");',
            "  more signed examples: INTAKE_*=… .venv/bin/python -m intake sign-example phone|line --help",
            "",
        ]

    # ---- sample data ---------------------------------------------------------------------

    def sample_organisations(self) -> list[dict[str, Any]]:
        data = json.loads((self.sample_dir / "organisations.json").read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise StackError("sample/organisations.json should hold a JSON list")
        return data

    def _receiver_secrets_path(self) -> Path:
        return self.receiver_dir / "secrets.json"

    def seed_sample_data(self) -> None:
        """Register the sample organisations and their webhook secrets; safe to repeat."""
        try:
            token = self.mint_token("operator", "stack-seed")
        except StackError as exc:
            warn(f"cannot mint an operator token, sample data not seeded: {exc}")
            return
        organisations = self.sample_organisations()
        directory = self.service_url("directory")
        receiver = self.service_url(RECEIVER)
        seeded = 0
        for org in organisations:
            body = {key: value for key, value in org.items() if key != "id"}
            # The receiver port can be overridden; the sample file holds the default one.
            body["webhook_url"] = f"{receiver}/hooks/{org['id']}"
            url = f"{directory}/v1/organisations/{org['id']}"
            try:
                status, reply = http_json("PUT", url, body, token)
            except (OSError, http.client.HTTPException) as exc:
                warn(f"directory is not reachable ({exc}); sample organisations not seeded yet")
                break
            if _route_missing(status, reply):
                warn(f"directory does not serve PUT /v1/organisations yet (HTTP {status}); skipped")
                break
            if status not in (200, 201):
                warn(f"PUT {url} → HTTP {status}: {str(reply)[:300]}")
                continue
            seeded += 1
        if seeded:
            say(f"sample data: {seeded} organisations registered in directory")
        imported = self._import_sample_directory(token)
        self._seed_webhook_secrets(organisations + imported, token)
        self._seed_voice_menu(organisations, token)

    def _seed_voice_menu(self, organisations: list[dict[str, Any]], token: str) -> None:
        """Put a sample voice menu on the phone line (once: an active one is left alone)."""
        intake = self.service_url("intake")
        try:
            status, _ = http_json("GET", f"{intake}/v1/voice-menus/active", None, token)
            if status != 404:
                return
            body = self._eventkit("intake.examples", "sample_voice_menu", str(organisations[0]["id"]))
            status, reply = http_json("POST", f"{intake}/v1/voice-menus", body, token)
            if status != 201 or not isinstance(reply, dict):
                warn(f"sample voice menu not created: HTTP {status}: {str(reply)[:300]}")
                return
            status, _ = http_json("POST", f"{intake}/v1/voice-menus/{reply['id']}/activate", None, token)
        except (OSError, http.client.HTTPException, StackError, IndexError, KeyError) as exc:
            warn(f"sample voice menu not seeded: {exc}")
            return
        say(f"sample data: voice menu {reply['campaign']} v{reply['version']} on the phone line")

    def _import_sample_directory(self, token: str) -> list[dict[str, Any]]:
        """Load the sample directory (HSDS 3.0 JSON, 300+ organisations) in one request.

        Idempotent: directory's import changes only what differs, so a repeat is quick and
        records nothing. Returns the organisations that take webhooks, for their secrets.
        """
        path = self.sample_dir / "directory.hsds.json"
        if not path.exists():
            return []
        document = json.loads(path.read_text(encoding="utf-8"))
        receiver = self.service_url(RECEIVER)
        with_webhook = []
        for org in document.get("organizations", []):
            extension = org.get("x_tsunagu") or {}
            if extension.get("webhook_url"):
                # The receiver port can be overridden; the file holds the default one.
                extension["webhook_url"] = f"{receiver}/hooks/{org['id']}"
                with_webhook.append({"id": org["id"]})
        url = f"{self.service_url('directory')}/v1/hsds/import"
        try:
            status, reply = http_json("POST", url, document, token, timeout=120)
        except (OSError, http.client.HTTPException) as exc:
            warn(f"directory is not reachable ({exc}); sample directory not loaded")
            return []
        if _route_missing(status, reply):
            warn(f"directory does not serve POST /v1/hsds/import yet (HTTP {status}); skipped")
            return []
        if status != 200 or not isinstance(reply, dict):
            warn(f"POST {url} → HTTP {status}: {str(reply)[:300]}")
            return []
        say(
            f"sample data: sample directory of {reply['organizations']} organisations loaded "
            f"({reply['created']} new, {reply['changed_fields']} fields changed)"
        )
        return with_webhook

    def _seed_webhook_secrets(self, organisations: list[dict[str, Any]], token: str) -> None:
        path = self._receiver_secrets_path()
        try:
            known: dict[str, Any] = json.loads(path.read_text())
        except FileNotFoundError:
            known = {}
        notify = self.service_url("notify")
        added = 0
        for org in organisations:
            org_id = str(org["id"])
            if known.get(org_id):
                continue
            url = f"{notify}/v1/partners/{org_id}/webhook-secret"
            try:
                status, reply = http_json("POST", url, None, token)
            except (OSError, http.client.HTTPException) as exc:
                warn(f"notify is not reachable ({exc}); webhook secrets not issued yet")
                break
            if _route_missing(status, reply):
                warn(f"notify does not serve POST /v1/partners/…/webhook-secret yet (HTTP {status})")
                break
            if status not in (200, 201) or not isinstance(reply, dict) or "secret" not in reply:
                warn(f"POST {url} → HTTP {status}: {str(reply)[:300]}")
                continue
            known[org_id] = reply["secret"]
            added += 1
            # Written after each secret: notify returns a secret only once, so a lost one
            # cannot be read back, only rotated.
            _write_atomic(path, json.dumps(known, indent=2) + "\n", mode=0o600)
        if added:
            say(f"sample data: {added} webhook secrets issued and stored in {path}")

    def web_users(self) -> list[dict[str, Any]]:
        """The demo sign-ins: a counsellor, an operator, and one partner user per sample
        organisation; passwords generated once and kept in secrets.json."""

        def password(username: str) -> str:
            value: str = self._secret("web_users", username, lambda: secrets.token_urlsafe(12))
            return value

        users: list[dict[str, Any]] = [
            {"username": "counsellor", "display_name": "相談員 デモ", "role": "counsellor"},
            {"username": "operator", "display_name": "運用担当 デモ", "role": "operator"},
        ]
        for index, org in enumerate(self.sample_organisations()[:8], start=1):
            users.append(
                {
                    "username": f"partner{index}",
                    "display_name": str(org.get("name", f"partner {index}")),
                    "role": "partner",
                    "organisation_id": str(org["id"]),
                }
            )
        return [dict(user, password=password(user["username"])) for user in users]

    def seed_web_users(self) -> None:
        """Create or update the demo sign-ins in web's database; safe to repeat."""
        users = self.web_users()
        result = run(
            [self.python, "-m", WEB, "seed-users"],
            env=self.service_env(WEB),
            cwd=self.root,
            input_text=json.dumps(users, ensure_ascii=False),
            timeout=120,
            check=False,
            what="python -m web seed-users",
        )
        if result.returncode != 0:
            warn(f"demo sign-ins not seeded: {result.stdout.strip()[-500:]}")
            return
        say(f"sample data: {len(users)} demo sign-ins for the screens")

    # ---- whole stack ---------------------------------------------------------------------

    def up(self) -> None:
        with self._lock():
            self.ensure_infra()
            self.ensure_topics()
            failures: list[str] = []
            for name in SERVICES:
                try:
                    self.start_service(name)
                except StackError as exc:
                    warn(str(exc))
                    failures.append(name)
            self.start_receiver()
            self.start_mail_sink()
            self.start_line_api()
            self.seed_sample_data()
            self.seed_web_users()
        print()
        print(self.welcome_text())
        if failures:
            raise StackError(
                f"not started: {', '.join(failures)} (see above; "
                f"`python deploy/local/stack.py logs {failures[0]}`)"
            )

    def down(self) -> None:
        with self._lock():
            for name in (*reversed(SERVICES), RECEIVER, MAIL, LINE_API, "zipkin", "kafka"):
                self.stop_service(name)
            self._stop_postgres()
        say(f"stopped; data kept in {self.state_dir} (Zipkin traces are gone: memory only)")

    def restart(self, name: str) -> None:
        if name in SERVICES:
            self.stop_service(name)
            self.start_service(name)
        elif name == RECEIVER:
            self.stop_service(name)
            self.start_receiver()
        elif name == MAIL:
            self.stop_service(name)
            self.start_mail_sink()
        elif name == LINE_API:
            self.stop_service(name)
            self.start_line_api()
        elif name in ("kafka", "zipkin"):
            self.stop_service(name)
            self.ensure_infra()
        elif name == "postgres":
            self._stop_postgres()
            self.ensure_infra()
        else:
            raise StackError(f"unknown component {name!r}; one of {', '.join(COMPONENTS)}")

    def _component_health(self, name: str) -> bool:
        if name == "postgres":
            return self._pg_ready()
        if name == "kafka":
            return kafka_cluster_id(self.ports["kafka"], timeout=2) is not None
        if name == "zipkin":
            return http_ok(self._zipkin_health_url())
        if name == MAIL:
            return self._mail_ready()
        return http_ok(f"{self.service_url(name)}/readyz")

    def _component_url(self, name: str) -> str:
        port = self.ports[name]
        if name == "postgres":
            return f"postgresql://{LOOPBACK}:{port}/ (one database per service)"
        if name == "kafka":
            return f"{LOOPBACK}:{port} (bootstrap)"
        if name == "zipkin":
            return self.zipkin_ui_url()
        if name == RECEIVER:
            return f"http://{LOOPBACK}:{port}/received"
        if name == MAIL:
            return f"smtp://{LOOPBACK}:{port} (messages in {self.mail_dir})"
        if name == LINE_API:
            return f"http://{LOOPBACK}:{port}/sent"
        return f"http://{LOOPBACK}:{port}/docs"

    def status(self) -> int:
        rows: list[tuple[str, str, str, str, str]] = []
        all_up = True
        for name in COMPONENTS:
            pid = self.running_pid(name) if self.state_dir.exists() else None
            if pid is None:
                state = "stopped"
                all_up = False
            elif self._component_health(name):
                state = "running"
            else:
                state = "unhealthy"
                all_up = False
            rows.append((name, state, str(pid or "-"), str(self.ports[name]), self._component_url(name)))
        headers = ("COMPONENT", "STATE", "PID", "PORT", "URL")
        widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]
        out = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            for row in (headers, *rows)
        ]
        out += ["", self._notes()]
        if not all_up:
            out += ["", "Not everything is running: `make up` (or python deploy/local/stack.py up)."]
        out += ["", self.welcome_text()]
        _emit("\n".join(out))
        return 0 if all_up else 3

    def _notes(self) -> str:
        lines = [f"State (data, logs, secrets): {self.state_dir}"]
        if self.state_dir.exists() and self._pg_location_file().exists():
            data = self.pg_data_dir
            where = "" if data.is_relative_to(self.state_dir) else "  (outside the state dir: "
            if where:
                where += "the postgres OS user cannot reach it)"
            lines.append(f"PostgreSQL data: {data}{where}")
        lines.append(f"Kafka data: {self.kafka_dir / 'data'}")
        lines.append("Zipkin keeps traces in memory only: they are lost when Zipkin stops.")
        lines.append(f"Logs: {self.logs_dir}/<component>.log  (stack.py logs <component>)")
        return "\n".join(lines)

    def welcome_text(self) -> str:
        urls = {name: self.service_url(name) for name in API_SERVICES}
        receiver = self.service_url(RECEIVER)
        web = self.service_url(WEB)
        lines = [
            "Tsunagu local stack",
            "===================",
            f"Screens (日本語 / English): {web}/",
            f"  web chat (anonymous):  {web}/chat",
            f"  counsellor console:    {web}/console",
            f"  partner portal:        {web}/portal",
            f"  operator dashboard:    {web}/ops",
        ]
        try:
            demo = self.web_users()
        except (StackError, OSError, ValueError, KeyError) as exc:
            lines += [f"  (demo sign-ins unavailable: {exc})"]
        else:
            lines += ["  Demo sign-ins (username / password):"]
            for user in demo:
                note = f"   # {user['display_name']}" if user["role"] == "partner" else ""
                lines.append(f"    {user['username']:<11} {user['password']}{note}")
        lines += [
            "",
            "API docs (OpenAPI):",
        ]
        lines += [f"  {name:<10} {url}/docs" for name, url in urls.items()]
        lines += [
            f"Traces (Zipkin):      {self.zipkin_ui_url()}   (in memory only)",
            f"Sample partner inbox: {receiver}/received   (log: {self.log_path(RECEIVER)})",
            "",
        ]
        try:
            first = self.sample_organisations()[0]
            counsellor = self.mint_token("counsellor", "counsellor-demo")
            operator = self.mint_token("operator", "operator-demo")
            partner = self.mint_token("partner", "partner-demo", organisation_id=str(first["id"]))
        except (StackError, OSError, ValueError, IndexError, KeyError) as exc:
            lines += [f"(tokens unavailable: {exc})", ""]
        else:
            lines += [
                f"Demo tokens (valid {TOKEN_TTL_HOURS} hours):",
                f"  export COUNSELLOR_TOKEN='{counsellor}'",
                f"  export OPERATOR_TOKEN='{operator}'",
                f"  export PARTNER_TOKEN='{partner}'",
                f"    # partner of {first['name']} ({first['id']})",
                "  New ones: python deploy/local/stack.py token --role counsellor --subject me"
                " [--organisation-id ID]",
                "",
            ]
        lines += [
            "Record a serious consultation:",
            f"  curl -sS -X POST {urls['intake']}/v1/consultations \\",
            "    -H \"Authorization: Bearer $COUNSELLOR_TOKEN\" -H 'Content-Type: application/json' \\",
            "    -H 'Idempotency-Key: demo-1' \\",
            '    -d \'{"channel":"phone","topic":"LONELY","municipality_code":"131041",'
            '"severity":"S3","lawful_basis":"CONSENT",'
            '"summary":"(sample) 一人暮らしで食事がとれていない",'
            '"contact":{"name":"サンプル 太郎","phone":"090-0000-0000"}}\'',
            "",
            "Then watch the handoff arrive at the sample partner (新宿区, 131041):",
            f"  curl -sS {receiver}/received        or  tail -f {self.log_path(RECEIVER)}",
            f"and follow the trace across services in Zipkin: {self.zipkin_ui_url()}",
            "",
            f"E-mail alerts land as files in {self.mail_dir}/ (tail -f {self.log_path(MAIL)}).",
            "The sample partner never acknowledges, so watch the handoff move on: this stack's deadlines",
            f"are short (S3 {DEMO_DEADLINES['REFERRAL_DEADLINE_S3_S']} s, S4 "
            f"{DEMO_DEADLINES['REFERRAL_DEADLINE_S4_S']} s; the service defaults are 30 and 10 minutes).",
            "After S3's deadline the next ranked organisation is offered the case (up to 3), then the",
            "referral is exhausted and operators are alerted. The whole story, with trace ids:",
            '  curl -sS -H "Authorization: Bearer $COUNSELLOR_TOKEN" \\',
            f"    '{urls['referral']}/v1/referrals?case_id=<case_id>'   # then …/v1/referrals/<id>/timeline",
            "To acknowledge instead, open the 'acknowledge' link of the webhook (or the e-mail) and press",
            "the button; or POST …/v1/referrals/<id>/attempts/<n>/acknowledge with $PARTNER_TOKEN.",
            "",
            *self._channel_examples(urls["intake"]),
            "Stop everything: make down   (python deploy/local/stack.py down); data is kept in",
            f"  {self.state_dir}  — delete that directory for a clean slate.",
        ]
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def _follow(path: Path, lines: int) -> None:
    print(tail(path, lines))
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        while True:
            chunk = fh.read()
            if chunk:
                sys.stdout.write(chunk.decode(errors="replace"))
                sys.stdout.flush()
            else:
                time.sleep(0.5)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stack.py", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="infrastructure, topics, services, receiver, sample data")
    commands.add_parser("down", help="stop everything (data is kept)")
    commands.add_parser("status", help="what runs where; exit 0 only if everything is up")
    commands.add_parser("infra-up", help="PostgreSQL, Kafka and Zipkin only")
    commands.add_parser("seed", help="(re)register the sample organisations")
    restart = commands.add_parser("restart", help="restart one component")
    restart.add_argument("name", choices=COMPONENTS)
    logs = commands.add_parser("logs", help="show a component's log")
    logs.add_argument("name", choices=COMPONENTS)
    logs.add_argument("-n", "--lines", type=int, default=100)
    logs.add_argument("-f", "--follow", action="store_true")
    token = commands.add_parser("token", help="print a bearer token")
    token.add_argument("--role", required=True)
    token.add_argument("--subject", required=True)
    token.add_argument("--organisation-id")
    args = parser.parse_args(argv)

    try:
        stack = Stack()
        if args.command == "up":
            stack.up()
        elif args.command == "down":
            stack.down()
        elif args.command == "status":
            return stack.status()
        elif args.command == "infra-up":
            stack.ensure_infra()
            print(stack._notes())
        elif args.command == "seed":
            stack.seed_sample_data()
            stack.seed_web_users()
        elif args.command == "restart":
            stack.restart(args.name)
        elif args.command == "logs":
            path = stack.log_path(args.name)
            if args.follow:
                _follow(path, args.lines)
            else:
                print(tail(path, args.lines))
        elif args.command == "token":
            print(stack.mint_token(args.role, args.subject, args.organisation_id))
    except StackError as exc:
        print(f"[stack] ERROR: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `stack.py status | head`: the reader left; exit quietly like other CLI tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
