"""Everything a process in one container of a pod sees, built once per command.

`PodEnvironment.build` is the one place that gathers it (the Sandbox's `pod_environment`
for exec, attach and the kubelet's container commands; the tests' helpers): the pod and
its container, the image's traits, the files the kubelet writes (/etc/resolv.conf,
/etc/hosts, /etc/hostname), the environment variables, the cluster and network views,
the DNS server's loopback address, the clock and the exec's time limit. `runtime.run`
takes it with the command line and the streams.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ._images import Traits, traits
from ._podfiles import pod_files, pod_hostname

_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class PodEnvironment:
    pod: dict                              # the Pod object as the API serves it
    container: dict                        # the container's spec in the pod
    image: Traits                          # what the container's image brings
    node: dict | None                      # the pod's Node (its kubelet's DNS settings), if any
    files: dict[str, str]                  # /etc/resolv.conf, /etc/hosts, /etc/hostname
    env: dict[str, str]                    # the process's environment variables
    config: Any                            # SandboxConfig
    cluster: Any                           # ClusterReader: what DNS and the tools may read
    network: Any                           # runtime._network.Network shared across commands (None: one per command)
    clock: Any                             # the sandbox Clock
    dns_address: tuple[str, int] | None    # the sandbox DNS server's real loopback address
    dns_clients: Any                       # DnsClientRegistry, or None
    timeout: float                         # seconds a command line may run (the exec's limit)

    @classmethod
    def build(cls, pod: dict, container: str | None, *, config, cluster, clock, dns_address=None,
              dns_clients=None, network=None, timeout: float | None = None,
              services_at_start: list[dict] | None = None) -> "PodEnvironment":
        """The environment of `container` (None: the pod's first) in `pod`; ValueError when
        the pod has no such container. `network` is the sandbox's simulated network (None: each
        command gets its own); `services_at_start` the Services the kubelet saw when the container
        started (see pod_env)."""
        spec = _container(pod, container)
        node_name = (pod.get("spec") or {}).get("nodeName")
        node = cluster.get("nodes", None, node_name) if node_name else None
        return cls(pod=pod, container=spec, image=traits(spec.get("image", "")), node=node,
                   files=pod_files(pod, config=config, node=node),
                   env=pod_env(pod, spec, config=config, cluster=cluster, services_at_start=services_at_start),
                   config=config, cluster=cluster, network=network, clock=clock, dns_address=dns_address,
                   dns_clients=dns_clients,
                   timeout=config.exec_timeout_seconds if timeout is None else timeout)


def _container(pod: dict, name: str | None) -> dict:
    containers = (pod.get("spec") or {}).get("containers") or []
    if not containers:
        raise ValueError(f"pod {pod['metadata']['name']} has no containers")
    if name is None:
        return containers[0]
    for c in containers:
        if c.get("name") == name:
            return c
    raise ValueError(f"container {name} is not valid for pod {pod['metadata']['name']}")


def _service_env(services: list[dict]) -> dict[str, str]:
    """envvars.FromServices: {SVC}_SERVICE_HOST/PORT[_NAME] and the Docker link variables."""
    env: dict[str, str] = {}
    for svc in sorted(services, key=lambda s: s["metadata"]["name"]):
        spec = svc.get("spec") or {}
        ip = spec.get("clusterIP")
        ports = spec.get("ports") or []
        if not ip or ip == "None" or not ports:
            continue
        prefix = svc["metadata"]["name"].upper().replace("-", "_")
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(ports[0]["port"])
        for p in ports:
            if p.get("name"):
                env[f"{prefix}_SERVICE_PORT_{p['name'].upper().replace('-', '_')}"] = str(p["port"])
        for i, p in enumerate(ports):
            proto = (p.get("protocol") or "TCP").lower()
            url = f"{proto}://{ip}:{p['port']}"
            if i == 0:
                env[f"{prefix}_PORT"] = url
            base = f"{prefix}_PORT_{p['port']}_{proto.upper()}"
            env[base] = url
            env[f"{base}_PROTO"] = proto
            env[f"{base}_PORT"] = str(p["port"])
            env[f"{base}_ADDR"] = ip
    return env


def _field_ref(pod: dict, path: str) -> str:
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    m = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if m:
        return (meta.get(m.group(1)) or {}).get(m.group(2), "")
    return {
        "metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""), "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", "default"),
        "status.podIP": status.get("podIP", ""), "status.hostIP": status.get("hostIP", ""),
    }.get(path, "")


def _expand(value: str, env: dict[str, str]) -> str:
    """The kubelet's $(VAR) expansion: known names replaced, $$ escapes a dollar."""
    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", sub, value)


def pod_env(pod: dict, container: dict, *, config, cluster,
            services_at_start: list[dict] | None = None) -> dict[str, str]:
    """The environment of a process exec'd in the container.

    kubelet_pods.go getServiceEnvVarMap: the `kubernetes` Service of `default` always, the
    pod's namespace's Services when enableServiceLinks (default true); headless ones never.
    Only Services that existed when the container started: `services_at_start` as the
    kubelet recorded them, else (a restarted sandbox) those created by the pod's startTime.
    Order: PATH and HOSTNAME (the runtime's), the image's ENV, the container's env as
    declared, the service variables by service name, then HOME (runc's default). The
    kubelet builds the last groups from Go maps, so a real pod's order varies; the sandbox
    fixes one.
    """
    ns = pod["metadata"].get("namespace") or "default"
    spec = pod.get("spec") or {}
    services = []
    if services_at_start is None:
        started = (pod.get("status") or {}).get("startTime") or "~"
        services_at_start = [s for s in cluster.list("services", None)
                             if (s["metadata"].get("creationTimestamp") or "") <= started]
    for svc in services_at_start:
        name, svc_ns = svc["metadata"]["name"], svc["metadata"].get("namespace")
        if svc_ns == "default" and name == "kubernetes":
            services.append(svc)
        elif svc_ns == ns and spec.get("enableServiceLinks", True) and name != "kubernetes":
            services.append(svc)
    service_env = _service_env(services)
    declared: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        ref = source.get("configMapRef")
        if ref:
            cm = cluster.get("configmaps", ns, ref.get("name"))
            for k, v in ((cm or {}).get("data") or {}).items():
                declared[source.get("prefix", "") + k] = v
    for var in container.get("env") or []:
        name = var["name"]
        if "value" in var:
            declared[name] = _expand(var.get("value") or "", {**service_env, **declared})
            continue
        frm = var.get("valueFrom") or {}
        if "fieldRef" in frm:
            declared[name] = _field_ref(pod, frm["fieldRef"].get("fieldPath", ""))
        elif "configMapKeyRef" in frm:
            ref = frm["configMapKeyRef"]
            cm = cluster.get("configmaps", ns, ref.get("name"))
            declared[name] = ((cm or {}).get("data") or {}).get(ref.get("key"), "")
        else:
            declared[name] = ""
    env = {"PATH": _PATH, "HOSTNAME": pod_hostname(pod, config=config)}
    env.update(dict(traits(container.get("image", "")).env))
    env.update(declared)
    for k, v in service_env.items():
        env.setdefault(k, v)
    env.setdefault("HOME", "/root")
    return env
