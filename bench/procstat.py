"""CPU time and resident memory of the stack's processes, from /proc, over a measured window.

A component is a process and everything below it (PostgreSQL's backends under the postmaster):
its CPU time is the user and system time of every live process of the tree, plus what the root
collected from children that have exited since (`cutime`/`cstime`). The difference between two
readings is what the component spent in between.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after its closing one.
    return text[text.rindex(")") + 2 :].split()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None:
                tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def _tree(root: int, tree: dict[int, list[int]]) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, ()))
    return found


@dataclass(frozen=True)
class Component:
    name: str
    pid: int

    def cpu_seconds(self, tree: dict[int, list[int]]) -> float:
        total = 0
        for pid in _tree(self.pid, tree):
            fields = _stat(pid)
            if fields is None:
                continue
            # utime, stime (fields 14, 15 of stat; 12, 13 after the name), then cutime, cstime.
            total += int(fields[11]) + int(fields[12])
            if pid == self.pid:
                total += int(fields[13]) + int(fields[14])
        return total / _TICKS

    def rss_bytes(self, tree: dict[int, list[int]]) -> int:
        total = 0
        for pid in _tree(self.pid, tree):
            try:
                pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
            total += pages * _PAGE
        return total


def cpu_snapshot(components: list[Component]) -> dict[str, float]:
    tree = _children()
    return {c.name: c.cpu_seconds(tree) for c in components}


def rss_snapshot(components: list[Component]) -> dict[str, int]:
    tree = _children()
    return {c.name: c.rss_bytes(tree) for c in components}


@dataclass(frozen=True)
class Machine:
    """What the whole machine was busy for, and the bench's own share, at one instant."""

    busy: float
    bench: float
    at: float


def machine_snapshot() -> Machine:
    # The first line of /proc/stat: user nice system idle iowait irq softirq steal, in ticks.
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    fields = _stat(os.getpid()) or []
    own = int(fields[11]) + int(fields[12]) if fields else 0
    return Machine(busy / _TICKS, own / _TICKS, time.monotonic())


def outside_load(before: Machine, after: Machine, stack_seconds: float) -> dict[str, float]:
    """CPU milliseconds a second that went to the load generator (this process) and to anything
    else on the machine: a run beside other work is slower than the stack alone, and says so."""
    wall = max(after.at - before.at, 1e-9)
    bench = after.bench - before.bench
    other = max(0.0, after.busy - before.busy - bench - stack_seconds)
    return {"load generator": bench * 1000 / wall, "everything else": other * 1000 / wall}


def per_case_ms(before: dict[str, float], after: dict[str, float], cases: int) -> dict[str, float]:
    return {name: (after[name] - before[name]) * 1000 / max(cases, 1) for name in before}
