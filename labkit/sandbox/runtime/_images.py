"""What each image the course uses brings into a pod: tools, C library, shells.

| image | base | libc | `sh` | tools of note | source |
|---|---|---|---|---|---|
| nginxdemos/hello (latest, plain-text) | nginx:mainline-alpine | musl | BusyBox ash | BusyBox applets (nslookup, wget, ping), curl, getent (musl-utils); serves hello-html / hello-plain | nginxinc/NGINX-Demos nginx-hello; nginxinc/docker-nginx mainline/alpine/Dockerfile installs curl |
| nicolaka/netshoot | alpine | musl | BusyBox ash | bash, bind-tools (dig, nslookup, host), curl, iputils ping, getent, BusyBox for the rest | nicolaka/netshoot Dockerfile |
| registry.k8s.io/e2e-test-images/jessie-dnsutils | debian:jessie | glibc | dash | dnsutils (dig, nslookup, host), getent, bash 4.3; no ping, curl or wget | kubernetes test/images/jessie-dnsutils/Dockerfile |
| busybox | BusyBox | glibc (default variant since Dec 2022; uclibc before, and on `-uclibc` tags; musl on `-musl` tags) | BusyBox ash | BusyBox applets: own nslookup, wget, ping; no curl, dig, getent | docker-library/busybox commit 4858368 "glibc variants the default" |
| centos:7 | CentOS 7 | glibc | bash 4.2 | bash, curl, ping (iputils), getent; no dig/nslookup (bind-utils absent) | the lab this course is based on |
| nginx | debian (bookworm) | glibc | dash | bash 5, curl, getent; no ping, dig, nslookup, wget | nginxinc/docker-nginx mainline/debian/Dockerfile |
| alpine | Alpine | musl | BusyBox ash | BusyBox applets, getent (musl-utils); no curl, dig | alpine minirootfs |
| anything else | - | glibc | sh | a minimal shell and coreutils | - |

A uclibc BusyBox is modelled with the glibc resolver walk (both try the search
list in resolv.conf order); ImageProfile.libc only distinguishes glibc from musl.
"""
from __future__ import annotations

from dataclasses import dataclass

from ._context import ImageProfile

# Commands every shell image has (coreutils or BusyBox applets).
_CORE = frozenset({
    "sh", "echo", "cat", "env", "printenv", "hostname", "true", "false", "test", "[",
    "printf", "head", "tail", "seq", "sleep", "wc", "sort", "uniq", "grep", "cut", "tr",
    "date", "id", "whoami", "ls", "uname", "awk", "which",
})
_BUSYBOX_NET = frozenset({"nslookup", "wget", "ping", "ping6", "traceroute", "nc", "telnet", "ip",
                          "ifconfig", "route", "netstat", "arp"})
_BIND = frozenset({"dig", "nslookup", "host"})
_DEBIAN = _CORE | {"bash", "dash", "getent"}


@dataclass(frozen=True)
class Traits:
    """What the sandbox needs beyond ImageProfile: shell dialects and tool flavours."""
    profile: ImageProfile
    sh: str               # dialect of /bin/sh: "dash", "ash", "bash4", "bash5"
    bash: str | None      # dialect of /bin/bash, or None when the image has no bash
    coreutils: str        # "gnu" or "busybox": output formats of echo, wc, ls...
    env: tuple[tuple[str, str], ...] = ()   # ENV lines of the image


def normalize(image: str) -> tuple[str, str]:
    """`docker.io/library/busybox:1.36` -> ("busybox", "1.36"); digests dropped."""
    ref = image.strip().split("@", 1)[0]
    name, tag = ref, "latest"
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        name, tag = ref[:colon], ref[colon + 1:]
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    if name.startswith("library/"):
        name = name[len("library/"):]
    return name, tag


def _busybox_libc(tag: str) -> str:
    if "musl" in tag:
        return "musl"
    # uclibc and glibc resolvers both walk the search list like glibc does.
    return "glibc"


def traits(image: str) -> Traits:
    name, tag = normalize(image)
    nginx_env = (("NGINX_VERSION", "1.27.4"), ("NJS_VERSION", "0.8.9"))
    if name == "nginxdemos/hello" or name == "nginxdemos/nginx-hello":
        server = "hello-plain" if tag.startswith("plain-text") else "hello-html"
        tools = _CORE | _BUSYBOX_NET | {"curl", "getent", "busybox", "ash"}
        return Traits(ImageProfile(image, frozenset(tools), "musl", server, "sh", True),
                      "ash", None, "busybox", nginx_env + (("PKG_RELEASE", "1"),))
    if name == "nicolaka/netshoot":
        tools = (_CORE | _BUSYBOX_NET | _BIND | {"bash", "zsh", "curl", "getent", "busybox",
                                                  "ash", "drill", "tcpdump", "nmap", "socat"})
        return Traits(ImageProfile(image, frozenset(tools), "musl", None, "sh", False),
                      "ash", "bash5", "busybox")
    if name.endswith("e2e-test-images/jessie-dnsutils") or name.endswith("/jessie-dnsutils"):
        tools = _DEBIAN | _BIND
        return Traits(ImageProfile(image, frozenset(tools), "glibc", None, "sh", False),
                      "dash", "bash4", "gnu")
    if name == "busybox":
        tools = _CORE | _BUSYBOX_NET | {"busybox", "ash"}
        return Traits(ImageProfile(image, frozenset(tools), _busybox_libc(tag), None, "sh", True),
                      "ash", None, "busybox")
    if name == "centos" and tag.startswith("7"):
        tools = _CORE | {"bash", "curl", "ping", "getent"}
        return Traits(ImageProfile(image, frozenset(tools), "glibc", None, "bash", False),
                      "bash4", "bash4", "gnu")
    if name == "nginx":
        if "alpine" in tag:
            tools = _CORE | _BUSYBOX_NET | {"curl", "getent", "busybox", "ash"}
            return Traits(ImageProfile(image, frozenset(tools), "musl", None, "sh", True),
                          "ash", None, "busybox", nginx_env)
        tools = _DEBIAN | {"curl"}
        return Traits(ImageProfile(image, frozenset(tools), "glibc", None, "sh", False),
                      "dash", "bash5", "gnu", nginx_env)
    if name == "alpine":
        tools = _CORE | _BUSYBOX_NET | {"getent", "busybox", "ash"}
        return Traits(ImageProfile(image, frozenset(tools), "musl", None, "sh", True),
                      "ash", None, "busybox")
    minimal = frozenset({"sh", "echo", "cat", "env", "printenv", "hostname", "true", "false",
                         "test", "[", "printf", "ls", "sleep", "seq"})
    return Traits(ImageProfile(image, minimal, "glibc", None, "sh", False), "dash", None, "gnu")


def profile(image: str) -> ImageProfile:
    """The ImageProfile for an image reference as written in a pod spec."""
    return traits(image).profile


_NGINX_ENTRYPOINT = [
    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
    "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
    "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
    "10-listen-on-ipv6-by-default.sh: info: /etc/nginx/conf.d/default.conf differs from the packaged version",
    "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
    "/docker-entrypoint.sh: Configuration complete; ready for start up",
]


def startup_log(image: str, started) -> list[str]:
    """What a container of this image writes when it starts (nginx images: the
    official image's entrypoint, then nginx's notices); `started` is a datetime."""
    if traits(image).profile.http_server is None:
        return []
    stamp = started.strftime("%Y/%m/%d %H:%M:%S")
    version = dict(traits(image).env).get("NGINX_VERSION", "1.27.4")
    return _NGINX_ENTRYPOINT + [
        f'{stamp} [notice] 1#1: using the "epoll" event method',
        f"{stamp} [notice] 1#1: nginx/{version}",
        f"{stamp} [notice] 1#1: OS: Linux 6.1.0-27-amd64",
        f"{stamp} [notice] 1#1: getrlimit(RLIMIT_NOFILE): 1048576:1048576",
        f"{stamp} [notice] 1#1: start worker processes",
        f"{stamp} [notice] 1#1: start worker process 30",
        f"{stamp} [notice] 1#1: start worker process 31",
    ]


def default_command(image: str) -> list[str] | None:
    """The image's ENTRYPOINT + CMD, which a container without `command` runs; None for an
    image the sandbox does not know, taken to be a server that runs until stopped.
    (docker-library busybox and alpine `CMD ["sh"]`/`["/bin/sh"]`, centos:7 `CMD ["/bin/bash"]`,
    netshoot `CMD ["zsh"]`, nginx images' entrypoint script starting nginx.)"""
    name, tag = normalize(image)
    if traits(image).profile.http_server is not None or name == "nginx":
        return ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]
    return {"busybox": ["sh"], "alpine": ["/bin/sh"], "nicolaka/netshoot": ["zsh"],
            "centos": ["/bin/bash"]}.get(name)
