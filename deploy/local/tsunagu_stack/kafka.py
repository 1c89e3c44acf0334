"""The stack's Kafka broker: jars from Maven Central, one KRaft node (broker and controller), topics."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Final

from tsunagu_stack import maven
from tsunagu_stack.core import LOCAL_DIR, LOOPBACK, PORT_ENV, StackError, say
from tsunagu_stack.probes import check_port_free, kafka_cluster_id, wait_ready
from tsunagu_stack.processes import Processes, run
from tsunagu_stack.project import Project
from tsunagu_stack.state import StateDir, write_atomic

KAFKA_READY_TIMEOUT: Final = 90.0
# A broker that is killed mid-write recovers its logs on the next start, which is slower than
# a clean shutdown, so Kafka gets more time than the Python services before SIGKILL.
KAFKA_STOP_GRACE: Final = 60.0

# Everything not said here is Kafka's default.
_LOG4J: Final = (
    "status = warn",
    "name = tsunagu-kafka",
    "appender.file.type = File",
    "appender.file.name = FILE",
    "appender.file.fileName = {log}",
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
)


class Kafka:
    def __init__(
        self, state: StateDir, ports: dict[str, int], processes: Processes, project: Project
    ) -> None:
        self.state = state
        self.ports = ports
        self.processes = processes
        self.project = project

    @property
    def lib(self) -> Path:
        return self.state.cache / "kafka-lib"

    @property
    def props(self) -> Path:
        return self.state.kafka / "server.properties"

    @property
    def data_dir(self) -> Path:
        return self.state.kafka / "data"

    def healthy(self) -> bool:
        return kafka_cluster_id(self.ports["kafka"], timeout=2) is not None

    def _ensure_jars(self) -> None:
        pom = LOCAL_DIR / "jars" / "pom.xml"
        # Keyed on the pom's content, so editing it (a Kafka upgrade) refetches by itself.
        stamp = f"pom-sha256={hashlib.sha256(pom.read_bytes()).hexdigest()}\n"
        if maven.fetched(self.lib, stamp):
            return
        mvn = maven.mvn()
        if self.lib.exists():
            say("kafka: deploy/local/jars/pom.xml changed; fetching the jars again")
        else:
            say("kafka: fetching Kafka jars from Maven Central (once)…")
        maven.fetch_into(
            self.lib,
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

    def _tool(self, main: str, *args: str, what: str) -> str:
        return run(
            [maven.java(), "-cp", f"{self.lib}/*", main, *args],
            cwd=self.state.kafka,
            timeout=180,
            what=what,
        ).stdout

    def _cluster_id(self) -> str:
        path = self.state.kafka / "cluster-id"
        if path.exists():
            return path.read_text().strip()
        output = self._tool("kafka.tools.StorageTool", "random-uuid", what="kafka-storage random-uuid")
        cluster_id = output.strip().splitlines()[-1].strip()
        write_atomic(path, cluster_id + "\n")
        return cluster_id

    def _write_config(self) -> None:
        port = self.ports["kafka"]
        controller = self.ports["kafka-controller"]
        properties = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{LOOPBACK}:{controller}",
            "listeners": f"PLAINTEXT://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{controller}",
            "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
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
        lines = ["# Written by deploy/local/tsunagu_stack/kafka.py on every start: edit it there."]
        lines += [f"{key}={value}" for key, value in properties.items()]
        write_atomic(self.props, "\n".join(lines) + "\n")
        log = self.state.logs / "kafka.log"
        header = "# Written by deploy/local/tsunagu_stack/kafka.py: all into one file for `logs kafka`."
        body = [line.replace("{log}", str(log)) for line in _LOG4J]
        write_atomic(self.state.kafka / "log4j2.properties", "\n".join([header, *body, ""]))

    def start(self) -> int:
        """Launch the broker unless ours runs; its pid, to be waited on with wait()."""
        pid = self.processes.running_pid("kafka")
        if pid is not None:
            return pid
        check_port_free(self.ports, "kafka")
        check_port_free(self.ports, "kafka", "kafka-controller")
        self._ensure_jars()
        self.state.kafka.mkdir(parents=True, exist_ok=True)
        self._write_config()
        if not (self.data_dir / "meta.properties").exists():
            cluster_id = self._cluster_id()
            say(f"kafka: formatting storage (once) with cluster id {cluster_id}")
            self._tool(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(self.props),
                "--ignore-formatted",
                what="kafka-storage format",
            )
        return self.processes.launch(
            "kafka",
            f"{LOOPBACK}:{self.ports['kafka']}",
            [
                maven.java(),
                "-Xms256m",
                "-Xmx768m",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={self.state.kafka / 'log4j2.properties'}",
                f"-Dkafka.logs.dir={self.state.logs}",
                "-cp",
                f"{self.lib}/*",
                "kafka.Kafka",
                str(self.props),
            ],
            os.environ,
            self.state.kafka,
        )

    def wait(self, pid: int) -> None:
        expected = self._cluster_id()
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
            wait_ready(self.processes, "kafka", pid, probe, KAFKA_READY_TIMEOUT)
        say(f"kafka: ready on {LOOPBACK}:{port}")

    def ensure_topics(self) -> None:
        """Every topic of the contracts, with its partitioning and retention (eventkit.topics)."""
        env = dict(os.environ)
        env["KAFKA_BOOTSTRAP_SERVERS"] = f"{LOOPBACK}:{self.ports['kafka']}"
        say("kafka: creating topics (python -m eventkit.topics)")
        result = run(
            [self.project.python, "-m", "eventkit.topics"],
            env=env,
            cwd=self.project.root,
            timeout=180,
            what="python -m eventkit.topics",
        )
        for line in result.stdout.strip().splitlines():
            print(f"    {line}")
