"""The JVM side: a Java runtime, and jars fetched from Maven Central once into the cache."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from tsunagu_stack.core import StackError
from tsunagu_stack.processes import run


def java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise StackError("java not found: Kafka and Zipkin need a Java 17+ runtime on PATH")
    return found


def mvn() -> str:
    found = shutil.which("mvn")
    if found is None:
        raise StackError(
            "mvn (Apache Maven) not found: it fetches the Kafka and Zipkin jars from Maven "
            "Central once. Install it (Debian: apt-get install maven) and retry."
        )
    return found


def fetch_into(target: Path, argv_for: Callable[[Path], list[str]], what: str, stamp: str) -> None:
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


def fetched(target: Path, stamp: str) -> bool:
    try:
        return (target / ".complete").read_text() == stamp
    except OSError:
        return False
