"""The embedded sandbox: an emulated Kubernetes cluster on 127.0.0.1.

It speaks the real Kubernetes API (the official client and kubectl work against
it unchanged) and runs a real DNS server that answers as CoreDNS does. Importing
this package is cheap; the server's modules load when first used.
"""
from __future__ import annotations

from pathlib import Path

from .home._home import default_home

__all__ = ["Sandbox", "SandboxConfig", "default_home", "running", "main"]


def running(home: Path | None = None) -> dict:
    """The background sandbox of `home` (default: `default_home()`), started if none runs:
    its status, `{"server", "kubeconfig", "dns", "pid", "home"}` (`labkit sandbox up`)."""
    from .home import _process
    home = home or default_home()
    return _process.read_status(home) or _process.start_background(home, [])


def main(argv: list[str] | None = None, own_process: bool = False) -> int:
    """`labkit sandbox up|status|down|serve|dns-log`: the sandbox's command line
    (`own_process`: the process runs this command and nothing else)."""
    from ._cli import main as cli
    return cli(argv, own_process)


def __getattr__(name: str):
    if name == "Sandbox":
        from ._sandbox import Sandbox
        return Sandbox
    if name == "SandboxConfig":
        from ._config import SandboxConfig
        return SandboxConfig
    raise AttributeError(name)
