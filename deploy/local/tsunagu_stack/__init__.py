"""The local stack: PostgreSQL, Kafka, Zipkin, the services and local stand-ins on one machine.

    core.py            component names, ports, StackError, say/warn
    state.py           the state directory (.stack/), its lock, atomic writes
    processes.py       spawning into a log, pid files, stopping, log tails
    probes.py          ports, HTTP, Kafka's wire protocol, waiting until ready
    project.py         the venv interpreter; calls into eventkit/intake (in-process or via the venv)
    secret_store.py    generated keys and passwords (.stack/secrets.json), tokens
    settings.py        what a declared setting is, and the targets that render it (local, compose)
    services.py        each service's environment, declared once; the generated secrets
    postgres*.py       Debian's PostgreSQL: install, initdb, start/stop, a database and role per service
    maven.py kafka.py  jars from Maven Central; one KRaft broker; the contract topics
    zipkin.py          the trace backend
    standins.py        sample partner receiver, SMTP sink, LINE API stand-in
    sample_data.py     sample organisations, directory, webhook secrets, voice menu, demo sign-ins
    report.py          the status table and the welcome text
    stack.py           Stack: the components composed (what tests and benches use)
    cli.py             the `stack.py` commands

Standard library only: it runs before the project venv exists.
"""

from tsunagu_stack.core import StackError
from tsunagu_stack.stack import Stack

__all__ = ["Stack", "StackError"]
