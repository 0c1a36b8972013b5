"""The API resources the sandbox serves, as discovery describes them."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

_RW = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_CREATE_ONLY = ("create",)
_READ_ONLY = ("get", "list", "watch")


@dataclass(frozen=True)
class Resource:
    group: str                 # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = _RW

    @property
    def stored(self) -> bool:
        """False for the reviews, which a create answers and nothing keeps."""
        return self.verbs != _CREATE_ONLY

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @cached_property
    def key(self) -> str:
        """Store key: "<group>/<plural>" (versions share storage); asked on every store write
        and watch offer, so formatted once."""
        return f"{self.group}/{self.plural}"

    def base_path(self, namespace: str | None = None) -> str:
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{root}/namespaces/{namespace}/{self.plural}"
        return f"{root}/{self.plural}"


RESOURCES: tuple[Resource, ...] = (
    Resource("", "v1", "namespaces", "Namespace", namespaced=False, short_names=("ns",),
             subresources=("status", "finalize")),
    Resource("", "v1", "nodes", "Node", namespaced=False, short_names=("no",),
             subresources=("status", "proxy")),
    Resource("", "v1", "pods", "Pod", short_names=("po",), categories=("all",),
             subresources=("attach", "exec", "log", "portforward", "proxy", "status")),
    Resource("", "v1", "services", "Service", short_names=("svc",), categories=("all",),
             subresources=("proxy", "status")),
    Resource("", "v1", "endpoints", "Endpoints", short_names=("ep",)),
    Resource("", "v1", "configmaps", "ConfigMap", short_names=("cm",)),
    Resource("", "v1", "secrets", "Secret"),
    Resource("", "v1", "events", "Event", short_names=("ev",)),
    Resource("", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",), subresources=("token",)),
    Resource("", "v1", "replicationcontrollers", "ReplicationController", short_names=("rc",),
             categories=("all",), subresources=("scale", "status")),
    Resource("apps", "v1", "deployments", "Deployment", short_names=("deploy",),
             categories=("all",), subresources=("scale", "status")),
    Resource("apps", "v1", "replicasets", "ReplicaSet", short_names=("rs",),
             categories=("all",), subresources=("scale", "status")),
    Resource("apps", "v1", "daemonsets", "DaemonSet", short_names=("ds",), categories=("all",),
             subresources=("status",)),
    Resource("apps", "v1", "statefulsets", "StatefulSet", short_names=("sts",),
             categories=("all",), subresources=("scale", "status")),
    Resource("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice"),
    Resource("coordination.k8s.io", "v1", "leases", "Lease"),
    Resource("batch", "v1", "jobs", "Job", categories=("all",), subresources=("status",)),
    Resource("batch", "v1", "cronjobs", "CronJob", short_names=("cj",), categories=("all",),
             subresources=("status",)),
    Resource("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", short_names=("netpol",)),
    Resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False),
    Resource("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False),
    Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    Resource("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    # Reviews: created and answered, never stored (pkg/registry/authorization, .../authentication).
    # Read only: the sandbox serves no custom resources, so it takes no definition of one; but
    # kubectl lists CRDs when a manifest names a kind the OpenAPI document lacks (its
    # QueryParamVerifier's CRD finder) and needs an empty list, not a 404, to say "no matches".
    Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
             namespaced=False, short_names=("crd", "crds"), categories=("api-extensions",), verbs=_READ_ONLY),
    Resource("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", namespaced=False,
             verbs=_CREATE_ONLY),
    Resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
             namespaced=False, verbs=_CREATE_ONLY),
    Resource("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview",
             namespaced=False, verbs=_CREATE_ONLY),
    Resource("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview",
             namespaced=False, verbs=_CREATE_ONLY),
    Resource("authorization.k8s.io", "v1", "localsubjectaccessreviews", "LocalSubjectAccessReview",
             verbs=_CREATE_ONLY),
)

# Subresource kinds as discovery lists them.
SUBRESOURCE_KINDS = {
    "attach": ("", "v1", "PodAttachOptions", ("create", "get")),
    "exec": ("", "v1", "PodExecOptions", ("create", "get")),
    "log": ("", "v1", "Pod", ("get",)),
    "status": (None, None, None, ("get", "patch", "update")),
    "scale": ("autoscaling", "v1", "Scale", ("get", "patch", "update")),
    "portforward": ("", "v1", "PodPortForwardOptions", ("create", "get")),
    "proxy": ("", "v1", "NodeProxyOptions", ("create", "delete", "get", "patch", "update")),
    "finalize": ("", "v1", "Namespace", ("update",)),
    "token": ("authentication.k8s.io", "v1", "TokenRequest", ("create",)),
}

# Where one subresource name answers with a different kind per resource.
_PROXY_KINDS = {"pods": "PodProxyOptions", "services": "ServiceProxyOptions", "nodes": "NodeProxyOptions"}


def subresource_kind(plural: str, sub: str) -> tuple:
    """(group, version, kind, verbs) of `plural/sub` as discovery lists it."""
    group, version, kind, verbs = SUBRESOURCE_KINDS[sub]
    if sub == "proxy":
        kind = _PROXY_KINDS[plural]
    return group, version, kind, verbs


GROUPS: dict[str, list[str]] = {}
for _r in RESOURCES:
    GROUPS.setdefault(_r.group, [])
    if _r.version not in GROUPS[_r.group]:
        GROUPS[_r.group].append(_r.version)

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
_BY_PLURAL = {r.plural: r for r in RESOURCES}


def by_path(group: str, version: str, plural: str) -> Resource | None:
    return _BY_PATH.get((group, version, plural))


def by_plural(plural: str) -> Resource:
    return _BY_PLURAL[plural]
