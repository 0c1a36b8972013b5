"""The EndpointSlice mirroring controller: hand-written Endpoints of a Service without a
selector, copied into EndpointSlices so that readers of slices (kube-proxy, CoreDNS) see them.

As pkg/controller/endpointslicemirroring: only for a Service that exists and has no
selector, and never for Endpoints labelled `endpointslice.kubernetes.io/skip-mirror: "true"`;
`addresses` become ready endpoints and `notReadyAddresses` not-ready ones, one slice per
subset, owned by the Endpoints object, labelled with the Endpoints' labels plus
`kubernetes.io/service-name` and the controller's `managed-by` value.
"""
from __future__ import annotations

import ipaddress

from ..storage._store import Event
from ._base import EP, SLICES, SVC, Controller, delete_quietly, owner_ref

MANAGED_BY = "endpointslicemirroring-controller.k8s.io"
SKIP_MIRROR = "endpointslice.kubernetes.io/skip-mirror"
MAX_ENDPOINTS = 1000       # --mirroring-max-endpoints-per-subset default
_DROPPED_ANNOTATIONS = ("endpoints.kubernetes.io/last-change-trigger-time",
                        "kubectl.kubernetes.io/last-applied-configuration")


class MirroringController(Controller):
    name = "endpointslicemirroring"

    def on_event(self, event: Event) -> None:
        if event.resource.plural in ("endpoints", "services"):
            meta = event.object["metadata"]
            self.mark((meta.get("namespace"), meta["name"]))
        elif event.resource.plural == "endpointslices":
            labels = event.object["metadata"].get("labels") or {}
            if labels.get("endpointslice.kubernetes.io/managed-by") == MANAGED_BY:
                self.mark((event.object["metadata"].get("namespace"), labels.get("kubernetes.io/service-name")))

    def reconcile(self, key) -> None:
        ns, name = key
        if name is None:
            return
        svc = self.store.get_resource(SVC, ns, name)
        ep = self.store.get_resource(EP, ns, name)
        mirrored = sorted((s for s in self.store.list_resource(SLICES, ns)
                           if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name
                           and (s["metadata"].get("labels") or {}).get("endpointslice.kubernetes.io/managed-by")
                           == MANAGED_BY), key=lambda s: s["metadata"]["name"])
        wanted = (svc is not None and ep is not None and not (svc.get("spec") or {}).get("selector")
                  and (ep["metadata"].get("labels") or {}).get(SKIP_MIRROR) != "true")
        bodies = [self._slice_body(ep, subset) for subset in (ep.get("subsets") or [])] if wanted else []
        bodies = [b for b in bodies if b["endpoints"]]
        labels, annotations = (self._meta(ep, name) if wanted else ({}, {}))
        for i, body in enumerate(bodies):
            if i < len(mirrored):
                current = mirrored[i]
                if (current.get("endpoints"), current.get("ports"), current.get("addressType"),
                        current["metadata"].get("labels")) != (body["endpoints"], body["ports"],
                                                               body["addressType"], labels):
                    def write(o: dict, body=body) -> None:
                        o["metadata"]["labels"] = dict(labels)
                        o["metadata"]["annotations"] = dict(annotations)
                        o.update(body)
                    self.store.mutate(SLICES, ns, current["metadata"]["name"], write)
            else:
                self.store.create(SLICES, {
                    "metadata": {"generateName": f"{name}-", "namespace": ns, "labels": dict(labels),
                                 "annotations": dict(annotations),
                                 "ownerReferences": [owner_ref(ep, "Endpoints", "v1")]},
                    **body})
        for stale in mirrored[len(bodies):]:
            delete_quietly(self.store, SLICES, ns, stale["metadata"]["name"])

    @staticmethod
    def _meta(ep: dict, name: str) -> tuple[dict, dict]:
        labels = {k: v for k, v in (ep["metadata"].get("labels") or {}).items()}
        labels.update({"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": MANAGED_BY})
        annotations = {k: v for k, v in (ep["metadata"].get("annotations") or {}).items()
                       if k not in _DROPPED_ANNOTATIONS}
        return labels, annotations

    @staticmethod
    def _slice_body(ep: dict, subset: dict) -> dict:
        endpoints, families = [], set()
        for ready, key in ((True, "addresses"), (False, "notReadyAddresses")):
            for addr in subset.get(key) or []:
                if len(endpoints) >= MAX_ENDPOINTS:
                    break
                try:
                    families.add(ipaddress.ip_address(addr["ip"]).version)
                except (KeyError, ValueError):
                    continue          # the mirroring controller skips an address it cannot parse
                out = {"addresses": [addr["ip"]], "conditions": {"ready": ready}}
                for field in ("hostname", "nodeName", "targetRef"):
                    if addr.get(field):
                        out[field] = addr[field]
                endpoints.append(out)
        ports = [{"name": p.get("name") or "", "port": p.get("port"), "protocol": p.get("protocol") or "TCP",
                  **({"appProtocol": p["appProtocol"]} if p.get("appProtocol") else {})}
                 for p in subset.get("ports") or []]
        return {"addressType": "IPv6" if families == {6} else "IPv4",
                "endpoints": endpoints or None, "ports": ports or None}
