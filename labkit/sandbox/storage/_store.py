"""The sandbox's object store: what etcd and the registry layer do for a real API server.

Objects are plain dicts keyed by resource, namespace and name. Each write gets
the next resourceVersion; stored objects are never mutated in place (a write
replaces the dict), so readers may hold references safely. Watchers see every
change in order; a ring buffer lets a watch resume from a recent resourceVersion.
With a path, every change is also journaled (see _journal): a write is on disk before
the API server answers it, and `load()` finds the store as the last change left it.
"""
from __future__ import annotations

import asyncio
import collections
import json as _json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ...kube.objects import clone
from ..apis import _errors, _naming
from . import _journal
from .._clock import Clock, rfc3339
from ..apis._resources import RESOURCES, Resource, by_plural

HISTORY = 20000          # events kept for resuming watches


class Compacted(Exception):
    """A revision older than the history the store keeps (etcd's ErrCompacted)."""


@dataclass
class Event:
    type: str            # ADDED, MODIFIED, DELETED
    resource: Resource
    object: dict
    old: dict | None
    rv: int


class Watch:
    """A subscription; events arrive on an asyncio queue in the store's loop."""

    def __init__(self, store: "Store", resource: Resource, namespace: str | None,
                 loop: asyncio.AbstractEventLoop):
        self.store, self.resource, self.namespace = store, resource, namespace
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self._loop = loop

    def offer(self, event: Event) -> None:
        if event.resource.key != self.resource.key:
            return
        if self.namespace and event.object["metadata"].get("namespace") != self.namespace:
            return
        self._loop.call_soon_threadsafe(self.queue.put_nowait, event)

    def close(self) -> None:
        self.store._watches.discard(self)


class Store:
    def __init__(self, clock: Clock, seed: int = 1, path: Path | None = None) -> None:
        self.clock, self.seed, self.path = clock, seed, path
        self._objects: dict[str, dict[tuple[str | None, str], dict]] = {r.key: {} for r in RESOURCES}
        self._rv = 0
        self._incarnations: collections.Counter = collections.Counter()
        self._name_floor: dict[tuple, int] = {}
        self._created: dict[tuple, int] = {}       # the revision that created each object
        self._history: collections.deque[Event] = collections.deque(maxlen=HISTORY)
        self._watches: set[Watch] = set()
        self._listeners: list[Callable[[Event], None]] = []
        self._lock = threading.RLock()
        self.dirty = False
        # Generated-name floors changed since the last journal record (None: removed).
        self._floor_changes: dict[tuple, int | None] = {}
        self._journal = _journal.Journal(path, self._lock) if path is not None else None
        self._journaling = False
        # etcd's backend quota (--quota-backend-bytes), measured as the objects' compact JSON.
        self.quota_bytes: int | None = None
        # Each object as compact JSON, as last written: its size for the quota, and the
        # snapshot's text (a compaction joins these rather than encoding the cluster again).
        self._encoded: dict[tuple, str] = {}
        self.stored_bytes = 0

    # --- reading -------------------------------------------------------------------
    @property
    def revision(self) -> int:
        return self._rv

    def get_resource(self, resource: Resource, namespace: str | None, name: str) -> dict | None:
        return self._objects[resource.key].get((namespace if resource.namespaced else None, name))

    def list_resource(self, resource: Resource, namespace: str | None = None) -> list[dict]:
        with self._lock:
            items = list(self._objects[resource.key].items())
        if namespace and resource.namespaced:
            items = [(k, v) for k, v in items if k[0] == namespace]
        items.sort(key=lambda kv: (kv[0][0] or "", kv[0][1]))
        return [v for _, v in items]

    def encoded(self, resource: Resource, objects: list[dict]) -> list[str | None]:
        """The compact JSON each object was stored as, where it is still the current one
        (None for another version, as a paginated list's later pages read)."""
        bucket, out = self._objects[resource.key], []
        with self._lock:
            for obj in objects:
                meta = obj["metadata"]
                key = (meta.get("namespace") if resource.namespaced else None, meta["name"])
                out.append(self._encoded.get((resource.key, *key)) if bucket.get(key) is obj else None)
        return out

    def list_at(self, resource: Resource, namespace: str | None, revision: int) -> list[dict]:
        """The resource's objects as they were at `revision`, in key order: what etcd reads
        for a paginated list's later pages, so every page shows one consistent snapshot.
        Rebuilt from the current objects and the changes made since, undone; a revision
        whose changes have left the history (etcd has compacted it) raises Compacted."""
        with self._lock:
            if revision < self._rv and (not self._history or self._history[0].rv > revision + 1):
                raise Compacted(revision)
            current = dict(self._objects[resource.key])
            then: dict[tuple, dict | None] = {}
            for e in self._history:
                if e.rv <= revision or e.resource.key != resource.key:
                    continue
                meta = e.object["metadata"]
                key = (meta.get("namespace") if resource.namespaced else None, meta["name"])
                then.setdefault(key, e.old if e.type != "ADDED" else None)
        current.update(then)
        items = [(k, v) for k, v in current.items() if v is not None
                 and (not namespace or not resource.namespaced or k[0] == namespace)]
        items.sort(key=lambda kv: (kv[0][0] or "", kv[0][1]))
        return [v for _, v in items]

    def count(self, resource: Resource) -> int:
        """How many objects of a resource are stored (all namespaces)."""
        return len(self._objects[resource.key])

    # ClusterReader, for the DNS server and the pod runtime.
    def list(self, plural: str, namespace: str | None = None) -> list[dict]:
        return self.list_resource(by_plural(plural), namespace)

    def get(self, plural: str, namespace: str | None, name: str) -> dict | None:
        return self.get_resource(by_plural(plural), namespace, name)

    def next_uid(self, resource: Resource, namespace: str | None, name: str) -> str:
        """The uid `create` would give this object now (a strategy that needs it first)."""
        with self._lock:
            incarnation = self._incarnations[(resource.key, namespace if resource.namespaced else None, name)]
            return _naming.object_uid(self.seed, resource.kind, namespace if resource.namespaced else None,
                                      name, incarnation)

    # --- writing -------------------------------------------------------------------
    def create(self, resource: Resource, obj: dict) -> dict:
        with self._lock:
            meta = obj.setdefault("metadata", {})
            namespace = meta.get("namespace") if resource.namespaced else None
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = self.generate_name(resource, namespace, meta["generateName"])
            name = meta["name"]
            bucket = self._objects[resource.key]
            if (namespace, name) in bucket:
                raise _errors.already_exists(resource, name)
            incarnation = self._incarnations[(resource.key, namespace, name)]
            meta.update(
                uid=meta.get("uid") or _naming.object_uid(self.seed, resource.kind, namespace, name, incarnation),
                resourceVersion=str(self._rv + 1),
                creationTimestamp=meta.get("creationTimestamp") or rfc3339(self.clock.now()),
            )
            if "spec" in obj and resource.kind not in ("Pod", "Service", "Node", "Namespace"):
                meta["generation"] = 1
            obj.setdefault("apiVersion", resource.api_version)
            obj.setdefault("kind", resource.kind)
            # The object as stored, encoded once: its size for the quota, and its journal record.
            encoded = _json.dumps(obj, separators=(",", ":"))
            self._check_quota(resource.key, namespace, name, encoded)
            self._rv += 1
            self._incarnations[(resource.key, namespace, name)] += 1
            bucket[(namespace, name)] = obj
            self._account(resource.key, namespace, name, encoded)
            self._created[(resource.key, namespace, name)] = self._rv
            self._emit(Event("ADDED", resource, obj, None, self._rv), encoded)
            return obj

    def update(self, resource: Resource, obj: dict, *, check_version: bool = True,
               exempt_quota: bool = False) -> dict:
        """Replace an object. A stale metadata.resourceVersion is a 409 Conflict; a write
        that grows a store past its quota fails as etcd's does (exempt_quota: a deletion's
        own write, such as the deletionTimestamp of a graceful delete)."""
        with self._lock:
            meta = obj["metadata"]
            namespace = meta.get("namespace") if resource.namespaced else None
            name = meta["name"]
            old = self._objects[resource.key].get((namespace, name))
            if old is None:
                raise _errors.not_found(resource, name)
            sent_rv = meta.get("resourceVersion")
            if check_version and sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
                raise _errors.conflict(resource, name)
            for field in ("uid", "creationTimestamp", "generation"):
                if field in old["metadata"]:
                    meta[field] = old["metadata"][field]
                else:
                    meta.pop(field, None)
            if "deletionTimestamp" in old["metadata"]:     # once set, never unset, only brought nearer
                meta["deletionTimestamp"] = min(old["metadata"]["deletionTimestamp"],
                                                meta.get("deletionTimestamp") or "~")
            if "generation" in meta and obj.get("spec") != old.get("spec"):
                meta["generation"] += 1
            if _same(old, obj):
                return old                         # a no-op write keeps its resourceVersion
            meta["resourceVersion"] = str(self._rv + 1)
            obj.setdefault("apiVersion", resource.api_version)
            obj.setdefault("kind", resource.kind)
            # Encoded once, for its size and for the journal (a thousand pods' status writes).
            encoded = _json.dumps(obj, separators=(",", ":"))
            self._check_quota(resource.key, namespace, name, encoded, exempt=exempt_quota)
            self._rv += 1
            self._objects[resource.key][(namespace, name)] = obj
            self._account(resource.key, namespace, name, encoded)
            self._emit(Event("MODIFIED", resource, obj, old, self._rv), encoded)
            return obj

    def mutate(self, resource: Resource, namespace: str | None, name: str,
               change: Callable[[dict], None], *, exempt_quota: bool = False) -> dict | None:
        """Read-modify-write for controllers: change() edits a private copy."""
        with self._lock:
            current = self.get_resource(resource, namespace, name)
            if current is None:
                return None
            # managedFields are replaced whole, never edited in place: the copy shares them
            # (a thousand pods' entries are not copied on every status write).
            entries = current["metadata"].get("managedFields")
            if entries is None:
                obj = clone(current)
            else:
                obj = {k: clone(v) for k, v in current.items() if k != "metadata"}
                obj["metadata"] = {k: (v if k == "managedFields" else clone(v))
                                   for k, v in current["metadata"].items()}
            change(obj)
            return self.update(resource, obj, check_version=False, exempt_quota=exempt_quota)

    def creation_order(self, resource: Resource, namespace: str | None, name: str) -> int:
        """The revision at which an object was created: older objects have smaller ones."""
        obj = self.get_resource(resource, namespace, name)
        found = self._created.get((resource.key, namespace, name))
        if found is None and obj is not None:      # restored from disk: its first version is unknown
            found = int(obj["metadata"]["resourceVersion"])
        return found or 0

    def delete(self, resource: Resource, namespace: str | None, name: str) -> dict:
        with self._lock:
            key = (namespace if resource.namespaced else None, name)
            old = self._objects[resource.key].pop(key, None)
            if old is None:
                raise _errors.not_found(resource, name)
            self._created.pop((resource.key, key[0], name), None)
            self.stored_bytes -= len(self._encoded.pop((resource.key, key[0], name), ""))
            # A generated name is not handed out again while its owner lives (a replaced pod
            # gets a new name, as on a real cluster); once the owner `<name>` is deleted, its
            # `<name>-` names start over, so a reset-and-reapply reproduces them.
            for floor_key in [k for k in self._name_floor if k[1] == key[0] and k[2] == f"{name}-"]:
                del self._name_floor[floor_key]
                self._floor_changes[floor_key] = None
            self._rv += 1
            gone = dict(old, metadata=dict(old["metadata"], resourceVersion=str(self._rv)))
            self._emit(Event("DELETED", resource, gone, old, self._rv))
            return gone

    # --- quota ---------------------------------------------------------------------
    def _check_quota(self, key: str, namespace: str | None, name: str, encoded: str, *,
                     exempt: bool = False) -> None:
        """Raise as a full etcd does when writing this object (`encoded`: its compact JSON)
        would pass the quota. kube-apiserver passes etcd's error through as a 500 with no
        reason (apiserver/pkg/endpoints/handlers/responsewriters ErrorToAPIStatus); kubectl
        prints `Error from server: etcdserver: mvcc: database space exceeded`. Deletes still
        work, and a write that does not grow the store is let through."""
        if self.quota_bytes is not None and not exempt:
            size, old = len(encoded), len(self._encoded.get((key, namespace, name), ""))
            if size > old and self.stored_bytes - old + size > self.quota_bytes:
                raise _errors.ApiError(500, "", "etcdserver: mvcc: database space exceeded")

    def _account(self, key: str, namespace: str | None, name: str, encoded: str) -> None:
        self.stored_bytes += len(encoded) - len(self._encoded.get((key, namespace, name), ""))
        self._encoded[(key, namespace, name)] = encoded

    def _recount(self) -> None:
        self._encoded, self.stored_bytes = {}, 0
        for key, bucket in self._objects.items():
            for (ns, name), obj in bucket.items():
                self._account(key, ns, name, _json.dumps(obj, separators=(",", ":")))

    def generate_name(self, resource: Resource, namespace: str | None, prefix: str) -> str:
        # Probe from the prefix's floor: the attempts below it were handed out already.
        floor_key = (resource.key, namespace, prefix)
        bucket = self._objects[resource.key]
        for attempt in range(self._name_floor.get(floor_key, 0), 100000):
            name = prefix + _naming.name_suffix(self.seed, namespace or "", prefix, attempt)
            if (namespace, name) not in bucket:
                self._name_floor[floor_key] = attempt + 1
                self._floor_changes[floor_key] = attempt + 1
                return name
        raise _errors.ApiError(500, "InternalError", f"no free name for generateName {prefix!r}")

    # --- change notification -------------------------------------------------------
    def _emit(self, event: Event, encoded: str | None = None) -> None:
        self.dirty = True
        if self._journaling:
            self._journal_event(event, encoded)
        self._history.append(event)
        for listener in list(self._listeners):
            listener(event)
        for watch in list(self._watches):
            watch.offer(event)

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        self._listeners.append(listener)

    def watch(self, resource: Resource, namespace: str | None, since: int | None,
              loop: asyncio.AbstractEventLoop) -> tuple[Watch, list[Event]]:
        """Subscribe, and return the buffered events after `since` (None: none)."""
        with self._lock:
            backlog: list[Event] = []
            if since is not None and since < self._rv:
                if not self._history or self._history[0].rv > since + 1:
                    raise _errors.gone(f"too old resource version: {since} ({self._rv})")
                backlog = [e for e in self._history if e.rv > since and e.resource.key == resource.key
                           and (not namespace or e.object["metadata"].get("namespace") == namespace)]
            w = Watch(self, resource, namespace, loop)
            self._watches.add(w)
            return w, backlog

    # --- persistence ---------------------------------------------------------------
    def _journal_event(self, event: Event, encoded: str | None = None) -> None:
        """Log what the event changed, before anyone hears of it (called with the lock held).
        `encoded`: the object as compact JSON already, logged as it is."""
        meta = event.object["metadata"]
        key = event.resource.key
        ns = meta.get("namespace") if event.resource.namespaced else None
        record: dict = {"rv": event.rv, "res": key, "ns": ns, "name": meta["name"]}
        if event.type == "DELETED":
            record["op"] = "del"
        else:
            record["op"] = "put"
            if encoded is None:
                record["obj"] = event.object
        if event.type == "ADDED":
            record["inc"] = self._incarnations[(key, ns, meta["name"])]
        if self._floor_changes:
            record["floors"] = [[list(k), v] for k, v in self._floor_changes.items()]
            self._floor_changes.clear()
        self._journal.append(event.rv, record, encoded if event.type != "DELETED" else None)

    def _apply(self, record: dict) -> None:
        """Redo one journaled change (start-up)."""
        key, ns, name = record["res"], record["ns"], record["name"]
        if key in self._objects:       # a resource this version no longer serves is skipped
            if record["op"] == "put":
                self._objects[key][(ns, name)] = record["obj"]
                if "inc" in record:
                    self._incarnations[(key, ns, name)] = record["inc"]
                    self._created[(key, ns, name)] = record["rv"]
            else:
                self._objects[key].pop((ns, name), None)
                self._created.pop((key, ns, name), None)
        for floor_key, value in record.get("floors", []):
            if value is None:
                self._name_floor.pop(tuple(floor_key), None)
            else:
                self._name_floor[tuple(floor_key)] = value
        self._rv = record["rv"]

    def _capture(self) -> tuple[int, dict]:
        """The state to snapshot (lock held): objects as the JSON text they were written as,
        so a compaction encodes no object again."""
        return self._rv, {
            "revision": self._rv,
            "incarnations": [[list(k), v] for k, v in self._incarnations.items()],
            "name_floors": [[list(k), v] for k, v in self._name_floor.items()],
            "created": [[list(k), v] for k, v in self._created.items()],
            "objects": {key: [self._encoded[(key, ns, name)] for ns, name in bucket]
                        for key, bucket in self._objects.items()}}

    def save(self) -> None:
        """Write a snapshot now and empty the journal (changes are durable without this)."""
        if self._journal is not None and self._journaling:
            self._journal.compact()
            self.dirty = False

    def load(self) -> bool:
        """Restore the snapshot and replay the journal; then journal every change.
        False when there was nothing to restore (a new cluster)."""
        if self._journal is None:
            return False
        data, records = self._journal.recover()
        with self._lock:
            try:
                self._restore(data, records)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
                # Well-formed JSON with the wrong shape: as unusable as a torn snapshot.
                self._clear()
                self._journal.discard(f"does not hold a store ({type(e).__name__}: {e})")
                data, records = None, []
            self._recount()
            self._journaling = True
        self._journal.start(self._capture)
        return data is not None or bool(records)

    def _restore(self, data: dict | None, records: list[dict]) -> None:
        if data is not None:
            self._rv = data["revision"]
            self._incarnations = collections.Counter({tuple(k): v for k, v in data.get("incarnations", [])})
            self._name_floor = {tuple(k): v for k, v in data.get("name_floors", [])}
            self._created = {tuple(k): v for k, v in data.get("created", [])}
            by_key = {r.key: r for r in RESOURCES}
            for key, items in data["objects"].items():
                if key not in by_key:
                    continue
                resource = by_key[key]
                for obj in items:
                    meta = obj["metadata"]
                    ns = meta.get("namespace") if resource.namespaced else None
                    self._objects[key][(ns, meta["name"])] = obj
        for record in records:
            self._apply(record)

    def _clear(self) -> None:
        """Forget everything restored (start-up found the files unusable)."""
        self._objects = {r.key: {} for r in RESOURCES}
        self._rv = 0
        self._incarnations = collections.Counter()
        self._name_floor, self._created, self._floor_changes = {}, {}, {}

    async def durable(self) -> None:
        """Wait until every change made so far is on disk (before answering a write)."""
        if self._journal is not None and self._journaling:
            await self._journal.wait(self._rv)

    def close(self) -> None:
        """Snapshot and stop journaling (a clean shutdown)."""
        if self._journal is not None and self._journaling:
            self._journal.close()
            self._journaling = False

    def all_objects(self) -> Iterable[tuple[Resource, dict]]:
        for resource in RESOURCES:
            for obj in self.list_resource(resource):
                yield resource, obj


def _same(old: dict, new: dict) -> bool:
    """Whether a write changes nothing but the resourceVersion it was sent with."""
    def strip(o: dict) -> dict:
        return dict(o, metadata={k: v for k, v in o["metadata"].items() if k != "resourceVersion"})
    return strip(old) == strip(new)
