"""The garbage collector (pkg/controller/garbagecollector): dependents follow their owner
as the delete's propagationPolicy asked. Background: the owner goes at once and its
dependents after it. Foreground: the owner stays, deleting, with the `foregroundDeletion`
finalizer until its dependents are gone. Orphan: the `orphan` finalizer; the dependents
lose their ownerReferences to it and stay, then the owner goes."""
from __future__ import annotations

from ..apis._resources import by_plural
from ..storage._store import Event
from ._base import Controller, delete_quietly, delete_through_api

FOREGROUND, ORPHAN = "foregroundDeletion", "orphan"
# The dependents the collector deletes with their owner.
_COLLECTED = frozenset({"replicasets", "pods", "endpointslices", "endpoints", "jobs"})


class GarbageCollector(Controller):
    """Dependents by owner uid, kept from store events, so an owner's deletion costs its
    dependents, not a scan of the namespace."""
    name = "gc"
    every_kind = True

    def __init__(self, manager) -> None:
        super().__init__(manager)
        self._dependents: dict[str, set] = {}       # owner uid -> (resource, namespace, name)
        self._finalizing: dict[str, tuple] = {}     # owner uid -> (plural, namespace, name)

    def on_event(self, event: Event) -> None:
        meta = event.object["metadata"]
        if meta.get("ownerReferences") or (event.old or {}).get("metadata", {}).get("ownerReferences"):
            self._index_owners(event)
        if event.type == "DELETED":
            self._finalizing.pop(meta["uid"], None)
            self.mark((meta.get("namespace"), meta["uid"]))
            for ref in meta.get("ownerReferences") or []:     # a foreground owner may be free now
                if ref.get("uid") in self._finalizing:
                    self.mark((meta.get("namespace"), ref["uid"]))
        elif meta.get("deletionTimestamp") and {FOREGROUND, ORPHAN} & set(meta.get("finalizers") or []):
            self._finalizing[meta["uid"]] = (event.resource.plural, meta.get("namespace"), meta["name"])
            self.mark((meta.get("namespace"), meta["uid"]))

    def reconcile(self, key) -> None:
        ns, uid = key
        owner = self._finalizing.get(uid)
        if owner is not None:
            self._finalize(uid, *owner)
            return
        for resource, dep_ns, name in sorted(self._dependents.get(uid, ()), key=lambda d: (d[0].plural, d[2])):
            if resource.plural in _COLLECTED and dep_ns == ns:
                # attemptToDeleteItem: a dependent whose owner is gone is deleted in the
                # background, through the API (its pods terminate gracefully).
                delete_through_api(self.registry, resource, ns, name, propagation="Background")

    def _finalize(self, uid: str, plural: str, ns: str | None, name: str) -> None:
        resource = by_plural(plural)
        owner = self.store.get_resource(resource, ns, name)
        if owner is None or owner["metadata"]["uid"] != uid:
            self._finalizing.pop(uid, None)
            return
        finalizers = owner["metadata"].get("finalizers") or []
        dependents = sorted(self._dependents.get(uid, ()), key=lambda d: (d[0].plural, d[2]))
        if ORPHAN in finalizers:
            # orphanDependents: each dependent drops its reference to the owner.
            for dep_resource, dep_ns, dep_name in dependents:
                def drop(obj: dict) -> None:
                    refs = [r for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
                    if refs:
                        obj["metadata"]["ownerReferences"] = refs
                    else:
                        obj["metadata"].pop("ownerReferences", None)
                if self.store.get_resource(dep_resource, dep_ns, dep_name) is not None:
                    self.store.mutate(dep_resource, dep_ns, dep_name, drop)
            self._remove_finalizer(resource, ns, name, ORPHAN)
            return
        # Foreground: the dependents are deleted (pods terminate gracefully through the
        # registry); the owner goes once none is left.
        alive = [d for d in dependents if self.store.get_resource(*d) is not None]
        if alive:
            for dep_resource, dep_ns, dep_name in alive:
                dep = self.store.get_resource(dep_resource, dep_ns, dep_name)
                if not dep["metadata"].get("deletionTimestamp"):
                    self.registry.delete(dep_resource, dep_ns, dep_name, propagation="Foreground")
            return
        self._remove_finalizer(resource, ns, name, FOREGROUND)

    def _remove_finalizer(self, resource, ns, name, finalizer: str) -> None:
        def remove(obj: dict) -> None:
            rest = [f for f in obj["metadata"].get("finalizers") or [] if f != finalizer]
            if rest:
                obj["metadata"]["finalizers"] = rest
            else:
                obj["metadata"].pop("finalizers", None)
        updated = self.store.mutate(resource, ns, name, remove)
        if not updated["metadata"].get("finalizers"):
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
