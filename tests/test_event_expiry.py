"""Events expire from an index by expiry time (controllers/_events.py): a sweep deletes what is
due without listing every Event; a rewritten Event (a repeat bumps its count) expires from its
last write; Events written through the API are indexed as the recorder's own are; the cap per
namespace still drops the oldest first."""
from __future__ import annotations

import time

import pytest

from labkit.sandbox import Sandbox, SandboxConfig
from labkit.sandbox._clock import rfc3339
from labkit.sandbox.apis._resources import by_plural

EVENTS, CONFIGMAPS = by_plural("events"), by_plural("configmaps")


@pytest.fixture
def sb(tmp_path):
    with Sandbox(home=tmp_path / "sb", config=SandboxConfig(pod_start_seconds=0.0, max_events_per_namespace=20)) as s:
        yield s


def wait_for(cond, what, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _reasons(sb, reason):
    return [e for e in sb.store.list("events", "default") if e["reason"] == reason]


def test_a_sweep_with_nothing_due_lists_no_events(sb, monkeypatch):
    cm = sb.registry.create(CONFIGMAPS, "default", {"metadata": {"name": "subject"}})
    for i in range(15):
        sb.call(sb.controllers.record, cm, "Made", f"message {i}", "test")
    listed = []
    real = sb.store.list_resource

    def spy(resource, namespace=None):
        if resource.key == EVENTS.key:
            listed.append(namespace)
        return real(resource, namespace)
    monkeypatch.setattr(sb.store, "list_resource", spy)
    sb.call(sb.controllers.expire_events)
    assert listed == []
    assert len(_reasons(sb, "Made")) == 15


def test_a_repeated_event_expires_from_its_last_write(sb):
    cm = sb.registry.create(CONFIGMAPS, "default", {"metadata": {"name": "subject"}})
    sb.call(sb.controllers.record, cm, "Again", "the same", "test")
    sb.advance_clock(1800)
    sb.call(sb.controllers.record, cm, "Again", "the same", "test")
    (ev,) = _reasons(sb, "Again")
    assert ev["count"] == 2
    sb.advance_clock(1801)          # an hour after the first write, half an hour after the last
    sb.call(sb.controllers.expire_events)
    assert _reasons(sb, "Again")
    sb.advance_clock(1800)
    sb.call(sb.controllers.expire_events)
    assert not _reasons(sb, "Again")


def test_events_written_through_the_api_expire_and_count_to_the_cap(sb):
    stamp = rfc3339(sb.store.clock.now())
    for i in range(25):
        sb.registry.create(EVENTS, "default", {
            "metadata": {"name": f"client.{i:03d}"}, "reason": "Client", "message": f"m{i}", "type": "Normal",
            "involvedObject": {"kind": "ConfigMap", "namespace": "default", "name": "x"},
            "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1})
    # The cap keeps 20: same timestamps, so the names decide which go first.
    wait_for(lambda: len(_reasons(sb, "Client")) == 20, "the cap")
    assert sorted(e["metadata"]["name"] for e in _reasons(sb, "Client")) == [f"client.{i:03d}" for i in range(5, 25)]
    sb.advance_clock(3601)
    sb.call(sb.controllers.expire_events)
    assert not _reasons(sb, "Client")


def test_a_sweep_with_a_limit_stops_there_and_says_more_is_left(sb):
    cm = sb.registry.create(CONFIGMAPS, "default", {"metadata": {"name": "subject"}})
    rec = sb.controllers.events

    def flood_then_sweep():
        for i in range(30):
            rec.record(dict(cm, metadata=dict(cm["metadata"], name=f"subject-{i}", uid=f"u-{i}")),
                       "Made", f"message {i}", "test")
        before = len(sb.store.list("events", "default"))
        first = rec.expire_events(limit=4)
        middle = len(sb.store.list("events", "default"))
        rest = rec.expire_events(limit=100)
        return before, first, middle, rest, len(sb.store.list("events", "default"))
    before, first, middle, rest, after = sb.call(flood_then_sweep)
    assert before >= 30 and first is True and middle == before - 4
    assert rest is False and after == 20
