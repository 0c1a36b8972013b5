"""Events, recorded as client-go's recorder does and expired as the API server's TTL does."""
from __future__ import annotations

import heapq

from ..apis import _errors
from ..registry import _admission
from .._clock import rfc3339
from .._config import SandboxConfig
from ..storage._store import Event, Store
from ._base import EVENTS, NS, delete_quietly, parse_time

# client-go's event recorder (tools/record/events_cache.go): the spam filter's burst and refill
# (defaultSpamBurst 25, defaultSpamQPS 1/300) and its caches' size (maxLruCacheEntries 4096).
SPAM_BURST = 25
SPAM_REFILL_SECONDS = 300.0
EVENT_CACHE_ENTRIES = 4096


class EventRecorder:
    def __init__(self, store: Store, config: SandboxConfig) -> None:
        self.store, self.config = store, config
        self._last_event_stamp = 0
        self._spam: dict[tuple, tuple[float, float]] = {}     # spam filter: tokens, when last counted
        self._seen_events: dict[tuple, str] = {}               # identical events: the Event's name
        # The expiry index (see on_event): live Event versions, (namespace, name) -> (rv, when).
        self._indexed: dict[tuple, tuple] = {}
        self._members: dict[str | None, set] = {}               # namespace -> its indexed Events
        self._by_time: list[tuple] = []                         # (when, namespace, name, rv)
        self._by_ns: dict[str | None, list[tuple]] = {}         # namespace -> [(when, name, rv)]

    def record(self, obj: dict, reason: str, message: str, component: str, type_: str = "Normal") -> None:
        """Record an Event as client-go's recorder does (tools/record/events_cache.go
        EventCorrelator): an event identical to one already recorded (same source, object,
        type, reason and message) bumps that one's count and lastTimestamp instead of being
        stored anew; and a token bucket per source and object (burst 25, one token back every
        5 minutes: EventSourceObjectSpamFilter) drops the rest of a flood. A failed write
        (a full store) drops the event, as the recorder gives up on errors."""
        meta = obj["metadata"]
        ns = meta.get("namespace") or "default"
        now_t = self.store.clock.time()
        spam_key = (component, obj["kind"], meta.get("namespace"), meta["name"], meta.get("uid"))
        tokens, since = self._spam.pop(spam_key, (float(SPAM_BURST), now_t))
        tokens = min(float(SPAM_BURST), tokens + (now_t - since) / SPAM_REFILL_SECONDS)
        self._spam[spam_key] = (tokens - 1 if tokens >= 1 else tokens, now_t)
        if len(self._spam) > EVENT_CACHE_ENTRIES:
            self._spam.pop(next(iter(self._spam)))
        if tokens < 1:
            return
        now = rfc3339(self.store.clock.now())
        same_key = spam_key + (type_, reason, message)
        seen = self._seen_events.pop(same_key, None)
        try:
            if seen is not None and self.store.get_resource(EVENTS, ns, seen) is not None:
                def again(ev: dict) -> None:
                    ev["count"] = ev.get("count", 1) + 1
                    ev["lastTimestamp"] = now
                self.store.mutate(EVENTS, ns, seen, again)
                name = seen
            else:
                space = self.store.get_resource(NS, None, ns)
                if space is None or space["metadata"].get("deletionTimestamp"):
                    return      # the API server refuses new content there (403): the recorder drops it
                # Named like the real recorder (<object>.<unix nanoseconds in hex>), so names sort
                # by time and `kubectl describe` lists events in the order they happened.
                stamp = max(int(now_t * 1e9), self._last_event_stamp + 1)
                self._last_event_stamp = stamp
                name = f"{meta['name']}.{stamp:x}"
                self.store.create(EVENTS, {
                    "metadata": {"name": name, "namespace": ns},
                    "involvedObject": {"kind": obj["kind"], "namespace": meta.get("namespace"),
                                       "name": meta["name"], "uid": meta["uid"], "apiVersion": obj["apiVersion"],
                                       "resourceVersion": meta["resourceVersion"]},
                    "reason": reason, "message": message, "source": {"component": component},
                    "firstTimestamp": now, "lastTimestamp": now, "count": 1, "type": type_,
                    "eventTime": None, "reportingComponent": component, "reportingInstance": ""})
        except (_errors.ApiError, _admission.Invalid):
            return
        self._seen_events[same_key] = name
        if len(self._seen_events) > EVENT_CACHE_ENTRIES:
            self._seen_events.pop(next(iter(self._seen_events)))

    # --- expiry ----------------------------------------------------------------------------
    # Every Event version's expiry is indexed as the store reports it (`on_event`): a heap by
    # when it was last written, for the TTL, and one per namespace, for the cap; entries of a
    # version since rewritten or deleted are skipped when they come up (and compacted away
    # when they outnumber the live ones), so a sweep costs what it deletes, not a scan of
    # every Event and a sort (several thousand a second during a 1000-pod scale-out).
    def on_event(self, event: Event) -> None:
        if event.resource.key != EVENTS.key:
            return
        meta = event.object["metadata"]
        key = (meta.get("namespace"), meta["name"])
        members = self._members.setdefault(key[0], set())
        if event.type == "DELETED":
            self._indexed.pop(key, None)
            members.discard(key[1])
            return
        try:
            when = parse_time(event.object.get("lastTimestamp") or meta.get("creationTimestamp"))
        except (TypeError, ValueError):      # never expires, and does not count to the cap
            self._indexed.pop(key, None)
            members.discard(key[1])
            return
        rv = meta.get("resourceVersion")
        self._indexed[key] = (rv, when)
        members.add(key[1])
        heapq.heappush(self._by_time, (when, key[0], key[1], rv))
        heapq.heappush(self._by_ns.setdefault(key[0], []), (when, key[1], rv))

    def _current(self, ns: str, name: str, rv) -> bool:
        found = self._indexed.get((ns, name))
        return found is not None and found[0] == rv

    def expire_events(self, limit: int | None = None) -> bool:
        """Drop Events older than the API server's --event-ttl (their etcd lease runs from
        their last write) and, beyond the sandbox's cap per namespace, the oldest ones.
        With a `limit`, stop after that many deletions: True when some are left for the next
        call (the controllers' loop lets the API server answer in between)."""
        ttl = self.config.event_ttl_seconds
        cap = self.config.max_events_per_namespace
        budget = limit if limit is not None else -1
        if ttl:
            now = self.store.clock.time()
            heap = self._by_time
            while heap and now - heap[0][0] >= ttl:
                if budget == 0:
                    return True
                _, ns, name, rv = heapq.heappop(heap)
                if self._current(ns, name, rv):
                    delete_quietly(self.store, EVENTS, ns, name)
                    budget -= 1
        if cap:
            for ns, members in list(self._members.items()):
                heap = self._by_ns.get(ns) or []
                while len(members) > cap and heap:
                    if budget == 0:
                        return True
                    _, name, rv = heapq.heappop(heap)
                    if self._current(ns, name, rv):
                        delete_quietly(self.store, EVENTS, ns, name)
                        members.discard(name)      # also when the store had lost it already
                        self._indexed.pop((ns, name), None)
                        budget -= 1
                if not members:
                    self._members.pop(ns, None)
                    self._by_ns.pop(ns, None)
        self._compact()
        return False

    def _compact(self) -> None:
        """Rebuild the heaps from the live entries once stale ones (rewritten Events: each
        repeat bumps a count) outnumber them."""
        live = len(self._indexed)
        if len(self._by_time) <= 2 * live + 1024:
            return
        self._by_time = [(when, ns, name, rv) for (ns, name), (rv, when) in self._indexed.items()]
        heapq.heapify(self._by_time)
        self._by_ns = {}
        for (ns, name), (rv, when) in self._indexed.items():
            self._by_ns.setdefault(ns, []).append((when, name, rv))
        for heap in self._by_ns.values():
            heapq.heapify(heap)
