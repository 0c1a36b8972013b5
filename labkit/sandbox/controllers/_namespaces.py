"""The namespace controller: a deleted namespace is emptied, then finalized, then removed,
as pkg/controller/namespace/deletion/namespaced_resources_deleter.go does it. Its content is
deleted through the API (pods terminate gracefully), the namespace's conditions say what
is left, and only once nothing is left is the `kubernetes` finalizer removed through
`namespaces/{name}/finalize` and the namespace deleted."""
from __future__ import annotations

from ..apis import _errors
from ..apis._resources import RESOURCES
from .._clock import rfc3339
from ..registry import _admission
from ..storage._store import Event
from ._base import NS, Controller

FINALIZER = "kubernetes"        # v1.FinalizerKubernetes
# The conditions in the deleter's order (namespaceConditionUpdater), with the reason and
# message each has while nothing is wrong (okReasons, okMessages).
_OK = (
    ("NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered", "All resources successfully discovered"),
    ("NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions",
     "All legacy kube types successfully parsed"),
    ("NamespaceDeletionContentFailure", "ContentDeleted",
     "All content successfully deleted, may be waiting on finalization"),
    ("NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"),
    ("NamespaceFinalizersRemaining", "ContentHasNoFinalizers", "All content-preserving finalizers finished"),
)


class NamespaceController(Controller):
    name = "namespace"
    every_kind = True

    def __init__(self, manager) -> None:
        super().__init__(manager)
        self._terminating: set[str] = set()

    def on_event(self, event: Event) -> None:
        meta = event.object["metadata"]
        if event.resource.plural == "namespaces":
            if meta.get("deletionTimestamp") and event.type != "DELETED":
                self._terminating.add(meta["name"])
                self.mark(meta["name"])
            else:
                self._terminating.discard(meta["name"])
        elif meta.get("namespace") in self._terminating and event.resource.namespaced:
            self.mark(meta["namespace"])        # its content changed: maybe it is empty now

    def reconcile(self, name: str) -> None:
        ns = self.store.get_resource(NS, None, name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        if not (ns.get("spec") or {}).get("finalizers"):
            self._delete(name)                  # finalized: deleteNamespaceWhenDone
            return
        failures, remaining, finalizers = self._delete_content(name)
        self._report(name, failures, remaining, finalizers)
        if failures or remaining:
            return      # the content's own deletions mark this namespace again
        self._finalize(ns)
        self._delete(name)

    def _delete_content(self, namespace: str) -> tuple[list[str], dict[str, int], dict[str, int]]:
        """deleteAllContent: every namespaced resource's objects deleted (a DELETE each, as the
        deleter's deletecollection does), then what is still there counted by resource and
        by finalizer."""
        failures: list[str] = []
        remaining: dict[str, int] = {}
        finalizers: dict[str, int] = {}
        for resource in RESOURCES:
            if not resource.namespaced or not resource.stored:
                continue
            objects = self.store.list_resource(resource, namespace)
            for obj in objects:
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    self.registry.delete(resource, namespace, obj["metadata"]["name"])
                except _errors.ApiError as e:
                    if e.code != 404:
                        failures.append(f"{resource.plural}.{resource.group}: {e.message}")
            left = self.store.list_resource(resource, namespace) if objects else []
            if left:
                remaining[f"{resource.plural}.{resource.group}"] = len(left)
                for obj in left:
                    for f in obj["metadata"].get("finalizers") or []:
                        finalizers[f] = finalizers.get(f, 0) + 1
        return failures, remaining, finalizers

    def _report(self, name: str, failures: list[str], remaining: dict[str, int], finalizers: dict[str, int]) -> None:
        """namespaceConditionUpdater: a condition per problem found, the ok variant otherwise;
        a condition keeps its transition time while its status holds."""
        found: dict[str, tuple[str, str]] = {}
        if failures:
            found["NamespaceDeletionContentFailure"] = (
                "ContentDeletionFailed", f"Failed to delete all resource types, {len(failures)} remaining: "
                + ", ".join(sorted(failures)))
        if remaining:
            found["NamespaceContentRemaining"] = ("SomeResourcesRemain", "Some resources are remaining: " + ", ".join(
                sorted(f"{gr} has {n} resource instances" for gr, n in remaining.items())))
        if finalizers:
            found["NamespaceFinalizersRemaining"] = (
                "SomeFinalizersRemain", "Some content in the namespace has finalizers remaining: " + ", ".join(
                    sorted(f"{f} in {n} resource instances" for f, n in finalizers.items())))
        now = rfc3339(self.store.clock.now())

        def write(ns: dict) -> None:
            status = ns.setdefault("status", {})
            old = {c.get("type"): c for c in status.get("conditions") or []}
            conditions = []
            for kind, ok_reason, ok_message in _OK:
                reason, message = found.get(kind, (ok_reason, ok_message))
                state = "True" if kind in found else "False"
                before = old.get(kind) or {}
                if before.get("status") == state and before.get("reason") == reason \
                        and before.get("message") == message:
                    conditions.append(before)
                    continue
                conditions.append({"type": kind, "status": state, "lastTransitionTime": now,
                                   "reason": reason, "message": message})
            status["conditions"] = conditions
        self.store.mutate(NS, None, name, write, exempt_quota=True)

    def _finalize(self, ns: dict) -> None:
        """finalizeNamespace: `kubernetes` taken out of spec.finalizers through the finalize
        subresource."""
        rest = [f for f in (ns.get("spec") or {}).get("finalizers") or [] if f != FINALIZER]
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns["metadata"]["name"]},
                "spec": {"finalizers": rest}}
        try:
            self.registry.update(NS, None, ns["metadata"]["name"], body, subresource="finalize")
        except (_errors.ApiError, _admission.Invalid):
            pass

    def _delete(self, name: str) -> None:
        try:
            self.registry.delete(NS, None, name)
        except _errors.ApiError:
            pass                # another finalizer remains (409), or it is gone already
