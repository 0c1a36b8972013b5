"""Nodes as a kubelet reports them, on the sandbox clock: the four conditions with the
kubelet's reasons, messages and timestamps (pkg/kubelet/nodestatus/setters.go), and the
node Lease in kube-node-lease renewed as pkg/kubelet/nodelease does, so `kubectl describe
node` shows what it shows on kind."""
from __future__ import annotations

import json

from .conftest import wait_for


def _lease(kubectl, node):
    proc = kubectl("get", "lease", node, "-n", "kube-node-lease", "-o", "json", check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def test_node_conditions_and_lease_in_describe(kubectl):
    node = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"][-1]
    name = node["metadata"]["name"]
    lease = wait_for(lambda: _lease(kubectl, name))
    assert lease["spec"]["holderIdentity"] == name and lease["spec"]["leaseDurationSeconds"] == 40
    assert lease["metadata"]["ownerReferences"][0]["kind"] == "Node"
    node = json.loads(kubectl("get", "node", name, "-o", "json").stdout)
    conds = [(c["type"], c["status"], c["reason"]) for c in node["status"]["conditions"]]
    assert conds == [("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                     ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                     ("PIDPressure", "False", "KubeletHasSufficientPID"),
                     ("Ready", "True", "KubeletReady")]
    assert all(c["lastHeartbeatTime"] and not c["lastHeartbeatTime"].startswith("0001")
               for c in node["status"]["conditions"])
    text = kubectl("describe", "node", name).stdout
    assert "Failed to get lease" not in text
    assert f"HolderIdentity:  {name}" in text and "RenewTime:" in text
    assert "MemoryPressure   False" in text and "kubelet is posting ready status" in text


def test_the_lease_is_renewed_on_the_sandbox_clock(kubectl, sandbox):
    name = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"][0]["metadata"]["name"]
    first = wait_for(lambda: _lease(kubectl, name))["spec"]["renewTime"]
    sandbox.clock.advance(60)
    renewed = wait_for(lambda: _lease(kubectl, name)["spec"]["renewTime"] != first
                       and _lease(kubectl, name)["spec"]["renewTime"], timeout=20)
    assert renewed > first
