"""What the benchmarks share: a sandbox bank in its own process, and measured child runs.

The sandbox runs as a separate process (`python -m fibank_sandbox`) so its CPU is never
counted against the tap. Each measured program (the tap, the floor script) runs as a child
process whose own CPU time and peak RSS come from `os.wait4`, exactly that child's, nothing
else's; its stdout is a pipe that this process drains (as a target would), counting lines.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TAP = [PYTHON, "-m", "tap_fibank"]
FLOOR = [PYTHON, str(ROOT / "benchmarks" / "floor.py")]
RAW_FLOOR = [PYTHON, str(ROOT / "benchmarks" / "raw_floor.py")]

# The sandbox's accounts (docs/sandbox.md); BG88... answers every statement with HTTP 500.
GOOD_IBANS = (
    "BG47FINV91501017006644",
    "BG52FINV91501017006651",
    "BG56FINV91501017103288",
    "BG08FINV91501017205517",
    "BG35FINV91501011884290",
)
BROKEN_IBAN = "BG88FINV91501011884306"
_TIME_EXTRACTED = re.compile(rb',"time_extracted":"[^"]*"')
_TRANSACTION = b'{"type":"RECORD","stream":"transactions"'


class SandboxProcess:
    """`python -m fibank_sandbox` on a free port, stopped on exit."""

    def __init__(
        self, *, scale: float = 1.0, seed: int = 1, today: dt.date | None = None, **faults: Any
    ) -> None:
        self.args = [PYTHON, "-m", "fibank_sandbox", "--port", "0", "--seed", str(seed)]
        self.args += ["--scale", f"{scale:g}"]
        if today is not None:
            self.args += ["--today", today.isoformat()]
        for knob, value in faults.items():
            if value is not None:
                self.args += ["--" + knob.replace("_", "-"), str(value)]
        self.base_url = ""
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> SandboxProcess:
        self.process = subprocess.Popen(
            self.args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            self.process.kill()
            raise RuntimeError(f"the sandbox did not start: {self.args}")
        self.process.stdout.readline()  # the login line
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def _call(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(
            self.base_url + path, method=method, data=b"" if method == "POST" else None
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def counters(self) -> dict[str, Any]:
        return self._call("/_sandbox/counters")

    def reset_counters(self) -> None:
        self._call("/_sandbox/reset_counters", "POST")

    def truth(self) -> dict[str, Any]:
        return self._call("/_sandbox/truth")


@dataclass
class Run:
    """One measured child process."""

    label: str
    returncode: int
    cpu_user: float
    cpu_sys: float
    wall: float
    max_rss_mb: float
    lines: int = 0
    records: int = 0
    transactions: int = 0
    digest: int = 0  # order-sensitive hash of the transaction RECORD lines without time_extracted
    last_state: dict[str, Any] | None = None
    stderr: str = ""
    counters: dict[str, Any] = field(default_factory=dict)
    rss_samples: list[tuple[int, float]] = field(default_factory=list)  # (transactions so far, RSS MB)

    @property
    def cpu(self) -> float:
        return self.cpu_user + self.cpu_sys


def run_child(
    label: str,
    command: Sequence[str],
    *,
    keep_state: bool = False,
    sandbox: SandboxProcess | None = None,
    sample_every: float | None = None,
) -> Run:
    """Run `command`, drain its stdout, and measure it alone (os.wait4)."""
    if sandbox is not None:
        sandbox.reset_counters()
    stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 - read back below
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr_file, env=child_env())
    assert process.stdout is not None
    lines = records = transactions = 0
    digest = 0
    last_state: bytes | None = None
    samples: list[tuple[int, float]] = []
    stop = threading.Event()
    sampler = None
    if sample_every:

        def sample() -> None:
            while not stop.wait(sample_every):
                rss = current_rss_mb(process.pid)
                if rss is not None:
                    samples.append((transactions, rss))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
    for line in process.stdout:
        lines += 1
        if line.startswith(b'{"type":"RECORD"'):
            records += 1
            if line.startswith(_TRANSACTION):
                transactions += 1
                digest = hash((digest, _TIME_EXTRACTED.sub(b"", line)))
        elif keep_state and line.startswith(b'{"type":"STATE"'):
            last_state = line
    stop.set()
    if sampler is not None:
        sampler.join()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr_file.seek(0)
    run = Run(
        label=label,
        returncode=process.returncode,
        cpu_user=usage.ru_utime,
        cpu_sys=usage.ru_stime,
        wall=wall,
        max_rss_mb=usage.ru_maxrss / 1024,
        lines=lines,
        records=records,
        transactions=transactions,
        digest=digest,
        last_state=json.loads(last_state)["value"] if last_state else None,
        stderr=stderr_file.read().decode("utf-8", "replace"),
    )
    run.rss_samples = samples
    if sandbox is not None:
        run.counters = sandbox.counters()
    return run


def current_rss_mb(pid: int) -> float | None:
    """A live process's resident set size (Linux /proc), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# Children run with Python's default buffered stdout, as `tap-fibank` started from a shell or an
# orchestrator is, unless the benchmark is asked to keep PYTHONUNBUFFERED (set on this machine):
# unbuffered, every RECORD line is its own write system call.
UNBUFFERED = {"keep": False}


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    if not UNBUFFERED["keep"]:
        env.pop("PYTHONUNBUFFERED", None)
    return env


def stdout_note() -> str:
    if UNBUFFERED["keep"] and os.environ.get("PYTHONUNBUFFERED"):
        return "children's stdout: unbuffered (PYTHONUNBUFFERED kept)"
    return "children's stdout: Python's default buffering (PYTHONUNBUFFERED unset for them)"


def tap_command(config: dict[str, Any], state: dict[str, Any] | None = None) -> list[str]:
    """`python -m tap_fibank --config <tmp> [--state <tmp>]`."""
    directory = Path(tempfile.mkdtemp(prefix="tap-fibank-bench-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    (directory / "config.json").write_text(json.dumps(config))
    command = [*TAP, "--config", str(directory / "config.json")]
    if state is not None:
        (directory / "state.json").write_text(json.dumps(state))
        command += ["--state", str(directory / "state.json")]
    return command


def sofia_today() -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo("Europe/Sofia")).date()


def machine_note() -> str:
    """Cores and load, so a reader can judge the figures."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, load average {load}, Python {sys.version.split()[0]}"


def verdict(ok: bool, text: str) -> str:
    return f"{'PASS' if ok else 'FAIL'}: {text}"
