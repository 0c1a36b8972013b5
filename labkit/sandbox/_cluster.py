"""What the DNS server and the pod runtime may read of the cluster.

They see the API objects as plain dicts (the JSON the API serves), never the
store's internals. The store implements `ClusterReader`; `StaticCluster` holds a
fixed set of objects for tests of the pure parts.
"""
from __future__ import annotations

from typing import Iterable, Protocol

# The plurals a reader must serve: "pods", "services", "endpoints",
# "endpointslices", "namespaces", "nodes", "configmaps", "deployments", "replicasets",
# "networkpolicies".


class ClusterReader(Protocol):
    @property
    def revision(self) -> int:
        """Changes whenever any object changes; lets readers cache derived indexes."""

    def list(self, plural: str, namespace: str | None = None) -> list[dict]:
        """Objects of one resource, in one namespace or (None) all of them."""

    def get(self, plural: str, namespace: str | None, name: str) -> dict | None:
        """One object, or None. Cluster-scoped resources take namespace None."""


class StaticCluster:
    """A ClusterReader over a fixed list of API objects (tests of pure logic)."""

    _PLURALS = {
        "Pod": "pods", "Service": "services", "Endpoints": "endpoints",
        "EndpointSlice": "endpointslices", "Namespace": "namespaces", "Node": "nodes",
        "ConfigMap": "configmaps", "Deployment": "deployments", "ReplicaSet": "replicasets",
        "NetworkPolicy": "networkpolicies",
    }

    def __init__(self, objects: Iterable[dict] = ()) -> None:
        self._objects: list[dict] = []
        self.revision = 0
        for obj in objects:
            self.add(obj)

    def add(self, obj: dict) -> None:
        self._objects.append(obj)
        self.revision += 1

    def remove(self, plural: str, namespace: str | None, name: str) -> None:
        self._objects = [o for o in self._objects if not self._is(o, plural, namespace, name)]
        self.revision += 1

    def list(self, plural: str, namespace: str | None = None) -> list[dict]:
        return [o for o in self._objects
                if self._PLURALS.get(o.get("kind")) == plural
                and (namespace is None or o["metadata"].get("namespace") == namespace)]

    def get(self, plural: str, namespace: str | None, name: str) -> dict | None:
        for o in self._objects:
            if self._is(o, plural, namespace, name):
                return o
        return None

    def _is(self, o: dict, plural: str, namespace: str | None, name: str) -> bool:
        meta = o["metadata"]
        return (self._PLURALS.get(o.get("kind")) == plural and meta["name"] == name
                and meta.get("namespace") == namespace)
