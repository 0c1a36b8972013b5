"""Many UDP datagrams per system call: Linux's recvmmsg(2) and sendmmsg(2), through ctypes.

Under load the DNS server's thread spent about as long in the kernel as in Python: a
recvfrom and a sendto per query, each converting the client's address between C and
Python. `UdpBatch.serve` takes every datagram waiting (up to SLOTS) in one recvmmsg,
answers each, and sends the replies in one sendmmsg, the client's address passed back
as the kernel wrote it. The bytes and ports the handler sees, and the replies, are the
same as with the recvfrom loop; only the number of system calls changes.

`available()` is False where the calls or ctypes are missing (not Linux, an odd C
library): the server keeps its recvfrom loop there. Memory: SLOTS buffers of 64 KiB,
as large as any datagram, so nothing is ever cut (recvfrom's buffer was 65535 too).
"""
from __future__ import annotations

import ctypes
import errno
import os
import socket
import struct
from typing import Callable

SLOTS = 32
SLOT_BYTES = 65536
_MSG_WAITFORONE = 0x10000       # linux/socket.h: block for the first datagram only


class _Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class _Msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.c_void_p), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class _Mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", _Msghdr), ("len", ctypes.c_uint)]


_ADDR = _Msghdr.name.offset
_LEN = _Mmsghdr.len.offset
_MSG = ctypes.sizeof(_Mmsghdr)
_IOV = ctypes.sizeof(_Iovec)
_NAME = 16                      # sizeof(struct sockaddr_in): the server listens on IPv4
_POINTER = struct.Struct("@P")
_IOVEC = struct.Struct("@PN")
_UINT = struct.Struct("@I")


def _calls():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        recv, send = libc.recvmmsg, libc.sendmmsg
    except (OSError, AttributeError):
        return None
    recv.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_void_p]
    send.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
    recv.restype = send.restype = ctypes.c_int
    return recv, send


_CALLS: tuple | None | bool = False     # False: not looked up yet


def available(sock: socket.socket) -> bool:
    """Whether `sock` (a bound UDP socket) can be served in batches here."""
    global _CALLS
    if _CALLS is False:
        _CALLS = _calls()
    return _CALLS is not None and sock.family == socket.AF_INET and sock.type == socket.SOCK_DGRAM


class UdpBatch:
    """Receive and send slots in C memory for one blocking UDP socket."""

    def __init__(self, sock: socket.socket, slots: int = SLOTS) -> None:
        self.sock, self.slots = sock, slots
        self._recv, self._send = _CALLS
        self._buffers = ctypes.create_string_buffer(slots * SLOT_BYTES)
        self._names = ctypes.create_string_buffer(slots * _NAME)
        self._in_iov = (_Iovec * slots)()
        self._in = (_Mmsghdr * slots)()
        self._out_iov = (_Iovec * slots)()
        self._out = (_Mmsghdr * slots)()
        self._base = ctypes.addressof(self._buffers)
        self._names_base = ctypes.addressof(self._names)
        for i in range(slots):
            self._in_iov[i].base, self._in_iov[i].len = self._base + i * SLOT_BYTES, SLOT_BYTES
            hdr = self._in[i].hdr
            hdr.name, hdr.namelen = self._names_base + i * _NAME, _NAME
            hdr.iov, hdr.iovlen = ctypes.addressof(self._in_iov[i]), 1
            out = self._out[i].hdr
            out.namelen, out.iov, out.iovlen = _NAME, ctypes.addressof(self._out_iov[i]), 1
        self._data = memoryview(self._buffers).cast("B")
        self._name_bytes = memoryview(self._names).cast("B")
        self._in_view = memoryview(self._in).cast("B")
        self._out_view = memoryview(self._out).cast("B")
        self._out_iov_view = memoryview(self._out_iov).cast("B")

    def serve(self, handle: Callable[[bytes, str, int], bytes | None],
              stopping: Callable[[], bool], failed: Callable[[Exception, bytes], None]) -> None:
        """Answer datagrams until `stopping()` is true after a wake-up: `handle(data, "udp",
        client port)` gives the reply (None: none), `failed` hears what `handle` raised."""
        fd, recv = self.sock.fileno(), self._recv
        in_addr, slots = ctypes.addressof(self._in), self.slots
        data_view, names, in_view = self._data, self._name_bytes, self._in_view
        out_view, iov_view = self._out_view, self._out_iov_view
        base, names_base = self._base, self._names_base
        read_len, pack_iov, pack_addr = _UINT.unpack_from, _IOVEC.pack_into, _POINTER.pack_into
        while True:
            count = recv(fd, in_addr, slots, _MSG_WAITFORONE, None)
            if stopping():
                return
            if count <= 0:
                code = ctypes.get_errno()
                if count < 0 and code not in (errno.EINTR, errno.EAGAIN):
                    failed(OSError(code, os.strerror(code)), b"")
                continue
            replies = 0
            for i in range(count):
                start = i * SLOT_BYTES
                data = bytes(data_view[start:start + read_len(in_view, i * _MSG + _LEN)[0]])
                name = i * _NAME
                try:
                    wire = handle(data, "udp", names[name + 2] << 8 | names[name + 3])
                except Exception as exc:    # handle answers SERVFAIL itself; last resort
                    failed(exc, data)
                    continue
                if wire is None:
                    continue
                size = len(wire)
                if size > SLOT_BYTES:       # no UDP reply is this large; never write past a slot
                    continue
                data_view[start:start + size] = wire     # the slot's query is copied out
                pack_iov(iov_view, replies * _IOV, base + start, size)
                pack_addr(out_view, replies * _MSG + _ADDR, names_base + name)
                replies += 1
            self._flush(fd, replies)

    def _flush(self, fd: int, replies: int) -> None:
        """Send the first `replies` out slots; one the kernel refuses is skipped, as the
        recvfrom loop passed over a failed sendto."""
        out = ctypes.addressof(self._out)
        done = 0
        while done < replies:
            sent = self._send(fd, out + done * _MSG, replies - done, 0)
            done += sent if sent > 0 else 1
