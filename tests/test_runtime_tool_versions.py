"""Each image's tools speak their own version: CentOS 7's curl 7.29 and iputils s20160308,
Alpine-based netshoot's BIND and curl 8, BusyBox's applets; IPv6 literals in curl's URLs.

No curl 7.29 can be installed where these tests run, so its expected text comes from its
source, named in each test (curl-7_29_0: lib/connect.c, lib/asyn-thread.c, lib/multi.c,
src/tool_urlglob.c, src/tool_cb_dbg.c).
"""
from __future__ import annotations

import dataclasses
import re
import shlex
import subprocess
import sys

import pytest

from labkit.sandbox._cluster import StaticCluster
from labkit.sandbox._config import SandboxConfig
from labkit.sandbox.runtime._context import TOOLS, ImageProfile
from labkit.sandbox.runtime._images import tool_version, traits
from labkit.sandbox.runtime._network import Network
import labkit.sandbox.runtime.tools  # noqa: F401  (registers the tools)

from tests.conftest import ROOT
from tests.test_net_tools import CIP_SLICE, CIP_SVC, WEB_POD, WEB_POD_2, profiles
from tests.test_resolver import CLIENT_POD, ZoneServer, make_ctx
from tests.test_runtime_shell import sh

CENTOS, NETSHOOT, DEBIAN = "centos:7", "nicolaka/netshoot:v0.13", "nginx"


@pytest.fixture
def server():
    s = ZoneServer()
    yield s
    s.close()


def tool(server, image: str, command: str, **kw) -> tuple[str, str, int]:
    """One tool in a pod of `image`, its DNS through the fixture server."""
    cluster = StaticCluster([CLIENT_POD, WEB_POD, WEB_POD_2, CIP_SVC, CIP_SLICE])
    network = Network(cluster, SandboxConfig(), profiles=profiles)
    ctx = make_ctx(server, cluster=cluster, network=network, **kw)
    t = traits(image).profile
    ctx = dataclasses.replace(ctx, image=ImageProfile(image, t.tools, t.libc, None, t.shell, t.busybox))
    argv = shlex.split(command)
    code = TOOLS[argv[0]](ctx, argv)
    return ctx.stdout.getvalue(), ctx.stderr.getvalue(), code


# ---------------------------------------------------------------- which version where

@pytest.mark.parametrize("image, component, version", [
    (CENTOS, "curl", "7.29.0"), (CENTOS, "iputils", "20160308"), (CENTOS, "libc", "glibc 2.17"),
    (NETSHOOT, "curl", "8.7.1"), (NETSHOOT, "bind", "9.18.26"), (NETSHOOT, "busybox", "1.36.1"),
    (NETSHOOT, "libc", "musl 1.2.5"), (DEBIAN, "curl", "7.88.1"),
    ("busybox", "busybox", "1.36.1"), ("busybox:1.35", "busybox", "1.35.0"),
    ("busybox:1.36.1-glibc", "busybox", "1.36.1"),
])
def test_each_image_names_the_versions_its_tools_mimic(image, component, version):
    assert tool_version(image, component) == version


def test_images_doc_is_generated_from_the_image_table():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "images_doc.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---------------------------------------------------------------- curl 7.29 on CentOS 7

def test_curl_7_29_refused_wording_names_host_and_port_with_the_errno_text():
    # lib/connect.c Curl_is_connected(): "Failed connect to %s:%ld; %s".
    out, err, code = sh("curl -sS http://127.0.0.1:8080/", image=CENTOS, shell="bash")
    assert (out, err, code) == ("", "curl: (7) Failed connect to 127.0.0.1:8080; Connection refused\n", 7)


def test_curl_7_29_cannot_resolve_says_unknown_error(server):
    # lib/asyn-thread.c: "Could not resolve host: %s; %s" with Curl_strerror() of the status.
    out, err, code = tool(server, CENTOS, "curl -sS -m 2 http://nosuch/")
    assert (out, err, code) == ("", "curl: (6) Could not resolve host: nosuch; Unknown error\n", 6)


def test_curl_7_29_connect_timeout_in_milliseconds(server):
    # lib/multi.c, CURLM_STATE_WAITCONNECT: "Connection timed out after %ld milliseconds".
    _, err, code = tool(server, CENTOS, "curl -sS -m 0.1 http://10.10.100.99/")
    assert code == 28 and re.fullmatch(r"curl: \(28\) Connection timed out after 1\d\d milliseconds\n", err)


def test_curl_7_29_sends_its_user_agent_before_host_and_hides_the_data(server):
    # lib/http.c Curl_http() of 7.29 writes User-Agent, then Host; src/tool_cb_dbg.c shows
    # "[data not shown]" for a stream that is not a terminal.
    out, err, code = tool(server, CENTOS, "curl -v http://10.10.100.37/")
    assert code == 0 and out.startswith("Server address: 10.10.100.37:80\n")
    assert "* About to connect() to 10.10.100.37 port 80 (#0)\n*   Trying 10.10.100.37...\n" in err
    assert ("> GET / HTTP/1.1\r\n> User-Agent: curl/7.29.0\r\n> Host: 10.10.100.37\r\n"
            "> Accept: */*\r\n> \r\n") in err
    assert "{ [data not shown]\n" in err


def test_curl_user_agent_reaches_the_server_log(server):
    cluster = StaticCluster([CLIENT_POD, WEB_POD])
    network = Network(cluster, SandboxConfig(), profiles=profiles)
    ctx = make_ctx(server, cluster=cluster, network=network)
    for image, agent in ((CENTOS, "curl/7.29.0"), (NETSHOOT, "curl/8.7.1"), (DEBIAN, "curl/7.88.1")):
        sub = dataclasses.replace(ctx, image=ImageProfile(image, frozenset()))
        assert TOOLS["curl"](sub, ["curl", "-s", "http://10.10.100.37/"]) == 0
        line = network.access_log[("default", WEB_POD["metadata"]["name"])][-1][1]
        assert line.endswith(f'"{agent}" "-"')


def test_curl_version_per_image():
    out, _, code = sh("curl --version", image=CENTOS, shell="bash")
    assert code == 0 and out.splitlines() == [
        "curl 7.29.0 (x86_64-redhat-linux-gnu) libcurl/7.29.0 NSS/3.53.1 zlib/1.2.7 libidn/1.28 "
        "libssh2/1.8.0",
        "Protocols: dict file ftp ftps gopher http https imap imaps ldap ldaps pop3 pop3s rtsp scp "
        "sftp smtp smtps telnet tftp ",
        "Features: AsynchDNS GSS-Negotiate IDN IPv6 Largefile NTLM NTLM_WB SSL libz unix-sockets "]
    assert sh("curl -V | head -2", image=NETSHOOT)[0].splitlines() == [
        "curl 8.7.1 (x86_64-alpine-linux-musl) libcurl/8.7.1 OpenSSL/3.3.0 zlib/1.3.1 brotli/1.1.0 "
        "zstd/1.5.6 libidn2/2.3.7 libpsl/0.21.5 nghttp2/1.61.0", "Release-Date: 2024-03-27"]
    assert sh("curl --version", image=DEBIAN)[0].startswith("curl 7.88.1 (x86_64-pc-linux-gnu)")


# ---------------------------------------------------------------- IPv6 literals

def test_curl_7_29_globs_brackets_so_an_ipv6_literal_needs_globoff():
    # src/tool_urlglob.c glob_range() before 7.34's peek_ipv6(): '[' opens a range. A real
    # CentOS 7 prints the same (openshift-metal3/dev-scripts#976 for [fd00:1101::1]).
    assert sh("curl http://[::1]/", image=CENTOS, shell="bash") == (
        "", "curl: (3) [globbing] illegal character in range specification at pos 9\n\n", 3)
    assert sh("curl -sS http://[fd00::1]:8080/", image=CENTOS, shell="bash") == (
        "", "curl: (3) [globbing] error: bad range specification after pos 9\n\n", 3)
    assert sh("curl -s http://[::1]/", image=CENTOS, shell="bash") == ("", "", 3)
    assert sh("curl -sS -g http://[::1]/", image=CENTOS, shell="bash") == (
        "", "curl: (7) Failed connect to ::1:80; Connection refused\n", 7)
    # An IPv4-only pod has no route to a global IPv6 address: ENETUNREACH at once.
    assert sh("curl -sS --globoff http://[fd00::1]:8080/", image=CENTOS, shell="bash") == (
        "", "curl: (7) Failed connect to fd00::1:8080; Network is unreachable\n", 7)


@pytest.mark.parametrize("image", [NETSHOOT, DEBIAN])
def test_curl_ipv6_literals_connect_and_are_refused_where_nothing_listens(image):
    # Port 81: the nginx image's own server listens on [::]:80 (10-listen-on-ipv6-by-default.sh).
    for url, shown in (("http://[::1]:81/", "::1 port 81"), ("http://[fd00::1]:8080/", "fd00::1 port 8080")):
        out, err, code = sh(f"curl -sS {url}", image=image)
        assert code == 7 and "Could not resolve" not in err
        assert re.fullmatch(rf"curl: \(7\) Failed to connect to {shown} after \d+ ms: "
                            r"Couldn't connect to server\n", err)


def test_curl_ipv6_literal_reaches_a_server_on_the_pods_loopback():
    pod = {"kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "nginxdemos/hello:plain-text"}],
                    "nodeName": "lab-worker"},
           "status": {"phase": "Running", "podIP": "10.10.100.40", "podIPs": [{"ip": "10.10.100.40"}]}}
    out, err, code = sh("curl -s -H 'X: y' http://[::1]/", image="nginxdemos/hello:plain-text", pod=pod)
    assert code == 0 and "Server address: ::1:80" in out


# ---------------------------------------------------------------- BIND, iputils, BusyBox

def test_dig_banner_alpine_has_no_vendor_suffix_debian_has(server):
    out, _, code = tool(server, NETSHOOT, "dig web-svc.default.svc.cluster.local")
    assert code == 0 and "\n; <<>> DiG 9.18.26 <<>> web-svc.default.svc.cluster.local\n" in out
    out, _, _ = tool(server, "registry.k8s.io/e2e-test-images/jessie-dnsutils:1.3", "dig web-svc")
    assert "; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> web-svc\n" in out


def test_centos_7_ping_unknown_host_asks_only_for_a_records(server):
    # iputils s20160308 ping.c: gethostbyname2(AF_INET), then "ping: unknown host %s", exit 2.
    out, err, code = tool(server, CENTOS, "ping -c 1 nosuch")
    assert (out, err, code) == ("", "ping: unknown host nosuch\n", 2)
    assert {t for t, _ in server.log} == {"A"} and len(server.log) == 4   # 3 search domains + as is


def test_centos_7_ping_without_destination_prints_its_usage(server):
    out, err, code = tool(server, CENTOS, "ping")
    assert code == 2 and err.startswith("Usage: ping [-aAbBdDfhLnOqrRUvV] [-c count]")
    assert err.endswith("[-w deadline] [-W timeout] [hop1 ...] destination\n")
    _, err, code = tool(server, DEBIAN, "ping")
    assert (err, code) == ("ping: usage error: Destination address required\n", 1)


def test_centos_7_ping_reply_names_the_pod(server):
    out, _, code = tool(server, CENTOS, "ping -c 1 web-svc")
    assert code == 0 and out.startswith(
        "PING web-svc.default.svc.cluster.local (10.10.100.37) 56(84) bytes of data.\n64 bytes from ")


@pytest.mark.parametrize("image, version", [("busybox:1.36", "1.36.1"), ("busybox", "1.36.1"),
                                            ("busybox:1.35", "1.35.0")])
def test_busybox_usage_banner_carries_the_images_version(image, version):
    for applet in ("ping", "nslookup", "wget"):
        out, err, code = sh(applet, image=image)
        assert code == 1 and err.startswith(f"BusyBox v{version} multi-call binary.\n\nUsage: {applet} ")
