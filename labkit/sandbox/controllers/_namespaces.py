"""Namespace deletion: what goes when its namespace goes."""
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
