"""SPDY/3.1 framing, the server's side of a session: what `kubectl port-forward` speaks.

kubectl runs its port-forward streams over SPDY (k8s.io/apimachinery/pkg/util/httpstream/spdy
on moby/spdystream), either after a plain `Upgrade: SPDY/3.1` or inside a WebSocket
tunnel (`SPDY/3.1+portforward.k8s.io`, whose binary messages carry the same bytes). The
frames (draft-mbelshe-httpbis-spdy-00, "SPDY Protocol - Draft 3.1"):

    control: |1| version (15) | type (16) | flags (8) | length (24) | payload
    data:    |0| stream-id (31)           | flags (8) | length (24) | payload

SYN_STREAM, SYN_REPLY and HEADERS carry a name/value header block (32-bit counts and
lengths, lowercase names, several values joined by NUL) compressed with zlib primed with
the spec's dictionary, one compression context per direction for the whole session
(each block ends with a sync flush). Sans-IO: `Session.receive` takes bytes and returns
events; the encoders return the bytes to send.

Flow control: spdystream neither sends WINDOW_UPDATE nor honours windows, and kubectl's
streams never fill one, so received WINDOW_UPDATE and SETTINGS frames are read and kept
but nothing is throttled by them.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02
# RST_STREAM status codes
PROTOCOL_ERROR, INVALID_STREAM, REFUSED_STREAM, CANCEL = 1, 2, 3, 5
GOAWAY_OK, GOAWAY_PROTOCOL_ERROR = 0, 1
MAX_LENGTH = (1 << 24) - 1
_MAX_HEADER_BLOCK = 1 << 20      # decompressed; a guard against a zlib bomb


def _dictionary() -> bytes:
    """The SPDY/3 header compression dictionary (the draft's section 2.6.10.1): common
    header names and values, each with a 32-bit length, then a run of status codes,
    reason phrases, dates and media types without lengths."""
    listed = ("options head post put delete trace accept accept-charset accept-encoding "
              "accept-language accept-ranges age allow authorization cache-control connection "
              "content-base content-encoding content-language content-length content-location "
              "content-md5 content-range content-type date etag expect expires from host if-match "
              "if-modified-since if-none-match if-range if-unmodified-since last-modified location "
              "max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after "
              "server te trailer transfer-encoding upgrade user-agent vary via warning "
              "www-authenticate method get status").split() + ["200 OK"] + \
        "version HTTP/1.1 url public set-cookie keep-alive origin".split()
    head = b"".join(struct.pack(">I", len(w)) + w.encode() for w in listed)
    tail = ("100101201202205206300302303304305306307402405406407408409410411412413414415416417"
            "502504505203 Non-Authoritative Information204 No Content301 Moved Permanently"
            "400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error"
            "501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct "
            "Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,"
            "image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,"
            "publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")
    return head + tail.encode()


DICTIONARY = _dictionary()


class ProtocolError(Exception):
    """The peer broke the framing: the session ends with GOAWAY(PROTOCOL_ERROR)."""


# -- events -----------------------------------------------------------------------------
@dataclass
class StreamOpened:
    stream_id: int
    headers: dict[str, list[str]]
    fin: bool                      # the peer will send nothing on it


@dataclass
class StreamData:
    stream_id: int
    data: bytes
    fin: bool


@dataclass
class StreamReset:
    stream_id: int
    status: int


@dataclass
class GoAway:
    last_good_stream_id: int
    status: int


@dataclass
class Control:
    """A control frame the server only notes (SETTINGS, WINDOW_UPDATE, SYN_REPLY, HEADERS)."""
    type: int
    flags: int
    payload: bytes


# -- header blocks ----------------------------------------------------------------------
def encode_header_block(headers: dict[str, list[str]]) -> bytes:
    out = [struct.pack(">I", len(headers))]
    for name, values in headers.items():
        value = "\x00".join(values).encode()
        out += [struct.pack(">I", len(name)), name.lower().encode(), struct.pack(">I", len(value)), value]
    return b"".join(out)


def decode_header_block(raw: bytes) -> dict[str, list[str]]:
    try:
        (count,), at = struct.unpack_from(">I", raw), 4
        headers: dict[str, list[str]] = {}
        for _ in range(count):
            (n,) = struct.unpack_from(">I", raw, at)
            name = raw[at + 4:at + 4 + n]
            at += 4 + n
            (n,) = struct.unpack_from(">I", raw, at)
            value = raw[at + 4:at + 4 + n]
            at += 4 + n
            if at > len(raw) or not name or name != name.lower():
                raise ProtocolError("header was not lowercased" if name else "invalid header block")
            key = name.decode("latin-1")
            if key in headers:
                raise ProtocolError("multiple headers with same name")
            headers[key] = value.decode("latin-1").split("\x00")
        return headers
    except struct.error:
        raise ProtocolError("invalid header block") from None


# -- encoders ---------------------------------------------------------------------------
def control_frame(frame_type: int, flags: int, payload: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | VERSION, frame_type, (flags << 24) | len(payload)) + payload


def data_frame(stream_id: int, data: bytes, fin: bool = False) -> bytes:
    return struct.pack(">II", stream_id & 0x7FFFFFFF, ((FLAG_FIN if fin else 0) << 24) | len(data)) + data


def rst_stream(stream_id: int, status: int) -> bytes:
    return control_frame(RST_STREAM, 0, struct.pack(">II", stream_id & 0x7FFFFFFF, status))


def ping(ping_id: int) -> bytes:
    return control_frame(PING, 0, struct.pack(">I", ping_id))


def goaway(last_good_stream_id: int, status: int = GOAWAY_OK) -> bytes:
    return control_frame(GOAWAY, 0, struct.pack(">II", last_good_stream_id & 0x7FFFFFFF, status))


def window_update(stream_id: int, delta: int) -> bytes:
    return control_frame(WINDOW_UPDATE, 0, struct.pack(">II", stream_id & 0x7FFFFFFF, delta & 0x7FFFFFFF))


@dataclass
class Session:
    """One SPDY session, server side: reads the client's frames, writes the server's."""
    _inbox: bytes = b""
    _inflate: object = field(default_factory=lambda: zlib.decompressobj(zdict=DICTIONARY))
    _deflate: object = field(default_factory=lambda: zlib.compressobj(zlib.Z_BEST_COMPRESSION,
                                                                      zdict=DICTIONARY))
    last_stream_id: int = 0        # the highest stream the client opened
    settings: dict[int, int] = field(default_factory=dict)

    def receive(self, data: bytes) -> tuple[list, bytes]:
        """The events in `data` (with what came before it), and the bytes to answer at once
        (PING echoes). Raises ProtocolError on a malformed frame."""
        self._inbox += data
        events, replies = [], []
        while len(self._inbox) >= 8:
            first, second = struct.unpack_from(">II", self._inbox)
            length = second & 0xFFFFFF
            if len(self._inbox) < 8 + length:
                break
            payload, flags = self._inbox[8:8 + length], second >> 24
            self._inbox = self._inbox[8 + length:]
            if not first & 0x80000000:
                stream_id = first & 0x7FFFFFFF
                if stream_id == 0:
                    raise ProtocolError("stream id zero is disallowed")
                events.append(StreamData(stream_id, payload, bool(flags & FLAG_FIN)))
                continue
            version, frame_type = (first >> 16) & 0x7FFF, first & 0xFFFF
            if version != VERSION:
                raise ProtocolError(f"unsupported SPDY version {version}")
            event, reply = self._control(frame_type, flags, payload)
            if event is not None:
                events.append(event)
            if reply:
                replies.append(reply)
        return events, b"".join(replies)

    def _control(self, frame_type: int, flags: int, payload: bytes):
        try:
            if frame_type == SYN_STREAM:
                stream_id, _associated = struct.unpack_from(">II", payload)
                stream_id &= 0x7FFFFFFF
                if stream_id == 0 or stream_id % 2 == 0 or stream_id <= self.last_stream_id:
                    # A client's streams are odd and rising (spdystream validateStreamId).
                    return None, rst_stream(stream_id, PROTOCOL_ERROR)
                self.last_stream_id = stream_id
                headers = self._headers(payload[10:])
                return StreamOpened(stream_id, headers, bool(flags & FLAG_FIN)), b""
            if frame_type == RST_STREAM:
                stream_id, status = struct.unpack_from(">II", payload)
                return StreamReset(stream_id & 0x7FFFFFFF, status), b""
            if frame_type == PING:
                (ping_id,) = struct.unpack_from(">I", payload)
                # Odd ids are the client's: echo them (a server's own pings are even).
                return None, ping(ping_id) if ping_id % 2 else b""
            if frame_type == GOAWAY:
                last, status = struct.unpack_from(">II", payload)
                return GoAway(last & 0x7FFFFFFF, status), b""
            if frame_type == SETTINGS:
                (count,) = struct.unpack_from(">I", payload)
                for i in range(count):
                    flag_id, value = struct.unpack_from(">II", payload, 4 + 8 * i)
                    self.settings[flag_id & 0xFFFFFF] = value
                return Control(frame_type, flags, payload), b""
            if frame_type in (HEADERS, SYN_REPLY):
                self._headers(payload[4:])     # keeps the decompression context in step
            return Control(frame_type, flags, payload), b""
        except struct.error:
            raise ProtocolError("invalid control frame") from None

    def _headers(self, compressed: bytes) -> dict[str, list[str]]:
        try:
            raw = self._inflate.decompress(compressed, _MAX_HEADER_BLOCK)
        except zlib.error as e:
            raise ProtocolError(f"header block: {e}") from None
        if self._inflate.unconsumed_tail:
            raise ProtocolError("header block too large")
        return decode_header_block(raw)

    def compress(self, headers: dict[str, list[str]]) -> bytes:
        block = encode_header_block(headers)
        return self._deflate.compress(block) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def syn_reply(self, stream_id: int, headers: dict[str, list[str]] | None = None, fin: bool = False) -> bytes:
        return control_frame(SYN_REPLY, FLAG_FIN if fin else 0,
                             struct.pack(">I", stream_id & 0x7FFFFFFF) + self.compress(headers or {}))

    def syn_stream(self, stream_id: int, headers: dict[str, list[str]], fin: bool = False,
                   priority: int = 0) -> bytes:
        """A SYN_STREAM (what a client sends; the tests play the client with it)."""
        body = struct.pack(">IIBB", stream_id & 0x7FFFFFFF, 0, (priority & 7) << 5, 0)
        return control_frame(SYN_STREAM, FLAG_FIN if fin else 0, body + self.compress(headers))

    def goaway(self, status: int = GOAWAY_OK) -> bytes:
        return goaway(self.last_stream_id, status)
