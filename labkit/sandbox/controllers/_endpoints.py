"""The Endpoints and EndpointSlice controllers: a selector Service's ready and not-ready pod
addresses, in Endpoints (terminating pods dropped) and EndpointSlices (kept, marked)."""
from __future__ import annotations

import ipaddress

from .._clock import rfc3339
from ...kube.readiness import pod_ready
from ..apis._selectors import selector_from_match
from ..storage._store import Event
from ._base import EP, PODS, SLICES, SVC, Controller, active, delete_quietly, owner_ref

SLICE_MAX = 100            # --max-endpoints-per-slice default
MANAGED_BY = "endpointslice-controller.k8s.io"


class EndpointsController(Controller):
    name = "endpoints"

    def on_event(self, event: Event) -> None:
        meta, plural = event.object["metadata"], event.resource.plural
        if plural == "pods":
            self.mark((meta.get("namespace"), None))      # every Service of the namespace
        elif plural == "services":
            self.mark((meta.get("namespace"), meta["name"]))

    def reconcile(self, key) -> None:
        ns, name = key
        services = ([self.store.get_resource(SVC, ns, name)] if name else self.store.list_resource(SVC, ns))
        if name and services[0] is None:
            # syncService: the Service is gone, so are its Endpoints (which have no owner
            # reference); the garbage collector removes the EndpointSlices it owned.
            delete_quietly(self.store, EP, ns, name)
            return
        pods = [p for p in self.store.list_resource(PODS, ns) if (p.get("status") or {}).get("podIP")
                and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        for svc in services:
            if svc is None or not svc["spec"].get("selector"):
                continue          # selector-less Services keep what users create
            selector = selector_from_match({"matchLabels": svc["spec"]["selector"]})
            members = [p for p in pods if selector.matches(p["metadata"].get("labels") or {})]
            members.sort(key=lambda p: ipaddress.ip_address(p["status"]["podIP"]))
            # Endpoints drop terminating pods unless the Service publishes not-ready addresses
            # (endpoints_controller.go: ShouldPodBeInEndpoints(pod, publishNotReadyAddresses));
            # EndpointSlices keep them, marked terminating.
            publish = bool(svc["spec"].get("publishNotReadyAddresses"))
            self._write_endpoints(svc, [p for p in members if publish or active(p)])
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
        publish = bool(svc["spec"].get("publishNotReadyAddresses"))
        ready, not_ready = [], []
        for p in members:
            addr = {"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"],
                    "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"],
                                  "uid": p["metadata"]["uid"]}}
            if p["spec"].get("hostname") and p["spec"].get("subdomain") == name:
                addr["hostname"] = p["spec"]["hostname"]
            (ready if publish or pod_ready(p) else not_ready).append(addr)
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
        publish = bool(svc["spec"].get("publishNotReadyAddresses"))
        endpoints = []
        for p in members:
            serving = pod_ready(p)
            terminating = bool(p["metadata"].get("deletionTimestamp"))
            # k8s.io/endpointslice utils.go podToEndpoint: "ready" is forced true by
            # publishNotReadyAddresses, even for a terminating pod; "serving" stays the truth.
            ep = {"addresses": [p["status"]["podIP"]],
                  "conditions": {"ready": publish or (serving and not terminating), "serving": serving,
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
                                 "ownerReferences": [owner_ref(svc, "Service", "v1")]},
                    **body})
        for s in existing[len(chunks):]:
            delete_quietly(self.store, SLICES, ns, s["metadata"]["name"])
