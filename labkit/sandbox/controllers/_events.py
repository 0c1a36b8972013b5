"""Events, recorded as client-go's recorder does and expired as the API server's TTL does."""
from __future__ import annotations

from ..apis import _errors
from ..registry import _admission
from .._clock import rfc3339
from .._config import SandboxConfig
from ..storage._store import Store
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

    def expire_events(self) -> None:
        """Drop Events older than the API server's --event-ttl (their etcd lease runs from
        their last write) and, beyond the sandbox's cap per namespace, the oldest ones."""
        ttl = self.config.event_ttl_seconds
        cap = self.config.max_events_per_namespace
        now = self.store.clock.time()
        by_ns: dict[str, list[tuple[float, str]]] = {}
        for ev in self.store.list_resource(EVENTS):
            meta = ev["metadata"]
            stamp = ev.get("lastTimestamp") or meta.get("creationTimestamp")
            try:
                when = parse_time(stamp)
            except (TypeError, ValueError):
                continue
            if ttl and now - when >= ttl:
                delete_quietly(self.store, EVENTS, meta["namespace"], meta["name"])
            else:
                by_ns.setdefault(meta["namespace"], []).append((when, meta["name"]))
        for ns, events in by_ns.items():
            if cap and len(events) > cap:
                events.sort()
                for _, name in events[: len(events) - cap]:
                    delete_quietly(self.store, EVENTS, ns, name)
