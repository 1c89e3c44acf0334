"""A second, throwaway Kafka broker that demands SASL/SCRAM and authorises with ACLs: what a
production broker does, on this machine, for the test that proves a service cannot write another's
topics. The stack's own broker stays open (PLAINTEXT on loopback) so that development stays simple.

It uses the stack's Kafka jars, its own folder and two free ports, and is gone when stopped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from tsunagu_stack import maven
from tsunagu_stack.core import LOCAL_DIR, LOOPBACK, StackError
from tsunagu_stack.processes import run, signal_process, tail, wait_exit

MECHANISM: Final = "SCRAM-SHA-512"
ADMIN: Final = "admin"
GRANT_TOOL: Final = LOCAL_DIR / "kafka" / "GrantAcls.java"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


class SecuredBroker:
    """One KRaft node, clients over SASL_PLAINTEXT with SCRAM-SHA-512, the StandardAuthorizer, and
    nobody but the admin allowed anything until ACLs say so."""

    def __init__(self, folder: Path, lib: Path, admin_password: str, users: Mapping[str, str]) -> None:
        self.folder = folder
        self.lib = lib
        self.admin_password = admin_password
        self.users = dict(users)
        self.port = _free_port()
        self.controller_port = _free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / "kafka.log"

    def _properties(self) -> dict[str, str]:
        jaas = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{ADMIN}" password="{self.admin_password}";'
        )
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{LOOPBACK}:{self.controller_port}",
            "listeners": f"SASL_PLAINTEXT://{LOOPBACK}:{self.port},CONTROLLER://{LOOPBACK}:{self.controller_port}",
            "advertised.listeners": f"SASL_PLAINTEXT://{LOOPBACK}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "SASL_PLAINTEXT",
            "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
            "sasl.enabled.mechanisms": MECHANISM,
            "sasl.mechanism.inter.broker.protocol": MECHANISM,
            f"listener.name.sasl_plaintext.{MECHANISM.lower()}.sasl.jaas.config": jaas,
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            # The node talks to its own controller over the loopback-only CONTROLLER listener.
            "super.users": f"User:{ADMIN};User:ANONYMOUS",
            "allow.everyone.if.no.acl.found": "false",
            "log.dirs": str(self.folder / "data"),
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
        }

    def _java(
        self, *args: str, what: str, stdin: str | None = None, env: Mapping[str, str] | None = None
    ) -> str:
        return run(
            [maven.java(), "-cp", f"{self.lib}/*", *args],
            cwd=self.folder,
            input_text=stdin,
            env=env,
            timeout=180,
            what=what,
        ).stdout

    def start(self) -> None:
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        props = self.folder / "server.properties"
        props.write_text("".join(f"{k}={v}\n" for k, v in self._properties().items()))
        log4j = self.folder / "log4j2.properties"
        log4j.write_text(
            "status = warn\nappender.file.type = File\nappender.file.name = FILE\n"
            f"appender.file.fileName = {self.log}\nappender.file.layout.type = PatternLayout\n"
            "appender.file.layout.pattern = [%d] %p %m (%c)%n\nrootLogger.level = WARN\n"
            "rootLogger.appenderRef.file.ref = FILE\n"
        )
        scram = [
            f"{MECHANISM}=[name={name},password={password}]"
            for name, password in {ADMIN: self.admin_password, **self.users}.items()
        ]
        self._java(
            "kafka.tools.StorageTool",
            "format",
            "-t",
            str(uuid.uuid4().hex[:22]),
            "-c",
            str(props),
            *(arg for entry in scram for arg in ("--add-scram", entry)),
            what="kafka-storage format (SASL broker)",
        )
        with (self.folder / "stdout.log").open("ab") as out:
            self._proc = subprocess.Popen(
                [
                    maven.java(),
                    "-Xms128m",
                    "-Xmx512m",
                    "-Djava.awt.headless=true",
                    f"-Dlog4j2.configurationFile={log4j}",
                    "-cp",
                    f"{self.lib}/*",
                    "kafka.Kafka",
                    str(props),
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                start_new_session=True,
            )

    def wait_listening(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise StackError(f"the SASL broker exited:\n{tail(self.folder / 'stdout.log')}")
            try:
                with socket.create_connection((LOOPBACK, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.5)
        raise StackError(f"the SASL broker did not listen on {self.bootstrap} within {timeout:.0f}s")

    def grant(self, lines: Iterable[str]) -> str:
        """Apply ACLs, one `<principal> <TOPIC|GROUP> <name> <operation>` per line."""
        env = os.environ | {"KAFKA_ADMIN_USERNAME": ADMIN, "KAFKA_ADMIN_PASSWORD": self.admin_password}
        return self._java(
            str(GRANT_TOOL), self.bootstrap, what="GrantAcls.java", stdin="\n".join(lines) + "\n", env=env
        )

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            signal_process(self._proc.pid, 15)
            if not wait_exit(self._proc.pid, 30):
                signal_process(self._proc.pid, 9)
            self._proc.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)
