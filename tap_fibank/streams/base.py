"""What every Fibank stream shares: the tap's one bank client and a lean record path.

The schemas are ours and exact, and records are built with the right Python types, so the
SDK's per-record type conformance is redundant work on the hot path and is switched off.

The rest of the SDK's per-record work is redundant too when nothing asks for it, and on a
first sync of hundreds of thousands of entries it costs more than reading the bank. So, for
every record, and only while what they skip cannot matter:

- `generate_child_contexts` (a public hook) yields nothing for a stream without children, so no
  child context is built and copied per record;
- `_write_record_message` encodes the RECORD message straight into stdout's buffer, byte for
  byte as the tap's msgspec writer would, when that is the writer, no stream map or flattening
  is configured and no property is deselected (a deselected one is dropped as the SDK does;
  anything else takes the SDK's own path). It skips the writer's flush per record: see
  `flush_records`. `time_extracted` is when the bank's answer was read if the stream says so
  (`extracted_at`), else now, as the SDK does. Stdout gets a 64 KiB buffer instead of Python's
  8 KiB for a pipe (`widen_stdout`): a first sync writes hundreds of megabytes;
- `_increment_stream_state` sets the partition's `replication_key` and `replication_key_value`
  directly, with the partition's state found once per partition instead of once per record,
  where the SDK would do just that (a sorted stream that does not check its order, a string
  replication key, no custom state partitioning).

The overrides of private SDK methods are small, fall back to the SDK for anything else, and are
checked against the SDK's own output by tests/unit/test_fast_paths.py; `_generate_record_messages`
stamps the SDK path's `time_extracted` as the fast path does. Every private name is listed in
tap_fibank/sdk_private.py.

Contract: a stream reaches the run only through `self.run`, the callable it was given at
construction; the fast paths here change how a record is written, never what is written.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
from collections.abc import Callable, Generator, Iterable
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.contrib.msgspec import encoder as _ENCODER  # MsgSpecWriter's, for identical bytes
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL
from typing_extensions import override

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record
    from singer_sdk.singerlib import RecordMessage

    from tap_fibank.walk.run import Run

_UTC = dt.timezone.utc
_LINE = bytearray(256)  # reused for every line; records are emitted from one thread
_STDOUT_BUFFER = 1 << 16


def widen_stdout() -> None:
    """Give Python's own buffered stdout a 64 KiB buffer instead of 8 KiB (its size for a pipe).

    Every message, the SDK's and the lean path's, goes through `sys.stdout`, and the SDK's
    writer flushes after each of its messages, so nothing changes order; records between two
    flushes reach the target in writes of 64 KiB instead of 8, each of which hands the GIL to
    the threads reading the bank. Anything else as stdout (unbuffered with -u or
    PYTHONUNBUFFERED, a capture in tests, a replaced stream, not POSIX) is left as it is.
    """
    out = sys.stdout
    if (
        os.name != "posix"
        or out is not sys.__stdout__
        or type(out) is not io.TextIOWrapper
        or type(out.buffer) is not io.BufferedWriter
    ):
        return
    out.flush()
    raw = io.FileIO(out.fileno(), "w", closefd=False)  # sys.__stdout__ keeps fd 1 open and closes it
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(raw, _STDOUT_BUFFER),
        encoding=out.encoding,
        errors=out.errors,
        newline="\n",
        line_buffering=out.line_buffering,
        write_through=out.write_through,
    )


def login_property() -> th.Property[Any]:
    """The column that keeps logins apart where several load into one warehouse."""
    return th.Property(
        "login",
        th.StringType,
        required=True,
        description="The login that read this row: the `login` setting, or an id derived from the username.",
    )


def extra_property(what: str) -> th.Property[Any]:
    """The column that keeps every field the bank sent beyond the typed ones: nothing is dropped."""
    return th.Property(
        "extra",
        th.ObjectType(additional_properties=True),
        description=f"Every other field the bank sends for the {what}, as sent.",
    )


class FibankStream(Stream):
    """Base stream: access to the run's shared objects, and the lean record path."""

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    # A STATE message every thousand rows: a run cut off mid-account resumes near where it was.
    STATE_MSG_FREQUENCY = 1000

    #: When the records now being emitted were read from the bank (`time_extracted`); None: now.
    extracted_at: dt.datetime | None = None
    _fast_write: bool | None = None  # decided at the first record
    _all_selected = True
    _partition: tuple[Any, dict[str, Any]] | None = None  # (context, its state) if fast

    def __init__(self, tap: Tap, run: Callable[[], Run]) -> None:
        """`run` gives the run's shared objects, built on first use (not at discovery)."""
        super().__init__(tap)
        self._run_source = run

    @property
    def run(self) -> Run:
        """The run's shared objects: the client, the pool, the report, the window cache..."""
        return self._run_source()

    @override
    def post_process(self, row: Record, context: Context | None = None) -> Record | None:
        row["login"] = self.run.login
        return row

    # -- the lean record path ----------------------------------------------------------------

    def partition_state(self, context: Context | None) -> dict[str, Any]:
        """`get_context_state`, remembered for this partition's records (call it in get_records)."""
        state = self.get_context_state(context)
        simple = (
            bool(self.replication_key)
            and self.replication_method == REPLICATION_INCREMENTAL
            and self.is_sorted
            and not self.check_sorted
            and self.state_partitioning_keys is None
        )
        self._partition = (context, state) if simple else None
        return state

    @override
    def generate_child_contexts(self, record: Record, context: Context | None) -> Iterable[Context | None]:
        if not self.child_streams:
            return ()  # nothing to sync under this record: no context to build
        return super().generate_child_contexts(record, context)

    def _can_write_fast(self) -> bool:
        """Whether a record needs nothing of the SDK's path but encoding (see the module doc)."""
        maps = self.stream_maps
        self._all_selected = all(self.mask.values())
        fast = (
            type(self._tap.message_writer) is MsgSpecWriter
            and self.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.NONE
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and not maps[0].flattening_enabled
        )
        if fast:
            widen_stdout()
        return fast

    @override
    def _write_record_message(self, record: Record) -> None:
        fast = self._fast_write
        if fast is None:
            fast = self._fast_write = self._can_write_fast()
        if not fast:
            super()._write_record_message(record)
            return
        if not self._all_selected:  # some property deselected: drop it as the SDK does
            pop_deselected_record_properties(record, self.schema, self.mask)
        message: dict[str, Any] = {
            "type": "RECORD",
            "stream": self.stream_maps[0].stream_alias,
            "record": record,
        }
        if self._stream_version is not None:
            message["version"] = self._stream_version
        message["time_extracted"] = self.extracted_at or dt.datetime.now(_UTC)
        _ENCODER.encode_into(message, _LINE)
        _LINE.extend(b"\n")
        sys.stdout.buffer.write(_LINE)  # not flushed: see flush_records
        self.state_manager.is_flushed = False

    @override
    def _generate_record_messages(self, record: Record) -> Generator[RecordMessage, None, None]:
        # The SDK's own path stamps `time_extracted` as the fast path does: when the bank's
        # answer was read, if the stream says so.
        for message in super()._generate_record_messages(record):
            if self.extracted_at is not None:
                message.time_extracted = self.extracted_at
            yield message

    def flush_records(self) -> None:
        """Hand the records written so far to the target.

        The fast path does not flush per record (the SDK's writer does, one system call per
        record). Records and every other message share stdout's one buffer, and the SDK's writer
        flushes after each message it writes (STATE included, also the one written on SIGTERM),
        so a STATE never overtakes the records it covers. Streams call this between windows so
        that records do not wait in the buffer while the bank is slow.
        """
        sys.stdout.flush()

    @override
    def _increment_stream_state(self, latest_record: Record, *, context: Context | None = None) -> None:
        partition = self._partition
        if partition is not None and partition[0] is context:
            key: str = self.replication_key  # type: ignore[assignment]
            value = latest_record.get(key)
            if value.__class__ is str:
                # What the SDK's increment_state does for a sorted stream that does not check
                # its order: the latest record's value, as is.
                state = partition[1]
                state["replication_key"] = key
                state["replication_key_value"] = value
                return
        super()._increment_stream_state(latest_record, context=context)
