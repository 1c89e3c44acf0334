"""The stack's PostgreSQL cluster: initdb once, start and stop, one database and role per service."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Final

from tsunagu_stack import postgres_install as install
from tsunagu_stack.core import LOOPBACK, SERVICES, StackError, say
from tsunagu_stack.processes import cmdline, pid_alive, read_pid, run, signal_process, tail, wait_exit
from tsunagu_stack.secret_store import SecretStore
from tsunagu_stack.state import StateDir, write_atomic

PG_READY_TIMEOUT: Final = 60.0


class Postgres:
    def __init__(self, state: StateDir, ports: dict[str, int], secrets: SecretStore) -> None:
        self.state = state
        self.ports = ports
        self.secrets = secrets
        self._bin_dir: Path | None = None

    # ---- where things are ----------------------------------------------------------------

    def binaries(self, install_missing: bool = True) -> Path | None:
        if self._bin_dir is None:
            self._bin_dir = install.find_binaries()
        if self._bin_dir is not None or not install_missing:
            return self._bin_dir
        install.install(self.state)
        self._bin_dir = install.find_binaries() or install.fail_no_postgres()
        return self._bin_dir

    @property
    def dir(self) -> Path:
        return install.pg_dir(self.state)

    @property
    def data_dir(self) -> Path:
        return self.dir / "data"

    @property
    def location_recorded(self) -> bool:
        return install.location_file(self.state).exists()

    @property
    def log(self) -> Path:
        pg_dir = self.dir
        if pg_dir.is_relative_to(self.state.path):
            return self.state.logs / "postgres.log"
        return pg_dir / "postgres.log"

    def _socket_dir(self) -> Path:
        preferred = self.dir / "run"
        # Unix socket paths are limited to 107 bytes; deep test state dirs would exceed it.
        if len(str(preferred / f".s.PGSQL.{self.ports['postgres']}")) < 100:
            return preferred
        digest = hashlib.sha256(str(self.state.path).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"tsunagu-pg-{digest}"

    def pid(self) -> int | None:
        pid = read_pid(self.data_dir / "postmaster.pid")
        if pid is None or not pid_alive(pid):
            return None
        command = " ".join(cmdline(pid))
        return pid if "postgres" in command or "postmaster" in command else None

    def admin_database_url(self) -> str:
        password = self.secrets.db_password("superuser")
        return f"postgresql://postgres:{password}@{LOOPBACK}:{self.ports['postgres']}/postgres"

    def database_url(self, service: str) -> str:
        password = self.secrets.db_password(service)
        return f"postgresql://{service}:{password}@{LOOPBACK}:{self.ports['postgres']}/{service}"

    # ---- readiness -----------------------------------------------------------------------

    def _env(self, with_password: bool = True) -> dict[str, str]:
        # A developer's own PGHOST/PGUSER/... must not redirect our admin commands.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if with_password:
            env["PGPASSWORD"] = self.secrets.db_password("superuser")
        env["PGCONNECT_TIMEOUT"] = "5"
        return env

    def ready(self) -> bool:
        bin_dir = self.binaries(install_missing=False)
        if bin_dir is None:
            return False
        isready = [str(bin_dir / "pg_isready"), "-q", "-h", LOOPBACK, "-p", str(self.ports["postgres"])]
        result = run(
            [*isready, "-d", "postgres", "-U", "postgres", "-t", "2"],
            env=self._env(with_password=False),
            timeout=10,
            check=False,
        )
        return result.returncode == 0

    def wait_ready(self) -> None:
        deadline = time.monotonic() + PG_READY_TIMEOUT
        while not self.ready():
            if time.monotonic() > deadline:
                raise StackError(
                    f"PostgreSQL is not accepting connections on port {self.ports['postgres']}."
                    f" Last lines of {self.log}:\n{tail(self.log)}"
                )
            time.sleep(0.5)

    # ---- start and stop ------------------------------------------------------------------

    def _init(self, bin_dir: Path) -> None:
        data = self.data_dir
        if (data / "PG_VERSION").exists():
            if not self.secrets.known("postgres", "superuser"):
                raise StackError(
                    f"{self.state.secrets} lost the PostgreSQL superuser password but the "
                    f"cluster in {data} still exists. Restore the file, or delete {data} "
                    "to start with empty databases."
                )
            return
        pg_dir = self.dir
        if not pg_dir.is_relative_to(self.state.path):
            say(
                f"postgres: the postgres OS user cannot reach {self.state.path}; "
                f"keeping PostgreSQL data in {pg_dir} instead"
            )
        write_atomic(install.location_file(self.state), f"{pg_dir}\n")
        pg_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(pg_dir, 0o700)
        install.chown_pg(pg_dir)
        say(f"postgres: initdb into {data} (once)")
        staging = pg_dir / "data.init"
        if staging.exists():
            shutil.rmtree(staging)
        pwfile = pg_dir / "superuser.pw"
        write_atomic(pwfile, self.secrets.db_password("superuser") + "\n", mode=0o600)
        install.chown_pg(pwfile)
        locales = run(["locale", "-a"], check=False).stdout.lower().split()
        locale = "C.UTF-8" if {"c.utf8", "c.utf-8"} & set(locales) else "C"
        try:
            # initdb into a staging dir and rename: a half-initialised data dir would make
            # every later attempt fail with "directory not empty".
            run(
                install.as_pg(
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

    def _write_conf(self) -> None:
        socket_dir = self._socket_dir()
        socket_dir.mkdir(parents=True, exist_ok=True)
        install.chown_pg(socket_dir)
        conf = self.data_dir / "tsunagu.conf"
        write_atomic(
            conf,
            "# Written by deploy/local/tsunagu_stack/postgres.py on every start: edit it there.\n"
            f"listen_addresses = '{LOOPBACK}'\n"
            f"port = {self.ports['postgres']}\n"
            f"unix_socket_directories = '{socket_dir}'\n"
            "max_connections = 200\n",
            mode=0o600,
        )
        install.chown_pg(conf)

    def start(self) -> None:
        if self.pid() is not None:
            self.wait_ready()
            return
        bin_dir = self.binaries()
        assert bin_dir is not None
        self.state.prepare()
        self._init(bin_dir)
        self._write_conf()
        log = self.log
        log.touch(exist_ok=True)
        install.chown_pg(log)
        say(f"postgres: starting on {LOOPBACK}:{self.ports['postgres']} (log: {log})")
        timeout = str(int(PG_READY_TIMEOUT))
        run(
            install.as_pg(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    timeout,
                    "start",
                ]
            ),
            cwd=self.dir,
            timeout=PG_READY_TIMEOUT + 30,
            what=f"pg_ctl start (log: {log})",
        )
        self.wait_ready()

    def stop(self) -> None:
        pid = self.pid()
        if pid is None:
            return
        bin_dir = self.binaries(install_missing=False)
        say(f"postgres: stopping (pid {pid})")
        if bin_dir is not None:
            result = run(
                install.as_pg(
                    [
                        str(bin_dir / "pg_ctl"),
                        "-D",
                        str(self.data_dir),
                        "-m",
                        "fast",
                        "-w",
                        "-t",
                        "60",
                        "stop",
                    ]
                ),
                cwd=self.dir,
                timeout=90,
                check=False,
            )
            if result.returncode == 0 and wait_exit(pid, 10):
                return
        # pg_ctl failed or is gone: SIGINT is PostgreSQL's own "fast shutdown".
        signal_process(pid, signal.SIGINT)
        if not wait_exit(pid, 60):
            raise StackError(f"PostgreSQL (pid {pid}) did not stop; see {self.log}")

    # ---- databases and roles -------------------------------------------------------------

    def provision(self) -> None:
        """One role and one database per service, each reachable by its own role only."""
        bin_dir = self.binaries()
        assert bin_dir is not None
        script: list[str] = []
        for name in SERVICES:
            password = self.secrets.db_password(name)
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
        psql = [str(bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        try:
            run(
                [
                    *psql,
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
                env=self._env(),
                input_text="".join(script),
                timeout=60,
                what="creating service roles and databases",
            )
        except StackError as exc:
            if "password authentication failed" in str(exc):
                raise StackError(
                    f"{exc}\nThe superuser password in {self.state.secrets} does not match the "
                    f"cluster in {self.data_dir}: restore the file that created it, or "
                    "`stack.py down` and delete that data directory to start empty."
                ) from exc
            raise
