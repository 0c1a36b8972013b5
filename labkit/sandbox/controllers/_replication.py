"""The replication manager: ReplicationControllers kept at their replicas by the ReplicaSet
controller's own logic, as pkg/controller/replication does (it wraps the ReplicaSet
controller, converting each ReplicationController to a ReplicaSet and back). Its pods carry
a controller reference of kind ReplicationController; its events come from
`replication-controller`."""
from __future__ import annotations

from ..apis._resources import by_plural
from ..apis._selectors import selector_from_match
from ._replicaset import ReplicaSetController


class ReplicationManager(ReplicaSetController):
    name = "replication"
    resource, kind, api_version, component = (by_plural("replicationcontrollers"), "ReplicationController", "v1",
                                              "replication-controller")

    def selector(self, rc: dict):
        # A map selector is a LabelSelector of matchLabels (the conversion's Convert_v1_
        # ReplicationControllerSpec_To_apps_ReplicaSetSpec).
        return selector_from_match({"matchLabels": dict(rc["spec"].get("selector") or {})})
