"""`kubectl get` tables: the `meta.k8s.io/v1` Table kube-apiserver returns.

A port of kube-apiserver's printers (kubernetes/kubernetes
pkg/printers/internalversion/printers.go) over served API objects as dicts.
Like the real server, rows carry every column, wide ones included
(pkg/printers/storage: `GenerateOptions{Wide: true}`); kubectl hides the
priority-1 columns unless `-o wide`, and adds NAMESPACE and LABELS itself.

Column names are the printer's ("Name", "Cluster-IP"): kubectl upper-cases them.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from .objects import clone

__all__ = [
    "table",
    "column_definitions",
    "row_cells",
    "human_duration",
    "translate_timestamp_since",
    "format_labels",
    "format_label_selector",
    "format_endpoints",
]

# --- durations (k8s.io/apimachinery/pkg/util/duration) ----------------------

_NS = 1_000_000_000
_MINUTE = 60 * _NS
_HOUR = 60 * _MINUTE


def human_duration(seconds: float) -> str:
    """duration.HumanDuration: ~2-3 significant figures ("45s", "3m20s", "2d3h")."""
    d = round(seconds * _NS)  # a Go time.Duration: whole nanoseconds
    secs = int(d / _NS)  # Go: int(d.Seconds()), truncated toward zero
    # Up to 2 s in the future still counts as "now" (clock skew).
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 60 * 2:
        return f"{secs}s"
    minutes = d // _MINUTE
    if minutes < 10:
        s = (d // _NS) % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = d // _HOUR
    if hours < 8:
        m = (d // _MINUTE) % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if dy == 0 else f"{years}y{dy}d"
    return f"{hours // 24 // 365}y"


def _parse_time(ts: str | None) -> dt.datetime | None:
    if not ts:
        return None
    moment = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment


def translate_timestamp_since(ts: str | None, now: dt.datetime) -> str:
    """The printer's AGE: HumanDuration(now - ts), "<unknown>" for a zero time."""
    moment = _parse_time(ts)
    if moment is None:
        return "<unknown>"
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    return human_duration((now - moment) / dt.timedelta(seconds=1))


# --- labels and selectors (k8s.io/apimachinery/pkg/labels) ------------------


def _label_set_string(labels: dict | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))


def format_labels(labels: dict | None) -> str:
    """labels.FormatLabels: "a=b,c=d" sorted by key, "<none>" when empty."""
    return _label_set_string(labels) or "<none>"


def selector_string(selector: dict | None) -> str:
    """metav1.LabelSelectorAsSelector(s).String(); "" for nil or empty.

    Raises ValueError where the conversion fails (an unknown operator, an
    empty value list for In/NotIn, values given for Exists/DoesNotExist).
    """
    if not selector:
        return ""
    reqs: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        reqs.append((key, f"{key}={value}"))
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key", ""), expr.get("operator", "")
        raw_values = expr.get("values") or []
        values = ",".join(sorted(set(raw_values)))
        if op in ("In", "NotIn"):
            if not raw_values:
                raise ValueError("for 'in', 'notin' operators, values set can't be empty")
            reqs.append((key, f"{key} {op.lower()} ({values})"))
        elif op in ("Exists", "DoesNotExist"):
            if raw_values:
                raise ValueError("values set must be empty for exists and does not exist")
            reqs.append((key, key if op == "Exists" else f"!{key}"))
        else:
            raise ValueError(f"{op!r} is not a valid label selector operator")
    # The selector keeps its requirements sorted by key.
    return ",".join(text for _, text in sorted(reqs, key=lambda r: r[0]))


def format_label_selector(selector: dict | None) -> str:
    """metav1.FormatLabelSelector: like the selector string, "<none>" when empty."""
    try:
        return selector_string(selector) or "<none>"
    except ValueError:
        return "<error>"


# --- helpers shared by the printers -----------------------------------------


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _age(obj: dict, now: dt.datetime) -> str:
    return translate_timestamp_since(_meta(obj).get("creationTimestamp"), now)


def _join_host_port(host: str, port: Any) -> str:
    # net.JoinHostPort brackets IPv6 literals.
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _list_with_more(items: list[str], count: int, limit: int = 3) -> str:
    """listWithMoreString: the first three, then " + N more...", "<unset>" if none."""
    text = ",".join(items[:limit])
    if count > limit:
        return f"{text} + {count - limit} more..."
    return text or "<unset>"


def _layout_containers(containers: list[dict] | None) -> tuple[str, str]:
    containers = containers or []
    return (",".join(c.get("name", "") for c in containers),
            ",".join(c.get("image", "") for c in containers))


def format_endpoints(endpoints: dict) -> str:
    """formatEndpoints: "ip:port" for up to three, then " + N more...", "<none>" if no subsets."""
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return "<none>"
    shown: list[str] = []
    limit, more, count = 3, False, 0
    for subset in subsets:
        addresses = subset.get("addresses") or []
        ports = subset.get("ports") or []
        if not ports:
            # A headless service may publish addresses without ports.
            count += len(addresses)
            for addr in addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(addr.get("ip", ""))
            continue
        for port in ports:
            count += len(addresses)
            for addr in addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(_join_host_port(addr.get("ip", ""), port.get("port", 0)))
    text = ",".join(shown)
    return f"{text} + {count - limit} more..." if more else text


# --- column definitions -----------------------------------------------------
# Descriptions are the SwaggerDoc strings the printer cites.

_D_NAME = (
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name automatically. "
    "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
    "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_D_CREATED = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. "
    "It is not guaranteed to be set in happens-before order across separate operations. Clients "
    "may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the "
    "system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_D_NODE_ADDRESSES = (
    "List of addresses reachable to the node. Queried from cloud "
    "provider, if available. More info: "
    "https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field "
    "is declared as mergeable, but the merge key is not sufficiently unique, which can "
    "cause data corruption when it is merged. Callers should instead use a "
    "full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers "
    "should assume that addresses can change during the lifetime of a Node. However, "
    "there are some exceptions where this may not be possible, such as Pods that "
    "inherit a Node's address in its own status or consumers of the downward API "
    "(status.hostIP)."
)
_D_CONTAINERS = "Names of each container in the template."
_D_IMAGES = "Images referenced by each container in the template."


def _col(name: str, description: str, *, type: str = "string", priority: int = 0,
         format: str = "") -> dict:
    return {"name": name, "type": type, "format": format,
            "description": description, "priority": priority}


def _name_col(priority: int = 0) -> dict:
    return _col("Name", _D_NAME, format="name", priority=priority)


def _age_col() -> dict:
    return _col("Age", _D_CREATED)


_COLUMNS: dict[str, list[dict]] = {
    "pods": [
        _name_col(),
        _col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
        _col("Status", "The aggregate status of the containers in this pod."),
        _col("Restarts", "The number of times the containers in this pod have been restarted "
             "and when the last container in this pod has restarted."),
        _age_col(),
        _col("IP", "podIP address allocated to the pod. Routable at least within the cluster. "
             "Empty if not yet allocated.", priority=1),
        _col("Node", "NodeName indicates in which node this pod is scheduled. If empty, this pod "
             "is a candidate for scheduling by the scheduler defined in schedulerName. Once this "
             "field is set, the kubelet for this node becomes responsible for the lifecycle of "
             "this pod. This field should not be used to express a desire for the pod to be "
             "scheduled on a specific node. "
             "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
             priority=1),
        _col("Nominated Node", "nominatedNodeName is set only when this pod preempts other pods "
             "on the node, but it cannot be scheduled right away as preemption victims receive "
             "their graceful termination periods. This field does not guarantee that the pod "
             "will be scheduled on this node. Scheduler may decide to place the pod elsewhere if "
             "other nodes become available sooner. Scheduler may also decide to give the "
             "resources on this node to a higher priority pod that is created after preemption. "
             "As a result, this field may be different than PodSpec.nodeName when the pod is "
             "scheduled.", priority=1),
        _col("Readiness Gates", "If specified, all readiness gates will be evaluated for pod "
             "readiness. A pod is ready when all its containers are ready AND all conditions "
             "specified in the readiness gates have status equal to \"True\" More info: "
             "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
             priority=1),
    ],
    "services": [
        _name_col(),
        _col("Type", "type determines how the Service is exposed. Defaults to ClusterIP. Valid "
             "options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" "
             "allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints "
             "are determined by the selector or if that is not specified, by manual construction "
             "of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no "
             "virtual IP is allocated and the endpoints are published as a set of endpoints "
             "rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on "
             "every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" "
             "builds on NodePort and creates an external load-balancer (if supported in the "
             "current cloud) which routes to the same endpoints as the clusterIP. "
             "\"ExternalName\" aliases this service to the specified externalName. Several "
             "other fields do not apply to ExternalName services. More info: "
             "https://kubernetes.io/docs/concepts/services-networking/service/"
             "#publishing-services-service-types"),
        _col("Cluster-IP", "clusterIP is the IP address of the service and is usually assigned "
             "randomly. If an address is specified manually, is in-range (as per system "
             "configuration), and is not in use, it will be allocated to the service; otherwise "
             "creation of the service will fail. This field may not be changed through updates "
             "unless the type field is also being changed to ExternalName (which requires this "
             "field to be blank) or the type field is being changed from ExternalName (in which "
             "case this field may optionally be specified, as describe above).  Valid values are "
             "\"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes "
             "a \"headless service\" (no virtual IP), which is useful when direct endpoint "
             "connections are preferred and proxying is not required.  Only applies to types "
             "ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a "
             "Service of type ExternalName, creation will fail. This field will be wiped when "
             "updating a Service to type ExternalName. More info: "
             "https://kubernetes.io/docs/concepts/services-networking/service/"
             "#virtual-ips-and-service-proxies"),
        _col("External-IP", "externalIPs is a list of IP addresses for which nodes in the "
             "cluster will also accept traffic for this service.  These IPs are not managed by "
             "Kubernetes.  The user is responsible for ensuring that traffic arrives at a node "
             "with this IP.  A common example is external load-balancers that are not part of "
             "the Kubernetes system."),
        _col("Port(s)", "The list of ports that are exposed by this service. More info: "
             "https://kubernetes.io/docs/concepts/services-networking/service/"
             "#virtual-ips-and-service-proxies"),
        _age_col(),
        _col("Selector", "Route service traffic to pods with label keys and values matching this "
             "selector. If empty or not present, the service is assumed to have an external "
             "process managing its endpoints, which Kubernetes will not modify. Only applies to "
             "types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More "
             "info: https://kubernetes.io/docs/concepts/services-networking/service/",
             priority=1),
    ],
    "endpoints": [
        _name_col(),
        _col("Endpoints", "The set of all endpoints is the union of all subsets. Addresses are "
             "placed into subsets according to the IPs they share. A single address with "
             "multiple ports, some of which are ready and some of which are not (because they "
             "come from different containers) will result in the address being displayed in "
             "different subsets for the different ports. No address will appear in both "
             "Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports "
             "that comprise a service."),
        _age_col(),
    ],
    # The printer cites discovery/v1beta1's docs for these.
    "endpointslices": [
        _name_col(),
        _col("AddressType", "addressType specifies the type of address carried by this "
             "EndpointSlice. All addresses in this slice must be the same type. This field is "
             "immutable after creation. The following address types are currently supported: "
             "* IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: "
             "Represents a Fully Qualified Domain Name."),
        _col("Ports", "ports specifies the list of network ports exposed by each endpoint in "
             "this slice. Each port must have a unique name. When ports is empty, it indicates "
             "that there are no defined ports. When a port is defined with a nil port value, it "
             "indicates \"all ports\". Each slice may include a maximum of 100 ports."),
        _col("Endpoints", "endpoints is a list of unique endpoints in this slice. Each slice may "
             "include a maximum of 1000 endpoints."),
        _age_col(),
    ],
    "networkpolicies": [
        _name_col(),
        _col("Pod-Selector", "Selects the pods to which this NetworkPolicy object applies. The "
             "array of ingress rules is applied to any pods selected by this field. Multiple "
             "network policies can select the same set of pods. In this case, the ingress rules "
             "for each are combined additively. This field is NOT optional and follows standard "
             "label selector semantics. An empty podSelector matches all pods in this "
             "namespace."),
        _age_col(),
    ],
    # The printer cites extensions/v1beta1's docs for deployments and replicasets.
    "deployments": [
        _name_col(),
        _col("Ready", "Number of the pod with ready state"),
        _col("Up-to-date", "Total number of non-terminated pods targeted by this deployment that "
             "have the desired template spec."),
        _col("Available", "Total number of available pods (ready for at least minReadySeconds) "
             "targeted by this deployment."),
        _age_col(),
        _col("Containers", _D_CONTAINERS, priority=1),
        _col("Images", _D_IMAGES, priority=1),
        _col("Selector", "Label selector for pods. Existing ReplicaSets whose pods are selected "
             "by this will be the ones affected by this deployment.", priority=1),
    ],
    "replicasets": [
        _name_col(),
        _col("Desired", "Replicas is the number of desired replicas. This is a pointer to "
             "distinguish between explicit zero and unspecified. Defaults to 1. More info: "
             "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/"
             "#what-is-a-replicationcontroller", type="integer"),
        _col("Current", "Replicas is the most recently observed number of replicas. More info: "
             "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/"
             "#what-is-a-replicationcontroller", type="integer"),
        _col("Ready", "readyReplicas is the number of pods targeted by this ReplicaSet with a "
             "Ready Condition.", type="integer"),
        _age_col(),
        _col("Containers", _D_CONTAINERS, priority=1),
        _col("Images", _D_IMAGES, priority=1),
        _col("Selector", "Selector is a label query over pods that should match the replica "
             "count. If the selector is empty, it is defaulted to the labels present on the pod "
             "template. Label keys and values that must match in order to be controlled by this "
             "replica set. More info: "
             "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/"
             "#label-selectors", priority=1),
    ],
    "namespaces": [
        _name_col(),
        _col("Status", "The status of the namespace"),
        _age_col(),
    ],
    "nodes": [
        _name_col(),
        _col("Status", "The status of the node"),
        _col("Roles", "The roles of the node"),
        _age_col(),
        _col("Version", "Kubelet Version reported by the node."),
        _col("Internal-IP", _D_NODE_ADDRESSES, priority=1),
        _col("External-IP", _D_NODE_ADDRESSES, priority=1),
        _col("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian "
             "GNU/Linux 7 (wheezy)).", priority=1),
        _col("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. "
             "3.16.0-0.bpo.4-amd64).", priority=1),
        _col("Container-Runtime", "ContainerRuntime Version reported by the node through "
             "runtime remote API (e.g. containerd://1.4.2).", priority=1),
    ],
    "events": [
        _col("Last Seen", "The time at which the most recent occurrence of this event was "
             "recorded."),
        _col("Type", "Type of this event (Normal, Warning), new types could be added in the "
             "future"),
        _col("Reason", "This should be a short, machine understandable string that gives the "
             "reason for the transition into the object's current status."),
        _col("Object", "The object that this event is about."),
        _col("Subobject", "If referring to a piece of an object instead of an entire object, "
             "this string should contain a valid JSON/Go field access statement, such as "
             "desiredState.manifest.containers[2]. For example, if the object reference is to a "
             "container within a pod, this would take on a value like: \"spec.containers{name}\" "
             "(where \"name\" refers to the name of the container that triggered the event) or "
             "if no container name is specified \"spec.containers[2]\" (container with index 2 "
             "in this pod). This syntax is chosen only to have some well-defined way of "
             "referencing a part of an object.", priority=1),
        _col("Source", "The component reporting this event. Should be a short machine "
             "understandable string.", priority=1),
        _col("Message", "A human-readable description of the status of this operation."),
        _col("First Seen", "The time at which the event was first recorded. (Time of server "
             "receipt is in TypeMeta.)", priority=1),
        _col("Count", "The number of times this event has occurred.", priority=1),
        _name_col(priority=1),
    ],
    "configmaps": [
        _name_col(),
        _col("Data", "Data contains the configuration data. Each key must consist of "
             "alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences "
             "must use the BinaryData field. The keys stored in Data must not overlap with the "
             "keys in the BinaryData field, this is enforced during validation process."),
        _age_col(),
    ],
    "secrets": [
        _name_col(),
        _col("Type", "Used to facilitate programmatic handling of secret data. More info: "
             "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types"),
        _col("Data", "Data contains the secret data. Each key must consist of alphanumeric "
             "characters, '-', '_' or '.'. The serialized form of the secret data is a base64 "
             "encoded string, representing the arbitrary (possibly non-string) data value here. "
             "Described in https://tools.ietf.org/html/rfc4648#section-4"),
        _age_col(),
    ],
    "serviceaccounts": [
        _name_col(),
        _col("Secrets", "Secrets is a list of the secrets in the same namespace that pods "
             "running using this ServiceAccount are allowed to use. Pods are only limited to "
             "this list if this service account has a "
             "\"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The "
             "\"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. "
             "Prefer separate namespaces to isolate access to mounted secrets. This field should "
             "not be used to find auto-generated service account token secrets for use outside "
             "of pods. Instead, tokens can be requested directly using the TokenRequest API, or "
             "service account token secrets can be manually created. More info: "
             "https://kubernetes.io/docs/concepts/configuration/secret"),
        _age_col(),
    ],
}
_DEFAULT_COLUMNS = [_name_col(), _age_col()]


def column_definitions(plural: str) -> list[dict]:
    """The printer's columns for a resource, wide ones (priority 1) included."""
    return clone(_COLUMNS.get(plural, _DEFAULT_COLUMNS))


# --- row printers -----------------------------------------------------------

_POD_SUCCEEDED = [{"type": "Completed", "status": "True", "reason": "Succeeded",
                   "message": "The pod has completed successfully."}]
_POD_FAILED = [{"type": "Completed", "status": "True", "reason": "Failed",
                "message": "The pod failed."}]


def _later(a: dt.datetime | None, ts: str | None) -> dt.datetime | None:
    moment = _parse_time(ts)
    if moment is None:
        return a
    return moment if a is None or a < moment else a


def _is_restartable_init(container: dict | None) -> bool:
    # Sidecars: init containers with restartPolicy Always (podutil.IsRestartableInitContainer).
    return bool(container) and container.get("restartPolicy") == "Always"


def _condition_true(conditions: list[dict], ctype: str) -> bool:
    for cond in conditions:
        if cond.get("type") == ctype:
            return cond.get("status") == "True"
    return False


def _pod_status_reason(pod: dict) -> tuple[str, int, int, int, dt.datetime | None]:
    """printPod's STATUS logic: (reason, ready, total, restarts, last restart time)."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    conditions = status.get("conditions") or []
    restarts = 0
    sidecar_restarts = 0
    total = len(spec.get("containers") or [])
    ready = 0
    last_restart: dt.datetime | None = None
    last_sidecar_restart: dt.datetime | None = None

    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for cond in conditions:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total += sum(1 for c in init_specs.values() if _is_restartable_init(c))

    initializing = False
    n_init = len(spec.get("initContainers") or [])
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        last_term = (cs.get("lastState") or {}).get("terminated")
        if last_term:
            last_restart = _later(last_restart, last_term.get("finishedAt"))
        sidecar = _is_restartable_init(init_specs.get(cs.get("name")))
        if sidecar:
            sidecar_restarts += int(cs.get("restartCount") or 0)
            if last_term:
                last_sidecar_restart = _later(last_sidecar_restart, last_term.get("finishedAt"))
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and int(terminated.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if terminated:
            if not terminated.get("reason"):
                if terminated.get("signal"):
                    reason = f"Init:Signal:{terminated['signal']}"
                else:
                    reason = f"Init:ExitCode:{int(terminated.get('exitCode') or 0)}"
            else:
                reason = "Init:" + terminated["reason"]
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{n_init}"
        initializing = True
        break

    if not initializing or _condition_true(conditions, "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_term = (cs.get("lastState") or {}).get("terminated")
            if last_term:
                last_restart = _later(last_restart, last_term.get("finishedAt"))
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated:
                if terminated.get("signal"):
                    reason = f"Signal:{terminated['signal']}"
                else:
                    reason = f"ExitCode:{int(terminated.get('exitCode') or 0)}"
            elif cs.get("ready") and "running" in state:
                has_running = True
                ready += 1
        # A finished container next to a running one does not make the pod "Completed".
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(conditions, "Ready") else "NotReady"

    deleting = bool(_meta(pod).get("deletionTimestamp"))
    if deleting and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    return reason, ready, total, restarts, last_restart


def _print_pod(pod: dict, now: dt.datetime) -> tuple[list, list | None]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    reason, ready, total, restarts, last_restart = _pod_status_reason(pod)
    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        since = human_duration((now - last_restart) / dt.timedelta(seconds=1))
        restarts_text = f"{restarts} ({since} ago)"

    pod_ips = status.get("podIPs") or []
    # Served objects may carry only podIP; the internal conversion fills podIPs from it.
    pod_ip = (pod_ips[0].get("ip") if pod_ips else status.get("podIP")) or "<none>"
    gates = spec.get("readinessGates") or []
    readiness = "<none>"
    if gates:
        conds = status.get("conditions") or []
        true_count = 0
        for gate in gates:
            for cond in conds:
                if cond.get("type") == gate.get("conditionType"):
                    true_count += cond.get("status") == "True"
                    break
        readiness = f"{true_count}/{len(gates)}"
    cells = [_meta(pod).get("name", ""), f"{ready}/{total}", reason, restarts_text,
             _age(pod, now), pod_ip, spec.get("nodeName") or "<none>",
             status.get("nominatedNodeName") or "<none>", readiness]
    phase = status.get("phase")
    conditions = {"Succeeded": _POD_SUCCEEDED, "Failed": _POD_FAILED}.get(phase)
    return cells, clone(conditions)


def _service_external_ip(spec: dict, status: dict) -> str:
    svc_type = spec.get("type") or "ClusterIP"
    external = spec.get("externalIPs") or []
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if svc_type == "LoadBalancer":
        ingress = (status.get("loadBalancer") or {}).get("ingress") or []
        lb = sorted({i.get("ip") or i.get("hostname") for i in ingress
                     if i.get("ip") or i.get("hostname")})
        if external:
            return ",".join(lb + external)
        # The server prints wide, so the list is never clipped to 16 characters.
        return ",".join(lb) if lb else "<pending>"
    if svc_type == "ExternalName":
        return spec.get("externalName", "")
    return "<unknown>"


def _print_service(svc: dict, now: dt.datetime) -> list:
    spec = svc.get("spec") or {}
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    ports = []
    for p in spec.get("ports") or []:
        proto = p.get("protocol") or "TCP"
        if p.get("nodePort"):
            ports.append(f"{p.get('port')}:{p['nodePort']}/{proto}")
        else:
            ports.append(f"{p.get('port')}/{proto}")
    return [_meta(svc).get("name", ""), spec.get("type") or "ClusterIP",
            cluster_ips[0] if cluster_ips else "<none>",
            _service_external_ip(spec, svc.get("status") or {}),
            ",".join(ports) or "<none>", _age(svc, now), format_labels(spec.get("selector"))]


def _print_endpoints(ep: dict, now: dt.datetime) -> list:
    return [_meta(ep).get("name", ""), format_endpoints(ep), _age(ep, now)]


def _print_endpointslice(eps: dict, now: dt.datetime) -> list:
    ports = eps.get("ports") or []
    port_texts = []
    for port in ports[:3]:
        if port.get("port") is not None:
            port_texts.append(str(port["port"]))
        elif port.get("name") is not None:
            port_texts.append(port["name"])
        else:
            port_texts.append("*")
    addresses = [a for e in eps.get("endpoints") or [] for a in e.get("addresses") or []]
    return [_meta(eps).get("name", ""), eps.get("addressType", ""),
            _list_with_more(port_texts, len(ports)), _list_with_more(addresses, len(addresses)),
            _age(eps, now)]


def _template_containers(obj: dict) -> list[dict]:
    return (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []


def _replicas(spec: dict) -> int:
    replicas = spec.get("replicas")
    return 1 if replicas is None else int(replicas)  # API default


def _deployment_selector(selector: dict | None) -> str:
    try:
        return selector_string(selector)
    except ValueError:
        return "<invalid>"


def _print_deployment(dep: dict, now: dt.datetime) -> list:
    spec, status = dep.get("spec") or {}, dep.get("status") or {}
    names, images = _layout_containers(_template_containers(dep))
    return [_meta(dep).get("name", ""),
            f"{int(status.get('readyReplicas') or 0)}/{_replicas(spec)}",
            int(status.get("updatedReplicas") or 0), int(status.get("availableReplicas") or 0),
            _age(dep, now), names, images, _deployment_selector(spec.get("selector"))]


def _print_replicaset(rs: dict, now: dt.datetime) -> list:
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    names, images = _layout_containers(_template_containers(rs))
    return [_meta(rs).get("name", ""), _replicas(spec), int(status.get("replicas") or 0),
            int(status.get("readyReplicas") or 0), _age(rs, now), names, images,
            format_label_selector(spec.get("selector"))]


def _print_namespace(ns: dict, now: dt.datetime) -> list:
    return [_meta(ns).get("name", ""), (ns.get("status") or {}).get("phase", ""), _age(ns, now)]


def _node_roles(labels: dict) -> str:
    roles = set()
    for key, value in labels.items():
        if key.startswith("node-role.kubernetes.io/"):
            role = key[len("node-role.kubernetes.io/"):]
            if role:
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _print_node(node: dict, now: dt.datetime) -> list:
    spec, status = node.get("spec") or {}, node.get("status") or {}
    conds = {c.get("type"): c for c in status.get("conditions") or []}
    states = []
    if "Ready" in conds:
        states.append("Ready" if conds["Ready"].get("status") == "True" else "NotReady")
    if not states:
        states.append("Unknown")
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    info = status.get("nodeInfo") or {}

    def address(kind: str) -> str:
        for addr in status.get("addresses") or []:
            if addr.get("type") == kind:
                return addr.get("address", "")
        return "<none>"

    return [_meta(node).get("name", ""), ",".join(states),
            _node_roles(_meta(node).get("labels") or {}), _age(node, now),
            info.get("kubeletVersion", ""), address("InternalIP"), address("ExternalIP"),
            info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>"]


def _print_event(ev: dict, now: dt.datetime) -> list:
    first = translate_timestamp_since(ev.get("firstTimestamp"), now)
    if not ev.get("firstTimestamp"):
        first = translate_timestamp_since(ev.get("eventTime"), now)
    last = translate_timestamp_since(ev.get("lastTimestamp"), now)
    if not ev.get("lastTimestamp"):
        last = first
    count = int(ev.get("count") or 0)
    series = ev.get("series")
    if series:
        last = translate_timestamp_since(series.get("lastObservedTime"), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1  # singleton events of the new API carry no count
    involved = ev.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = ev.get("source") or {}
    component = source.get("component") or ev.get("reportingComponent") or ""
    host = source.get("host") or ev.get("reportingInstance") or ""
    source_text = f"{component}, {host}" if host else component
    return [last, ev.get("type", ""), ev.get("reason", ""), target,
            involved.get("fieldPath", ""), source_text, (ev.get("message") or "").strip(),
            first, count, _meta(ev).get("name", "")]


def _print_configmap(cm: dict, now: dt.datetime) -> list:
    return [_meta(cm).get("name", ""), len(cm.get("data") or {}) + len(cm.get("binaryData") or {}),
            _age(cm, now)]


def _print_secret(secret: dict, now: dt.datetime) -> list:
    return [_meta(secret).get("name", ""), secret.get("type", ""),
            len(secret.get("data") or {}), _age(secret, now)]


def _print_serviceaccount(sa: dict, now: dt.datetime) -> list:
    return [_meta(sa).get("name", ""), len(sa.get("secrets") or []), _age(sa, now)]


def _print_networkpolicy(np: dict, now: dt.datetime) -> list:
    return [_meta(np).get("name", ""),
            format_label_selector((np.get("spec") or {}).get("podSelector") or {}), _age(np, now)]


def _print_default(obj: dict, now: dt.datetime) -> list:
    return [_meta(obj).get("name", ""), _age(obj, now)]


_PRINTERS: dict[str, Callable[[dict, dt.datetime], list]] = {
    "services": _print_service,
    "endpoints": _print_endpoints,
    "endpointslices": _print_endpointslice,
    "networkpolicies": _print_networkpolicy,
    "deployments": _print_deployment,
    "replicasets": _print_replicaset,
    "namespaces": _print_namespace,
    "nodes": _print_node,
    "events": _print_event,
    "configmaps": _print_configmap,
    "secrets": _print_secret,
    "serviceaccounts": _print_serviceaccount,
}


def row_cells(plural: str, obj: dict, now: dt.datetime) -> list:
    """One object's cells, in column_definitions(plural) order."""
    if plural == "pods":
        return _print_pod(obj, now)[0]
    return _PRINTERS.get(plural, _print_default)(obj, now)


def _row_object(obj: dict, include_object: str, group_version: str) -> dict | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return clone(obj)
    # Metadata (the default): meta.AsPartialObjectMetadata in the Table's group version.
    return {"kind": "PartialObjectMetadata", "apiVersion": group_version,
            "metadata": clone(_meta(obj))}


def table(plural: str, objects: list[dict], *, now: dt.datetime,
          include_object: str = "Metadata", resource_version: str = "",
          continue_token: str = "", remaining_item_count: int | None = None,
          no_headers: bool = False, group_version: str = "meta.k8s.io/v1") -> dict:
    """The Table kube-apiserver returns for `plural` (a list, a single get, or a watch event).

    include_object is the `includeObject` query parameter: "Metadata" (the
    default, a PartialObjectMetadata per row), "Object" (the whole object) or
    "None" (the row's object is null, as the server sends it).
    group_version is "meta.k8s.io/v1" or "meta.k8s.io/v1beta1", whichever the
    Accept header asked for.
    """
    if include_object not in ("Metadata", "Object", "None", ""):
        raise ValueError(f"includeObject must be Metadata, Object or None, not {include_object!r}")
    rows = []
    for obj in objects:
        if plural == "pods":
            cells, conditions = _print_pod(obj, now)
        else:
            cells, conditions = row_cells(plural, obj, now), None
        row: dict[str, Any] = {"cells": cells}
        if conditions:
            row["conditions"] = conditions
        row["object"] = _row_object(obj, include_object or "Metadata", group_version)
        rows.append(row)
    metadata: dict[str, Any] = {}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    if continue_token:
        metadata["continue"] = continue_token
    if remaining_item_count is not None:
        metadata["remainingItemCount"] = remaining_item_count
    return {
        "kind": "Table",
        "apiVersion": group_version,
        "metadata": metadata,
        "columnDefinitions": None if no_headers else column_definitions(plural),
        "rows": rows,
    }
