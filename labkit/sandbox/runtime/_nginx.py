"""What the official nginx image serves: /usr/share/nginx/html under its default.conf
(`location / { root /usr/share/nginx/html; index index.html index.htm; }`,
`error_page 500 502 503 504 /50x.html`), and nginx's own error pages.

A static file answers with its length, Last-Modified, an ETag of the file's mtime and size
in hex (ngx_http_set_etag) and `Accept-Ranges: bytes`; a missing one gets the 404 page;
a POST (or another method) on a static file is 405 (ngx_http_static_module). The pages
are those of nginx 1.27.4's release tarball, whose files are dated 2025-02-05 11:06:32 UTC.
"""
from __future__ import annotations

import time

NGINX_VERSION = "1.27.4"
FILES_MTIME = 0x67A34638          # 2025-02-05 11:06:32 UTC: when the release's html files were made

_STYLE = """<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
"""

FILES = {
    "/index.html": f"""<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
{_STYLE}</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
""".encode(),
    "/50x.html": f"""<!DOCTYPE html>
<html>
<head>
<title>Error</title>
{_STYLE}</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
<p>If you are the system administrator of this resource then you should check
the error log for details.</p>
<p><em>Faithfully yours, nginx.</em></p>
</body>
</html>
""".encode(),
}

REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Not Allowed", 413: "Request Entity Too Large"}


def error_page(status: int) -> bytes:
    """nginx's built-in page for an error status (ngx_http_special_response.c): CRLF lines,
    and a tail naming the server's version."""
    title = f"{status} {REASONS[status]}"
    return (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n"
            f"<hr><center>nginx/{NGINX_VERSION}</center>\r\n</body>\r\n</html>\r\n").encode()


def static(method: str, target: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers after Server and Date, body) for one request to the default site,
    the headers in nginx's order."""
    path = target.split("?", 1)[0] or "/"
    if path.endswith("/"):
        path += "index.html"
    body = FILES.get(path)
    # ngx_http_static_handler: methods other than GET, HEAD and POST are refused outright;
    # a POST finds the file first (404 when missing), then is refused.
    status = 405 if method not in ("GET", "HEAD", "POST") else 404 if body is None else \
        405 if method == "POST" else 200
    if status != 200:
        page = error_page(status)
        return status, [("Content-Type", "text/html"), ("Content-Length", str(len(page))),
                        ("Connection", "keep-alive")], page
    modified = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(FILES_MTIME))
    return 200, [("Content-Type", "text/html"), ("Content-Length", str(len(body))), ("Last-Modified", modified),
                 ("Connection", "keep-alive"), ("ETag", f'"{FILES_MTIME:x}-{len(body):x}"'),
                 ("Accept-Ranges", "bytes")], body
