"""An acknowledged write survives `kill -9`; damaged state files are repaired as documented.

Real processes (`python -m labkit sandbox up`) in a temporary LABKIT_HOME, the official
client over HTTPS on 127.0.0.1, and SIGKILL: no handler runs, nothing is flushed on exit.
"""
from __future__ import annotations

import json
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from kubernetes.client.rest import ApiException

from labkit.sandbox.storage import _journal
from labkit.sandbox._clock import Clock
from labkit.sandbox.apis._resources import by_plural
from labkit.sandbox.storage._store import Store

from .conftest import wait_for
from .sandbox_processes import config_maps, core_api, kill9, labkit, up


@pytest.fixture
def home(tmp_path):
    yield tmp_path
    labkit(tmp_path, "sandbox", "down", check=False)


def sandbox_dir(home):
    return home / "sandbox"


def create(core, names, threads=1):
    body = lambda n: {"metadata": {"name": n, "labels": {"set": "durable"}}, "data": {"n": n}}
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda n: core.create_namespaced_config_map("default", body(n)), names))


def test_acknowledged_writes_survive_kill_9_from_the_log_and_from_a_snapshot(home):
    status = up(home)
    api, core = core_api(status)
    create(core, [f"before-down-{i}" for i in range(30)])
    api.close()
    labkit(home, "sandbox", "down")                  # a clean stop leaves a snapshot
    assert (sandbox_dir(home) / "state.json").exists()

    status = up(home)
    api, core = core_api(status)
    create(core, [f"seq-{i}" for i in range(40)])
    create(core, [f"par-{i}" for i in range(50)], threads=8)    # grouped fsyncs
    core.patch_namespaced_config_map("seq-0", "default", {"data": {"n": "changed"}})
    core.delete_namespaced_config_map("seq-1", "default")
    acknowledged = config_maps(core)
    api.close()
    assert len([n for n in acknowledged if n.startswith(("before-down", "seq", "par"))]) == 119

    kill9(status["pid"])
    again = up(home)
    assert again["pid"] != status["pid"]
    api, core = core_api(again)
    try:
        assert config_maps(core) == acknowledged     # every name, with its resourceVersion
        assert core.read_namespaced_config_map("seq-0", "default").data == {"n": "changed"}
        # The revision counter continues: a new write gets a newer resourceVersion.
        newest = max(int(rv) for rv in acknowledged.values())
        made = core.create_namespaced_config_map("default", {"metadata": {"name": "after"}})
        assert int(made.metadata.resource_version) > newest
        with pytest.raises(ApiException) as err:
            core.create_namespaced_config_map("default", {"metadata": {"name": "seq-2"}})
        assert err.value.status == 409
    finally:
        api.close()


def test_a_torn_log_tail_is_dropped_with_one_line_in_the_log(home):
    status = up(home)
    api, core = core_api(status)
    create(core, [f"cm-{i}" for i in range(10)])
    acknowledged = config_maps(core)
    api.close()
    kill9(status["pid"])
    wal = sandbox_dir(home) / "state.wal"
    good = wal.stat().st_size
    whole = wal.read_bytes()
    # A record whose writer died mid-write: its header promises more bytes than follow.
    payload = json.dumps({"rv": 10 ** 6, "op": "put"}).encode()
    torn = struct.pack("<II", len(payload) + 400, zlib.crc32(payload)) + payload
    with open(wal, "ab") as f:
        f.write(torn)

    again = up(home)
    api, core = core_api(again)
    assert config_maps(core) == acknowledged
    # Cut back to the last whole record; what the running cluster writes since (node
    # Leases renewed) follows it.
    repaired = wal.read_bytes()
    assert repaired[:good] == whole and repaired[good:good + len(torn)] != torn
    log = (sandbox_dir(home) / "sandbox.log").read_text().splitlines()
    dropped = [line for line in log if "state.wal" in line and "dropped" in line]
    assert len(dropped) == 1 and f"offset {good}" in dropped[0]
    # New records follow the good ones, so they too survive the next crash.
    create(core, ["after-repair"])
    acknowledged = config_maps(core)
    api.close()
    kill9(again["pid"])
    api, core = core_api(up(home))
    assert config_maps(core) == acknowledged
    api.close()


def test_a_record_with_a_wrong_checksum_ends_the_log(home):
    status = up(home)
    api, core = core_api(status)
    create(core, ["kept"])
    api.close()
    kill9(status["pid"])
    wal = sandbox_dir(home) / "state.wal"
    data = bytearray(wal.read_bytes())
    starts, at = [], 0                           # where each record begins
    while at < len(data):
        starts.append(at)
        at += 8 + struct.unpack_from("<I", data, at)[0]
    records, _ = _journal.read_records(bytes(data))
    kept = next(i for i, r in enumerate(records) if r["name"] == "kept" and "inc" in r)
    data[starts[kept] + 12] ^= 0xFF              # flip bits inside that record's payload
    wal.write_bytes(bytes(data))

    api, core = core_api(up(home))
    try:
        # The damaged record and any after it are gone; everything before it is there.
        assert "kept" not in config_maps(core)
        assert core.read_namespace("default").metadata.name == "default"
    finally:
        api.close()
    assert wal.stat().st_size >= starts[kept]
    log = (sandbox_dir(home) / "sandbox.log").read_text()
    assert f"dropped {len(data) - starts[kept]} damaged bytes at offset {starts[kept]}" in log


def test_a_garbage_snapshot_is_moved_aside_and_the_sandbox_starts_fresh(home):
    status = up(home)
    api, core = core_api(status)
    create(core, ["lost-with-the-snapshot"])
    api.close()
    labkit(home, "sandbox", "down")
    state = sandbox_dir(home) / "state.json"
    garbage = state.read_bytes()[: state.stat().st_size // 2]     # a snapshot cut in half
    state.write_bytes(garbage)

    again = up(home)
    api, core = core_api(again)
    try:
        assert "lost-with-the-snapshot" not in config_maps(core)
        assert core.read_namespaced_service("kubernetes", "default").spec.cluster_ip == "10.0.0.1"
    finally:
        api.close()
    assert (sandbox_dir(home) / "state.json.corrupt-1").read_bytes() == garbage
    log = (sandbox_dir(home) / "sandbox.log").read_text().splitlines()
    assert len([line for line in log if "state.json.corrupt-1" in line]) == 1
    assert "Traceback" not in "\n".join(log)


# --- the store and its journal, in one process ------------------------------------------
def test_the_log_is_compacted_into_a_snapshot_and_both_reload(tmp_path, monkeypatch):
    monkeypatch.setattr(_journal, "COMPACT_MIN", 20_000)
    cm = by_plural("configmaps")
    store = Store(Clock(), path=tmp_path / "state.json")
    assert store.load() is False
    for i in range(200):
        store.create(cm, {"metadata": {"namespace": "default", "name": f"cm-{i}"}, "data": {"v": "x" * 100}})
    generated = store.create(cm, {"metadata": {"namespace": "default", "generateName": "gen-"}})
    store.delete(cm, "default", "cm-0")
    store._journal.sync()
    # The writer compacts on its own once the log outgrows COMPACT_MIN and the snapshot: after
    # its last batch the log is no longer than both (where it stops depends on how the writer
    # thread happened to batch the records, so no tighter bound holds).
    def compacted() -> bool:
        snapshot, log = tmp_path / "state.json", tmp_path / "state.wal"
        return snapshot.exists() and log.stat().st_size <= max(20_000, snapshot.stat().st_size)
    wait_for(compacted)

    # Without close(): what a killed process leaves (a snapshot, and a log after it).
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("state.json", "state.wal"):
        (copy / name).write_bytes((tmp_path / name).read_bytes())
    again = Store(Clock(), path=copy / "state.json")
    assert again.load() is True
    assert again.revision == store.revision
    assert [o["metadata"]["resourceVersion"] for o in again.list_resource(cm)] == \
        [o["metadata"]["resourceVersion"] for o in store.list_resource(cm)]
    # Generated names, incarnations and creation order continue as in the original.
    nxt = {"metadata": {"namespace": "default", "generateName": "gen-"}}
    assert again.create(cm, dict(nxt))["metadata"]["name"] == store.create(cm, dict(nxt))["metadata"]["name"] \
        != generated["metadata"]["name"]
    recreated = {"metadata": {"namespace": "default", "name": "cm-0"}}
    assert again.create(cm, dict(recreated))["metadata"]["uid"] == store.create(cm, dict(recreated))["metadata"]["uid"]
    assert again.creation_order(cm, "default", "cm-5") == store.creation_order(cm, "default", "cm-5")
    store.close()
    again.close()
    assert (tmp_path / "state.wal").stat().st_size == 0        # close() leaves only a snapshot
    reopened = Store(Clock(), path=tmp_path / "state.json")
    assert reopened.load() is True and reopened.revision == store.revision
    reopened.close()


def test_a_snapshot_of_the_wrong_shape_is_moved_aside_too(tmp_path, capsys):
    cm = by_plural("configmaps")
    (tmp_path / "state.json").write_text(json.dumps({"revision": 7, "objects": {cm.key: [{"no": "metadata"}]}}))
    store = Store(Clock(), path=tmp_path / "state.json")
    assert store.load() is False and store.revision == 0 and store.list_resource(cm) == []
    assert "state.json.corrupt-1" in capsys.readouterr().err
    assert (tmp_path / "state.json.corrupt-1").exists()
    store.create(cm, {"metadata": {"namespace": "default", "name": "fresh"}})
    store.close()
    again = Store(Clock(), path=tmp_path / "state.json")
    assert again.load() is True and [o["metadata"]["name"] for o in again.list_resource(cm)] == ["fresh"]
    again.close()


def test_a_snapshot_from_the_kept_texts_is_the_whole_state_encoded_at_once(tmp_path):
    # A compaction joins each object's text as written; it must be json.dumps of the state.
    import json
    cm = by_plural("configmaps")
    store = Store(Clock(), path=tmp_path / "state.json")
    store.load()
    for i in range(30):
        store.create(cm, {"metadata": {"namespace": "default", "name": f"cm-{i}"}, "data": {"v": "é" * i}})
    store.mutate(cm, "default", "cm-3", lambda o: o["data"].update(v="changed"))
    store.update(cm, dict(store.get_resource(cm, "default", "cm-4"), data={"k": "\u2028"}))
    store.delete(cm, "default", "cm-5")

    def whole(s: Store) -> bytes:
        rv, state = s._capture()
        state["objects"] = {key: list(bucket.values()) for key, bucket in s._objects.items()}
        return json.dumps(state, separators=(",", ":")).encode()
    assert _journal.snapshot_bytes(store._capture()[1]) == whole(store)
    store.close()
    again = Store(Clock(), path=tmp_path / "state.json")     # restored: texts made from the snapshot
    again.load()
    assert _journal.snapshot_bytes(again._capture()[1]) == whole(again)
    assert again.stored_bytes == store.stored_bytes
    again.close()
