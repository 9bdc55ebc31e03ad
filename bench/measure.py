"""Wall time and peak memory of a whole process tree, read from /proc (psutil is not a dependency).

The pipeline starts dbt as subprocesses, so the RSS of the parent alone would hide most of the memory: a
sampler thread sums VmRSS over the process and all its descendants every SAMPLE_S and keeps the largest sum.
`ru_maxrss` from wait4 (the largest single process of the tree) is kept as a cross-check: the sampled peak
must be at least that, give or take one sampling interval.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_S = 0.2


@dataclass(frozen=True)
class Measurement:
    wall_s: float
    peak_rss_mb: float  # largest sampled sum of VmRSS over the process tree
    ru_maxrss_mb: float  # largest single process of the tree, from the kernel
    returncode: int


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # the process ended between listing and reading
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # the command name may hold spaces and parentheses
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0  # ended, or a zombie (no VmRSS line)


def tree_rss_kb(root: int) -> int:
    """Sum of VmRSS (kB) of `root` and every descendant alive right now."""
    children = _children_map()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss_kb(pid)
        stack.extend(children.get(pid, ()))
    return total


def run_measured(cmd: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> Measurement:
    """Run `cmd` to completion with stdout and stderr to `log`; its wall time and memory."""
    peak = [0]
    done = threading.Event()
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], tree_rss_kb(proc.pid))
                done.wait(SAMPLE_S)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4: tell Popen so it does not wait again
    return Measurement(wall, peak[0] / 1024, usage.ru_maxrss / 1024, proc.returncode)
