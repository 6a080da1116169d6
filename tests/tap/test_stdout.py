"""The tap's stdout gets a 64 KiB buffer for a pipe, and messages keep their order through it.

Each case is a real Python process writing to a real pipe, as the tap does under a target.
"""

from __future__ import annotations

import os
import subprocess
import sys

# What the SDK's writer does (bytes to the buffer, then a flush), what the lean record path does
# (bytes to the buffer, no flush), and a print, before and after the widening.
PROGRAM = """
import sys
from tap_fibank.streams.base import widen_stdout

def sdk(line):
    sys.stdout.buffer.write(line.encode() + b"\\n")
    sys.stdout.flush()

sdk("schema")
sys.stdout.buffer.write(b"record 0\\n")
widen_stdout()
widened = sys.stdout is not sys.__stdout__
for n in range(1, 20000):
    sys.stdout.buffer.write(b"record %d\\n" % n)
    if n % 1000 == 0:
        sdk("state %d" % n)
print("widened" if widened else "as it was")
"""


def run(**env: str) -> list[str]:
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"} | env
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True, env=environment
    )
    return done.stdout.splitlines()


def expected(last: str) -> list[str]:
    lines = ["schema", "record 0"]
    for n in range(1, 20000):
        lines.append(f"record {n}")
        if n % 1000 == 0:
            lines.append(f"state {n}")
    return [*lines, last]


def test_a_pipe_gets_the_wide_buffer_and_every_message_keeps_its_place():
    assert run() == expected("widened")


def test_an_unbuffered_stdout_is_left_unbuffered():
    assert run(PYTHONUNBUFFERED="1") == expected("as it was")
