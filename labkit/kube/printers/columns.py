"""The printers' column definitions: names, types, priorities and the SwaggerDoc
descriptions the upstream printer cites (pkg/printers/internalversion/printers.go AddHandlers).
Priority 1 columns are the ones kubectl shows only with `-o wide`."""
from __future__ import annotations

from ..objects import clone

__all__ = ["column_definitions"]



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
    # pkg/printers/internalversion: replicationControllerColumnDefinitions, described by the
    # v1 types' own docs.
    "replicationcontrollers": [
        _name_col(),
        _col("Desired", "Replicas is the number of desired replicas. This is a pointer to distinguish "
             "between explicit zero and unspecified. Defaults to 1. More info: "
             "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller"
             "#what-is-a-replicationcontroller", type="integer"),
        _col("Current", "Replicas is the most recently observed number of replicas. More info: "
             "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller"
             "#what-is-a-replicationcontroller", type="integer"),
        _col("Ready", "The number of ready replicas for this replication controller.", type="integer"),
        _age_col(),
        _col("Containers", _D_CONTAINERS, priority=1),
        _col("Images", _D_IMAGES, priority=1),
        _col("Selector", "Selector is a label query over pods that should match the Replicas count. If "
             "Selector is empty, it is defaulted to the labels present on the Pod template. Label keys "
             "and values that must match in order to be controlled by this replication controller, if "
             "empty defaulted to labels on Pod template. More info: "
             "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
             priority=1),
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
_D_JOB_SELECTOR = ("A label query over pods that should match the pod count. Normally, the system sets "
                   "this field for you. More info: https://kubernetes.io/docs/concepts/overview/"
                   "working-with-objects/labels/#label-selectors")
_COLUMNS["leases"] = [
    _name_col(),
    _col("Holder", "holderIdentity contains the identity of the holder of a current lease. If "
         "Coordinated Leader Election is used, the holder identity must be equal to the elected "
         "LeaseCandidate.metadata.name field."),
    _age_col(),
]
_COLUMNS["daemonsets"] = [
    _name_col(),
    _col("Desired", "The total number of nodes that should be running the daemon pod (including nodes "
         "correctly running the daemon pod). More info: "
         "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/", type="integer"),
    _col("Current", "The number of nodes that are running at least 1 daemon pod and are supposed to run "
         "the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
         type="integer"),
    _col("Ready", "numberReady is the number of nodes that should be running the daemon pod and have one "
         "or more of the daemon pod running with a Ready Condition.", type="integer"),
    _col("Up-to-date", "The total number of nodes that are running updated daemon pod", type="integer"),
    _col("Available", "The number of nodes that should be running the daemon pod and have one or more of "
         "the daemon pod running and available (ready for at least spec.minReadySeconds)", type="integer"),
    _col("Node Selector", "NodeSelector is a selector which must be true for the pod to fit on a node. "
         "Selector which must match a node's labels for the pod to be scheduled on that node. More info: "
         "https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"),
    _age_col(),
    _col("Containers", _D_CONTAINERS, priority=1),
    _col("Images", _D_IMAGES, priority=1),
    _col("Selector", "A label query over pods that are managed by the daemon set. Must match in order to "
         "be controlled. It must match the pod template's labels. More info: "
         "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
         priority=1),
]
_COLUMNS["statefulsets"] = [
    _name_col(),
    _col("Ready", "Number of the pod with ready state"),
    _age_col(),
    _col("Containers", _D_CONTAINERS, priority=1),
    _col("Images", _D_IMAGES, priority=1),
]
_COLUMNS["jobs"] = [
    _name_col(),
    _col("Status", "Status of the job."),
    _col("Completions", "The number of pods which reached phase Succeeded. The value increases "
         "monotonically for a given spec. However, it may decrease in reaction to scale down of "
         "elastic indexed jobs."),
    _col("Duration", "Time required to complete the job."),
    _age_col(),
    _col("Containers", _D_CONTAINERS, priority=1),
    _col("Images", _D_IMAGES, priority=1),
    _col("Selector", _D_JOB_SELECTOR, priority=1),
]
_COLUMNS["cronjobs"] = [
    _name_col(),
    _col("Schedule", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
    _col("Timezone", "The time zone name for the given schedule, see "
         "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will "
         "default to the time zone of the kube-controller-manager process."),
    _col("Suspend", "This flag tells the controller to suspend subsequent executions, it does not "
         "apply to already started executions.  Defaults to false.", type="boolean"),
    _col("Active", "A list of pointers to currently running jobs.", type="integer"),
    _col("Last Schedule", "Information when was the last time the job was successfully scheduled."),
    _age_col(),
    _col("Containers", _D_CONTAINERS, priority=1),
    _col("Images", _D_IMAGES, priority=1),
    _col("Selector", _D_JOB_SELECTOR, priority=1),
]
# Roles print their creation time as a date, bindings their role and (wide) their subjects.
_D_ROLE_REF = ("RoleRef can reference a Role in the current namespace or a ClusterRole in the global "
               "namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This "
               "field is immutable.")
_D_CLUSTER_ROLE_REF = ("RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef "
                       "cannot be resolved, the Authorizer must return an error. This field is immutable.")
for _plural in ("roles", "clusterroles"):
    _COLUMNS[_plural] = [_name_col(), _col("Created At", _D_CREATED, type="date")]
for _plural, _ref_doc in (("rolebindings", _D_ROLE_REF), ("clusterrolebindings", _D_CLUSTER_ROLE_REF)):
    _COLUMNS[_plural] = [_name_col(), _col("Role", _ref_doc), _age_col(),
                         _col("Users", "Users in the roleBinding", priority=1),
                         _col("Groups", "Groups in the roleBinding", priority=1),
                         _col("ServiceAccounts", "ServiceAccounts in the roleBinding", priority=1)]
_DEFAULT_COLUMNS = [_name_col(), _age_col()]


def column_definitions(plural: str) -> list[dict]:
    """The printer's columns for a resource, wide ones (priority 1) included."""
    return clone(_COLUMNS.get(plural, _DEFAULT_COLUMNS))

