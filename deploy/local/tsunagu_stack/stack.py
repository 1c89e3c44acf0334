"""The local stack as one object: what the `stack.py` commands, the tests and the benches drive.

It composes the components (postgres, kafka, zipkin, stand-ins, sample data) over one state
directory and one set of ports, and starts each service with the environment its declaration
(services.py) renders for this machine.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from tsunagu_stack.core import (
    API_SERVICES,
    COMPONENTS,
    LINE_API,
    LOOPBACK,
    MAIL,
    RECEIVER,
    REPO_ROOT,
    SERVICES,
    WEB,
    StackError,
    ports_from_env,
    say,
    warn,
)
from tsunagu_stack.kafka import KAFKA_STOP_GRACE, Kafka
from tsunagu_stack.postgres import Postgres
from tsunagu_stack.probes import check_port_free, http_ok, port_in_use, wait_ready
from tsunagu_stack.processes import Processes
from tsunagu_stack.project import Project
from tsunagu_stack.prometheus import Prometheus
from tsunagu_stack.sample_data import SAMPLE_DIR, SampleData
from tsunagu_stack.secret_store import SecretStore
from tsunagu_stack.services import declared
from tsunagu_stack.settings import LocalTarget
from tsunagu_stack.standins import StandIns
from tsunagu_stack.state import StateDir
from tsunagu_stack.zipkin import Zipkin

SERVICE_READY_TIMEOUT: Final = 60.0
# What a service's process runs besides its own package: the shared plumbing and the contracts.
SHARED_CODE: Final = ("services/eventkit/src", "schemas/src")
SERVICE_STOP_GRACE: Final = 20.0
# Extra replicas of a consumer service listen 100 ports above the previous one (referral-2 on
# 8202); they join the same consumer group, so Kafka shares the partitions between them.
REPLICA_PORT_STEP: Final = 100
MAX_REPLICAS: Final = 4


def replica_name(service: str, replica: int) -> str:
    """The process name of a replica: the service's own for the first, `referral-2` after it."""
    return service if replica == 1 else f"{service}-{replica}"


class Stack:
    """Everything a developer or the e2e tests need to run Tsunagu on one machine."""

    def __init__(self, root: Path | None = None, state_dir: Path | None = None) -> None:
        self.root = (root or REPO_ROOT).resolve()
        env_dir = os.environ.get("STACK_DIR")
        if state_dir is None:
            state_dir = Path(env_dir) if env_dir else self.root / ".stack"
        self.state = StateDir(state_dir)
        self.ports: dict[str, int] = ports_from_env()
        self.project = Project(self.root)
        self.processes = Processes(self.state)
        self.secrets = SecretStore(self.state, self.project)
        self.postgres = Postgres(self.state, self.ports, self.secrets)
        self.kafka = Kafka(self.state, self.ports, self.processes, self.project)
        self.zipkin = Zipkin(self.state, self.ports, self.processes)
        self.prometheus = Prometheus(self.state, self.ports, self.processes)
        self.standins = StandIns(self.state, self.ports, self.processes, self.project, self.secrets)
        self.sample = SampleData(
            self.state, self.project, self.secrets, self.service_url, lambda: self.service_env(WEB)
        )

    # ---- where things are ----------------------------------------------------------------

    @property
    def state_dir(self) -> Path:
        return self.state.path

    @property
    def logs_dir(self) -> Path:
        return self.state.logs

    @property
    def mail_dir(self) -> Path:
        return self.state.mail

    @property
    def sample_dir(self) -> Path:
        return SAMPLE_DIR

    @property
    def python(self) -> str:
        """The interpreter of the project venv, which has every service package installed."""
        return self.project.python

    @property
    def pg_data_dir(self) -> Path:
        return self.postgres.data_dir

    def log_path(self, name: str) -> Path:
        if name == "postgres":
            return self.postgres.log
        return self.processes.log_path(name)

    def running_pid(self, name: str) -> int | None:
        """The pid of our own live process for a component, or None."""
        if name == "postgres":
            return self.postgres.pid()
        return self.processes.running_pid(name)

    def admin_database_url(self) -> str:
        return self.postgres.admin_database_url()

    def database_url(self, service: str) -> str:
        return self.postgres.database_url(service)

    def zipkin_ui_url(self) -> str:
        return self.zipkin.ui_url()

    def service_url(self, name: str) -> str:
        if name not in self.ports or name in ("postgres", "kafka", "kafka-controller"):
            raise ValueError(f"{name} has no HTTP URL")
        return f"http://{LOOPBACK}:{self.ports[name]}"

    # ---- secrets and tokens --------------------------------------------------------------

    def mint_token(self, role: str, subject: str, organisation_id: str | None = None) -> str:
        return self.secrets.mint_token(role, subject, organisation_id)

    def _channel_secret(self, name: str) -> str:
        """What intake shares with the voice provider or LINE ("twilio_auth_token", …)."""
        return self.secrets.channel(name)

    # ---- infrastructure ------------------------------------------------------------------

    def ensure_infra(self) -> None:
        """PostgreSQL, Kafka and Zipkin running and ready; reuses whatever already runs."""
        with self.state.lock():
            self.state.prepare()
            # Fail before starting anything if a foreign process holds one of our ports.
            if self.postgres.pid() is None:
                check_port_free(self.ports, "postgres")
            if self.processes.running_pid("kafka") is None:
                check_port_free(self.ports, "kafka")
                check_port_free(self.ports, "kafka", "kafka-controller")
            if self.processes.running_pid("zipkin") is None:
                check_port_free(self.ports, "zipkin")
            # Both JVMs take seconds to boot on two cores: launch them, then set up
            # PostgreSQL while they warm up, then wait for each.
            kafka_pid = self.kafka.start()
            zipkin_pid = self.zipkin.start()
            self.postgres.start()
            self.postgres.provision()
            say(f"postgres: ready on {LOOPBACK}:{self.ports['postgres']} (data: {self.pg_data_dir})")
            self.kafka.wait(kafka_pid)
            self.zipkin.wait(zipkin_pid)

    def ensure_topics(self) -> None:
        self.kafka.ensure_topics()

    # ---- services ------------------------------------------------------------------------

    def service_env(self, name: str) -> dict[str, str]:
        """The process environment of a service: its declaration rendered for this machine."""
        service = declared(name)
        # One service must never pick up another's settings (its database URL above all).
        foreign = tuple(f"{other.upper()}_" for other in SERVICES if other != name)
        env = {k: v for k, v in os.environ.items() if not k.startswith(foreign)}
        env.update(service.environment(LocalTarget(self.ports, self.secrets.value, self.database_url)))
        env["PYTHONUNBUFFERED"] = "1"
        if name == WEB and self.prometheus.enabled:
            env["WEB_PROMETHEUS_URL"] = self.prometheus.url()
        return env

    def replica_url(self, name: str, replica: int) -> str:
        return f"http://{LOOPBACK}:{self.ports[name] + REPLICA_PORT_STEP * (replica - 1)}"

    def start_service(self, name: str, settings: Mapping[str, str] | None = None, replica: int = 1) -> None:
        """Start a service (or one more replica of it) unless it runs; `settings` adds to (or
        overrides) its environment."""
        if name not in SERVICES:
            raise ValueError(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
        if not 1 <= replica <= MAX_REPLICAS or (replica > 1 and name == WEB):
            raise StackError(f"{name} cannot run as replica {replica} (consumers: 1–{MAX_REPLICAS})")
        process = replica_name(name, replica)
        base = self.replica_url(name, replica)
        with self.state.lock():  # re-entrant: stop_service takes it again
            url = f"{base}/readyz"
            pid = self.processes.running_pid(process)
            started = self.processes.started_at(process)
            # Reusing a process that started before its code last changed would run (and test)
            # the code as it was, not as it is.
            if pid is not None and started is not None and code_changed_since(self.root, name, started):
                say(f"{process}: its code changed after it started; restarting it")
                self.stop_service(process)
                pid = None
            if pid is None:
                port = self.ports[name] + REPLICA_PORT_STEP * (replica - 1)
                if replica == 1:
                    check_port_free(self.ports, name)
                elif port_in_use(port):
                    raise StackError(f"port {port} is needed for {process} but is already in use")
                env = self.service_env(name) | dict(settings or {})
                env[f"{name.upper()}_HTTP_PORT"] = str(port)
                metrics = f"{name.upper()}_METRICS_PORT"
                env[metrics] = str(int(env[metrics]) + REPLICA_PORT_STEP * (replica - 1))
                pid = self.processes.launch(process, base, [self.python, "-m", name], env, self.root)
            if not http_ok(url):
                wait_ready(
                    self.processes,
                    process,
                    pid,
                    lambda: http_ok(url),
                    SERVICE_READY_TIMEOUT,
                    hint=f" (GET {url} never returned 200)",
                )
            say(f"{process}: ready at {base}")

    def metrics_targets(self) -> dict[str, list[str]]:
        """Each running service's /metrics addresses, its replicas' included, for Prometheus."""
        targets: dict[str, list[str]] = {}
        for name in SERVICES:
            base = int(self.service_env(name)[f"{name.upper()}_METRICS_PORT"])
            running = [1] if self.processes.running_pid(name) is not None else []
            running += [int(r.rsplit("-", 1)[1]) for r in self.replicas(name)] if name != WEB else []
            if running:
                targets[name] = [f"{LOOPBACK}:{base + REPLICA_PORT_STEP * (i - 1)}" for i in running]
        return targets

    def start_prometheus(self) -> None:
        """The optional local Prometheus, scraping what runs now (restarted to follow changes)."""
        self.prometheus.start(self.metrics_targets())

    def replicas(self, name: str) -> list[str]:
        """The running replicas of a service beyond its first, by process name."""
        return [
            replica_name(name, i)
            for i in range(2, MAX_REPLICAS + 1)
            if self.processes.running_pid(replica_name(name, i)) is not None
        ]

    def stop_service(self, name: str, sig: int = signal.SIGTERM) -> None:
        """Stop a component; a service's replicas are named like `referral-2`."""
        replicas = {replica_name(s, i) for s in API_SERVICES for i in range(2, MAX_REPLICAS + 1)}
        if name not in (*SERVICES, *replicas, RECEIVER, MAIL, LINE_API, "kafka", "zipkin", "prometheus"):
            raise ValueError(f"unknown service {name!r}")
        with self.state.lock():
            pid = self.processes.running_pid(name)
            if pid is None:
                self.processes.pid_file(name).unlink(missing_ok=True)
                return
            grace = KAFKA_STOP_GRACE if name == "kafka" else SERVICE_STOP_GRACE
            say(f"{name}: stopping (pid {pid})")
            self.processes.stop(name, pid, sig, grace)

    def kill_service(self, name: str) -> None:
        """SIGKILL, no graceful shutdown: what a crash looks like to the rest of the system."""
        self.processes.kill(name)

    def start_receiver(self) -> None:
        self.standins.start_receiver()

    def start_mail_sink(self) -> None:
        self.standins.start_mail_sink()

    def start_line_api(self) -> None:
        self.standins.start_line_api()

    # ---- sample data ---------------------------------------------------------------------

    def sample_organisations(self) -> list[dict[str, Any]]:
        return self.sample.organisations()

    def seed_sample_data(self) -> None:
        """Register the sample organisations and their webhook secrets; safe to repeat."""
        self.sample.seed()

    def web_users(self) -> list[dict[str, Any]]:
        return self.sample.web_users()

    def seed_web_users(self) -> None:
        self.sample.seed_web_users()

    # ---- whole stack ---------------------------------------------------------------------

    def up(self, replicas: int = 1, prometheus: bool = False) -> list[str]:
        """Everything, with the sample data, each consumer service `replicas` times (and a local
        Prometheus when asked); the services that did not start (the CLI says so)."""
        with self.state.lock():
            self.ensure_infra()
            self.ensure_topics()
            if prometheus:
                self.prometheus.marker.parent.mkdir(parents=True, exist_ok=True)
                self.prometheus.marker.write_text("1\n")  # before web starts: it links to it
            else:
                self.prometheus.disable()
            failures: list[str] = []
            for name in SERVICES:
                for replica in range(1, (replicas if name in API_SERVICES else 1) + 1):
                    try:
                        self.start_service(name, replica=replica)
                    except StackError as exc:
                        warn(str(exc))
                        failures.append(replica_name(name, replica))
            self.start_receiver()
            self.start_mail_sink()
            self.start_line_api()
            self.seed_sample_data()
            self.seed_web_users()
            if prometheus:
                try:
                    self.start_prometheus()
                except StackError as exc:
                    warn(str(exc))
                    failures.append("prometheus")
        return failures

    def down(self) -> None:
        with self.state.lock():
            extra = [replica_name(s, i) for s in API_SERVICES for i in range(2, MAX_REPLICAS + 1)]
            others = (RECEIVER, MAIL, LINE_API, "zipkin", "kafka")
            for name in ("prometheus", *extra, *reversed(SERVICES), *others):
                self.stop_service(name)
            self.postgres.stop()
        say(f"stopped; data kept in {self.state_dir} (Zipkin traces are gone: memory only)")

    def restart(self, name: str) -> None:
        starts = {RECEIVER: self.start_receiver, MAIL: self.start_mail_sink, LINE_API: self.start_line_api}
        if name in SERVICES:
            self.stop_service(name)
            self.start_service(name)
        elif name in starts:
            self.stop_service(name)
            starts[name]()
        elif name in ("kafka", "zipkin"):
            self.stop_service(name)
            self.ensure_infra()
        elif name == "postgres":
            self.postgres.stop()
            self.ensure_infra()
        else:
            raise StackError(f"unknown component {name!r}; one of {', '.join(COMPONENTS)}")


def code_changed_since(root: Path, name: str, since: float) -> bool:
    """Whether a file of the service's code (its package, its templates and texts, its migrations,
    eventkit, the contracts) was written after `since`; compiled files and install metadata are not
    code."""
    own = root / "services" / name
    folders = (own / "src", own / "migrations", *(root / shared for shared in SHARED_CODE))
    return any(
        path.stat().st_mtime > since
        for folder in folders
        for path in folder.rglob("*")
        if path.is_file()
        and not any(p == "__pycache__" or p.endswith(".egg-info") for p in path.relative_to(folder).parts)
    )
