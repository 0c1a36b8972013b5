"""What a tool running "inside" a pod can see and touch.

A tool is a Python function `tool(ctx, argv) -> exit code` registered with
`@tool("name")`. It writes to ctx.stdout / ctx.stderr and reads only ctx: never
the host's files, processes, shell or network (DNS goes to the sandbox's own
server on loopback; every other packet is simulated by ctx.network).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Callable

ToolFn = Callable[["ToolContext", list[str]], int]

TOOLS: dict[str, ToolFn] = {}


def tool(*names: str) -> Callable[[ToolFn], ToolFn]:
    """Register a tool under one or more command names."""
    def register(fn: ToolFn) -> ToolFn:
        for name in names:
            TOOLS[name] = fn
        return fn
    return register


@dataclass(frozen=True)
class ImageProfile:
    """What an image brings: its tools, its C library, and what it serves."""
    ref: str                               # the image reference as written in the pod spec
    tools: frozenset[str]                  # command names present in the image
    libc: str = "glibc"                    # "glibc" or "musl": decides the resolver's search walk
    http_server: str | None = None         # "hello-plain", "hello-html", "nginx-static" or None
    shell: str = "sh"                      # the shell's name in error messages ("sh", "bash")
    busybox: bool = False                  # tools are BusyBox applets (own nslookup, wget formats)


@dataclass(frozen=True)
class ExecResult:
    stdout: bytes
    stderr: bytes
    exit_code: int


@dataclass
class ToolContext:
    pod: dict                              # the Pod object as the API serves it
    container: str
    image: ImageProfile
    files: dict[str, str]                  # the pod's virtual files: /etc/resolv.conf, /etc/hosts, ...
    env: dict[str, str]
    config: Any                            # SandboxConfig
    cluster: Any                           # ClusterReader
    network: Any                           # runtime._network.Network: simulated packets
    dns_address: tuple[str, int] | None    # the sandbox DNS server's real loopback address
    dns_clients: Any                       # DnsClientRegistry: register each DNS socket's port
    clock: Any                             # sandbox Clock
    deadline: float                        # clock.monotonic() value at which the exec times out
    waited: float = 0.0                    # simulated seconds spent waiting on the network
    stdin: str = ""
    memory: Any = None                     # shell.io.Memory: the exec's memory budget
    turn: Any = None                       # _cpu.Turn: the exec's place at the interpreter
    sockets: Any = None                    # _stubwire.SocketPool: DNS sockets kept between tool runs
    stdout: io.StringIO = field(default_factory=io.StringIO)
    stderr: io.StringIO = field(default_factory=io.StringIO)

    @property
    def pod_ip(self) -> str | None:
        return (self.pod.get("status") or {}).get("podIP")

    @property
    def namespace(self) -> str:
        return self.pod["metadata"]["namespace"]

    def has(self, command: str) -> bool:
        return command in self.image.tools
