"""Durable state for the store: a snapshot plus a write-ahead log of the changes after it.

    state.json   the whole store at some revision R, replaced atomically
                 (temporary file, fsync, rename, fsync of the directory)
    state.wal    one record per change after R, appended and fsync-ed before the
                 API server answers the write that made it

A record is framed as  <length: u32 LE> <crc32 of payload: u32 LE> <payload: JSON>.
Start-up loads the snapshot and replays the records with a revision above R. A record
that is cut short or fails its checksum ends the log: it and whatever follows are
dropped (one line on stderr, which `labkit sandbox up` sends to sandbox.log) and the
file is truncated there, so new records follow the last good one. Only an unanswered
write can be torn that way, since answered ones were on disk before their answer.

A snapshot that cannot be read is moved aside, with the log that depends on it, to
`state.json.corrupt-<n>` and `state.wal.corrupt-<n>`; the sandbox then starts fresh (the
objects of a new cluster) rather than refusing, and says so in one line.

One background thread writes and fsyncs the log. Records that arrive while an fsync
runs are written together by the next one (group commit), so a burst of concurrent
writes shares fsyncs. When the log outgrows the snapshot (and COMPACT_MIN), the same
thread writes a new snapshot and empties the log.

Only answers wait for the disk: watch events and controllers see a change as soon as
it is made, so after a crash a watcher may have seen a change that the restarted store
does not have (nobody was told it had succeeded).
"""
from __future__ import annotations

import asyncio
import json
import os
import struct
import sys
import threading
import zlib
from pathlib import Path
from typing import Callable

from ..home import _files

HEADER = struct.Struct("<II")
MAX_RECORD = 64 * 1024 ** 2     # a longer "length" is garbage, not a record
COMPACT_MIN = 4 * 1024 ** 2     # log bytes before a compaction is worth its cost


def report(message: str) -> None:
    print(f"labkit sandbox: {message}", file=sys.stderr, flush=True)


def frame(record: dict, obj_json: str | None = None) -> bytes:
    """One record as written: its length, CRC and compact JSON. `obj_json`: the record's
    "obj" already encoded (as json.dumps with these separators), spliced in as it is."""
    text = json.dumps(record, separators=(",", ":"))
    if obj_json is not None:
        text = f'{text[:-1]},"obj":{obj_json}}}'
    payload = text.encode()
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def snapshot_bytes(state: dict) -> bytes:
    """json.dumps(state) in compact form, byte for byte. An object given as a str is its
    compact JSON already (the store keeps each object's as written); one given as a dict is
    encoded on its own, never in one dumps of the whole cluster, which would hold the
    interpreter for its length while the API server and the controllers wait."""
    sep = (",", ":")

    def text(obj) -> str:
        return obj if isinstance(obj, str) else json.dumps(obj, separators=sep)

    parts = []
    for key, value in state.items():
        if key == "objects" and isinstance(value, dict):
            buckets = (json.dumps(res) + ":[" + ",".join(text(o) for o in items) + "]"
                       for res, items in value.items())
            parts.append('"objects":{' + ",".join(buckets) + "}")
        else:
            parts.append(json.dumps(key) + ":" + json.dumps(value, separators=sep))
    return ("{" + ",".join(parts) + "}").encode()


def read_records(data: bytes) -> tuple[list[dict], int]:
    """The records in `data` up to the first damaged one, and the length they span."""
    records, at = [], 0
    while at < len(data):
        if len(data) - at < HEADER.size:
            break
        length, crc = HEADER.unpack_from(data, at)
        start, end = at + HEADER.size, at + HEADER.size + length
        if length > MAX_RECORD or end > len(data):
            break
        payload = data[start:end]
        if zlib.crc32(payload) != crc:
            break
        try:
            record = json.loads(payload)
        except ValueError:
            break
        if not isinstance(record, dict) or not isinstance(record.get("rv"), int):
            break
        records.append(record)
        at = end
    return records, at


class Journal:
    """The snapshot file and its log; `lock` is the store's lock, held by every append."""

    def __init__(self, snapshot: Path, lock: threading.RLock) -> None:
        self.snapshot = snapshot
        self.log = snapshot.with_suffix(".wal")
        self._store_lock = lock
        self._cond = threading.Condition()
        self._pending: list[bytes] = []
        self._pending_rv = 0
        self._durable_rv = 0
        self._waiters: list[tuple[int, asyncio.Future, asyncio.AbstractEventLoop]] = []
        self._fd: int | None = None
        self._log_bytes = 0
        self._snapshot_bytes = 0
        self._compact_requested = False
        self._compacted_rv = 0
        self._closing = False
        self._failed: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._capture: Callable[[], tuple[int, dict]] | None = None

    # --- start-up ------------------------------------------------------------------
    def recover(self) -> tuple[dict | None, list[dict]]:
        """(snapshot or None, records after it); repairs what it can and says what it did."""
        for stale in self.snapshot.parent.glob(f".{self.snapshot.name}.*.tmp"):
            stale.unlink(missing_ok=True)          # a snapshot whose writer died before the rename
        data = None
        try:
            raw = self.snapshot.read_bytes()
        except FileNotFoundError:
            raw = None
        if raw is not None:
            data = _parse_snapshot(raw)
            if data is None:
                self._move_aside(len(raw))
                raw = None
        self._snapshot_bytes = len(raw or b"")
        try:
            log = self.log.read_bytes()
        except FileNotFoundError:
            log = b""
        records, good = read_records(log)
        if good < len(log):
            report(f"{self.log.name}: dropped {len(log) - good} damaged bytes at offset {good} "
                   f"(a record cut short or damaged, and all after it); kept {len(records)} records")
        since = data["revision"] if data else 0
        records = [r for r in records if r["rv"] > since]
        self._fd = _files.open_private(self.log, os.O_WRONLY | os.O_APPEND)
        if good < len(log):
            os.ftruncate(self._fd, good)
            os.fsync(self._fd)
        self._log_bytes = good
        last = records[-1]["rv"] if records else since
        self._durable_rv = self._pending_rv = last
        self._compacted_rv = since
        return data, records

    def discard(self, reason: str) -> None:
        """Move both files aside after start-up found their content unusable; start empty."""
        if self._fd is not None:
            os.close(self._fd)
        size = self.snapshot.stat().st_size if self.snapshot.exists() else 0
        self._move_aside(size, reason)
        self._fd = _files.open_private(self.log, os.O_WRONLY | os.O_APPEND)
        self._log_bytes = self._snapshot_bytes = 0
        self._durable_rv = self._pending_rv = self._compacted_rv = 0

    def _move_aside(self, size: int, reason: str = "is not a readable snapshot") -> None:
        n = 1
        while self.snapshot.with_name(f"{self.snapshot.name}.corrupt-{n}").exists():
            n += 1
        moved = self.snapshot.with_name(f"{self.snapshot.name}.corrupt-{n}")
        if self.snapshot.exists():
            os.replace(self.snapshot, moved)
        if self.log.exists():
            os.replace(self.log, self.log.with_name(f"{self.log.name}.corrupt-{n}"))
        _files.fsync_dir(self.snapshot.parent)
        report(f"{self.snapshot.name} ({size} bytes) {reason}; moved to {moved.name} (its log to "
               f"{self.log.name}.corrupt-{n}) and started a fresh cluster")

    def start(self, capture: Callable[[], tuple[int, dict]]) -> None:
        """Start the writer; `capture()` (called with the store's lock held) gives (revision, state)."""
        self._capture = capture
        self._thread = threading.Thread(target=self._run, name="labkit-journal", daemon=True)
        self._thread.start()

    # --- writing (the store's thread, store lock held) -----------------------------
    def append(self, rv: int, record: dict, obj_json: str | None = None) -> None:
        data = frame(record, obj_json)
        with self._cond:
            self._pending.append(data)
            self._pending_rv = rv
            self._cond.notify()

    # --- waiting for durability ----------------------------------------------------
    async def wait(self, rv: int) -> None:
        """Return once every record up to `rv` is on disk."""
        loop = asyncio.get_running_loop()
        with self._cond:
            self._raise_if_failed()
            if self._durable_rv >= rv or self._thread is None:
                return
            future = loop.create_future()
            self._waiters.append((rv, future, loop))
        await future

    def sync(self, rv: int | None = None, timeout: float = 30.0) -> None:
        """Block until every record up to `rv` (default: all appended) is on disk."""
        with self._cond:
            target = self._pending_rv if rv is None else rv
            if self._thread is None:
                return
            if not self._cond.wait_for(lambda: self._durable_rv >= target or self._failed, timeout):
                raise TimeoutError("the state log did not reach the disk in time")
            self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._failed is not None:
            raise OSError(f"cannot write {self.log}: {self._failed}") from self._failed

    # --- compaction and shutdown ---------------------------------------------------
    def compact(self, timeout: float = 60.0) -> None:
        """Write a snapshot now and empty the log; returns when both are on disk."""
        with self._cond:
            if self._thread is None or self._compacted_rv >= self._pending_rv:
                return
            self._compact_requested = True
            self._cond.notify()
            target = self._pending_rv
            self._cond.wait_for(lambda: self._compacted_rv >= target or self._failed, timeout)
            self._raise_if_failed()

    def close(self) -> None:
        """Flush, snapshot, stop the writer and close the log."""
        if self._thread is None:
            return
        self.compact()
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout=30)
        self._thread = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # --- the writer thread ---------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._compact_requested or self._closing)
                if self._closing and not self._pending:
                    return
                batch, upto = self._pending, self._pending_rv
                self._pending = []
            try:
                if batch:
                    self._write(batch, upto)
                if self._compact_requested or self._log_bytes > max(COMPACT_MIN, self._snapshot_bytes):
                    self._compact()
            except BaseException as e:       # a full or failing disk: writes must not be acknowledged
                report(f"cannot write {self.log.name}: {e}")
                with self._cond:
                    self._failed = e
                    waiters, self._waiters = self._waiters, []
                    self._cond.notify_all()
                for _rv, future, loop in waiters:
                    _call(loop, _fail, future, e)
                return

    def _write(self, batch: list[bytes], upto: int) -> None:
        data = b"".join(batch)
        _files._write_all(self._fd, data)
        os.fdatasync(self._fd)
        self._log_bytes += len(data)
        with self._cond:
            self._durable_rv = upto
            ready = [w for w in self._waiters if w[0] <= upto]
            self._waiters = [w for w in self._waiters if w[0] > upto]
            self._cond.notify_all()
        for _rv, future, loop in ready:
            _call(loop, _resolve, future)

    def _compact(self) -> None:
        # Capture under the store's lock, so the snapshot and the log's end meet at one revision.
        with self._store_lock:
            rv, state = self._capture()
            with self._cond:
                batch, self._pending = self._pending, []
                upto = self._pending_rv
                self._compact_requested = False     # a request from now on needs another snapshot
        if batch:
            self._write(batch, upto)
        data = snapshot_bytes(state)
        _files.write_private(self.snapshot, data, durable=True)
        # The snapshot covers every record in the log now; a crash before this truncation
        # only replays records at or below its revision, which start-up skips.
        os.ftruncate(self._fd, 0)
        os.fsync(self._fd)
        self._log_bytes, self._snapshot_bytes = 0, len(data)
        with self._cond:
            self._compacted_rv = rv
            self._cond.notify_all()


def _parse_snapshot(raw: bytes) -> dict | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    ok = (isinstance(data, dict) and isinstance(data.get("revision"), int)
          and isinstance(data.get("objects"), dict)
          and all(isinstance(v, list) for v in data["objects"].values()))
    return data if ok else None


def _call(loop: asyncio.AbstractEventLoop, fn, *args) -> None:
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:       # that loop is closed: nobody waits any more
        pass


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


def _fail(future: asyncio.Future, error: BaseException) -> None:
    if not future.done():
        future.set_exception(OSError(f"the state log is not writable: {error}"))
