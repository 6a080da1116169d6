"""Many logins through Dagster: wall time of 20 logins under a cap of 4 runs, against one login.

A sandbox bank with 21 logins runs in this process. `dagster dev` (webserver and daemon, from
`.tools/dagster`) serves the code location with the instance configuration of
`orchestrate/dagster.yaml` (one run per login, at most `--cap` runs at once). One login's
`fibank_login_raw` run is launched alone and timed; then the other `--logins` are launched at once
and the queue works through them. Every run is a real `meltano run` into PostgreSQL (PG*
variables, schemas of its own, dropped afterwards). The peak memory is the largest sum of the
resident sizes of every process under `dagster dev` (run workers, meltano, tap, loader) sampled
every 0.2 s, and the most runs seen in progress at once is checked against the cap.

    python benchmarks/orchestrate_logins.py [--logins 20] [--cap 4] [--days 60]

Needs `make orchestrate-install`. It prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
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

from tap_fibank.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
DAGSTER = REPO / ".tools" / "dagster" / "bin" / "dagster"
LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
STATUS = """query($ids: [String!]) { runsOrError(filter: {runIds: $ids}) {
  ... on Runs { results { runId status startTime endTime } } } }"""
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
            "TAP_FIBANK_BASE_URL": bank.base_url,
            "TAP_FIBANK_START_DATE": (bank.today - dt.timedelta(days=days)).isoformat(),
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
    )
    return env


class Memory(threading.Thread):
    """The largest total RSS of a process tree, sampled until stopped."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.peak, self.stop = root, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.peak = max(self.peak, tree_rss(self.root))


def tree_rss(root: int) -> int:
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry.name)] = int(fields.get("PPid", "0").strip())
        rss[int(entry.name)] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    inside = {root}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in inside and pid not in inside:
                inside.add(pid)
                changed = True
    return sum(rss.get(pid, 0) for pid in inside if pid != root)


def graphql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = requests.post(url, json={"query": query, "variables": variables or {}}, timeout=60)
    answer.raise_for_status()
    return dict(answer.json()["data"])


def launch(url: str, location: str, login: str) -> str:
    params = {
        "selector": {
            "repositoryLocationName": location,
            "repositoryName": "__repository__",
            "jobName": "fibank_login_raw",
        },
        "executionMetadata": {
            "tags": [{"key": "dagster/partition", "value": login}, {"key": "fibank/login", "value": login}]
        },
    }
    result = graphql(url, LAUNCH, {"p": params})["launchRun"]
    if result["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(f"launching {login}: {result}")
    return str(result["run"]["runId"])


def wait(url: str, run_ids: list[str], cap: int) -> tuple[float, int, list[dict[str, Any]]]:
    """Seconds until every run ended, the most runs seen started at once, the runs."""
    started, most = time.monotonic(), 0
    while True:
        runs = graphql(url, STATUS, {"ids": run_ids})["runsOrError"]["results"]
        most = max(most, sum(run["status"] in ("STARTING", "STARTED") for run in runs))
        if all(run["status"] in ("SUCCESS", "FAILURE", "CANCELED") for run in runs):
            return time.monotonic() - started, most, runs
        time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description="many logins through Dagster under a cap")
    parser.add_argument("--logins", type=int, default=20)
    parser.add_argument("--cap", type=int, default=4)
    parser.add_argument("--days", type=int, default=60, help="history of each login's first run")
    args = parser.parse_args()
    if not DAGSTER.exists():
        print("Dagster is not installed: run `make orchestrate-install`", file=sys.stderr)
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
        memory = Memory(server.pid)
        try:
            location = start(url, server)
            names = [login.username for login in bank.logins[1:]]
            one, _, _ = wait(url, [launch(url, location, names[0])], args.cap)
            baseline = tree_rss(server.pid)
            memory.start()
            many, most, runs = wait(
                url, [launch(url, location, name) for name in names[1 : args.logins + 1]], args.cap
            )
            memory.stop.set()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
            cleanup(token, home)
    failed = [run for run in runs if run["status"] != "SUCCESS"]
    print(f"one login (first run, {args.days} days): {one:.1f} s from launch to end")
    print(
        f"{args.logins} logins, at most {args.cap} runs at once: {many:.1f} s ({many / one:.1f}x one login)"
    )
    print(f"most runs seen in progress at once: {most} (cap {args.cap}); failed runs: {len(failed)}")
    idle, peak = baseline / 2**20, memory.peak / 2**20
    print(f"memory of the processes under `dagster dev`: idle {idle:.0f} MB, peak {peak:.0f} MB")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0 if not failed and most <= args.cap else 1


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


def cleanup(token: str, home: Path) -> None:
    with psycopg.connect(**pg(), autocommit=True) as connection:  # type: ignore[arg-type]
        for schema in (f"bench_state_{token}", f"bench_raw_{token}"):
            connection.execute(f"drop schema if exists {schema} cascade")  # type: ignore[arg-type]
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
