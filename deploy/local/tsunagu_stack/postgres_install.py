"""PostgreSQL from Debian's package: finding or installing its binaries, the OS user it runs as
(it refuses root), and where its files may live so that user can reach them."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from tsunagu_stack.core import StackError, say
from tsunagu_stack.processes import run
from tsunagu_stack.state import StateDir


def os_user() -> tuple[int, int] | None:
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


def as_pg(argv: Sequence[str]) -> list[str]:
    if os_user() is None:
        return list(argv)
    return ["runuser", "-u", "postgres", "--", *argv]


def chown_pg(path: Path) -> None:
    owner = os_user()
    if owner is not None:
        os.chown(path, *owner)


def find_binaries() -> Path | None:
    """The directory holding pg_ctl and initdb: $STACK_PG_BIN, the newest Debian one, or PATH's."""
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
            return candidate
    return None


def fail_no_postgres() -> Path:
    raise StackError(
        "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and "
        "PATH). Install the 'postgresql' package, or set STACK_PG_BIN to the directory "
        "holding pg_ctl and initdb."
    )


def install(state: StateDir) -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        fail_no_postgres()
    state.prepare()
    log = state.logs / "apt.log"
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
    _retire_debian_cluster()
    say("postgres: installed")


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


def location_file(state: StateDir) -> Path:
    return state.path / "pg.location"


def pg_dir(state: StateDir) -> Path:
    """Where PostgreSQL's files live: <state>/pg unless the postgres OS user cannot reach
    the state dir (the repository sits under a private home, say); then under /var/lib.
    The choice is recorded at initdb so data never silently moves."""
    recorded = location_file(state)
    if recorded.exists():
        return Path(recorded.read_text().strip())
    preferred = state.path / "pg"
    if os.geteuid() != 0:
        return preferred
    import pwd

    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        return preferred
    probe = state.path if state.path.exists() else state.path.parent
    if _traversable(probe, entry.pw_uid, entry.pw_gid):
        return preferred
    digest = hashlib.sha256(str(state.path).encode()).hexdigest()[:12]
    return Path("/var/lib/tsunagu") / digest


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
