"""The RBAC objects kube-apiserver makes at start-up (plugin/pkg/auth/authorizer/rbac/
bootstrappolicy/policy.go and controller_policy.go), cut to the resources the sandbox serves.

`admin`, `edit` and `view` are aggregated, as upstream: their rules are filled in by the
cluster-role aggregation controller from the `system:aggregate-to-*` roles (and from any
ClusterRole a user labels `rbac.authorization.k8s.io/aggregate-to-view: "true"`).
"""
from __future__ import annotations

_GROUP = "rbac.authorization.k8s.io"
_BOOTSTRAP = {"kubernetes.io/bootstrapping": "rbac-defaults"}
_AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}
_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]


def _rule(verbs, groups, resources) -> dict:
    return {"verbs": list(verbs), "apiGroups": list(groups), "resources": list(resources)}


def _urls(verbs, urls) -> dict:
    return {"verbs": list(verbs), "nonResourceURLs": list(urls)}


def _role(name: str, rules: list[dict] | None = None, *, labels: dict | None = None,
          aggregate_from: str | None = None) -> dict:
    role = {"apiVersion": f"{_GROUP}/v1", "kind": "ClusterRole",
            "metadata": {"name": name, "labels": dict(_BOOTSTRAP, **(labels or {})),
                         "annotations": dict(_AUTOUPDATE)},
            "rules": rules or []}
    if aggregate_from:
        role["aggregationRule"] = {"clusterRoleSelectors": [
            {"matchLabels": {f"rbac.authorization.k8s.io/aggregate-to-{aggregate_from}": "true"}}]}
    return role


def _binding(name: str, role: str, groups: list[str]) -> dict:
    return {"apiVersion": f"{_GROUP}/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": name, "labels": dict(_BOOTSTRAP), "annotations": dict(_AUTOUPDATE)},
            "roleRef": {"apiGroup": _GROUP, "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": _GROUP, "kind": "Group", "name": g} for g in groups]}


def _aggregate_to(name: str) -> dict:
    return {f"rbac.authorization.k8s.io/aggregate-to-{name}": "true"}


def cluster_roles() -> list[dict]:
    view_core = ["configmaps", "endpoints", "pods", "pods/log", "pods/status", "serviceaccounts",
                 "services", "services/status", "events", "namespaces", "namespaces/status"]
    view_apps = ["deployments", "deployments/scale", "deployments/status",
                 "replicasets", "replicasets/scale", "replicasets/status"]
    return [
        _role("cluster-admin", [_rule(["*"], ["*"], ["*"]), _urls(["*"], ["*"])]),
        _role("admin", aggregate_from="admin"),
        _role("edit", aggregate_from="edit", labels=_aggregate_to("admin")),
        _role("view", aggregate_from="view", labels=_aggregate_to("edit")),
        _role("system:aggregate-to-admin", [
            _rule(_WRITE + _READ, [_GROUP], ["rolebindings", "roles"]),
            _rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
        ], labels=_aggregate_to("admin")),
        _role("system:aggregate-to-edit", [
            _rule(_READ, [""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets",
                                "services/proxy"]),
            _rule(["impersonate"], [""], ["serviceaccounts"]),
            _rule(_WRITE, [""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
            _rule(["create"], [""], ["pods/eviction"]),
            _rule(_WRITE, [""], ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
                                 "replicationcontrollers/scale", "secrets", "serviceaccounts", "services",
                                 "services/proxy"]),
            _rule(["create"], [""], ["serviceaccounts/token"]),
            _rule(_WRITE, ["apps"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale",
                                     "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"]),
            _rule(_WRITE, ["discovery.k8s.io"], ["endpointslices"]),
        ], labels=_aggregate_to("edit")),
        _role("system:aggregate-to-view", [
            _rule(_READ, [""], view_core),
            _rule(_READ, ["apps"], view_apps),
            _rule(_READ, ["discovery.k8s.io"], ["endpointslices"]),
        ], labels=_aggregate_to("view")),
        _role("system:discovery", [_urls(["get"], [
            "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
            "/readyz", "/version", "/version/"])]),
        _role("system:basic-user", [
            _rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            _rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"])]),
        _role("system:public-info-viewer", [_urls(["get"], [
            "/healthz", "/livez", "/readyz", "/version", "/version/"])]),
    ]


def cluster_role_bindings() -> list[dict]:
    return [
        _binding("cluster-admin", "cluster-admin", ["system:masters"]),
        _binding("system:discovery", "system:discovery", ["system:authenticated"]),
        _binding("system:basic-user", "system:basic-user", ["system:authenticated"]),
        _binding("system:public-info-viewer", "system:public-info-viewer",
                 ["system:authenticated", "system:unauthenticated"]),
    ]


def objects() -> list[tuple[str, dict]]:
    return [("clusterroles", r) for r in cluster_roles()] + \
        [("clusterrolebindings", b) for b in cluster_role_bindings()]
