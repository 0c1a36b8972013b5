"""The store's write path does each piece of work once, with the same bytes as before:
a status write's object is encoded once (its size and its journal record), a snapshot is
encoded object by object, and a second's timestamp is formatted once."""
from __future__ import annotations

import datetime as dt
import json

from labkit.sandbox import _clock
from labkit.sandbox.storage import _journal

SEP = (",", ":")


def test_a_record_with_its_object_spliced_in_is_the_record_json_dumps_writes():
    obj = {"metadata": {"name": "web-1", "labels": {"app": "wéb"}}, "status": {"phase": "Running"}}
    record = {"rv": 7, "res": "pods", "ns": "default", "name": "web-1", "op": "put"}
    spliced = _journal.frame(record, json.dumps(obj, separators=SEP))
    records, _ = _journal.read_records(spliced)
    assert records == [dict(record, obj=obj)]
    whole = _journal.frame(dict(record, obj=obj))
    assert len(spliced) == len(whole)


def test_a_snapshot_encoded_object_by_object_is_byte_for_byte_json_dumps():
    state = {"revision": 12, "incarnations": [[["pods", "default", "a"], 1]], "name_floors": [],
             "created": [[["pods", "default", "a"], 3]],
             "objects": {"pods": [{"metadata": {"name": "a"}, "x": [1, 2.5, None, True, "ü"]},
                                  {"metadata": {"name": "b"}}],
                         "services": [], "nodes": [{"metadata": {"name": "n"}}]}}
    assert _journal.snapshot_bytes(state) == json.dumps(state, separators=SEP).encode()
    assert _journal.snapshot_bytes({}) == b"{}"


def test_timestamps_are_formatted_per_second_and_follow_the_clock():
    base = dt.datetime(2024, 2, 29, 23, 59, 59, 100000, tzinfo=dt.timezone.utc)
    assert _clock.rfc3339(base) == "2024-02-29T23:59:59Z"
    assert _clock.rfc3339(base + dt.timedelta(microseconds=800000)) == "2024-02-29T23:59:59Z"
    assert _clock.rfc3339(base + dt.timedelta(seconds=1)) == "2024-03-01T00:00:00Z"
    other_zone = dt.datetime(2024, 3, 1, 2, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert _clock.rfc3339(other_zone) == "2024-03-01T00:00:00Z"
    assert _clock.rfc3339(base) == "2024-02-29T23:59:59Z"
