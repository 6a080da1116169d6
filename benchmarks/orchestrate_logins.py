"""Many logins through Dagster: N logins' loads under a cap of 4 runs, then one build of the marts.

A sandbox bank with N+1 logins runs in this process. `dagster dev` (webserver and daemon, from
`.tools/dagster`) serves the code location with the instance configuration of
`orchestrate/dagster.yaml` (one run per login, at most `--cap` runs at once). First one login's
`fibank_login` run is launched alone as a tick of its own, and the sensor builds the marts after
it: that times one raw load and one dbt build. Then the other `--logins` are launched at once as
one tick; the queue works through them and the sensor builds the marts once they have all ended.
The goal: the wall time from launch to the end of that build within 1.3x of
ceil(N / cap) x one raw load + one dbt build.

Every run is a real `meltano run` into PostgreSQL (PG* variables, schemas of its own, dropped
afterwards). Every 0.2 s the processes under `dagster dev` are sampled: the peak of their summed
resident sizes, the CPU time of each process (the last sample before it ends: a process living
under 0.2 s is missed), summed by kind (run worker, meltano, tap, target, dbt). The most runs seen
in progress at once is checked against the cap.

    python benchmarks/orchestrate_logins.py [--logins 20] [--cap 4] [--days 60]

Needs `make install WITH=orchestrate`. It prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import requests

from fibank_sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
DAGSTER = REPO / ".tools" / "dagster" / "bin" / "dagster"
LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
STATUS = """query($ids: [String!]) { runsOrError(filter: {runIds: $ids}) {
  ... on Runs { results { runId status startTime endTime } } } }"""
MARTS = """query($tick: String!) { runsOrError(filter: {pipelineName: "fibank_marts",
  tags: [{key: "fibank/tick", value: $tick}]}) { ... on Runs { results { runId } } } }"""
ENDED = ("SUCCESS", "FAILURE", "CANCELED")
SUFFIXES = ("staging", "intermediate", "dbt_test__audit")
LOCATIONS = """{ workspaceOrError { ... on Workspace { locationEntries { name } } } }"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg() -> dict[str, str]:
    return {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": os.environ.get("PGPORT", "5432"),
        "user": os.environ.get("PGUSER", "postgres"),
        "password": os.environ.get("PGPASSWORD", ""),
        "dbname": os.environ.get("PGDATABASE", "test"),
    }


def environment(bank: Sandbox, home: Path, token: str, days: int) -> dict[str, str]:
    p = pg()
    auth = p["user"] + (f":{p['password']}" if p["password"] else "")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TAP_FIBANK", "TARGET_", "DBT_", "MELTANO_"))
    }
    logins = home / "logins.yml"
    lines = ["logins:"]
    for login in bank.logins[1:]:  # demo2..: no always-failing account
        name = login.username
        lines += [f"  - {{name: {name}, username_env: U_{name}, password_env: P_{name}}}"]
        env[f"U_{login.username}"], env[f"P_{login.username}"] = login.username, login.password
    logins.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env.update(
        {
            "DAGSTER_HOME": str(home),
            "FIBANK_LOGINS_FILE": str(logins),
            "MELTANO_DATABASE_URI": f"postgresql+psycopg://{auth}@{p['host']}:{p['port']}/{p['dbname']}"
            f"?options=-csearch_path%3Dbench_state_{token}",
            "TARGET_POSTGRES_HOST": p["host"],
            "TARGET_POSTGRES_PORT": p["port"],
            "TARGET_POSTGRES_USER": p["user"],
            "TARGET_POSTGRES_PASSWORD": p["password"],
            "TARGET_POSTGRES_DATABASE": p["dbname"],
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": f"bench_raw_{token}",
            "DBT_POSTGRES_SCHEMA": f"bench_{token}",
            "TAP_FIBANK_BASE_URL": bank.base_url,
            "TAP_FIBANK_START_DATE": (bank.today - dt.timedelta(days=days)).isoformat(),
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "FIBANK_MARTS_SENSOR_SECONDS": "2",  # the daemon's own loop still waits some seconds
        }
    )
    return env


KINDS = (
    ("tap", "bin/tap-fibank"),
    ("target", "bin/target-postgres"),
    ("dbt", "bin/dbt "),
    ("meltano", "bin/meltano"),
    ("run worker", "spawn_main"),  # the code server's process for each run
)
TICK = os.sysconf("SC_CLK_TCK")


class Sampler(threading.Thread):
    """The processes under a root, every 0.2 s: the peak summed RSS, each process's CPU seconds."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.peak, self.stop = root, 0, threading.Event()
        self.cpu: dict[int, tuple[str, float]] = {}  # pid -> (kind, CPU seconds at its last sample)
        self.kind_peak: dict[str, int] = {}

    def run(self) -> None:
        while not self.stop.wait(0.2):
            processes = tree(self.root)
            self.peak = max(self.peak, sum(rss for _, rss, _ in processes.values()))
            by_kind: dict[str, int] = {}
            for pid, (kind, rss, cpu) in processes.items():
                self.cpu[pid] = (kind, cpu)
                by_kind[kind] = by_kind.get(kind, 0) + rss
            for kind, rss in by_kind.items():
                self.kind_peak[kind] = max(self.kind_peak.get(kind, 0), rss)

    def cpu_by_kind(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for kind, cpu in self.cpu.values():
            totals[kind] = totals.get(kind, 0.0) + cpu
        return totals


def kind_of(cmdline: str) -> str:
    return next((kind for kind, marker in KINDS if marker in cmdline), "dagster dev")


def tree(root: int) -> dict[int, tuple[str, int, float]]:
    """pid -> (kind, RSS bytes, CPU seconds) of every process under root."""
    parents: dict[int, int] = {}
    facts: dict[int, tuple[str, int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            program = b" ".join(argv[:4]).decode(errors="replace")  # the interpreter, its script
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[1])
        rss = int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
        facts[int(entry.name)] = (kind_of(program + " "), rss, (int(stat[11]) + int(stat[12])) / TICK)
    inside = {root}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in inside and pid not in inside:
                inside.add(pid)
                changed = True
    return {pid: facts[pid] for pid in inside if pid != root and pid in facts}


def graphql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = requests.post(url, json={"query": query, "variables": variables or {}}, timeout=60)
    answer.raise_for_status()
    return dict(answer.json()["data"])


def launch(url: str, location: str, login: str, tick: str, size: int) -> str:
    params = {
        "selector": {
            "repositoryLocationName": location,
            "repositoryName": "__repository__",
            "jobName": "fibank_login",
        },
        "executionMetadata": {
            "tags": [
                {"key": key, "value": value}
                for key, value in {
                    "dagster/partition": login,
                    "fibank/login": login,
                    "fibank/tick": tick,
                    "fibank/tick_size": str(size),
                }.items()
            ]
        },
    }
    result = graphql(url, LAUNCH, {"p": params})["launchRun"]
    if result["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(f"launching {login}: {result}")
    return str(result["run"]["runId"])


def wait(url: str, run_ids: list[str]) -> tuple[float, int, list[dict[str, Any]]]:
    """Seconds until every run ended, the most runs seen started at once, the runs."""
    started, most = time.monotonic(), 0
    while True:
        runs = graphql(url, STATUS, {"ids": run_ids})["runsOrError"]["results"]
        most = max(most, sum(run["status"] in ("STARTING", "STARTED") for run in runs))
        if all(run["status"] in ENDED for run in runs):
            return time.monotonic() - started, most, runs
        time.sleep(0.5)


def tick(url: str, location: str, names: list[str]) -> dict[str, Any]:
    """Launch the logins as one tick; wait for their runs, then for the build the sensor starts."""
    stamp = f"bench:{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    loads, most, runs = wait(url, [launch(url, location, name, stamp, len(names)) for name in names])
    while not (build := graphql(url, MARTS, {"tick": stamp})["runsOrError"]["results"]):
        time.sleep(0.5)
    _, _, (marts,) = wait(url, [build[0]["runId"]])
    return {
        "loads": loads,
        "wall": time.monotonic() - started,
        "build": marts["endTime"] - marts["startTime"],
        "most": most,
        "failed": [run for run in [*runs, marts] if run["status"] != "SUCCESS"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="many logins through Dagster under a cap")
    parser.add_argument("--logins", type=int, default=20)
    parser.add_argument("--cap", type=int, default=4)
    parser.add_argument("--days", type=int, default=60, help="history of each login's first run")
    args = parser.parse_args()
    if not DAGSTER.exists():
        print("Dagster is not installed: run `make install WITH=orchestrate`", file=sys.stderr)
        return 1
    token = uuid.uuid4().hex[:8]
    home = Path(tempfile.mkdtemp(prefix="fibank-bench-dagster-"))
    config = (REPO / "orchestrate" / "dagster.yaml").read_text(encoding="utf-8")
    (home / "dagster.yaml").write_text(
        config.replace("max_concurrent_runs: 4", f"max_concurrent_runs: {args.cap}")
    )
    with psycopg.connect(**pg(), autocommit=True) as connection:  # type: ignore[arg-type]
        connection.execute(f"create schema bench_state_{token}")  # type: ignore[arg-type]
    port = free_port()
    url = f"http://127.0.0.1:{port}/graphql"
    with Sandbox(seed=1, users=args.logins + 2) as bank:
        env = environment(bank, home, token, args.days)
        server = subprocess.Popen(
            [str(DAGSTER), "dev", "-m", "fibank_orchestrate.definitions", "-p", str(port)],
            cwd=REPO / "orchestrate",
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        sampler = Sampler(server.pid)
        try:
            location = start(url, server)
            names = [login.username for login in bank.logins[1:]]
            one = tick(url, location, names[:1])
            print(
                f"one login alone: raw load {one['loads']:.1f} s, one build {one['build']:.1f} s", flush=True
            )
            idle = sum(rss for _, rss, _ in tree(server.pid).values())
            sampler.start()
            many = tick(url, location, names[1 : args.logins + 1])
            sampler.stop.set()
            report(args, one, many, idle, sampler)
        finally:
            stop(server)
            cleanup(token, home)
    return 0 if not one["failed"] and not many["failed"] and many["most"] <= args.cap else 1


def report(
    args: argparse.Namespace, one: dict[str, Any], many: dict[str, Any], idle: int, sampler: Sampler
) -> None:
    n, cap = args.logins, args.cap
    goal = math.ceil(n / cap) * one["loads"] + one["build"]
    print(
        f"one login alone ({args.days} days): raw load {one['loads']:.1f} s; "
        f"one dbt build {one['build']:.1f} s"
    )
    print(
        f"{n} logins, at most {cap} runs at once: loads {many['loads']:.1f} s, "
        f"the build {many['build']:.1f} s, "
        f"{many['wall']:.1f} s from launch to the marts built"
    )
    verdict = "PASS" if many["wall"] <= 1.3 * goal else "FAIL"
    print(
        f"goal: ceil({n}/{cap}) x {one['loads']:.1f} + {one['build']:.1f} = {goal:.1f} s; "
        f"{many['wall'] / goal:.2f}x: {verdict}"
    )
    print(
        f"most runs seen in progress at once: {many['most']} (cap {cap}); failed runs: {len(many['failed'])}"
    )
    cpu = sampler.cpu_by_kind()
    per_login = ", ".join(
        f"{kind} {cpu.get(kind, 0.0) / n:.2f} s" for kind in ("run worker", "meltano", "tap", "target")
    )
    print(f"CPU per login: {per_login}; dbt {cpu.get('dbt', 0.0):.1f} s for the one build")
    peaks = ", ".join(f"{kind} {rss / 2**20:.0f} MB" for kind, rss in sorted(sampler.kind_peak.items()))
    print(
        f"memory under `dagster dev`: idle {idle / 2**20:.0f} MB, "
        f"peak {sampler.peak / 2**20:.0f} MB (by kind: {peaks})"
    )
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def start(url: str, server: subprocess.Popen[bytes]) -> str:
    """Wait for the webserver and the code location; its name."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("dagster dev exited")
        try:
            entries = graphql(url, LOCATIONS)["workspaceOrError"]["locationEntries"]
            if entries:
                time.sleep(5)  # the daemon starts alongside
                return str(entries[0]["name"])
        except (requests.RequestException, KeyError, TypeError):
            pass
        time.sleep(1)
    raise RuntimeError("dagster dev did not come up in 5 minutes")


def stop(server: subprocess.Popen[bytes]) -> None:
    """`dagster dev` and everything it started; killed when it takes over a minute to stop."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=60)


def cleanup(token: str, home: Path) -> None:
    with psycopg.connect(**pg(), autocommit=True) as connection:  # type: ignore[arg-type]
        marts = f"bench_{token}"  # and dbt's schemas beside it
        for schema in (
            f"bench_state_{token}",
            f"bench_raw_{token}",
            marts,
            *(f"{marts}_{x}" for x in SUFFIXES),
        ):
            connection.execute(f"drop schema if exists {schema} cascade")  # type: ignore[arg-type]
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
