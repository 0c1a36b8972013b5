"""`pods/portforward`: the kubelet's port-forward, reached through the API server.

Three ways in, as a v1.37 cluster serves them:
- a WebSocket whose subprotocol is `SPDY/3.1+portforward.k8s.io`: kubectl 1.31+ (feature
  PortForwardWebsockets) tunnels its SPDY session in binary messages
  (client-go tools/portforward/tunneling_dialer.go; the API server's
  apiserver/pkg/util/proxy/streamtunnel.go unwraps it for the kubelet);
- a plain `Upgrade: SPDY/3.1` with `X-Stream-Protocol-Version: portforward.k8s.io`
  (kubectl before 1.31, or `KUBECTL_PORT_FORWARD_WEBSOCKETS=false`);
- a WebSocket with the channel protocol `v4.channel.k8s.io` (or its base64 twin, or
  none): the official Python client's `kubernetes.stream.portforward`.

SPDY (kubelet pkg/kubelet/cri/streaming/portforward/httpstream.go): the client opens an
`error` and a `data` stream per forwarded connection, both with `port` and `requestID`
headers; once both are there the kubelet dials the port inside the pod, copies bytes
both ways, writes a failure on the error stream, and closes both streams.
Channels (websocket.go): each port has a data channel 2i and an error channel 2i+1,
and each channel's first frame is the port in two little-endian bytes; the ports come
from the `ports` query parameter and are dialled at once.

What answers is the pod's simulated server (runtime._podservers); nothing here opens
a socket other than the client's own connection to the API server.
"""
from __future__ import annotations

import asyncio
import base64
import struct
import uuid

from aiohttp import WSMsgType, web

from ..apis import _errors, _naming
from ..runtime._podservers import PodConnection, PortRefused, open_port
from . import _spdy

TUNNEL_PROTOCOL = "SPDY/3.1+portforward.k8s.io"
PORTFORWARD_PROTOCOL = "portforward.k8s.io"
V4_BINARY, V4_BASE64 = "v4.channel.k8s.io", "v4.base64.channel.k8s.io"
_CHANNEL_MESSAGE = 4 * 1024 * 1024     # the Python client sends what one recv(1 MiB) read, base64 or not


# -- the pod side -----------------------------------------------------------------------
def forward_error(seed: int, pod: dict, port: int, refused: PortRefused) -> str:
    """The kubelet's words for a port nothing listens on: httpstream.go's wrapping of
    containerd's PortForward error (its pod is the sandbox id, its uid empty)."""
    sid = _naming.pod_sandbox_id(seed, pod["metadata"]["namespace"], pod["metadata"]["name"])
    netns = uuid.UUID(int=_naming.spread(seed, "netns", sid) << 64 | _naming.spread(seed, "netns-low", sid))
    return (f"error forwarding port {port} to pod {sid}, uid : failed to execute portforward in network "
            f'namespace "/var/run/netns/cni-{netns}": failed to connect to localhost:{port} inside '
            f'namespace "{sid}", {refused}')


class _Forwarder:
    """Dials ports inside one pod: a PodConnection, or the error text for the error stream."""

    def __init__(self, sandbox, pod: dict) -> None:
        self.sandbox, self.pod = sandbox, pod
        # The kubelet's side of each connection: an ephemeral port (ip_local_port_range
        # 32768-60999), seeded and then counting up.
        self._ephemeral = _naming.spread(sandbox.config.seed, "portforward", pod["metadata"]["uid"]) % 28232

    def dial(self, port: int) -> PodConnection | str:
        self._ephemeral = (self._ephemeral + 1) % 28232
        try:
            return open_port(self.sandbox.network, self.pod, port, self.sandbox.clock.now,
                             32768 + self._ephemeral)
        except PortRefused as refused:
            return forward_error(self.sandbox.config.seed, self.pod, port, refused)


# -- the entry point --------------------------------------------------------------------
async def handle_portforward(sandbox, request: web.Request, target) -> web.StreamResponse:
    if request.method not in ("GET", "POST"):
        raise _errors.ApiError(405, "MethodNotAllowed",
                               "the server does not allow this method on the requested resource")
    pod = sandbox.store.get_resource(target.resource, target.namespace, target.name)
    if pod is None:
        raise _errors.not_found(target.resource, target.name)
    if not pod["spec"].get("nodeName"):
        # pkg/registry/core/pod/strategy.go streamLocation
        raise _errors.bad_request(f"pod {target.name} does not have a host assigned")
    if not (pod.get("status") or {}).get("podIP"):
        # The kubelet finds no sandbox to forward into (kubelet.GetPortForward).
        return web.Response(status=500, text=f'pod not found ("{target.name}_{target.namespace}")')
    forwarder = _Forwarder(sandbox, pod)
    upgrade = request.headers.get("Upgrade", "").lower()
    if upgrade == "websocket":
        offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        if TUNNEL_PROTOCOL in offered:
            ws = web.WebSocketResponse(protocols=(TUNNEL_PROTOCOL,), autoping=True,
                                       max_msg_size=_spdy.MAX_LENGTH + 8)     # one SPDY frame at most
            await ws.prepare(request)
            await _serve_spdy(_WebSocketTunnel(ws), forwarder)
            await ws.close()
            return ws
        return await _serve_channels(request, offered, forwarder)
    if upgrade.startswith("spdy/3.1"):
        return await _serve_plain_spdy(request, forwarder)
    raise _errors.ApiError(400, "BadRequest", "Upgrade request required")


# -- transports for the SPDY session ----------------------------------------------------
class _WebSocketTunnel:
    """The SPDY bytes inside a WebSocket's binary messages (wsstream's TunnelingConnection)."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws

    async def recv(self) -> bytes | None:
        while True:
            msg = await self.ws.receive()
            if msg.type == WSMsgType.BINARY:
                return msg.data
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return None

    async def send(self, data: bytes) -> None:
        if data and not self.ws.closed:
            await self.ws.send_bytes(data)


class _RawTunnel:
    """The connection itself after `101 Switching Protocols` to SPDY/3.1."""

    def __init__(self, request: web.Request) -> None:
        self.transport = request.transport
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    # What aiohttp's protocol calls once the parser is ours (as its WebSocketReader is).
    def feed_data(self, data: bytes):
        self.queue.put_nowait(bytes(data))
        return False, b""

    def feed_eof(self) -> None:
        self.queue.put_nowait(None)

    def set_exception(self, exc, cause=None) -> None:
        self.queue.put_nowait(None)

    async def recv(self) -> bytes | None:
        return await self.queue.get()

    async def send(self, data: bytes) -> None:
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


async def _serve_plain_spdy(request: web.Request, forwarder: _Forwarder) -> web.StreamResponse:
    """httpstream.Handshake then spdy's upgrader: 101, and the connection is SPDY."""
    offered = [p.strip() for v in request.headers.getall("X-Stream-Protocol-Version", []) for p in v.split(",")]
    if offered and PORTFORWARD_PROTOCOL not in offered:
        return web.Response(status=403, text=(
            f"unable to upgrade: unable to negotiate protocol: client supports {offered}, "
            f"server accepts [{PORTFORWARD_PROTOCOL}]"))
    protocol = request.protocol
    if "upgrade" not in request.headers.get("Connection", "").lower() or protocol is None \
            or not hasattr(protocol, "set_parser") or not hasattr(protocol, "_upgraded"):
        return web.Response(status=400, text="unable to upgrade: missing upgrade headers in request: "
                                             f"{dict(request.headers)!r}")
    response = web.StreamResponse(status=101, reason="Switching Protocols",
                                  headers={"Connection": "Upgrade", "Upgrade": "SPDY/3.1",
                                           "X-Stream-Protocol-Version": PORTFORWARD_PROTOCOL})
    response.force_close()
    await response.prepare(request)
    tunnel = _RawTunnel(request)
    # aiohttp takes only WebSocket and "tcp" upgrades over itself; the rest of this
    # connection is SPDY, so its bytes go to the tunnel rather than the HTTP parser.
    protocol._upgraded = True
    protocol.set_parser(tunnel)
    await _serve_spdy(tunnel, forwarder)
    return response


# -- the SPDY session -------------------------------------------------------------------
class _Pair:
    def __init__(self) -> None:
        self.error: int | None = None
        self.data: int | None = None
        self.port = 0
        self.conn: PodConnection | None = None
        self.done = False


async def _serve_spdy(tunnel, forwarder: _Forwarder) -> None:
    session = _spdy.Session()
    pairs: dict[str, _Pair] = {}
    by_stream: dict[int, _Pair] = {}
    while True:
        data = await tunnel.recv()
        if data is None:
            break
        try:
            events, out = session.receive(data)
        except _spdy.ProtocolError:
            await tunnel.send(session.goaway(_spdy.GOAWAY_PROTOCOL_ERROR))
            break
        frames = [out]
        for event in events:
            if isinstance(event, _spdy.StreamOpened):
                frames.append(_open_stream(session, event, pairs, by_stream, forwarder))
            elif isinstance(event, _spdy.StreamData):
                pair = by_stream.get(event.stream_id)
                if pair is not None and event.stream_id == pair.data and pair.conn is not None and not pair.done:
                    reply = pair.conn.feed(event.data) if event.data else b""
                    if event.fin:
                        pair.conn.feed_eof()
                    if reply:
                        frames.append(_spdy.data_frame(pair.data, reply))
                    if pair.conn.closed:
                        frames.append(_finish(pair))
            elif isinstance(event, _spdy.StreamReset):
                pair = by_stream.pop(event.stream_id, None)
                if pair is not None:
                    pair.done = True
            elif isinstance(event, _spdy.GoAway):
                await tunnel.send(b"".join(frames))
                return
        await tunnel.send(b"".join(frames))


def _open_stream(session: _spdy.Session, event: _spdy.StreamOpened, pairs: dict, by_stream: dict,
                 forwarder: _Forwarder) -> bytes:
    headers = {k: v[0] for k, v in event.headers.items()}
    port_text, kind = headers.get("port", ""), headers.get("streamtype", "")
    # httpStreamReceived: a stream without a usable port or type is refused (reset).
    if not port_text or not port_text.isdigit() or not 0 < int(port_text) < 65536 \
            or kind not in ("error", "data"):
        return _spdy.rst_stream(event.stream_id, _spdy.CANCEL)
    request_id = headers.get("requestid")
    if request_id is None:
        # Clients older than the header: the pair's ids are consecutive odd numbers.
        request_id = str(event.stream_id if kind == "error" else event.stream_id - 2)
    pair = pairs.setdefault(request_id, _Pair())
    setattr(pair, kind, event.stream_id)
    by_stream[event.stream_id] = pair
    out = [session.syn_reply(event.stream_id)]
    if pair.error is not None and pair.data is not None and pair.conn is None and not pair.done:
        pair.port = int(port_text)
        dialled = forwarder.dial(pair.port)
        if isinstance(dialled, str):
            out.append(_spdy.data_frame(pair.error, dialled.encode()))
            out.append(_finish(pair))
        else:
            pair.conn = dialled
        del pairs[request_id]
    return b"".join(out)


def _finish(pair: _Pair) -> bytes:
    """The forward is over: close the error stream, then the data stream (the kubelet's defers)."""
    pair.done = True
    return _spdy.data_frame(pair.error, b"", fin=True) + _spdy.data_frame(pair.data, b"", fin=True)


# -- the channel protocol ---------------------------------------------------------------
def _ports(request: web.Request) -> list[int]:
    """portforward.NewV4Options: the ports of a WebSocket request."""
    values = request.query.getall("ports", [])
    if not values:
        raise _BadPorts('query parameter "ports" is required')
    ports = []
    for value in values:
        for text in value.split(","):
            if not text.isdigit() or int(text) > 65535:
                raise _BadPorts(f'unable to parse "{text}" as a port: strconv.ParseUint: parsing "{text}": '
                                + ("value out of range" if text.isdigit() else "invalid syntax"))
            if int(text) < 1:
                raise _BadPorts(f'port "{text}" must be > 0')
            ports.append(int(text))
    return ports


class _BadPorts(Exception):
    pass


async def _serve_channels(request: web.Request, offered: list[str], forwarder: _Forwarder) -> web.StreamResponse:
    try:
        ports = _ports(request)
    except _BadPorts as e:
        return web.Response(status=400, text=str(e))     # the kubelet's go-restful WriteError
    known = [p for p in offered if p in (V4_BINARY, V4_BASE64)]
    if offered and not known:
        return web.Response(status=400, text=f"websocket server does not support any of {offered}")
    ws = web.WebSocketResponse(protocols=(V4_BINARY, V4_BASE64), autoping=True, max_msg_size=_CHANNEL_MESSAGE)
    await ws.prepare(request)
    binary = ws.ws_protocol != V4_BASE64

    async def send(channel: int, data: bytes) -> None:
        if ws.closed:
            return
        if binary:
            await ws.send_bytes(bytes([channel]) + data)
        else:
            await ws.send_str(chr(ord("0") + channel) + base64.b64encode(data).decode())

    conns: dict[int, PodConnection] = {}
    for i, port in enumerate(ports):
        await send(2 * i, struct.pack("<H", port))
        await send(2 * i + 1, struct.pack("<H", port))
    for i, port in enumerate(ports):
        dialled = forwarder.dial(port)
        if isinstance(dialled, str):
            await send(2 * i + 1, dialled.encode())
        else:
            conns[i] = dialled
    while conns and not ws.closed:
        msg = await ws.receive()
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            break
        if msg.type == WSMsgType.BINARY:
            channel, data = (msg.data[0], msg.data[1:]) if msg.data else (None, b"")
        elif msg.type == WSMsgType.TEXT and msg.data:
            channel, data = ord(msg.data[0]) - ord("0"), base64.b64decode(msg.data[1:] or "")
        else:
            continue
        conn = conns.get(channel // 2) if channel is not None and channel % 2 == 0 else None
        if conn is None:
            continue
        reply = conn.feed(bytes(data))
        if reply:
            await send(channel, reply)
        if conn.closed:
            del conns[channel // 2]
    await ws.close()
    return ws

