"""What every namespace holds from its first moment: the `default` ServiceAccount
(pkg/controller/serviceaccount/serviceaccounts_controller.go) and the `kube-root-ca.crt`
ConfigMap with the cluster's CA (pkg/controller/certificates/rootcacertpublisher). Both are
put back when deleted, and the ConfigMap's data when edited, as those controllers do."""
from __future__ import annotations

from ..apis._resources import by_plural
from ..storage._store import Event
from ._base import NS, Controller

SA, CM = by_plural("serviceaccounts"), by_plural("configmaps")
ROOT_CA = "kube-root-ca.crt"
_DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
                "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
                "guaranteed across distributions of Kubernetes clusters.")


def _active(store, namespace: str) -> bool:
    ns = store.get_resource(NS, None, namespace)
    return ns is not None and not ns["metadata"].get("deletionTimestamp")


class ServiceAccountController(Controller):
    name = "serviceaccount"

    def on_event(self, event: Event) -> None:
        meta = event.object["metadata"]
        if event.resource.plural == "namespaces" and event.type != "DELETED":
            self.mark(meta["name"])
        elif event.resource.plural == "serviceaccounts" and event.type == "DELETED" and meta["name"] == "default":
            self.mark(meta["namespace"])

    def reconcile(self, namespace: str) -> None:
        if _active(self.store, namespace) and self.store.get_resource(SA, namespace, "default") is None:
            self.registry.create(SA, namespace, {"metadata": {"name": "default", "namespace": namespace}})


class RootCAPublisher(Controller):
    name = "root-ca-cert-publisher"

    def __init__(self, manager, ca_pem: str) -> None:
        super().__init__(manager)
        self.ca_pem = ca_pem

    def on_event(self, event: Event) -> None:
        meta = event.object["metadata"]
        if event.resource.plural == "namespaces" and event.type != "DELETED":
            self.mark(meta["name"])
        elif event.resource.plural == "configmaps" and meta["name"] == ROOT_CA:
            self.mark(meta["namespace"])

    def reconcile(self, namespace: str) -> None:
        if not self.ca_pem or not _active(self.store, namespace):
            return
        data = {"ca.crt": self.ca_pem}
        current = self.store.get_resource(CM, namespace, ROOT_CA)
        if current is None:
            self.registry.create(CM, namespace, {"metadata": {
                "name": ROOT_CA, "namespace": namespace, "annotations": {"kubernetes.io/description": _DESCRIPTION}},
                "data": data})
        elif current.get("data") != data or \
                (current["metadata"].get("annotations") or {}).get("kubernetes.io/description") != _DESCRIPTION:
            def restore(cm: dict) -> None:
                cm["data"] = dict(data)
                cm.pop("binaryData", None)
                cm["metadata"].setdefault("annotations", {})["kubernetes.io/description"] = _DESCRIPTION
            self.store.mutate(CM, namespace, ROOT_CA, restore)
