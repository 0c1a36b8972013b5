"""The embedded sandbox: an emulated Kubernetes cluster on 127.0.0.1.

It speaks the real Kubernetes API (the official client and kubectl work against
it unchanged) and runs a real DNS server that answers as CoreDNS does.
"""
from ._config import SandboxConfig
from ._sandbox import Sandbox, default_home

__all__ = ["Sandbox", "SandboxConfig", "default_home"]
