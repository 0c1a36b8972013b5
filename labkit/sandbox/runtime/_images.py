"""What each image the course uses brings into a pod: tools, C library, shells.

| image | base | libc | `sh` | tools of note | source |
|---|---|---|---|---|---|
| nginxdemos/hello (latest, plain-text) | nginx:mainline-alpine | musl | BusyBox ash | BusyBox applets (nslookup, wget, ping), curl, getent (musl-utils); serves hello-html / hello-plain | nginxinc/NGINX-Demos nginx-hello; nginxinc/docker-nginx mainline/alpine/Dockerfile installs curl |
| nicolaka/netshoot | alpine | musl | BusyBox ash | bash, bind-tools (dig, nslookup, host), curl, iputils ping, getent, BusyBox for the rest | nicolaka/netshoot Dockerfile |
| registry.k8s.io/e2e-test-images/jessie-dnsutils | debian:jessie | glibc | dash | dnsutils (dig, nslookup, host), getent, bash 4.3; no ping, curl or wget | kubernetes test/images/jessie-dnsutils/Dockerfile |
| busybox | BusyBox | glibc (default variant since Dec 2022; uclibc before, and on `-uclibc` tags; musl on `-musl` tags) | BusyBox ash | BusyBox applets: own nslookup, wget, ping; no curl, dig, getent | docker-library/busybox commit 4858368 "glibc variants the default" |
| centos:7 | CentOS 7 | glibc | bash 4.2 | bash, curl, ping (iputils), getent; no dig/nslookup (bind-utils absent) | the lab this course is based on |
| nginx | debian (bookworm) | glibc | dash | bash 5, curl, getent; no ping, dig, nslookup, wget; serves the welcome page (nginx-static) | nginxinc/docker-nginx mainline/debian/Dockerfile |
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


# The versions the tools mimic, per image (docs/IMAGES.md is generated from them). Where no
# real tool of that version could be run here (curl 7.29, Alpine's packages), the tools'
# wording comes from that version's source, cited where the tool prints it.
DEBIAN_12 = (        # what tests/fixtures/real-tool-output was recorded with
    ("curl", "7.88.1"), ("bind", "9.18.49-1~deb12u3-Debian"), ("iputils", "20221126"),
    ("busybox", "1.35.0"), ("libc", "glibc 2.36"), ("bash", "5.2.15"))
CENTOS_7 = (         # centos:7 (7.9.2009): curl-7.29.0-59.el7, iputils-20160308-10.el7, glibc-2.17-317.el7
    ("curl", "7.29.0"), ("iputils", "20160308"), ("libc", "glibc 2.17"), ("bash", "4.2.46"))
NETSHOOT_0_13 = (    # alpine:3.19.1 upgraded from Alpine edge on 2024-05-15 (the v0.13 Dockerfile)
    ("curl", "8.7.1"), ("bind", "9.18.26"), ("iputils", "20240117"), ("busybox", "1.36.1"),
    ("libc", "musl 1.2.5"), ("bash", "5.2.26"))
NGINX_ALPINE = (     # nginx:1.27.4-alpine is alpine:3.21
    ("curl", "8.12.1"), ("busybox", "1.37.0"), ("libc", "musl 1.2.5"))
ALPINE = (("busybox", "1.37.0"), ("libc", "musl 1.2.5"))                 # alpine:3.21 (latest)
JESSIE = (("libc", "glibc 2.19"), ("bash", "4.3.30"))
NGINX_DEBIAN = (("curl", "7.88.1"), ("libc", "glibc 2.36"), ("bash", "5.2.15"))   # bookworm


def _busybox_image_version(tag: str) -> str:
    """busybox:1.36 and busybox:1.36.1-glibc print 1.36.1; other tags print the 1.36.1 the
    course's recipes were written against."""
    number = tag.split("-", 1)[0]
    known = {"1.36": "1.36.1", "1.35": "1.35.0", "1.37": "1.37.0", "1.28": "1.28.4"}
    if number in known:
        return known[number]
    if number.count(".") == 2 and number.replace(".", "").isdigit():
        return number
    return "1.36.1"


@dataclass(frozen=True)
class Traits:
    """What the sandbox needs beyond ImageProfile: shell dialects and tool flavours."""
    profile: ImageProfile
    sh: str               # dialect of /bin/sh: "dash", "ash", "bash4", "bash5"
    bash: str | None      # dialect of /bin/bash, or None when the image has no bash
    coreutils: str        # "gnu" or "busybox": output formats of echo, wc, ls...
    env: tuple[tuple[str, str], ...] = ()   # ENV lines of the image
    versions: tuple[tuple[str, str], ...] = ()   # (component, version its tools mimic)

    def version(self, component: str) -> str:
        """The version of `component` ("curl", "bind", "iputils", "busybox", ...) the image's
        tools print, or the Debian 12 one the tool outputs were recorded with."""
        return dict(self.versions).get(component) or dict(DEBIAN_12)[component]


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
                      "ash", None, "busybox", nginx_env + (("PKG_RELEASE", "1"),), NGINX_ALPINE)
    if name == "nicolaka/netshoot":
        tools = (_CORE | _BUSYBOX_NET | _BIND | {"bash", "zsh", "curl", "getent", "busybox",
                                                  "ash", "drill", "tcpdump", "nmap", "socat"})
        return Traits(ImageProfile(image, frozenset(tools), "musl", None, "sh", False),
                      "ash", "bash5", "busybox", (), NETSHOOT_0_13)
    if name.endswith("e2e-test-images/jessie-dnsutils") or name.endswith("/jessie-dnsutils"):
        tools = _DEBIAN | _BIND
        return Traits(ImageProfile(image, frozenset(tools), "glibc", None, "sh", False),
                      "dash", "bash4", "gnu", (), JESSIE)
    if name == "busybox":
        tools = _CORE | _BUSYBOX_NET | {"busybox", "ash"}
        return Traits(ImageProfile(image, frozenset(tools), _busybox_libc(tag), None, "sh", True),
                      "ash", None, "busybox", (), (("busybox", _busybox_image_version(tag)),))
    if name == "centos" and tag.startswith("7"):
        tools = _CORE | {"bash", "curl", "ping", "getent"}
        return Traits(ImageProfile(image, frozenset(tools), "glibc", None, "bash", False),
                      "bash4", "bash4", "gnu", (), CENTOS_7)
    if name == "nginx":
        if "alpine" in tag:
            tools = _CORE | _BUSYBOX_NET | {"curl", "getent", "busybox", "ash"}
            return Traits(ImageProfile(image, frozenset(tools), "musl", "nginx-static", "sh", True),
                          "ash", None, "busybox", nginx_env, NGINX_ALPINE)
        tools = _DEBIAN | {"curl"}
        return Traits(ImageProfile(image, frozenset(tools), "glibc", "nginx-static", "sh", False),
                      "dash", "bash5", "gnu", nginx_env, NGINX_DEBIAN)
    if name == "alpine":
        tools = _CORE | _BUSYBOX_NET | {"getent", "busybox", "ash"}
        return Traits(ImageProfile(image, frozenset(tools), "musl", None, "sh", True),
                      "ash", None, "busybox", (), ALPINE)
    minimal = frozenset({"sh", "echo", "cat", "env", "printenv", "hostname", "true", "false",
                         "test", "[", "printf", "ls", "sleep", "seq"})
    return Traits(ImageProfile(image, minimal, "glibc", None, "sh", False), "dash", None, "gnu")


def tool_version(image: str, component: str) -> str:
    """The version of a component the tools of `image` mimic (see Traits.version)."""
    return traits(image).version(component)


def profile(image: str) -> ImageProfile:
    """The ImageProfile for an image reference as written in a pod spec."""
    return traits(image).profile


def tool_path(profile, name: str) -> str:
    """Where an image keeps a command (what `which` and `command -v` print)."""
    image, _ = normalize(profile.ref)
    if name in ("sh", "bash", "ash", "dash") and not (name == "bash" and image == "nicolaka/netshoot"):
        return f"/bin/{name}"
    if image == "busybox":
        return f"/bin/{name}"
    if profile.busybox or profile.libc == "musl":
        return f"/bin/{name}" if name in {"cat", "echo", "hostname", "ls", "ping", "date",
                                          "grep", "sleep", "true", "false", "uname"} else f"/usr/bin/{name}"
    return f"/usr/bin/{name}"


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
    if traits(image).profile.http_server is not None:
        return ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]
    return {"busybox": ["sh"], "alpine": ["/bin/sh"], "nicolaka/netshoot": ["zsh"],
            "centos": ["/bin/bash"]}.get(name)
