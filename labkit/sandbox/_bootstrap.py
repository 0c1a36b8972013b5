"""What a fresh cluster already holds: system namespaces, nodes, the `kubernetes`
Service, cluster DNS (the kube-dns Service in front of CoreDNS pods) and the default RBAC
policy. Each namespace's `default` ServiceAccount and `kube-root-ca.crt` ConfigMap come from
controllers, as on a real cluster."""
from __future__ import annotations

from . import _bootstrap_policy, _release
from ._config import SandboxConfig

COREFILE = """.:53 {{
    errors
    health {{
       lameduck 5s
    }}
    ready
    kubernetes {domain} in-addr.arpa ip6.arpa {{
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl {ttl}
    }}
    prometheus :9153
    forward . /etc/resolv.conf {{
       max_concurrent 1000
    }}
    cache {cache}
    loop
    reload{loadbalance}
}}
"""


def corefile(config: SandboxConfig) -> str:
    """kubeadm's Corefile, with the sandbox's TTL, cache and shuffling settings."""
    text = COREFILE.format(domain=config.cluster_domain, ttl=config.dns_ttl, cache=config.dns_cache_seconds,
                           loadbalance="\n    loadbalance" if config.dns_loadbalance else "")
    if not config.dns_cache_seconds:
        text = text.replace("    cache 0\n", "")
    return text


def objects(config: SandboxConfig) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        out.append(("namespaces", {"metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}}))
    for i, node in enumerate(config.nodes):
        out.append(("nodes", _node(config, node, control_plane=(i == 0))))
    out.append(("services", {
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"clusterIP": config.kubernetes_service_ip,
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}}))
    apiserver_ip = config.node_ip(config.nodes[0])
    out.append(("endpoints", {
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": apiserver_ip}],
                     "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]}))
    out.append(("endpointslices", {
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [apiserver_ip], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}))
    out.append(("configmaps", {
        "metadata": {"name": "coredns", "namespace": "kube-system"},
        "data": {"Corefile": corefile(config)}}))
    dns_labels = {"k8s-app": "kube-dns"}
    out.append(("services", {
        "metadata": {"name": "kube-dns", "namespace": "kube-system",
                     "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                "kubernetes.io/name": "CoreDNS"},
                     "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
        "spec": {"clusterIP": config.cluster_dns_ip, "selector": dns_labels,
                 "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                           {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                           {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]}}))
    out.append(("deployments", {
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": dns_labels},
        "spec": {"replicas": 2, "selector": {"matchLabels": dns_labels},
                 "template": {"metadata": {"labels": dns_labels},
                              "spec": {"dnsPolicy": "Default", "priorityClassName": "system-cluster-critical",
                                       "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                                       {"key": "node-role.kubernetes.io/control-plane",
                                                        "effect": "NoSchedule"}],
                                       "containers": [{
                                           "name": "coredns", "image": _release.COREDNS_IMAGE,
                                           "args": ["-conf", "/etc/coredns/Corefile"],
                                           "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                                                     {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                                                     {"name": "metrics", "containerPort": 9153,
                                                      "protocol": "TCP"}]}]}}}}))
    out.extend(_bootstrap_policy.objects())
    return out


def decimal_count(n: int) -> str:
    """A count as the kubelet's node status writes it, resource.NewQuantity(n, DecimalSI):
    in canonical form, trailing thousands become a suffix (maxPods 1000 is "1k", 250 is
    "250"; apimachinery int64Amount.AsCanonicalBytes)."""
    exponent = 0
    while n and n % 1000 == 0 and exponent < 6:
        n, exponent = n // 1000, exponent + 1
    return f"{n}{('', 'k', 'M', 'G', 'T', 'P', 'E')[exponent]}"


def _node(config: SandboxConfig, name: str, *, control_plane: bool) -> dict:
    labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
              "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    spec: dict = {}
    pod_cidr = config.node_pod_cidr(name)
    if pod_cidr:
        # kube-controller-manager's node IPAM (SandboxConfig.node_pod_cidr).
        spec.update(podCIDR=pod_cidr, podCIDRs=[pod_cidr])
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
        spec["taints"] = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    resources = {"cpu": "2", "memory": "8039544Ki", "pods": decimal_count(config.max_pods),
                 "ephemeral-storage": "102626232Ki"}
    return {"metadata": {"name": name, "labels": labels,
                         "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                         "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
            "spec": spec,
            "status": {"addresses": [{"type": "InternalIP", "address": config.node_ip(name)},
                                     {"type": "Hostname", "address": name}],
                       "capacity": resources, "allocatable": resources,
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                       "message": "kubelet is posting ready status"}],
                       "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                       "nodeInfo": {"architecture": "amd64", "bootID": "", "machineID": "", "systemUUID": "",
                                    "containerRuntimeVersion": _release.CONTAINER_RUNTIME_VERSION,
                                    "kernelVersion": "6.1.0-27-amd64",
                                    "kubeProxyVersion": _release.KUBERNETES_VERSION,
                                    "kubeletVersion": _release.KUBERNETES_VERSION, "operatingSystem": "linux",
                                    "osImage": _release.NODE_OS_IMAGE}}}


def kubelet_config(config: SandboxConfig, max_pods: int) -> dict:
    """What GET /api/v1/nodes/<node>/proxy/configz returns under "kubeletconfig": the same
    for every node but maxPods, which is what the node reports as allocatable pods."""
    return {"enableServer": True, "staticPodPath": "/etc/kubernetes/manifests",
            "syncFrequency": "1m0s", "fileCheckFrequency": "20s", "httpCheckFrequency": "20s",
            "address": "0.0.0.0", "port": 10250, "rotateCertificates": True, "serverTLSBootstrap": False,
            "authentication": {"x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
                               "webhook": {"enabled": True, "cacheTTL": "2m0s"}, "anonymous": {"enabled": False}},
            "authorization": {"mode": "Webhook", "webhook": {"cacheAuthorizedTTL": "5m0s",
                                                             "cacheUnauthorizedTTL": "30s"}},
            "registryPullQPS": 5, "registryBurst": 10, "eventRecordQPS": 50, "eventBurst": 100,
            "enableDebuggingHandlers": True, "healthzPort": 10248, "healthzBindAddress": "127.0.0.1",
            "oomScoreAdj": -999, "clusterDomain": config.cluster_domain, "clusterDNS": [config.cluster_dns_ip],
            "streamingConnectionIdleTimeout": "4h0m0s", "nodeStatusUpdateFrequency": "10s",
            "imageMinimumGCAge": "2m0s", "imageGCHighThresholdPercent": 85, "imageGCLowThresholdPercent": 80,
            "volumeStatsAggPeriod": "1m0s", "cgroupsPerQOS": True, "cgroupDriver": "systemd",
            "cpuManagerPolicy": "none", "runtimeRequestTimeout": "2m0s", "hairpinMode": "promiscuous-bridge",
            "maxPods": max_pods, "podPidsLimit": -1, "resolvConf": "/etc/resolv.conf", "cpuCFSQuota": True,
            "maxOpenFiles": 1000000, "contentType": "application/vnd.kubernetes.protobuf",
            "kubeAPIQPS": 50, "kubeAPIBurst": 100, "serializeImagePulls": True,
            "evictionHard": {"imagefs.available": "15%", "memory.available": "100Mi",
                             "nodefs.available": "10%", "nodefs.inodesFree": "5%"},
            "enableControllerAttachDetach": True, "makeIPTablesUtilChains": True,
            "failSwapOn": True, "containerLogMaxSize": "10Mi", "containerLogMaxFiles": 5,
            "configMapAndSecretChangeDetectionStrategy": "Watch", "enforceNodeAllocatable": ["pods"],
            "logging": {"format": "text"}, "shutdownGracePeriod": "0s",
            "containerRuntimeEndpoint": "unix:///run/containerd/containerd.sock"}
