"""The cluster-role aggregation controller (pkg/controller/clusterroleaggregation): a
ClusterRole with an aggregationRule gets, as its rules, the rules of every ClusterRole its
selectors match, in name order without repeats. That is how `admin`, `edit` and `view`
grow when someone labels a role `rbac.authorization.k8s.io/aggregate-to-view: "true"`."""
from __future__ import annotations

from ..apis import _selectors
from ..apis._resources import by_plural
from ..storage._store import Event
from ._base import Controller

CLUSTER_ROLES = by_plural("clusterroles")


class ClusterRoleAggregator(Controller):
    name = "clusterrole-aggregation"

    def on_event(self, event: Event) -> None:
        if event.resource.plural != "clusterroles":
            return
        # Any role may feed any aggregated one: look at every aggregated role again.
        for role in self.store.list_resource(CLUSTER_ROLES):
            if role.get("aggregationRule"):
                self.mark(role["metadata"]["name"])

    def reconcile(self, name: str) -> None:
        role = self.store.get_resource(CLUSTER_ROLES, None, name)
        if role is None or not role.get("aggregationRule"):
            return
        selectors = []
        for term in role["aggregationRule"].get("clusterRoleSelectors") or []:
            try:
                selectors.append(_selectors.selector_from_match(term))
            except (_selectors.SelectorError, ValueError, TypeError):
                continue
        rules: list[dict] = []
        for other in sorted(self.store.list_resource(CLUSTER_ROLES), key=lambda r: r["metadata"]["name"]):
            if other["metadata"]["name"] == name:
                continue
            labels = other["metadata"].get("labels") or {}
            if any(s.matches(labels) for s in selectors):
                for rule in other.get("rules") or []:
                    if rule not in rules:
                        rules.append(rule)
        if role.get("rules") != rules:
            self.store.mutate(CLUSTER_ROLES, None, name, lambda r: r.__setitem__("rules", rules))
