"""The kubelet's readiness probes, judged from what a container's image listens on.

The sandbox runs no processes, so a probe's outcome is a property of the image: an
`httpGet` or `tcpSocket` probe passes when the image serves on that port (the hello
images' nginx on 80), and fails as a real probe would against a closed port
("connect: connection refused"). An `exec` probe has no process to run in and is taken
as passing. The outcome cannot change while the pod lives, so it is decided once, when
the containers start (pkg/kubelet/prober/prober.go runProbe for the real thing).
"""
from __future__ import annotations

from ..runtime._images import profile

HTTP_PORT = 80          # where the hello images' nginx listens


def _port(container: dict, port) -> int | None:
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    named = [p.get("containerPort") for p in container.get("ports") or [] if p.get("name") == port]
    return named[0] if named else None


def container_ready(container: dict) -> bool:
    """Whether the container's readinessProbe passes (no probe: ready once started)."""
    probe = container.get("readinessProbe")
    if not probe:
        return True
    action = probe.get("httpGet") or probe.get("tcpSocket") or probe.get("grpc")
    if action is None:
        return True
    port = _port(container, action.get("port"))
    return port == HTTP_PORT and profile(container.get("image", "")).http_server is not None


def unready_containers(pod: dict) -> list[str]:
    """Names of the containers whose readiness probe fails, in spec order."""
    return [c["name"] for c in (pod.get("spec") or {}).get("containers") or [] if not container_ready(c)]


def failure_message(container: dict, pod_ip: str) -> str | None:
    """The kubelet's Unhealthy event text for a failing readiness probe (prober/prober.go and
    probe/http, probe/tcp: Go's dial error for a closed port), or None when it passes."""
    if container_ready(container):
        return None
    probe = container["readinessProbe"]
    action = probe.get("httpGet") or probe.get("tcpSocket") or {}
    port = _port(container, action.get("port"))
    dial = f"dial tcp {pod_ip}:{port}: connect: connection refused"
    if "httpGet" in probe:
        scheme = (action.get("scheme") or "HTTP").lower()
        host = action.get("host") or pod_ip
        return f'Readiness probe failed: Get "{scheme}://{host}:{port}{action.get("path") or "/"}": {dial}'
    if "tcpSocket" in probe:
        return f"Readiness probe failed: {dial}"
    return f"Readiness probe failed: {dial}"        # grpc: the same refused dial
