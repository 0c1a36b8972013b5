"""Controllers: the background work that turns what users wrote into what runs.

Like kube-controller-manager, the scheduler and the kubelet, they only read and
write the store. Each keeps a set of dirty keys; store events mark keys dirty and
one asyncio task reconciles them until nothing is left, in sorted order so the
same calls give the same results.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import gc
import inspect
import ipaddress
import time
from typing import Iterator

from ...kube.objects import clone
from ..registry import _admission
from ..apis import _errors, _naming
from .._clock import rfc3339
from .._config import SandboxConfig
from ..apis._resources import by_plural
from ..apis._selectors import selector_from_match
from ..storage._store import Event, Store

PODS, RS, DEPLOY = by_plural("pods"), by_plural("replicasets"), by_plural("deployments")
SVC, EP, SLICES = by_plural("services"), by_plural("endpoints"), by_plural("endpointslices")
NS, NODES, EVENTS = by_plural("namespaces"), by_plural("nodes"), by_plural("events")
# kube-controller-manager's ReplicaSet controller: BurstReplicas, the most pods one sync
# creates or deletes (pkg/controller/replicaset/replica_set.go).
BURST_REPLICAS = 500
# client-go's event recorder (tools/record/events_cache.go): the spam filter's burst and refill
# (defaultSpamBurst 25, defaultSpamQPS 1/300) and its caches' size (maxLruCacheEntries 4096).
SPAM_BURST = 25
SPAM_REFILL_SECONDS = 300.0
EVENT_CACHE_ENTRIES = 4096
EVENT_SWEEP_SECONDS = 1.0
FREEZE_PODS = 500          # from this many pods, the collector is kept off the store's objects while busy
SLICE_MAX = 100            # --max-endpoints-per-slice default
MANAGED_BY = "endpointslice-controller.k8s.io"


def _owned_by(obj: dict, owner: dict) -> bool:
    return any(ref.get("uid") == owner["metadata"]["uid"] and ref.get("controller")
               for ref in obj["metadata"].get("ownerReferences") or [])


def _owner_ref(owner: dict, kind: str, api_version: str) -> dict:
    return {"apiVersion": api_version, "kind": kind, "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def pod_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _active(pod: dict) -> bool:
    return (not pod["metadata"].get("deletionTimestamp")
            and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))


class Controllers:
    def __init__(self, store: Store, registry, config: SandboxConfig) -> None:
        self.store, self.registry, self.config = store, registry, config
        self._dirty: dict[str, set] = {name: set() for name in
                                       ("deployment", "replicaset", "scheduler", "kubelet",
                                        "endpoints", "namespace", "gc")}
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_event_stamp = 0
        self._bound_at: dict[tuple, float] = {}
        self._dependents: dict[str, set] = {}       # owner uid -> (resource, namespace, name)
        self._waiting: set[tuple] = set()          # pods no node could take (the unschedulable queue)
        self._waiting_ip: set[tuple] = set()       # bound pods whose node's range had no address
        self._spam: dict[tuple, tuple[float, float]] = {}     # spam filter: tokens, when last counted
        self._seen_events: dict[tuple, str] = {}               # identical events: the Event's name
        self._next_sweep = 0.0
        self._next_freeze, self._frozen = 0.0, False
        self._stopping: dict[tuple, float] = {}      # terminating pods: when their containers exit     # when the scheduler bound a pod (kubelet start delay)
        store.add_listener(self._on_event)

    # --- wiring --------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        # Reconcile everything once: after a restart, state may lag behind specs.
        for resource, obj in self.store.all_objects():
            self._on_event(Event("ADDED", resource, obj, None, 0))
        self._task = self._loop.create_task(self._run())

    async def stop(self) -> None:
        self._closing = True
        self._wake.set()
        if self._frozen:
            self._frozen = False
            gc.unfreeze()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def idle(self) -> bool:
        return not any(self._dirty.values())

    def _mark(self, controller: str, key) -> None:
        self._dirty[controller].add(key)
        self._wake.set()

    def _on_event(self, event: Event) -> None:
        obj, plural = event.object, event.resource.plural
        meta = obj["metadata"]
        ns, name = meta.get("namespace"), meta["name"]
        if meta.get("ownerReferences") or (event.old or {}).get("metadata", {}).get("ownerReferences"):
            self._index_owners(event)
        if event.type == "DELETED":
            self._mark("gc", (ns, meta["uid"]))
        if plural == "deployments":
            self._mark("deployment", (ns, name))
        elif plural == "replicasets":
            self._mark("replicaset", (ns, name))
            for ref in meta.get("ownerReferences") or []:
                if ref.get("kind") == "Deployment":
                    self._mark("deployment", (ns, ref["name"]))
        elif plural == "pods":
            if event.type == "DELETED":
                self._waiting.discard((ns, name))
                if obj["spec"].get("nodeName"):
                    # A node has room again: the scheduler moves the pods it could not place
                    # back to its active queue, and the kubelet retries pods waiting for an IP.
                    self._dirty["scheduler"].update(self._waiting)
                    self._dirty["kubelet"].update(self._waiting_ip)
                    self._wake.set()
            for ref in meta.get("ownerReferences") or []:
                if ref.get("kind") == "ReplicaSet":
                    self._mark("replicaset", (ns, ref["name"]))
            if event.type != "DELETED":
                if meta.get("deletionTimestamp"):
                    self._mark("kubelet", (ns, name))
                elif not obj["spec"].get("nodeName"):
                    self._mark("scheduler", (ns, name))
                elif (obj.get("status") or {}).get("phase") == "Pending":
                    self._mark("kubelet", (ns, name))
            self._mark("endpoints", (ns, None))
        elif plural == "services":
            self._mark("endpoints", (ns, name))
        elif plural == "namespaces":
            if meta.get("deletionTimestamp"):
                self._mark("namespace", name)
        elif plural == "nodes" and event.type != "DELETED":
            # A node added or changed may now fit pods no node took: the scheduler retries them.
            for pod in self.store.list_resource(PODS):
                if not pod["spec"].get("nodeName") and not pod["metadata"].get("deletionTimestamp"):
                    self._mark("scheduler", (pod["metadata"]["namespace"], pod["metadata"]["name"]))

    async def _run(self) -> None:
        while not self._closing:
            try:
                await asyncio.wait_for(self._wake.wait(), EVENT_SWEEP_SECONDS)
            except asyncio.TimeoutError:
                self._thaw()
            if self._closing:       # wait_for before 3.12 can lose a cancel that meets a wake-up
                return
            self._wake.clear()
            if time.monotonic() >= self._next_sweep:
                self._next_sweep = time.monotonic() + EVENT_SWEEP_SECONDS
                try:
                    self.expire_events()
                except Exception as e:  # noqa: BLE001 - the sweep must not stop the controllers
                    self._record_failure("events", None, e)
            for _ in range(1000):
                if self.idle():
                    break
                for controller in ("namespace", "gc", "deployment", "replicaset", "scheduler",
                                   "kubelet", "endpoints"):
                    keys = sorted(self._dirty[controller], key=lambda k: tuple(str(x) for x in
                                                                              (k if isinstance(k, tuple) else (k,))))
                    self._dirty[controller].clear()
                    begin = getattr(self, f"_begin_{controller}", None)
                    if begin and keys:
                        begin()        # state shared by one batch (node load, used IPs)
                    reconcile = getattr(self, f"_reconcile_{controller}")
                    self._freeze()
                    for i, key in enumerate(keys):
                        try:
                            steps = reconcile(key)
                            if inspect.isgenerator(steps):      # a long reconcile yields between steps
                                for _ in steps:
                                    await asyncio.sleep(0)
                        except Exception as e:  # a controller error must not stop the others
                            self._record_failure(controller, key, e)
                        if i % 64 == 63:
                            await asyncio.sleep(0)   # let the API server answer meanwhile
                await asyncio.sleep(0)

    # CPython's cyclic collector scans every tracked object on a full pass: with thousands of
    # pods that is most of a second in which the API server answers nothing. The store's
    # objects are acyclic JSON that reference counting frees, so while the controllers work
    # through a large cluster the objects that exist are put out of the collector's sight
    # (gc.freeze), at most once a second; once the cluster is small and idle again they are
    # handed back and collected (gc.unfreeze), so cyclic garbage does not outlive the spell.
    def _freeze(self) -> None:
        now = time.monotonic()
        if now >= self._next_freeze and self.store.count(PODS) >= FREEZE_PODS:
            self._next_freeze = now + 1.0
            gc.freeze()
            self._frozen = True

    def _thaw(self) -> None:
        # Only once the cluster is small again: a full collection over thousands of pods
        # would be the very pause the freezing avoids.
        if self._frozen and self.store.count(PODS) < FREEZE_PODS:
            self._frozen = False
            gc.unfreeze()
            gc.collect()

    def _record_failure(self, controller: str, key, error: Exception) -> None:
        import logging
        logging.getLogger("labkit.sandbox").warning("%s controller failed on %s: %s", controller, key, error)

    # --- events --------------------------------------------------------------------
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
                when = _parse_time(stamp)
            except (TypeError, ValueError):
                continue
            if ttl and now - when >= ttl:
                self._delete_quietly(EVENTS, meta["namespace"], meta["name"])
            else:
                by_ns.setdefault(meta["namespace"], []).append((when, meta["name"]))
        for ns, events in by_ns.items():
            if cap and len(events) > cap:
                events.sort()
                for _, name in events[: len(events) - cap]:
                    self._delete_quietly(EVENTS, ns, name)

    # --- namespaces and garbage collection -----------------------------------------
    def _reconcile_namespace(self, name: str) -> None:
        ns = self.store.get_resource(NS, None, name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        for resource, obj in list(self.store.all_objects()):
            if resource.namespaced and obj["metadata"].get("namespace") == name:
                self._delete_quietly(resource, name, obj["metadata"]["name"])
        self._delete_quietly(NS, None, name)

    def _reconcile_gc(self, key) -> None:
        ns, uid = key
        # The garbage collector's graph: dependents by owner uid, kept from store events,
        # so an owner's deletion costs its dependents, not a scan of the namespace.
        for resource, dep_ns, name in sorted(self._dependents.get(uid, ()), key=lambda d: (d[0].plural, d[2])):
            if resource in (RS, PODS, SLICES, EP) and dep_ns == ns:
                self._delete_quietly(resource, ns, name)

    def _index_owners(self, event: Event) -> None:
        meta = event.object["metadata"]
        dep = (event.resource, meta.get("namespace"), meta["name"])
        old_refs = (event.old or {}).get("metadata", {}).get("ownerReferences") or [] \
            if event.type != "ADDED" else []
        new_refs = meta.get("ownerReferences") or [] if event.type != "DELETED" else []
        for ref in old_refs:
            deps = self._dependents.get(ref.get("uid"))
            if deps is not None:
                deps.discard(dep)
                if not deps:
                    del self._dependents[ref.get("uid")]
        for ref in new_refs:
            self._dependents.setdefault(ref.get("uid"), set()).add(dep)

    def _delete_quietly(self, resource, ns, name) -> None:
        if self.store.get_resource(resource, ns, name) is not None:
            self.store.delete(resource, ns, name)

    # --- deployments ---------------------------------------------------------------
    def _reconcile_deployment(self, key) -> None:
        ns, name = key
        d = self.store.get_resource(DEPLOY, ns, name)
        if d is None:
            return
        template = d["spec"]["template"]
        collisions = (d.get("status") or {}).get("collisionCount", 0)
        pth = _naming.pod_template_hash(template, collisions)
        owned = [rs for rs in self.store.list_resource(RS, ns) if _owned_by(rs, d)]
        current = next((rs for rs in owned if rs["metadata"].get("labels", {}).get("pod-template-hash") == pth), None)
        replicas = d["spec"].get("replicas", 1)
        revisions = [int(rs["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision", "0"))
                     for rs in owned]
        if current is None:
            revision = max(revisions, default=0) + 1
            tmpl = clone(template)
            tmpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = pth
            selector = clone(d["spec"]["selector"])
            selector.setdefault("matchLabels", {})["pod-template-hash"] = pth
            current = self.store.create(RS, {
                "metadata": {"name": f"{name}-{pth}", "namespace": ns,
                             "labels": dict(tmpl["metadata"]["labels"]),
                             "annotations": {"deployment.kubernetes.io/desired-replicas": str(replicas),
                                             "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                                             "deployment.kubernetes.io/revision": str(revision)},
                             "ownerReferences": [_owner_ref(d, "Deployment", "apps/v1")]},
                "spec": {"replicas": replicas, "minReadySeconds": d["spec"].get("minReadySeconds", 0),
                         "selector": selector, "template": tmpl}})
            self.record(d, "ScalingReplicaSet",
                        f"Scaled up replica set {current['metadata']['name']} to {replicas}", "deployment-controller")
        else:
            revision = int(current["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision", "1"))
        # A rollout in one step: the new ReplicaSet takes all replicas, old ones go to zero.
        # Event texts as pkg/controller/deployment/sync.go words them ("to N from M").
        if current["spec"].get("replicas") != replicas:
            old_count = current["spec"].get("replicas", 0)

            def scale(rs: dict) -> None:
                rs["spec"]["replicas"] = replicas
                rs["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/desired-replicas"] = str(replicas)
                rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] = str(replicas + 1)
            current = self.store.mutate(RS, ns, current["metadata"]["name"], scale)
            verb = "up" if replicas > old_count else "down"
            self.record(d, "ScalingReplicaSet",
                        f"Scaled {verb} replica set {current['metadata']['name']} to {replicas} from {old_count}",
                        "deployment-controller")
        for rs in owned:
            if rs["metadata"]["name"] != current["metadata"]["name"] and rs["spec"].get("replicas", 0):
                self.store.mutate(RS, ns, rs["metadata"]["name"], lambda o: o["spec"].update(replicas=0))
                self.record(d, "ScalingReplicaSet",
                            f"Scaled down replica set {rs['metadata']['name']} to 0 from {rs['spec']['replicas']}",
                            "deployment-controller")
        owned = [rs for rs in self.store.list_resource(RS, ns) if _owned_by(rs, d)]
        total = sum((rs.get("status") or {}).get("replicas", 0) for rs in owned)
        ready = sum((rs.get("status") or {}).get("readyReplicas", 0) for rs in owned)
        available = sum((rs.get("status") or {}).get("availableReplicas", 0) for rs in owned)
        cs = current.get("status") or {}
        updated = cs.get("replicas", 0)
        now = rfc3339(self.store.clock.now())
        old_status = d.get("status") or {}
        old_conds = {c["type"]: c for c in old_status.get("conditions") or []}

        def condition(type_, ok, reason, message):
            prev = old_conds.get(type_)
            status = "True" if ok else "False"
            changed = prev is None or prev["status"] != status
            return {"type": type_, "status": status, "reason": reason, "message": message,
                    "lastUpdateTime": now if changed or (prev and prev["reason"] != reason) else prev["lastUpdateTime"],
                    "lastTransitionTime": now if changed else prev["lastTransitionTime"]}

        rs_name = current["metadata"]["name"]
        complete = updated == replicas and available >= replicas and total == replicas
        conditions = [
            condition("Available", available >= replicas - _max_unavailable(d, replicas),
                      "MinimumReplicasAvailable" if available >= replicas - _max_unavailable(d, replicas)
                      else "MinimumReplicasUnavailable",
                      "Deployment has minimum availability." if available >= replicas - _max_unavailable(d, replicas)
                      else "Deployment does not have minimum availability."),
            condition("Progressing", True,
                      "NewReplicaSetAvailable" if complete else "ReplicaSetUpdated",
                      f'ReplicaSet "{rs_name}" has successfully progressed.' if complete
                      else f'ReplicaSet "{rs_name}" is progressing.'),
        ]
        status = {"observedGeneration": d["metadata"].get("generation", 1), "replicas": total,
                  "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": available,
                  "conditions": conditions}
        if total - available > 0:
            status["unavailableReplicas"] = total - available
        for k in ("readyReplicas", "availableReplicas", "updatedReplicas", "replicas"):
            if not status[k]:
                del status[k]
        if collisions:
            status["collisionCount"] = collisions

        def write(obj: dict) -> None:
            obj["status"] = status
            obj["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = str(revision)
        self.store.mutate(DEPLOY, ns, name, write)

    # --- replicasets ---------------------------------------------------------------
    def _reconcile_replicaset(self, key) -> Iterator[None]:
        ns, name = key
        rs = self.store.get_resource(RS, ns, name)
        if rs is None:
            return
        selector = selector_from_match(rs["spec"]["selector"])
        pods = [p for p in self.store.list_resource(PODS, ns)
                if _owned_by(p, rs) and _active(p)]
        want = rs["spec"].get("replicas", 1)
        if len(pods) < want:
            # manageReplicas: at most BurstReplicas per sync, created in slow-start batches
            # (1, 2, 4, ...) that stop at the first failure (pkg/controller/replicaset/
            # replica_set.go slowStartBatch). The pods' ADDED events bring the next sync.
            template = rs["spec"]["template"]
            remaining, batch = min(want - len(pods), BURST_REPLICAS), 1
            while remaining > 0:
                size = min(batch, remaining)
                failures = 0
                for i in range(size):      # one batch: every create is tried, as its goroutines are
                    pod = {"metadata": {"generateName": f"{name}-", "namespace": ns,
                                        "labels": dict(template["metadata"].get("labels") or {}),
                                        "annotations": dict(template["metadata"].get("annotations") or {}),
                                        "ownerReferences": [_owner_ref(rs, "ReplicaSet", "apps/v1")]},
                           "spec": clone(template["spec"])}
                    if not pod["metadata"]["annotations"]:
                        del pod["metadata"]["annotations"]
                    # Through the registry, as the real controller goes through the API: admission applies.
                    try:
                        created = self.registry.create(PODS, ns, pod)
                    except (_errors.ApiError, _admission.Invalid) as e:
                        failures += 1
                        self.record(rs, "FailedCreate", f"Error creating: {e}", "replicaset-controller",
                                    "Warning")
                        continue
                    self.record(rs, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                                "replicaset-controller")
                    if i % 32 == 31:
                        yield
                if failures:
                    break           # the rest are skipped until the next sync
                remaining -= size
                batch *= 2
                yield               # the API server answers between batches
            pods = [p for p in self.store.list_resource(PODS, ns) if _owned_by(p, rs) and _active(p)]
        elif len(pods) > want:
            # controller.ActivePods ranking: unscheduled, then pending, then not ready, then newest
            # first (by the order the store created them: timestamps have only second precision).
            # At most BurstReplicas deletions per sync, as manageReplicas caps the diff.
            def rank(p: dict):
                st = p.get("status") or {}
                return (bool(p["spec"].get("nodeName")), st.get("phase") == "Running", pod_ready(p),
                        -self.store.creation_order(PODS, ns, p["metadata"]["name"]))
            for i, p in enumerate(sorted(pods, key=rank)[: min(len(pods) - want, BURST_REPLICAS)]):
                self._delete_quietly(PODS, ns, p["metadata"]["name"])
                self.record(rs, "SuccessfulDelete", f"Deleted pod: {p['metadata']['name']}",
                            "replicaset-controller")
                if i % 64 == 63:
                    yield
            pods = [p for p in self.store.list_resource(PODS, ns) if _owned_by(p, rs) and _active(p)]
        ready = sum(1 for p in pods if pod_ready(p))
        labeled = sum(1 for p in pods if selector.matches(p["metadata"].get("labels") or {}))
        status = {"replicas": len(pods), "fullyLabeledReplicas": labeled, "readyReplicas": ready,
                  "availableReplicas": ready, "observedGeneration": rs["metadata"].get("generation", 1)}
        for k in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
            if not status[k]:
                del status[k]
        if rs.get("status") != status:
            self.store.mutate(RS, ns, name, lambda o: o.__setitem__("status", status))

    # --- scheduler -----------------------------------------------------------------
    def _begin_scheduler(self) -> None:
        self._node_load: dict[str, int] = {}
        for p in self.store.list_resource(PODS):
            node = p["spec"].get("nodeName")
            if node:
                self._node_load[node] = self._node_load.get(node, 0) + 1

    def _reconcile_scheduler(self, key) -> None:
        ns, name = key
        pod = self.store.get_resource(PODS, ns, name)
        if pod is None or pod["spec"].get("nodeName"):
            return
        all_nodes = self.store.list_resource(NODES)
        load = self._node_load
        nodes = [n["metadata"]["name"] for n in all_nodes if _schedulable(n, pod, load.get(n["metadata"]["name"], 0))]
        if not nodes:
            self._waiting.add(key)
            self._unschedulable(pod, unschedulable_message(all_nodes, pod, load))
            return
        self._waiting.discard(key)
        # Least loaded node first, as the default scheduler's spreading scores tend to; ties by a seeded draw.
        node = min(nodes, key=lambda n: (load.get(n, 0), _naming.spread(self.config.seed, "node", ns, name, n)))
        load[node] = load.get(node, 0) + 1
        now = rfc3339(self.store.clock.now())

        def bind(p: dict) -> None:
            p["spec"]["nodeName"] = node
            st = p.setdefault("status", {})
            st["phase"] = "Pending"
            st["conditions"] = [{"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                                 "lastTransitionTime": now}]
            # What the kubelet reports while it pulls and starts: STATUS ContainerCreating.
            st["hostIP"] = self.config.node_ip(node) if node in self.config.nodes else None
            st["containerStatuses"] = [{
                "name": c["name"], "image": c["image"], "imageID": "", "ready": False,
                "restartCount": 0, "started": False, "lastState": {},
                "state": {"waiting": {"reason": "ContainerCreating"}}} for c in p["spec"]["containers"]]
        bound = self.store.mutate(PODS, ns, name, bind)
        self._bound_at[key] = self.store.clock.monotonic()
        self.record(bound, "Scheduled", f"Successfully assigned {ns}/{name} to {node}", "default-scheduler")

    def _unschedulable(self, pod: dict, message: str) -> None:
        """PodScheduled=False, reason Unschedulable, and a FailedScheduling event, as the
        scheduler reports a pod no node fits; written again only when the message changes."""
        current = next((c for c in (pod.get("status") or {}).get("conditions") or []
                        if c.get("type") == "PodScheduled"), None)
        if current and current.get("status") == "False" and current.get("message") == message:
            return
        now = rfc3339(self.store.clock.now())

        def mark(p: dict) -> None:
            st = p.setdefault("status", {})
            st["phase"] = "Pending"
            others = [c for c in st.get("conditions") or [] if c.get("type") != "PodScheduled"]
            st["conditions"] = others + [{"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                                          "lastTransitionTime": now, "reason": "Unschedulable",
                                          "message": message}]
        marked = self.store.mutate(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"], mark)
        if marked is not None:
            self.record(marked, "FailedScheduling", message, "default-scheduler", "Warning")

    # --- kubelet -------------------------------------------------------------------
    def _begin_kubelet(self) -> None:
        self._used_ips = {(p.get("status") or {}).get("podIP") for p in self.store.list_resource(PODS)}

    def _reconcile_kubelet(self, key) -> None:
        ns, name = key
        pod = self.store.get_resource(PODS, ns, name)
        if pod is not None and pod["metadata"].get("deletionTimestamp"):
            self._stop_pod(key, pod)
            return
        if pod is None or not pod["spec"].get("nodeName") or (pod.get("status") or {}).get("phase") != "Pending":
            return
        wait = self._bound_at.get(key, 0.0) + self.config.pod_start_seconds - self.store.clock.monotonic()
        if wait > 0 and self._loop:
            self._loop.call_later(wait, self._mark, "kubelet", key)
            return
        self._bound_at.pop(key, None)
        ip = self._allocate_pod_ip(pod)
        if ip is None:
            return
        node = pod["spec"]["nodeName"]
        now = rfc3339(self.store.clock.now())
        host_ip = self.config.node_ip(node) if node in self.config.nodes else None
        if pod["spec"].get("hostNetwork"):
            ip = host_ip

        def run(p: dict) -> None:
            st = p.setdefault("status", {})
            st.update(phase="Running", hostIP=host_ip, hostIPs=[{"ip": host_ip}], podIP=ip,
                      podIPs=[{"ip": ip}], startTime=now, qosClass=st.get("qosClass", "BestEffort"))
            scheduled = next((c for c in st.get("conditions") or [] if c["type"] == "PodScheduled"),
                             {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                              "lastTransitionTime": now})
            st["conditions"] = [
                {"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": None, "lastTransitionTime": now},
                {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": now},
                {"type": "Ready", "status": "True", "lastProbeTime": None, "lastTransitionTime": now},
                {"type": "ContainersReady", "status": "True", "lastProbeTime": None, "lastTransitionTime": now},
                scheduled]
            st["containerStatuses"] = [{
                "name": c["name"], "image": _full_image(c["image"]),
                "imageID": f"{_full_image(c['image']).rsplit(':', 1)[0]}@sha256:"
                           f"{_naming.spread(0, 'img', c['image']):016x}" * 1,
                "containerID": f"containerd://{_naming.spread(self.config.seed, 'cid', ns, name, c['name']):016x}"
                               f"{_naming.spread(self.config.seed, 'cid2', ns, name, c['name']):016x}",
                "ready": True, "started": True, "restartCount": 0,
                "state": {"running": {"startedAt": now}}, "lastState": {}}
                for c in p["spec"]["containers"]]
        started = self.store.mutate(PODS, ns, name, run)
        for c in pod["spec"]["containers"]:
            self.record(started, "Pulled", f'Container image "{c["image"]}" already present on machine', "kubelet")
            self.record(started, "Created", f"Created container {c['name']}", "kubelet")
            self.record(started, "Started", f"Started container {c['name']}", "kubelet")

    def _stop_pod(self, key, pod: dict) -> None:
        """A terminating pod's containers get SIGTERM; the sandbox's exit within
        pod_stop_seconds (well inside any grace period), then the pod object goes."""
        stop_at = self._stopping.setdefault(key, self.store.clock.monotonic() + self.config.pod_stop_seconds)
        wait = stop_at - self.store.clock.monotonic()
        if wait > 0 and self._loop:
            self._loop.call_later(wait, self._mark, "kubelet", key)
            return
        del self._stopping[key]
        self.record(pod, "Killing", f"Stopping container {pod['spec']['containers'][0]['name']}", "kubelet")
        self._delete_quietly(PODS, *key)

    def _allocate_pod_ip(self, pod: dict) -> str | None:
        """An address for the pod, as the CNI's IPAM gives one: from the node's
        spec.podCIDR when the node has one (host-local IPAM over the node's range, as
        kindnet and flannel configure it), else from the cluster's shared pod CIDR.
        Seeded from the pod's identity with collision probing, so the shared-pool
        addresses are the same as before nodes had ranges."""
        node = self.store.get_resource(NODES, None, pod["spec"].get("nodeName") or "")
        node_cidr = ((node or {}).get("spec") or {}).get("podCIDR")
        net = ipaddress.ip_network(node_cidr or self.config.pod_cidr)
        used = self._used_ips
        size = net.num_addresses - 3       # skip the network address, the gateway (.1) and broadcast
        meta = pod["metadata"]
        start = _naming.spread(self.config.seed, "podip", meta["namespace"], meta["name"]) % size
        key = (meta["namespace"], meta["name"])
        for step in range(size):
            ip = str(net[2 + (start + step) % size])
            if ip not in used:
                used.add(ip)
                self._waiting_ip.discard(key)
                return ip
        # The CNI's host-local IPAM has no free address: the kubelet cannot create the pod's
        # sandbox and the pod stays ContainerCreating until an address is freed. The message
        # is containerd's, wrapping the plugin's (plugins/ipam/host-local/backend/allocator:
        # the range set printed from its first address, the gateway's, to the last).
        self._waiting_ip.add(key)
        sandbox_id = "".join(f"{_naming.spread(self.config.seed, 'sandbox', i, *key):016x}" for i in range(4))
        self.record(pod, "FailedCreatePodSandBox",
                    "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for "
                    f'sandbox "{sandbox_id}": plugin type="ptp" failed (add): failed to allocate for range 0: '
                    f"no IP addresses available in range set: {net[1]}-{net[-2]}", "kubelet", "Warning")
        return None

    # --- endpoints and endpoint slices ---------------------------------------------
    def _reconcile_endpoints(self, key) -> None:
        ns, name = key
        services = ([self.store.get_resource(SVC, ns, name)] if name else self.store.list_resource(SVC, ns))
        if name and services[0] is None:
            return    # the garbage collector removes what the Service owned
        pods = [p for p in self.store.list_resource(PODS, ns) if (p.get("status") or {}).get("podIP")
                and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        for svc in services:
            if svc is None or not svc["spec"].get("selector"):
                continue          # selector-less Services keep what users create
            selector = selector_from_match({"matchLabels": svc["spec"]["selector"]})
            members = [p for p in pods if selector.matches(p["metadata"].get("labels") or {})]
            members.sort(key=lambda p: ipaddress.ip_address(p["status"]["podIP"]))
            # Endpoints drop terminating pods; EndpointSlices keep them, marked terminating.
            self._write_endpoints(svc, [p for p in members if _active(p)])
            self._write_slices(svc, members)

    def _ports(self, svc: dict, pod: dict | None) -> list[dict]:
        out = []
        for port in svc["spec"].get("ports") or []:
            target = port.get("targetPort", port["port"])
            if isinstance(target, str) and pod is not None:
                named = [cp["containerPort"] for c in pod["spec"]["containers"] for cp in c.get("ports") or []
                         if cp.get("name") == target]
                if not named:
                    continue
                target = named[0]
            elif isinstance(target, str):
                continue
            entry = {"port": int(target), "protocol": port.get("protocol", "TCP")}
            if port.get("name"):
                entry["name"] = port["name"]
            if port.get("appProtocol"):
                entry["appProtocol"] = port["appProtocol"]
            out.append(entry)
        return out

    def _write_endpoints(self, svc: dict, members: list[dict]) -> None:
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        ready, not_ready = [], []
        for p in members:
            addr = {"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"],
                    "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"],
                                  "uid": p["metadata"]["uid"]}}
            if p["spec"].get("hostname") and p["spec"].get("subdomain") == name:
                addr["hostname"] = p["spec"]["hostname"]
            (ready if pod_ready(p) else not_ready).append(addr)
        subsets = []
        if members:
            subset = {}
            if ready:
                subset["addresses"] = ready
            if not_ready:
                subset["notReadyAddresses"] = not_ready
            subset["ports"] = self._ports(svc, members[0])
            subsets = [subset]
        labels = dict(svc["metadata"].get("labels") or {})
        if svc["spec"].get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        desired = {"metadata": {"name": name, "namespace": ns, "labels": labels}}
        if subsets:
            desired["subsets"] = subsets
        current = self.store.get_resource(EP, ns, name)
        if current is None:
            self.store.create(EP, desired)
        elif current.get("subsets") != desired.get("subsets") or current["metadata"].get("labels") != labels:
            def write(o: dict) -> None:
                o["metadata"]["labels"] = labels
                o["metadata"].setdefault("annotations", {})["endpoints.kubernetes.io/last-change-trigger-time"] = \
                    rfc3339(self.store.clock.now())
                o.pop("subsets", None)
                if subsets:
                    o["subsets"] = subsets
            self.store.mutate(EP, ns, name, write)

    def _write_slices(self, svc: dict, members: list[dict]) -> None:
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        endpoints = []
        for p in members:
            serving = pod_ready(p)
            terminating = bool(p["metadata"].get("deletionTimestamp"))
            ep = {"addresses": [p["status"]["podIP"]],
                  "conditions": {"ready": serving and not terminating, "serving": serving,
                                 "terminating": terminating},
                  "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"],
                                "uid": p["metadata"]["uid"]},
                  "nodeName": p["spec"]["nodeName"]}
            if p["spec"].get("hostname") and p["spec"].get("subdomain") == name:
                ep["hostname"] = p["spec"]["hostname"]
            endpoints.append(ep)
        chunks = [endpoints[i:i + SLICE_MAX] for i in range(0, len(endpoints), SLICE_MAX)] or [[]]
        # The EndpointSlice controller always sets the port's name pointer, "" for an unnamed
        # port (k8s.io/endpointslice utils.go getEndpointPorts); client-go programs such as
        # CoreDNS's kubernetes plugin dereference it. Endpoints omit an empty name. Ports
        # come from the pods: with none, the placeholder slice has no ports (reconciler.go
        # newEndpointSlice with an empty endpointMeta), read back as `ports: null`.
        ports = [{"name": "", **p} for p in self._ports(svc, members[0])] if members else []
        labels = dict(svc["metadata"].get("labels") or {})
        labels.update({"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": MANAGED_BY})
        if svc["spec"].get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        existing = [s for s in self.store.list_resource(SLICES, ns)
                    if s["metadata"].get("labels", {}).get("kubernetes.io/service-name") == name
                    and s["metadata"].get("labels", {}).get("endpointslice.kubernetes.io/managed-by") == MANAGED_BY]
        existing.sort(key=lambda s: s["metadata"]["name"])
        for i, chunk in enumerate(chunks):
            body = {"addressType": "IPv4", "endpoints": chunk or None, "ports": ports or None}
            if i < len(existing):
                s = existing[i]
                if s.get("endpoints") != body["endpoints"] or s.get("ports") != body["ports"] \
                        or s["metadata"].get("labels") != labels:
                    def write(o: dict, body=body) -> None:
                        o["metadata"]["labels"] = labels
                        o.update(body)
                    self.store.mutate(SLICES, ns, s["metadata"]["name"], write)
            else:
                self.store.create(SLICES, {
                    "metadata": {"generateName": f"{name}-", "namespace": ns, "labels": labels,
                                 "ownerReferences": [_owner_ref(svc, "Service", "v1")]},
                    **body})
        for s in existing[len(chunks):]:
            self._delete_quietly(SLICES, ns, s["metadata"]["name"])


def _parse_time(stamp: str) -> float:
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp()


def _max_unavailable(d: dict, replicas: int) -> int:
    strategy = d["spec"].get("strategy") or {}
    value = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return int(replicas * int(value[:-1]) / 100)
    return int(value)


def _schedulable(node: dict, pod: dict, load: int = 0) -> bool:
    return _unfit(node, pod, load) is None


TOO_MANY_PODS = "Too many pods"


def node_max_pods(node: dict) -> int:
    """The pods a node takes: status.allocatable.pods (the kubelet's maxPods), else 110."""
    status = node.get("status") or {}
    value = (status.get("allocatable") or status.get("capacity") or {}).get("pods", "110")
    try:
        return int(value)
    except (TypeError, ValueError):
        return 110


def _unfit(node: dict, pod: dict, load: int = 0) -> str | None:
    """Why the node cannot take the pod, from the first scheduler filter that rejects it
    (NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit, in the default plugin
    order), else None. `load` is how many pods the node has already. The wording is each
    plugin's (pkg/scheduler/framework/plugins/...; noderesources/fit.go "Too many pods")."""
    if node["spec"].get("unschedulable"):
        return "node(s) were unschedulable"
    tolerations = pod["spec"].get("tolerations") or []
    for taint in node["spec"].get("taints") or []:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not any(t.get("operator") == "Exists" and not t.get("key") or
                   t.get("key") == taint["key"] and (t.get("operator") == "Exists" or t.get("value") == taint.get("value"))
                   and (not t.get("effect") or t["effect"] == taint["effect"]) for t in tolerations):
            return f"node(s) had untolerated taint {{{taint['key']}: {taint.get('value', '')}}}"
    wanted = pod["spec"].get("nodeSelector") or {}
    labels = node["metadata"].get("labels") or {}
    if not all(labels.get(k) == v for k, v in wanted.items()):
        return "node(s) didn't match Pod's node affinity/selector"
    if load + 1 > node_max_pods(node):
        return TOO_MANY_PODS
    return None


def unschedulable_message(nodes: list[dict], pod: dict, load: dict[str, int] | None = None) -> str:
    """The scheduler's FitError text when no node fits: counts per reason, sorted, then what
    preemption found. Nodes rejected for a reason eviction cannot fix are "not helpful"; a
    node that is only full could take the pod if lower-priority pods left, and with none
    there is "No preemption victims found" (pkg/scheduler/framework/preemption)."""
    counts: dict[str, int] = {}
    full = 0
    for node in nodes:
        reason = _unfit(node, pod, (load or {}).get(node["metadata"]["name"], 0))
        if reason:
            counts[reason] = counts.get(reason, 0) + 1
            full += reason == TOO_MANY_PODS
    reasons = sorted(f"{n} {reason}" for reason, n in counts.items())
    total = len(nodes)
    text = f"0/{total} nodes are available"
    if reasons:
        text += ": " + ", ".join(reasons)
    preemption = []
    if total - full:
        preemption.append(f"{total - full} Preemption is not helpful for scheduling")
    if full:
        preemption.append(f"{full} No preemption victims found for incoming pod")
    return f"{text}. preemption: 0/{total} nodes are available: {', '.join(sorted(preemption))}."


def _full_image(image: str) -> str:
    """How containerd reports an image reference: registry and tag made explicit."""
    name = image
    if "@" not in name and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    return name
