"""Running measured things in fresh processes, and summarising repeated samples.

Each repetition is its own child process; `os.wait4` returns that child's own resource
usage, so wall time, CPU time (user + system, all threads) and peak RSS belong to it alone.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class BenchError(RuntimeError):
    """A measured command failed, or the peer disagreed with segcli."""


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds, the whole child process
    cpu: float  # seconds of CPU, user + system, every thread
    rss_mb: float  # peak resident set size
    inner: float | None = None  # seconds the child timed itself (work without start-up)
    output: Any = None  # the child's JSON output, if any


def run_child(cmd: list[str], env: dict[str, str], parse_json: bool = False) -> Sample:
    """Run `cmd` to completion and measure it; a non-zero exit raises BenchError."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out if parse_json else subprocess.DEVNULL, stderr=err)
        # wait4, not Popen.wait: it returns this child's own rusage
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(cmd)}: exit {proc.returncode}: {stderr.strip()[-600:]}")
    output = json.loads(stdout) if parse_json else None
    inner = output.get("seconds") if isinstance(output, dict) else None
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, inner, output)


@dataclass
class Stats:
    """Repeated samples of one measurement."""

    samples: list[Sample] = field(default_factory=list)

    def values(self, name: str) -> list[float]:
        return [v for v in (getattr(s, name) for s in self.samples) if v is not None]

    def median(self, name: str) -> float:
        return statistics.median(self.values(name))

    def spread(self, name: str) -> tuple[float, float]:
        values = self.values(name)
        return min(values), max(values)

    @property
    def seconds(self) -> float:
        """The measurement's time: what the child timed itself if it did, else its wall time."""
        return self.median("inner") if self.values("inner") else self.median("wall")

    @property
    def seconds_spread(self) -> tuple[float, float]:
        return self.spread("inner") if self.values("inner") else self.spread("wall")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_http(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    """Wait until the server answers HTTP on the port; fail if it exits first (its log says why)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"server exited with {proc.returncode}: {log.read_text().strip()[-600:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if s.recv(12).startswith(b"HTTP/1."):
                    return
        except OSError:
            time.sleep(0.2)
    raise BenchError(f"server on port {port} did not answer within {timeout:.0f} s")


def stop_and_measure(proc: subprocess.Popen[bytes], wall: float) -> Sample:
    """Stop a server (SIGINT, as Ctrl-C) and return its whole-life CPU time and peak RSS."""
    proc.send_signal(signal.SIGINT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


@dataclass
class CpuWatch:
    """How busy the machine's CPUs were with other work while the benchmark ran (Linux /proc/stat)."""

    started: float = 0.0
    busy: float = 0.0  # seconds of CPU busy on the whole machine
    steal: float = 0.0  # seconds the hypervisor gave to other machines
    ours: float = 0.0  # seconds of CPU used by this process and its children

    @staticmethod
    def _read() -> tuple[float, float, float]:
        ticks = os.sysconf("SC_CLK_TCK")
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
        mine = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        ours = mine.ru_utime + mine.ru_stime + kids.ru_utime + kids.ru_stime
        return (user + nice + system + irq + softirq) / ticks, steal / ticks, ours

    def start(self) -> None:
        self.started = time.monotonic()
        self.busy, self.steal, self.ours = self._read()

    def others(self) -> tuple[float, float]:
        """(share of all cores busy with other processes, share stolen by the hypervisor) since start."""
        busy, steal, ours = self._read()
        capacity = (time.monotonic() - self.started) * (os.cpu_count() or 1)
        other = max(0.0, (busy - self.busy) - (ours - self.ours))
        return other / capacity, (steal - self.steal) / capacity


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return one, five, fifteen
