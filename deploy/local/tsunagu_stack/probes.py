"""Is it there yet: ports, HTTP endpoints, the Kafka broker over its wire protocol, and waiting on them."""

from __future__ import annotations

import http.client
import json
import os
import socket
import struct
import time
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tsunagu_stack.core import LOOPBACK, PORT_ENV, StackError
from tsunagu_stack.processes import Processes, cmdline, tail

# --------------------------------------------------------------------------------------------
# Ports
# --------------------------------------------------------------------------------------------


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
                command = " ".join(cmdline(int(proc.name)))[:120]
                return f"pid {proc.name} ({command})"
    return None


def check_port_free(ports: Mapping[str, int], name: str, port_key: str | None = None) -> None:
    """Fail, naming the holder and the variable that moves us elsewhere, if our port is taken."""
    key = port_key or name
    port = ports[key]
    if not port_in_use(port):
        return
    holder = port_holder(port)
    by = f" by {holder}" if holder else ""
    raise StackError(
        f"port {port} is needed for {name} but is already in use{by}. "
        f"Stop that process, or choose another port: {PORT_ENV[key]}=<port> "
        f"(the same variable must be set for every stack command)."
    )


# --------------------------------------------------------------------------------------------
# HTTP (http.client rather than urllib: no proxies from the environment, loopback only)
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


def route_missing(status: int, reply: Any) -> bool:
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
# Waiting
# --------------------------------------------------------------------------------------------


def wait_ready(
    processes: Processes,
    name: str,
    pid: int,
    probe: Callable[[], bool],
    timeout: float,
    hint: str = "",
) -> None:
    """Poll `probe` until it holds; fail early, with the log's tail, if the process dies."""
    deadline = time.monotonic() + timeout
    log = processes.log_path(name)
    while True:
        if probe():
            return
        code = processes.exited(name, pid)
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
