"""Namespace deletion and garbage collection: what goes when its namespace or owner goes."""
from __future__ import annotations

from ..storage._store import Event
from ._base import NS, Controller, delete_quietly


class NamespaceController(Controller):
    name = "namespace"

    def on_event(self, event: Event) -> None:
        meta = event.object["metadata"]
        if event.resource.plural == "namespaces" and meta.get("deletionTimestamp"):
            self.mark(meta["name"])

    def reconcile(self, name: str) -> None:
        ns = self.store.get_resource(NS, None, name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        for resource, obj in list(self.store.all_objects()):
            if resource.namespaced and obj["metadata"].get("namespace") == name:
                delete_quietly(self.store, resource, name, obj["metadata"]["name"])
        delete_quietly(self.store, NS, None, name)


# The dependents the collector deletes with their owner (Background propagation).
_COLLECTED = frozenset({"replicasets", "pods", "endpointslices", "endpoints", "jobs"})


class GarbageCollector(Controller):
    """The garbage collector's graph: dependents by owner uid, kept from store events, so an
    owner's deletion costs its dependents, not a scan of the namespace."""
    name = "gc"

    def __init__(self, manager) -> None:
        super().__init__(manager)
        self._dependents: dict[str, set] = {}       # owner uid -> (resource, namespace, name)

    def on_event(self, event: Event) -> None:
        meta = event.object["metadata"]
        if meta.get("ownerReferences") or (event.old or {}).get("metadata", {}).get("ownerReferences"):
            self._index_owners(event)
        if event.type == "DELETED":
            self.mark((meta.get("namespace"), meta["uid"]))

    def reconcile(self, key) -> None:
        ns, uid = key
        for resource, dep_ns, name in sorted(self._dependents.get(uid, ()), key=lambda d: (d[0].plural, d[2])):
            if resource.plural in _COLLECTED and dep_ns == ns:
                delete_quietly(self.store, resource, ns, name)

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
