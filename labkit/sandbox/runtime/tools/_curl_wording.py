"""What curl prints, by version: the error lines, the verbose trace, `--version`, and the
URL globbing of curl 7.29 that takes `[::1]` for a range.

Two generations: curl 7.29.0 (CentOS 7's, whose text comes from its source since no 7.29
can be installed here) and curl 7.50+ (7.88.1 recorded on Debian 12; 8.x as Alpine ships it,
same wording for what the course does).
"""
from __future__ import annotations

from dataclasses import dataclass

# `curl --version` of each build the images carry.
_VERSION_TEXT = {
    # CentOS 7.9.2009: curl-7.29.0-59.el7_9 against NSS; 7.29 prints no Release-Date line and
    # ends its lists with a space (src/tool_help.c tool_version_info: printf("%s ", ...)).
    "7.29.0": ("curl 7.29.0 (x86_64-redhat-linux-gnu) libcurl/7.29.0 NSS/3.53.1 zlib/1.2.7 "
               "libidn/1.28 libssh2/1.8.0\n"
               "Protocols: dict file ftp ftps gopher http https imap imaps ldap ldaps pop3 pop3s "
               "rtsp scp sftp smtp smtps telnet tftp \n"
               "Features: AsynchDNS GSS-Negotiate IDN IPv6 Largefile NTLM NTLM_WB SSL libz "
               "unix-sockets \n"),
    # Debian 12's, as `curl --version` prints it where the tool outputs were recorded.
    "7.88.1": ("curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 OpenSSL/3.0.19 zlib/1.2.13 "
               "brotli/1.0.9 zstd/1.5.4 libidn2/2.3.3 libpsl/0.21.2 (+libidn2/2.3.3) "
               "libssh2/1.10.0 nghttp2/1.52.0 librtmp/2.3 OpenLDAP/2.5.13\n"
               "Release-Date: 2023-02-20, security patched: 7.88.1-10+deb12u14\n"
               "Protocols: dict file ftp ftps gopher gophers http https imap imaps ldap ldaps "
               "mqtt pop3 pop3s rtmp rtsp scp sftp smb smbs smtp smtps telnet tftp\n"
               "Features: alt-svc AsynchDNS brotli GSS-API HSTS HTTP2 HTTPS-proxy IDN IPv6 "
               "Kerberos Largefile libz NTLM NTLM_WB PSL SPNEGO SSL threadsafe TLS-SRP "
               "UnixSockets zstd\n"),
}
# Alpine's builds (musl, OpenSSL 3, c-ares off, the threaded resolver on).
_ALPINE = ("curl {v} (x86_64-alpine-linux-musl) libcurl/{v} OpenSSL/3.3.0 zlib/1.3.1 "
           "brotli/1.1.0 zstd/1.5.6 libidn2/2.3.7 libpsl/0.21.5 nghttp2/1.61.0\n"
           "Release-Date: {date}\n"
           "Protocols: dict file ftp ftps gopher gophers http https imap imaps ipfs ipns mqtt "
           "pop3 pop3s rtsp smb smbs smtp smtps telnet tftp ws wss\n"
           "Features: alt-svc AsynchDNS brotli HSTS HTTP2 HTTPS-proxy IDN IPv6 Largefile libz "
           "NTLM PSL SSL threadsafe TLS-SRP UnixSockets zstd\n")
_RELEASE_DATES = {"8.7.1": "2024-03-27", "8.12.1": "2025-02-13"}


@dataclass(frozen=True)
class Wording:
    version: str

    @property
    def old(self) -> bool:
        """curl 7.29: the wording of CentOS 7's curl."""
        return self.version.startswith("7.29")

    def version_text(self) -> str:
        if self.version in _VERSION_TEXT:
            return _VERSION_TEXT[self.version]
        return _ALPINE.format(v=self.version, date=_RELEASE_DATES.get(self.version, "2024-03-27"))

    # -- errors -----------------------------------------------------------------------

    def unsupported(self, scheme: str) -> str:
        # 7.29 lib/url.c findprotocol(): the scheme unquoted; quoted since 7.5x.
        if self.old:
            return f"Protocol {scheme} not supported or disabled in libcurl"
        return f'Protocol "{scheme}" not supported or disabled in libcurl'

    def unresolved(self, host: str) -> str:
        # 7.29 lib/asyn-thread.c Curl_resolver_is_resolved(): "Could not resolve host: %s; %s"
        # with Curl_strerror() (lib/strerror.c) of the resolver thread's status, which on
        # CentOS 7 reads "Unknown error".
        if self.old:
            return f"Could not resolve host: {host}; Unknown error"
        return f"Could not resolve host: {host}"

    def connect_failed(self, host: str, port: int, spent_ms: int, kind: str) -> str:
        # 7.29 lib/connect.c Curl_is_connected(): failf(data, "Failed connect to %s:%ld; %s",
        # conn->host.name, conn->port, Curl_strerror(conn, error)); 7.50+ name the port and
        # the time, with curl_easy_strerror(CURLE_COULDNT_CONNECT).
        if self.old:
            reason = "Connection refused" if kind == "refused" else "Network is unreachable"
            return f"Failed connect to {host}:{port}; {reason}"
        return f"Failed to connect to {host} port {port} after {spent_ms} ms: Couldn't connect to server"

    def connect_timeout(self, host: str, port: int, spent_ms: int) -> str:
        # 7.29 lib/multi.c multi_runsingle(), in CURLM_STATE_WAITCONNECT:
        # "Connection timed out after %ld milliseconds".
        if self.old:
            return f"Connection timed out after {spent_ms} milliseconds"
        return f"Failed to connect to {host} port {port} after {spent_ms} ms: Timeout was reached"

    # -- the verbose trace --------------------------------------------------------------

    def trying(self, host: str, ip: str, port: int) -> str:
        if self.old:      # 7.29 lib/url.c ConnectPlease() and lib/connect.c singleipconnect()
            return f"* About to connect() to {host} port {port} (#0)\n*   Trying {ip}...\n"
        shown = f"[{ip}]" if ":" in ip else ip
        return f"*   Trying {shown}:{port}...\n"

    def refused_trace(self, message: str, kind: str) -> str:
        if self.old:
            reason = "Connection refused" if kind == "refused" else "Network is unreachable"
            return f"* {reason}\n* {message}\n"
        return ""

    def closing(self) -> str:
        return "* Closing connection 0\n"

    def cert_name_mismatch(self, host: str) -> tuple[int, str]:
        """(exit code, message) when the server's certificate does not name `host`: 7.29
        on CentOS 7 is built with NSS (lib/vtls/nss.c, SSL_ERROR_BAD_CERT_DOMAIN, code 51);
        later builds with OpenSSL (lib/vtls/openssl.c verifyhost, code 60)."""
        if self.old:
            return 51, ("Unable to communicate securely with peer: requested domain name does not "
                        "match the server's certificate.")
        return 60, f"SSL: no alternative certificate subject name matches target host name '{host}'"

    def cert_help(self) -> str:
        """What curl adds after a certificate error line (src/tool_operate.c CURL_CA_CERT_ERRORMSG,
        for code 60 only: 7.29's NSS mismatch is 51 and gets none). "web page" became "webpage"
        in the 8.x series."""
        if self.old:
            return ""
        page = "web page" if self.version.startswith("7.") else "webpage"
        return ("More details here: https://curl.se/docs/sslcerts.html\n\n"
                "curl failed to verify the legitimacy of the server and therefore could not\n"
                "establish a secure connection to it. To learn more about this situation and\n"
                f"how to fix it, please visit the {page} mentioned above.\n")

    def request_headers(self, method: str, path: str, host: str, agent: str) -> list[str]:
        # 7.29 lib/http.c Curl_http() writes User-Agent before Host; later versions Host first.
        if self.old:
            return [f"{method} {path} HTTP/1.1", f"User-Agent: {agent}", f"Host: {host}",
                    "Accept: */*"]
        return [f"{method} {path} HTTP/1.1", f"Host: {host}", f"User-Agent: {agent}",
                "Accept: */*"]

    def data_in(self, size: int) -> str:
        # src/tool_cb_dbg.c: 7.29 hides the data of a non-terminal stream as
        # "[data not shown]"; later versions count it.
        return "{ [data not shown]\n" if self.old else f"{{ [{size} bytes data]\n"

    # -- URL globbing ------------------------------------------------------------------

    def glob_error(self, url: str) -> str | None:
        """curl 7.29's glob parser (src/tool_urlglob.c glob_word/glob_range) reads the first
        `[` as a range such as [1-9] or [a-z]; an IPv6 literal is none (-g turns globbing
        off). Since 7.34 peek_ipv6() lets a literal through. The message, or None."""
        if not self.old:
            return None
        at = url.find("[")
        if at < 0:
            return None
        pos = at + 2                     # glob_word counts from 1; glob_range gets ++pos
        inner = url[at + 1:]
        first = inner[:1]
        if first.isalpha():
            # sscanf("%c-%c%c"): a letter, a dash, a letter, then ']' or ':'.
            if len(inner) < 4 or inner[1] != "-" or not inner[0] < inner[2] or \
                    ord(inner[2]) - ord(inner[0]) > 25:
                return f"error: bad range specification after pos {pos}\n"
            if inner[3] not in "]:":
                return f"error: unsupported character ({inner[3]}) after range at pos {pos}\n"
            return None
        if first.isdigit():
            head, dash, rest = inner.partition("-")
            lo = "".join(ch for ch in head if ch.isdigit())
            hi = ""
            for ch in rest:
                if not ch.isdigit():
                    break
                hi += ch
            if not dash or not head.isdigit() or not hi or int(lo) > int(hi):
                return f"error: bad range specification after pos {pos}\n"
            return None
        return f"illegal character in range specification at pos {pos}\n"
