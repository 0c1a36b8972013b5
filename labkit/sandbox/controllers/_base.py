"""What every controller shares: its handle on the manager, the resources it works on, and
small facts about objects (ownership, whether a pod is active or ready)."""
from __future__ import annotations

import abc
import datetime as dt
import functools
from typing import Iterator

from ...kube.objects import clone
from ..apis import _errors
from ..apis._resources import by_plural
from ..registry import _admission
from ..storage._store import Event

PODS, RS, DEPLOY = by_plural("pods"), by_plural("replicasets"), by_plural("deployments")
SVC, EP, SLICES = by_plural("services"), by_plural("endpoints"), by_plural("endpointslices")
NS, NODES, EVENTS = by_plural("namespaces"), by_plural("nodes"), by_plural("events")
# The field manager of the controllers' API calls: kube-controller-manager's client sends its
# binary name as the User-Agent's first segment.
MANAGER = "kube-controller-manager"


class Controller(abc.ABC):
    """One controller: it turns store events into dirty keys (`on_event`) and reconciles one
    key at a time (`reconcile`, a generator when it yields to the API server between steps).
    `begin` prepares state shared by one batch of keys."""
    name = ""
    # Whether on_event may react to objects of any kind, core/v1 Events included (the
    # garbage collector, the namespace controller). The others never look at an Event, so
    # the recorder's thousands of writes are not offered to them.
    every_kind = False

    def __init__(self, manager) -> None:          # a _manager.Controllers
        self.manager = manager
        self.store, self.registry, self.config = manager.store, manager.registry, manager.config
        self.record = manager.events.record

    def mark(self, key) -> None:
        self.manager.mark(self.name, key)

    def on_event(self, event: Event) -> None:
        pass

    def mark_self_or_owner(self, event: Event, own: str, children: str, owner_kind: str) -> None:
        """Mark an object of the kind this controller reconciles (plural `own`), or, for one
        of the `children` it makes, the owner its controller reference names
        (metav1.GetControllerOf)."""
        meta, plural = event.object["metadata"], event.resource.plural
        if plural == own:
            self.mark((meta.get("namespace"), meta["name"]))
        elif plural == children:
            for ref in meta.get("ownerReferences") or []:
                if ref.get("kind") == owner_kind and ref.get("controller"):
                    self.mark((meta.get("namespace"), ref["name"]))

    def begin(self) -> None:
        pass

    def create_pod(self, owner: dict, pod: dict, component: str) -> dict | None:
        """PodControl.CreatePods (pkg/controller/controller_utils.go): through the registry, so
        admission applies as it does to the real controllers' API calls, and recorded on the
        owner as SuccessfulCreate or FailedCreate. None when the API refused the pod."""
        try:
            created = self.registry.create(PODS, owner["metadata"]["namespace"], pod, manager=MANAGER)
        except (_errors.ApiError, _admission.Invalid) as e:
            self.record(owner, "FailedCreate", f"Error creating: {e}", component, "Warning")
            return None
        self.record(owner, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}", component)
        return created

    @abc.abstractmethod
    def reconcile(self, key) -> Iterator[None] | None:
        """Bring the object of `key` to what its spec asks (a generator may yield between steps)."""


def owned_by(obj: dict, owner: dict) -> bool:
    return any(ref.get("uid") == owner["metadata"]["uid"] and ref.get("controller")
               for ref in obj["metadata"].get("ownerReferences") or [])


def owner_ref(owner: dict, kind: str, api_version: str) -> dict:
    return {"apiVersion": api_version, "kind": kind, "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def pod_from_template(template: dict, owner: dict, kind: str, api_version: str) -> dict:
    """GetPodFromTemplate (pkg/controller/controller_utils.go): the template's labels,
    annotations and spec, named after the owner, with a controller reference to it."""
    meta = template.get("metadata") or {}
    pod = {"metadata": {"generateName": f"{owner['metadata']['name']}-", "namespace": owner["metadata"]["namespace"],
                        "labels": dict(meta.get("labels") or {})},
           "spec": clone(template["spec"])}
    if meta.get("annotations"):
        pod["metadata"]["annotations"] = dict(meta["annotations"])
    pod["metadata"]["ownerReferences"] = [owner_ref(owner, kind, api_version)]
    return pod


def active(pod: dict) -> bool:
    return (not pod["metadata"].get("deletionTimestamp")
            and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))


@functools.lru_cache(maxsize=4096)
def parse_time(stamp: str) -> float:
    # Cached: the event sweep reads thousands of Events stamped within the same few seconds.
    # RFC 3339, as metav1.Time reads it (fromisoformat takes the Z since 3.11, and spares the
    # first call strptime's import and locale set-up).
    t = dt.datetime.fromisoformat(stamp)
    return (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).timestamp()


def delete_through_api(registry, resource, ns, name, propagation: str | None = None) -> None:
    """A controller's DELETE with default options (PodControl.DeletePod, the garbage
    collector's deleteObject): a pod terminates gracefully as a user's delete would, which
    a store deletion would skip. Already gone is fine: controllers race each other."""
    try:
        registry.delete(resource, ns, name, propagation=propagation)
    except _errors.ApiError as e:
        if e.code != 404:
            raise


def delete_quietly(store, resource, ns, name) -> None:
    """Delete if still there: controllers race each other and the user, as real ones do."""
    if store.get_resource(resource, ns, name) is not None:
        store.delete(resource, ns, name)
